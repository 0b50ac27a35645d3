// Normalization layers without batch statistics (issue 17): Keras LayerNormalization and
// GroupNormalization, PyTorch nn.LayerNorm and nn.GroupNorm, and Keras's preprocessing
// Normalization (fixed per-channel mean and variance). Rescaling is `.lambda(.affine)` with
// kind "Rescaling" (no tensors).
//
// Every form normalizes each image on its own, in training and at inference alike:
//   lastAxis     each position's C values of [.., C] (Keras axis=-1; nn.LayerNorm(C) on a
//                vector); gamma, beta [C]
//   wholeSample  all values of the image (Keras axis=[1, 2, 3]; nn.LayerNorm([C, H, W]));
//                gamma, beta with the image's shape (elementwise affine; PyTorch [C, H, W])
//   groups(G)    the C channels in G groups, each over its C/G channels at every position
//                (nn.GroupNorm(G, C), Keras GroupNormalization); gamma, beta [C]
//     y = (x - mean) / sqrt(var + eps) * gamma + beta, var the population variance
//   fixed        Keras Normalization: y = (x - mean) / max(sqrt(variance), 1e-7) per channel
//                (the last axis), mean, variance [C] and count [] not trainable (Keras 3
//                counts 2C + 1), loaded from a weights file (an un-adapted layer: mean 0,
//                variance 1)
// Defaults: Keras epsilon 1e-3, PyTorch eps 1e-5.

public struct NormAttrs: Equatable, Codable, Sendable {
    public enum Form: Equatable, Codable, Sendable {
        case lastAxis
        case wholeSample
        case groups(Int)
        case fixed
    }
    public var form: Form
    public var epsilon: Float
    /// gamma present (Keras `scale`, PyTorch `elementwise_affine` / `affine`).
    public var scale: Bool
    /// beta present (Keras `center`).
    public var center: Bool

    public init(form: Form, epsilon: Float, scale: Bool = true, center: Bool = true) {
        self.form = form; self.epsilon = epsilon; self.scale = scale; self.center = center
    }

    /// Keras Normalization's floor on sqrt(variance) (keras.backend.epsilon()).
    public static let fixedEpsilon: Float = 1e-7

    /// "layer norm (last axis), eps 0.001, scale+center" and the like.
    public var description: String {
        let what: String
        switch form {
        case .lastAxis: what = "over the last axis"
        case .wholeSample: what = "over the whole image"
        case .groups(let g): what = "\(g) groups"
        case .fixed: return "(x - mean) / max(sqrt(variance), 1e-7)"
        }
        let affine = scale && center ? "scale+center" : scale ? "scale only" : center ? "center only" : "no scale/center"
        return "\(what), \(affine), eps \(Describe.num(epsilon))"
    }

    /// The parameter tensors on input `s` (Keras order: gamma, beta; mean, variance, count).
    func tensors(input s: [Int]) -> [ParamTensor] {
        let c = s.last ?? 0
        if form == .fixed {
            return [ParamTensor(role: .mean, shape: [c], trainable: false),
                    ParamTensor(role: .variance, shape: [c], trainable: false),
                    ParamTensor(role: .count, shape: [], trainable: false)]
        }
        let shape = form == .wholeSample ? s : [c]
        var t: [ParamTensor] = []
        if scale { t.append(ParamTensor(role: .gamma, shape: shape, trainable: true)) }
        if center { t.append(ParamTensor(role: .beta, shape: shape, trainable: true)) }
        return t
    }

    /// Why the form cannot apply to input `s`, or nil.
    public func problem(input s: [Int]) -> String? {
        guard let c = s.last, c > 0 else { return "needs an input" }
        if case .groups(let g) = form, g < 1 || c % g != 0 { return "\(c) channels do not split into \(g) groups" }
        if !(epsilon > 0) && form != .fixed { return "epsilon \(epsilon) must be > 0" }
        return nil
    }
}
