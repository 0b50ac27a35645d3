// Tasks beyond single-label classification: the model's head, the objective a `loss` setting
// means on it, and the losses on float targets (one-hot categorical, binary, MSE, MAE).
//
// Keras semantics (keras/src/losses/losses.py, backend/tensorflow/nn.py, Keras 3):
// - every loss is the mean over the output values of an example, then the mean over the batch;
// - binary_crossentropy on probabilities clips them to [eps, 1 - eps], eps = 1e-7 (the
//   clip's gradient is 0 outside that range); on a sigmoid head modelc's outputs are those
//   probabilities (the emitted model applies the sigmoid and its backward multiplies by
//   p(1 - p)), so the gradient reaching the logits is (p - y) / (units * count). Keras's
//   compiled training reads the sigmoid's logits instead (sigmoid_cross_entropy_with_logits):
//   the same loss and gradient until |logit| > 15.9, where the clip holds the loss at -log(1e-7).
// - on a linear head a binary loss takes the outputs as logits (Keras from_logits=True,
//   PyTorch BCEWithLogitsLoss): max(z, 0) - z y + log(1 + exp(-|z|)), gradient sigmoid(z) - y;
// - categorical_crossentropy takes the outputs as logits of a softmax (the final softmax is
//   stripped): sum_k y_k (logsumexp(z) - z_k), gradient p_k sum(y) - y_k;
// - mse: mean (z - y)^2, gradient 2 (z - y); mae: mean |z - y|, gradient sign(z - y) (0 at 0,
//   as TensorFlow's abs).
// Accuracy: argmax against the label (sparse) or the target's argmax (categorical, Keras
// categorical_accuracy); binary: every unit's p > 0.5 against its 0/1 target (Keras
// binary_accuracy), counted per unit; regression has none (its metrics are MSE and MAE).

import Foundation

/// What the model's last layer makes of its values.
public enum OutputHead: String, Sendable {
    /// A final softmax (stripped: the outputs are its logits).
    case softmax
    /// A final sigmoid (kept: the outputs are probabilities).
    case sigmoid
    /// Anything else: the outputs as they are.
    case linear
}

/// What a loss setting means on a head.
public enum Objective: String, Sendable {
    case sparseCategorical = "sparse_categorical_crossentropy"
    case categorical = "categorical_crossentropy"
    case margin
    case binary = "binary_crossentropy"
    case meanSquared = "mse"
    case meanAbsolute = "mae"

    /// Integer class labels per example (else float targets, one per output value).
    public var usesLabels: Bool { self == .sparseCategorical || self == .margin }
    /// Whether the task has an accuracy (regression does not).
    public var hasAccuracy: Bool { self != .meanSquared && self != .meanAbsolute }

    /// Refuses a class objective on a model of one linear output (a PyTorch binary classifier's
    /// logit): a softmax over one value is constant, so nothing would train.
    public func check(outputs: Int, head: OutputHead, loss: LossKind) throws {
        guard outputs == 1, head == .linear, [.sparseCategorical, .categorical, .margin].contains(self) else { return }
        throw UsageError("loss \(loss.rawValue) compares classes, and this model outputs one value (no sigmoid): a softmax over one value "
            + "is constant and nothing trains; use --loss binary_crossentropy (the output as a logit, PyTorch's BCEWithLogitsLoss) or --loss mse")
    }

    /// The objective of `kind` on `head`; `oneHotTargets`: the data's targets are one value
    /// per output (a one-hot y) rather than one label per example.
    public static func resolve(_ kind: LossKind, head: OutputHead, oneHotTargets: Bool) throws -> Objective {
        switch (kind, head) {
        case (.crossentropy, .sigmoid), (.binaryCrossentropy, .sigmoid), (.binaryCrossentropy, .linear):
            return .binary
        case (.binaryCrossentropy, .softmax):
            throw UsageError("loss binary_crossentropy needs a sigmoid head (one unit, or one per label); this model ends in softmax: use crossentropy")
        case (.crossentropy, _): return oneHotTargets ? .categorical : .sparseCategorical
        case (.sparseCategoricalCrossentropy, .sigmoid), (.categoricalCrossentropy, .sigmoid), (.margin, .sigmoid):
            throw UsageError("loss \(kind.rawValue) needs a softmax or linear head; this model ends in sigmoid: use binary_crossentropy (or crossentropy)")
        case (.sparseCategoricalCrossentropy, _): return .sparseCategorical
        case (.categoricalCrossentropy, _): return .categorical
        case (.margin, _): return .margin
        case (.mse, _): return .meanSquared
        case (.mae, _): return .meanAbsolute
        }
    }
}

/// Keras backend epsilon: binary cross-entropy clips probabilities to [eps, 1 - eps].
public let lossEpsilon: Float = 1e-7

extension Loss {
    /// The loss on float `targets` (`count x width`, for the objectives that do not use labels).
    /// Returns (sum of per-example losses, number of correct predictions); `correct` counts
    /// units for a binary objective (`accuracyUnits` per example), examples otherwise, and is 0
    /// for regression. `gradient` (optional, `count x width`) receives d(mean loss)/d(outputs).
    public func evaluate(outputs: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int, width: Int,
                         gradient: UnsafeMutablePointer<Float>?) -> (lossSum: Double, correct: Int) {
        if heads != nil { return evaluateHeads(outputs: outputs, targets: targets, count: count, width: width, gradient: gradient) }
        var lossSum = 0.0
        var correct = 0
        let scale = objective == .categorical ? 1 / Float(count) : 1 / Float(count * width)
        let p = UnsafeMutablePointer<Float>.allocate(capacity: width)
        defer { p.deallocate() }
        for n in 0..<count {
            let z = outputs + n * width, y = targets + n * width
            let g = gradient.map { $0 + n * width }
            switch objective {
            case .categorical:
                lossSum += Double(categorical(z, y, width, p, g, scale))
                if argmax(z, width) == argmax(y, width) { correct += 1 }
            case .binary:
                var l: Float = 0
                for k in 0..<width {
                    let (lk, gk, positive) = head == .sigmoid ? binaryOnProbability(z[k], y[k]) : binaryOnLogit(z[k], y[k])
                    l += lk
                    g?[k] = gk * scale
                    if (positive ? 1 : 0) == y[k] { correct += 1 }
                }
                lossSum += Double(l / Float(width))
            case .meanSquared, .meanAbsolute:
                lossSum += Double(regression(z, y, width, p, g, scale))
            case .sparseCategorical, .margin:
                preconditionFailure("\(objective.rawValue) takes labels, not targets")
            }
        }
        return (lossSum, correct)
    }

    /// MSE or MAE of one example, the mean over its `width` values; `g` (optional) gets
    /// scale x d(sum over the values)/d(outputs) (scale 1/(count x width): the batch mean's gradient). A softmax head's outputs are logits (the emitted model leaves
    /// its final softmax to the loss), so its error is that of the probabilities, as in Keras,
    /// and the gradient goes back through the softmax: dz_i = p_i (dp_i - sum_j dp_j p_j).
    func regression(_ z: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ width: Int,
                    _ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>?, _ scale: Float) -> Float {
        let v = predictions(z, width, scratch: p)
        var l: Float = 0, dot: Float = 0
        for k in 0..<width {
            let d = v[k] - y[k]
            let dv = objective == .meanSquared ? 2 * d * scale : (d > 0 ? 1 : d < 0 ? -1 : 0) * scale
            l += objective == .meanSquared ? d * d : abs(d)
            g?[k] = dv
            dot += dv * v[k]
        }
        if head == .softmax, let g { for k in 0..<width { g[k] = v[k] * (g[k] - dot) } }
        return l / Float(width)
    }

    /// What the model predicts from its outputs `z`: the softmax of a softmax head's logits
    /// (into `scratch`), else the outputs themselves.
    public func predictions(_ z: UnsafePointer<Float>, _ width: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard head == .softmax else { return z }
        softmax(z, into: scratch, width)
        return UnsafePointer(scratch)
    }

    /// Adds the squared and absolute errors of `count` examples' predictions to the sums; an
    /// example's `width` values start at `offset` in rows of `stride` (outputs and targets alike).
    public func addErrors(outputs: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int, width: Int, stride: Int,
                          offset: Int = 0, squared: inout Double, absolute: inout Double) {
        let s = UnsafeMutablePointer<Float>.allocate(capacity: max(1, width))
        defer { s.deallocate() }
        for n in 0..<count {
            let v = predictions(outputs + n * stride + offset, width, scratch: s)
            for j in 0..<width {
                let d = Double(v[j] - targets[n * stride + offset + j])
                squared += d * d; absolute += abs(d)
            }
        }
    }

    /// Values of an example that `correct` counts: the output units for a binary objective.
    public func accuracyUnits(width: Int) -> Int {
        if let h = accuracyHead { return h.loss.accuracyUnits(width: h.spec.width) }
        return objective == .binary ? width : 1
    }

    /// sum_k y_k (logsumexp(z) - z_k); g_k = (p_k sum(y) - y_k) * scale.
    private func categorical(_ z: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ width: Int,
                             _ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>?, _ scale: Float) -> Float {
        var m = z[0]
        for i in 1..<max(1, width) where z[i] > m { m = z[i] }
        var s: Float = 0
        for i in 0..<width { let e = expf(z[i] - m); p[i] = e; s += e }
        let lse = logf(s) + m
        var l: Float = 0, ySum: Float = 0
        for k in 0..<width { l += y[k] * (lse - z[k]); ySum += y[k] }
        if let g = g {
            let inv = 1 / s
            for k in 0..<width { g[k] = (p[k] * inv * ySum - y[k]) * scale }
        }
        return l
    }

    /// On a probability p (a sigmoid head): the clipped loss, d(loss)/dp (0 where clipped) and
    /// the prediction p > 0.5.
    private func binaryOnProbability(_ p: Float, _ y: Float) -> (Float, Float, Bool) {
        let pc = min(max(p, lossEpsilon), 1 - lossEpsilon)
        let l = -(y * logf(pc) + (1 - y) * logf(1 - pc))
        let g: Float = (p < lossEpsilon || p > 1 - lossEpsilon) ? 0 : (pc - y) / (pc * (1 - pc))
        return (l, g, p > 0.5)
    }

    /// On a logit z: max(z, 0) - z y + log(1 + exp(-|z|)), d/dz = sigmoid(z) - y, and z > 0.
    private func binaryOnLogit(_ z: Float, _ y: Float) -> (Float, Float, Bool) {
        let l = max(z, 0) - z * y + log1pf(expf(-abs(z)))
        let s = z >= 0 ? 1 / (1 + expf(-z)) : expf(z) / (1 + expf(z))
        return (l, s - y, z > 0)
    }
}

extension CompiledModel {
    /// The model's head: a final softmax (stripped), a final sigmoid, or neither.
    public static var head: OutputHead { endsWithSoftmax ? .softmax : endsWithSigmoid ? .sigmoid : .linear }
}
