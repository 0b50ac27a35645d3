// EmbeddingBag (PyTorch): token ids [N, T] (floats holding whole numbers, read from the model's
// input) -> [N, dim], each sample's T ids one bag reduced by sum, mean or max, padding entries
// left out (Sources/ModelcRuntime/Kernels/EmbeddingBag.swift, EmbeddingBagKernel).
//   forward   y[n] = reduce(table[id] for the kept ids of sample n); a bad id is reported
//             (CompiledModelBase.reportBadInput) and left out, never read out of bounds
//   backward  the table's gradient (this chunk's partial): each kept id's row gets dy (sum),
//             dy / kept (mean), or column j of the row holding the maximum (max); no dx
// The emitter refuses an EmbeddingBag anywhere but right after the input (GeneratedFiles).

import ModelcCore

struct EmbeddingBagEmitter: OpEmitter {
    let attrs: EmbeddingBagAttrs

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let p = c.prefix, steps = c.inSize, (v, d) = (attrs.vocab, attrs.dim)
        let shape = "steps: \(steps), table: \(c.param(.embeddings)), vocab: \(v), dim: \(d), mode: .\(attrs.mode.rawValue), paddingIdx: \(attrs.paddingIdx.map(String.init) ?? "nil")"
        m.chunkFunction("\(p)Forward", comment: "\(c.header): \(attrs.description)") { w in
            w.line("EmbeddingBagKernel.forward(self, layer: \(swiftString(c.layer.name)), ids: \(c.x) + lo * \(steps), count: hi - lo, \(shape), y: \(c.y) + lo * \(d))")
        }
        m.reduceRanges.append((c.paramOffsets[.embeddings] ?? 0, v * d))
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: the table's gradient, row by kept id") { w in
            w.line("EmbeddingBagKernel.backward(ids: \(c.x) + lo * \(steps), count: hi - lo, dy: \(c.gy) + lo * \(d), \(shape), gTable: partials + t * \(c.parameterCount) + \(c.paramOffsets[.embeddings] ?? 0))")
        }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        return (f, f, [.chunk("\(p)Backward(lo, hi, t)")])
    }
}
