// EmbeddingBag (PyTorch): each sample's `steps` token ids (floats holding whole numbers) ->
// one vector [dim], the rows of a [vocab, dim] table reduced over the bag
// (ModelcCore/IR/EmbeddingBag.swift has the semantics).
//   forward   sum / mean / max of table[id] over the kept entries: an entry whose id is the
//             padding index is left out, and so is a bad id (not a whole number in 0..<vocab,
//             reported); a bag with no kept entries gives zeros
//   backward  dtable[id] += dy (sum), dy / kept (mean); max: dtable[id][j] += dy[j] for the
//             first kept entry holding the maximum of column j (PyTorch's choice on ties).
//             The padding row's gradient stays zero. No dx (ids have no gradient).

/// How an EmbeddingBag reduces its bag (PyTorch `mode`).
public enum EmbeddingBagReduction: Sendable {
    case sum, mean, max
}

public enum EmbeddingBagKernel {
    /// y[n] = the bag of sample n's ids, for `count` samples of `steps` ids. Returns the first
    /// id that is not a whole number in 0..<vocab (left out of its bag), or nil.
    public static func forward(ids: UnsafePointer<Float>, count: Int, steps: Int, table: UnsafePointer<Float>, vocab: Int, dim: Int,
                               mode: EmbeddingBagReduction, paddingIdx: Int?, y: UnsafeMutablePointer<Float>) -> Float? {
        var bad: Float?
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(steps, 1)) { rows in
            for n in 0..<count {
                let kept = keptRows(ids + n * steps, steps: steps, vocab: vocab, paddingIdx: paddingIdx, into: rows.baseAddress!, bad: &bad)
                let out = y + n * dim
                out.update(repeating: 0, count: dim)
                guard kept > 0 else { continue }
                if mode == .max { out.update(from: table + rows[0] * dim, count: dim) }
                for k in (mode == .max ? 1 : 0)..<kept {
                    let row = table + rows[k] * dim
                    if mode == .max { for j in 0..<dim where row[j] > out[j] { out[j] = row[j] } }
                    else { for j in 0..<dim { out[j] += row[j] } }
                }
                if mode == .mean { let s = 1 / Float(kept); for j in 0..<dim { out[j] *= s } }
            }
        }
        return bad
    }

    /// The forward of an emitted model's layer: a bad id is reported to the model
    /// (CompiledModelBase.reportBadInput), which the trainer, evaluator and predictor stop on.
    public static func forward(_ model: CompiledModelBase, layer: String, ids: UnsafePointer<Float>, count: Int, steps: Int,
                               table: UnsafePointer<Float>, vocab: Int, dim: Int, mode: EmbeddingBagReduction, paddingIdx: Int?,
                               y: UnsafeMutablePointer<Float>) {
        if let bad = forward(ids: ids, count: count, steps: steps, table: table, vocab: vocab, dim: dim, mode: mode, paddingIdx: paddingIdx, y: y) {
            model.reportBadInput("layer \(layer): token id \(bad) is not a whole number in 0..<\(vocab)")
        }
    }

    /// gTable = this chunk's partial gradient of the table for the upstream gradient dy [count, dim].
    public static func backward(ids: UnsafePointer<Float>, count: Int, dy: UnsafePointer<Float>, steps: Int, table: UnsafePointer<Float>,
                                vocab: Int, dim: Int, mode: EmbeddingBagReduction, paddingIdx: Int?, gTable: UnsafeMutablePointer<Float>) {
        gTable.update(repeating: 0, count: vocab * dim)
        var bad: Float?
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(steps, 1)) { rows in
            let r = rows.baseAddress!
            for n in 0..<count {
                let kept = keptRows(ids + n * steps, steps: steps, vocab: vocab, paddingIdx: paddingIdx, into: r, bad: &bad)
                guard kept > 0 else { continue }
                let d = dy + n * dim
                if mode == .max {
                    for j in 0..<dim {
                        var best = 0
                        for k in 1..<kept where table[r[k] * dim + j] > table[r[best] * dim + j] { best = k }
                        gTable[r[best] * dim + j] += d[j]
                    }
                    continue
                }
                let s: Float = mode == .mean ? 1 / Float(kept) : 1
                for k in 0..<kept {
                    let g = gTable + r[k] * dim
                    for j in 0..<dim { g[j] += d[j] * s }
                }
            }
        }
    }

    /// The table rows of one bag's kept entries (not padding, not bad), in order; returns how many.
    static func keptRows(_ ids: UnsafePointer<Float>, steps: Int, vocab: Int, paddingIdx: Int?, into rows: UnsafeMutablePointer<Int>,
                         bad: inout Float?) -> Int {
        var kept = 0
        for t in 0..<steps {
            guard let i = EmbeddingKernel.index(ids[t], vocab) else {
                if bad == nil { bad = ids[t] }
                continue
            }
            if i == paddingIdx { continue }
            rows[kept] = i
            kept += 1
        }
        return kept
    }
}
