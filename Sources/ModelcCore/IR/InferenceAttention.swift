// Inference for MultiHeadAttention from a table row. The row's inputs ('Connected to': query,
// value[, key]) give the features Dq, Dv, Dk; its printed output gives O; the count
//   params = H*K*(Dq + Dk) + H*V*(Dv + O) + (use_bias ? 2*H*K + H*V + O : 0)
// then fixes H*K (with V = K) but never H and K apart, and H changes the result (a softmax per
// head). So num_heads comes from an annotation (`layer NAME: heads=H`, with key_dim= when the
// count does not give it, value_dim= when it differs from key_dim), and a row without one is an
// error that names the product the count gives. Dropout and the causal mask are not printed
// either: SemanticDefaults applies the annotated ones (`rate=`, `causal=true`) or 0 and none.

enum AttentionInference {
    static func solve(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        let shapes = q.inputs.isEmpty ? [q.input] : q.inputs
        guard shapes.count == 2 || shapes.count == 3 else {
            r.reason = "MultiHeadAttention reads a query and a value (and a key): 'Connected to' lists \(shapes.count) input\(shapes.count == 1 ? "" : "s")"
            return r
        }
        guard shapes.allSatisfy({ $0.count == 2 }) else {
            r.reason = "MultiHeadAttention attends over sequences [steps, features]; its inputs are \(shapes.map { Inference.shapeText($0) }.joined(separator: ", "))"
            return r
        }
        let dq = shapes[0][1], dv = shapes[1][1], dk = shapes.last![1]
        let out = q.o.outputDim ?? q.declaredOut?.last ?? dq
        let biases = q.o.bias.map { [$0] } ?? [true, false]
        guard let h = q.o.heads else {
            r.reason = missingHeads(q, dq: dq, dk: dk, dv: dv, out: out, biases: biases)
            return r
        }
        for bias in biases {
            for k in keySizes(q, heads: h, dq: dq, dk: dk, dv: dv, out: out, bias: bias) {
                let a = AttentionAttrs(heads: h, keyDim: k, valueDim: q.o.valueDim ?? k, useBias: bias, outputDim: out,
                                       keyFeatures: dk, valueFeatures: dv, dropout: q.o.rate ?? 0, causal: q.o.causal ?? false)
                if a.paramCount(queryFeatures: dq) == q.params {
                    r.fits.append(LayerCandidate(kind: q.kind, op: .multiHeadAttention(a), output: a.outputShape(query: shapes[0])))
                }
            }
        }
        if r.fits.isEmpty {
            let k = q.o.keyDim.map { "key_dim \($0)" } ?? "any key_dim"
            r.reason = "MultiHeadAttention with \(h) heads, \(k)\(q.o.valueDim.map { ", value_dim \($0)" } ?? "") on inputs of \(dq), \(dv) and \(dk) features with \(out) outputs does not have \(formatCount(q.params)) params"
        }
        return r
    }

    /// The key sizes to try: the annotated one, else every K whose count with V = K (or the
    /// annotated V) is the printed one.
    static func keySizes(_ q: InferenceQuery, heads h: Int, dq: Int, dk: Int, dv: Int, out: Int, bias: Bool) -> [Int] {
        if let k = q.o.keyDim { return [k] }
        let fixed = (bias ? out : 0) + (q.o.valueDim.map { h * $0 * (dv + out + (bias ? 1 : 0)) } ?? 0)
        let perHK = dq + dk + (bias ? 2 : 0) + (q.o.valueDim == nil ? dv + out + (bias ? 1 : 0) : 0)
        let rest = q.params - fixed
        guard rest > 0, rest % perHK == 0, (rest / perHK) % h == 0 else { return [] }
        return [rest / perHK / h]
    }

    /// The error for a row without `heads=`: the H*K its count gives, if any.
    static func missingHeads(_ q: InferenceQuery, dq: Int, dk: Int, dv: Int, out: Int, biases: [Bool]) -> String {
        let products = biases.compactMap { bias -> Int? in
            let rest = q.params - (bias ? out : 0), per = dq + dk + dv + out + (bias ? 3 : 0)
            return rest > 0 && rest % per == 0 ? rest / per : nil
        }
        let prefix = "MultiHeadAttention's num_heads and key_dim are not printed in a table"
        guard let hk = products.first else {
            return prefix + ", and no num_heads x key_dim gives \(formatCount(q.params)) params with value_dim = key_dim on inputs of \(dq), \(dv) and \(dk) features; annotate `layer \(q.name): heads=H key_dim=K value_dim=V`"
        }
        let example = [8, 4, 2, 1].first { hk % $0 == 0 } ?? 1
        return prefix + ": its \(formatCount(q.params)) params give num_heads x key_dim = \(hk); annotate `layer \(q.name): heads=H key_dim=K` with H x K = \(hk) (e.g. heads=\(example) key_dim=\(hk / example))"
    }
}
