// PyTorchNorm: nn.LayerNorm and nn.GroupNorm, from a repr and on the chain (IR/Normalization.swift).
//   LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True, bias=True): normalized_shape must be
//     the module's whole per-sample input, [N] after a Linear or [C, H, W] / [C, L] after a
//     convolution (weight and bias then have that shape; the IR keeps them as [H, W, C] /
//     [L, C], and state_dict files hold PyTorch's order). A part of an image's axes (the last
//     PyTorch axis W of an NCHW image) is refused: the IR normalizes channels-last data.
//   GroupNorm(num_groups, num_channels, eps=1e-05, affine=True, bias=True): weight and bias [C].

extension PyTorchModules {
    static func layerNorm(_ r: PTModuleArgs) throws -> PTOp {
        guard let v = r.a.keyword["normalized_shape"] ?? r.a.positional.first else { throw r.err("missing normalized_shape") }
        let t = v.trimmed
        let inner = t.hasPrefix("(") || t.hasPrefix("[") ? String(t.dropFirst().dropLast()) : t
        let dims = inner.split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }.map { Int($0) }
        guard !dims.isEmpty, dims.count <= 3, dims.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= TableScanner.maxDim }) else {
            throw r.err("normalized_shape=\(v): expected N or (C, H, W) with 1 to 3 positive sizes")
        }
        let eps = try r.float("eps", 1, 1e-5)
        guard eps > 0 else { throw r.err("eps=\(eps): must be > 0") }
        let affine = try r.bool("elementwise_affine", true)
        return .layerNorm(shape: dims.compactMap { $0 }, eps: eps, scale: affine, center: try affine && r.bool("bias", true))
    }

    static func groupNorm(_ r: PTModuleArgs) throws -> PTOp {
        let g = try r.int("num_groups", 0), c = try r.int("num_channels", 1)
        guard g > 0, c > 0, c <= TableScanner.maxDim, c % g == 0 else { throw r.err("num_groups=\(g) must divide num_channels=\(c)") }
        let eps = try r.float("eps", 2, 1e-5)
        guard eps > 0 else { throw r.err("eps=\(eps): must be > 0") }
        let affine = try r.bool("affine", true)
        return .groupNorm(groups: g, channels: c, eps: eps, scale: affine, center: try affine && r.bool("bias", true))
    }
}

extension PyTorchBuilder {
    /// The IR op of a LayerNorm or GroupNorm module on input `s` (IR layout), shape-checked.
    /// `sequence`: `s` is a batch-first sequence [steps, features] (ONNX), whose PyTorch order is
    /// its own and whose LayerNorm may cover each step's features alone.
    static func normalizationOp(_ op: PTOp, _ s: [Int], sequence: Bool = false, err: (String) -> ModelError) throws -> Op {
        switch op {
        case .layerNorm(let shape, let eps, let scale, let center):
            let torch = torchOrder(s, sequence: sequence)
            if sequence, s.count == 2, shape == [s[1]] {
                return .normalization(NormAttrs(form: .lastAxis, epsilon: eps, scale: scale, center: center))
            }
            guard shape == torch else {
                throw err(torch.hasSuffix(shape)
                    ? "normalized_shape \(shape) covers only the last axes of the input \(chw(s)); modelc normalizes a vector's features or a whole [C, H, W] / [C, L] input"
                    : "normalized_shape \(shape) does not match the input \(chw(s))")
            }
            return .normalization(NormAttrs(form: s.count == 1 ? .lastAxis : .wholeSample, epsilon: eps, scale: scale, center: center))
        case .groupNorm(let g, let ch, let eps, let scale, let center):
            guard s.last == ch else { throw err("num_channels=\(ch) but the input \(chw(s)) has \(s.last ?? 0) channels") }
            return .normalization(NormAttrs(form: .groups(g), epsilon: eps, scale: scale, center: center))
        default:
            throw err("not a normalization module")
        }
    }
}

extension Array where Element == Int {
    func hasSuffix(_ s: [Int]) -> Bool { s.count <= count && Array(suffix(s.count)) == s }
}

extension PyTorchBuilder {
    /// A torchsummary / torchinfo LayerNorm or GroupNorm row on input `s` (IR layout): a
    /// LayerNorm's normalized_shape is the whole input when it holds 2x (weight and bias) or 1x
    /// (weight only) its values; GroupNorm's num_groups is never printed: `groups` from the
    /// annotation `layer NAME: groups=G`, else an error.
    static func normalizationRow(_ r: TSRow, input s: [Int], groups: Int?, err: (String) -> ModelError) throws -> PTOp {
        let torch = torchOrder(s)
        let e = s.reduce(1, *)
        if r.type == "GroupNorm" {
            let c = s.last ?? 0
            guard let g = groups else {
                throw err("GroupNorm's num_groups is not printed in a summary table; annotate `layer \(r.label): groups=G` or give the print(model) repr")
            }
            guard c % g == 0, r.params == 2 * c || r.params == 0 else {
                throw err("GroupNorm(\(g), \(c)) has \(formatCount(2 * c)) params (affine) or 0, and \(g) must divide \(c); the table says \(formatCount(r.params))")
            }
            return .groupNorm(groups: g, channels: c, eps: 1e-5, scale: r.params > 0, center: r.params > 0)
        }
        guard r.params == 2 * e || r.params == e else {
            throw err("a LayerNorm over the whole input \(chw(s)) has \(formatCount(2 * e)) params (\(formatCount(e)) without bias), not \(formatCount(r.params)); LayerNorm over only the last axes of an image, or without weights, is not supported from a table")
        }
        return .layerNorm(shape: torch, eps: 1e-5, scale: true, center: r.params == 2 * e)
    }
}
