// KerasConfigAttention: a MultiHeadAttention config and its call to the IR op
// (IR/Attention.swift), every setting from the file:
//   config  num_heads (at most 4096), key_dim, value_dim (null or 0: key_dim; both at most 65536), use_bias, output_shape (null: the
//           query's features; one size, or a list of one), dropout, attention_axes (null or the
//           steps axis only); use_gate and sliding_window (newer Keras 3) must be off
//   call    the inputs are query, value[, key] (KerasConfig.inputs reads Keras 3's args and the
//           kwargs by those names, Keras 2's first input and its value= and key= kwargs);
//           use_causal_mask is read; a mask tensor or return_attention_scores=True is refused

extension KerasConfigLayers {
    static func attention(_ l: KLayer, inputs: [[Int]]) throws -> (LayerKind, Op, [Int]) {
        let c = l.config
        func fail(_ m: String) -> ModelError { l.entry.error("layer '\(l.name)' (MultiHeadAttention): \(m)") }
        let causal = try causalCall(l)   // first: a mask tensor would count as an input
        guard inputs.count == 2 || inputs.count == 3 else {
            throw fail("called with \(inputs.count) input tensor\(inputs.count == 1 ? "" : "s"); modelc reads a query and a value (and a key)")
        }
        guard let q = inputs.first, q.count == 2 else {
            throw fail("attends over a sequence [steps, features]; its query is \(Inference.shapeText(inputs[0]))")
        }
        try checkAxes(c)
        for key in ["use_gate"] { if let g = try c.present(key), try g.bool() { throw g.error("\(key)=true is not supported") } }
        if let w = try c.present("sliding_window") { throw w.fail("null (a sliding window is not supported)") }
        let keyDim = try c.required("key_dim").int(min: 1, max: 65536)
        let valueDim = try c.present("value_dim")?.int(min: 0, max: 65536) ?? 0
        let heads = try c.required("num_heads").int(min: 1, max: 4096)
        let out = try outputSize(c) ?? q[1]
        let value = inputs[1], key = inputs.last!
        let a = AttentionAttrs(heads: heads, keyDim: keyDim, valueDim: valueDim == 0 ? keyDim : valueDim, useBias: try c.present("use_bias")?.bool() ?? true,
                               outputDim: out, keyFeatures: key.last ?? 0, valueFeatures: value.last ?? 0,
                               dropout: try c.present("dropout")?.float(min: 0, max: 0.999_999) ?? 0, causal: causal)
        if let why = a.problem(inputs: inputs) { throw fail(why) }
        return (.multiHeadAttention, .multiHeadAttention(a), a.outputShape(query: q))
    }

    /// attention_axes: null, or the steps axis of a [batch, steps, features] input (1, -2, [1]).
    static func checkAxes(_ c: JNode) throws {
        guard let axes = try c.present("attention_axes") else { return }
        let list = try axes.value.isArray ? axes.list() : [axes]
        guard list.count == 1, [1, -2].contains(try list[0].int(min: -8, max: 8)) else {
            throw axes.fail("null or the steps axis (1): attention over other axes is not supported")
        }
    }

    /// output_shape: null, one size, or a list of one size.
    static func outputSize(_ c: JNode) throws -> Int? {
        guard let o = try c.present("output_shape") else { return nil }
        let list = try o.value.isArray ? o.list() : [o]
        guard list.count == 1 else { throw o.fail("one size (an output of several axes is not supported)") }
        return try list[0].int(min: 1, max: ResourceLimits.maxDimension)
    }

    /// use_causal_mask from the call's kwargs (Keras 3 `kwargs`, Keras 2 each input's fourth
    /// item); refuses the masks and return_attention_scores.
    static func causalCall(_ l: KLayer) throws -> Bool {
        guard let node = try l.entry.present("inbound_nodes")?.list().first else { return false }
        var causal = false
        for k in try KerasModel.callKwargs(node) {
            for mask in ["attention_mask", "query_mask", "value_mask", "key_mask"] {
                if let m = try k.present(mask) { throw m.error("layer '\(l.name)' (MultiHeadAttention) is called with \(mask); masked attention is not supported") }
            }
            if let r = try k.present("return_attention_scores"), try r.bool() {
                throw r.error("layer '\(l.name)' (MultiHeadAttention) is called with return_attention_scores=True (two outputs); not supported")
            }
            if let m = try k.present("use_causal_mask") { causal = try m.bool() }
        }
        return causal
    }
}
