// GlobalAveragePooling2D / GlobalMaxPooling2D over all pixels, per channel, with the runtime's
// pooling kernels (Sources/ModelcRuntime/Kernels/Pooling.swift): the average is a pool with one
// window covering the image.
//   forward [N, H, W, C] -> [N, C];  backward: dy / (H*W) everywhere, or dy to the max.

import ModelcCore

struct GlobalPoolEmitter: OpEmitter {
    let isMax: Bool

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let ch = c.outShape.last ?? 1
        let pix = c.inSize / max(ch, 1)
        let arg = "\(c.prefix)arg"
        if isMax { m.buffer(arg, perImage: ch, kind: .int32, "\(c.name) argmax (input offset)") }
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        let x = "\(c.x) + n * \(c.inSize)", y = "\(c.y) + n * \(ch)"
        m.chunkFunction(f, comment: "\(c.header): global \(isMax ? "max" : "average") pool over \(pix) pixels") { w in
            if isMax {
                w.line("for n in lo..<hi { GlobalPooling.max(\(x), \(y), \(arg) + n * \(ch), pixels: \(pix), channels: \(ch)) }")
            } else {
                let g = ConvGeometry(inShape: c.inShape, outShape: [1, 1, ch], kh: c.inShape.first ?? 1,
                                     kw: c.inShape.count > 1 ? c.inShape[1] : 1, sh: 1, sw: 1, padding: .valid)
                w.line("for n in lo..<hi { Pooling.pool(.average, \(x), \(y), \(PoolCode.geometry(g, out: .dense([1, 1, ch])))) }")
            }
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward") { w in
                let dx = "\(gx) + n * \(c.inSize)", dy = "\(c.gy) + n * \(ch)"
                if isMax {
                    w.line("for n in lo..<hi { Pooling.maxBackward(\(dx), \(dy), \(arg) + n * \(ch), inputCount: \(c.inSize), outputCount: \(ch)) }")
                } else {
                    w.line("for n in lo..<hi { GlobalPooling.averageBackward(\(dx), \(dy), pixels: \(pix), channels: \(ch)) }")
                }
            }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], back)
    }
}
