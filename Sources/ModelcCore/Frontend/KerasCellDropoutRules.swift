// Which masks a Keras recurrent layer's in-cell dropout drew, by the Keras that saved the file
// (IR/Recurrent.swift's CellDropout; the runtime's Kernels/RecurrentDropout.swift):
//   Keras 3.8 and later: with recurrent_dropout, a mask per gate on the input and on the state
//     (implementation=1, which 3.8 forces and does not save); without, one input mask.
//   Keras 3.0 to 3.7: one mask each, whatever the implementation, the state's multiplying the
//     state itself, which a GRU then carries into its new state (h = z h' + ...): refused, as an
//     LSTM's carry is its cell and its shared mask stands. 3.0 and 3.1 drew the state's mask at
//     the `dropout` rate (fixed in 3.2): reproduced, with a note.
//   tf.keras (a "-tf" version, or 2.4 and later): the saved implementation (forced to 1 with
//     recurrent_dropout); without recurrent_dropout, the fused kernel's one input mask wherever
//     it runs (tanh, sigmoid gates, biases, no unroll, a GRU reset_after), whatever the saved
//     implementation.
//   Standalone Keras 2.0 to 2.3: the saved implementation, 1 a mask per gate and 2 one; a GRU
//     with implementation=2 and recurrent_dropout carried its masked state: refused.
// A file that records no version is read as the newest of its format (Keras 3.8+, tf.keras).

enum KerasCellDropoutRules {
    /// The Keras that saved a file: Keras 3 or 2, minor version if recorded, tf.keras or not.
    struct Saver {
        var keras3: Bool, minor: Int?, tfKeras: Bool

        init(keras3: Bool, version: String?) {
            self.keras3 = keras3
            let parts = version.map { $0.split(separator: ".").map { Int($0.prefix { $0.isNumber }) } } ?? []
            minor = parts.count > 1 ? parts[1] : nil
            let major = parts.first ?? nil
            tfKeras = !keras3 && (version == nil || version!.hasSuffix("-tf") || (major ?? 2) > 2 || (minor ?? 4) >= 4)
        }
    }

    /// The layer's masks (nil: no in-cell dropout). `fused`: tf.keras's fused kernel could run
    /// the layer (tanh, sigmoid gates, biases, no unroll, a GRU's reset_after).
    static func masks(_ cell: RecurrentCell, _ c: JNode, saver: Saver, fused: Bool) throws -> CellDropout? {
        var (input, recurrent) = (try rate(c, "dropout"), try rate(c, "recurrent_dropout"))
        guard input > 0 || recurrent > 0 else { return nil }
        let node = try c.present("implementation")
        if saver.keras3 && (saver.minor ?? 8) < 8 {
            if saver.minor! < 2 && recurrent > 0 { recurrent = input }   // 3.0, 3.1: the state's mask at the input's rate
            if cell == .gru && recurrent > 0 {
                throw try c.required("recurrent_dropout").error("recurrent_dropout in a GRU saved by Keras 3.\(saver.minor!) (before 3.8, Keras 3 multiplied the state itself by the mask and carried the masked state into the new one) is not supported; Keras 3.8 and later mask only the state's projections")
            }
            return input > 0 || recurrent > 0 ? CellDropout(input: input, recurrent: recurrent, perGate: false) : nil
        }
        // Keras 2 always saves the implementation; a config without one is read as tf.keras 2.4+
        // ran it (forced to 1 with recurrent_dropout)
        let implementation = try node?.int(min: 0, max: 2) ?? (recurrent > 0 ? 1 : 2)
        let gru = cell == .gru && recurrent > 0
        if saver.keras3 {
            return CellDropout(input: input, recurrent: recurrent, perGate: cell != .simpleRNN && (recurrent > 0 || implementation < 2))
        }
        if gru && implementation == 2, let node {
            throw node.error("implementation=2 with recurrent_dropout=\(recurrent) (an older Keras's GRU, which masked its state itself and carried the masked state into the new one) is not supported; later Keras run implementation=1")
        }
        let oneInputMask = saver.tfKeras && recurrent == 0 && fused
        return CellDropout(input: input, recurrent: recurrent, perGate: cell != .simpleRNN && implementation < 2 && !oneInputMask)
    }

    /// A rate in [0, 1) (0 when absent).
    static func rate(_ c: JNode, _ key: String) throws -> Float {
        guard let n = try c.present(key) else { return 0 }
        let v = try n.float()
        guard v >= 0 && v < 1 else { throw n.fail("a rate in [0, 1) (the fraction of \(key == "dropout" ? "input features" : "state units") dropped)") }
        return v
    }

    /// The note of a layer whose masks the saver's version decided, if any.
    static func note(_ d: CellDropout, saver: Saver, configRecurrent: Float) -> String? {
        guard saver.keras3 else { return nil }
        guard let minor = saver.minor else {
            return "in-cell dropout as Keras 3.8 and later draw it (the file records no Keras version; Keras 3.0-3.7 shared one mask each for the input and the state, and their GRU carried the masked state)"
        }
        guard minor < 8 else { return nil }
        if minor < 2 && configRecurrent > 0 {
            return "recurrent_dropout=\(configRecurrent) trained as Keras 3.\(minor) did: its state mask at the dropout rate \(d.input) (fixed in Keras 3.2), one mask each for the input and the state"
        }
        return "in-cell dropout as Keras 3.\(minor) drew it: one mask each for the input and the state (Keras 3.8 and later draw one per gate with recurrent_dropout)"
    }
}
