// Conv2DTranspose (Keras) / ConvTranspose2d (PyTorch), NHWC, kernel [KH, KW, F, CI] (Keras
// layout). The layer is the input gradient of the Conv2D whose input has this layer's output
// shape [OH, OW, F] and whose output has its input shape [H, W, CI]; in that convolution's
// geometry (`ConvGeometry(transposed:)`, padded to [HP, WP, F], HWIO kernel [KH, KW, F, CI] =
// this layer's kernel), the three passes are the convolution's own Gemm forms (ConvGemms.swift):
//   forward:  the scatter form: yp = 0; yp[window of input pixel q] += x[q] * Wt (Wt, the
//             transposed kernel, made before every forward); y = crop(yp) + bias; then act
//   backward: dy *= act'(y); db = sum dy; dyp = dy zero-bordered;
//             dW += dyp windows^T * x   (the convolution's weight gradient)
//             dx = the convolution of dyp with W   (the convolution's forward)
// Training and inference run the same forward; one image runs it inline.

import ModelcCore

struct Conv2DTransposeEmitter: OpEmitter {
    let attrs: Conv2DAttrs

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let g = ConvGeometry(transposed: attrs, inShape: c.inShape, outShape: c.outShape)
        let p = c.prefix, ci = c.inShape[2]
        g.emitKernelTranspose(m, prefix: p, name: c.name, kernel: c.param(.kernel), co: ci)
        m.trainingPrologue.append("\(p)Transpose")
        m.inferencePrologue.append("\(p)Transpose")
        let padSize = g.hp * g.wp * g.c
        if g.padded {
            m.buffer("\(p)yp", perImage: 0, perChunk: padSize, "\(c.name) output of one image before cropping [\(g.hp), \(g.wp), \(g.c)] (per chunk)")
        }
        g.emitScatter(m, prefix: p, function: "\(p)ForwardScatter",
                      comment: "\(c.name): adds input pixels q0..<q1 of one image (x) times Wt into its uncropped output (y)", co: ci)
        emitForward(c, m, g)
        m.singleImage = [.serial("\(p)Transpose()"), .chunk("\(p)Forward(lo, hi, t)")]
        let forward: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        m.reduceRanges.append((c.paramOffsets[.kernel] ?? 0, g.kh * g.kRow * ci))
        if attrs.useBias { m.reduceRanges.append((c.paramOffsets[.bias] ?? 0, g.c)) }
        if g.padded {
            m.buffer("\(p)dyp", perImage: 0, perChunk: padSize, "\(c.name) output gradient of one image, zero-bordered [\(g.hp), \(g.wp), \(g.c)] (per chunk)")
        }
        if c.gx != nil {
            m.imageRowsFunction("\(p)InputGradientRows", comment: "\(c.name) input gradient: dx pixels q0..<q1 of one image (y), the convolution of its zero-bordered dy (x) with W") { w in
                w.line("let wk = \(c.param(.kernel))")
                g.forwardGemm(co: ci, kernel: "wk", out: { "y + \($0) * \(ci)" }).emit(w)
            }
        }
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dW, db\(c.gx != nil ? ", dx" : " (first layer: no dx)")") { w in
            emitBackwardBody(w, c, g)
        }
        return (forward, forward, [.chunk("\(p)Backward(lo, hi, t)")])
    }

    /// Copies image `n`'s rows between the dense [OH, OW, F] image `dense` and the interior of the
    /// padded one `padded` (`toPadded`: into the padded one).
    private func copyInterior(_ w: CodeWriter, _ g: ConvGeometry, dense: String, padded: String, toPadded: Bool) {
        let row = g.w * g.c, interior = "\(padded) + ((r + \(g.top)) * \(g.wp) + \(g.left)) * \(g.c)"
        let (to, from) = toPadded ? (interior, "\(dense) + r * \(row)") : ("\(dense) + r * \(row)", interior)
        w.line("for r in 0..<\(g.h) { (\(to)).update(from: \(from), count: \(row)) }")
    }

    private func emitForward(_ c: LayerContext, _ m: ModelEmission, _ g: ConvGeometry) {
        let p = c.prefix, f = g.c
        let desc = "kernel \(attrs.kernelH)x\(attrs.kernelW)x\(f)x\(c.inShape[2]) stride \(attrs.strideH)x\(attrs.strideW) crop t\(g.top) l\(g.left)\(attrs.useBias ? " +bias" : "") \(c.activation.name)"
        m.chunkFunction("\(p)Forward", comment: "\(c.header): \(desc) (training and inference)") { w in
            if attrs.useBias { w.line("let bias = \(c.param(.bias))") }
            w.block("for n in lo..<hi") {
                w.line("let x = \(c.x) + n * \(c.inSize), out = \(c.y) + n * \(c.outSize)")
                w.line("let y = \(g.padded ? "\(p)yp + t * \(g.hp * g.wp * f)" : "out")")
                w.line("y.update(repeating: 0, count: \(g.hp * g.wp * f))")
                w.line("\(p)ForwardScatter(x, y, 0, \(g.oh * g.ow), t)")
                if g.padded { copyInterior(w, g, dense: "out", padded: "y", toPadded: false) }
                if attrs.useBias { w.line("for q in 0..<\(g.h * g.w) { for o in 0..<\(f) { out[q * \(f) + o] += bias[o] } }") }
            }
            if c.activation != .linear {
                ActivationCode.emitForward(w, c.activation, x: c.y, y: c.y, size: c.outSize, channels: f)
            }
        }
    }

    /// In the convolution's names: x is the zero-bordered output gradient (its input), dy this
    /// layer's input (its output gradient).
    private func emitBackwardBody(_ w: CodeWriter, _ c: LayerContext, _ g: ConvGeometry) {
        let p = c.prefix, f = g.c
        w.line("let gp = partials + t * \(c.parameterCount)")
        if c.activation != .linear {
            ActivationCode.emitBackward(w, c.activation, dy: c.gy, y: c.y, dx: c.gy, size: c.outSize, channels: f)
        }
        if attrs.useBias {
            w.line("BiasGradient.sum(\(c.gy) + lo * \(c.outSize), rows: (hi - lo) * \(g.h * g.w), n: \(f), into: \(c.grad(.bias)))")
        }
        w.line("let gk = \(c.grad(.kernel))")
        w.line("gk.update(repeating: 0, count: \(g.kh * g.kRow * c.inShape[2]))")
        w.block("for n in lo..<hi") {
            w.line("let gy = \(c.gy) + n * \(c.outSize)")
            if g.padded {
                w.line("let x = \(p)dyp + t * \(g.hp * g.wp * f)")
                copyInterior(w, g, dense: "gy", padded: "x", toPadded: true)
            } else {
                w.line("let x = gy")
            }
            w.line("let dy = \(c.x) + n * \(c.inSize)")
            g.weightGradientGemm(co: c.inShape[2]).emit(w)
            if let gx = c.gx { w.line("\(p)InputGradientRows(x, \(gx) + n * \(c.inSize), 0, \(g.oh * g.ow), t)") }
        }
    }
}

extension ConvGeometry {
    /// The geometry of the convolution a transposed convolution is the input gradient of: its
    /// input is the layer's output [OH, OW, F], its output the layer's input [H, W, CI]; the
    /// output rows and columns cut before the first are its top and left padding, and its
    /// bottom and right padding make the padded image hold every window.
    init(transposed a: Conv2DAttrs, inShape: [Int], outShape: [Int]) {
        h = outShape[0]; w = outShape[1]; c = outShape[2]
        oh = inShape[0]; ow = inShape[1]
        kh = a.kernelH; kw = a.kernelW; sh = a.strideH; sw = a.strideW
        top = TransposedConv.before(oh, out: h, k: kh, s: sh, a.padding, explicit: a.explicitPadH)
        left = TransposedConv.before(ow, out: w, k: kw, s: sw, a.padding, explicit: a.explicitPadW)
        bottom = max((oh - 1) * sh + kh - top - h, 0)
        right = max((ow - 1) * sw + kw - left - w, 0)
    }
}
