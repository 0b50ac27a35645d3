// Dilated Conv2D (Keras `dilation_rate` > 1), NHWC, HWIO kernel [KH, KW, CI, CO]. Plain loops:
// dilated kernels are rare in the target models, so clarity over speed (no fusion).
//   effective extent KE = (K - 1) * D + 1; 'same' pads max((O - 1) * S + KE - I, 0), odd extra
//   at the bottom/right (TF); Keras 'causal' pads KE - 1 on the left only; explicit padding is symmetric.
//   forward:  y[n, oy, ox, o] = act(b[o] + sum_{ky, kx, i} x[n, oy*SH + ky*DH - top, ox*SW + kx*DW - left, i] * W[ky, kx, i, o])
//             (out-of-range input positions are zero padding)
//   backward: dy *= act'(y);  db[o] = sum dy;  dW[ky, kx, i, o] += x[...] * dy[n, oy, ox, o];
//             dx[n, iy, ix, i] += sum_o W[ky, kx, i, o] * dy[n, oy, ox, o]

import ModelcCore

struct DilatedConv2DEmitter: OpEmitter {
    let attrs: Conv2DAttrs

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let a = attrs
        let h = c.inShape[0], wd = c.inShape[1], ci = c.inShape[2]
        let oh = c.outShape[0], ow = c.outShape[1], co = a.filters
        let keh = (a.kernelH - 1) * a.dilationH + 1, kew = (a.kernelW - 1) * a.dilationW + 1
        let top: Int, left: Int
        if let ph = a.explicitPadH, let pw = a.explicitPadW { top = ph; left = pw }
        else if a.padding == .same {
            top = max((oh - 1) * a.strideH + keh - h, 0) / 2
            left = max((ow - 1) * a.strideW + kew - wd, 0) / 2
        } else if a.padding == .causal {
            top = max((oh - 1) * a.strideH + keh - h, 0) / 2; left = kew - 1
        } else { top = 0; left = 0 }
        let p = c.prefix
        let desc = "kernel \(a.kernelH)x\(a.kernelW)x\(ci)x\(co) dilation \(a.dilationH)x\(a.dilationW) stride \(a.strideH)x\(a.strideW) pad top \(top) left \(left)\(a.useBias ? " +bias" : "") \(c.activation.name)"
        // Emits the loops over valid (ky, kx) taps of output pixel (oy, ox); `body` sees iy, ix, ky, kx.
        func taps(_ w: CodeWriter, _ body: () -> Void) {
            w.block("for ky in 0..<\(a.kernelH)") {
                w.line("let iy = oy * \(a.strideH) + ky * \(a.dilationH) - \(top)")
                w.line("if iy < 0 || iy >= \(h) { continue }")
                w.block("for kx in 0..<\(a.kernelW)") {
                    w.line("let ix = ox * \(a.strideW) + kx * \(a.dilationW) - \(left)")
                    w.line("if ix < 0 || ix >= \(wd) { continue }")
                    body()
                }
            }
        }
        m.chunkFunction("\(p)Forward", comment: "\(c.header): \(desc)") { w in
            c.emitWeights(w, bias: a.useBias)
            w.block("for n in lo..<hi") {
                w.line("let x = \(c.x) + n * \(c.inSize), y = \(c.y) + n * \(c.outSize)")
                w.line("for oy in 0..<\(oh) { for ox in 0..<\(ow) {")
                w.indented {
                    w.line("let yp = y + (oy * \(ow) + ox) * \(co)")
                    w.line(a.useBias ? "for o in 0..<\(co) { yp[o] = bias[o] }" : "for o in 0..<\(co) { yp[o] = 0 }")
                    taps(w) {
                        w.line("let xp = x + (iy * \(wd) + ix) * \(ci), wp = wk + (ky * \(a.kernelW) + kx) * \(ci * co)")
                        w.line("for i in 0..<\(ci) { let v = xp[i]; let wr = wp + i * \(co); for o in 0..<\(co) { yp[o] += v * wr[o] } }")
                    }
                }
                w.line("} }")
            }
            if c.activation != .linear {
                ActivationCode.emitForward(w, c.activation, x: c.y, y: c.y, size: c.outSize, channels: co)
            }
        }
        m.reduceRanges.append((c.paramOffsets[.kernel] ?? 0, a.kernelH * a.kernelW * ci * co))
        if a.useBias { m.reduceRanges.append((c.paramOffsets[.bias] ?? 0, co)) }
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dW, db\(c.gx != nil ? ", dx" : " (first layer: no dx)")") { w in
            w.line("let gp = partials + t * \(c.parameterCount)")
            if c.activation != .linear {
                ActivationCode.emitBackward(w, c.activation, dy: c.gy, y: c.y, dx: c.gy, size: c.outSize, channels: co)
            }
            w.line("let wk = \(c.param(.kernel)), gk = \(c.grad(.kernel))")
            w.line("gk.update(repeating: 0, count: \(a.kernelH * a.kernelW * ci * co))")
            if a.useBias {
                w.line("let gb = \(c.grad(.bias))")
                w.line("for o in 0..<\(co) { gb[o] = 0 }")
            }
            w.block("for n in lo..<hi") {
                w.line("let x = \(c.x) + n * \(c.inSize), dy = \(c.gy) + n * \(c.outSize)")
                if let gx = c.gx {
                    w.line("let dx = \(gx) + n * \(c.inSize)")
                    w.line("dx.update(repeating: 0, count: \(c.inSize))")
                }
                w.line("for oy in 0..<\(oh) { for ox in 0..<\(ow) {")
                w.indented {
                    w.line("let g = dy + (oy * \(ow) + ox) * \(co)")
                    if a.useBias { w.line("for o in 0..<\(co) { gb[o] += g[o] }") }
                    taps(w) {
                        w.line("let xp = x + (iy * \(wd) + ix) * \(ci), k = (ky * \(a.kernelW) + kx) * \(ci * co)")
                        w.block("for i in 0..<\(ci)") {
                            w.line("let v = xp[i], wr = wk + k + i * \(co), gr = gk + k + i * \(co)")
                            w.line("var s: Float = 0")
                            w.line("for o in 0..<\(co) { gr[o] += v * g[o]; s += wr[o] * g[o] }")
                            if c.gx != nil { w.line("dx[(iy * \(wd) + ix) * \(ci) + i] += s") } else { w.line("_ = s") }
                        }
                    }
                }
                w.line("} }")
            }
        }
        return ([.chunk("\(p)Forward(lo, hi, t)")], [.chunk("\(p)Forward(lo, hi, t)")], [.chunk("\(p)Backward(lo, hi, t)")])
    }
}
