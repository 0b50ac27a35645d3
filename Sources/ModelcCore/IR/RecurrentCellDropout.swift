// A table's in-cell dropout. A summary table never prints an LSTM's, GRU's or SimpleRNN's
// `dropout` (over the input's features) or `recurrent_dropout` (over the previous state's
// units); `layer NAME: dropout=0.2 recurrent_dropout=0.2` says them. Keras 3.8+ and tf.keras
// 2.4+ draw one mask per gate whenever recurrent_dropout is set (implementation=1, which they
// force), else one for all gates; `implementation=1` or `=2` says which otherwise, and the note
// says which was taken (Keras 3.0-3.7 and 2.3 shared one mask, and their GRU carried the masked
// state into the new one, which modelc refuses; Keras 2.2.5 and earlier drew one per gate:
// Frontend/KerasCellDropoutRules.swift). The masks apply in training only
// (Kernels/RecurrentDropout.swift in the runtime).
//
// Before: a resolved IR whose recurrent layers have no in-cell dropout, and the annotations.
// After:  the annotated recurrent layers (and Bidirectional ones around them) have `cellDropout`
//         with a note; a layer named for it that is not recurrent is an error naming it.

enum RecurrentCellDropout {
    static func apply(_ ir: inout ModelIR, annotations ann: Annotations, document doc: Document) throws {
        for i in ir.layers.indices {
            let o = ann.overrides(for: ir.layers[i].name)
            guard !o.cellDropoutKeys.isEmpty else { continue }
            let line = ann.line(of: ir.layers[i].name) { !$0.cellDropoutKeys.isEmpty } ?? ir.layers[i].line
            guard case .recurrent(var a) = ir.layers[i].op else {
                // a glob (`layer *:`) sets it where it applies; a layer named for it must take it
                guard !ann.namedOverrides(for: ir.layers[i].name).cellDropoutKeys.isEmpty else { continue }
                throw doc.error(line, "layer '\(ir.layers[i].name)' (\(ir.layers[i].kind)): dropout=, recurrent_dropout= and implementation= apply to SimpleRNN, LSTM and GRU layers (and a Bidirectional one around them); a Dropout layer's rate is rate=")
            }
            let (input, recurrent) = (o.dropout ?? 0, o.recurrentDropout ?? 0)
            if a.cell == .gru && recurrent > 0 && o.implementation == 2 {
                throw doc.error(line, "layer '\(ir.layers[i].name)': implementation=2 with recurrent_dropout (an older Keras's GRU, which carried its masked state into the new one) is not supported; Keras 2.4 and later and Keras 3 run implementation=1")
            }
            guard input > 0 || recurrent > 0 else { continue }
            let perGate = a.cell != .simpleRNN && (o.implementation.map { $0 == 1 } ?? (recurrent > 0))
            a.cellDropout = CellDropout(input: input, recurrent: recurrent, perGate: perGate)
            ir.layers[i].op = .recurrent(a)
            var note = "in-cell \(a.cellDropout!.description) (annotated), in training only"
            if o.implementation == nil && a.cell != .simpleRNN {
                note += recurrent > 0 ? "; a mask per gate, as Keras 3.8+ and tf.keras 2.4+ (Keras 3.0-3.7 and 2.3 shared one: annotate implementation=2)"
                    : "; one mask, as Keras 3 and tf.keras (Keras 2.2.5 and earlier drew one per gate: annotate implementation=1)"
            }
            ir.layers[i].notes.append(note)
        }
    }
}
