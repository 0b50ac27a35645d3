// BatchNormalization over the last axis (channels), Keras semantics by default.
//   training:  mean, var = batch statistics over N*pixels (population variance: each chunk's
//              mean and squared deviations in one read, merged in a serial step),
//              xhat = (x - mean) / sqrt(var + eps), y = gamma * xhat + beta (xhat is not stored:
//              the backward passes recompute it from x with the same operations),
//              moving = momentum * moving + (1 - momentum) * batch (PyTorch: unbiased variance)
//   inference: y = (x - moving_mean) / sqrt(moving_var + eps) * gamma + beta
//   backward:  dbeta = sum dy, dgamma = sum dy * xhat,
//              dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
// The passes are calls of the runtime's BatchNorm kernels (Sources/ModelcRuntime/Kernels/
// BatchNorm.swift): batch-wide sums are per-chunk partials reduced in serial steps between
// parallel regions.
//
// Training fusion (the fusion pass's groups): when a ReLU/LeakyReLU/ReLU6 layer follows, the
// normalize pass writes act(y) straight into that layer's output, and both backward passes
// compute dy = dact * act'(out) on the fly from that layer's gradient: the activation layer's
// own passes (and this layer's y and dy buffers) drop out of training. When the producer is a
// Conv2D, the backward-data pass runs inside the convolution's backward, one image at a time
// (`BatchNormBackwardData`), so dx never goes through memory.
// The passes' functions: BatchNormPasses.swift.

import ModelcCore

struct BatchNormEmitter: OpEmitter {
    let attrs: BatchNormAttrs
    let foldedIntoProducer: Bool
    /// The activation layer fused into training: its function, output and output gradient.
    var trainActivation: (activation: EpilogueActivation, name: String, y: String, gy: String)? = nil
    /// Training: the producer Conv2D computes this layer's backward-data pass per image.
    var dataInProducer = false

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let passes = BatchNormPasses(attrs: attrs, c: c, activation: trainActivation)
        passes.declare(m)
        passes.emitMoments(m)
        passes.emitNormalize(m)
        passes.emitInference(m)
        passes.emitBackwardSums(m)
        passes.emitBackwardReduce(m)
        let p = c.prefix
        var back: [Step] = [passes.backwardSumsStep, .serial("\(p)BackwardReduce()")]
        if let gx = c.gx, !dataInProducer {
            passes.emitBackwardData(m, gx: gx)
            back.append(.chunk("\(p)BackwardData(lo, hi, t)"))
        }
        let train: [Step] = [.chunk("\(p)Moments(lo, hi, t)"), .serial("\(p)ReduceMoments()"),
                             .imageLocal("\(p)Normalize(lo, hi, t)", floats: c.outSize)]
        return (train, [.chunk("\(p)Inference(lo, hi, t)")], back)
    }
}

/// BatchNorm backward pass 2 over `rows` rows from the given base pointers:
///   dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat = (x - mean) * inv,
///   dy = dOut * act'(out) when an activation is fused.
/// Run by the layer over its chunk, or by the producer Conv2D on one image at a time.
struct BatchNormBackwardData {
    /// The layer's `BatchNormLayer` value (BatchNormPasses.layerValue).
    let layer: String
    let dOut: String
    let out: String
    let x: String
    let activation: EpilogueActivation?

    /// `, .leaky(0.3)`: the fused activation argument of a BatchNorm pass ("" without one).
    static func activationArgument(_ a: EpilogueActivation?) -> String {
        let act = a ?? .none
        return act == .none ? "" : ", " + act.argument
    }

    func emit(_ w: CodeWriter, rows: String, dOutBase: String, outBase: String, xBase: String, dxBase: String) {
        w.line("BatchNorm.backwardData(\(dOutBase), \(outBase), \(xBase), \(dxBase), rows: \(rows), \(layer)\(BatchNormBackwardData.activationArgument(activation)))")
    }
}
