// MaxPooling2D and AveragePooling2D with TF padding semantics: 'same' pads so that
// out = ceil(in / stride), the odd extra row/column at the bottom/right; padded positions
// never win a max and are not counted in an average.
//   forward [N, H, W, C] -> [N, OH, OW, C]; max keeps the winning input index per output
//   backward: max routes dy to the winner; average spreads dy / count over the window.
//   inference: no argmax; SIMD over channels (PoolCode, also run inside a fused Conv2D group),
//   the same comparisons and sums in the same order as the training forward.

import ModelcCore

struct PoolEmitter: OpEmitter {
    let attrs: PoolAttrs
    let isMax: Bool

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let g = ConvGeometry(pool: attrs, inShape: c.inShape, outShape: c.outShape)
        let ch = g.c
        let arg = "\(c.prefix)arg"
        if isMax { m.buffer(arg, perImage: c.outSize, kind: .int32, "\(c.name) argmax (input offset)") }
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        let what = "\(isMax ? "max" : "average") pool \(attrs.poolH)x\(attrs.poolW) stride \(attrs.strideH)x\(attrs.strideW) \(attrs.padding.rawValue) (pad top \(g.top) left \(g.left))"
        func window(_ w: CodeWriter, _ body: () -> Void) {
            w.block("for oh in 0..<\(g.oh)") {
                w.line("let h0 = oh * \(g.sh) - \(g.top), hs = max(h0, 0), he = min(h0 + \(g.kh), \(g.h))")
                w.block("for ow in 0..<\(g.ow)") {
                    w.line("let w0 = ow * \(g.sw) - \(g.left), ws = max(w0, 0), we = min(w0 + \(g.kw), \(g.w))")
                    w.line("let o = (oh * \(g.ow) + ow) * \(ch)")
                    body()
                }
            }
        }
        m.chunkFunction(f, comment: "\(c.header): \(what)") { w in
            w.block("for n in lo..<hi") {
                w.line("let x = \(c.x) + n * \(c.inSize), y = \(c.y) + n * \(c.outSize)")
                if isMax { w.line("let ag = \(arg) + n * \(c.outSize)") }
                window(w) {
                    if isMax {
                        w.line("for c in 0..<\(ch) { y[o + c] = -Float.infinity; ag[o + c] = Int32((hs * \(g.w) + ws) * \(ch) + c) }")
                        w.block("for ih in hs..<he") {
                            w.block("for iw in ws..<we") {
                                w.line("let i = (ih * \(g.w) + iw) * \(ch)")
                                w.line("for c in 0..<\(ch) { let v = x[i + c]; if v > y[o + c] { y[o + c] = v; ag[o + c] = Int32(i + c) } }")
                            }
                        }
                    } else {
                        w.line("for c in 0..<\(ch) { y[o + c] = 0 }")
                        w.block("for ih in hs..<he") {
                            w.block("for iw in ws..<we") {
                                w.line("let i = (ih * \(g.w) + iw) * \(ch)")
                                w.line("for c in 0..<\(ch) { y[o + c] += x[i + c] }")
                            }
                        }
                        w.line("let inv = 1 / Float((he - hs) * (we - ws))")
                        w.line("for c in 0..<\(ch) { y[o + c] *= inv }")
                    }
                }
            }
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward") { w in
                w.block("for n in lo..<hi") {
                    w.line("let dx = \(gx) + n * \(c.inSize), dy = \(c.gy) + n * \(c.outSize)")
                    w.line("dx.update(repeating: 0, count: \(c.inSize))")
                    if isMax {
                        w.line("let ag = \(arg) + n * \(c.outSize)")
                        w.line("for i in 0..<\(c.outSize) { dx[Int(ag[i])] += dy[i] }")
                    } else {
                        window(w) {
                            w.line("let inv = 1 / Float((he - hs) * (we - ws))")
                            w.block("for ih in hs..<he") {
                                w.block("for iw in ws..<we") {
                                    w.line("let i = (ih * \(g.w) + iw) * \(ch)")
                                    w.line("for c in 0..<\(ch) { dx[i + c] += dy[o + c] * inv }")
                                }
                            }
                        }
                    }
                }
            }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        let fi = "\(c.prefix)ForwardInference"
        m.chunkFunction(fi, comment: "\(c.header): \(what), inference") { w in
            w.block("for n in lo..<hi") {
                PoolCode.emitImage(w, g, isMax: isMax, x: "\(c.x) + n * \(c.inSize)", y: "\(c.y) + n * \(c.outSize)",
                                   out: .dense(c.outShape), activation: .none)
            }
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(fi)(lo, hi, t)")], back)
    }
}

enum PoolCode {
    /// Pools one dense [H, W, C] image at `x` into `y` (pixel (oh, ow) at `out`'s offset), then
    /// applies `activation`: channels in SIMD registers, windows visited in the training
    /// forward's order (max: start at -inf, take v when v > max; average: sum, then * 1/count).
    static func emitImage(_ w: CodeWriter, _ g: ConvGeometry, isMax: Bool, x: String, y: String, out: PixelLayout,
                          activation: EpilogueActivation) {
        let ch = g.c
        // 'valid' windows that always fit have fixed bounds.
        let fits = !g.padded && (g.oh - 1) * g.sh + g.kh <= g.h && (g.ow - 1) * g.sw + g.kw <= g.w
        w.line("let px = \(x), py = \(y)")
        w.block("for oh in 0..<\(g.oh)") {
            if fits {
                w.line("let hs = oh * \(g.sh), he = hs + \(g.kh)")
            } else {
                w.line("let h0 = oh * \(g.sh) - \(g.top), hs = max(h0, 0), he = min(h0 + \(g.kh), \(g.h))")
            }
            w.block("for ow in 0..<\(g.ow)") {
                if fits {
                    w.line("let ws = ow * \(g.sw), we = ws + \(g.kw)")
                } else {
                    w.line("let w0 = ow * \(g.sw) - \(g.left), ws = max(w0, 0), we = min(w0 + \(g.kw), \(g.w))")
                }
                w.line("let yo = py + \(out.offset) + oh * \(out.rowStride) + ow * \(ch)")
                if !isMax { w.line("let inv = 1 / Float((he - hs) * (we - ws))") }
                for grp in columnGroups(ch, maxVectors: 4) {
                    let body = { (c0: String) in
                        let vw = grp.width
                        for j in 0..<grp.count {
                            w.line("var v\(j): \(SIMDText.type(vw)) = \(isMax ? (vw == 1 ? "-Float.infinity" : "\(SIMDText.type(vw))(repeating: -.infinity)") : SIMDText.zero(vw))")
                        }
                        w.block("for ih in hs..<he") {
                            w.block("for iw in ws..<we") {
                                w.line("let xi = px + (ih * \(g.w) + iw) * \(ch) + \(c0)")
                                for j in 0..<grp.count {
                                    let e = SIMDText.load(vw, "(xi + \(j * vw))")
                                    if isMax {
                                        w.line(vw == 1 ? "do { let e = \(e); if e > v\(j) { v\(j) = e } }"
                                                       : "do { let e = \(e); v\(j) = v\(j).replacing(with: e, where: e .> v\(j)) }")
                                    } else {
                                        w.line("v\(j) += \(e)")
                                    }
                                }
                            }
                        }
                        for j in 0..<grp.count {
                            if !isMax { w.line("v\(j) *= inv") }
                            if let e = SIMDText.epilogue(vw, "v\(j)", activation) { w.line(e) }
                            w.line(SIMDText.store(vw, "(yo + \(c0) + \(j * vw))", "v\(j)"))
                        }
                    }
                    grp.emit(w, body)
                }
            }
        }
    }
}
