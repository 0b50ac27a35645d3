// PyTorchRecurrent: nn.LSTM, nn.GRU, nn.RNN in a `print(model)` repr, and the token-id input of
// a model that starts with one or with an Embedding (PyTorchEmbedding.swift).
//
//   LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
//        bidirectional=False, proj_size=0)      GRU(...) and RNN(...) alike
//
// A module with num_layers = L becomes L recurrent layers (the first L-1 return sequences,
// with Dropout(dropout) between them when dropout > 0), each named by its state_dict keys
// (IR/Recurrent.swift: weight_ih_l<k>, weight_hh_l<k>, bias_ih_l<k>, bias_hh_l<k>, `_reverse`).
// batch_first changes only how a batch is laid out, not one sample's (steps, features).
//
// A repr cannot show what forward() keeps of `out, (h_n, c_n) = self.lstm(x)`; the annotation
// `layer NAME: output=last|hidden|sequence` says it:
//   last      out[:, -1]: the last step's output (unidirectional only: for a bidirectional
//             module it mixes the backward direction's first step in, which is not computed)
//   hidden    h_n[-1] (cat(h_n[-2], h_n[-1]) when bidirectional): the final states
//   sequence  out, every step, read by the next recurrent module
// Default: sequence when the next module with parameters is recurrent, else last; a
// bidirectional module must be annotated. nn.RNN's nonlinearity='relu' is not printed by its
// repr: tanh is assumed and said so.

/// What a PyTorch forward() keeps of a recurrent module's output.
enum TorchRecurrentOutput: String, Equatable {
    case last, hidden, sequence
}

extension PyTorchModules {
    static let recurrentTypes: [String: RecurrentCell] = ["LSTM": .lstm, "GRU": .gru, "RNN": .simpleRNN]

    /// LSTM / GRU / RNN arguments; output mode `.last` until the annotations are applied.
    static func recurrent(_ r: PTModuleArgs, cell: RecurrentCell) throws -> PTOp {
        let d = try r.int("input_size", 0), u = try r.int("hidden_size", 1), layers = try r.int("num_layers", 2, 1)
        guard d > 0, u > 0, layers > 0, d <= 65536, u <= 65536, layers <= 64 else { throw r.err("implausible sizes in '\(r.module.args)'") }
        let dropout = try r.float("dropout", nil, 0)
        guard dropout >= 0, dropout < 1 else { throw r.err("dropout=\(dropout): expected 0 <= p < 1") }
        if try r.int("proj_size", nil, 0) != 0 { throw r.err("proj_size (an LSTM with projections) is not supported") }
        if let n = r.a.keyword["nonlinearity"], !n.contains("tanh") { throw r.err("nonlinearity=\(n): only tanh is supported") }
        return .recurrent(cell: cell, input: d, hidden: u, layers: layers, bias: try r.bool("bias", true), dropout: dropout,
                          bidirectional: try r.bool("bidirectional", false), output: .last)
    }
}

extension PyTorchBuilder {
    /// Sets each recurrent module's output mode from `output=` or the default (see the top of
    /// this file), adding the assumption when it was not annotated.
    static func applyRecurrentOutputs(_ m: inout ReprModules, ann: Annotations, doc: Document, assumptions: inout [String]) throws {
        for (i, st) in m.declared.enumerated() {
            guard case .recurrent(let c, let d, let u, let l, let b, let p, let bi, _) = st.op else { continue }
            let next = m.declared[(i + 1)...].first { $0.op.hasParams }
            var nextIsRecurrent = false
            if case .recurrent? = next?.op { nextIsRecurrent = true }
            let mode: TorchRecurrentOutput
            if let o = ann.overrides(for: st.name).output {
                mode = o
            } else if nextIsRecurrent {
                mode = .sequence
                assumptions.append("module '\(st.name)' (\(m.kinds[st.name] ?? "")): forward passes its whole output sequence to '\(next?.name ?? "")' (annotate `layer \(st.name): output=sequence|last|hidden`)")
            } else if bi {
                throw doc.error(st.line, "module '\(st.name)' (\(m.kinds[st.name] ?? "")) is bidirectional, and the repr does not show what forward keeps of its output: annotate `layer \(st.name): output=hidden` (torch.cat((h_n[-2], h_n[-1]), 1)) or `output=sequence`")
            } else {
                mode = .last
                assumptions.append("module '\(st.name)' (\(m.kinds[st.name] ?? "")): forward keeps out[:, -1], the last step's output (annotate `layer \(st.name): output=sequence|last|hidden`)")
            }
            if mode == .last && bi {
                throw doc.error(st.line, "module '\(st.name)': output=last (out[:, -1]) of a bidirectional module is not supported (its backward half is the state after one step); use output=hidden")
            }
            let op = PTOp.recurrent(cell: c, input: d, hidden: u, layers: l, bias: b, dropout: p, bidirectional: bi, output: mode)
            m.declared[i].op = op
            m.ops[st.name] = op
        }
        if m.declared.contains(where: { if case .recurrent(cell: .simpleRNN, _, _, _, _, _, _, _) = $0.op { return true }; return false }) {
            assumptions.append("nn.RNN nonlinearity tanh (its repr does not print nonlinearity='relu')")
        }
    }

    /// The input of a model whose first module with parameters is recurrent or an Embedding:
    /// `input: shape=STEPSxFEATURES` (or `shape=STEPS` for token ids), taken as written.
    static func sequenceInput(_ m: ReprModules, ann: Annotations, doc: Document) throws -> [Int]? {
        guard let first = m.declared.first(where: { $0.op.hasParams }) else { return nil }
        switch first.op {
        case .recurrent(_, let d, _, _, _, _, _, _):
            guard let s = ann.inputShape else {
                throw doc.error(first.line, "module '\(first.name)' (\(m.kinds[first.name] ?? "")) reads a sequence of \(d) features per step, and the repr does not say how many steps: annotate `input: shape=STEPSx\(d)`")
            }
            guard s.count == 2, s[1] == d else {
                throw doc.error(ann.inputLine, "input shape \(s.map(String.init).joined(separator: "x")): module '\(first.name)' (\(m.kinds[first.name] ?? "")) reads STEPSx\(d) (steps, input_size)")
            }
            return s
        case .embedding:
            guard let s = ann.inputShape, s.count == 1 else {
                let kind = m.kinds[first.name] ?? "Embedding"
                throw doc.error(ann.inputLine ?? first.line, "module '\(first.name)' (\(kind)) reads token ids"
                    + (kind == "EmbeddingBag" ? " (one bag per sample)" : "") + ", and the repr does not say how many: annotate `input: shape=STEPS` (the padded length of your data)")
            }
            return s
        default:
            return nil
        }
    }

    /// The input layer's note: (C, H, W), or the steps (and features) a sequence module reads.
    static func inputNote(_ input: [Int], first: Layer?) -> String {
        guard let f = first, isSequenceModule(f) else { return "input \(chw(input)) (C, H, W)" }
        return input.count == 1 ? "input \(input) (steps: token ids)" : "input \(input) (steps, features)"
    }

    /// A recurrent layer or an Embedding, whose shapes are (steps, features) in PyTorch's order too.
    static func isSequenceModule(_ l: Layer) -> Bool {
        switch l.op { case .recurrent, .embedding, .embeddingBag: return true; default: return false }
    }

    /// Appends a recurrent module (one layer per num_layers) or an Embedding to the chain.
    static func appendSequenceModule(_ st: PTStep, kind: String, to c: inout Chain, err: (String) -> ModelError) throws {
        switch st.op {
        case .recurrent(let cell, let d, let u, let layers, let bias, let dropout, let bi, let output):
            guard c.shape.count == 2 else { throw err("needs a sequence input (steps, \(d)) but gets \(chw(c.shape))") }
            guard c.shape[1] == d else { throw err("input_size=\(d) but the input has \(c.shape[1]) features per step") }
            let steps = c.shape[0]
            for k in 0..<layers {
                var a = RecurrentAttrs(cell: cell, units: u, returnSequences: k < layers - 1 || output == .sequence,
                                       biasRows: bias ? 2 : 0, resetAfter: cell == .gru)
                a.bidirectional = bi ? .concat : nil
                a.torch = TorchRecurrentNames(module: st.name, layer: k)
                let note = "PyTorch \(kind) layer \(k)" + (k == layers - 1 ? ", output=\(output.rawValue)" : ", its sequence to layer \(k + 1)")
                c.add(k == 0 ? st.name : "\(st.name)_l\(k)", kind, .recurrent(a), a.outputShape(steps: steps), line: st.line, notes: [note])
                if k < layers - 1 && dropout > 0 {
                    c.add("\(st.name)_dropout\(k)", "Dropout", .dropout(rate: dropout, spatial: false), c.shape, line: st.line,
                          notes: ["the module's dropout=\(dropout) between layers \(k) and \(k + 1)"])
                }
            }
            c.recurrentSequence = output == .sequence ? st.name : nil
        case .embedding:
            try appendEmbedding(st, kind: kind, to: &c, err: err)
        default:
            throw err("not a recurrent module")
        }
    }
}
