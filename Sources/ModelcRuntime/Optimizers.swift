// Optimizers on the model's flat parameter buffer, with Keras 3 update formulas (PyTorch-semantics
// models: torch.optim's forms of Adam, RMSprop and SGD momentum, `torchForms`).
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
    /// torch.optim's forms (PyTorch models): Adam adds epsilon to sqrt of the bias-corrected v,
    /// RMSprop to sqrt(v), and SGD's momentum buffer holds gradients (v = mu v + g; w -= lr v),
    /// not steps; Keras adds epsilon to sqrt(v) before Adam's bias correction of the step and
    /// inside RMSprop's square root, and its momentum holds steps (m = mu m - lr g; w += m). The
    /// momentum forms agree at a constant learning rate and differ after a schedule changes it.
    public var torchForms = false
    /// Keras adds the L2 penalty to the loss it reports (training and validation); torch.optim's
    /// weight_decay is in no loss.
    public var lossIncludesPenalty: Bool { l2GradientScale == 2 }
    public init(kind: OptimizerKind) { self.kind = kind }
}

public final class Optimizer {
    public let settings: OptimizerSettings
    /// (offset, count, decays) of every trainable tensor.
    public let ranges: [(offset: Int, count: Int, decays: Bool)]
    public let parameterCount: Int
    /// `settings.kind.slotCount` buffers of `parameterCount` floats (owned).
    public let slots: [UnsafeMutablePointer<Float>]
    /// The trainable ranges as (offset, count), for `Parallel.forEachSegment`.
    private let segments: [(offset: Int, count: Int)]
    /// Number of updates applied so far (Keras `iterations`).
    public var iterations: Int = 0

    public init(settings: OptimizerSettings, tensors: [TensorSpec], parameterCount: Int) {
        self.settings = settings
        self.parameterCount = parameterCount
        self.ranges = tensors.filter { $0.trainable }.map { ($0.offset, $0.count, $0.decays) }
        self.segments = ranges.map { ($0.offset, $0.count) }
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
        s.torchForms = info.semantics == "pytorch"
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

    /// The L2 penalty as the framework reports it with the loss: Keras's (l2Penalty), torch's none.
    public func reportedPenalty(_ w: UnsafePointer<Float>) -> Double { settings.lossIncludesPenalty ? l2Penalty(w) : 0 }

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
    /// Element-wise, so the trainable elements are split over `Parallel.threads` and each part
    /// runs 16 lanes at a time; every element sees the same operations in the same order as
    /// the scalar formulas in `update`, whatever the split (results do not depend on threads).
    public func step(parameters w: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>, lr: Float) {
        iterations += 1
        let c = StepConstants(settings, lr: lr, t: Float(iterations))
        let m: UnsafeMutablePointer<Float>? = slots.count > 0 ? slots[0] : nil
        let v: UnsafeMutablePointer<Float>? = slots.count > 1 ? slots[1] : nil
        let kind = settings.kind
        Parallel.forEachSegment(of: segments, minimumPerPart: 16_384) { r, lo, hi in
            let decays = ranges[r].decays
            lanes(lo, hi, w, g, m, v) { w, g, m, v in
                Optimizer.update(kind, c, decays: decays, w: &w, g: &g, m: &m, v: &v)
            }
        }
    }

    /// Per-step scalars of the update formulas.
    struct StepConstants {
        var lr, l2, decoupled, alpha, b1c, b2c, mu, rho, rmsRho, eps: Float
        /// Adam's epsilon as the step adds it to sqrt(v); RMSprop's epsilon outside its square
        /// root and SGD's momentum buffer of gradients (torch.optim's forms).
        var adamEps: Float, torchForms: Bool
        init(_ s: OptimizerSettings, lr: Float, t: Float) {
            self.lr = lr
            let wd = s.weightDecay
            // Keras kernel_regularizer l2(wd): grad += 2 * wd * w (PyTorch weight_decay: wd * w)
            l2 = (wd != 0 && s.kind != .adamw) ? s.l2GradientScale * wd : 0
            decoupled = (s.kind == .adamw) ? lr * wd : 0
            // alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)
            alpha = lr * (1 - powf(s.beta2, t)).squareRoot() / (1 - powf(s.beta1, t))
            b1c = 1 - s.beta1; b2c = 1 - s.beta2
            mu = s.momentum; rho = s.rho; rmsRho = s.rmsRho; eps = s.epsilon
            // torch: m_hat / (sqrt(v_hat) + eps) = alpha * m / (sqrt(v) + eps * sqrt(1 - b2^t))
            adamEps = s.torchForms ? eps * (1 - powf(s.beta2, t)).squareRoot() : eps
            torchForms = s.torchForms
        }
    }

    /// The update of one element (16 lanes): Keras 3 formulas (torch's epsilons where `c` says).
    @inline(__always)
    static func update(_ kind: OptimizerKind, _ c: StepConstants, decays: Bool,
                       w: inout SIMD16<Float>, g: inout SIMD16<Float>, m: inout SIMD16<Float>, v: inout SIMD16<Float>) {
        if decays && c.l2 != 0 { g += c.l2 * w }
        switch kind {
        case .sgd:
            // w -= lr * g
            w -= c.lr * g
        case .momentum:
            // m = momentum * m - lr * g;  w += m   (torch: v = momentum * v + g;  w -= lr * v)
            if c.torchForms { m = c.mu * m + g; w -= c.lr * m } else { m = c.mu * m - c.lr * g; w += m }
        case .nesterov:
            // m = momentum * m - lr * g;  w += momentum * m - lr * g   (torch: v = momentum * v + g;  w -= lr * (g + momentum * v))
            if c.torchForms { m = c.mu * m + g; w -= c.lr * (g + c.mu * m) } else { m = c.mu * m - c.lr * g; w += c.mu * m - c.lr * g }
        case .adam, .adamw:
            // (AdamW first: w -= lr * wd * w)
            // m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2);  w -= alpha * m / (sqrt(v) + eps)
            if c.decoupled != 0 { w -= w * c.decoupled }
            m += (g - m) * c.b1c
            v += (g * g - v) * c.b2c
            w -= c.alpha * m / (v.squareRoot() + c.adamEps)
        case .rmsprop:
            // v = rho * v + (1 - rho) g^2;  w -= lr * g / sqrt(v + eps)   (state in slot 0)
            // (torch: w -= lr * g / (sqrt(v) + eps))
            m = c.rmsRho * m + (1 - c.rmsRho) * g * g
            w -= c.lr * g / (c.torchForms ? m.squareRoot() + c.eps : (m + c.eps).squareRoot())
        case .adadelta:
            // a = rho a + (1 - rho) g^2;  d = -sqrt(D + eps) / sqrt(a + eps) * g
            // D = rho D + (1 - rho) d^2;  w += lr * d
            m = c.rho * m + (1 - c.rho) * g * g
            let d = -(v + c.eps).squareRoot() / (m + c.eps).squareRoot() * g
            v = c.rho * v + (1 - c.rho) * d * d
            w += c.lr * d
        }
    }
}

/// Runs `f` on elements lo..<hi of up to four streams, 16 lanes at a time; the tail (< 16)
/// runs the same code on a zero-padded copy. Absent streams (nil) read as zeros and are not stored.
@inline(__always)
func lanes(_ lo: Int, _ hi: Int, _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
           _ c: UnsafeMutablePointer<Float>?, _ d: UnsafeMutablePointer<Float>?,
           _ f: (inout SIMD16<Float>, inout SIMD16<Float>, inout SIMD16<Float>, inout SIMD16<Float>) -> Void) {
    typealias V = SIMD16<Float>
    @inline(__always) func load(_ p: UnsafeMutablePointer<Float>?, _ i: Int) -> V {
        guard let p = p else { return V() }
        return UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>?, _ i: Int, _ x: V) {
        if let p = p { UnsafeMutableRawPointer(p + i).storeBytes(of: x, as: V.self) }
    }
    var i = lo
    while hi - i >= 16 {
        var x = load(a, i), y = load(b, i), z = load(c, i), u = load(d, i)
        f(&x, &y, &z, &u)
        store(a, i, x); store(b, i, y); store(c, i, z); store(d, i, u)
        i += 16
    }
    let n = hi - i
    guard n > 0 else { return }
    var x = V(), y = V(), z = V(), u = V()
    for j in 0..<n {
        x[j] = a[i + j]; y[j] = b[i + j]
        if let c = c { z[j] = c[i + j] }
        if let d = d { u[j] = d[i + j] }
    }
    f(&x, &y, &z, &u)
    for j in 0..<n {
        a[i + j] = x[j]; b[i + j] = y[j]
        if let c = c { c[i + j] = z[j] }
        if let d = d { d[i + j] = u[j] }
    }
}
