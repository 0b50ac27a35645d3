// TimeDistributed: a layer applied to every step of a sequence with the same weights. Keras's
// wrapper over (steps, ...) is, for the layers it can hold here, an op the IR already has:
//   Dense     (T, ..., F) -> (T, ..., units): Dense on the last axis (rows = steps)
//   Flatten   (T, H, W, C) -> (T, H*W*C): a reshape (H, W, C order within each step)
//   Dropout   any shape, unchanged (the table cannot tell it from an activation: `layer=`)
//   Activation, ReLU, LeakyReLU, Softmax: elementwise, unchanged
//   Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D on a
//             (T, H, W, C) input: the image op on each of the T images (`Layer.isPerStep`);
//             the layer keeps its (T, ...) shapes and the emitter runs the image op over N*T
//             images (Backend/Ops/PerStepEmitter.swift). Counts are the plain layer's.
// So the IR holds that op with the layer's kind "TimeDistributed", its tensors named
// `<layer>/kernel`, `<layer>/bias`.
//
// Table inference (no config): on a sequence of vectors, a row with parameters is Dense (units
// from the output's last axis, bias from the count); on a sequence of images (T, H, W, C) it is
// Conv2D (kernel, stride, padding solved on one step as for the plain layer). A row without
// parameters is Flatten when it merges the axes after the steps; on images it is a pool when
// H, W shrink (max pooling unless annotated `layer=AveragePooling2D`: the table cannot tell them
// apart, and the note says so) and a global pool to (T, C) (average unless annotated
// `layer=GlobalMaxPooling2D`). One that keeps the shape must be annotated
// `layer NAME: layer=Dropout|Activation` (an identity for inference, but not for training).

enum TimeDistributedInference {
    static func solve(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.input.count >= 2 else {
            r.reason = "TimeDistributed needs a sequence input (steps, ...) but gets \(Inference.shapeText(q.input))"
            return r
        }
        if let inner = q.o.wrapped { return wrapped(inner, q) }
        if q.input.count == 4, let r = images(q) { return r }
        if q.params > 0 {
            var d = q
            d.kind = .dense
            if let o = q.declaredOut, o.count != q.input.count || o.dropLast() != q.input.dropLast() {
                r.reason = "a TimeDistributed layer with parameters is read as Dense on each step, which keeps \(Inference.shapeText(Array(q.input.dropLast()))) but the table says \(Inference.shapeText(o)) (a Conv2D on each step needs a (steps, H, W, C) input and output)"
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
            r.reason = "TimeDistributed maps \(Inference.shapeText(q.input)) to \(Inference.shapeText(q.declaredOut)) without parameters; only Flatten (to \(Inference.shapeText(flat))) and, on (steps, H, W, C) images, pooling are supported"
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
        case _ where perStepKinds.contains(inner):
            return perStep(inner, q)
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
            r.reason = "TimeDistributed(\(inner.rawValue)) is not supported (\(supportedText) are)"
            return r
        }
    }

    /// The image layers TimeDistributed may hold (on a (T, H, W, C) input), and the whole list.
    static let perStepKinds: [LayerKind] = [.conv2D, .maxPooling2D, .averagePooling2D, .globalAveragePooling2D, .globalMaxPooling2D]
    static let supportedText = "Dense, Flatten, Dropout, activations, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D and GlobalMaxPooling2D"

    /// A row over a sequence of images without an annotation: Conv2D with parameters; without,
    /// max pooling when H, W shrink, global average pooling to (T, C).
    /// nil: not an image op (Flatten, an identity, or no printed shape): the vector rules apply.
    static func images(_ q: InferenceQuery) -> Fits? {
        guard let o = q.declaredOut else { return q.params > 0 ? perStep(.conv2D, q) : nil }
        if q.params > 0 { return o.count == 4 ? perStep(.conv2D, q) : nil }
        if o.count == 4, o != q.input { return perStep(.maxPooling2D, q) }
        if o == [q.input[0], q.input[3]], q.input[1] * q.input[2] > 1 { return perStep(.globalAveragePooling2D, q) }
        return nil
    }

    /// The note on a pool chosen without an annotation (IRBuilder.notes), nil for other layers.
    static func assumedPool(_ op: Op) -> String? {
        switch op {
        case .maxPool: return "max pooling assumed: TimeDistributed(AveragePooling2D) prints the same shapes (annotate layer=AveragePooling2D or layer=MaxPooling2D)"
        case .globalAvgPool: return "global average pooling assumed: TimeDistributed(GlobalMaxPooling2D) prints the same shapes (annotate layer=GlobalMaxPooling2D or layer=GlobalAveragePooling2D)"
        default: return nil
        }
    }

    /// The image layer `inner` solved on one step (T, H, W, C) -> (T, ...): the plain layer's
    /// query on (H, W, C), its outputs with the steps put back in front.
    static func perStep(_ inner: LayerKind, _ q: InferenceQuery) -> Fits {
        guard q.input.count == 4 else {
            return Fits(reason: "TimeDistributed(\(inner.rawValue)) needs a sequence of images (steps, H, W, C) but gets \(Inference.shapeText(q.input))")
        }
        let steps = q.input[0]
        var i = q
        i.kind = inner
        i.input = Array(q.input.dropFirst())
        i.inputs = [i.input]
        if let o = q.declaredOut {
            guard o.count >= 2, o[0] == steps else {
                return Fits(reason: "TimeDistributed(\(inner.rawValue)) keeps the \(steps) steps of \(Inference.shapeText(q.input)) but the table says \(Inference.shapeText(o))")
            }
            i.declaredOut = Array(o.dropFirst())
        }
        var r = Inference.solve(i)
        for k in r.fits.indices {
            r.fits[k].kind = .timeDistributed
            r.fits[k].output = [steps] + r.fits[k].output
        }
        if r.fits.isEmpty { r.reason = "read as \(inner.rawValue) on each step: " + r.reason }
        return r
    }

    static func relabel(_ f: Fits) -> Fits {
        var r = f
        for i in r.fits.indices { r.fits[i].kind = .timeDistributed }
        return r
    }
}

extension Layer {
    /// TimeDistributed around an image layer: the op runs on each of the T images of a
    /// (T, H, W, C) input with shared weights (IR/TimeDistributed.swift).
    public var isPerStep: Bool {
        guard kind == LayerKind.timeDistributed.rawValue, inputShape.count == 4 else { return false }
        switch op {
        case .conv2d, .maxPool, .avgPool, .globalAvgPool, .globalMaxPool: return true
        default: return false
        }
    }

    /// The image layer's class (shown by `check`, whose own column only has its sizes).
    public var perStepClass: String? {
        guard isPerStep else { return nil }
        switch op {
        case .conv2d: return LayerKind.conv2D.rawValue
        case .maxPool: return LayerKind.maxPooling2D.rawValue
        case .avgPool: return LayerKind.averagePooling2D.rawValue
        case .globalAvgPool: return LayerKind.globalAveragePooling2D.rawValue
        default: return LayerKind.globalMaxPooling2D.rawValue
        }
    }

    /// The layer one step sees: the same op on (H, W, C).
    public var stepLayer: Layer {
        var s = self
        s.inputShape = Array(inputShape.dropFirst())
        s.outputShape = Array(outputShape.dropFirst())
        return s
    }
}
