// The functions of one BatchNorm layer's passes (the formulas and the training fusion:
// BatchNormEmitter.swift): training statistics (Moments, ReduceMoments),
// Normalize, Inference, and the backward's BackwardSums, BackwardReduce and BackwardData.
// Every pass is a chunk function (rows lo..<hi of the batch) or a serial one between the
// parallel regions, and calls the runtime's kernel (Sources/ModelcRuntime/Kernels/BatchNorm.swift)
// with the layer's `BatchNormLayer` value (channels, parameters and constants as literals).

import ModelcCore

/// One BatchNorm layer's buffer names, parameters and constants, and the emitters of its passes.
struct BatchNormPasses {
    let attrs: BatchNormAttrs
    let c: LayerContext
    /// The activation layer fused into training (BatchNormEmitter.trainActivation).
    let act: (activation: EpilogueActivation, name: String, y: String, gy: String)?
    let ch: Int, pix: Int, p: String
    let part: String, layer: String
    let hdr: String, rows: String
    /// What the training forward writes and the backward reads as dy.
    let out: String, dOut: String
    let data: BatchNormBackwardData

    init(attrs: BatchNormAttrs, c: LayerContext, activation: (activation: EpilogueActivation, name: String, y: String, gy: String)?) {
        self.attrs = attrs
        self.c = c
        act = activation
        ch = c.outShape.last ?? 1
        pix = c.outSize / max(ch, 1)
        p = c.prefix
        part = "\(p)part"; layer = BatchNormPasses.layerValue(p)
        hdr = "\(c.header): batch norm over \(ch) channels x \(pix) pixels, eps \(attrs.epsilon), momentum \(attrs.momentum)"
        rows = "(hi - lo) * \(pix)"
        out = act?.y ?? c.y; dOut = act?.gy ?? c.gy
        data = BatchNormBackwardData(layer: layer, dOut: dOut, out: out, x: c.x, activation: act?.activation)
    }

    /// The name of the layer's `BatchNormLayer` value for the prefix `p`.
    static func layerValue(_ p: String) -> String { "\(p)bn" }

    var actArgument: String { BatchNormBackwardData.activationArgument(act?.activation) }
    /// Rows lo..<hi of `base` (floats per image `size`).
    func chunk(_ base: String, _ size: Int) -> String { "\(base) + lo * \(size)" }

    /// The partial-sum and statistics buffers, and the `BatchNormLayer` value.
    func declare(_ m: ModelEmission) {
        m.buffer(part, perImage: 0, perChunk: 2 * ch, "\(c.name) per-chunk partial sums (chunks x 2 x \(ch))")
        m.buffer("\(p)stats", perImage: 0, fixed: 4 * ch, "\(c.name) batch mean, 1/sqrt(var + eps), mean(dy), mean(dy * xhat)")
        let param = { (k: ParamTensor.Role) in c.has(k) ? c.param(k) : "nil" }
        m.members.line("// \(commentSafe(hdr))")
        m.members.block("var \(layer): BatchNormLayer") {
            m.members.line("BatchNormLayer(channels: \(ch), statistics: \(p)stats, gamma: \(param(.gamma)), beta: \(param(.beta)),")
            m.members.line("               movingMean: \(c.param(.movingMean)), movingVariance: \(c.param(.movingVariance)),")
            m.members.line("               epsilon: \(floatLiteral(attrs.epsilon)), momentum: \(floatLiteral(attrs.momentum))\(attrs.unbiasedRunningVariance ? ", unbiased: true" : ""))")
        }
        m.members.line()
    }

    /// Training pass 1 and its reduction: each chunk's mean and squared deviations, then the
    /// batch mean and variance, 1/sqrt(var + eps) and the moving statistics.
    func emitMoments(_ m: ModelEmission) {
        m.chunkFunction("\(p)Moments", comment: "\(c.name) training pass 1: per-chunk mean and squared deviations of x") { w in
            w.line("BatchNorm.moments(\(chunk(c.x, c.inSize)), rows: \(rows), \(layer), into: \(part) + t * \(2 * ch))")
        }
        m.serialFunction("\(p)ReduceMoments", comment: "\(c.name): batch mean and variance, 1/sqrt(var + eps), moving statistics") { w in
            w.line("BatchNorm.reduceMoments(\(part), count: count, threads: threads, pixels: \(pix), \(layer))")
        }
    }

    /// Training pass 2: y (or act(y), written as the fused activation layer's output).
    func emitNormalize(_ m: ModelEmission) {
        let normalizeWhat = "xhat = (x - mean) * inv, y = \(act.map { "\($0.name)(gamma * xhat + beta), written as that layer's output" } ?? "gamma * xhat + beta")"
        m.chunkFunction("\(p)Normalize", comment: "\(c.name) training pass 2: \(normalizeWhat)") { w in
            w.line("BatchNorm.normalize(\(chunk(c.x, c.inSize)), \(chunk(out, c.outSize)), rows: \(rows), \(layer)\(actArgument))")
        }
    }

    /// Inference: this chunk's scale and shift from the moving statistics, then y = x * scale + shift.
    func emitInference(_ m: ModelEmission) {
        m.chunkFunction("\(p)Inference", comment: "\(c.name) inference: y = (x - moving_mean) / sqrt(moving_var + eps) * gamma + beta") { w in
            w.line("BatchNorm.inference(\(chunk(c.x, c.inSize)), \(chunk(c.y, c.outSize)), rows: \(rows), \(layer), fold: \(part) + t * \(2 * ch))")
        }
    }

    /// Backward pass 1: per-chunk sums of dy and dy * xhat, added image by image into the
    /// chunk's partial sums, which `backwardSumsStep`'s prelude zeroes.
    func emitBackwardSums(_ m: ModelEmission) {
        let sumsWhat = act.map { "sums of dy and dy * xhat, dy = d\($0.name) * \($0.name)'(out)" } ?? "sums of dy and dy * xhat"
        m.chunkFunction("\(p)BackwardSums", comment: "\(c.name) backward pass 1: adds images lo..<hi's \(sumsWhat) to the chunk's") { w in
            w.line("BatchNorm.backwardSums(\(chunk(dOut, c.outSize)), \(chunk(out, c.outSize)), \(chunk(c.x, c.inSize)), rows: \(rows),")
            w.line("                       pixels: \(pix), \(layer)\(actArgument), into: \(part) + t * \(2 * ch), accumulate: true)")
        }
    }

    /// The sums as an image step: the producer's image-by-image backward (a pool's, a
    /// dropout's) hands each image's dy over in cache; the prelude zeroes the chunk's sums.
    var backwardSumsStep: Step {
        .image("\(p)BackwardSums(lo, hi, t)", prelude: "(\(part) + t * \(2 * ch)).update(repeating: 0, count: \(2 * ch))")
    }

    /// The backward's reduction: dgamma, dbeta, mean(dy), mean(dy * xhat).
    func emitBackwardReduce(_ m: ModelEmission) {
        m.serialFunction("\(p)BackwardReduce", comment: "\(c.name) backward: dgamma, dbeta, mean(dy), mean(dy * xhat)") { w in
            let grad = { (k: ParamTensor.Role) in c.paramOffsets[k].map { "gradients + \($0)" } ?? "nil" }
            w.line("BatchNorm.backwardReduce(\(part), chunks: Parallel.chunkCount(count, threads: threads), rows: count * \(pix), \(layer),")
            w.line("                         dGamma: \(grad(.gamma)), dBeta: \(grad(.beta)))")
        }
    }

    /// Backward pass 2 over the layer's chunk, into the input gradient `gx`.
    func emitBackwardData(_ m: ModelEmission, gx: String) {
        m.chunkFunction("\(p)BackwardData", comment: "\(c.name) backward pass 2: dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat))") { w in
            data.emit(w, rows: rows, dOutBase: chunk(dOut, c.outSize), outBase: chunk(out, c.outSize),
                      xBase: chunk(c.x, c.inSize), dxBase: chunk(gx, c.inSize))
        }
    }
}
