// Losses on the model's outputs (`count x classes`, before any final softmax).
//
// Both return the summed per-image loss (the caller divides by the count for the mean) and,
// when asked, write d(mean loss)/d(outputs), i.e. already divided by the batch size, which is
// what `CompiledModel.backward` expects.

import Foundation

public enum LossKind: String, CaseIterable, Sendable {
    /// Softmax cross-entropy: loss = logsumexp(z) - z_y, computed with the max subtracted.
    case crossentropy
    /// PyTorch MultiMarginLoss (p=1, margin=1): loss = sum_{i != y} max(0, 1 - s_y + s_i) / C.
    case margin
}

public struct Loss: Sendable {
    public let kind: LossKind
    /// Margin loss on a Keras model ending in softmax sees probabilities (as Keras would);
    /// otherwise it sees the raw outputs (as PyTorch would).
    public let marginOnProbabilities: Bool

    public init(kind: LossKind, modelEndsWithSoftmax: Bool) {
        self.kind = kind
        self.marginOnProbabilities = modelEndsWithSoftmax
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
            switch kind {
            case .crossentropy:
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
