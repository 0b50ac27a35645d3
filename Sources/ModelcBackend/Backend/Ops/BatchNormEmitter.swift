// BatchNormalization over the last axis (channels), Keras semantics by default.
//   training:  mean, var = batch statistics over N*pixels (population variance, two passes),
//              xhat = (x - mean) / sqrt(var + eps), y = gamma * xhat + beta (xhat is not stored:
//              the backward passes recompute it from x with the same operations),
//              moving = momentum * moving + (1 - momentum) * batch (PyTorch: unbiased variance)
//   inference: y = (x - moving_mean) / sqrt(moving_var + eps) * gamma + beta
//   backward:  dbeta = sum dy, dgamma = sum dy * xhat,
//              dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
// Batch-wide sums are per-chunk partials reduced in serial steps between parallel regions.
// Every pass keeps the channels in SIMD registers (emitChannelLoops): each lane is one
// channel and visits the pixels in order, so the sums are those of the plain scalar loops.
//
// Training fusion (the fusion pass's groups): when a ReLU/LeakyReLU layer follows, the
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
        passes.declareBuffers(m)
        passes.emitMean(m)
        passes.emitVariance(m)
        passes.emitNormalize(m)
        passes.emitInference(m)
        passes.emitBackwardSums(m)
        passes.emitBackwardReduce(m)
        let p = c.prefix
        var back: [Step] = [.chunk("\(p)BackwardSums(lo, hi, t)"), .serial("\(p)BackwardReduce()")]
        if let gx = c.gx, !dataInProducer {
            passes.emitBackwardData(m, gx: gx)
            back.append(.chunk("\(p)BackwardData(lo, hi, t)"))
        }
        let train: [Step] = [.chunk("\(p)SumMean(lo, hi, t)"), .serial("\(p)ReduceMean()"),
                             .chunk("\(p)SumVar(lo, hi, t)"), .serial("\(p)ReduceVar()"),
                             .chunk("\(p)Normalize(lo, hi, t)")]
        return (train, [.chunk("\(p)Inference(lo, hi, t)")], back)
    }
}

/// BatchNorm backward pass 2 over `rows` rows from the given base pointers:
///   dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat = (x - mean) * inv,
///   dy = dOut * act'(out) when an activation is fused.
/// Run by the layer over its chunk, or by the producer Conv2D on one image at a time.
struct BatchNormBackwardData {
    let prefix: String
    let channels: Int
    let gamma: String?
    let dOut: String
    let out: String
    let x: String
    let activation: EpilogueActivation?

    /// `let gN = dy` for vector j of row r (act' applied when an activation is fused).
    func emitDy(_ w: CodeWriter, _ l: ChannelLanes, _ j: Int) {
        w.line("\(activation == nil ? "let" : "var") g\(j) = \(l.load("dyr", j))")
        if let a = activation {
            w.line("let o\(j) = \(l.load("yr", j))")
            w.line(SIMDText.backward(l.width, "g\(j)", y: "o\(j)", a))
        }
    }

    func emit(_ w: CodeWriter, rows: String, dOutBase: String, outBase: String, xBase: String, dxBase: String) {
        let p = prefix, ch = channels
        emitChannelLoops(w, rows: rows, channels: ch, maxVectors: 4, pre: { l in
            for j in 0..<l.count {
                w.line("let iv\(j) = \(l.load("\(p)inv", j)), m\(j) = \(l.load("\(p)mean", j))")
                w.line("let k\(j) = \(gamma != nil ? "\(l.load(gamma!, j)) * " : "")iv\(j)")
                w.line("let my\(j) = \(l.load("\(p)mdy", j)), mx\(j) = \(l.load("\(p)mdx", j))")
            }
        }, body: { l in
            w.line("let dyr = \(dOutBase) + r * \(ch), xr = \(xBase) + r * \(ch), dxr = \(dxBase) + r * \(ch)")
            if activation != nil { w.line("let yr = \(outBase) + r * \(ch)") }
            for j in 0..<l.count {
                emitDy(w, l, j)
                w.line(l.store("dxr", j, "k\(j) * (g\(j) - my\(j) - ((\(l.load("xr", j)) - m\(j)) * iv\(j)) * mx\(j))"))
            }
        }, post: { _ in })
    }
}
