// Inference for merge layers (IR/Merge.swift): no hyperparameters but Concatenate's axis,
// which is the one whose sizes add up to the printed output (the last axis when the output is
// not printed or several fit); no parameters.

enum MergeInference {
    static func solve(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params == 0 else { r.reason = "a merge layer has no parameters, the table says \(formatCount(q.params))"; return r }
        let rank = q.inputs.first?.count ?? 0
        let kinds: [MergeKind]
        switch MergeKind(layer: q.kind) {
        case .concatenate?, nil: kinds = (0..<rank).map { .concatenate(axis: -1 - $0) }
        case let k?: kinds = [k]
        }
        var firstError: String?
        for k in kinds {
            switch k.output(q.inputs) {
            case .success(let out):
                if let d = q.declaredOut, d != out { firstError = firstError ?? "inputs \(q.inputs.map { q.shape($0) }.joined(separator: ", ")) give \(q.shape(out)), the table says \(q.shape(d))"; continue }
                r.fits.append(LayerCandidate(kind: q.kind, op: .merge(k), output: out))
            case .failure(let e):
                firstError = firstError ?? e.message
            }
        }
        if r.fits.isEmpty { r.reason = firstError ?? "no inputs" }
        return r
    }
}
