// Inference for the per-image normalization layers from a table row (shape kept, count printed):
//   LayerNormalization  gamma and beta over the last axis, 2C (or C with one of them, 0 with
//                       neither), else over the whole image, 2E (E values); the last axis
//                       first, as Keras's default axis=-1
//   GroupNormalization  2C, C or 0 params; the groups are not printed: `layer NAME: groups=G`
//   Normalization       an adapted Keras Normalization over the last axis: mean, variance [C]
//                       and count, 2C + 1 params (none trainable)
// Epsilon is Keras's default 1e-3 here (SemanticDefaults applies an annotated one).

enum NormInference {
    static func solve(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard let c = BasicInference.keptChannels(q, &r) else { return r }
        func fit(_ a: NormAttrs) { r.fits.append(LayerCandidate(kind: q.kind, op: .normalization(a), output: q.input)) }
        switch q.kind {
        case .normalization:
            if q.params == 2 * c + 1 { fit(NormAttrs(form: .fixed, epsilon: NormAttrs.fixedEpsilon, scale: false, center: false)); return r }
            r.reason = q.params == 0
                ? "a Normalization without weights (mean= and variance= given in its config) cannot be read from a table; an adapted one over \(c) channels has 2x\(c)+1 = \(formatCount(2 * c + 1)) params"
                : "an adapted Normalization over \(c) channels has mean, variance (\(c) each) and count: \(formatCount(2 * c + 1)) params, not \(formatCount(q.params))"
        case .groupNormalization:
            guard let g = q.o.groups else {
                r.reason = "the number of groups is not printed; annotate `layer \(q.name): groups=G`"
                return r
            }
            guard c % g == 0 else { r.reason = "\(c) channels do not split into \(g) groups"; return r }
            for (s, ce) in affineOptions(q) where c * ((s ? 1 : 0) + (ce ? 1 : 0)) == q.params {
                fit(NormAttrs(form: .groups(g), epsilon: 1e-3, scale: s, center: ce))
            }
            if r.fits.isEmpty { r.reason = "GroupNormalization over \(c) channels has \(formatCount(2 * c)), \(formatCount(c)) or 0 params, not \(formatCount(q.params))" }
        default:
            let e = q.input.reduce(1, *)
            let forms: [(NormAttrs.Form, Int)] = [(.lastAxis, c)] + (e != c ? [(.wholeSample, e)] : [])
            for (form, n) in forms {
                for (s, ce) in affineOptions(q) where n * ((s ? 1 : 0) + (ce ? 1 : 0)) == q.params {
                    fit(NormAttrs(form: form, epsilon: 1e-3, scale: s, center: ce))
                }
            }
            if r.fits.isEmpty {
                r.reason = "LayerNormalization on \(Inference.shapeText(q.input)) has \(formatCount(2 * c)) params (gamma and beta over the last axis) or \(formatCount(2 * e)) (over the whole image), not \(formatCount(q.params))"
            }
        }
        return r
    }

    /// (scale, center) in preference order, as annotated.
    static func affineOptions(_ q: InferenceQuery) -> [(Bool, Bool)] {
        [(true, true), (true, false), (false, true), (false, false)].filter { s, ce in
            (q.o.scale ?? s) == s && (q.o.center ?? ce) == ce
        }
    }
}
