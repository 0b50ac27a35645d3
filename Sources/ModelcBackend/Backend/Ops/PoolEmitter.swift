// MaxPooling2D and AveragePooling2D with TF padding semantics: 'same' pads so that
// out = ceil(in / stride), the odd extra row/column at the bottom/right; padded positions
// never win a max and are not counted in an average. PyTorch's and ONNX's explicit padding
// (and ceil mode) clip the same way; an average that counts the padding (count_include_pad)
// divides by the window's part inside the padded image. The loops are the runtime's pooling
// kernels (Sources/ModelcRuntime/Kernels/Pooling.swift); each function here calls one per image.
//   forward [N, H, W, C] -> [N, OH, OW, C]; max keeps the winning input index per output
//   backward: max routes dy to the winner; average spreads dy / count over the window.
//   inference: no argmax; SIMD over channels (PoolCode, also run inside a fused Conv2D group),
//   the same comparisons and sums in the same order as the training forward (so the average
//   pool's training forward is its inference forward).

import ModelcCore

struct PoolEmitter: OpEmitter {
    let attrs: PoolAttrs
    let isMax: Bool

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let g = ConvGeometry(pool: attrs, inShape: c.inShape, outShape: c.outShape)
        let arg = "\(c.prefix)arg"
        if isMax { m.buffer(arg, perImage: c.outSize, kind: .int32, "\(c.name) argmax (input offset)") }
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward", fi = "\(c.prefix)ForwardInference"
        let mode = attrs.explicit.map { "explicit\($0.ceilMode ? ", ceil" : "")\(g.countsPadding ? ", padding counted" : "")" } ?? attrs.padding.rawValue
        let what = "\(isMax ? "max" : "average") pool \(attrs.poolH)x\(attrs.poolW) stride \(attrs.strideH)x\(attrs.strideW) \(mode) (pad top \(g.top) left \(g.left))"
        let pool = PoolCode.geometry(g, out: .dense(c.outShape))
        let x = "\(c.x) + n * \(c.inSize)", y = "\(c.y) + n * \(c.outSize)"
        m.chunkFunction(f, comment: "\(c.header): \(what)\(isMax ? "" : " (training and inference)")") { w in
            w.line("for n in lo..<hi { \(isMax ? "Pooling.maxWithArgmax(\(x), \(y), \(arg) + n * \(c.outSize), \(pool))" : "Pooling.pool(.average, \(x), \(y), \(pool))") }")
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward") { w in
                let dx = "\(gx) + n * \(c.inSize)", dy = "\(c.gy) + n * \(c.outSize)"
                if isMax {
                    w.line("for n in lo..<hi { Pooling.maxBackward(\(dx), \(dy), \(arg) + n * \(c.outSize), \(pool)) }")
                } else {
                    w.line("for n in lo..<hi { Pooling.averageBackward(\(dx), \(dy), \(pool)) }")
                }
            }
            back = [.imageLocal("\(b)(lo, hi, t)", floats: c.inSize)]
        }
        let train = Step.imageLocal("\(f)(lo, hi, t)", floats: c.inSize)
        guard isMax else { return ([train], [.chunk("\(f)(lo, hi, t)")], back) }
        m.chunkFunction(fi, comment: "\(c.header): \(what), inference") { w in
            w.line("for n in lo..<hi { Pooling.pool(.max, \(x), \(y), \(pool)) }")
        }
        return ([train], [.chunk("\(fi)(lo, hi, t)")], back)
    }
}

enum PoolCode {
    /// Pools one dense [H, W, C] image at `x` into `y` (pixel (oh, ow) at `out`'s offset), then
    /// applies `activation`: one call of the runtime's `Pooling.pool` (channels in SIMD
    /// registers, windows visited in the training forward's order).
    static func emitImage(_ w: CodeWriter, _ g: ConvGeometry, isMax: Bool, x: String, y: String, out: PixelLayout,
                          activation: EpilogueActivation) {
        w.line("let pool = \(geometry(g, out: out))")
        w.line("Pooling.pool(\(isMax ? ".max" : ".average"), \(x), \(y), pool\(activation == .none ? "" : ", \(activation.argument)"))")
    }

    /// The `PoolGeometry` literal of windows `g` writing into layout `out` (pixels C floats apart).
    static func geometry(_ g: ConvGeometry, out: PixelLayout) -> String {
        var s = "PoolGeometry(input: (\(g.h), \(g.w), \(g.c)), output: (\(g.oh), \(g.ow)), window: (\(g.kh), \(g.kw)), stride: (\(g.sh), \(g.sw))"
        if g.top != 0 || g.left != 0 { s += ", padding: (top: \(g.top), left: \(g.left))" }
        if g.countsPadding { s += ", countedPadding: (bottom: \(g.bottom), right: \(g.right))" }
        if !out.isDense { s += ", outputOffset: \(out.offset), outputRowStride: \(out.rowStride)" }
        return s + ")"
    }
}
