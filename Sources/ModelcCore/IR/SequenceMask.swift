// Sequence masks (Keras Masking, Embedding(mask_zero=True)) in the IR.
//
// Keras semantics (checked against Keras 3.15, TF backend, by the `masking` fixture): a mask
// marks each step of a sample as kept or masked. Masking(mask_value=v) masks the steps whose
// values all equal v, and outputs zeros there; Embedding(mask_zero=True) masks the steps whose
// token id is 0. A recurrent layer reading a masked sequence skips the masked steps: the state
// (and an LSTM's cell) is carried over unchanged, and with return_sequences the output there is
// the previous output (zeros inside a Bidirectional layer, which sets zero_output_for_mask).
// With return_sequences the mask flows on to the next layer; without, it ends there.
//
// modelc computes a mask from the model's input only, so its source must be the first layer
// (a Masking layer or an Embedding, which is always first). Between the source and the last
// layer it reaches, the mask passes through layers that keep the steps (Dense on the last
// axis, TimeDistributed, Dropout, activations) to the recurrent layers, which get
// `RecurrentAttrs.mask`. Any other layer reading a masked sequence, or a masked sequence at
// the model's output (Keras would mask the loss), is refused.
//
// Before `SequenceMasking.apply`: the layers with every op resolved, no RecurrentAttrs.mask.
// After:  each recurrent layer the mask reaches has `mask` set, or an error names the layer
//         that cannot take a mask.

/// What marks a step as masked, computed from the model's input.
public enum SequenceMask: Equatable, Codable, Sendable {
    /// Every value of the step (`stepSize` values of the model's input) equals `value` (Keras Masking).
    case value(Float, stepSize: Int)
    /// The step's token id is 0 (Keras Embedding(mask_zero=True)).
    case tokenZero

    public var description: String {
        switch self {
        case .value(let v, _): return "steps equal to \(v)"
        case .tokenZero: return "token id 0"
        }
    }
}

enum SequenceMasking {
    /// A Masking row: no parameters, the shape kept; mask_value from the annotation, else 0.
    static func infer(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params == 0 else { r.reason = "has \(formatCount(q.params)) params but Masking has none"; return r }
        guard q.input.count >= 2 else { r.reason = "Masking needs a sequence input (steps, ...) but gets \(Inference.shapeText(q.input))"; return r }
        if let d = q.declaredOut, d != q.input {
            r.reason = "Masking keeps the shape \(Inference.shapeText(q.input)) but the table says \(Inference.shapeText(d))"
            return r
        }
        r.fits = [LayerCandidate(kind: .masking, op: .masking(value: q.o.maskValue ?? 0), output: q.input)]
        return r
    }

    /// Sets `mask` on the recurrent layers a mask reaches (see the top of this file). `maskZero`:
    /// the first layer is an Embedding with mask_zero=True. `fail(layer, message)` makes the error.
    static func apply(_ layers: inout [Layer], maskZero: Bool, fail: (Layer, String) -> ModelError) throws {
        var source: (SequenceMask, String)?
        for (i, l) in layers.enumerated() {
            if case .masking(let v) = l.op {
                guard isFirst(i, layers), l.producers == nil else {
                    throw fail(l, "a Masking layer must be the first layer after the input: modelc computes the mask from the model's input")
                }
                source = (.value(v, stepSize: l.inputShape.dropFirst().reduce(1, *)), l.name)
            }
        }
        if maskZero, let i = layers.firstIndex(where: { $0.op.isEmbedding }) {
            source = (.tokenZero, layers[i].name)
        }
        guard let (mask, from) = source else { return }
        let start = (layers.firstIndex { $0.name == from } ?? 0) + 1
        for i in start..<layers.count {
            let l = layers[i]
            if l.producers != nil { throw fail(l, "reads the masked sequence of '\(from)' in a graph; masks are supported in single chains only") }
            switch l.op {
            case .recurrent(var a):
                a.mask = mask
                layers[i].op = .recurrent(a)
                if !a.returnSequences { return }
            case .dropout, .activation, .dense, .lambda:
                continue
            case .reshape(let t) where t.first == l.inputShape.first && t.count == 2:
                continue   // TimeDistributed(Flatten): the steps kept
            default:
                throw fail(l, "\(l.kind) reads the masked sequence of '\(from)': modelc applies a mask in recurrent layers only (with Dense, TimeDistributed, Dropout and activations between them)")
            }
        }
        throw fail(layers[layers.count - 1], "the model's output is still masked by '\(from)' (Keras would mask the loss over the steps); end the masked layers with a recurrent layer without return_sequences")
    }

    static func isFirst(_ i: Int, _ layers: [Layer]) -> Bool {
        i == 0 || (i == 1 && layers[0].op == .input)
    }
}

extension Op {
    var isEmbedding: Bool { if case .embedding = self { return true }; return false }
}
