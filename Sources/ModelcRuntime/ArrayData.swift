// Generic array data (`--data file.npz` or `--data file.csv`): examples as float inputs of the
// model's input size, with integer labels or float targets, checked against the model and the
// loss (TaskLosses.swift).
//
// .npz: `x` ([N, ...], the values after N being the model's input, e.g. [N, 28, 28, 1], [N, 784]
// or [N, T] token ids) and `y` ([N] labels, or [N, outputs] targets); optional `x_test`/`y_test`
// are the test split. x of dtype uint8 is pixels: scaled like images (p * scale + offset, the
// model's `input:` annotation); every other dtype (floats, integer token ids) enters as it is.
// .csv (NumericCSV): one example per line, the input values first, then the last
// `--target-columns K` columns (default 1) as y: one label, or K targets. Values enter as they
// are. `predict` also takes lines of the input values alone.
//
// y as labels (sparse categorical, margin): integers in 0..<classes. y as targets (binary,
// one-hot categorical, MSE, MAE): one value per model output ([N] for one output); binary
// targets in [0, 1], one-hot ones non-negative. `train: target=input` (an autoencoder) takes
// the inputs as targets and needs no y. Every mismatch is an error naming the file, the array or
// line, what the model expects and what was found.

import Foundation
import ModelcData

public enum ArrayData {
    /// The run's dataset name for array files (stored in checkpoints; --data names the file).
    public static let datasetName = "arrays"
    /// Most input and target values read (2^28 floats, 1 GiB), checked before converting.
    public static let maxValues = 1 << 28

    /// Whether `path` names an array file (by its extension).
    public static func isArrayFile(_ path: String) -> Bool {
        let p = path.lowercased()
        return p.hasSuffix(".npz") || p.hasSuffix(".csv")
    }

    /// One split's arrays as read, before they meet the loss.
    public struct Raw: Sendable {
        /// count x inputSize floats in the model's units.
        public var x: [Float]
        public var count: Int
        /// y's values and shape (nil: the file has none); `integral`: an integer dtype (npz) or
        /// integral values (csv).
        public var y: [Float]?
        public var yShape: [Int]
        public var yIntegral: Bool
        /// "file.npz array y" / "file.csv": where y came from, for errors.
        public var yWhere: String
        /// The file line of each example (csv), for errors about a value.
        public var lines: [Int]?
        public var source: String
    }

    // MARK: reading

    /// The `split` of an .npz or .csv file, checked against the model's input size.
    /// `test` of an .npz without x_test: its x and y (the caller says so).
    public static func read(_ path: String, split: DatasetSplit, info: ModelInfo, targetColumns: Int,
                            allowNoTargets: Bool = false, heads: [OutputHeadSpec] = []) throws -> Raw {
        if !heads.isEmpty { return try readHeads(path, split: split, info: info, heads: heads) }
        if path.lowercased().hasSuffix(".csv") {
            return try readCSV(path, info: info, targetColumns: targetColumns, allowNoTargets: allowNoTargets)
        }
        return try readNPZ(path, NPZ.read(path: path), split: split, info: info)
    }

    /// Whether an .npz holds a test split (x_test; for several inputs, x_<first input>_test).
    public static func hasTestSplit(_ path: String, info: ModelInfo? = nil) -> Bool {
        guard path.lowercased().hasSuffix(".npz"), let names = try? Zip.entries(FileIO.read(path: path), file: path).map(\.name) else { return false }
        return InputArrays.hasTestSplit(names.filter { $0.hasSuffix(".npy") }.map { String($0.dropLast(4)) }, info: info)
    }

    /// x and y of the `split` of `arrays`, the .npz at `path` (read once by the caller).
    static func readNPZ(_ path: String, _ arrays: [String: NDArray], split: DatasetSplit, info: ModelInfo) throws -> Raw {
        let test = split == .test && InputArrays.hasTestSplit(arrays.keys, info: info)
        let (xName, yName) = test ? ("x_test", "y_test") : ("x", "y")
        let (values, n, xText) = try info.inputs.isEmpty ? readX(path, arrays, name: xName, info: info)
            : InputArrays.read(path, arrays, test: test, info: info)
        var raw = Raw(x: values, count: n, y: nil, yShape: [], yIntegral: false, yWhere: "\(path) array \(yName)", lines: nil, source: "\(path) (\(xText))")
        if let y = arrays[yName] {
            guard y.shape.first == n else {
                throw RuntimeError(file: path, "array \(yName) has shape \(y.shape) but \(xText) has \(n) examples; expected \(yName) [\(n)] or [\(n), outputs]")
            }
            guard y.count <= maxValues else { throw RuntimeError(file: path, "array \(yName) has \(y.count) values; at most \(maxValues) are read") }
            raw.y = try arrayValues(y, path, yName)
            raw.yShape = y.shape
            raw.yIntegral = !y.dtype.hasSuffix("f4") && !y.dtype.hasSuffix("f8") && !y.dtype.hasSuffix("f2")
        }
        return raw
    }

    /// The one input array x (or x_test) of a model with one input, in the model's units.
    static func readX(_ path: String, _ arrays: [String: NDArray], name xName: String, info: ModelInfo) throws -> ([Float], Int, String) {
        guard let x = arrays[xName] else {
            throw RuntimeError(file: path, "no array '\(xName)' (found \(arrays.keys.sorted().joined(separator: ", "))); expected x [N, ...] with \(info.inputSize) values per example, y, and optionally x_test, y_test")
        }
        guard let n = x.shape.first, x.shape.count >= 2 || info.inputSize == 1 else {
            throw RuntimeError(file: path, "array \(xName) has shape \(x.shape); expected [N, ...] with \(inputText(info)) per example")
        }
        let perExample = x.shape.dropFirst().reduce(1, *)
        guard perExample == info.inputSize else {
            throw RuntimeError(file: path, "array \(xName) has shape \(x.shape): \(perExample) values per example; model \(info.name) expects \(inputText(info))")
        }
        guard x.count <= maxValues else { throw RuntimeError(file: path, "array \(xName) has \(x.count) values; at most \(maxValues) are read") }
        let values = try inputValues(x, path, xName, info: info)
        return (try channelsLast(values, shape: x.shape, path, xName, info: info), n, xName)
    }

    /// An array in PyTorch's channels-first layouts as the model's channels-last one: images
    /// [N, C, H, W] (C > 1) as [N, H, W, C], and sequences [N, C, L] as [N, L, C] (a sequence
    /// model reads [L, C] as an L x C x 1 image, so PyTorch's [N, C, L] is [N, w, h]).
    /// Transposed for a PyTorch-semantics model, refused for a Keras one (which would read its
    /// values in another order without a word).
    static func channelsLast(_ v: [Float], shape: [Int], _ path: String, _ name: String, info: ModelInfo) throws -> [Float] {
        let (h, w, c) = (info.inputHeight, info.inputWidth, info.inputChannels)
        let dims = Array(shape.dropFirst())
        let (channels, positions, layout, keras, axes): (Int, Int, String, String, String)
        if c == 1, h > 1, w > 1, h != w, dims == [w, h] {
            (channels, positions, layout, keras, axes) = (w, h, "[N, \(w), \(h)]", "[N, \(h), \(w)]", "(0, 2, 1)")
        } else if c > 1, dims == [c, h, w], dims != [h, w, c] {
            (channels, positions, layout, keras, axes) = (c, h * w, "[N, \(c), \(h), \(w)], channels first", "[N, \(h), \(w), \(c)] (channels last)", "(0, 2, 3, 1)")
        } else {
            return v
        }
        guard info.semantics == "pytorch" else {
            throw RuntimeError(file: path, "array \(name) is \(layout); model \(info.name) reads \(keras): transpose it, e.g. np.transpose(x, \(axes))")
        }
        var out = [Float](repeating: 0, count: v.count)
        let size = channels * positions
        for n in 0..<(v.count / max(1, size)) {
            for ch in 0..<channels { for p in 0..<positions { out[n * size + p * channels + ch] = v[n * size + ch * positions + p] } }
        }
        return out
    }

    /// An input array's values in the model's units: uint8 is pixels (p * scale + offset), every
    /// other dtype (floats, integer token ids) enters as it is.
    static func inputValues(_ x: NDArray, _ path: String, _ name: String, info: ModelInfo) throws -> [Float] {
        var values = try arrayValues(x, path, name)
        if let i = values.firstIndex(where: { !$0.isFinite }) {   // f8 values past Float's range included
            let perExample = max(1, x.shape.dropFirst().reduce(1, *))
            throw RuntimeError(file: path, "array \(name): value \(values[i]) (example \(i / perExample), flat index \(i)) is not a finite 32-bit float")
        }
        if x.dtype == "|u1" { for i in values.indices { values[i] = values[i] * info.inputScale + info.inputOffset } }
        return values
    }

    static func arrayValues(_ a: NDArray, _ path: String, _ name: String) throws -> [Float] {
        do { return try a.floats() } catch let e as DataError {
            throw RuntimeError(file: path, "array \(name): \(e.message)")
        }
    }

    static func readCSV(_ path: String, info: ModelInfo, targetColumns k: Int, allowNoTargets: Bool) throws -> Raw {
        if !info.inputs.isEmpty { throw RuntimeError(file: path, InputArrays.needsNPZ(info)) }
        let bytes = try FileIO.read(path: path)
        if isKaggleImageHeader(bytes) { return try readKaggleCSV(path, bytes, info: info, allowNoTargets: allowNoTargets) }
        let t = try NumericCSV.decode(bytes, file: path)
        let features = info.inputSize
        let hasTargets: Bool
        if t.columns == features + k { hasTargets = true }
        else if allowNoTargets && t.columns == features { hasTargets = false }
        else {
            throw RuntimeError(file: path, "line \(t.lines[0]): \(t.columns) columns; model \(info.name) expects \(features) input values (\(inputText(info))) then \(k) target column\(k == 1 ? "" : "s") (--target-columns) = \(features + k)" + (allowNoTargets ? ", or the \(features) input values alone" : ""))
        }
        let width = hasTargets ? k : 0
        var x = [Float](); x.reserveCapacity(t.rows * features)
        var y = [Float](); y.reserveCapacity(t.rows * width)
        for r in 0..<t.rows {
            let row = t.values[(r * t.columns)..<((r + 1) * t.columns)]
            x.append(contentsOf: row.prefix(features))
            y.append(contentsOf: row.suffix(width))
        }
        return Raw(x: x, count: t.rows, y: hasTargets ? y : nil, yShape: [t.rows, width], yIntegral: y.allSatisfy { $0 == $0.rounded() },
                   yWhere: "\(path) target column\(width == 1 ? "" : "s")", lines: t.lines, source: path)
    }

    /// `label,pixel0,...` / `id,pixel0,...` / `pixel0,...`: a Kaggle image CSV (KaggleCSV), whose
    /// label comes first and whose pixels are 0..255, not a numeric table with its target last.
    /// Every column after an optional first `label` or `id` is `pixel<i>` in order (a table
    /// with other columns, e.g. its target last, is a numeric CSV).
    static func isKaggleImageHeader(_ bytes: [UInt8]) -> Bool {
        let end = bytes.prefix(1 << 20).firstIndex(of: 0x0A) ?? min(bytes.count, 1 << 20)
        let names = String(decoding: bytes[..<end], as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "\u{FEFF}", with: "") }
        let pixels = ["label", "id"].contains(names.first ?? "") ? Array(names.dropFirst()) : names
        return pixels.count > 1 && pixels.enumerated().allSatisfy { $0.element == "pixel\($0.offset)" }
    }

    /// A Kaggle image CSV as array data: the pixels scaled as any uint8 input, the label column
    /// (when the file has one) as the class labels.
    static func readKaggleCSV(_ path: String, _ bytes: [UInt8], info: ModelInfo, allowNoTargets: Bool) throws -> Raw {
        let t = try KaggleCSV.decode(bytes, file: path)
        let im = t.images
        guard im.height * im.width * im.channels == info.inputSize else {
            throw RuntimeError(file: path, "a Kaggle image CSV of \(im.height)x\(im.width) images; model \(info.name) expects \(inputText(info))")
        }
        guard t.hasLabels || allowNoTargets else {
            throw RuntimeError(file: path, "line 1: a Kaggle image CSV without a 'label' column (Kaggle withholds test labels): it cannot be used for training or evaluation")
        }
        let x = im.pixels.map { Float($0) * info.inputScale + info.inputOffset }
        let y = t.hasLabels ? im.labels.map(Float.init) : nil
        return Raw(x: x, count: im.count, y: y, yShape: [im.count], yIntegral: true, yWhere: "\(path) label column",
                   lines: (0..<im.count).map { $0 + 2 }, source: path)
    }

    static func inputText(_ info: ModelInfo) -> String {
        "\(info.inputHeight)x\(info.inputWidth)x\(info.inputChannels) = \(info.inputSize) values"
    }

    // MARK: meeting the loss

    /// The examples of `raw` for `loss` on a model with `info.classCount` outputs: labels, or
    /// targets (the inputs with `loss.targetIsInput`). `requireY`: training and eval need y.
    public static func examples(_ raw: Raw, loss: Loss, info: ModelInfo, requireY: Bool = true) throws -> LabeledImages {
        let outputs = info.classCount
        var set = LabeledImages(height: info.inputHeight, width: info.inputWidth, channels: info.inputChannels,
                                pixels: [], labels: [Int32](repeating: 0, count: raw.count))
        set.inputs = raw.x
        if loss.targetIsInput { return try set.forLoss(loss, info: info) }
        guard let y = raw.y else {
            if requireY { throw RuntimeError(file: raw.source, "no y (labels or targets) to \(loss.objective.hasAccuracy ? "train or evaluate on" : "fit")") }
            return set
        }
        let width = raw.yShape.dropFirst().reduce(1, *)
        if loss.heads != nil {   // readHeads checked every head's array
            set.targets = y; set.targetWidth = width
            return set
        }
        func at(_ i: Int) -> String {
            if let lines = raw.lines { return "\(raw.yWhere), line \(lines[i / max(1, width)])" }
            return "\(raw.yWhere)[\(i / max(1, width))]"
        }
        if loss.objective.usesLabels {
            guard width == 1 else {
                throw RuntimeError("\(raw.yWhere) has shape \(raw.yShape); loss \(loss.objective.rawValue) expects one integer label per example ([N]); one-hot y needs loss categorical_crossentropy (or crossentropy)")
            }
            for (i, v) in y.enumerated() {
                // Compared as floats: Int(v) of a value past Int's range (1e19, inf) is undefined.
                guard v == v.rounded(), v >= 0, v < Float(outputs) else {
                    throw RuntimeError("\(at(i)): label \(number(v)) is not a class of the model (integers 0..<\(outputs))")
                }
                set.labels[i] = Int32(v)
            }
            return set
        }
        guard width == outputs else {
            throw RuntimeError("\(raw.yWhere) has shape \(raw.yShape): \(width) values per example; loss \(loss.objective.rawValue) on model \(info.name) expects \(outputs) (one per output)")
        }
        try checkTargets(y, objective: loss.objective, at: at)
        set.targets = y; set.targetWidth = width
        for n in 0..<raw.count {
            switch loss.objective {
            case .binary where width == 1: set.labels[n] = y[n] > 0.5 ? 1 : 0
            case .categorical: set.labels[n] = Int32(y.withUnsafeBufferPointer { argmax($0.baseAddress! + n * width, width) })
            default: break
            }
        }
        return set
    }

    static func checkTargets(_ y: [Float], objective: Objective, at: (Int) -> String) throws {
        switch objective {
        case .binary:
            if let i = y.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                throw RuntimeError("\(at(i)): binary target \(number(y[i])) is outside [0, 1]")
            }
        case .categorical:
            if let i = y.firstIndex(where: { !($0 >= 0 && $0.isFinite) }) {
                throw RuntimeError("\(at(i)): one-hot target \(number(y[i])) is not a finite value >= 0")
            }
        default:
            if let i = y.firstIndex(where: { !$0.isFinite }) { throw RuntimeError("\(at(i)): target \(y[i]) is not finite") }
        }
    }

    /// 3 for 3.0, else the value as Swift prints it.
    static func number(_ v: Float) -> String { v == v.rounded() && abs(v) < 1e9 ? "\(Int(v))" : "\(v)" }

    /// Checks target=input against the model's sizes.
    static func checkTargetIsInput(_ info: ModelInfo) throws {
        guard info.classCount == info.inputSize else {
            throw UsageError("target=input needs the model's output to have its input's size: \(info.name) outputs \(info.classCount) values per example, its input has \(info.inputSize)")
        }
    }

    /// The loss of a run on `raw`: config.loss on the model's head, one-hot when y has one
    /// value per output (and the model more than one output).
    public static func loss(_ config: TrainingConfig, info: ModelInfo, raw: Raw?) throws -> Loss {
        let width = raw.map { $0.yShape.dropFirst().reduce(1, *) } ?? 1
        return try runLoss(config, oneHotTargets: raw?.y != nil && width == info.classCount && width > 1)
    }

    /// config.loss on config.head, with the run's target=input.
    public static func runLoss(_ config: TrainingConfig, oneHotTargets: Bool) throws -> Loss {
        if !config.heads.isEmpty { return try Loss(heads: config.heads) }   // each head's own loss
        var l = try Loss(kind: config.loss, head: config.head, oneHotTargets: oneHotTargets)
        l.targetIsInput = config.targetIsInput
        return l
    }
}

extension LabeledImages {
    /// These examples as `loss` reads them: with target=input the inputs are the targets (the
    /// trainer copies each batch's input); a binary loss on one output takes 0/1 labels (an
    /// image dataset's) as targets; every other target loss needs targets from the data.
    public func forLoss(_ loss: Loss, info: ModelInfo) throws -> LabeledImages {
        if loss.targetIsInput { try ArrayData.checkTargetIsInput(info); return self }
        if let heads = loss.heads, targets == nil {
            throw UsageError("model \(info.name) has \(heads.count) outputs (\(heads.map(\.spec.name).joined(separator: ", "))): give --data FILE.npz with x and one target array per output, named after it")
        }
        if loss.objective.usesLabels || targets != nil { return self }
        guard loss.objective == .binary, info.classCount == 1 else {
            throw UsageError("loss \(loss.objective.rawValue) needs targets, one per output (\(info.classCount)); this data has class labels only (give an .npz or .csv with y, or train: target=input)")
        }
        if let i = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw UsageError("binary loss on one output: label \(labels[i]) of example \(i) is not 0 or 1")
        }
        var out = self
        out.targets = labels.map { Float($0) }
        out.targetWidth = 1
        return out
    }
}
