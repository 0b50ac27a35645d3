// The Conv2D part of the lowering pass (Lowering.swift): direct or Winograd forward, how one
// image is split over the threads, and the form of the input gradient, with the reasons.

import ModelcCore

extension ConvLowering {
    init(_ a: Conv2DAttrs, inShape: [Int], outShape: [Int], fused: Bool, pooled: Bool = false, activation: Activation,
         hasInputGradient: Bool, winograd: Bool) {
        let g = ConvGeometry(conv: a, inShape: inShape, outShape: outShape)
        let registerActivation = Fusion.epilogue(activation) != nil
        let macs = g.macs(a.filters)
        // One image splits its pixels over the threads with enough work; a Winograd layer always
        // does, so that its single-image path is the direct row kernel or the tiles (Conv2DEmitter).
        let splittable = macs >= ConvLowering.splitMinimumMACs && (fused || registerActivation)
        let tile = winograd && splittable ? WinogradConv.tile(g, filters: a.filters) : nil
        splitSingleImage = splittable && (g.oh * g.ow >= 2 * ConvLowering.rowsPerBlock || tile != nil)
        winogradTile = tile
        let forward = tile.flatMap { _ in WinogradConv(g: g, co: a.filters, prefix: "") }
        winogradSingleImage = forward.map { $0.tiles >= WinogradConv.singleImageMinimumTiles } ?? false
        // 3 blocks of pixels split 1 and 2 over two threads; 3 x 2 blocks of pixels x channels, 3 and 3.
        singleImageColumns = splitSingleImage && !winogradSingleImage && a.filters % ConvLowering.columnBlock == 0
            && a.filters > ConvLowering.columnBlock && g.pixelBlocks < ConvLowering.fewPixelBlocks
        let t = WinogradConv.gradientTile(g, filters: a.filters)
        winogradWeightGradient = winograd && macs >= ConvLowering.splitMinimumMACs && t != nil
        // The forward's m x m tiles and the weight gradient's t x t dy tiles both read windows of
        // the input (m + 2 and t + 2 wide): the input is stored unpadded when both can.
        unpaddedInput = winogradWeightGradient && t.map { WinogradConv.readsUnpadded(g, m: $0) } == true
            && winogradTile.map { WinogradConv.readsUnpadded(g, m: $0) } == true
        if !hasInputGradient {
            inputGradient = .none
        } else if !g.directInputGradient {
            inputGradient = .scatter
        } else if winograd, g.inputGradient(filters: a.filters).macs(g.c) >= ConvLowering.splitMinimumMACs,
                  WinogradConv.tile(g.inputGradient(filters: a.filters), filters: g.c) != nil {
            inputGradient = .winograd
        } else {
            inputGradient = .direct
        }
        let dg = g.inputGradient(filters: a.filters)
        unpaddedOutputGradient = inputGradient == .winograd && WinogradConv.tile(dg, filters: g.c).map { WinogradConv.readsUnpadded(dg, m: $0) } == true
        winogradImages = pooled ? forward.map { WinogradConv.imagesPerCall(tiles: $0.tiles, imageFloats: g.oh * g.ow * a.filters) } ?? 1 : 1
        inputGradientImages = unpaddedOutputGradient
            ? WinogradConv(g: dg, co: g.c, prefix: "").map { WinogradConv.imagesPerCall(tiles: $0.tiles, imageFloats: g.oh * g.ow * a.filters) } ?? 1 : 1
    }

    /// Fills the layer's choices and reasons.
    func describe(_ lay: inout LayerLowering, _ a: Conv2DAttrs, inShape: [Int], outShape: [Int], winograd: Bool) {
        let g = ConvGeometry(conv: a, inShape: inShape, outShape: outShape)
        let k = "\(a.kernelH)x\(a.kernelW)"
        if let m = winogradTile, let w = WinogradConv(g: g, co: a.filters, prefix: "") {
            let saving = Double(m * m * a.kernelH * a.kernelW) / Double(w.n * w.n)
            lay.forward = KernelChoice(kernel: "Winograd + Gemm", form: w.form,
                                       reason: "\(k) stride 1, \(w.tiles) \(w.tiles == 1 ? "tile" : "tiles") per image: \(String(format: "%.1f", saving))x fewer multiplies than direct (training forward too)" +
                                           (unpaddedInput ? "; the input is read unpadded, its zero border applied in the input transform" : "") +
                                           acrossImages(g, w))
        } else {
            lay.forward = KernelChoice(kernel: "Gemm", form: "direct", reason: directReason(g, a, winograd: winograd))
        }
        if winogradWeightGradient, let t = WinogradConv.gradientTile(g, filters: a.filters) {
            let wg = WinogradWeightGradient(g: g, co: a.filters, t: t, prefix: "")
            let rounds = wg.imagesPerRound > 1 ? "; \(wg.imagesPerRound) images share each round of GEMMs" : ""
            let saving = Double(9 * t * t) / Double((t + 2) * (t + 2))
            lay.weightGradient = KernelChoice(kernel: "Winograd + Gemm", form: "F(3x3, \(t)x\(t))",
                                              reason: "3x3 stride 1, \(wg.tiles) dy \(wg.tiles == 1 ? "tile" : "tiles") per image: \(String(format: "%.1f", saving))x fewer multiplies than direct; the sums over a chunk's images are transformed back once\(rounds)")
        } else {
            lay.weightGradient = KernelChoice(kernel: "Gemm", form: "windows^T x dy",
                                              reason: "per image: \(g.kh * g.kw * g.c) kernel rows, each a strided read of the input windows")
        }
        lay.inputGradient = inputGradientChoice(g, filters: a.filters)
        if winogradSingleImage, let w = WinogradConv(g: g, co: a.filters, prefix: "") {
            lay.singleImage = "\(w.tiles) Winograd tiles \(w.singleImageBlock == 1 ? "one by one" : "in blocks of \(w.singleImageBlock)") over the threads (\(w.block) per Gemm block)"
        } else if singleImageColumns {
            lay.singleImage = "\(g.pixelBlocks * a.filters / ConvLowering.columnBlock) blocks of \(ConvLowering.rowsPerBlock) pixels x "
                + "\(ConvLowering.columnBlock) channels over the threads (\(g.oh * g.ow) pixels make only \(g.pixelBlocks) "
                + "\(g.pixelBlocks == 1 ? "block" : "blocks") of pixels)" + (winogradTile != nil ? Self.fewTilesNote : "")
        } else if splitSingleImage {
            lay.singleImage = "\(g.oh * g.ow) output pixels in blocks of \(ConvLowering.rowsPerBlock) over the threads" +
                (winogradTile != nil ? Self.fewTilesNote : "")
        } else {
            lay.singleImage = "one thread (\(g.macs(a.filters)) multiply-adds per image: a split costs more than it saves)"
        }
    }

    static var fewTilesNote: String { " (direct: fewer than \(WinogradConv.singleImageMinimumTiles) tiles do not pay for reading U)" }

    /// The forward's calls that span images: training reads a stored input in one call per chunk
    /// (a padded copy goes image by image); a folded pool's scratch holds `winogradImages`.
    private func acrossImages(_ g: ConvGeometry, _ w: WinogradConv) -> String {
        let parts = [g.padded && !unpaddedInput ? nil : "training: a chunk's images in one call",
                     winogradImages > 1 ? "batch inference with the folded pool: \(winogradImages) images a call" : nil].compactMap { $0 }
        return parts.isEmpty ? "" : "; GEMM blocks of \(w.block) tiles run on across images (\(parts.joined(separator: "; ")))"
    }

    private func directReason(_ g: ConvGeometry, _ a: Conv2DAttrs, winograd: Bool) -> String {
        let rows = "each output pixel: \(g.kh) kernel rows of \(g.kw * g.c) contiguous inputs (NHWC)"
        if !winograd { return "Winograd off (--no-winograd); \(rows)" }
        if g.macs(a.filters) < ConvLowering.splitMinimumMACs { return "\(g.macs(a.filters)) multiply-adds per image, below \(ConvLowering.splitMinimumMACs): Winograd does not pay; \(rows)" }
        if WinogradConv.tile(g, filters: a.filters) == nil {
            return "no Winograd form (needs stride 1, 3x3 or 5x5, channels in multiples of 16, exact 'same' or 'valid'); \(rows)"
        }
        return rows
    }

    private func inputGradientChoice(_ g: ConvGeometry, filters: Int) -> KernelChoice? {
        switch inputGradient {
        case .none:
            return nil
        case .scatter:
            let why = g.sh != 1 || g.sw != 1 ? "stride \(g.sh)x\(g.sw)" : "'valid'-like padding (a direct form would multiply over a wide zero border)"
            return KernelChoice(kernel: "Gemm", form: "scatter", reason: "\(why): each dy pixel adds dy x W^T into its window, then the padding is cropped")
        case .direct:
            return KernelChoice(kernel: "Gemm", form: "direct", reason: "stride 1, 'same'-like: dx is the correlation of the zero-bordered dy with the flipped kernel, each dx pixel once in registers")
        case .winograd:
            let w = WinogradConv(g: g.inputGradient(filters: filters), co: g.c, prefix: "")
            let border = unpaddedOutputGradient ? "its zero border applied in the input transform" : "a zero-bordered copy"
            let images = inputGradientImages > 1 ? "; \(inputGradientImages) images a call, so that GEMM blocks span them" : ""
            return KernelChoice(kernel: "Winograd + Gemm", form: w?.form ?? "",
                                reason: "stride 1, 'same'-like: the correlation of dy (\(border)) with the flipped kernel, enough work for Winograd\(images)")
        }
    }
}

extension ConvGeometry {
    /// Multiply-adds of one image with `co` output channels.
    func macs(_ co: Int) -> Int { oh * ow * kh * kw * c * co }
    /// Padding of dy for the direct input gradient, per side (negative: no direct form).
    var dyPadding: (top: Int, bottom: Int, left: Int, right: Int) { (kh - 1 - top, kh - 1 - bottom, kw - 1 - left, kw - 1 - right) }
    /// Stride 1, at most K-1 padding per side, and few extra multiply-adds over the scatter form.
    var directInputGradient: Bool {
        let p = dyPadding
        return sh == 1 && sw == 1 && min(p.top, p.bottom, p.left, p.right) >= 0 && h * w * 5 <= oh * ow * 6
    }
    /// The direct input gradient as a stride-1 'valid' convolution: input dyp [OH + pt + pb,
    /// OW + pl + pr, CO], kernel the flipped W, output dx [H, W, CI].
    func inputGradient(filters co: Int) -> ConvGeometry {
        var d = self
        (d.h, d.w, d.c, d.oh, d.ow) = (oh, ow, co, h, w)
        let p = dyPadding
        (d.top, d.bottom, d.left, d.right) = (p.top, p.bottom, p.left, p.right)
        return d
    }
}
