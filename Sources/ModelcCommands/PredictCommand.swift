// `predict`: top-k classes with names and probabilities for PNG/PGM/PPM images, one image of
// an IDX file, or the examples of an array file (--data FILE.npz|FILE.csv [--index N]; its x,
// ArrayData.swift). A binary head (one sigmoid unit) prints P(class 1) and the label (p > 0.5),
// a multi-label head every unit's probability and the labels, a regression model its outputs.
// Images are fitted to the model's input as ImageFit says: the model's size
// unless --resize / --crop, RGB converted to gray for 1-channel models (gray replicated for
// 3-channel ones), alpha composited over black.

import Foundation
import ModelcData
import ModelcRuntime

enum PredictCommand<M: CompiledModel> {
    static func run(_ args: [String], console: Console) throws {
        let f = try CommandLineFlags(args, command: "predict", valueFlags: ["checkpoint", "weights", "idx", "index", "top", "threads", "dataset", "data", "target-columns"],
                                     switchFlags: ["json", "invert", "resize", "crop"], allowPositionals: true)
        for p in f.positionals where p.hasPrefix("-") && p != "-" {
            throw UsageError("predict: unknown flag '\(p)' (valid flags: --checkpoint PATH, --weights W, --idx FILE, --index N, --data FILE.npz|FILE.csv, --target-columns K, --top K, --invert, --resize, --crop, --dataset NAME, --json, --threads N)")
        }
        let info = M.info
        try f.applyThreads()
        try CommandSupport.checkInputsData(f, info: info)   // several inputs: an .npz, not images (ModelInputs.swift)
        let top = try f.int("top", min: 1, max: info.classCount) ?? min(3, info.classCount)
        if let data = f.string("data") {
            guard ArrayData.isArrayFile(data) else { throw UsageError("predict: --data expects an array file (.npz or .csv), found '\(data)'") }
            guard f.positionals.isEmpty, !f.has("idx") else { throw UsageError("predict: give image files, --idx FILE --index N or --data FILE, one of them") }
        } else if let _ = f.string("idx") {
            guard try f.int("index", min: 0) != nil else { throw UsageError("predict: --idx FILE needs --index N") }
            guard f.positionals.isEmpty else { throw UsageError("predict: give image files or --idx FILE --index N, not both") }
        } else {
            if f.has("index") { throw UsageError("predict: --index N needs --idx FILE or --data FILE") }
            guard !f.positionals.isEmpty else { throw UsageError("predict: give one or more PNG/PGM/PPM files, --idx FILE --index N, or --data FILE.npz|FILE.csv") }
        }
        // Flags that would have no effect on this input are errors, not silently ignored.
        let imageFlags = ["invert", "resize", "crop"].filter { f.has($0) }
        if f.has("data"), let flag = imageFlags.first {
            throw UsageError("predict: --\(flag) applies to images; --data FILE gives the model's inputs as they are")
        }
        if f.has("idx"), let flag = imageFlags.first(where: { $0 != "invert" }) {
            throw UsageError("predict: --\(flag) applies to image files; an --idx image must already be the model's \(info.inputHeight)x\(info.inputWidth)")
        }
        if let d = f.string("dataset"), !Datasets.names.contains(d) {
            throw UsageError("predict: unknown dataset '\(d)': expected one of \(Datasets.names.joined(separator: ", "))")
        }
        let model = M(maxBatch: 1)
        let (source, training) = try CommandSupport.loadWeights(model, flags: f)
        // the run's settings: its dataset (class names) and, for an image folder, its --resize / --crop
        var config = try TrainingConfig(defaults: info.defaults, dataset: info.dataset ?? "")
        if let s = training?.config { try config.apply(pairs: s, file: source) }
        let names = info.displayClassNames(dataset: f.string("dataset") ?? config.dataset, imageClasses: config.imageClasses)
        var inputs: [(name: String, pixels: [UInt8])] = []
        if let idx = f.string("idx"), let index = try f.int("index", min: 0) {
            inputs.append(("\(idx)[\(index)]", try idxImage(idx, index: index, info: info)))
        }
        let invert = f.has("invert")
        for path in f.positionals {
            inputs.append((path, try ModelImages.imageFile(path, info: info, resize: f.has("resize") || config.imageResize,
                                                           crop: f.has("crop") || config.imageCrop, background: invert ? 255 : 0)))
        }
        var examples: [(name: String, x: ArraySlice<Float>)] = inputs.map { (name, raw) in
            (name, ArraySlice((invert ? raw.map { 255 - $0 } : raw).map { Float($0) * info.inputScale + info.inputOffset }))
        }
        if let data = f.string("data") { examples = try arrayExamples(data, flags: f, config: config, info: info) }
        config.head = M.head
        guard M.heads.isEmpty else {
            throw UsageError("predict: model \(info.name) has \(M.heads.count) outputs (\(M.heads.map(\.name).joined(separator: ", "))); predict prints one output's classes and is not available for it yet: use eval")
        }
        let objective = try Objective.resolve(config.loss, head: M.head, oneHotTargets: false)
        let task = TaskMetrics.task(try ArrayData.runLoss(config, oneHotTargets: false), outputs: info.classCount)
        if task != .multiclass && f.has("top") {
            throw UsageError("predict: --top K ranks the classes of a softmax output; model \(info.name)'s output (\(task.rawValue)) is printed whole")
        }
        for (name, x) in examples {
            let out = try x.withUnsafeBufferPointer { p -> [Float] in
                let o = model.forward(p.baseAddress!, count: 1, training: false, seed: 0)
                try model.checkInput(name)   // an Embedding's bad token id
                return Array(UnsafeBufferPointer(start: o, count: info.classCount))
            }
            if task != .multiclass {
                console.out(describe(name, outputs: out, task: task, logits: objective == .binary && M.head != .sigmoid, json: f.has("json")))
                continue
            }
            var probabilities = [Float](repeating: 0, count: info.classCount)
            softmax(out, into: &probabilities, info.classCount)
            let prediction = Prediction(probabilities: probabilities, top: top, names: names)
            let ranked = prediction.top.map(\.index)
            if f.has("json") {
                let topJSON = ranked.map { c in
                    JSON.object([("class", "\(c)"), ("name", JSON.string(names[c])), ("probability", JSON.number(Double(probabilities[c])))])
                }
                console.out(JSON.object([("input", JSON.string(name)), ("top", JSON.array(topJSON)),
                                         ("probabilities", JSON.array(probabilities.map { JSON.number(Double($0)) }))]))
            } else {
                console.out(name)
                for c in ranked {
                    let name = names[c]
                    console.out(String(format: "  %6.2f%%  class %d", Double(probabilities[c]) * 100, c) + (name == "\(c)" ? "" : "  \(name)"))
                }
            }
        }
    }

    /// The examples of an array file's x (all, or --index N), as the model's input.
    static func arrayExamples(_ path: String, flags f: CommandLineFlags, config: TrainingConfig, info: ModelInfo) throws -> [(name: String, x: ArraySlice<Float>)] {
        let k = try f.int("target-columns", min: 1, max: 1 << 20) ?? config.targetColumns
        let raw = try ArrayData.read(path, split: .train, info: info, targetColumns: k, allowNoTargets: true)
        let size = info.inputSize
        var range = 0..<raw.count
        if let i = try f.int("index", min: 0) {
            guard i < raw.count else { throw UsageError("predict: --index \(i) is out of range: \(path) holds \(raw.count) examples (0...\(raw.count - 1))") }
            range = i..<(i + 1)
        }
        return range.map { i in ("\(path)[\(raw.lines.map { "line \($0[i])" } ?? "\(i)")]", raw.x[(i * size)..<((i + 1) * size)]) }
    }

    /// One example's outputs as a binary, multi-label or regression model states them.
    static func describe(_ name: String, outputs: [Float], task: TaskMetrics.Task, logits: Bool, json: Bool) -> String {
        let p = task == .regression ? outputs : outputs.map { logits ? 1 / (1 + expf(-$0)) : $0 }
        let labels = p.map { $0 > 0.5 ? 1 : 0 }
        switch (task, json) {
        case (.binary, true):
            return JSON.object([("input", JSON.string(name)), ("probability", JSON.number(p[0])), ("label", "\(labels[0])")])
        case (.binary, false):
            return String(format: "%@\n  p(class 1) = %.4f  label %d", name, p[0], labels[0])
        case (.multilabel, true):
            return JSON.object([("input", JSON.string(name)), ("probabilities", JSON.array(p.map { JSON.number($0) })),
                                ("labels", JSON.array(labels.map(String.init)))])
        case (.multilabel, false):
            return "\(name)\n  p " + p.map { String(format: "%.4f", $0) }.joined(separator: " ") + "\n  labels " + labels.map(String.init).joined(separator: " ")
        default:
            if json { return JSON.object([("input", JSON.string(name)), ("outputs", JSON.array(p.map { JSON.number($0) }))]) }
            return "\(name)\n  " + p.map { String(format: "%.6g", $0) }.joined(separator: " ")
        }
    }

    static func idxImage(_ path: String, index: Int, info: ModelInfo) throws -> [UInt8] {
        let (type, dims, bytes) = try IDX.readTyped(path: path)
        guard type == .ubyte else { throw RuntimeError(file: path, "expected an IDX file of unsigned bytes (images), found element type \(type)") }
        guard dims.count == 3 || dims.count == 4 else {
            throw RuntimeError(file: path, "expected IDX images [count, height, width] or [count, height, width, channels], found dimensions \(dims)")
        }
        let channels = dims.count == 4 ? dims[3] : 1
        guard dims[1] == info.inputHeight && dims[2] == info.inputWidth else {
            throw RuntimeError(file: path, "images are \(dims[1])x\(dims[2]), model \(info.name) expects \(info.inputHeight)x\(info.inputWidth)")
        }
        guard index < dims[0] else { throw UsageError("predict: --index \(index) is out of range: \(path) holds \(dims[0]) images (0...\(dims[0] - 1))") }
        let size = dims[1] * dims[2] * channels
        guard bytes.count >= (index + 1) * size else { throw RuntimeError(file: path, "file holds fewer bytes than its dimensions declare") }
        let converted = convertChannels(Array(bytes[(index * size)..<((index + 1) * size)]), from: channels, to: info.inputChannels)
        guard converted.count == info.inputSize else {
            throw RuntimeError(file: path, "images have \(channels) channels, model \(info.name) expects \(info.inputChannels)")
        }
        return converted
    }
}
