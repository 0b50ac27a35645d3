// KerasConfigNorm: LayerNormalization, GroupNormalization, Rescaling and Normalization configs
// to IR ops (IR/Normalization.swift), every setting from the config's own keys:
//   LayerNormalization  axis -1 (or the rank) -> over the last axis; every axis of the image
//                       ([1, 2, 3], negatives too) -> over the whole image; epsilon, scale,
//                       center; rms_scaling is refused
//   GroupNormalization  groups (dividing the channels), axis -1, epsilon, scale, center
//   Rescaling           scale and offset as numbers -> `.lambda(.affine)` (per-channel lists
//                       are refused)
//   Normalization       axis -1 (per channel); adapted (mean and variance null in the config)
//                       -> the fixed op with its mean, variance and count weights; constants
//                       given as numbers -> `.lambda(.standardize)` with std = max(sqrt(var),
//                       1e-7); invert=True and per-channel constant lists are refused

extension KerasConfigLayers {
    static func normalization(_ kind: LayerKind, _ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        let c = l.config
        switch kind {
        case .rescaling:
            let scale = try c.required("scale"), offset = try c.present("offset")
            guard case .number = scale.value else { throw scale.fail("one number (per-channel scales are not supported)") }
            if let o = offset, case .number = o.value {} else if let o = offset { throw o.fail("one number (per-channel offsets are not supported)") }
            return (kind, .lambda(.affine(scale: try scale.float(), offset: try offset?.float() ?? 0)), s)
        case .normalization:
            if let i = try c.present("invert"), try i.bool() { throw i.error("invert=true (denormalization) is not supported") }
            try lastAxis(c, rank: s.count, allowList: true)
            guard let mean = try c.present("mean") else {
                return (kind, .normalization(NormAttrs(form: .fixed, epsilon: NormAttrs.fixedEpsilon, scale: false, center: false)), s)
            }
            let variance = try c.required("variance")
            guard case .number = mean.value, case .number = variance.value else {
                throw mean.fail("one number (a Normalization built with per-channel mean= and variance= lists is not supported; adapt it instead)")
            }
            let std = max(try variance.float(min: 0).squareRoot(), NormAttrs.fixedEpsilon)
            return (kind, .lambda(.standardize(mean: try mean.float(), std: std)), s)
        case .groupNormalization:
            let g = try c.required("groups").int(min: 1, max: ResourceLimits.maxDimension)
            try lastAxis(c, rank: s.count, allowList: false)
            let a = NormAttrs(form: .groups(g), epsilon: try c.required("epsilon").float(min: 0, max: 1e6),
                              scale: try c.required("scale").bool(), center: try c.required("center").bool())
            if let why = a.problem(input: s) { throw fail(why) }
            return (kind, .normalization(a), s)
        default:
            if let r = try c.present("rms_scaling"), try r.bool() { throw r.error("rms_scaling=true is not supported") }
            let axis = try c.required("axis")
            let axes = try (axis.value.isArray ? axis.list() : [axis]).map { try $0.int(min: -8, max: 8) }
            let rank = s.count
            let normalized = Set(axes.map { $0 < 0 ? $0 + rank + 1 : $0 })
            let form: NormAttrs.Form
            if normalized == [rank] { form = .lastAxis }
            else if normalized == Set(1...rank) { form = .wholeSample }
            else { throw axis.fail("-1 (the last axis) or every axis of the \(Inference.shapeText(s)) input") }
            return (kind, .normalization(NormAttrs(form: form, epsilon: try c.required("epsilon").float(min: 0, max: 1e6),
                                                    scale: try c.required("scale").bool(), center: try c.required("center").bool())), s)
        }
    }

    /// Axis -1 (or the rank), as a number or (Keras 3's Normalization) a one-item list.
    static func lastAxis(_ c: JNode, rank: Int, allowList: Bool) throws {
        guard let axis = try c.present("axis") else { return }
        let items = axis.value.isArray && allowList ? try axis.list() : [axis]
        guard items.count == 1, let a = try? items[0].int(min: -8, max: 8), a == -1 || a == rank else {
            throw axis.fail("-1 (the last axis)")
        }
    }
}
