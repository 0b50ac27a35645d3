// TimeDistributed: a layer applied to every step of a sequence with the same weights. Keras's
// wrapper over (steps, ...) is, for the layers it can hold here, an op the IR already has:
//   Dense     (T, ..., F) -> (T, ..., units): Dense on the last axis (rows = steps)
//   Flatten   (T, H, W, C) -> (T, H*W*C): a reshape (H, W, C order within each step)
//   Dropout   any shape, unchanged (the table cannot tell it from an activation: `layer=`)
//   Activation, ReLU, LeakyReLU, Softmax: elementwise, unchanged
// So the IR holds that op with the layer's kind "TimeDistributed", its tensors named
// `<layer>/kernel`, `<layer>/bias`. Convolutions and pooling per step (a (T, H, W, C) input
// whose H, W change) are refused: the kernels run one image per sample.
//
// Table inference (no config): a row with parameters is Dense (units from the output's last
// axis, bias from the count); a row without parameters is Flatten when it merges the axes
// after the steps, and must be annotated `layer NAME: layer=Dropout|Activation` when it keeps
// the shape (an identity for inference, but not for training).

enum TimeDistributedInference {
    static func solve(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.input.count >= 2 else {
            r.reason = "TimeDistributed needs a sequence input (steps, ...) but gets \(Inference.shapeText(q.input))"
            return r
        }
        if let inner = q.o.wrapped { return wrapped(inner, q) }
        if q.params > 0 {
            var d = q
            d.kind = .dense
            if let o = q.declaredOut, o.count != q.input.count || o.dropLast() != q.input.dropLast() {
                r.reason = "a TimeDistributed layer with parameters is read as Dense on each step, which keeps \(Inference.shapeText(Array(q.input.dropLast()))) but the table says \(Inference.shapeText(o)); TimeDistributed around a Conv2D or pooling layer is not supported"
                return r
            }
            return relabel(BasicInference.dense(d))
        }
        let flat = [q.input[0], q.input.dropFirst().reduce(1, *)]
        if let o = q.declaredOut, o == flat, q.input.count > 2 {
            r.fits = [LayerCandidate(kind: .timeDistributed, op: .reshape(flat), output: flat)]
            return r
        }
        if q.declaredOut == nil || q.declaredOut == q.input {
            r.reason = "a TimeDistributed layer without parameters that keeps the shape may wrap Dropout or an activation, which the table does not show: annotate `layer \(q.name): layer=Dropout` (or Activation, ReLU, ...)"
        } else {
            r.reason = "TimeDistributed maps \(Inference.shapeText(q.input)) to \(Inference.shapeText(q.declaredOut)) without parameters; only Flatten (to \(Inference.shapeText(flat))) is supported (per-step pooling is not)"
        }
        return r
    }

    /// The annotated layer inside (`layer=Dense`, ...), solved on the same query.
    static func wrapped(_ inner: LayerKind, _ q: InferenceQuery) -> Fits {
        var i = q
        i.kind = inner
        switch inner {
        case .dense, .dropout, .activation, .relu, .leakyReLU, .softmax:
            return relabel(Inference.solve(i))
        case .flatten:
            var r = Fits()
            let flat = [q.input[0], q.input.dropFirst().reduce(1, *)]
            guard q.params == 0, q.declaredOut == nil || q.declaredOut == flat else {
                r.reason = "TimeDistributed(Flatten) maps \(Inference.shapeText(q.input)) to \(Inference.shapeText(flat)) without parameters"
                return r
            }
            r.fits = [LayerCandidate(kind: .timeDistributed, op: .reshape(flat), output: flat)]
            return r
        default:
            var r = Fits()
            r.reason = "TimeDistributed(\(inner.rawValue)) is not supported (Dense, Flatten, Dropout and activations are)"
            return r
        }
    }

    static func relabel(_ f: Fits) -> Fits {
        var r = f
        for i in r.fits.indices { r.fits[i].kind = .timeDistributed }
        return r
    }
}
