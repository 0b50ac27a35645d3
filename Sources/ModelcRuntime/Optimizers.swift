// Optimizers on the model's flat parameter buffer, with Keras 3 update formulas.
//
// Only trainable tensors are touched (BatchNorm moving statistics are not). L2 weight decay is
// Keras kernel_regularizer style: the loss gains wd * sum(w^2) over tensors with `decays`, so
// their gradient gains 2 * wd * w before the update. PyTorch-semantics models use torch.optim's
// `weight_decay` instead: grad += wd * w (the loss gains wd/2 * sum(w^2)); see `l2GradientScale`.
// AdamW instead decays decoupled from the gradient: w -= lr * wd * w, then the Adam step, on every
// trainable tensor, biases and BatchNorm included (Keras 3 and torch.optim.AdamW defaults).
// State ("slots") has the same layout as the parameter buffer so checkpoints can store it flat.

import Foundation

public enum OptimizerKind: String, CaseIterable, Sendable {
    case sgd, momentum, nesterov, adam, adamw, rmsprop, adadelta

    /// Number of per-parameter state buffers.
    public var slotCount: Int {
        switch self {
        case .sgd: return 0
        case .momentum, .nesterov, .rmsprop: return 1
        case .adam, .adamw, .adadelta: return 2
        }
    }
}

public struct OptimizerSettings: Sendable, Equatable {
    public var kind: OptimizerKind
    public var momentum: Float = 0.9
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7
    public var rho: Float = 0.95       // Adadelta
    public var rmsRho: Float = 0.9     // RMSprop
    public var weightDecay: Float = 0
    /// grad += l2GradientScale * wd * w: 2 for Keras l2(wd), 1 for torch.optim weight_decay.
    public var l2GradientScale: Float = 2
    public init(kind: OptimizerKind) { self.kind = kind }
}

public final class Optimizer {
    public let settings: OptimizerSettings
    /// (offset, count, decays) of every trainable tensor.
    public let ranges: [(offset: Int, count: Int, decays: Bool)]
    public let parameterCount: Int
    /// `settings.kind.slotCount` buffers of `parameterCount` floats (owned).
    public let slots: [UnsafeMutablePointer<Float>]
    /// Number of updates applied so far (Keras `iterations`).
    public var iterations: Int = 0

    public init(settings: OptimizerSettings, tensors: [TensorSpec], parameterCount: Int) {
        self.settings = settings
        self.parameterCount = parameterCount
        self.ranges = tensors.filter { $0.trainable }.map { ($0.offset, $0.count, $0.decays) }
        self.slots = (0..<settings.kind.slotCount).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, parameterCount))
            p.initialize(repeating: 0, count: max(1, parameterCount))
            return p
        }
    }

    /// The optimizer for a compiled model: weight decay follows the model's framework semantics.
    public convenience init(settings: OptimizerSettings, info: ModelInfo) {
        var s = settings
        s.l2GradientScale = info.semantics == "pytorch" ? 1 : 2
        self.init(settings: s, tensors: info.tensors, parameterCount: info.parameterCount)
    }

    deinit { for p in slots { p.deallocate() } }

    /// Copies of the state buffers (for checkpoints).
    public func slotArrays() -> [[Float]] {
        slots.map { Array(UnsafeBufferPointer(start: $0, count: parameterCount)) }
    }

    /// Restores state buffers saved by `slotArrays()`.
    public func restore(slots saved: [[Float]], iterations: Int) throws {
        guard saved.count == slots.count, saved.allSatisfy({ $0.count == parameterCount }) else {
            throw RuntimeError("optimizer state has \(saved.count) buffers of \(saved.first?.count ?? 0) floats; \(settings.kind.rawValue) needs \(slots.count) of \(parameterCount)")
        }
        for (p, a) in zip(slots, saved) { for i in 0..<parameterCount { p[i] = a[i] } }
        self.iterations = iterations
    }

    /// L2 penalty wd * sum(w^2) over decaying tensors (added to the reported training loss).
    public func l2Penalty(_ w: UnsafePointer<Float>) -> Double {
        let wd = settings.weightDecay
        guard wd != 0, settings.kind != .adamw else { return 0 }
        var s = 0.0
        for r in ranges where r.decays {
            var t: Float = 0
            for i in r.offset..<(r.offset + r.count) { t += w[i] * w[i] }
            s += Double(t)
        }
        return Double(wd * settings.l2GradientScale / 2) * s
    }

    /// Applies one update with learning rate `lr` using `g` (overwritten only by L2 decay).
    public func step(parameters w: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>, lr: Float) {
        let s = settings
        let wd = s.weightDecay
        if wd != 0 && s.kind != .adamw {
            // Keras kernel_regularizer l2(wd): grad += 2 * wd * w (PyTorch weight_decay: wd * w)
            let k = s.l2GradientScale * wd
            for r in ranges where r.decays {
                for i in r.offset..<(r.offset + r.count) { g[i] += k * w[i] }
            }
        }
        iterations += 1
        let t = Float(iterations)
        do {
            let m: UnsafeMutablePointer<Float>? = slots.count > 0 ? slots[0] : nil
            let v: UnsafeMutablePointer<Float>? = slots.count > 1 ? slots[1] : nil
            for r in ranges {
                let lo = r.offset, hi = r.offset + r.count
                switch s.kind {
                case .sgd:
                    // w -= lr * g
                    for i in lo..<hi { w[i] -= lr * g[i] }
                case .momentum:
                    // m = momentum * m - lr * g;  w += m
                    let mu = s.momentum, m = m!
                    for i in lo..<hi { m[i] = mu * m[i] - lr * g[i]; w[i] += m[i] }
                case .nesterov:
                    // m = momentum * m - lr * g;  w += momentum * m - lr * g
                    let mu = s.momentum, m = m!
                    for i in lo..<hi { m[i] = mu * m[i] - lr * g[i]; w[i] += mu * m[i] - lr * g[i] }
                case .adam, .adamw:
                    // alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)
                    // m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2);  w -= alpha * m / (sqrt(v) + eps)
                    if s.kind == .adamw && wd != 0 {
                        let k = lr * wd
                        for i in lo..<hi { w[i] -= w[i] * k }
                    }
                    let b1 = s.beta1, b2 = s.beta2, eps = s.epsilon
                    let alpha = lr * (1 - powf(b2, t)).squareRoot() / (1 - powf(b1, t))
                    let m = m!, v = v!
                    let c1 = 1 - b1, c2 = 1 - b2
                    for i in lo..<hi {
                        let gi = g[i]
                        m[i] += (gi - m[i]) * c1
                        v[i] += (gi * gi - v[i]) * c2
                        w[i] -= alpha * m[i] / (v[i].squareRoot() + eps)
                    }
                case .rmsprop:
                    // v = rho * v + (1 - rho) g^2;  w -= lr * g / sqrt(v + eps)
                    let rho = s.rmsRho, eps = s.epsilon, m = m!
                    for i in lo..<hi {
                        let gi = g[i]
                        m[i] = rho * m[i] + (1 - rho) * gi * gi
                        w[i] -= lr * gi / (m[i] + eps).squareRoot()
                    }
                case .adadelta:
                    // a = rho a + (1 - rho) g^2;  d = -sqrt(D + eps) / sqrt(a + eps) * g
                    // D = rho D + (1 - rho) d^2;  w += lr * d
                    let rho = s.rho, eps = s.epsilon, a = m!, dd = v!
                    for i in lo..<hi {
                        let gi = g[i]
                        a[i] = rho * a[i] + (1 - rho) * gi * gi
                        let d = -(dd[i] + eps).squareRoot() / (a[i] + eps).squareRoot() * gi
                        dd[i] = rho * dd[i] + (1 - rho) * d * d
                        w[i] += lr * d
                    }
                }
            }
        }
    }
}
