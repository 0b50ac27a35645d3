// CutLayerTypes: a row whose class Keras 3 cut short (`(GlobalAveragePool…`) and that several
// supported classes start with (KindResolver keeps them all as the row's candidates).
//
// Before: the fits of every candidate class for one row and one input (InferenceSearch).
// After:  for each output shape the fits give, the fits of one class: the only candidate whose
//         fits reproduce the row's input and output shapes and its count, or, when several do
//         (GlobalAveragePooling1D and GlobalMaxPooling1D print the same), the one the layer's
//         Keras default name names (`global_max_pooling1d_1`); else an error naming the line,
//         the printed text and the candidates, never the first class that happens to fit.

enum CutLayerTypes {
    /// The printed type as the table shows it: cut (`(GlobalAveragePool…`) or closed by hand (`(Batch)`).
    static func text(_ row: RawRow) -> String { "(\(row.typeText)" + (row.typeComplete ? ")" : row.typeText.isEmpty ? "" : "…") }

    /// The fits of one class per output shape (the row has several candidate classes).
    static func settle(_ r: SearchRow, input: [Int], fits: [LayerCandidate], doc: Document) -> Result<[LayerCandidate], ModelError> {
        var outputs: [[Int]] = []
        for c in fits where !outputs.contains(c.output) { outputs.append(c.output) }
        var out: [LayerCandidate] = []
        for o in outputs {
            let group = fits.filter { $0.output == o }
            var kinds: [LayerKind] = []
            for c in group where !kinds.contains(c.kind) { kinds.append(c.kind) }
            if kinds.count > 1, let k = KindResolver.namedKind(r.row.name, among: kinds) { kinds = [k] }
            guard kinds.count == 1 else {
                return .failure(doc.error(r.row.line, "layer '\(r.row.name)': the type \(text(r.row)) is cut short and several of its candidates "
                    + "(\(list(r.kinds))) fit \(Inference.shapeText(input)) -> \(Inference.shapeText(o)) with \(r.row.params) params: "
                    + "\(list(kinds)); annotate `layer \(r.row.name): kind=\(kinds[0].rawValue)` (or another)"))
            }
            out += group.filter { $0.kind == kinds[0] }
        }
        return .success(out)
    }

    /// The error when no candidate fits: the line, the cut text, the candidates and the first miss.
    static func noFit(_ r: SearchRow, reason: String) -> String {
        "layer '\(r.row.name)': the type \(text(r.row)) is cut short and none of its candidates (\(list(r.kinds))) fits: \(reason)"
    }

    static func list(_ kinds: [LayerKind]) -> String {
        kinds.prefix(8).map(\.rawValue).joined(separator: ", ") + (kinds.count > 8 ? ", ... (\(kinds.count) classes)" : "")
    }
}
