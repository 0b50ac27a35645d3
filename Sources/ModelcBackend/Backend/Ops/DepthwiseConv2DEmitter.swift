// DepthwiseConv2D: each input channel ci convolved with its own M filters; output channel
// j = ci * M + m (Keras order), depthwise kernel [KH, KW, CI, M] viewed as [KH, KW, CI*M].
//   forward:  y[n, oh, ow, j] = act(b[j] + sum_{kh, kw} xp[n, oh*SH+kh, ow*SW+kw, j / M] * Wd[kh, kw, j])
//   backward: dy *= act'(y);  db = sum dy;  dWd[kh, kw, j] += xp[.., j / M] * dy[.., j];
//             dxp[.., ci] += sum_m dy[.., ci*M+m] * Wd[kh, kw, ci*M+m], dx = crop(dxp)
// Loops run over the channel axis innermost with constant trip counts (the compiler vectorizes).

import ModelcCore

struct DepthwiseConv2DEmitter: OpEmitter {
    let attrs: Conv2DAttrs
    let multiplier: Int

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let g = DepthwiseCode.geometry(attrs, c.inShape, c.outShape)
        let p = c.prefix
        let co = g.c * multiplier
        let hasBias = c.has(.bias)
        let xp = DepthwiseCode.declarePadding(c, m, g)
        m.chunkFunction("\(p)Forward", comment: "\(c.header): depthwise \(attrs.kernelH)x\(attrs.kernelW) x\(multiplier) stride \(attrs.strideH)x\(attrs.strideW) pad t\(g.top) b\(g.bottom) l\(g.left) r\(g.right) \(c.activation.name)") { w in
            w.line("let dw = \(c.param(.depthwiseKernel))")
            if hasBias { w.line("let bias = \(c.param(.bias))") }
            w.block("for n in lo..<hi") {
                DepthwiseCode.padCopy(w, c, g, xp: xp, src: c.x)
                w.line("let y = \(c.y) + n * \(c.outSize)")
                DepthwiseCode.forward(w, g, mult: multiplier, x: "x", y: "y", dw: "dw", bias: hasBias ? "bias" : nil)
            }
            if c.activation != .linear {
                ActivationCode.emitForward(w, c.activation, x: c.y, y: c.y, size: c.outSize, channels: co)
            }
        }
        m.reduceRanges.append((c.paramOffsets[.depthwiseKernel] ?? 0, g.kh * g.kw * co))
        if hasBias { m.reduceRanges.append((c.paramOffsets[.bias] ?? 0, co)) }
        if c.gx != nil && g.padded { m.buffer("\(p)dxp", perImage: g.hp * g.wp * g.c, "\(c.name) gradient of the padded input") }
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dWd, db\(c.gx != nil ? ", dx" : "")") { w in
            w.line("let gp = partials + t * \(c.parameterCount)")
            if c.activation != .linear {
                ActivationCode.emitBackward(w, c.activation, dy: c.gy, y: c.y, dx: c.gy, size: c.outSize, channels: co)
            }
            if hasBias {
                w.line("BiasGradient.sum(\(c.gy) + lo * \(c.outSize), rows: (hi - lo) * \(g.oh * g.ow), n: \(co), into: \(c.grad(.bias)))")
            }
            w.line("let gdw = \(c.grad(.depthwiseKernel))")
            w.line("gdw.update(repeating: 0, count: \(g.kh * g.kw * co))")
            if c.gx != nil { w.line("let dw = \(c.param(.depthwiseKernel))") }   // read by the input gradient only
            w.block("for n in lo..<hi") {
                w.line("let x = \(xp) + n * \(g.padded ? g.hp * g.wp * g.c : c.inSize)")
                w.line("let dy = \(c.gy) + n * \(c.outSize)")
                DepthwiseCode.backward(w, c, g, mult: multiplier, x: "x", dy: "dy", dw: "dw", gdw: "gdw", gx: c.gx)
            }
        }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        return (f, f, [.chunk("\(p)Backward(lo, hi, t)")])
    }
}

/// Depthwise loops shared by DepthwiseConv2D and SeparableConv2D.
enum DepthwiseCode {
    static func geometry(_ a: Conv2DAttrs, _ inShape: [Int], _ outShape: [Int]) -> ConvGeometry {
        ConvGeometry(inShape: inShape, outShape: outShape, kh: a.kernelH, kw: a.kernelW, sh: a.strideH, sw: a.strideW,
                     padding: a.padding, explicitH: a.explicitPadH, explicitW: a.explicitPadW)
    }

    /// Declares the padded-input buffer if needed; returns the name of the buffer convolved.
    static func declarePadding(_ c: LayerContext, _ m: ModelEmission, _ g: ConvGeometry) -> String {
        guard g.padded else { return c.x }
        let xp = "\(c.prefix)xp"
        m.buffer(xp, perImage: g.hp * g.wp * g.c, "\(c.name) zero-padded input [N, \(g.hp), \(g.wp), \(g.c)]")
        return xp
    }

    /// Defines `x` (the padded image n) inside a `for n` loop.
    static func padCopy(_ w: CodeWriter, _ c: LayerContext, _ g: ConvGeometry, xp: String, src: String) {
        if g.padded {
            w.line("let src = \(src) + n * \(c.inSize)")
            w.line("let x = \(xp) + n * \(g.hp * g.wp * g.c)")
            w.line("for r in 0..<\(g.h) { (x + ((r + \(g.top)) * \(g.wp) + \(g.left)) * \(g.c)).update(from: src + r * \(g.w * g.c), count: \(g.w * g.c)) }")
        } else {
            w.line("let x = \(src) + n * \(c.inSize)")
        }
    }

    static func forward(_ w: CodeWriter, _ g: ConvGeometry, mult: Int, x: String, y: String, dw: String, bias: String?) {
        let co = g.c * mult
        w.block("for oh in 0..<\(g.oh)") {
            w.block("for ow in 0..<\(g.ow)") {
                w.line("let yo = \(y) + (oh * \(g.ow) + ow) * \(co)")
                w.line("for j in 0..<\(co) { yo[j] = \(bias.map { "\($0)[j]" } ?? "0") }")
                w.block("for kh in 0..<\(g.kh)") {
                    w.block("for kw in 0..<\(g.kw)") {
                        w.line("let xi = \(x) + ((oh * \(g.sh) + kh) * \(g.wp) + ow * \(g.sw) + kw) * \(g.c)")
                        w.line("let wk = \(dw) + (kh * \(g.kw) + kw) * \(co)")
                        if mult == 1 {
                            w.line("for j in 0..<\(co) { yo[j] += xi[j] * wk[j] }")
                        } else {
                            w.line("for ci in 0..<\(g.c) { let v = xi[ci]; for m in 0..<\(mult) { yo[ci * \(mult) + m] += v * wk[ci * \(mult) + m] } }")
                        }
                    }
                }
            }
        }
    }

    /// Accumulates dWd into `gdw` and, if `gx` is set, writes dx for image n.
    static func backward(_ w: CodeWriter, _ c: LayerContext, _ g: ConvGeometry, mult: Int, x: String, dy: String,
                         dw: String, gdw: String, gx: String?) {
        let co = g.c * mult
        let padSize = g.hp * g.wp * g.c
        if gx != nil {
            w.line("let dx = \(g.padded ? "\(c.prefix)dxp + n * \(padSize)" : "\(gx!) + n * \(c.inSize)")")
            w.line("dx.update(repeating: 0, count: \(g.padded ? padSize : c.inSize))")
        }
        w.block("for oh in 0..<\(g.oh)") {
            w.block("for ow in 0..<\(g.ow)") {
                w.line("let dyo = \(dy) + (oh * \(g.ow) + ow) * \(co)")
                w.block("for kh in 0..<\(g.kh)") {
                    w.block("for kw in 0..<\(g.kw)") {
                        w.line("let o = ((oh * \(g.sh) + kh) * \(g.wp) + ow * \(g.sw) + kw) * \(g.c)")
                        w.line("let xi = \(x) + o")
                        w.line("let gk = \(gdw) + (kh * \(g.kw) + kw) * \(co)")
                        if mult == 1 {
                            w.line("for j in 0..<\(co) { gk[j] += xi[j] * dyo[j] }")
                        } else {
                            w.line("for ci in 0..<\(g.c) { let v = xi[ci]; for m in 0..<\(mult) { gk[ci * \(mult) + m] += v * dyo[ci * \(mult) + m] } }")
                        }
                        if gx != nil {
                            w.line("let wk = \(dw) + (kh * \(g.kw) + kw) * \(co)")
                            w.line("let dxi = dx + o")
                            if mult == 1 {
                                w.line("for j in 0..<\(co) { dxi[j] += dyo[j] * wk[j] }")
                            } else {
                                w.line("for ci in 0..<\(g.c) { var s: Float = 0; for m in 0..<\(mult) { s += dyo[ci * \(mult) + m] * wk[ci * \(mult) + m] }; dxi[ci] += s }")
                            }
                        }
                    }
                }
            }
        }
        if let gx = gx, g.padded {
            w.line("let out = \(gx) + n * \(c.inSize)")
            w.line("for r in 0..<\(g.h) { (out + r * \(g.w * g.c)).update(from: dx + ((r + \(g.top)) * \(g.wp) + \(g.left)) * \(g.c), count: \(g.w * g.c)) }")
        }
    }
}
