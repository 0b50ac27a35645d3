// Embedding: token ids [N, T] (floats holding whole numbers, read from the model's input) ->
// [N, T, dim] rows of the table [vocab, dim] (Sources/ModelcRuntime/Kernels/Recurrent.swift,
// EmbeddingKernel).
//   forward   y[n, t] = table[id]; an id that is not a whole number in 0..<vocab gives a zero
//             row and is reported (CompiledModelBase.reportBadInput), never read out of bounds
//   backward  dtable[id] += dy[n, t] (this chunk's partial), except for the padding row
//             (PyTorch padding_idx), whose gradient stays zero; no dx (ids have no gradient)
// The emitter refuses an Embedding anywhere but right after the input (Emitter.problems).

import ModelcCore

struct EmbeddingEmitter: OpEmitter {
    let vocab: Int
    let dim: Int
    let paddingIdx: Int?

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let p = c.prefix, steps = c.inSize
        m.chunkFunction("\(p)Forward", comment: "\(c.header): vocabulary \(vocab), dim \(dim)") { w in
            w.line("EmbeddingKernel.forward(self, layer: \(swiftString(c.layer.name)), ids: \(c.x) + lo * \(steps), count: (hi - lo) * \(steps), table: \(c.param(.embeddings)), vocab: \(vocab), dim: \(dim), y: \(c.y) + lo * \(c.outSize))")
        }
        m.reduceRanges.append((c.paramOffsets[.embeddings] ?? 0, vocab * dim))
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: the table's gradient, row by id") { w in
            w.line("EmbeddingKernel.backward(ids: \(c.x) + lo * \(steps), count: (hi - lo) * \(steps), dy: \(c.gy) + lo * \(c.outSize), vocab: \(vocab), dim: \(dim), gTable: partials + t * \(c.parameterCount) + \(c.paramOffsets[.embeddings] ?? 0)\(paddingIdx.map { ", paddingIdx: \($0)" } ?? ""))")
        }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        return (f, f, [.chunk("\(p)Backward(lo, hi, t)")])
    }
}
