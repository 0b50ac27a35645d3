// Conv2D, NHWC activations, HWIO kernel [KH, KW, CI, CO] (Keras layout), any kernel, stride
// and padding ('valid', TF 'same' with the odd extra at bottom/right, explicit symmetric).
//   forward:  y[n, oh, ow, :] = act(b + sum_{kh, kw, ci} xp[n, oh*SH+kh, ow*SW+kw, ci] * W[kh, kw, ci, :])
//             xp = zero-padded copy of x (only when padding > 0). In NHWC the KW*CI values of one
//             kernel row are contiguous, so each output pixel is KH dot products of length KW*CI
//             against W[kh] viewed as [KW*CI, CO]: RowGemm over blocks of output pixels, SIMD
//             over output channels.
//   backward: dy *= act'(y);  db = sum dy;
//             dW += xp_windows^T * dy   (the runtime's Gemm down the window columns, SIMD over output channels)
//             stride 1, 'same'-like padding (direct): dx = valid correlation of the zero-bordered
//             dy with the flipped kernel Wf [KH, KW, CO, CI] (RowGemm over dx pixels, SIMD over CI);
//             otherwise (scatter): dxp[pixel rows of kh] += dy * Wt[kh] (Wt[kh] = [CO, KW*CI],
//             RowGemm, SIMD over input positions), then dx = crop(dxp).
//   inference (fused group, Fusion.swift): folded BatchNorm and activation on the accumulators;
//             a folded pool runs on each image's output while it is in cache (per-thread
//             scratch image); the result goes to the group's target, which may be the next
//             Conv2D's padded input (then that layer skips its pad copy).
//   batch forward of a 3x3 or 5x5 stride-1 layer with enough work: Winograd F(4x4, 3x3) or
//             F(3x3, 5x5) tiles (WinogradConv.swift; up to 4x or 4.6x fewer multiplies), same
//             epilogue and output layout (in training: no folded BatchNorm); also the direct-form
//             input gradient above, itself a 'valid' correlation. A single image uses the tiles
//             (split over the threads by tiles, U cached against a copy of the kernel) when the
//             layer has at least 32 of them; otherwise the direct row kernel, split over the
//             threads (there, reading U's n^2 x CI x CO floats costs more than Winograd saves).
//   training fusion: with a BatchNorm after it, the backward computes each image's dy from
//             the BatchNorm's backward-data formula (per-chunk scratch) right before using it.

import ModelcCore

struct Conv2DEmitter: OpEmitter {
    let attrs: Conv2DAttrs
    let fold: FusedGroup?
    /// Batch inference of a 3x3 or 5x5 stride-1 layer with enough work uses Winograd (WinogradConv.swift).
    let winograd: Bool
    /// Below this many multiply-adds per image, splitting one image over threads costs more
    /// (a dispatch is a few microseconds) than it saves.
    static let splitMinimumMACs = 150_000

    /// Output pixels per register block: RowGemm's preferred count, or 8 for a small layer whose
    /// pixels two threads would split into unequal whole blocks of that count but equal ones of
    /// 8 (seed 000's conv2d_3, 16 pixels: 6 + 10 at 6 rows, 8 + 8 at 8; the one-image split
    /// waits for the larger part).
    static func rowsPerBlock(pixels: Int, channels: Int) -> Int {
        let preferred = UnrolledRowGemm.preferredRows(n: channels)
        let uneven = pixels % (2 * preferred) != 0 && pixels <= 8 * preferred
        return uneven && pixels % 16 == 0 ? 8 : preferred
    }

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let a = attrs
        let g = ConvGeometry(conv: a, inShape: c.inShape, outShape: c.outShape)
        let co = a.filters
        let p = c.prefix
        let padSize = g.hp * g.wp * g.c
        let xp = g.padded ? "\(p)xp" : c.x
        if g.padded { m.buffer(xp, perImage: padSize, "\(c.name) zero-padded input [N, \(g.hp), \(g.wp), \(g.c)]") }
        let pix = g.oh * g.ow
        let kRow = g.kw * g.c
        let epi = Fusion.epilogue(c.activation)
        let post = epi == nil ? c.activation : nil
        let desc = "kernel \(a.kernelH)x\(a.kernelW)x\(g.c)x\(co) stride \(a.strideH)x\(a.strideW) pad t\(g.top) b\(g.bottom) l\(g.left) r\(g.right)\(a.useBias ? " +bias" : "") \(c.activation.name)"

        // Inference: the producer of our input may have written it into xp already (Emitter.swift).
        let prePadded = g.padded && c.inputPrePadded
        /// Output pixels q..<q+rows of the image at `x` into `y` (pixel layout `out`), forward and single-image.
        func outputBlock(_ w: CodeWriter, _ rows: Int, _ q: String, _ fused: FusedOutput?, _ out: PixelLayout) {
            UnrolledRowGemm(rows: rows,
                    aRow: { r in "x + ((\(q) + \(r)) / \(g.ow) * \(g.sh * g.wp) + (\(q) + \(r)) % \(g.ow) * \(g.sw)) * \(g.c)" },
                    cRow: { r in "y + \(out.pixel("(\(q) + \(r))"))" },
                    k: kRow, segments: g.kh, aSegment: g.wp * g.c, bSegment: kRow * co,
                    b: "wk", ldb: co, n: co, bias: (a.useBias && fused == nil) ? "bias" : nil,
                    scale: fused == nil ? nil : "sc", shift: fused == nil ? nil : "sh",
                    epilogue: fused?.activation ?? epi ?? .none).emit(w)
        }
        /// The weights (unless `kernel` is false), bias and (fused) folded scale/shift every output block reads.
        func weightsPreamble(_ w: CodeWriter, _ fused: FusedOutput?, kernel: Bool = true) {
            if kernel { w.line("let wk = \(c.param(.kernel))") }
            if a.useBias { w.line("let bias = \(c.param(.bias))") }
            if let f = fused { f.emitScaleShift(w, buffer: "\(p)fold", channels: co, bias: a.useBias ? "bias" : nil) }
        }
        /// Copies image `n` (an expression; nil: image 0) into the interior of its zero-padded buffer.
        func padCopy(_ w: CodeWriter, _ n: String?) {
            if let n = n {
                w.line("let src = \(c.x) + \(n) * \(c.inSize)")
                w.line("let x = \(xp) + \(n) * \(padSize)")
            } else {
                w.line("let src = \(c.x), x = \(xp)")
            }
            w.line("for r in 0..<\(g.h) { (x + ((r + \(g.top)) * \(g.wp) + \(g.left)) * \(g.c)).update(from: src + r * \(g.w * g.c), count: \(g.w * g.c)) }")
        }
        let dense = PixelLayout.dense(c.outShape)
        let scratch = "\(p)poolIn"
        if c.fused?.pool != nil {
            m.buffer(scratch, perImage: 0, perChunk: c.outSize, "\(c.name) inference: one image's output before pooling, per chunk \(shapeText(c.outShape))")
        }
        /// Where this layer's own output goes with fusion `fused`: the group's target (in its
        /// layout), or the dense scratch image when a pool is folded; without fusion, y.
        func outputLayout(_ fused: FusedOutput?) -> PixelLayout { fused?.pool == nil ? (fused?.layout ?? dense) : dense }
        func outputBuffer(_ fused: FusedOutput?) -> String { fused?.pool == nil ? (fused?.target ?? c.y) : scratch }

        // A layer with enough work has one inference row kernel, `ForwardRows(x, y, q0, q1, t)`:
        // output pixels q0..<q1 of the image at x into y. Batch inference calls it once per image;
        // single-image inference splits the image's pixels over the threads (bit-identical).
        let rowsPerBlock = Conv2DEmitter.rowsPerBlock(pixels: pix, channels: co)
        let macs = pix * g.kh * kRow * co
        let split = macs >= Conv2DEmitter.splitMinimumMACs && pix >= 2 * rowsPerBlock && (c.fused != nil || post == nil)
        let wino = winograd && split ? WinogradConv(g: g, co: co, prefix: p) : nil
        // One image uses the tiles too when there are enough of them to reuse each U value
        // (split over the threads by tiles; U recomputed only when the kernel changed).
        let winoSingle = wino.map { $0.tiles >= WinogradConv.singleImageMinimumTiles } ?? false
        let rowsKernel = "\(p)ForwardRows"
        // The training forward has no folded BatchNorm: with a fused group it gets its own tile
        // kernel (bias and the layer's own activation only); without one it shares inference's.
        let trainTiles = wino.map { c.fused == nil ? $0.kernelName : "\(p)ForwardTilesTraining" }
        if let wino = wino {
            wino.emitWeights(m, name: c.name, kernel: c.param(.kernel), cached: winoSingle)
            m.inferencePrologue.append(wino.weightsName)
            m.trainingPrologue.append(wino.weightsName)
            func emitTiles(_ name: String, _ fused: FusedOutput?) {
                m.imageRowsFunction(name, comment: "\(c.header): Winograd \(wino.form), output tiles q0..<q1 (of \(wino.tiles), \(wino.t.m)x\(wino.t.m) pixels each) of one image\(fused.map { ", fused with \($0.names)" } ?? "")") { w in
                    weightsPreamble(w, fused, kernel: false)   // the kernel is read as U (WinogradWeights)
                    wino.emitKernelBody(w, out: outputLayout(fused), bias: (a.useBias && fused == nil) ? "bias" : nil,
                                        scale: fused == nil ? nil : "sc", shift: fused == nil ? nil : "sh",
                                        epilogue: fused?.activation ?? epi ?? .none)
                }
            }
            emitTiles(wino.kernelName, c.fused)
            if let name = trainTiles, name != wino.kernelName { emitTiles(name, nil) }
        }
        if split && !winoSingle {
            let fused = c.fused
            m.imageRowsFunction(rowsKernel, comment: "\(c.header): output pixels q0..<q1 of one image\(fused.map { ", fused with \($0.names)" } ?? "")") { w in
                weightsPreamble(w, fused)
                emitDynamicRows(w, from: "q0", to: "q1", rowsPerBlock: rowsPerBlock, total: pix) { rows, q in
                    outputBlock(w, rows, q, fused, outputLayout(fused))
                }
            }
        }

        /// Batch forward; `inference`: the input may be pre-padded, the output may be pooled.
        func forward(_ name: String, _ fused: FusedOutput?, inference: Bool) {
            let what = fused.map { "inference, fused with \($0.names)" } ?? (inference ? "\(desc), inference" : desc)
            let useRows = inference && split
            // the tile kernel called per image: batch inference's, or the training forward's
            let tiles = inference ? (useRows ? wino?.kernelName : nil) : trainTiles
            m.chunkFunction(name, comment: "\(c.header): \(what)\(tiles == nil ? "" : ", Winograd")") { w in
                if !useRows && tiles == nil { weightsPreamble(w, fused) }
                w.block("for n in lo..<hi") {
                    if g.padded && !(inference && prePadded) {
                        padCopy(w, "n")
                    } else {
                        w.line("let x = \(xp) + n * \(g.padded ? padSize : c.inSize)")
                    }
                    let out = outputLayout(fused)
                    w.line("let y = \(fused?.pool != nil ? "\(scratch) + t * \(c.outSize)" : "\(outputBuffer(fused)) + n * \(out.imageStride)")")
                    if let tiles = tiles, let wino = wino {
                        w.line("\(tiles)(x, y, 0, \(wino.tiles), t)")
                    } else if useRows {
                        w.line("\(rowsKernel)(x, y, 0, \(pix), t)")
                    } else {
                        emitRowBlocks(w, total: pix, rowsPerBlock: rowsPerBlock, index: "q") { rows, q in
                            outputBlock(w, rows, q, fused, out)
                        }
                    }
                    if let f = fused, let pool = f.pool {
                        w.block("do") {
                            PoolCode.emitImage(w, pool.geometry, isMax: pool.isMax, x: "y", y: "\(f.target) + n * \(f.layout.imageStride)",
                                               out: f.layout, activation: pool.activation)
                        }
                    }
                }
                if fused == nil, let post = post {
                    w.block("do") { ActivationCode.emitForward(w, post, x: c.y, y: c.y, size: c.outSize, channels: co) }
                }
            }
        }
        forward("\(p)Forward", nil, inference: false)
        if let f = c.fused {
            m.buffer("\(p)fold", perImage: 0, perChunk: 2 * co, "\(c.name) folded BatchNorm scale and shift per chunk")
            forward("\(p)ForwardFused", f, inference: true)
        } else if prePadded || split {
            forward("\(p)ForwardInference", nil, inference: true)
        }

        // Single-image inference: the row kernel split over the threads (the padded copy is made
        // first, once); a folded pool then runs on the whole image.
        if split {
            let fused = c.fused
            var steps: [Step] = []
            if g.padded && !prePadded {
                m.serialFunction("\(p)PadSingle", comment: "\(c.name): zero-padded copy of image 0 (single-image inference)") { w in
                    padCopy(w, nil)
                }
                steps.append(.serial("\(p)PadSingle()"))
            }
            if let wino = wino, winoSingle {
                steps.append(.serial("\(wino.weightsName)IfChanged()"))
                steps.append(.rows("\(wino.kernelName)(\(xp), \(outputBuffer(fused)), q0, q1, t)", total: wino.tiles, block: wino.block))
            } else {
                steps.append(.rows("\(rowsKernel)(\(xp), \(outputBuffer(fused)), q0, q1, t)", total: pix, block: rowsPerBlock))
            }
            if let f = fused, let pool = f.pool {
                m.serialFunction("\(p)PoolSingle", comment: "\(c.name): pooling of image 0 (single-image inference, fused)") { w in
                    PoolCode.emitImage(w, pool.geometry, isMax: pool.isMax, x: scratch, y: f.target, out: f.layout, activation: pool.activation)
                }
                steps.append(.serial("\(p)PoolSingle()"))
            }
            m.singleImage = steps
        }

        // Input gradient. Stride 1 with at most K-1 padding per side and few extra MACs ('same'):
        // direct form, dx = valid correlation of the zero-bordered dy with the flipped kernel,
        // each dx pixel computed once in registers (as the forward). Otherwise scatter form:
        // every dy pixel adds dy * Wt[kh] into a zeroed padded dx, which is then cropped.
        let pt = g.kh - 1 - g.top, pb = g.kh - 1 - g.bottom, pl = g.kw - 1 - g.left, pr = g.kw - 1 - g.right
        let direct = a.strideH == 1 && a.strideW == 1 && min(pt, pb, pl, pr) >= 0 && g.h * g.w * 5 <= pix * 6
        // The direct form is itself a stride-1 'valid' convolution (input dyp [OH + pt + pb,
        // OW + pl + pr, CO], kernel Wf, output dx [H, W, CI]): with enough work, Winograd tiles.
        // (For 'valid' layers the scatter form stays: Winograd over the wide zero border of dyp
        // measured no faster than it on seed 000's 5x5 conv2d_2.)
        var dxGeometry = g
        (dxGeometry.h, dxGeometry.w, dxGeometry.c, dxGeometry.oh, dxGeometry.ow) = (g.oh, g.ow, co, g.h, g.w)
        (dxGeometry.top, dxGeometry.bottom, dxGeometry.left, dxGeometry.right) = (pt, pb, pl, pr)
        let dxWino = c.gx != nil && direct && winograd && g.h * g.w * g.kh * g.kw * co * g.c >= Conv2DEmitter.splitMinimumMACs
            ? WinogradConv(g: dxGeometry, co: g.c, prefix: "\(p)dx", kernel: "\(p)InputGradientTiles") : nil
        let dyWp = g.ow + pl + pr, dypSize = (g.oh + pt + pb) * dyWp * co
        let wt = "\(p)wt", wf = "\(p)wf", dyp = "\(p)dyp"
        if c.gx != nil && direct {
            m.buffer(wf, perImage: 0, fixed: g.kh * g.kw * co * g.c, "\(c.name) flipped kernel [KH, KW, CO, CI]")
            m.serialFunction("\(p)Flip", comment: "\(c.name): Wf[kh][kw][co][ci] = W[KH-1-kh][KW-1-kw][ci][co]") { w in
                w.line("let wk = \(c.param(.kernel))")
                w.line("for kh in 0..<\(g.kh) { for kw in 0..<\(g.kw) { for ci in 0..<\(g.c) { for o in 0..<\(co) {")
                w.line("    \(wf)[((kh * \(g.kw) + kw) * \(co) + o) * \(g.c) + ci] = wk[(((\(g.kh - 1) - kh) * \(g.kw) + \(g.kw - 1) - kw) * \(g.c) + ci) * \(co) + o]")
                w.line("} } } }")
            }
            m.backwardPrologue.append("\(p)Flip")
            if let wino = dxWino {
                wino.emitWeights(m, name: "\(c.name) input gradient", kernel: wf)
                m.backwardPrologue.append(wino.weightsName)
                m.imageRowsFunction(wino.kernelName, comment: "\(c.name) input gradient: Winograd \(wino.form) of the zero-bordered dy at x with the flipped kernel, into dx at y (tiles q0..<q1)") { w in
                    wino.emitKernelBody(w, out: .dense([g.h, g.w, g.c]), bias: nil, scale: nil, shift: nil, epilogue: .none)
                }
            }
            m.buffer(dyp, perImage: 0, perChunk: dypSize, "\(c.name) output gradient of one image, zero-bordered [\(g.oh + pt + pb), \(dyWp), \(co)] (per chunk)")
        } else if c.gx != nil {
            m.buffer(wt, perImage: 0, fixed: g.kh * co * kRow, "\(c.name) transposed kernel [KH, CO, KW*CI]")
            m.serialFunction("\(p)Transpose", comment: "\(c.name): Wt[kh][co][kw*CI + ci] = W[kh][kw][ci][co]") { w in
                w.line("let wk = \(c.param(.kernel))")
                w.line("for kh in 0..<\(g.kh) { for kw in 0..<\(g.kw) { for ci in 0..<\(g.c) { for o in 0..<\(co) {")
                w.line("    \(wt)[(kh * \(co) + o) * \(kRow) + kw * \(g.c) + ci] = wk[((kh * \(g.kw) + kw) * \(g.c) + ci) * \(co) + o]")
                w.line("} } } }")
            }
            m.backwardPrologue.append("\(p)Transpose")
            if g.padded { m.buffer("\(p)dxp", perImage: padSize, "\(c.name) gradient of the padded input") }
        }
        if let form = (wino ?? dxWino)?.form {
            m.winogradLayers.append(WinogradLayer(name: c.name, form: form, forward: wino != nil, inputGradient: dxWino != nil))
        }
        m.reduceRanges.append((c.paramOffsets[.kernel] ?? 0, g.kh * kRow * co))
        if a.useBias { m.reduceRanges.append((c.paramOffsets[.bias] ?? 0, co)) }

        if c.trainingBatchNorm != nil {
            m.buffer("\(p)dz", perImage: 0, perChunk: c.outSize, "\(c.name) output gradient of one image (from the fused BatchNorm backward), per chunk")
        }
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dW, db\(c.gx != nil ? ", dx" : " (first layer: no dx)")") { w in
            w.line("let gp = partials + t * \(c.parameterCount)")
            if c.activation != .linear {
                w.block("do") { ActivationCode.emitBackward(w, c.activation, dy: c.gy, y: c.y, dx: c.gy, size: c.outSize, channels: co) }
            }
            if a.useBias {
                w.line("let gb = \(c.grad(.bias))")
                w.line("for o in 0..<\(co) { gb[o] = 0 }")
            }
            w.line("let gk = \(c.grad(.kernel))")
            w.line("gk.update(repeating: 0, count: \(g.kh * kRow * co))")
            if c.gx != nil && direct { w.line("let dyp = \(dyp) + t * \(dypSize)") }
            // One image at a time: its dy (and x) stay in cache from db through dW to dx.
            w.block("for n in lo..<hi") {
                w.line("let x = \(xp) + n * \(g.padded ? padSize : c.inSize)")
                if let bn = c.trainingBatchNorm {
                    // dy = the following BatchNorm's backward-data pass for this image (training fusion)
                    w.line("let dy = \(p)dz + t * \(c.outSize)")
                    w.block("do") {
                        bn.emit(w, rows: "\(pix)", dOutBase: "\(bn.dOut) + n * \(c.outSize)", outBase: "\(bn.out) + n * \(c.outSize)",
                                xBase: "\(bn.x) + n * \(c.outSize)", dxBase: "dy")
                    }
                } else {
                    w.line("let dy = \(c.gy) + n * \(c.outSize)")
                }
                if a.useBias {
                    w.line("for r in 0..<\(pix) { for o in 0..<\(co) { gb[o] += dy[r * \(co) + o] } }")
                }
                // dW[kh][kw*CI + ci][:] += sum over output pixels of xp[window row kh][kw*CI + ci] * dy[pixel][:]
                RowGemm(rows: "\(g.kh * kRow)", aRow: { r in "x + \(r) / \(kRow) * \(g.wp * g.c) + \(r) % \(kRow)" }, cRow: { r in "gk + \(r) * \(co)" },
                        b: "dy", n: co, outer: "\(g.oh)", inner: "\(g.ow)", aOuter: g.sh * g.wp * g.c, aInner: g.sw * g.c,
                        bOuter: g.ow * co, bInner: co, accumulate: true).emit(w)
                if let gx = c.gx, direct {
                    // dx[h, w, :] = sum_{kh, kw} dyp[h + kh, w + kw, :] * Wf[kh, kw]: RowGemm over dx pixels, SIMD over CI
                    w.line("let dx = \(gx) + n * \(c.inSize)")
                    w.line("for r in 0..<\(g.oh) { (dyp + ((r + \(pt)) * \(dyWp) + \(pl)) * \(co)).update(from: dy + r * \(g.ow * co), count: \(g.ow * co)) }")
                    if let wino = dxWino {
                        w.line("\(wino.kernelName)(dyp, dx, 0, \(wino.tiles), t)")
                    } else {
                        emitRowBlocks(w, total: g.h * g.w, rowsPerBlock: UnrolledRowGemm.preferredRows(n: g.c), index: "q") { rows, q in
                            UnrolledRowGemm(rows: rows,
                                    aRow: { r in "dyp + ((\(q) + \(r)) / \(g.w) * \(dyWp) + (\(q) + \(r)) % \(g.w)) * \(co)" },
                                    cRow: { r in "dx + (\(q) + \(r)) * \(g.c)" },
                                    k: g.kw * co, segments: g.kh, aSegment: dyWp * co, bSegment: g.kw * co * g.c,
                                    b: wf, ldb: g.c, n: g.c).emit(w)
                        }
                    }
                } else if let gx = c.gx {
                    w.line("let dx = \(g.padded ? "\(p)dxp + n * \(padSize)" : "\(gx) + n * \(c.inSize)")")
                    w.line("dx.update(repeating: 0, count: \(g.padded ? padSize : c.inSize))")
                    w.block("for kh in 0..<\(g.kh)") {
                        w.line("let wtk = \(wt) + kh * \(co * kRow)")
                        emitRowBlocks(w, total: pix, rowsPerBlock: UnrolledRowGemm.preferredRows(n: kRow), index: "q") { rows, q in
                            UnrolledRowGemm(rows: rows,
                                    aRow: { r in "dy + (\(q) + \(r)) * \(co)" },
                                    cRow: { r in "dx + (((\(q) + \(r)) / \(g.ow) * \(g.sh) + kh) * \(g.wp) + (\(q) + \(r)) % \(g.ow) * \(g.sw)) * \(g.c)" },
                                    k: co, b: "wtk", ldb: kRow, n: kRow, accumulate: true).emit(w)
                        }
                    }
                    if g.padded {
                        w.line("let out = \(gx) + n * \(c.inSize)")
                        w.line("for r in 0..<\(g.h) { (out + r * \(g.w * g.c)).update(from: dx + ((r + \(g.top)) * \(g.wp) + \(g.left)) * \(g.c), count: \(g.w * g.c)) }")
                    }
                }
            }
        }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        let inf: [Step] = c.fused != nil ? [.chunk("\(p)ForwardFused(lo, hi, t)")]
                        : (prePadded || split ? [.chunk("\(p)ForwardInference(lo, hi, t)")] : f)
        return (f, inf, [.chunk("\(p)Backward(lo, hi, t)")])
    }
}
