// Models with several output heads (issue 17; the compiler's IR/ModelHeads.swift and
// Passes/MultiHeadJoin.swift).
//
// The emitted model's output is every head's values side by side, head after head
// (`OutputHeadSpec.offset`, `.width`); its `heads` says where each one is, what its last
// layer does and which loss it takes with which weight. Here:
// - the loss: each head's own loss on its slice (crossentropy on a softmax head is categorical
//   on its logits, on a sigmoid head binary; mse, mae, ...), and the training loss is
//   sum_h weight_h * loss_h (Keras loss_weights), its gradient weight_h times each head's;
// - the data: an .npz with `x` and one target array per head, named after the head's layer
//   (`x_test` and `<head>_test` for the test split). A crossentropy head on a softmax takes
//   integer labels [N] or one-hot targets [N, width]; every other head [N, ...] with its
//   width per example. A missing array or a wrong shape is an error naming the file, the
//   array and what the head expects;
// - the metrics: `eval` reports each head's loss and metric (accuracy, or mse and mae);
//   the training progress's accuracy is the first head that has one.

import Foundation
import ModelcData

/// One output head of a compiled model with several.
public struct OutputHeadSpec: Sendable, Equatable {
    public let name: String
    /// The head's first value in each example's output, and its count.
    public let offset: Int
    public let width: Int
    public let head: OutputHead
    /// A LossKind name.
    public let loss: String
    /// The head's weight in the training loss.
    public let weight: Float
    public init(name: String, offset: Int, width: Int, head: OutputHead, loss: String, weight: Float) {
        self.name = name; self.offset = offset; self.width = width; self.head = head; self.loss = loss; self.weight = weight
    }
}

extension CompiledModel {
    public static var heads: [OutputHeadSpec] { [] }

    /// `--loss` sets one output's loss: refused for a model with several heads (each has its own).
    package static func checkNoRunLoss(_ f: CommandLineFlags) throws {
        guard !heads.isEmpty, f.string("loss") != nil else { return }
        throw UsageError("\(f.command): --loss sets the loss of a model's one output; \(info.name) has \(heads.count) outputs, each with its own loss (\(heads.map { "\($0.name): \($0.loss)" }.joined(separator: ", ")); annotate `head NAME: loss=KIND weight=W` in the model file)")
    }
}

/// One head's loss on its slice of the outputs.
public struct HeadLoss: Sendable {
    public let spec: OutputHeadSpec
    public let loss: Loss

    /// The head's loss kind on its head; labels become one-hot targets (the same loss).
    init(_ spec: OutputHeadSpec) throws {
        guard let kind = LossKind(name: spec.loss) else {
            throw UsageError("output head \(spec.name): unknown loss '\(spec.loss)' (expected one of \(LossKind.namesList))")
        }
        var objective: Objective
        do { objective = try Objective.resolve(kind, head: spec.head, oneHotTargets: true) } catch let e as UsageError {
            throw UsageError("output head \(spec.name): \(e.message)")
        }
        if objective == .sparseCategorical { objective = .categorical }
        guard objective != .margin else { throw UsageError("output head \(spec.name): loss margin is not available on one of several heads") }
        self.spec = spec
        loss = Loss(kind: kind, head: spec.head, objective: objective)
    }

    package var describe: String { "\(spec.name) (\(spec.head.rawValue), \(loss.objective.rawValue), weight \(spec.weight))" }
}

extension Loss {
    /// The weighted sum of the heads' losses. Its own objective only routes the trainer and the
    /// evaluator to targets (categorical when some head has an accuracy, else regression).
    public init(heads specs: [OutputHeadSpec]) throws {
        let hs = try specs.map(HeadLoss.init)
        self.init(kind: .crossentropy, head: .linear, objective: hs.contains { $0.loss.objective.hasAccuracy } ? .categorical : .meanSquared)
        heads = hs
    }

    /// The head whose accuracy the training progress reports.
    package var accuracyHead: HeadLoss? { heads?.first { $0.loss.objective.hasAccuracy } }

    /// Each head's (unweighted) loss sum and correct count on `outputs` (`count x width`, the
    /// heads side by side) against `targets` of the same layout; `gradient` receives the
    /// weighted sum's gradient.
    public func headResults(outputs: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int, width: Int,
                            gradient: UnsafeMutablePointer<Float>?) -> [(lossSum: Double, correct: Int)] {
        guard let heads else { return [] }
        var out: [(lossSum: Double, correct: Int)] = []
        // One scratch for every head: its outputs, targets and gradient, contiguous.
        let widest = heads.map(\.spec.width).max() ?? 1
        let z = UnsafeMutablePointer<Float>.allocate(capacity: 3 * max(1, count * widest))
        defer { z.deallocate() }
        for h in heads {
            let w = h.spec.width, o = h.spec.offset
            let y = z + count * w, g = y + count * w
            for n in 0..<count {
                for k in 0..<w { z[n * w + k] = outputs[n * width + o + k]; y[n * w + k] = targets[n * width + o + k] }
            }
            out.append(h.loss.evaluate(outputs: z, targets: y, count: count, width: w, gradient: gradient == nil ? nil : g))
            if let gradient {
                for n in 0..<count { for k in 0..<w { gradient[n * width + o + k] = h.spec.weight * g[n * w + k] } }
            }
        }
        return out
    }

    /// The weighted sum of the heads' loss sums, and the accuracy head's correct count.
    func evaluateHeads(outputs: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int, width: Int,
                       gradient: UnsafeMutablePointer<Float>?) -> (lossSum: Double, correct: Int) {
        let r = headResults(outputs: outputs, targets: targets, count: count, width: width, gradient: gradient)
        let sum = zip(heads ?? [], r).reduce(0.0) { $0 + Double($1.0.spec.weight) * $1.1.lossSum }
        let k = heads?.firstIndex { $0.loss.objective.hasAccuracy }
        return (sum, k.map { r[$0].correct } ?? 0)
    }
}

extension ArrayData {
    /// The `split` of an .npz for a model with several heads: `x` as for one head, y the
    /// heads' targets side by side (labels as one-hot rows), each array checked against its head.
    static func readHeads(_ path: String, split: DatasetSplit, info: ModelInfo, heads: [OutputHeadSpec]) throws -> Raw {
        guard path.lowercased().hasSuffix(".npz") else {
            throw RuntimeError(file: path, "model \(info.name) has \(heads.count) outputs (\(heads.map(\.name).joined(separator: ", "))): its data is an .npz with x and one target array per output, named after the output layer")
        }
        let arrays = try NPZ.read(path: path)
        var raw = try readNPZ(path, arrays, split: split, info: info)
        let test = split == .test && InputArrays.hasTestSplit(arrays.keys, info: info)
        let losses = try heads.map(HeadLoss.init)
        let n = raw.count, total = heads.map { $0.offset + $0.width }.max() ?? 0
        guard n <= maxValues / max(1, total) else { throw RuntimeError(file: path, "\(n) examples of \(total) target values; at most \(maxValues) values are read") }
        var y = [Float](repeating: 0, count: n * total)
        for h in losses {
            let name = test ? "\(h.spec.name)_test" : h.spec.name
            let labels = h.loss.objective == .categorical && h.spec.width > 1
            let expected = "[\(n), \(h.spec.width)] targets" + (labels ? " or [\(n)] integer labels 0..<\(h.spec.width)" : "")
            guard let a = arrays[name] else {
                throw RuntimeError(file: path, "no array '\(name)' for output \(h.describe) (found \(arrays.keys.sorted().joined(separator: ", "))); expected one target array per output, named after it: \(heads.map { test ? "\($0.name)_test" : $0.name }.joined(separator: ", "))")
            }
            let per = a.shape.dropFirst().reduce(1, *)
            guard a.shape.first == n, per == h.spec.width || (labels && per == 1) else {
                throw RuntimeError(file: path, "array \(name) has shape \(a.shape); output \(h.describe) expects \(expected) for the \(n) examples of x")
            }
            let v = try arrayValues(a, path, name)
            func at(_ i: Int) -> String { "\(path) array \(name)[\(i / max(1, per))]" }
            if per == h.spec.width {
                try checkTargets(v, objective: h.loss.objective, at: at)
                for i in 0..<n { for k in 0..<per { y[i * total + h.spec.offset + k] = v[i * per + k] } }
                continue
            }
            for (i, c) in v.enumerated() {
                guard c == c.rounded(), c >= 0, c < Float(h.spec.width) else {   // as floats: Int(1e19) is undefined
                    throw RuntimeError("\(at(i)): label \(number(c)) is not a class of output \(h.spec.name) (integers 0..<\(h.spec.width))")
                }
                y[i * total + h.spec.offset + Int(c)] = 1
            }
        }
        raw.y = y; raw.yShape = [n, total]; raw.yIntegral = false
        raw.yWhere = "\(path) arrays \(heads.map(\.name).joined(separator: ", "))"
        return raw
    }
}

/// `eval` of a model with several heads: each head's metrics, and the weighted total.
public enum HeadEvaluation {
    public static func run<M: CompiledModel>(_ model: M, images: LabeledImages, loss: Loss, batch: Int) -> (total: TaskMetrics, heads: [TaskMetrics]) {
        let heads = loss.heads ?? []
        let width = M.info.classCount, b = max(1, min(batch, model.maxBatch))
        let input = UnsafeMutablePointer<Float>.allocate(capacity: b * M.info.inputSize)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: b)
        let targets = UnsafeMutablePointer<Float>.allocate(capacity: b * width)
        defer { input.deallocate(); labels.deallocate(); targets.deallocate() }
        var sums = [(loss: Double, correct: Int, squared: Double, absolute: Double)](repeating: (0, 0, 0, 0), count: heads.count)
        let all = Array(0..<images.count)
        var lo = 0
        while lo < images.count {
            let hi = min(images.count, lo + b), n = hi - lo
            images.fillBatch(all[lo..<hi], input: input, labels: labels, targets: targets, scale: M.info.inputScale,
                             offset: M.info.inputOffset, augmentation: nil, seed: 0, step: 0)
            let out = model.forward(input, count: n, training: false, seed: 0)
            let r = loss.headResults(outputs: out, targets: targets, count: n, width: width, gradient: nil)
            for (k, h) in heads.enumerated() {
                sums[k].loss += r[k].lossSum; sums[k].correct += r[k].correct
                var (squared, absolute) = (sums[k].squared, sums[k].absolute)
                h.loss.addErrors(outputs: out, targets: targets, count: n, width: h.spec.width, stride: width, offset: h.spec.offset,
                                 squared: &squared, absolute: &absolute)
                (sums[k].squared, sums[k].absolute) = (squared, absolute)
            }
            lo = hi
        }
        let c = images.count
        let perHead = zip(heads, sums).map { h, s in
            TaskMetrics(task: TaskMetrics.task(h.loss, outputs: h.spec.width), count: c, lossSum: s.loss, correct: s.correct,
                        units: h.loss.accuracyUnits(width: h.spec.width), squaredErrorSum: s.squared, absoluteErrorSum: s.absolute,
                        values: c * h.spec.width, classification: nil)
        }
        let first = heads.firstIndex { $0.loss.objective.hasAccuracy }
        let total = TaskMetrics(task: first.map { perHead[$0].task } ?? .regression, count: c,
                                lossSum: zip(heads, sums).reduce(0.0) { $0 + Double($1.0.spec.weight) * $1.1.loss },
                                correct: first.map { perHead[$0].correct } ?? 0, units: first.map { perHead[$0].units } ?? 1,
                                squaredErrorSum: 0, absoluteErrorSum: 0, values: 0, classification: nil)
        return (total, perHead)
    }

    /// The text `eval` prints: the weighted loss, then one line per head.
    public static func text(_ r: (total: TaskMetrics, heads: [TaskMetrics]), loss: Loss, title: String) -> String {
        var lines = [title, String(format: "loss %.4f (the weighted sum of the heads' losses)", r.total.loss)]
        for (h, m) in zip(loss.heads ?? [], r.heads) { lines.append("head \(h.describe): \(m.line)") }
        return lines.joined(separator: "\n")
    }

    package static func json(_ r: (total: TaskMetrics, heads: [TaskMetrics]), loss: Loss, extra: [(String, String)] = []) -> String {
        let heads = zip(loss.heads ?? [], r.heads).map { h, m in
            JSON.object([("name", JSON.string(h.spec.name)), ("weight", JSON.number(Double(h.spec.weight)))] + m.jsonFields)
        }
        return JSON.object([("loss", JSON.number(r.total.loss)), ("count", "\(r.total.count)"), ("heads", JSON.array(heads))] + extra)
    }
}
