// `train`: settings from the model file, flags on top (or from the checkpoint with --resume),
// then the training loop with one line (or JSON object) per epoch.

import Foundation
import ModelcData
import ModelcRuntime

enum TrainCommand<M: CompiledModel> {
    static var valueFlags: [String] { ["data", "dataset", "epochs", "batch", "lr", "optimizer", "loss", "weight-decay", "schedule",
                             "val-split", "seed", "checkpoint", "weights", "augment-shift", "augment-rotate",
                             "early-stopping", "limit", "threads", "momentum", "split-seed", "resplit", "report", "target-columns"]
                             + CommandSupport.imageFolderValueFlags }
    static var switchFlags: [String] { ["resume", "json", "test-each-epoch"] + CommandSupport.imageFolderSwitches }

    /// Applies explicit flags on top of `config`.
    static func applyFlags(_ f: CommandLineFlags, to config: inout TrainingConfig) throws {
        if let v = try f.int("epochs", min: 0, max: 1_000_000) { config.epochs = v }
        if let v = try f.int("batch", min: 1, max: 1 << 16) { config.batchSize = v }
        if let v = try f.float("lr", min: 0) { config.learningRate = v }
        if let v = f.string("optimizer") {
            guard let k = OptimizerKind(rawValue: v) else {
                throw UsageError("train: --optimizer expects one of \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")), found '\(v)'")
            }
            config.optimizer.kind = k
        }
        try M.checkNoRunLoss(f)
        if let v = f.string("loss") {
            guard let k = LossKind(name: v) else { throw UsageError("train: --loss expects one of \(LossKind.namesList), found '\(v)'") }
            config.loss = k
        }
        if let v = try f.float("weight-decay", min: 0) { config.optimizer.weightDecay = v }
        if let v = try f.float("momentum", min: 0, max: 1, openMax: true) {
            guard config.optimizer.kind != .rmsprop || v == 0 else {
                throw UsageError("train: --momentum \(v) with rmsprop: modelc's RMSprop has no momentum (Keras's default 0); use sgd, momentum or nesterov for momentum")
            }
            config.optimizer.momentum = v
        }
        if let v = f.string("schedule") { config.schedule = try Schedule(parsing: v) }
        if let v = try f.float("val-split", min: 0, max: 1, openMax: true) { config.validationSplit = v }
        if let v = try f.seed("seed") { config.seed = v }
        if let v = try f.int("augment-shift", min: 0, max: max(M.info.inputHeight, M.info.inputWidth) / 2) { config.augmentation.maxShift = v }
        if let v = try f.float("augment-rotate", min: 0, max: 180) { config.augmentation.maxDegrees = v }
        if let v = f.string("early-stopping") { config.earlyStopping = try EarlyStopping(parsing: v) }
        if let v = try f.int("limit", min: 0) { config.limit = v }
        if let v = try f.seed("split-seed") { config.splitSeed = v }
        if let v = f.string("resplit") { config.resplit = try Resplit(parsing: v) }
        if let v = try f.int("target-columns", min: TrainingConfig.targetColumnsRange.lowerBound, max: TrainingConfig.targetColumnsRange.upperBound) { config.targetColumns = v }
        if config.resplit != nil && f.has("val-split") {
            throw UsageError("train: --resplit TRAIN:VAL:TEST sets the validation images; it cannot be combined with --val-split")
        }
    }

    static func run(_ args: [String], console: Console, program: String) throws {
        let f = try CommandLineFlags(args, command: "train", valueFlags: valueFlags, switchFlags: switchFlags)
        let info = M.info
        let (config, resumeFrom, checkpointPath) = try settings(f, console: console)
        let reportDirectory = f.string("report")
        if let dir = reportDirectory { try RunReport.prepare(dir) }   // unwritable: fail before training

        // data (the batch's memory checked first: the images need no loading for a batch that cannot fit)
        let batchSetting = "train: batch \(config.batchSize)\(f.has("batch") ? " (--batch)" : "")"
        let slots = config.optimizer.kind.slotCount
        try CompiledModelBase.checkMemory(M.self, maxBatch: config.batchSize, optimizerSlots: slots, what: batchSetting)
        try CommandSupport.checkArrayRun(config, report: reportDirectory)
        let (trainSet, valSet) = try CommandSupport.trainingImages(config, flags: f, info: info, console: console)

        // model and starting point
        let maxBatch = max(config.batchSize, min(256, trainSet.count + (valSet?.count ?? 0)))
        try CompiledModelBase.checkMemory(M.self, maxBatch: maxBatch, optimizerSlots: slots, what: batchSetting)
        let model = M(maxBatch: maxBatch)
        let trainer = try Trainer(model: model, config: config, train: trainSet, validation: valSet)
        trainer.checkpointPath = checkpointPath
        try start(trainer, from: resumeFrom, checkpoint: checkpointPath, flags: f, console: console)
        if trainer.isFinished {
            console.err("nothing to do: the run in \(checkpointPath) already finished \(trainer.progress.epochsDone) epochs\(trainer.progress.stopped ? " (early stopping)" : ""); raise --epochs to continue")
            return
        }

        let json = f.has("json")
        // --test-each-epoch: the test set after every epoch (for time-to-accuracy measurements;
        // it never influences training, checkpoints or early stopping)
        let testEachEpoch = f.has("test-each-epoch")
        let perEpochTest = testEachEpoch ? try CommandSupport.testImages(config, limit: 0, flags: f, info: info, console: console) : nil
        if !json {
            console.out("training \(info.name) on \(config.dataset): \(trainSet.count) \(config.dataset == ArrayData.datasetName ? "examples" : "images"), \(valSet?.count ?? 0) for validation; \(config.optimizer.kind.rawValue) lr \(config.learningRate) batch \(config.batchSize), \(config.epochs) epochs, loss \(config.loss.rawValue)\(config.loss == .crossentropy && trainer.loss.objective != .sparseCategorical ? " (\(trainer.loss.objective.rawValue))" : "")\(config.targetIsInput ? " target=input" : ""), schedule \(config.schedule), seed \(config.seed)")
            if let h = trainer.loss.heads {
                console.out("\(h.count) outputs, loss = the sum of weight x loss: " + h.map(\.describe).joined(separator: "; ") + "; accuracy: \(trainer.loss.accuracyHead?.spec.name ?? "none")")
            }
        }
        let bar = ProgressBar(enabled: console.isTTY)
        trainer.observer = observer(trainer, bar: bar, json: json, perEpochTest: perEpochTest, console: console)
        Interruption.install()
        do {
            try trainer.run()
        } catch {
            bar.clear()
            throw error
        }
        if let dir = reportDirectory {
            try writeReport(trainer, to: dir, checkpoint: checkpointPath, flags: f, console: console)
        }
        var done = "checkpoint: \(checkpointPath)"
        if let best = trainer.progress.bestValAccuracy {
            done += String(format: "; best validation accuracy %.4f in epoch %d: %@", best, trainer.progress.bestEpoch, Trainer<M>.bestPath(for: checkpointPath))
        }
        console.err(done)
    }

    /// The run's settings: model file defaults < checkpoint (with --resume) < flags; the checkpoint
    /// to resume from (with --resume) and the checkpoint path. Sets the run's thread count.
    static func settings(_ f: CommandLineFlags, console: Console) throws -> (config: TrainingConfig, resumeFrom: Checkpoint?, checkpointPath: String) {
        let info = M.info
        let threads = try f.applyThreads()
        let resume = f.has("resume")
        if resume && f.has("weights") { throw UsageError("train: --resume continues from --checkpoint; it cannot be combined with --weights") }
        let checkpointPath = f.string("checkpoint") ?? CommandSupport.defaultCheckpoint(info)

        // settings: model file defaults < checkpoint (with --resume) < flags
        var resumeFrom: Checkpoint? = nil
        var config = try TrainingConfig(defaults: info.defaults, dataset: info.dataset ?? "")
        config.head = M.head
        config.heads = M.heads
        if resume {
            guard FileIO.exists(checkpointPath) else {
                throw RuntimeError(file: checkpointPath, "no checkpoint to resume from (train without --resume to start a new run)")
            }
            let c = try Checkpoint.read(path: checkpointPath)
            try c.checkMatches(info, file: checkpointPath)
            guard let t = c.training else {
                throw RuntimeError(file: checkpointPath, "checkpoint holds weights only (no training state) and cannot be resumed")
            }
            try config.apply(pairs: t.config, file: checkpointPath)
            resumeFrom = c
        }
        let before = config.optimizer
        try applyFlags(f, to: &config)
        if config.optimizer.kind != before.kind {
            // The model file set its own optimizer's numbers; another one runs with them, as said here.
            let o = config.optimizer
            let own: String
            switch o.kind {
            case .sgd: own = ""
            case .momentum, .nesterov: own = " momentum=\(o.momentum)"
            case .adam, .adamw: own = " beta1=\(o.beta1) beta2=\(o.beta2) epsilon=\(o.epsilon)"
            case .rmsprop: own = " rho=\(o.rmsRho) epsilon=\(o.epsilon)"
            case .adadelta: own = " rho=\(o.rho) epsilon=\(o.epsilon)"
            }
            console.err("note: --optimizer \(o.kind.rawValue) runs with lr=\(config.learningRate)\(own) weight_decay=\(o.weightDecay) "
                        + "(the model file's settings for \(before.kind.rawValue), not \(o.kind.rawValue)'s own defaults; --lr, --momentum and --weight-decay change them)")
        }
        config.dataset = try CommandSupport.datasetName(f, info: info, stored: config.dataset)
        try CommandSupport.applyImageFolderFlags(f, to: &config)
        if let t = resumeFrom?.training, t.progress.stepInEpoch > 0 {
            try checkSameEpochOrder(stored: t.config, now: config, stoppedAt: t.progress, checkpoint: checkpointPath)
        }
        // the thread count of the run: the stored one on resume unless --threads says otherwise
        if resume && !f.has("threads") && config.threads > 0 && config.threads <= Parallel.maxThreads {
            Parallel.threads = config.threads
        } else {
            if resume && config.threads > 0 && config.threads != threads {
                console.err("note: the run was trained with --threads \(config.threads), now \(threads): resuming is bit-exact only with the same thread count")
            }
            config.threads = threads
        }
        return (config, resumeFrom, checkpointPath)
    }

    /// The settings that fix which images an epoch's steps take. A run stopped in the middle of
    /// an epoch goes on from its next step of the same order: with another batch, seed, data
    /// set, limit or split, that step would repeat or skip images.
    static var epochOrderSettings: [String] { ["batch", "seed", "dataset", "limit", "split_seed", "resplit", "val_split"] }

    static func checkSameEpochOrder(stored: [(String, String)], now config: TrainingConfig, stoppedAt p: TrainingProgress,
                                    checkpoint: String) throws {
        let was = Dictionary(stored, uniquingKeysWith: { $1 }), now = Dictionary(config.pairs(), uniquingKeysWith: { $1 })
        // An image folder's validation split and --resplit shuffle with split seed 0 when none
        // is given (ImageFolderRuns, DataSplits): there, none and 0 are the same order.
        let noSeedIsZero = config.dataset == ImageFolderLoader.datasetName || config.resplit != nil
        func effective(_ k: String, _ v: String?) -> String? { k == "split_seed" && v == "" && noSeedIsZero ? "0" : v }
        for k in epochOrderSettings {
            guard let old = effective(k, was[k]), let new = effective(k, now[k]), old != new else { continue }
            throw UsageError("train: \(checkpoint) stopped at step \(p.stepInEpoch) of epoch \(p.epochsDone + 1), and the run's \(k) was "
                + "'\(old)', now '\(new)': resuming in the middle of an epoch needs the same \(epochOrderSettings.joined(separator: ", ")) "
                + "(or images would be repeated or skipped); drop the flag that changes it")
        }
    }

    /// The starting point: the checkpoint's state with --resume, else fresh parameters (or
    /// --weights), written to the checkpoint path at once.
    static func start(_ trainer: Trainer<M>, from resumeFrom: Checkpoint?, checkpoint checkpointPath: String,
                      flags f: CommandLineFlags, console: Console) throws {
        if let c = resumeFrom {
            try trainer.restore(c, file: checkpointPath)
            console.err("resuming \(checkpointPath): \(trainer.progress.epochsDone) epochs and \(trainer.progress.stepInEpoch) steps of epoch \(trainer.progress.epochsDone + 1) done")
        } else {
            if FileIO.exists(checkpointPath) {
                console.err("note: starting a new run over the existing checkpoint \(checkpointPath) (use --resume to continue it instead)")
            }
            initializeParameters(trainer.model.parameters, tensors: M.info.tensors, seed: trainer.config.seed)
            if let w = f.string("weights") { try WeightsFile.load(w, into: trainer.model) }
            // fail on an unwritable path now rather than after the first epoch
            try trainer.snapshot().write(to: checkpointPath)
        }
    }

    /// Progress bar updates, one line (or JSON object) per epoch, messages on stderr.
    static func observer(_ trainer: Trainer<M>, bar: ProgressBar, json: Bool, perEpochTest: LabeledImages?,
                         console: Console) -> TrainingObserver {
        let model = trainer.model, trainCount = trainer.train.count
        let testLoss = trainer.loss
        let hasAccuracy = testLoss.objective.hasAccuracy
        var observer = TrainingObserver()
        let epochs = trainer.config.epochs
        observer.step = { epoch, _, _, done, total, seconds, loss, acc in
            bar.update(label: "epoch \(epoch)/\(epochs)", done: done, total: total, seconds: seconds,
                       extra: hasAccuracy ? String(format: "loss %.4f acc %.4f", loss, acc) : String(format: "loss %.4f", loss))
        }
        observer.epoch = { r in
            bar.clear()
            let test = perEpochTest.map { Evaluator.evaluateTask(model, images: $0, loss: testLoss, batch: model.maxBatch) }
            console.out(json ? epochJSON(r, test: test, trainCount: trainCount, hasAccuracy: hasAccuracy)
                             : epochLine(r, epochs: epochs, test: test, hasAccuracy: hasAccuracy))
        }
        observer.message = { console.err($0) }
        return observer
    }

    /// One epoch as a JSON object (--json).
    /// Regression runs (no accuracy) write accuracy and val_accuracy as null.
    static func epochJSON(_ r: EpochRecord, test: TaskMetrics?, trainCount: Int, hasAccuracy: Bool = true) -> String {
        var fields = [("epoch", "\(r.epoch)"), ("loss", JSON.number(r.loss)), ("accuracy", JSON.number(hasAccuracy ? r.accuracy : nil)),
                      ("val_loss", JSON.number(r.valLoss)), ("val_accuracy", JSON.number(r.valAccuracy)),
                      ("seconds", JSON.number(r.seconds)), ("images_per_s", JSON.number(r.imagesPerSecond))]
        if let t = test {
            fields += [("train_seconds", JSON.number(Double(trainCount) / max(r.imagesPerSecond, 1e-9))),
                       ("test_loss", JSON.number(t.loss)), ("test_accuracy", JSON.number(t.accuracy))]
            if t.task == .regression { fields += [("test_mse", JSON.number(t.mse)), ("test_mae", JSON.number(t.mae))] }
        }
        return JSON.object(fields)
    }

    /// One epoch as a line of text.
    static func epochLine(_ r: EpochRecord, epochs: Int, test: TaskMetrics?, hasAccuracy: Bool = true) -> String {
        var line = String(format: "epoch %d/%d  loss %.4f", r.epoch, epochs, r.loss)
        if hasAccuracy { line += String(format: "  accuracy %.4f", r.accuracy) }
        if let vl = r.valLoss { line += String(format: "  val_loss %.4f", vl) }
        if let va = r.valAccuracy { line += String(format: "  val_accuracy %.4f", va) }
        if let t = test {
            line += String(format: "  test_loss %.4f", t.loss)
            if let a = t.accuracy { line += String(format: "  test_accuracy %.4f", a) }
        }
        line += String(format: "  %.1fs  %.0f img/s", r.seconds, r.imagesPerSecond)
        return line
    }

    /// --report: the run report over the train, validation and test splits, after training.
    static func writeReport(_ trainer: Trainer<M>, to dir: String, checkpoint checkpointPath: String,
                            flags f: CommandLineFlags, console: Console) throws {
        let info = M.info, config = trainer.config, model = trainer.model
        var splits = [("train", trainer.train)]
        if let v = trainer.validation { splits.append(("val", v)) }
        if CommandSupport.hasTestImages(config, flags: f) {
            splits.append(("test", try CommandSupport.testImages(config, limit: 0, flags: f, info: info, console: console)))
        } else {
            console.err("note: the image folder has no test/ folder; the report covers \(splits.map(\.0).joined(separator: " and "))")
        }
        let written = try RunReport.write(
            to: dir, model: model, config: config,
            history: RunReport.history(trainer.progress.history, config: config, stepsPerEpoch: trainer.stepsPerEpoch),
            splits: splits, samplesFrom: splits.last!.0,
            info: [("weights", "final state after epoch \(trainer.progress.epochsDone) (\(checkpointPath))")],
            names: info.displayClassNames(dataset: config.dataset, imageClasses: config.imageClasses), batch: model.maxBatch)
        console.err("report: \(written.count) files in \(dir) (open \(ReportWriter.join(dir, "report.html")))")
    }
}
