// Losses on the model's outputs (`count x width`, before any final softmax; a final sigmoid is
// part of the outputs).
//
// Each returns the summed per-example loss (the caller divides by the count for the mean) and,
// when asked, writes d(mean loss)/d(outputs), i.e. already divided by the batch size, which is
// what `CompiledModel.backward` expects. Which loss a run uses is resolved from the `loss`
// setting and the model's head (TaskLosses.swift): `crossentropy` is the cross-entropy that
// fits the head (sparse or one-hot categorical on a softmax or linear head, binary on a sigmoid
// head).

import Foundation

public enum LossKind: String, CaseIterable, Sendable {
    /// The cross-entropy of the head: softmax (labels: sparse; one-hot targets: categorical),
    /// sigmoid (binary). On a softmax head: loss = logsumexp(z) - z_y, with the max subtracted.
    case crossentropy
    /// PyTorch MultiMarginLoss (p=1, margin=1): loss = sum_{i != y} max(0, 1 - s_y + s_i) / C.
    case margin
    /// Keras binary_crossentropy, one or several independent units (multi-label).
    case binaryCrossentropy = "binary_crossentropy"
    /// Keras categorical_crossentropy: one-hot (or soft) targets, softmax over the outputs.
    case categoricalCrossentropy = "categorical_crossentropy"
    /// Keras sparse_categorical_crossentropy: integer labels, softmax over the outputs.
    case sparseCategoricalCrossentropy = "sparse_categorical_crossentropy"
    /// Mean squared and mean absolute error over the output values (regression, autoencoders).
    case mse
    case mae

    /// The kind named `name`, also under its Keras aliases (bce, mean_squared_error, ...).
    public init?(name: String) {
        let aliases = ["bce": "binary_crossentropy", "mean_squared_error": "mse", "mean_absolute_error": "mae",
                       "sparse_crossentropy": "sparse_categorical_crossentropy", "categorical": "categorical_crossentropy"]
        self.init(rawValue: aliases[name] ?? name)
    }

    public static var namesList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

public struct Loss: Sendable {
    public let kind: LossKind
    /// Margin loss on a Keras model ending in softmax sees probabilities (as Keras would);
    /// otherwise it sees the raw outputs (as PyTorch would).
    public let marginOnProbabilities: Bool
    /// What the model's last layer does, and the objective `kind` means on it.
    public let head: OutputHead
    public let objective: Objective
    /// The targets are the inputs (`train: target=input`): trainers copy each batch's input.
    public var targetIsInput = false
    /// A model with several output heads: each head's loss, summed with its weight (OutputHeads.swift).
    public var heads: [HeadLoss]? = nil

    /// The crossentropy and margin losses of a classifier (labels): softmax or linear head.
    public init(kind: LossKind, modelEndsWithSoftmax: Bool) {
        let head: OutputHead = modelEndsWithSoftmax ? .softmax : .linear
        self.init(kind: kind, head: head, objective: (try? Objective.resolve(kind, head: head, oneHotTargets: false)) ?? .sparseCategorical)
    }

    /// `kind` on `head`; throws when they do not fit (binary cross-entropy on a softmax head).
    public init(kind: LossKind, head: OutputHead, oneHotTargets: Bool) throws {
        self.init(kind: kind, head: head, objective: try Objective.resolve(kind, head: head, oneHotTargets: oneHotTargets))
    }

    init(kind: LossKind, head: OutputHead, objective: Objective) {
        self.kind = kind
        self.marginOnProbabilities = head == .softmax
        self.head = head
        self.objective = objective
    }

    /// Returns (sum of per-image losses, number of correct argmax predictions).
    /// `gradient` (optional, `count x classes`) receives d(mean loss)/d(outputs).
    public func evaluate(outputs: UnsafePointer<Float>, labels: UnsafePointer<Int32>, count: Int, classes: Int,
                         gradient: UnsafeMutablePointer<Float>?) -> (lossSum: Double, correct: Int) {
        var lossSum = 0.0
        var correct = 0
        let invCount = 1 / Float(count)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * classes)
        defer { scratch.deallocate() }
        let ds = scratch + classes                 // margin loss: d(loss)/d(scores) of one image
        for n in 0..<count {
            let z = outputs + n * classes      // [classes]
            let y = Int(labels[n])
            if argmax(z, classes) == y { correct += 1 }
            switch objective {
            case .sparseCategorical, .categorical, .binary, .meanSquared, .meanAbsolute:
                // loss = log(sum exp(z - m)) - (z_y - m);  dz_i = (softmax_i - [i == y]) / count
                var m = z[0]
                for i in 1..<classes where z[i] > m { m = z[i] }
                var s: Float = 0
                for i in 0..<classes { let e = expf(z[i] - m); scratch[i] = e; s += e }
                lossSum += Double(logf(s) - (z[y] - m))
                if let g = gradient {
                    let inv = 1 / s
                    for i in 0..<classes { g[n * classes + i] = (scratch[i] * inv - (i == y ? 1 : 0)) * invCount }
                }
            case .margin:
                // s = outputs (or softmax(outputs)); loss = sum_{i != y} max(0, 1 - s_y + s_i) / C
                if marginOnProbabilities { softmax(z, into: scratch, classes) }
                else { for i in 0..<classes { scratch[i] = z[i] } }
                var l: Float = 0
                var activeCount: Float = 0
                let invC = 1 / Float(classes)
                // ds_i = [margin_i > 0] / C for i != y; ds_y = -(number of active i) / C
                for i in 0..<classes { ds[i] = 0 }
                for i in 0..<classes where i != y {
                    let margin = 1 - scratch[y] + scratch[i]
                    if margin > 0 {
                        l += margin
                        activeCount += 1
                        ds[i] = invC
                    }
                }
                lossSum += Double(l * invC)
                if let g = gradient {
                    ds[y] = -activeCount * invC
                    if marginOnProbabilities {
                        // through softmax: dz_i = p_i * (ds_i - sum_j ds_j p_j)
                        var dot: Float = 0
                        for j in 0..<classes { dot += ds[j] * scratch[j] }
                        for i in 0..<classes { g[n * classes + i] = scratch[i] * (ds[i] - dot) * invCount }
                    } else {
                        for i in 0..<classes { g[n * classes + i] = ds[i] * invCount }
                    }
                }
            }
        }
        return (lossSum, correct)
    }
}

/// Index of the largest value (the first one on ties).
@inline(__always)
public func argmax(_ z: UnsafePointer<Float>, _ n: Int) -> Int {
    var best = 0
    for i in 1..<max(1, n) where z[i] > z[best] { best = i }
    return best
}

/// Numerically stable softmax of `n` values.
public func softmax(_ z: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, _ n: Int) {
    var m = z[0]
    for i in 1..<max(1, n) where z[i] > m { m = z[i] }
    var s: Float = 0
    for i in 0..<n { let e = expf(z[i] - m); p[i] = e; s += e }
    let inv = 1 / s
    for i in 0..<n { p[i] *= inv }
}
