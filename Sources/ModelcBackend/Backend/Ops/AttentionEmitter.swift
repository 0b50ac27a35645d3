// MultiHeadAttention (IR/Attention.swift): an `AttentionLayer` member (sizes, tensor offsets,
// buffers) and one call of the runtime's kernels per chunk of images
// (Sources/ModelcRuntime/Kernels/Attention.swift, which documents the buffers' layouts).
//   forward   query [N, Tq, Dq], value [N, Tv, Dv], key [N, Tv, Dk] (LayerContext.inputs 0, 1
//             and 2, or 1 again) -> y [N, Tq, O]; the projections q, k, v, the attention
//             probabilities (and in training with dropout the dropped ones and their mask) and
//             o stay in `state` for the backward
//   backward  dWo, dbo and do; per head the softmax's gradient, dq, dk, dv; then each
//             projection's dW, db and its input's gradient (stored; a self-attention's second
//             use of the same tensor writes its own buffer, which GraphFlow adds later)
// The backward prologue transposes Wo (and Wq, Wk, Wv when an input needs its gradient).
// Dropout on the probabilities follows the model's `dropout` switch, hashed from (seed, layer,
// image, element) like the Dropout layer's mask.

import ModelcCore

struct AttentionEmitter: OpEmitter {
    let attrs: AttentionAttrs

    /// Floats per image of the kept state and of the backward's scratch, and the transposed
    /// kernels' floats (the runtime's AttentionGeometry.stateFloats, workFloats and
    /// transposedFloats; AttentionKernelTests checks they agree).
    static func sizes(_ a: AttentionAttrs, queries tq: Int, sources tv: Int, queryFeatures dq: Int, inputGradient: Bool) -> (state: Int, work: Int, transposed: Int) {
        let hk = a.heads * a.keyDim, hv = a.heads * a.valueDim, padded = AttentionAttrs.paddedSources(tv), probabilities = a.heads * tq * padded
        let state = tq * hk + tv * hk + tv * hv + probabilities * (a.dropout > 0 ? 3 : 1) + tq * hv
        let work = tq * hv + tq * hk + tv * hk + tv * hv + tq * padded + max(a.keyDim, a.valueDim) * padded
        let transposed = hv * a.outputDim + (inputGradient ? (dq + a.keyFeatures) * hk + a.valueFeatures * hv : 0)
        return (state, work, transposed)
    }

    /// The offsets of the eight tensors (IR/Attention.swift's order), from the layer's first.
    static func offsets(_ a: AttentionAttrs, first: Int, queryFeatures dq: Int) -> String {
        var at = first, offset: [String: Int] = [:]
        for t in a.tensors(queryFeatures: dq) {
            offset["\(t.scope ?? "")/\(t.role.rawValue)"] = at
            at += t.count
        }
        let parts = [("query", "query"), ("key", "key"), ("value", "value"), ("output", "attention_output")].map { name, scope in
            "\(name): \(offset[scope + "/kernel"] ?? 0), \(name)Bias: \(offset[scope + "/bias"].map(String.init) ?? "nil")"
        }
        return "AttentionOffsets(" + parts.joined(separator: ", ") + ")"
    }

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let p = c.prefix, a = attrs
        let query = c.inputs[0], value = c.inputs[1], key = c.inputs.count == 3 ? c.inputs[2] : c.inputs[1]
        let steps = { (s: [Int]) in s.dropLast().reduce(1, *) }
        let (tq, tv, dq) = (steps(query.shape), steps(value.shape), query.shape.last ?? 0)
        let inputGradient = c.inputs.contains { $0.gx != nil }
        let sizes = AttentionEmitter.sizes(a, queries: tq, sources: tv, queryFeatures: dq, inputGradient: inputGradient)
        m.buffer("\(p)state", perImage: sizes.state + sizes.work, "\(c.name) projections, probabilities and mix of every image, then their gradients (and the forward's scratch)")
        m.buffer("\(p)wt", perImage: 0, fixed: sizes.transposed, "\(c.name) output kernel\(inputGradient ? " and projection kernels" : "") transposed")
        let geometry = "AttentionGeometry(queryLength: \(tq), sourceLength: \(tv), queryFeatures: \(dq), keyFeatures: \(a.keyFeatures), valueFeatures: \(a.valueFeatures), heads: \(a.heads), keySize: \(a.keyDim), valueSize: \(a.valueDim), outputs: \(a.outputDim)\(a.dropout > 0 ? ", dropout: \(floatLiteral(a.dropout))" : "")\(a.causal ? ", causal: true" : ""))"
        let offsets = AttentionEmitter.offsets(a, first: c.paramOffsets[.kernel] ?? 0, queryFeatures: dq)
        m.members.line("// \(commentSafe(c.header)): \(a.description)")
        m.members.line("var \(p): AttentionLayer { AttentionLayer(\(geometry), \(offsets), buffer: \(p)state, maxBatch: maxBatch, transposed: \(p)wt, inputGradient: \(inputGradient)) }")
        let inputs = "query: \(query.x), key: \(key.x), value: \(value.x)"
        let salt = UInt64(c.index) &* 0x9E37_79B9_7F4A_7C15
        let f = "\(p)Forward", fi = "\(p)ForwardInference"
        m.chunkFunction(f, comment: "\(c.header)\(a.dropout > 0 ? ", training" : "")") { w in
            w.line("\(p).forward(\(c.parameterBase), \(inputs), y: \(c.y), lo, hi\(a.dropout > 0 ? ", dropoutSeed: dropout ? seed ^ \(salt) : nil" : ""))")
        }
        if a.dropout > 0 {
            m.chunkFunction(fi, comment: "\(c.header), inference: no dropout") { w in
                w.line("\(p).forward(\(c.parameterBase), \(inputs), y: \(c.y), lo, hi)")
            }
        }
        m.serialFunction("\(p)Transpose", comment: "\(c.name): the kernels transposed for the backward") { w in
            w.line("\(p).transpose(\(c.parameterBase))")
        }
        m.backwardPrologue.append("\(p)Transpose")
        m.reduceRanges.append((c.paramOffsets[.kernel] ?? 0, c.layer.paramCount))
        // Without a key input the key is the value: both projections' gradients go to its buffer.
        let dxs = "dQuery: \(query.gx ?? "nil"), dKey: \(key.gx ?? "nil"), dValue: \(value.gx ?? "nil")"
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: the projections' dW and db, the inputs' gradients") { w in
            w.line("\(p).backward(partials + t * \(c.parameterCount), \(inputs), dy: \(c.gy), \(dxs), lo, hi, dropout: \(a.dropout > 0 ? "dropout" : "false"))")
        }
        let train: [Step] = [.chunk("\(f)(lo, hi, t)")]
        return (train, a.dropout > 0 ? [.chunk("\(fi)(lo, hi, t)")] : train, [.chunk("\(p)Backward(lo, hi, t)")])
    }
}
