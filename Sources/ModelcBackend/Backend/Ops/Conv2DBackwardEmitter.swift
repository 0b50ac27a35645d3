// Conv2D backward (the forward and the layouts: Conv2DEmitter.swift), one image at a time so
// that its dy (and x) stay in cache from db through dW to dx (a Winograd dx that reads dy
// unpadded runs every few images, over their dy held in a per-thread scratch):
//   dy *= act'(y);  db = sum dy
//   dW += xp_windows^T * dy      the runtime's Gemm down the window columns, SIMD over CO, or
//       for a 3x3 stride-1 layer Winograd F(3x3, t x t), t = 3, 4, 5 (the runtime's WinogradGradient): each
//       image's tiles accumulate into M, transformed into dW once after the chunk's images
//   dx, direct form (stride 1, 'same'-like padding, few extra MACs): the valid correlation of
//       the zero-bordered dy with the flipped kernel Wf [KH, KW, CO, CI], each dx pixel computed
//       once in registers (`InputGradientRows`, reading a zero-bordered copy of dy), or Winograd
//       tiles when there is enough work (reading dy itself, the border applied in the transform);
//   dx, scatter form (otherwise): dxp[pixel rows of kh] += dy * Wt[kh] (Wt[kh] = [CO, KW*CI],
//       `InputGradientScatter`), then dx = crop(dxp).
// Training fusion: with a BatchNorm after the layer, each image's dy comes from the BatchNorm's
// backward-data formula (per-chunk scratch) right before it is used; with the direct row-kernel
// input gradient and the Winograd weight gradient, it is written row by row straight into the
// interior of the zero-bordered scratch that all three read (`dyInScratch`).

import ModelcCore

struct Conv2DBackwardEmitter {
    let layer: Conv2DLayer
    var c: LayerContext { layer.c }
    var g: ConvGeometry { layer.g }
    var p: String { layer.p }
    var co: Int { layer.co }
    // Padding of dy for the direct form, per side.
    var pt: Int { g.dyPadding.top }
    var pb: Int { g.dyPadding.bottom }
    var pl: Int { g.dyPadding.left }
    var pr: Int { g.dyPadding.right }
    var direct: Bool { layer.lowering.inputGradient == .direct || layer.lowering.inputGradient == .winograd }
    /// The direct form reads a zero-bordered copy of dy (`dyp`): the row kernel, or Winograd
    /// tiles that cannot read dy unpadded.
    var dyBordered: Bool { c.gx != nil && direct && !layer.lowering.unpaddedOutputGradient }
    var dyWp: Int { g.ow + pl + pr }
    var dypSize: Int { (g.oh + pt + pb) * dyWp * co }

    /// The direct form is itself a stride-1 'valid' convolution (input dyp [OH + pt + pb,
    /// OW + pl + pr, CO], kernel Wf, output dx [H, W, CI]): with enough work, Winograd tiles.
    var dxWino: WinogradConv? {
        guard layer.lowering.inputGradient == .winograd else { return nil }
        return WinogradConv(g: g.inputGradient(filters: co), co: g.c, prefix: "\(p)dx", kernel: "\(p)InputGradientTiles",
                            unpadded: layer.lowering.unpaddedOutputGradient)
    }

    func emit(_ m: ModelEmission) -> [Step] {
        let dxWino = self.dxWino
        if c.gx != nil && direct {
            emitDirectInputGradient(m, dxWino)
        } else if c.gx != nil {
            emitScatterInputGradient(m)
        }
        if let form = (layer.wino ?? dxWino)?.form {
            m.winogradLayers.append(WinogradLayer(name: c.name, form: form, forward: layer.wino != nil, inputGradient: dxWino != nil))
        }
        weightGradient?.declare(m, name: c.name)
        m.reduceRanges.append((c.paramOffsets[.kernel] ?? 0, g.kh * layer.kRow * co))
        if layer.attrs.useBias { m.reduceRanges.append((c.paramOffsets[.bias] ?? 0, co)) }
        if c.trainingBatchNorm != nil && !dyInScratch {
            let k = dxImages
            m.buffer("\(p)dz", perImage: 0, perChunk: k * c.outSize,
                     "\(c.name) output gradient of \(k == 1 ? "one image" : "\(k) images") (from the fused BatchNorm backward), per chunk")
        }
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dW, db\(c.gx != nil ? ", dx" : " (first layer: no dx)")") { w in
            emitBackwardBody(w, dxWino)
        }
        return [.chunk("\(p)Backward(lo, hi, t)")]
    }

    private func emitBackwardBody(_ w: CodeWriter, _ dxWino: WinogradConv?) {
        w.line("let gp = partials + t * \(c.parameterCount)")
        if c.activation != .linear {
            ActivationCode.emitBackward(w, c.activation, dy: c.gy, y: c.y, dx: c.gy, size: c.outSize, channels: co)
        }
        if layer.attrs.useBias {
            if c.trainingBatchNorm == nil {   // the chunk's output gradient is in place: one sum
                w.line("BiasGradient.sum(\(c.gy) + lo * \(c.outSize), rows: (hi - lo) * \(layer.pix), n: \(co), into: \(c.grad(.bias)))")
            } else {                          // dy is made image by image (the fused BatchNorm's backward)
                w.line("let gb = \(c.grad(.bias))")
                w.line("for o in 0..<\(co) { gb[o] = 0 }")
            }
        }
        w.line("let gk = \(c.grad(.kernel))")
        if let wg = weightGradient {
            wg.emitStart(w)
        } else {
            w.line("gk.update(repeating: 0, count: \(g.kh * layer.kRow * co))")
        }
        if dyBordered { w.line("let dyp = \(p)dyp + t * \(dypSize)") }
        w.block("for n in lo..<hi") {
            w.line("let x = \(layer.batchInput) + n * \(layer.inputStride)")
            emitOutputGradient(w)
            if layer.attrs.useBias && c.trainingBatchNorm != nil {
                w.line("for r in 0..<\(g.oh) { for q in 0..<\(g.ow) { for o in 0..<\(co) { gb[o] += dy[r * \(dyRowStride) + q * \(co) + o] } } }")
            }
            if let wg = weightGradient {
                wg.emitAccumulate(w)
            } else {
                // dW[kh][kw*CI + ci][:] += sum over output pixels of xp[window row kh][kw*CI + ci] * dy[pixel][:]
                g.weightGradientGemm(co: co).emit(w)
            }
            if let gx = c.gx { emitInputGradientCall(w, gx, dxWino) }
        }
        weightGradient?.emitStore(w)
    }

    /// Images per call of the Winograd input gradient (ConvLowering.inputGradientImages) when its
    /// tiles read dy itself: every that many images, one call whose GEMM blocks span them.
    var dxImages: Int { dxWino != nil && !dyBordered ? layer.lowering.inputGradientImages : 1 }

    /// The tile t of the Winograd weight gradient F(3x3, t x t), when the plan chose it.
    var gradientTile: Int? { layer.lowering.winogradWeightGradient ? WinogradConv.gradientTile(g, filters: co) : nil }

    /// The Winograd weight gradient, when the plan chose it.
    var weightGradient: WinogradWeightGradient? {
        gradientTile.map { WinogradWeightGradient(g: g, co: co, t: $0, prefix: p, dyRowStride: dyInScratch ? dyRowStride : nil, unpadded: layer.unpadded) }
    }

    /// The fused BatchNorm's backward writes each image's dy straight into the interior of the
    /// zero-bordered scratch that the input gradient reads, and the bias and Winograd weight
    /// gradients read it there: no dense dy, no copy.
    var dyInScratch: Bool { c.trainingBatchNorm != nil && dyBordered && gradientTile != nil }

    /// Floats between the rows of an image's dy: in the scratch, or dense.
    var dyRowStride: Int { dyInScratch ? dyWp * co : g.ow * co }

    /// `dy` of image n: this layer's output gradient, or the fused BatchNorm's backward-data result.
    private func emitOutputGradient(_ w: CodeWriter) {
        guard let bn = c.trainingBatchNorm else {
            w.line("let dy = \(c.gy) + n * \(c.outSize)")
            return
        }
        if dyInScratch {
            let row = g.ow * co
            w.line("let dy = dyp + \((pt * dyWp + pl) * co)   // in the zero-bordered scratch, rows \(dyRowStride) floats apart")
            w.block("for r in 0..<\(g.oh)") {
                bn.emit(w, rows: "\(g.ow)", dOutBase: "\(bn.dOut) + n * \(c.outSize) + r * \(row)", outBase: "\(bn.out) + n * \(c.outSize) + r * \(row)",
                        xBase: "\(bn.x) + n * \(c.outSize) + r * \(row)", dxBase: "dy + r * \(dyRowStride)")
            }
            return
        }
        let k = dxImages
        w.line("let dy = \(p)dz + t * \(k * c.outSize)\(k == 1 ? "" : " + (n - lo) % \(k) * \(c.outSize)")")
        w.block("do") {
            bn.emit(w, rows: "\(layer.pix)", dOutBase: "\(bn.dOut) + n * \(c.outSize)", outBase: "\(bn.out) + n * \(c.outSize)",
                    xBase: "\(bn.x) + n * \(c.outSize)", dxBase: "dy")
        }
    }

    private func emitInputGradientCall(_ w: CodeWriter, _ gx: String, _ dxWino: WinogradConv?) {
        if let wino = dxWino, dxImages > 1 {
            let k = dxImages
            let dy = c.trainingBatchNorm == nil ? "\(c.gy) + first * \(c.outSize)" : "\(p)dz + t * \(k * c.outSize)"
            w.block("if (n - lo) % \(k) == \(k - 1) || n == hi - 1") {
                w.line("let first = n - (n - lo) % \(k)   // dx of images first...n, their tiles in one call")
                w.line("\(wino.kernelName)(\(dy), \(gx) + first * \(c.inSize), 0, (n - first + 1) * \(wino.tiles), t)")
            }
            return
        }
        if direct {
            w.line("let dx = \(gx) + n * \(c.inSize)")
            if dyBordered && !dyInScratch {
                w.line("for r in 0..<\(g.oh) { (dyp + ((r + \(pt)) * \(dyWp) + \(pl)) * \(co)).update(from: dy + r * \(g.ow * co), count: \(g.ow * co)) }")
            }
            let source = dyBordered ? "dyp" : "dy"
            if let wino = dxWino {
                w.line("\(wino.kernelName)(\(source), dx, 0, \(wino.tiles), t)")
            } else {
                w.line("\(p)InputGradientRows(\(source), dx, 0, \(g.h * g.w), t)")
            }
            return
        }
        w.line("let dx = \(g.padded ? "\(p)dxp + n * \(layer.padSize)" : "\(gx) + n * \(c.inSize)")")
        w.line("dx.update(repeating: 0, count: \(g.padded ? layer.padSize : c.inSize))")
        w.line("\(p)InputGradientScatter(dy, dx, 0, \(layer.pix), t)")
        if g.padded {
            w.line("let out = \(gx) + n * \(c.inSize)")
            w.line("for r in 0..<\(g.h) { (out + r * \(g.w * g.c)).update(from: dx + ((r + \(g.top)) * \(g.wp) + \(g.left)) * \(g.c), count: \(g.w * g.c)) }")
        }
    }

    /// Direct form: the flipped kernel, the zero-bordered dy scratch and the dx row kernel (or tiles).
    private func emitDirectInputGradient(_ m: ModelEmission, _ dxWino: WinogradConv?) {
        let wf = "\(p)wf"
        m.buffer(wf, perImage: 0, fixed: g.kh * g.kw * co * g.c, "\(c.name) flipped kernel [KH, KW, CO, CI]")
        m.serialFunction("\(p)Flip", comment: "\(c.name): Wf[kh][kw][co][ci] = W[KH-1-kh][KW-1-kw][ci][co]") { w in
            w.line("let wk = \(c.param(.kernel))")
            w.line("for kh in 0..<\(g.kh) { for kw in 0..<\(g.kw) { for ci in 0..<\(g.c) { for o in 0..<\(co) {")
            w.line("    \(wf)[((kh * \(g.kw) + kw) * \(co) + o) * \(g.c) + ci] = wk[(((\(g.kh - 1) - kh) * \(g.kw) + \(g.kw - 1) - kw) * \(g.c) + ci) * \(co) + o]")
            w.line("} } } }")
        }
        m.backwardPrologue.append("\(p)Flip")
        if dyBordered {
            m.buffer("\(p)dyp", perImage: 0, perChunk: dypSize, "\(c.name) output gradient of one image, zero-bordered [\(g.oh + pt + pb), \(dyWp), \(co)] (per chunk)")
        }
        if let wino = dxWino {
            wino.emitWeights(m, name: "\(c.name) input gradient", kernel: wf)
            m.backwardPrologue.append(wino.weightsName)
            let source = wino.unpadded ? "dy at x (zero border applied in the transform)" : "the zero-bordered dy at x"
            m.imageRowsFunction(wino.kernelName, comment: "\(c.name) input gradient: Winograd \(wino.form) of \(source) with the flipped kernel, into dx at y (tiles q0..<q1)") { w in
                wino.emitKernelBody(w, m, user: wino.kernelName, out: .dense([g.h, g.w, g.c]), bias: nil, scale: nil, shift: nil, epilogue: .none)
            }
            return
        }
        // dx[h, w, :] = sum_{kh, kw} dyp[h + kh, w + kw, :] * Wf[kh, kw]
        m.imageRowsFunction("\(p)InputGradientRows", comment: "\(c.name) input gradient: dx pixels q0..<q1 of one image (y) from its zero-bordered dy (x) and the flipped kernel") { w in
            RowGemm(rows: "q1 - q0", aRow: { r in "x + ((q0 + \(r)) / \(g.w) * \(dyWp) + (q0 + \(r)) % \(g.w)) * \(co)" },
                    cRow: { r in "y + (q0 + \(r)) * \(g.c)" }, b: wf, n: g.c, outer: "\(g.kh)", inner: "\(g.kw * co)",
                    aOuter: dyWp * co, aInner: 1, bOuter: g.kw * co * g.c, bInner: g.c, accumulate: false).emit(w)
        }
    }

    /// Scatter form: the transposed kernel, the padded dx and the kernel adding dy * Wt[kh] into it.
    private func emitScatterInputGradient(_ m: ModelEmission) {
        g.emitKernelTranspose(m, prefix: p, name: c.name, kernel: c.param(.kernel), co: co)
        m.backwardPrologue.append("\(p)Transpose")
        if g.padded { m.buffer("\(p)dxp", perImage: layer.padSize, "\(c.name) gradient of the padded input") }
        g.emitScatter(m, prefix: p, function: "\(p)InputGradientScatter",
                      comment: "\(c.name) input gradient: adds dy pixels q0..<q1 of one image (x) times Wt into its padded dx (y)", co: co)
    }
}

/// The weight gradient of a 3x3 stride-1 layer by Winograd F(3x3, t x t): the per-thread
/// buffers and the three calls (zero M, accumulate each image, store dW).
struct WinogradWeightGradient {
    let g: ConvGeometry
    let co: Int
    let t: Int
    let prefix: String
    /// Floats between dy's rows when dy sits in a zero-bordered buffer (nil: dense).
    var dyRowStride: Int? = nil
    /// x is read unpadded (the border applied in the input transform).
    var unpadded = false
    var n: Int { 3 + t - 1 }
    var tiles: Int { ((g.oh + t - 1) / t) * ((g.ow + t - 1) / t) }
    /// Tiles per round of GEMMs (their reduction length), up to 64: an image with fewer tiles
    /// shares its round with the next images of the chunk (M is read and written once a round).
    var block: Int { tiles < 64 ? tiles * imagesPerRound : 64 }
    var imagesPerRound: Int { max(1, 64 / tiles) }
    var form: String { "WinogradGradient<WinogradF3x3x\(t)x\(t)>" }
    var sizes: (v: Int, e: Int, m: Int, h: Int) { (n * n * block * g.c, n * n * block * co, n * n * g.c * co, n * n * 16) }

    func declare(_ m: ModelEmission, name: String) {
        let rows = imagesPerRound > 1 ? "\(block) (\(imagesPerRound) images x \(tiles) tiles)" : "\(block)"
        m.buffer("\(prefix)gv", perImage: 0, perChunk: sizes.v, "\(name) weight gradient: Winograd input tiles V [\(n * n), \(rows), CI] (per thread)")
        m.buffer("\(prefix)ge", perImage: 0, perChunk: sizes.e, "\(name) weight gradient: Winograd dy tiles E [\(n * n), \(rows), CO] (per thread)")
        m.buffer("\(prefix)gm", perImage: 0, perChunk: sizes.m, "\(name) weight gradient: Winograd sums M [\(n * n), CI, CO] over the chunk's images (per thread)")
        m.buffer("\(prefix)gh", perImage: 0, perChunk: sizes.h, "\(name) weight gradient: Winograd scratch tile (per thread)")
    }

    func emitStart(_ w: CodeWriter) {
        w.line("let wg = WinogradGradientBuffers(v: \(prefix)gv + t * \(sizes.v), e: \(prefix)ge + t * \(sizes.e), m: \(prefix)gm + t * \(sizes.m), h: \(prefix)gh + t * \(sizes.h))")
        let input = unpadded ? "inputHeight: \(g.h), inputWidth: \(g.w), padTop: \(g.top), padLeft: \(g.left)" : "inputHeight: \(g.hp), inputWidth: \(g.wp)"
        w.line("let wgGeometry = WinogradGradientGeometry(\(input), channels: \(g.c), outputHeight: \(g.oh), outputWidth: \(g.ow), filters: \(co), block: \(block)\(dyRowStride.map { ", outputRowStride: \($0)" } ?? ""))")
        w.line("wg.m.update(repeating: 0, count: \(sizes.m))")
    }

    func emitAccumulate(_ w: CodeWriter) {
        if imagesPerRound > 1 {
            w.line("\(form).accumulate(x, dy, wgGeometry, wg, image: n - lo, last: n == hi - 1)   // M += the products, every \(imagesPerRound) images")
        } else {
            w.line("\(form).accumulate(x, dy, wgGeometry, wg)   // M += this image's Winograd products")
        }
    }

    func emitStore(_ w: CodeWriter) {
        w.line("\(form).store(wg.m, gk, wg.h, channels: \(g.c), filters: \(co))   // dW = A^T M A")
    }
}
