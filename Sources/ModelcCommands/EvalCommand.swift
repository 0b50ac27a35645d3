// `eval`: accuracy, loss, per-class precision/recall/F1/ROC-AUC, macro averages and the
// confusion matrix of a trained model on the test, train or validation images.

import Foundation
import ModelcData
import ModelcRuntime

enum EvalCommand<M: CompiledModel> {
    static func run(_ args: [String], console: Console) throws {
        let f = try CommandLineFlags(args, command: "eval",
                                     valueFlags: ["checkpoint", "weights", "split", "data", "dataset", "limit", "batch", "threads", "loss", "val-split",
                                                  "split-seed", "resplit", "report", "target-columns"] + CommandSupport.imageFolderValueFlags,
                                     switchFlags: ["json"] + CommandSupport.imageFolderSwitches)
        let info = M.info
        try f.applyThreads()
        let splitName = f.string("split") ?? "test"
        guard ["test", "train", "val"].contains(splitName) else {
            throw UsageError("eval: --split expects test, train or val, found '\(splitName)'")
        }
        let batch = try f.int("batch", min: 1, max: 1 << 16) ?? 256
        try CompiledModelBase.checkMemory(M.self, maxBatch: batch, what: "eval: batch \(batch)\(f.has("batch") ? " (--batch)" : "")")
        let model = M(maxBatch: batch)
        let (source, training) = try CommandSupport.loadWeights(model, flags: f)
        var config = try TrainingConfig(defaults: info.defaults, dataset: info.dataset ?? "")
        config.head = M.head
        config.heads = M.heads
        if let s = training?.config { try config.apply(pairs: s, file: source) }
        if let v = try f.int("target-columns", min: 1, max: 1 << 20) { config.targetColumns = v }
        if let v = try f.float("val-split", min: 0, max: 1, openMax: true) { config.validationSplit = v }
        if let v = try f.int("limit", min: 0) { config.limit = v }
        if let v = try f.seed("split-seed") { config.splitSeed = v }
        if let v = f.string("resplit") { config.resplit = try Resplit(parsing: v) }
        try M.checkNoRunLoss(f)
        if let v = f.string("loss") {
            guard let k = LossKind(name: v) else { throw UsageError("eval: --loss expects one of \(LossKind.namesList), found '\(v)'") }
            config.loss = k
        }
        let dataset = try CommandSupport.datasetName(f, info: info, stored: config.dataset)
        let reportDirectory = f.string("report")
        if let dir = reportDirectory { try RunReport.prepare(dir) }
        config.dataset = dataset
        try CommandSupport.applyImageFolderFlags(f, to: &config)
        try CommandSupport.checkArrayRun(config, report: reportDirectory)
        var images: LabeledImages
        if splitName == "test" {
            images = try CommandSupport.testImages(config, limit: try f.int("limit", min: 0) ?? 0, flags: f, info: info, console: console)
        } else {
            let (t, v) = try CommandSupport.trainingImages(config, flags: f, info: info, console: console)
            if splitName == "val" {
                guard let v = v else { throw UsageError("eval: --split val needs a validation split above 0 (--val-split)") }
                images = v
            } else {
                images = t
            }
        }
        let loss = try ArrayData.runLoss(config, oneHotTargets: images.targets != nil && images.targetWidth > 1)
        images = try images.forLoss(loss, info: info)
        let title = "\(info.name) on \(dataset) \(splitName) (\(images.count) \(dataset == ArrayData.datasetName ? "examples" : "images"), weights \(source))"
        if loss.heads != nil {
            let r = HeadEvaluation.run(model, images: images, loss: loss, batch: batch)
            try model.checkInput("eval")
            console.out(f.has("json") ? HeadEvaluation.json(r, loss: loss, extra: checkpointFields(training))
                                        : HeadEvaluation.text(r, loss: loss, title: title))
            return
        }
        let t = Evaluator.evaluateTask(model, images: images, loss: loss, batch: batch)
        try model.checkInput("eval")
        let names = t.task == .binary ? ["0", "1"] : info.displayClassNames(dataset: dataset, imageClasses: config.imageClasses)
        if let dir = reportDirectory {   // a classifier's, or an autoencoder's (checkArrayRun refuses the others)
            let history = RunReport.history(training?.progress.history ?? [], config: config, stepsPerEpoch: nil)
            let written = try RunReport.write(to: dir, model: model, config: config, history: history, splits: [(splitName, images)],
                                              samplesFrom: splitName, info: [("weights", source)], names: names, batch: batch)
            console.err("report: \(written.count) files in \(dir) (open \(ReportWriter.join(dir, "report.html")))")
        }
        guard let m = t.classification else {
            // multi-label and regression: the task's metrics
            console.out(f.has("json") ? JSON.object(t.jsonFields + checkpointFields(training)) : "\(title)\n\(t.task.rawValue): \(t.line)")
            return
        }
        if f.has("json") {
            console.out(jsonReport(m, task: t.task, extra: checkpointFields(training)))
        } else {
            console.out(textReport(m, names: names, title: title + (t.task == .binary ? "\nbinary classifier: class 1 when p > 0.5" : "")))
        }
    }

    /// `eval --json`'s "checkpoint" field, when the weights come from a checkpoint with training
    /// state: the epochs done, the best validation epoch and accuracy so far (0 and null without
    /// validation), and the training settings stored with it.
    static func checkpointFields(_ training: TrainingSnapshot?) -> [(String, String)] {
        guard let t = training else { return [] }
        let p = t.progress
        return [("checkpoint", JSON.object([
            ("epochs_done", "\(p.epochsDone)"), ("best_epoch", "\(p.bestEpoch)"), ("best_val_accuracy", JSON.number(p.bestValAccuracy)),
            ("config", JSON.object(t.config.map { ($0.0, JSON.string($0.1)) })),
        ]))]
    }

    static func jsonReport(_ m: ClassificationMetrics, task: TaskMetrics.Task = .multiclass, extra: [(String, String)] = []) -> String {
        let perClass = (0..<m.classes).map { c in
            JSON.object([("precision", JSON.number(m.precision[c])), ("recall", JSON.number(m.recall[c])),
                         ("f1", JSON.number(m.f1[c])), ("roc_auc", JSON.number(m.rocAUC[c]))])
        }
        return JSON.object([
            ("accuracy", JSON.number(m.accuracy)), ("loss", JSON.number(m.loss)),
            ("per_class", JSON.array(perClass)),
            ("macro_precision", JSON.number(m.macroPrecision)), ("macro_recall", JSON.number(m.macroRecall)),
            ("macro_f1", JSON.number(m.macroF1)), ("macro_roc_auc", JSON.number(m.macroROCAUC)),
            ("confusion", JSON.array(m.confusion.map { JSON.array($0.map(String.init)) })),
            ("count", "\(m.count)"), ("task", JSON.string(task.rawValue)),
        ] + extra)
    }

    static func textReport(_ m: ClassificationMetrics, names: [String], title: String) -> String {
        var lines = [title, String(format: "accuracy %.4f (%d/%d)  loss %.4f", m.accuracy, m.correct, m.count, m.loss), ""]
        let w = max(5, names.map(\.count).max() ?? 5)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "   n/a" }
        lines.append(pad("class", w) + "  precision  recall     f1         roc_auc    support")
        for c in 0..<m.classes {
            lines.append(pad(names[c], w) + "  " + [f(m.precision[c]), f(m.recall[c]), f(m.f1[c]), f(m.rocAUC[c])].map { pad($0, 9) }.joined(separator: "  ")
                         + "  " + "\(m.confusion[c].reduce(0, +))")
        }
        lines.append(pad("macro", w) + "  " + [f(m.macroPrecision), f(m.macroRecall), f(m.macroF1), f(m.macroROCAUC)].map { pad($0, 9) }.joined(separator: "  "))
        lines.append("")
        lines.append("confusion matrix (rows: true class, columns: predicted class)")
        let cw = max(5, String(m.confusion.flatMap { $0 }.max() ?? 0).count + 1)
        lines.append(pad("", w) + (0..<m.classes).map { lpad("\($0)", cw) }.joined())
        for c in 0..<m.classes {
            lines.append(pad(names[c], w) + m.confusion[c].map { lpad("\($0)", cw) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
