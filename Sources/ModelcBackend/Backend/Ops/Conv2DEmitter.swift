// Conv2D, NHWC activations, HWIO kernel [KH, KW, CI, CO] (Keras layout), any kernel, stride
// and padding ('valid', TF 'same' with the odd extra at bottom/right, explicit symmetric).
//   forward:  y[n, oh, ow, :] = act(b + sum_{kh, kw, ci} xp[n, oh*SH+kh, ow*SW+kw, ci] * W[kh, kw, ci, :])
//             xp = zero-padded copy of x (only when padding > 0). In NHWC the KW*CI values of one
//             kernel row are contiguous, so each output pixel is a two-level reduction (KH rows of
//             KW*CI terms) against W viewed as [KH, KW*CI, CO]: one call of the runtime's Gemm per
//             range of output pixels (`ForwardRows`), SIMD over output channels.
//   backward: Conv2DBackwardEmitter.swift.
//   inference (fused group, Fusion.swift): folded BatchNorm and activation in the Gemm epilogue;
//             a folded pool runs on each image's output while it is in cache (a per-thread
//             scratch of one image, or of the images one Winograd call covers); the result goes to
//             the group's target, which may be the next Conv2D's padded input (then that layer
//             skips its pad copy).
//   unpadded input (ConvLowering.unpaddedInput: Winograd forward and weight gradient): the
//             batch forward and the backward read x itself, the tiles' input transform applying
//             the zero border; only a single-image row kernel reads a padded copy (of image 0).
//   batch forward of a 3x3 or 5x5 stride-1 layer with enough work: Winograd F(m x m, 3x3)
//             (m = 3, 4, 5) or F(3x3, 5x5) tiles (WinogradConv.swift), same epilogue and output
//             layout (in training: no folded BatchNorm), one call over several images' tiles. A
//             single image uses the tiles (split over the threads by tiles) when the layer has
//             at least 9 of them (WinogradConv.singleImageMinimumTiles), else the row kernel
//             split over the threads.
// The row kernels take the pixel range as arguments and are never inlined, so the Gemm's row
// count stays a run-time value: with a literal count LLVM fully unrolls small layers' rows.

import ModelcCore

struct Conv2DEmitter: OpEmitter {
    let attrs: Conv2DAttrs
    /// The lowering pass's choices (Passes/ConvLowering.swift).
    let lowering: ConvLowering

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let layer = Conv2DLayer(attrs: attrs, c: c, lowering: lowering)
        let forward = layer.emitForward(m)
        let backward = Conv2DBackwardEmitter(layer: layer).emit(m)
        return (forward.train, forward.infer, backward)
    }
}

/// One Conv2D layer's geometry and the forms its plan chose.
struct Conv2DLayer {
    let attrs: Conv2DAttrs
    let c: LayerContext
    let lowering: ConvLowering
    let g: ConvGeometry
    let co: Int
    /// The register-epilogue activation, or the activation run after the product.
    let epi: EpilogueActivation?
    let post: Activation?
    let wino: WinogradConv?
    /// One image's output pixels are split over the threads (enough work).
    var split: Bool { lowering.splitSingleImage }
    /// Single-image inference uses the Winograd tiles.
    var winoSingle: Bool { lowering.winogradSingleImage }

    init(attrs a: Conv2DAttrs, c: LayerContext, lowering: ConvLowering) {
        self.attrs = a; self.c = c; self.lowering = lowering
        g = ConvGeometry(conv: a, inShape: c.inShape, outShape: c.outShape)
        co = a.filters
        epi = Fusion.epilogue(c.activation)
        post = epi == nil ? c.activation : nil
        wino = lowering.winogradTile == nil ? nil : WinogradConv(g: g, co: co, prefix: c.prefix, unpadded: lowering.unpaddedInput)
    }

    var p: String { c.prefix }
    var pix: Int { g.oh * g.ow }
    var kRow: Int { g.kRow }
    var padSize: Int { g.hp * g.wp * g.c }
    var xp: String { g.padded ? "\(p)xp" : c.x }
    /// The batch forward and the backward read the input unpadded (ConvLowering.unpaddedInput).
    var unpadded: Bool { lowering.unpaddedInput }
    /// What the batch forward and the backward read as image n's input: x itself or its padded copy.
    var batchInput: String { unpadded ? c.x : xp }
    var inputStride: Int { g.padded && !unpadded ? padSize : c.inSize }
    /// Single-image inference reads the padded copy of image 0 (the row kernel, or padded tiles).
    var singleImagePadCopy: Bool { g.padded && !prePadded && !(unpadded && winoSingle) }
    /// Inference: the producer of our input may have written it into xp already (Emitter.swift).
    var prePadded: Bool { g.padded && c.inputPrePadded }
    var scratch: String { "\(p)poolIn" }
    var desc: String {
        "kernel \(attrs.kernelH)x\(attrs.kernelW)x\(g.c)x\(co) stride \(attrs.strideH)x\(attrs.strideW) pad t\(g.top) b\(g.bottom) l\(g.left) r\(g.right)\(attrs.useBias ? " +bias" : "") \(c.activation.name)"
    }
    /// The training forward's Winograd tile kernel: with a fused group it has its own (bias and
    /// the layer's own activation only), without one it is inference's.
    var trainTiles: String? { wino.map { c.fused == nil ? $0.kernelName : "\(p)ForwardTilesTraining" } }

    func rowsName(_ fused: FusedOutput?) -> String { fused == nil ? "\(p)ForwardRows" : "\(p)ForwardRowsFused" }
    func blocksName(_ fused: FusedOutput?) -> String { fused == nil ? "\(p)ForwardBlocks" : "\(p)ForwardBlocksFused" }
    /// Where this layer's own output goes with fusion `fused`: the group's target (in its
    /// layout), or the dense scratch image when a pool is folded; without fusion, y.
    func outputLayout(_ fused: FusedOutput?) -> PixelLayout { fused?.pool == nil ? (fused?.layout ?? .dense(c.outShape)) : .dense(c.outShape) }
    func outputBuffer(_ fused: FusedOutput?) -> String { fused?.pool == nil ? (fused?.target ?? c.y) : scratch }

    /// The bias and (fused) folded scale/shift every output block reads; the kernel too unless `kernel` is false.
    func weightsPreamble(_ w: CodeWriter, _ fused: FusedOutput?, kernel: Bool = true) {
        c.emitWeights(w, kernel: kernel, bias: attrs.useBias)
        if let f = fused { f.emitScaleShift(w, buffer: "\(p)fold", channels: co, bias: attrs.useBias ? "bias" : nil) }
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
}

extension Conv2DLayer {
    /// Declares the forward buffers and emits the forward functions; returns the training and
    /// inference steps (and sets the single-image steps).
    func emitForward(_ m: ModelEmission) -> (train: [Step], infer: [Step]) {
        if g.padded && !unpadded {
            m.buffer(xp, perImage: padSize, "\(c.name) zero-padded input [N, \(g.hp), \(g.wp), \(g.c)]")
        } else if split && singleImagePadCopy {
            m.buffer(xp, perImage: 0, fixed: padSize, "\(c.name) zero-padded input of image 0 [\(g.hp), \(g.wp), \(g.c)] (single-image row kernel)")
        }
        if c.fused?.pool != nil {
            let k = wino == nil ? 1 : lowering.winogradImages
            m.buffer(scratch, perImage: 0, perChunk: k * c.outSize,
                     "\(c.name) inference: \(k == 1 ? "one image's" : "\(k) images'") output before pooling, per chunk \(shapeText(c.outShape))")
        }
        if c.fused != nil {
            m.buffer("\(p)fold", perImage: 0, perChunk: 2 * co, "\(c.name) folded BatchNorm scale and shift per chunk")
        }
        emitWinogradTiles(m)
        // Row kernels: the plain one unless Winograd covers the training and batch forward and
        // single-image inference does not split rows; the fused one likewise.
        let rowsSplit = split && !winoSingle && !lowering.singleImageColumns
        if wino == nil || (c.fused == nil && rowsSplit) { emitRows(m, nil) }
        if c.fused != nil && (wino == nil || rowsSplit) { emitRows(m, c.fused) }

        emitBatchForward(m, "\(p)Forward", nil, inference: false)
        let train: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        var infer = train
        if let f = c.fused {
            emitBatchForward(m, "\(p)ForwardFused", f, inference: true)
            infer = [.chunk("\(p)ForwardFused(lo, hi, t)")]
        } else if prePadded {
            emitBatchForward(m, "\(p)ForwardInference", nil, inference: true)
            infer = [.chunk("\(p)ForwardInference(lo, hi, t)")]
        }
        if split { m.singleImage = singleImageSteps(m) }
        return (train, infer)
    }

    /// `ForwardRows(x, y, q0, q1, t)`: output pixels q0..<q1 of the image at x into y, one Gemm.
    private func emitRows(_ m: ModelEmission, _ fused: FusedOutput?) {
        m.imageRowsFunction(rowsName(fused), comment: "\(c.header): output pixels q0..<q1 of one image\(fused.map { ", fused with \($0.names)" } ?? ", \(desc)")") { w in
            weightsPreamble(w, fused)
            pixelGemm(fused).emit(w)
        }
    }

    /// The forward Gemm of output pixels q0..<q1 at x into y (in `fused`'s output layout): every
    /// channel, or the `n` channels from `offset` (an expression) on.
    private func pixelGemm(_ fused: FusedOutput?, offset: String? = nil, n: Int? = nil) -> RowGemm {
        let plus = offset.map { " + \($0)" } ?? "", out = outputLayout(fused)
        var gemm = g.forwardGemm(co: co, kernel: "wk" + plus, out: { "y + \(out.pixel($0))" + plus })
        gemm.n = n ?? co
        gemm.bias = attrs.useBias && fused == nil ? "bias" + plus : nil
        if fused != nil { (gemm.scale, gemm.shift) = ("sc" + plus, "sh" + plus) }
        gemm.epilogue = fused?.activation ?? epi ?? .none
        return gemm
    }

    /// `ForwardBlocks(x, y, q0, q1, t)` (single-image inference, ConvLowering.singleImageColumns):
    /// blocks q0..<q1 of the image's pixel blocks x channel blocks, pixel block by pixel block.
    /// Each output's sum runs as in the row kernel, so the image's output is the same bits.
    private func emitBlocks(_ m: ModelEmission, _ fused: FusedOutput?) {
        let cb = ConvLowering.columnBlock, channelBlocks = co / cb
        m.imageRowsFunction(blocksName(fused), comment: "\(c.header): blocks q0..<q1 of one image's \(g.pixelBlocks) x \(channelBlocks) blocks of \(ConvLowering.rowsPerBlock) pixels x \(cb) channels\(fused.map { ", fused with \($0.names)" } ?? ", \(desc)")") { w in
            weightsPreamble(w, fused)
            w.block("for block in q0..<q1") {
                w.line("let q0 = block / \(channelBlocks) * \(ConvLowering.rowsPerBlock), cb = block % \(channelBlocks) * \(cb)")
                w.line("let q1 = min(q0 + \(ConvLowering.rowsPerBlock), \(pix))")
                pixelGemm(fused, offset: "cb", n: cb).emit(w)
            }
        }
    }

    private func emitWinogradTiles(_ m: ModelEmission) {
        guard let wino = wino else { return }
        wino.emitWeights(m, name: c.name, kernel: c.param(.kernel), cached: winoSingle)
        m.inferencePrologue.append(wino.weightsName)
        m.trainingPrologue.append(wino.weightsName)
        func emitTiles(_ name: String, _ fused: FusedOutput?) {
            m.imageRowsFunction(name, comment: "\(c.header): Winograd \(wino.form), output tiles q0..<q1 (\(wino.tiles) an image, \(wino.m)x\(wino.m) pixels each; past them, the next images')\(fused.map { ", fused with \($0.names)" } ?? "")") { w in
                weightsPreamble(w, fused, kernel: false)   // the kernel is read as U (WinogradWeights)
                wino.emitKernelBody(w, m, user: name, out: outputLayout(fused), bias: (attrs.useBias && fused == nil) ? "bias" : nil,
                                    scale: fused == nil ? nil : "sc", shift: fused == nil ? nil : "sh",
                                    epilogue: fused?.activation ?? epi ?? .none)
            }
        }
        emitTiles(wino.kernelName, c.fused)
        if let name = trainTiles, name != wino.kernelName { emitTiles(name, nil) }
    }

    /// Batch forward over images lo..<hi; `inference`: the input may be pre-padded, the output pooled.
    private func emitBatchForward(_ m: ModelEmission, _ name: String, _ fused: FusedOutput?, inference: Bool) {
        let what = fused.map { "inference, fused with \($0.names)" } ?? (inference ? "\(desc), inference" : desc)
        let tiles = inference ? wino?.kernelName : trainTiles
        let copiesInput = g.padded && !unpadded && !(inference && prePadded)   // into xp, image by image
        m.chunkFunction(name, comment: "\(c.header): \(what)\(tiles == nil ? "" : ", Winograd")") { w in
            if let tiles = tiles, let wino = wino, !copiesInput {
                emitTilesOverImages(w, tiles, wino, fused)
                return
            }
            w.block("for n in lo..<hi") {
                if copiesInput {
                    padCopy(w, "n")
                } else {
                    w.line("let x = \(batchInput) + n * \(inputStride)")
                }
                let out = outputLayout(fused)
                w.line("let y = \(fused?.pool != nil ? "\(scratch) + t * \(c.outSize)" : "\(outputBuffer(fused)) + n * \(out.imageStride)")")
                if let tiles = tiles, let wino = wino {
                    w.line("\(tiles)(x, y, 0, \(wino.tiles), t)")
                } else {
                    w.line("\(rowsName(fused))(x, y, 0, \(pix), t)")
                }
                if let f = fused, let pool = f.pool {
                    PoolCode.emitImage(w, pool.geometry, isMax: pool.isMax, x: "y", y: "\(f.target) + n * \(f.layout.imageStride)",
                                       out: f.layout, activation: pool.activation)
                }
            }
            if fused == nil, let post = post {
                ActivationCode.emitForward(w, post, x: c.y, y: c.y, size: c.outSize, channels: co)
            }
        }
    }

    /// The Winograd batch forward reading its stored input: the tiles of all the chunk's images
    /// in one call, or, with a folded pool, `lowering.winogradImages` images at a time into the
    /// pool's scratch; GEMM blocks run on from one image's tiles into the next's.
    private func emitTilesOverImages(_ w: CodeWriter, _ tiles: String, _ wino: WinogradConv, _ fused: FusedOutput?) {
        let x = "\(batchInput) + lo * \(inputStride)"
        guard let f = fused, let pool = f.pool else {
            let out = outputLayout(fused)
            w.line("\(tiles)(\(x), \(outputBuffer(fused)) + lo * \(out.imageStride), 0, (hi - lo) * \(wino.tiles), t)")
            if fused == nil, let post = post {
                ActivationCode.emitForward(w, post, x: c.y, y: c.y, size: c.outSize, channels: co)
            }
            return
        }
        let k = lowering.winogradImages
        w.block("for n0 in stride(from: lo, to: hi, by: \(k))") {
            w.line("let images = min(\(k), hi - n0), y = \(scratch) + t * \(k * c.outSize)")
            w.line("\(tiles)(\(batchInput) + n0 * \(inputStride), y, 0, images * \(wino.tiles), t)")
            w.block("for i in 0..<images") {
                PoolCode.emitImage(w, pool.geometry, isMax: pool.isMax, x: "y + i * \(c.outSize)", y: "\(f.target) + (n0 + i) * \(f.layout.imageStride)",
                                   out: f.layout, activation: pool.activation)
            }
        }
    }

    /// Single-image inference: the row (or tile) kernel split over the threads (the padded copy
    /// is made first, once); a folded pool then runs on the whole image.
    private func singleImageSteps(_ m: ModelEmission) -> [Step] {
        let fused = c.fused
        var steps: [Step] = []
        if singleImagePadCopy {
            m.serialFunction("\(p)PadSingle", comment: "\(c.name): zero-padded copy of image 0 (single-image inference)") { w in
                padCopy(w, nil)
            }
            steps.append(.serial("\(p)PadSingle()"))
        }
        if let wino = wino, winoSingle {
            steps.append(.serial("\(wino.weightsName)IfChanged()"))
            steps.append(.rows("\(wino.kernelName)(\(batchInput), \(outputBuffer(fused)), q0, q1, t)", total: wino.tiles, block: wino.singleImageBlock))
        } else if lowering.singleImageColumns {
            emitBlocks(m, fused)
            steps.append(.rows("\(blocksName(fused))(\(xp), \(outputBuffer(fused)), q0, q1, t)", total: g.pixelBlocks * co / ConvLowering.columnBlock, block: 1))
        } else {
            steps.append(.rows("\(rowsName(fused))(\(xp), \(outputBuffer(fused)), q0, q1, t)", total: pix, block: ConvLowering.rowsPerBlock))
        }
        if let f = fused, let pool = f.pool {
            m.serialFunction("\(p)PoolSingle", comment: "\(c.name): pooling of image 0 (single-image inference, fused)") { w in
                PoolCode.emitImage(w, pool.geometry, isMax: pool.isMax, x: scratch, y: f.target, out: f.layout, activation: pool.activation)
            }
            steps.append(.serial("\(p)PoolSingle()"))
        }
        return steps
    }
}
