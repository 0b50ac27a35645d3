// SeparableConv2D: depthwise KHxKW (multiplier M, no bias) into `mid`, then pointwise 1x1
// [CI*M, CO] + bias + activation.
//   forward:  mid = depthwise(xp);  y[pixel, :] = act(b + mid[pixel, :] * Wp)   (one Gemm over the chunk's pixels)
//   backward: dy *= act'(y); db = sum dy; dWp = mid^T * dy (the runtime's Gemm down the columns of mid);
//             dmid = dy * Wp^T (one Gemm); then the depthwise backward from dmid (dWd, dx).

import ModelcCore

struct SeparableConv2DEmitter: OpEmitter {
    let attrs: Conv2DAttrs
    let multiplier: Int

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let g = DepthwiseCode.geometry(attrs, c.inShape, c.outShape)
        let p = c.prefix
        let cm = g.c * multiplier
        let co = attrs.filters
        let pix = g.oh * g.ow
        let hasBias = c.has(.bias)
        let mid = "\(p)mid", dmid = "\(p)dmid", wt = "\(p)wt"
        let xp = DepthwiseCode.declarePadding(c, m, g)
        m.buffer(mid, perImage: pix * cm, "\(c.name) depthwise output [N, \(g.oh), \(g.ow), \(cm)]")
        m.buffer(dmid, perImage: pix * cm, "\(c.name) gradient of the depthwise output")
        m.buffer(wt, perImage: 0, fixed: cm * co, "\(c.name) transposed pointwise kernel [\(co), \(cm)]")
        let epi = Fusion.epilogue(c.activation)
        let post = epi == nil ? c.activation : nil
        m.chunkFunction("\(p)Forward", comment: "\(c.header): separable \(attrs.kernelH)x\(attrs.kernelW) x\(multiplier) then 1x1 to \(co), stride \(attrs.strideH)x\(attrs.strideW) pad t\(g.top) b\(g.bottom) l\(g.left) r\(g.right) \(c.activation.name)") { w in
            w.line("let dw = \(c.param(.depthwiseKernel)), pw = \(c.param(.pointwiseKernel))")
            if hasBias { w.line("let bias = \(c.param(.bias))") }
            w.block("for n in lo..<hi") {
                DepthwiseCode.padCopy(w, c, g, xp: xp, src: c.x)
                DepthwiseCode.forward(w, g, mult: multiplier, x: "x", y: "\(mid) + n * \(pix * cm)", dw: "dw", bias: nil)
            }
            // y[pixel, :] = act(b + mid[pixel, :] * Wp) for every pixel of images lo..<hi
            var gemm = RowGemm(rows: "(hi - lo) * \(pix)", aRow: { r in "\(mid) + (lo * \(pix) + \(r)) * \(cm)" },
                               cRow: { r in "\(c.y) + (lo * \(pix) + \(r)) * \(co)" }, k: cm, b: "pw", ldb: co, n: co)
            gemm.bias = hasBias ? "bias" : nil
            gemm.epilogue = epi ?? .none
            gemm.emit(w)
            if let post = post {
                ActivationCode.emitForward(w, post, x: c.y, y: c.y, size: c.outSize, channels: co)
            }
        }
        m.serialFunction("\(p)Transpose", comment: "\(c.name): pointwise Wt[o][i] = Wp[i][o]") { w in
            w.line("Matrix.transpose(\(c.param(.pointwiseKernel)), rows: \(cm), cols: \(co), into: \(wt))")
        }
        m.backwardPrologue.append("\(p)Transpose")
        m.reduceRanges.append((c.paramOffsets[.depthwiseKernel] ?? 0, g.kh * g.kw * cm))
        m.reduceRanges.append((c.paramOffsets[.pointwiseKernel] ?? 0, cm * co))
        if hasBias { m.reduceRanges.append((c.paramOffsets[.bias] ?? 0, co)) }
        if c.gx != nil && g.padded { m.buffer("\(p)dxp", perImage: g.hp * g.wp * g.c, "\(c.name) gradient of the padded input") }
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dWp, db, dmid, dWd\(c.gx != nil ? ", dx" : "")") { w in
            w.line("let gp = partials + t * \(c.parameterCount)")
            if c.activation != .linear {
                ActivationCode.emitBackward(w, c.activation, dy: c.gy, y: c.y, dx: c.gy, size: c.outSize, channels: co)
            }
            if hasBias {
                w.line("BiasGradient.sum(\(c.gy) + lo * \(c.outSize), rows: (hi - lo) * \(pix), n: \(co), into: \(c.grad(.bias)))")
            }
            w.line("let gpw = \(c.grad(.pointwiseKernel))")
            RowGemm(rows: "\(cm)", aRow: { i in "\(mid) + lo * \(pix * cm) + \(i)" }, cRow: { i in "gpw + \(i) * \(co)" },
                    b: "\(c.gy) + lo * \(pix * co)", n: co, outer: "1", inner: "(hi - lo) * \(pix)", aOuter: 0, aInner: cm,
                    bOuter: 0, bInner: co, accumulate: false).emit(w)
            w.line("let gdw = \(c.grad(.depthwiseKernel))")
            w.line("gdw.update(repeating: 0, count: \(g.kh * g.kw * cm))")
            if c.gx != nil { w.line("let dw = \(c.param(.depthwiseKernel))") }   // read by the input gradient only
            // dmid[pixel, :] = dy[pixel, :] * Wp^T for every pixel of images lo..<hi
            RowGemm(rows: "(hi - lo) * \(pix)", aRow: { r in "\(c.gy) + (lo * \(pix) + \(r)) * \(co)" },
                    cRow: { r in "\(dmid) + (lo * \(pix) + \(r)) * \(cm)" }, k: co, b: wt, ldb: cm, n: cm).emit(w)
            w.block("for n in lo..<hi") {
                w.line("let dm = \(dmid) + n * \(pix * cm)")
                w.line("let x = \(xp) + n * \(g.padded ? g.hp * g.wp * g.c : c.inSize)")
                DepthwiseCode.backward(w, c, g, mult: multiplier, x: "x", dy: "dm", dw: "dw", gdw: "gdw", gx: c.gx)
            }
        }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        return (f, f, [.chunk("\(p)Backward(lo, hi, t)")])
    }
}
