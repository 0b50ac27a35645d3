// Inverted Dropout. Training: keep unit i of image n when u >= rate, u uniform in [0, 1)
// from a counter-based hash of (seed, layer, n * S + i), and scale kept units by
// 1 / (1 - rate); the mask (0 or the scale) is kept for backward. Spatial dropout (Keras
// SpatialDropout1D/2D, PyTorch Dropout1d/2d) draws once per image and channel, hashing
// n * C + i mod C, so a channel is kept or dropped at every position. Inference: y = x. With the
// model's `dropout` off (CompiledModelBase), training uses rate 0: every unit kept, scale 1.
// The hash makes masks deterministic for a seed and independent of the thread split. The loops
// are the runtime's Dropout kernels (Sources/ModelcRuntime/Kernels/Elementwise.swift).
//   forward [N, S] -> [N, S] (spatial: S = positions x C);  backward dx = dy * mask

struct DropoutEmitter: OpEmitter {
    let rate: Float
    var spatial = false

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let mask = "\(c.prefix)mask"
        m.buffer(mask, perImage: c.outSize, "\(c.name) dropout mask (0 or 1/(1-rate))")
        let size = c.outSize
        let salt = UInt64(c.index) &* 0x9E37_79B9_7F4A_7C15
        let ft = "\(c.prefix)ForwardTraining", fi = "\(c.prefix)ForwardInference", b = "\(c.prefix)Backward"
        m.chunkFunction(ft, comment: "\(c.header): dropout rate \(rate), training") { w in
            w.line("let x = \(c.x) + lo * \(size), y = \(c.y) + lo * \(size), mask = \(mask) + lo * \(size)")
            // one draw per channel: a vector's channels are its values (element-wise)
            let channels = spatial && c.outShape.count > 1 ? ", channels: \(c.outShape.last!), size: \(size)" : ""
            w.line("Dropout.training(x, y, mask: mask, count: (hi - lo) * \(size), first: lo * \(size), seed: seed ^ \(salt), rate: dropout ? \(floatLiteral(rate)) : 0\(channels))")
        }
        m.chunkFunction(fi, comment: "\(c.header): inference, y = x") { w in
            w.line("(\(c.y) + lo * \(size)).update(from: \(c.x) + lo * \(size), count: (hi - lo) * \(size))")
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward: dx = dy * mask") { w in
                w.line("Dropout.backward(dy: \(c.gy) + lo * \(size), mask: \(mask) + lo * \(size), dx: \(gx) + lo * \(size), count: (hi - lo) * \(size))")
            }
            back = [.imageLocal("\(b)(lo, hi, t)", floats: size)]
        }
        return ([.imageLocal("\(ft)(lo, hi, t)", floats: size)], [.chunk("\(fi)(lo, hi, t)")], back)
    }
}
