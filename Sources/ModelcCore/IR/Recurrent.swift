// Recurrent layers (SimpleRNN, LSTM, GRU) and Embedding in the IR.
//
// A recurrent layer reads a sequence [T, D] and returns the last state [U] or, with
// `return_sequences`, every state [T, U]. Its tensors (Keras layout, gate blocks side by side
// along the last axis, G = 1, 4, 3 gates):
//   kernel            [D, G*U]   the input projection
//   recurrent_kernel  [U, G*U]   the state projection
//   bias              [G*U], or [2, G*U] with a second row added to the state projection
//                     (GRU reset_after=True, the Keras 3 default; PyTorch's bias_hh)
// Gate order: LSTM i, f, c, o (PyTorch's i, f, g, o: the same); GRU z, r, h (PyTorch's
// r, z, n: permuted when reading a state_dict).
// (tanh below is the cell's activation: relu when `activation` says so.)
//   SimpleRNN  h = tanh(x Wx + h' Wh + b)
//   LSTM       i, f, o = sigmoid(.), c~ = tanh(.); c = f c' + i c~; h = o tanh(c)
//   GRU        z, r = sigmoid(x Wz|r + h' Uz|r + b); reset_after: h~ = tanh(x Wh + b + r (h' Uh + b2)),
//              else h~ = tanh(x Wh + b + (r h') Uh); h = z h' + (1 - z) h~
// Parameter count: G U (D + U) + rows G U, rows = number of bias rows (0, 1, 2).
// A PyTorch nn.LSTM / nn.GRU / nn.RNN layer (`torch` set) keeps the same internal layout with
// state_dict keys `<module>.weight_ih_l<k>[_reverse]` ([G*U, D], the kernel transposed),
// `weight_hh_l<k>` ([G*U, U]), `bias_ih_l<k>` and `bias_hh_l<k>` ([G*U] each, the two bias rows);
// its GRU blocks are r, z, n (the kernels' `resetFirst`) and always reset_after.
// Embedding: token ids [T] -> [T, dim] from `embeddings` [vocab, dim] (count vocab * dim).

public enum RecurrentCell: String, Codable, Sendable {
    case simpleRNN = "SimpleRNN"
    case lstm = "LSTM"
    case gru = "GRU"

    /// Gate blocks in the kernels: 1, 4, 3.
    public var gates: Int {
        switch self {
        case .simpleRNN: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }
}

/// How a Bidirectional layer combines its directions (Keras merge_mode; concat doubles the units).
public enum BidirectionalMerge: String, Codable, Sendable, CaseIterable {
    case concat, sum, mul, ave
}

public struct RecurrentAttrs: Equatable, Codable, Sendable {
    public var cell: RecurrentCell
    public var units: Int
    public var returnSequences: Bool
    /// Bias rows: 0 (use_bias=False), 1, or 2 (a recurrent bias row: GRU reset_after=True with
    /// a bias, PyTorch's bias_ih + bias_hh).
    public var biasRows: Int
    /// GRU only: the reset gate multiplies the state's projection (true) or the state (false).
    public var resetAfter: Bool
    /// Set for a Keras Bidirectional layer around this cell: a second copy of the tensors reads
    /// the sequence backwards, and the two outputs are merged.
    public var bidirectional: BidirectionalMerge? = nil
    /// Set for one layer of a PyTorch recurrent module: its state_dict names and gate order.
    public var torch: TorchRecurrentNames? = nil
    /// Set when the layer reads a masked sequence (IR/SequenceMask.swift): masked steps keep the
    /// previous state.
    public var mask: SequenceMask? = nil
    /// LSTM and GRU: hard sigmoid gates clip(slope x + 0.5, 0, 1) instead of sigmoid (Keras's
    /// recurrent_activation="hard_sigmoid": slope 0.2 in Keras 2, whose 2.2.5 and earlier made
    /// it the default; 1/6 in Keras 3).
    public var hardGateSlope: Float? = nil
    /// The cell's activation when it is not tanh: relu (SimpleRNN's output; LSTM's candidate and
    /// its c in h = o act(c); GRU's candidate), from Keras `activation="relu"`, ONNX activations
    /// (an exported nn.RNN(nonlinearity="relu")), or a table's annotation `activation=relu`.
    public var activation: RecurrentActivation? = nil
    /// Keras's in-cell dropout (`dropout`, `recurrent_dropout`), applied in training only.
    public var cellDropout: CellDropout? = nil

    public init(cell: RecurrentCell, units: Int, returnSequences: Bool, biasRows: Int, resetAfter: Bool) {
        self.cell = cell; self.units = units; self.returnSequences = returnSequences
        self.biasRows = biasRows; self.resetAfter = resetAfter
    }

    /// Parameters for `inputs` features per step.
    public func paramCount(inputs d: Int) -> Int {
        let g = cell.gates * units
        return (g * (d + units) + biasRows * g) * (bidirectional == nil ? 1 : 2)
    }

    /// Output features: units, twice that for a concatenating Bidirectional layer.
    public var outputUnits: Int { bidirectional == .concat ? 2 * units : units }

    /// Output shape for `steps` steps.
    public func outputShape(steps: Int) -> [Int] { returnSequences ? [steps, outputUnits] : [outputUnits] }

    /// The Keras 3 name of the inner layer (forward_lstm, backward_gru, ...): snake_case of the cell.
    public var cellName: String { cell == .simpleRNN ? "simple_rnn" : cell.rawValue.lowercased() }

    /// The hyperparameters as `check` prints them: "64 units, return_sequences, reset_after".
    public var description: String {
        var s = "\(units) units"
        if returnSequences { s += ", return_sequences" }
        if cell == .gru { s += resetAfter ? ", reset_after" : ", reset_before" }
        if biasRows == 0 { s += ", no bias" }
        if biasRows == 2 && cell != .gru { s += ", two biases" }
        if let t = torch { s += ", PyTorch layer \(t.layer)" }
        if let m = mask { s += ", masked (\(m.description))" }
        if activation == .relu { s += ", activation relu" }
        if let k = hardGateSlope { s += ", hard_sigmoid gates (\(k == 0.2 ? "0.2" : k == 1 / 6 ? "1/6" : "\(k)") x + 0.5)" }
        if let d = cellDropout { s += ", \(d.description)" + (d.perGate || cell == .simpleRNN ? "" : " (one mask for all gates)") }
        if let m = bidirectional { return "\(cell.rawValue) " + s + ", bidirectional \(m.rawValue)" }
        return s
    }
}

/// A recurrent cell's activation other than tanh.
public enum RecurrentActivation: String, Codable, Sendable {
    case relu
}

/// Keras's dropout inside a recurrent cell, training only: inverted masks drawn once per
/// sequence, over the input's features (`input`, Keras's `dropout`) and the previous state's
/// units (`recurrent`, `recurrent_dropout`), multiplying only what the gates' projections read;
/// `perGate`: one mask per gate block (Keras's implementation=1, forced by recurrent_dropout in
/// tf.keras 2.4+ and Keras 3.8+), else one for all (Kernels/RecurrentDropout.swift in the runtime).
public struct CellDropout: Equatable, Codable, Sendable {
    public var input: Float, recurrent: Float, perGate: Bool
    public init(input: Float, recurrent: Float, perGate: Bool) { self.input = input; self.recurrent = recurrent; self.perGate = perGate }

    /// "dropout 0.2, recurrent_dropout 0.2 (a mask per gate)".
    public var description: String {
        var parts: [String] = []
        if input > 0 { parts.append("dropout \(input)") }
        if recurrent > 0 { parts.append("recurrent_dropout \(recurrent)") }
        return parts.joined(separator: ", ") + (perGate ? " (a mask per gate)" : "")
    }
}

/// Layer k of a PyTorch recurrent module at `module` (its state_dict key prefix).
public struct TorchRecurrentNames: Equatable, Codable, Sendable {
    public var module: String
    public var layer: Int
    public init(module: String, layer: Int) { self.module = module; self.layer = layer }

    /// weight_ih_l0, bias_hh_l1_reverse, ... under the module.
    func key(_ name: String, reverse: Bool) -> String { "\(module).\(name)_l\(layer)\(reverse ? "_reverse" : "")" }
}

extension Layer {
    /// The tensors of a recurrent layer in Keras order and layout.
    /// A Bidirectional layer's: the forward direction's, then the backward's, scoped as Keras 3
    /// names them (`<layer>/forward_lstm/kernel`, `<layer>/backward_lstm/kernel`).
    static func recurrentTensors(_ a: RecurrentAttrs, inputs d: Int) -> [ParamTensor] {
        let g = a.cell.gates * a.units
        if let names = a.torch { return torchRecurrentTensors(a, names, inputs: d) }
        func direction(_ scope: String?) -> [ParamTensor] {
            var t = [ParamTensor(role: .kernel, shape: [d, g], trainable: true),
                     ParamTensor(role: .recurrentKernel, shape: [a.units, g], trainable: true)]
            if a.biasRows == 1 {
                var b = ParamTensor(role: .bias, shape: [g], trainable: true)
                if a.cell == .lstm { b.unitForgetBias = a.units }
                t.append(b)
            }
            if a.biasRows == 2 { t.append(ParamTensor(role: .bias, shape: [2, g], trainable: true)) }
            for i in t.indices { t[i].scope = scope }
            return t
        }
        guard a.bidirectional != nil else { return direction(nil) }
        return direction("forward_\(a.cellName)") + direction("backward_\(a.cellName)")
    }

    /// A PyTorch layer's tensors in state_dict order: weight_ih, weight_hh, bias_ih, bias_hh,
    /// then the same `_reverse` when bidirectional.
    static func torchRecurrentTensors(_ a: RecurrentAttrs, _ names: TorchRecurrentNames, inputs d: Int) -> [ParamTensor] {
        let g = a.cell.gates * a.units
        func direction(_ reverse: Bool) -> [ParamTensor] {
            var t = [ParamTensor(role: .kernel, shape: [d, g], trainable: true),
                     ParamTensor(role: .recurrentKernel, shape: [a.units, g], trainable: true)]
            t[0].stateDictKey = names.key("weight_ih", reverse: reverse)
            t[1].stateDictKey = names.key("weight_hh", reverse: reverse)
            for (i, name) in ["bias_ih", "bias_hh"].enumerated() where i < a.biasRows {
                var b = ParamTensor(role: .bias, shape: [g], trainable: true)
                b.stateDictKey = names.key(name, reverse: reverse)
                t.append(b)
            }
            return t
        }
        return direction(false) + (a.bidirectional == nil ? [] : direction(true))
    }
}

/// Inference for SimpleRNN, LSTM, GRU and Embedding (see the top of this file for the counts).
enum RecurrentInference {
    static func cell(_ k: LayerKind) -> RecurrentCell? {
        switch k {
        case .simpleRNN: return .simpleRNN
        case .lstm: return .lstm
        case .gru: return .gru
        default: return nil
        }
    }

    /// Bias-row counts to try, the conventional first: GRU 2 (reset_after=True) then 1
    /// (reset_after=False); LSTM and SimpleRNN 1; then no bias.
    static func biasRowOrder(_ c: RecurrentCell) -> [Int] { c == .gru ? [2, 1, 0] : [1, 0] }

    /// A Bidirectional layer: each inner cell (LSTM, GRU, SimpleRNN, or the annotated `cell=`)
    /// with each merge (concat first, or the annotated `merge=`), solved as the cell on half
    /// the count (and half the units for concat).
    static func bidirectional(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params % 2 == 0 else {
            r.reason = "\(formatCount(q.params)) params is odd, but a Bidirectional layer holds two copies of its layer"
            return r
        }
        let merges: [BidirectionalMerge] = q.o.merge.map { [$0] } ?? [.concat, .sum]
        let kinds: [LayerKind] = q.o.cell.map { [$0] } ?? [.lstm, .gru, .simpleRNN]
        var first: Fits?
        for kind in kinds {
            for m in merges {
                var inner = q
                inner.kind = kind
                inner.params = q.params / 2
                if m == .concat, let d = q.declaredOut {
                    guard let u = d.last, u % 2 == 0 else { continue }
                    inner.declaredOut = Array(d.dropLast()) + [u / 2]
                }
                let f = solve(inner)
                if f.fits.isEmpty { if first == nil { first = f }; continue }
                for c in f.fits {
                    guard case .recurrent(var a) = c.op else { continue }
                    a.bidirectional = m
                    r.fits.append(LayerCandidate(kind: .bidirectional, op: .recurrent(a), output: a.outputShape(steps: q.input.first ?? 0)))
                }
            }
        }
        if r.fits.isEmpty {
            r.reason = "no LSTM, GRU or SimpleRNN inside fits: " + (first?.reason ?? "no merge mode fits the output shape")
            r.detail = first?.detail ?? { "" }
        }
        return r
    }

    static func solve(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard let c = cell(q.kind) else { return r }
        guard q.input.count == 2, q.input[0] >= 1, q.input[1] >= 1 else {
            r.reason = "\(c.rawValue) needs a sequence input (steps, features) but gets \(Inference.shapeText(q.input))"
            return r
        }
        let (steps, d) = (q.input[0], q.input[1])
        if let o = q.declaredOut, o.count != 1 && !(o.count == 2 && o[0] == steps) {
            r.reason = "\(c.rawValue) outputs (units) or (\(steps), units) but the table says \(Inference.shapeText(o))"
            return r
        }
        let unitChoices: [Int]
        if let u = q.declaredOut?.last {
            unitChoices = [u]
        } else {
            unitChoices = biasRowOrder(c).compactMap { units(params: q.params, gates: c.gates, inputs: d, biasRows: $0) }
        }
        let sequences = q.declaredOut.map { [$0.count == 2] } ?? [false]
        for u in unitChoices where u >= 1 {
            for rows in biasRowOrder(c) {
                for rs in sequences {
                    let a = RecurrentAttrs(cell: c, units: u, returnSequences: rs, biasRows: rows, resetAfter: c == .gru && rows != 1)
                    if a.paramCount(inputs: d) == q.params, !r.fits.contains(where: { $0.op == .recurrent(a) }) {
                        r.fits.append(LayerCandidate(kind: q.kind, op: .recurrent(a), output: a.outputShape(steps: steps)))
                    }
                }
            }
        }
        if r.fits.isEmpty {
            let formula = c == .gru ? "3·(u·(d+u)+u), plus 3u with reset_after" : c == .lstm ? "4·(u·(d+u)+u)" : "u·(d+u)+u"
            r.reason = "no unit count fits \(formatCount(q.params)) params with \(d) input features (\(c.rawValue) has \(formula))"
            if let u = q.declaredOut?.last {
                r.detail = Fits.nearest {
                    biasRowOrder(c).map { rows in
                        let a = RecurrentAttrs(cell: c, units: u, returnSequences: false, biasRows: rows, resetAfter: rows != 1)
                        return "\(u) units, \(rows) bias row\(rows == 1 ? "" : "s") = \(formatCount(a.paramCount(inputs: d)))"
                    }
                }
            }
        }
        return r
    }

    /// The positive integer u with G u (d + u) + rows G u = params, if any.
    static func units(params p: Int, gates g: Int, inputs d: Int, biasRows b: Int) -> Int? {
        guard p > 0, p % g == 0 else { return nil }
        let m = p / g   // u^2 + (d + b) u - m = 0
        let s = Double(d + b)
        let u = Int(((-s + (s * s + 4 * Double(m)).squareRoot()) / 2).rounded())
        return u >= 1 && u * (u + d + b) == m ? u : nil
    }

    /// Inputs to try when the table prints none: before an Embedding printing (T, dim), the
    /// token ids (T); before a recurrent layer printing (T, U), (T, D) for each D its count gives;
    /// before a Masking layer, its own shape.
    static func guessedInputs(_ first: SearchRow) -> [[Int]] {
        guard let k = first.row.shape.known, k.count >= 2, k[1] > 0 else { return [] }
        if first.kinds == [.masking] { return [k] }   // keeps its input's shape
        guard k.count == 2 else { return [] }
        if first.kinds == [.embedding] { return [[k[0]]] }
        if first.kinds == [.bidirectional] { return bidirectionalFeatures(first, width: k[1]).map { [k[0], $0] } }
        return features(first, units: k[1]).map { [k[0], $0] }
    }

    /// A first Bidirectional layer printing (steps, width): the features per step D that give
    /// half its count for LSTM, GRU or SimpleRNN with width / 2 units (concat) or width units.
    static func bidirectionalFeatures(_ first: SearchRow, width: Int) -> [Int] {
        guard first.row.params % 2 == 0 else { return [] }
        var out: [Int] = []
        for c in [RecurrentCell.lstm, .gru, .simpleRNN] {
            for u in [width / 2, width] {
                for d in features(params: first.row.params / 2, cell: c, units: u) where !out.contains(d) { out.append(d) }
            }
        }
        return out
    }

    /// The input features per step D that give a first recurrent row's count with `units`, for
    /// each bias-row count (conventional first, no repeats).
    static func features(_ first: SearchRow, units u: Int) -> [Int] {
        guard first.kinds.count == 1, let c = cell(first.kinds[0]) else { return [] }
        return features(params: first.row.params, cell: c, units: u)
    }

    /// D with params = gates * u * (D + u + biasRows), for each bias-row count of the cell.
    static func features(params: Int, cell c: RecurrentCell, units u: Int) -> [Int] {
        guard u > 0 else { return [] }
        var out: [Int] = []
        for rows in biasRowOrder(c) where params % (c.gates * u) == 0 {
            let d = params / (c.gates * u) - u - rows
            if d >= 1 && !out.contains(d) { out.append(d) }
        }
        return out
    }

    /// The error for a first recurrent layer when no input shape is printed or annotated and
    /// the table cannot give one: it returns its last state only (the steps appear nowhere),
    /// or no feature count fits its count.
    static func unknownSteps(first: SearchRow, doc: Document) -> ModelError? {
        if let e = variableLength(first: first, doc: doc) { return e }
        guard let k = first.row.shape.known, !k.isEmpty, first.kinds.count == 1, let c = cell(first.kinds[0]) else { return nil }
        let u = k[k.count - 1]
        let head = "layer '\(first.row.name)' (\(c.rawValue)) is the first layer and the table prints no input shape"
        guard let d = features(first, units: u).first else {
            return doc.error(first.row.line, head + ", and no number of input features gives its \(formatCount(first.row.params)) params with \(u) units; annotate `input: shape=STEPSxFEATURES`")
        }
        if k.count == 2 { return nil }
        return doc.error(first.row.line, head + "; it returns its last state only, so the table does not show how many steps the input has (its count gives \(d) features per step); annotate `input: shape=STEPSx\(d)`")
    }

    /// A first Embedding or recurrent layer whose steps print as None (a variable-length input,
    /// `(None, None, 128)`): counts do not depend on the steps, so nothing can give them.
    static func variableLength(first: SearchRow, doc: Document) -> ModelError? {
        guard case .dims(let d) = first.row.shape, d.count >= 2, d[0] == nil,
              first.kinds.contains(where: { $0 == .embedding || cell($0) != nil || $0 == .bidirectional }) else { return nil }
        var what = first.kinds.contains(.embedding) ? "STEPS" : "STEPSxFEATURES"
        // A recurrent first layer's count tells its features: "STEPSx10" for GRU(10) with 660 params.
        if first.kinds.count == 1, cell(first.kinds[0]) != nil, let u = d.last ?? nil,
           let f = features(first, units: u).first { what = "STEPSx\(f)" }
        return doc.error(first.row.line, "layer '\(first.row.name)' reads a variable-length sequence (steps printed as None in \(first.row.shape.display)); "
            + "modelc compiles a fixed number of steps: annotate `input: shape=\(what)` (e.g. the padded length of your data)")
    }

    static func embedding(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.input.count == 1, q.input[0] >= 1 else {
            r.reason = "Embedding needs token ids (steps) but gets \(Inference.shapeText(q.input))"
            return r
        }
        guard let o = q.declaredOut, o.count == 2, o[0] == q.input[0], o[1] >= 1 else {
            r.reason = "Embedding outputs (\(q.input[0]), dim) but the table says \(Inference.shapeText(q.declaredOut))"
            return r
        }
        guard q.params > 0, q.params % o[1] == 0 else {
            r.reason = "\(formatCount(q.params)) params is not vocabulary x \(o[1])"
            return r
        }
        r.fits = [LayerCandidate(kind: .embedding, op: .embedding(vocab: q.params / o[1], dim: o[1]), output: o)]
        return r
    }
}
