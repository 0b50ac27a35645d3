// PyTorchEmbedding: nn.Embedding and nn.EmbeddingBag in a `print(model)` repr.
//
//   Embedding(num_embeddings, embedding_dim[, padding_idx=P][, max_norm=..][, norm_type=..]
//             [, scale_grad_by_freq=True][, sparse=True])
//   EmbeddingBag(num_embeddings, embedding_dim[, max_norm=..][, norm_type=..]
//                [, scale_grad_by_freq=True], mode='sum'|'mean'|'max'[, padding_idx=P])
//
// padding_idx P (negative: counted from the end, P + num) must name a row; that row starts at
// zero and never trains (IR/EmbeddingBag.swift). An EmbeddingBag reads a fixed-length sequence
// of token ids per sample (`input: shape=STEPS`), one bag per sample (PyTorch's 2-D input).
// Refused, because they change the math: max_norm (rows renormalized at lookup) and
// scale_grad_by_freq=True. Accepted: norm_type (used by max_norm only) and sparse=True (the
// gradient is stored sparse in PyTorch, its values are the same; note that torch.optim.SparseAdam,
// which updates only the rows a batch touches, differs from the dense Adam modelc runs).
// per_sample_weights is an argument of forward(), which a repr does not show: modelc's bags are
// unweighted. Any other keyword, or a third positional argument, is an error.

extension PyTorchModules {
    static let embeddingKeywords: Set<String> = ["num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
                                                 "scale_grad_by_freq", "sparse"]

    /// Embedding(num, dim, ...) or EmbeddingBag(num, dim, mode=..., ...).
    static func embedding(_ r: PTModuleArgs, bag: Bool) throws -> PTOp {
        let n = try r.int("num_embeddings", 0), d = try r.int("embedding_dim", 1)
        guard n > 0, d > 0, n <= TableScanner.maxDim, d <= 65536 else { throw r.err("implausible sizes in '\(r.module.args)'") }
        let known = embeddingKeywords.union(bag ? ["mode", "include_last_offset"] : [])
        if let k = r.a.keyword.keys.sorted().first(where: { !known.contains($0) }) {
            throw r.err("unknown argument \(k)=\(r.a.keyword[k] ?? ""); expected \(known.sorted().joined(separator: ", "))")
        }
        if r.a.positional.count > 2 { throw r.err("expected num_embeddings, embedding_dim and keyword arguments, found '\(r.module.args)'") }
        if let v = r.a.keyword["max_norm"], v != "None" { throw r.err("max_norm=\(v) (rows renormalized at lookup) is not supported") }
        if try r.bool("scale_grad_by_freq", false) { throw r.err("scale_grad_by_freq=True (gradients scaled by the ids' frequency in the batch) is not supported") }
        let sparse = try r.bool("sparse", false)
        var padding: Int?
        if let v = r.a.keyword["padding_idx"], v != "None" {
            guard let p = Int(v), p >= -n, p < n else { throw r.err("padding_idx=\(v): expected a row index from -\(n) to \(n - 1)") }
            padding = p < 0 ? p + n : p
        }
        guard bag else { return .embedding(num: n, dim: d, padding: padding, bag: nil, sparse: sparse) }
        guard let m = r.a.keyword["mode"] else { throw r.err("missing mode (PyTorch prints mode='mean', 'sum' or 'max')") }
        let quoted = m.count >= 2 && m.first == m.last && (m.first == "'" || m.first == "\"")
        guard let mode = EmbeddingBagMode(rawValue: quoted ? String(m.dropFirst().dropLast()) : m) else { throw r.err("mode=\(m): expected 'sum', 'mean' or 'max'") }
        if try r.bool("include_last_offset", false) { throw r.err("include_last_offset=True (bags given by offsets) is not supported; modelc reads one fixed-length bag per sample") }
        return .embedding(num: n, dim: d, padding: padding, bag: mode, sparse: sparse)
    }
}

extension PyTorchBuilder {
    /// Appends an Embedding ([T] -> [T, dim], read by a recurrent module) or an EmbeddingBag
    /// ([T] -> [dim]) to the chain.
    static func appendEmbedding(_ st: PTStep, kind: String, to c: inout Chain, err: (String) -> ModelError) throws {
        guard case .embedding(let n, let d, let padding, let bag, let sparse) = st.op else { throw err("not an embedding module") }
        guard c.shape.count == 1 else { throw err("reads token ids (steps) but gets \(chw(c.shape))") }
        var notes: [String] = []
        if let p = padding { notes.append("padding_idx \(p): row \(p) starts at zero and never trains" + (bag != nil ? "; its entries are left out of each bag" : "")) }
        if sparse { notes.append("sparse=True: the same gradient values, computed dense") }
        if let mode = bag {
            notes.append("one bag of \(c.shape[0]) token ids per sample, \(mode.rawValue) over the kept entries")
            c.add(st.name, kind, .embeddingBag(EmbeddingBagAttrs(vocab: n, dim: d, mode: mode, paddingIdx: padding)), [d], line: st.line, notes: notes)
            c.recurrentSequence = nil
        } else {
            c.add(st.name, kind, .embedding(vocab: n, dim: d, paddingIdx: padding), [c.shape[0], d], line: st.line, notes: notes)
            c.recurrentSequence = st.name
        }
    }
}
