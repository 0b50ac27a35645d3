// `modelc sweep SPEC [--data DIR] [--dataset NAME] [--epochs N] [--limit N] [--out DIR] [--threads N]`
//
// Compiles each model of a sweep once, trains and evaluates every configuration with the built
// binaries (`train --json`, `eval --json`), and prints the comparison table as markdown and CSV
// (also written atomically to OUT/results.csv and OUT/results.md) with the confusion matrix of
// the configuration with the best validation accuracy.
//
// SPEC is a text file, one directive per line, `#` starts a comment:
//
//   dataset: kmnist                 # named dataset (default: the first model's)
//   data: DIR                       # optional data directory (as the binaries' --data)
//   epochs: 20                      # optional; overrides every run's epochs
//   limit: 0                        # optional; first N training (and test) images
//   columns: hidden activation optimizer weight_decay best_val test
//   run: seed001_mlp_128_64_relu_adam.md  lr=0.001 batch=128
//
// Model paths are relative to the SPEC's directory. A run's key=value overrides are passed to
// `train` as flags (`weight_decay=0` -> `--weight-decay 0`); keys: optimizer lr batch epochs loss
// weight_decay momentum schedule early_stopping seed val_split split_seed resplit augment_shift
// augment_rotate. Command-line flags of `sweep` override the spec.
//
// Columns: model, hidden (Dense units before the output layer), activation (of those layers),
// k (largest kernel side of the first Conv2D), optimizer, weight_decay, loss, lr, batch,
// epochs_run, best_epoch, best_val, test, test_loss, seconds. Accuracies are fractions in 0...1;
// test is measured with the best checkpoint (best validation accuracy) when there is one, else
// with the final weights. The training settings and the best epoch come from that checkpoint, as
// `eval --json` reports them (its "checkpoint" field), and epochs_run from `train --json`'s lines,
// so that modelc itself never links the runtime.

import Foundation
import ModelcCore
import ModelcBackend
import ModelcData

enum SweepCommand {
    static let usage = "usage: modelc sweep SPEC [--data DIR] [--dataset NAME] [--epochs N] [--limit N] [--out DIR] [--threads N]"
    static let runKeys = ["optimizer", "lr", "batch", "epochs", "loss", "weight_decay", "momentum", "schedule", "early_stopping",
                          "seed", "val_split", "split_seed", "resplit", "augment_shift", "augment_rotate"]
    static let allColumns = ["model", "hidden", "activation", "k", "optimizer", "weight_decay", "loss", "lr", "batch",
                             "epochs_run", "best_epoch", "best_val", "test", "test_loss", "seconds"]

    struct Run { var model: String; var overrides: [(String, String)]; var line: Int }

    struct Spec {
        var dataset: String?
        var data: String?
        var epochs: Int?
        var limit: Int?
        var columns: [String] = ["model", "optimizer", "lr", "batch", "epochs_run", "best_val", "test"]
        var runs: [Run] = []
    }

    struct SweepError: Error, CustomStringConvertible { let description: String }

    /// Parses a spec; errors name the file and line.
    static func parse(_ text: String, path: String) throws -> Spec {
        var spec = Spec()
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            func fail(_ m: String) -> SweepError { SweepError(description: "\(path):\(n): error: \(m)") }
            let line = String(raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: ":") else { throw fail("expected 'directive: value', found '\(line)'") }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let words = value.split(separator: " ").map(String.init)
            switch key {
            case "dataset":
                guard Datasets.names.contains(value) else { throw fail("unknown dataset '\(value)': expected one of \(Datasets.names.joined(separator: ", "))") }
                spec.dataset = value
            case "data": spec.data = value
            case "epochs":
                guard let e = Int(value), e >= 1 else { throw fail("epochs expects a positive integer, found '\(value)'") }
                spec.epochs = e
            case "limit":
                guard let l = Int(value), l >= 0 else { throw fail("limit expects a non-negative integer, found '\(value)'") }
                spec.limit = l
            case "columns":
                for c in words where !allColumns.contains(c) { throw fail("unknown column '\(c)': expected \(allColumns.joined(separator: ", "))") }
                guard !words.isEmpty else { throw fail("columns needs at least one column") }
                spec.columns = words
            case "run":
                guard let model = words.first else { throw fail("run needs a model file") }
                var overrides: [(String, String)] = []
                for w in words.dropFirst() {
                    let kv = w.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2, !kv[1].isEmpty else { throw fail("expected key=value, found '\(w)'") }
                    guard runKeys.contains(kv[0]) else { throw fail("unknown setting '\(kv[0])': expected one of \(runKeys.joined(separator: ", "))") }
                    overrides.append((kv[0], kv[1]))
                }
                let resolved = model.hasPrefix("/") ? model : base.appendingPathComponent(model).standardizedFileURL.path
                spec.runs.append(Run(model: resolved, overrides: overrides, line: n))
            default:
                throw fail("unknown directive '\(key)': expected dataset, data, epochs, limit, columns or run")
            }
        }
        if spec.runs.isEmpty { throw SweepError(description: "\(path): error: no 'run:' line; nothing to sweep") }
        return spec
    }

    static func run(_ args: [String]) -> Int32 {
        var specPath: String?
        var flags: [String: String] = [:]
        var i = 0
        while i < args.count {
            let a = args[i]
            if ["--data", "--dataset", "--epochs", "--limit", "--out", "--threads"].contains(a) {
                guard i + 1 < args.count else { return usageError("\(a) needs a value") }
                flags[String(a.dropFirst(2))] = args[i + 1]
                i += 2
                continue
            }
            if a == "-h" || a == "--help" { print(usage); return 0 }
            if a.hasPrefix("-") { return usageError("unknown option '\(a)'") }
            if specPath != nil { return usageError("more than one SPEC given ('\(a)')") }
            specPath = a
            i += 1
        }
        guard let path = specPath else { return usageError("no SPEC file given") }
        for k in ["epochs", "limit", "threads"] {
            if let v = flags[k], Int(v).map({ $0 >= (k == "limit" ? 0 : 1) }) != true { return usageError("--\(k) expects a positive integer, found '\(v)'") }
        }
        do {
            let text = String(decoding: try FileIO.read(path: path), as: UTF8.self)
            var spec = try parse(text, path: path)
            if let d = flags["dataset"] {
                guard Datasets.names.contains(d) else { return usageError("unknown dataset '\(d)'") }
                spec.dataset = d
            }
            if let d = flags["data"] { spec.data = d }
            if let e = flags["epochs"].flatMap(Int.init) { spec.epochs = e }
            if let l = flags["limit"].flatMap(Int.init) { spec.limit = l }
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let out = flags["out"] ?? "sweep-\(name)"
            try sweep(spec, out: out, threads: flags["threads"])
            return 0
        } catch {
            err("\(error)")
            return 1
        }
    }

    struct Result {
        var cells: [String: String] = [:]
        var bestVal: Double?
        var test: Double = 0
        var confusion: [[Int]] = []
    }

    static func sweep(_ spec: Spec, out: String, threads: String?) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: out + "/bin", withIntermediateDirectories: true)
        // compile each model once
        var binaries: [String: (binary: String, ir: ModelIR)] = [:]
        for r in spec.runs where binaries[r.model] == nil {
            guard let ir = CompileCommand.checkedIR(r.model) else { throw SweepError(description: "\(r.model): error: cannot compile (see above)") }
            let e = Emitter.emit(ir, fuse: true)
            let file = try GeneratedFiles.write(e, into: out + "/generated")
            let start = Date()
            let bin = try BuildDriver.build(generatedFile: file, className: e.className, output: "\(out)/bin/\(e.directoryName)") { err("  \($0)") }
            err(String(format: "built %@ in %.1f s", bin, Date().timeIntervalSince(start)))
            binaries[r.model] = (bin, ir)
        }
        let dataset = spec.dataset ?? binaries[spec.runs[0].model]?.ir.dataset ?? ""
        guard !dataset.isEmpty else { throw SweepError(description: "the sweep names no dataset and the first model has none: add 'dataset: NAME'") }
        var common = ["--dataset", dataset]
        if let d = spec.data { common += ["--data", d] }
        if let l = spec.limit, l > 0 { common += ["--limit", "\(l)"] }
        if let t = threads { common += ["--threads", t] }

        var results: [Result] = []
        for (n, r) in spec.runs.enumerated() {
            guard let (bin, ir) = binaries[r.model] else { continue }
            let tag = "run\(n + 1)-\(ir.name)"
            let ckpt = "\(out)/\(tag).ckpt"
            for f in [ckpt, bestPath(ckpt)] where fm.fileExists(atPath: f) { try fm.removeItem(atPath: f) }
            var trainArgs = ["train", "--json", "--checkpoint", ckpt] + common
            for (k, v) in r.overrides where !(k == "epochs" && spec.epochs != nil) {
                trainArgs += ["--" + k.replacingOccurrences(of: "_", with: "-"), v]
            }
            if let e = spec.epochs { trainArgs += ["--epochs", "\(e)"] }
            err("[\(n + 1)/\(spec.runs.count)] \(ir.name) \(r.overrides.map { "\($0.0)=\($0.1)" }.joined(separator: " "))")
            let start = Date()
            let t = try execute(bin, trainArgs, echo: "  ")
            let seconds = Date().timeIntervalSince(start)
            guard t.status == 0 else { throw SweepError(description: "\(bin) \(trainArgs.joined(separator: " ")) failed with exit code \(t.status)") }
            let weights = fm.fileExists(atPath: bestPath(ckpt)) ? bestPath(ckpt) : ckpt
            var evalArgs = ["eval", "--json", "--checkpoint", weights] + common
            if let i = r.overrides.firstIndex(where: { $0.0 == "loss" }) { evalArgs += ["--loss", r.overrides[i].1] }
            let e = try execute(bin, evalArgs, echo: nil)
            guard e.status == 0, let json = e.lines.last, let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                throw SweepError(description: "\(bin) \(evalArgs.joined(separator: " ")) failed with exit code \(e.status)")
            }
            // Trained with --checkpoint, so eval reports its training state; without it the row's
            // settings would be silently empty.
            guard let stored = obj["checkpoint"] as? [String: Any], let settings = stored["config"] as? [String: String] else {
                throw SweepError(description: "\(bin) \(evalArgs.joined(separator: " ")): its JSON has no \"checkpoint\" field with the training settings")
            }
            let bestEpoch = (stored["best_epoch"] as? Int) ?? 0
            let epochsRun = t.lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["epoch"] != nil }.count
            var res = Result()
            res.bestVal = stored["best_val_accuracy"] as? Double
            res.test = obj["accuracy"] as? Double ?? 0
            res.confusion = (obj["confusion"] as? [[Any]])?.map { $0.map { ($0 as? Int) ?? 0 } } ?? []
            let dense = ir.layers.compactMap { l -> (Int, String)? in
                if case let .dense(units, _, act) = l.op { return (units, act.name) }
                return nil
            }
            let hidden = dense.dropLast()
            var k = ""
            for l in ir.layers { if case let .conv2d(a) = l.op { k = "\(max(a.kernelH, a.kernelW))"; break } }
            res.cells = [
                "model": ir.name, "hidden": "[" + hidden.map { "\($0.0)" }.joined(separator: ", ") + "]",
                "activation": Array(Set(hidden.map(\.1))).sorted().joined(separator: "/"), "k": k,
                "optimizer": settings["optimizer"] ?? "", "weight_decay": settings["weight_decay"] ?? "", "loss": settings["loss"] ?? "",
                "lr": settings["lr"] ?? "", "batch": settings["batch"] ?? "",
                "epochs_run": "\(epochsRun)", "best_epoch": bestEpoch > 0 ? "\(bestEpoch)" : "",
                "best_val": res.bestVal.map { String(format: "%.4f", $0) } ?? "", "test": String(format: "%.4f", res.test),
                "test_loss": (obj["loss"] as? Double).map { String(format: "%.4f", $0) } ?? "", "seconds": String(format: "%.1f", seconds),
            ]
            results.append(res)
            err("  test accuracy \(res.cells["test"] ?? "") (\(weights))")
        }

        let md = markdown(spec.columns, results)
        let csv = self.csv(spec.columns, results)
        var report = md + "\n"
        if let best = results.indices.max(by: { (results[$0].bestVal ?? -1, results[$0].test) < (results[$1].bestVal ?? -1, results[$1].test) }) {
            let names = (try? Datasets.info(dataset).classNames) ?? []
            report += "\nConfusion matrix of the best configuration (run \(best + 1), \(results[best].cells["model"] ?? ""), highest validation accuracy; rows: true class, columns: predicted):\n\n"
            report += confusionMarkdown(results[best].confusion, names: names)
        }
        print(report)
        print("```csv\n" + csv + "```")
        try AtomicFile.write(Array(csv.utf8), to: out + "/results.csv")
        try AtomicFile.write(Array(report.utf8), to: out + "/results.md")
        err("wrote \(out)/results.csv and \(out)/results.md")
    }

    static func bestPath(_ p: String) -> String { p.hasSuffix(".ckpt") ? String(p.dropLast(5)) + ".best.ckpt" : p + ".best" }

    static func markdown(_ columns: [String], _ results: [Result]) -> String {
        var lines = ["| " + columns.joined(separator: " | ") + " |", "|" + columns.map { _ in "---" }.joined(separator: "|") + "|"]
        for r in results { lines.append("| " + columns.map { r.cells[$0] ?? "" }.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }

    static func csv(_ columns: [String], _ results: [Result]) -> String {
        func field(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        var out = columns.joined(separator: ",") + "\n"
        for r in results { out += columns.map { field(r.cells[$0] ?? "") }.joined(separator: ",") + "\n" }
        return out
    }

    static func confusionMarkdown(_ m: [[Int]], names: [String]) -> String {
        let header = "| true \\ predicted | " + m.indices.map { $0 < names.count ? names[$0] : "\($0)" }.joined(separator: " | ") + " |"
        var lines = [header, "|" + Array(repeating: "---", count: m.count + 1).joined(separator: "|") + "|"]
        for (i, row) in m.enumerated() { lines.append("| \(i < names.count ? names[i] : "\(i)") | " + row.map(String.init).joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Runs a binary; stdout lines are collected (and echoed with `echo` as prefix), stderr passes through.
    static func execute(_ binary: String, _ args: [String], echo: String?) throws -> (status: Int32, lines: [String]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        var lines: [String] = []
        var buffer = Data()
        let h = pipe.fileHandleForReading
        while true {
            let chunk = h.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...nl)
                lines.append(line)
                if let e = echo { err(e + line) }
            }
        }
        if !buffer.isEmpty { lines.append(String(decoding: buffer, as: UTF8.self)) }
        p.waitUntilExit()
        return (p.terminationStatus, lines)
    }

    static func usageError(_ m: String) -> Int32 {
        err("modelc sweep: \(m)\n\(usage)")
        return 2
    }

    static func err(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}
