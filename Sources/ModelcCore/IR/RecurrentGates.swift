// A table's recurrent cells: their activation (`layer NAME: activation=relu`; tanh by default,
// which a table does not print either) and their LSTM and GRU gates. A summary table never
// prints recurrent_activation: Keras
// 2.3.0 and later (and Keras 3) default to sigmoid, Keras 2.2.5 and earlier to hard_sigmoid.
// `layer NAME: recurrent_activation=hard_sigmoid` says which; hard_sigmoid is the table's Keras
// version's: clip(0.2 x + 0.5, 0, 1) in a Keras 2 or tf.keras table, relu6(x + 3) / 6 =
// clip(x / 6 + 0.5, 0, 1) in a Keras 3 one (or one that shows no version).
//
// Before: a resolved IR whose recurrent layers compute sigmoid gates, and the annotations.
// After:  the annotated LSTM and GRU layers have `hardGateSlope` (0.2 or 1/6) with a note, the
//         recurrent layers annotated activation=relu their `activation`; an annotation on any
//         other layer is an error naming it.

enum RecurrentGates {
    static func apply(_ ir: inout ModelIR, annotations ann: Annotations, layout: String, document doc: Document) throws {
        let kerasTwo = SemanticDefaults.isKerasTwo(layout: layout)
        let slope = SemanticDefaults.hardSigmoidSlope(kerasThree: !kerasTwo)
        for i in ir.layers.indices {
            try applyActivation(&ir.layers[i], annotations: ann, document: doc)
            guard let v = ann.overrides(for: ir.layers[i].name).recurrentActivation else { continue }
            guard case .recurrent(var a) = ir.layers[i].op, a.cell != .simpleRNN else {
                // a glob (`layer *:`) sets it where it applies; a layer named for it must take it
                guard ann.namedOverrides(for: ir.layers[i].name).recurrentActivation != nil else { continue }
                let line = ann.line(of: ir.layers[i].name) { $0.recurrentActivation != nil }
                throw doc.error(line ?? ir.layers[i].line, "layer '\(ir.layers[i].name)' (\(ir.layers[i].kind)): recurrent_activation applies to LSTM and GRU layers (and a Bidirectional one around them)")
            }
            a.hardGateSlope = v == "hard_sigmoid" ? slope : nil
            ir.layers[i].op = .recurrent(a)
            if v == "hard_sigmoid" {
                let version = kerasTwo ? "the Keras 2 form" : layout.hasPrefix("keras3") ? "the Keras 3 form"
                    : "Keras 3's form: the \(layout) table shows no Keras version (Keras 2's is clip(0.2 x + 0.5, 0, 1))"
                ir.layers[i].notes.append("recurrent_activation=hard_sigmoid (annotated): gates clip(\(kerasTwo ? "0.2 x" : "x / 6") + 0.5, 0, 1), \(version)")
            }
        }
    }

    /// `activation=relu|tanh` on a recurrent layer (named, or by a glob): its cell's activation
    /// (tanh by default).
    static func applyActivation(_ L: inout Layer, annotations ann: Annotations, document doc: Document) throws {
        guard case .recurrent(var a) = L.op, let act = ann.overrides(for: L.name).activation else { return }
        switch act {
        case .relu: a.activation = .relu
        case .tanh: a.activation = nil
        default:
            let line = ann.line(of: L.name) { $0.activation != nil }
            throw doc.error(line ?? L.line, "layer '\(L.name)' (\(L.kind)): activation=\(act.name): a recurrent cell computes tanh or relu")
        }
        L.op = .recurrent(a)
        if a.activation == .relu { L.notes.append("activation=relu (annotated): the cell's candidate and output use relu in place of tanh") }
    }
}
