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
//   Standalone Keras 2.0 to 2.3: the saved implementation, 1 (or the deprecated 0) a mask per
//     gate and 2 one; a GRU with implementation=2 and recurrent_dropout carried its masked
//     state: refused. 2.0.9 to 2.1.2 (and their "-tf" builds) drew the state's mask at the
//     `dropout` rate: reproduced, with a note.
// A file that records no version is read as the newest of its format (Keras 3.8+, tf.keras).

enum KerasCellDropoutRules {
    /// The Keras that saved a file: Keras 3 or 2, its version numbers if recorded, tf.keras or not.
    struct Saver {
        var keras3: Bool, minor: Int?, tfKeras: Bool
        /// The version drew the state's mask at the `dropout` rate (Keras 3.0-3.1, 2.0.9-2.1.2).
        var stateMaskAtInputRate: Bool

        init(keras3: Bool, version: String?) {
            self.keras3 = keras3
            let parts = version.map { $0.split(separator: ".").map { Int($0.prefix { $0.isNumber }) } } ?? []
            let major = parts.first ?? nil, patch = parts.count > 2 ? parts[2] : nil
            minor = parts.count > 1 ? parts[1] : nil
            tfKeras = !keras3 && (version == nil || version!.hasSuffix("-tf") || (major ?? 2) > 2 || (minor ?? 4) >= 4)
            let keras2Bug = !keras3 && major == 2 && ((minor == 0 && (patch ?? 0) >= 9) || (minor == 1 && (patch ?? 3) <= 2))
            stateMaskAtInputRate = keras2Bug || (keras3 && minor.map { $0 < 2 } ?? false)
        }

        /// "Keras 3.6", "Keras 2.1" (the major and minor numbers).
        var name: String { "Keras \(keras3 ? 3 : 2).\(minor.map(String.init) ?? "x")" }
    }

    /// The layer's masks (nil: no in-cell dropout). `fused`: tf.keras's fused kernel could run
    /// the layer (tanh, sigmoid gates, biases, no unroll, a GRU's reset_after).
    static func masks(_ cell: RecurrentCell, _ c: JNode, saver: Saver, fused: Bool) throws -> CellDropout? {
        var (input, recurrent) = (try rate(c, "dropout"), try rate(c, "recurrent_dropout"))
        if saver.stateMaskAtInputRate && recurrent > 0 { recurrent = input }
        guard input > 0 || recurrent > 0 else { return nil }
        let node = try c.present("implementation")
        if saver.keras3 && (saver.minor ?? 8) < 8 {
            if cell == .gru && recurrent > 0 {
                throw try c.required("recurrent_dropout").error("recurrent_dropout in a GRU saved by \(saver.name) (before 3.8, Keras 3 multiplied the state itself by the mask and carried the masked state into the new one) is not supported; Keras 3.8 and later mask only the state's projections")
            }
            return CellDropout(input: input, recurrent: recurrent, perGate: false)
        }
        // Keras 2 always saves the implementation; a config without one is read as tf.keras 2.4+
        // ran it (forced to 1 with recurrent_dropout)
        let implementation = try node?.int(min: 0, max: 2) ?? (recurrent > 0 ? 1 : 2)
        if saver.keras3 {
            return CellDropout(input: input, recurrent: recurrent, perGate: cell != .simpleRNN && (recurrent > 0 || implementation < 2))
        }
        if cell == .gru && recurrent > 0 && implementation == 2, let node {
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

    /// The note of a layer whose masks the saver's version decided, if any: `d` the masks read,
    /// `config` the rates the config states (dropout, recurrent_dropout).
    static func note(_ d: CellDropout?, saver: Saver, config: (input: Float, recurrent: Float)) -> String? {
        if saver.stateMaskAtInputRate && config.recurrent > 0 && config.recurrent != config.input {
            return "recurrent_dropout=\(config.recurrent) trained as \(saver.name) did: its state mask drawn at the dropout rate, \(config.input)"
                + (config.input == 0 ? ", so none" : "")
        }
        guard saver.keras3, let d else { return nil }
        guard let minor = saver.minor else {
            return "in-cell dropout as Keras 3.8 and later draw it (the file records no Keras version; Keras 3.0-3.7 shared one mask each for the input and the state, and their GRU carried the masked state)"
        }
        guard minor < 8 else { return nil }
        let masks = [d.input > 0 ? "the input" : nil, d.recurrent > 0 ? "the state" : nil].compactMap { $0 }.joined(separator: " and ")
        return "in-cell dropout as \(saver.name) drew it: one mask for \(masks)\(d.recurrent > 0 ? " (Keras 3.8 and later draw one per gate with recurrent_dropout)" : "")"
    }
}
