// Winograd F(m x m, r x r) for a convolution: where the lowering plan (ConvLowering) chose it,
// Conv2DEmitter calls the runtime's tile kernel (Sources/ModelcRuntime/Kernels/Winograd.swift,
// forms in WinogradForms.swift) in place of the direct row kernel, for the batch forward
// (inference, with a folded BatchNorm, and training) and for the input gradient of a 'same'-like
// layer (the correlation of the zero-bordered dy with the flipped kernel). This file decides
// whether a layer qualifies, sizes the per-thread buffers and emits the calls.
//
//   Training: the forward is Winograd and the backward differentiates the convolution itself
//   (dW Winograd F(3x3, t x t) or direct; dx Winograd or direct), so gradients match the direct form's up to rounding
//   (tests: SemanticsTests.testWinogradMatchesDirect, the Keras fixtures, finite differences).
//   The sums are regrouped, so outputs differ from the direct form by rounding only (relative 1e-5).
//   Unpadded input (`unpadded`): the tiles read the stored [H, W, CI] image and the input
//   transform supplies the zero border (WinogradGeometry.padTop/padLeft), so neither the
//   forward nor the input gradient copies its input into a zero-bordered buffer.

struct WinogradConv {
    let g: ConvGeometry
    let co: Int
    let prefix: String
    /// The output tile size and the kernel size.
    let m: Int, r: Int
    /// The tiles read the input unpadded (the border is applied in the input transform).
    let unpadded: Bool
    var n: Int { m + r - 1 }

    /// The output tile size m for an r x r kernel, or nil when the layer does not qualify:
    /// stride 1, square 3x3 or 5x5 kernel, padded input exactly output + r - 1, channel counts
    /// in whole SIMD16 vectors (the transforms run 16 lanes wide), output at least m x m.
    /// 5x5: F(3x3, 5x5). 3x3: F(3x3, 3x3), F(4x4, 3x3) or F(5x5, 3x3), whichever costs less
    /// (`cost`): a tile wins where it wastes less of the last tile row and column (14x14: 9
    /// tiles of 25 pixels instead of 16 of 16; 3x3: one tile). The forms' points are 0, +-1,
    /// +-2, 1/2 and infinity;
    /// measured against direct on the same inputs, outputs differ by about 1e-6 relative
    /// (SemanticsTests). Larger tiles would need points beyond them and lose accuracy.
    static func tile(_ g: ConvGeometry, filters co: Int) -> Int? {
        guard g.kh == g.kw, g.kh == 3 || g.kh == 5, g.sh == 1, g.sw == 1, g.c % 16 == 0, co % 16 == 0,
              g.hp == g.oh + g.kh - 1, g.wp == g.ow + g.kw - 1 else { return nil }
        let forms = (g.kh == 3 ? [3, 4, 5] : [3]).filter { g.oh >= $0 && g.ow >= $0 }
        return forms.min { cost(m: $0, g, filters: co) < cost(m: $1, g, filters: co) }
    }

    /// The dy tile size t of the weight gradient by F(3x3, t x t), or nil when the layer does not
    /// qualify: a 3x3 stride-1 kernel over an input padded to exactly output + 2, channel counts in
    /// whole SIMD16 vectors, output at least 3 x 3. t = 3, 4 or 5, whichever costs less: the
    /// points (and input transform) of F(3x3, 3x3), F(4x4, 3x3) or F(5x5, 3x3).
    static func gradientTile(_ g: ConvGeometry, filters co: Int) -> Int? {
        guard g.kh == 3, g.kw == 3, g.sh == 1, g.sw == 1, g.c % 16 == 0, co % 16 == 0,
              g.hp == g.oh + 2, g.wp == g.ow + 2, g.oh >= 3, g.ow >= 3 else { return nil }
        let forms = [3, 4, 5].filter { g.oh >= $0 && g.ow >= $0 }
        return forms.min { gradientCost(t: $0, g, filters: co) < gradientCost(t: $1, g, filters: co) }
    }

    /// Vector operations of one image's forward tiles in form F(m x m, r x r): the GEMMs,
    /// n^2 x CI x CO / 16 per tile, and per tile and 16 channels 2n 1-D input transforms and
    /// n + m output ones, each counted as the adds, multiplies and FMAs WinogradForms.swift
    /// spends on it (SIMD16 operations; a cost to compare forms by, not a time).
    static func cost(m: Int, _ g: ConvGeometry, filters co: Int) -> Int {
        let n = m + g.kh - 1
        let output = n == 5 ? 7 : ([4: 10, 5: 16, 3: 12][m] ?? 0)   // A^T of F(3x3, 3x3), F(4x4, 3x3), F(5x5, 3x3), F(3x3, 5x5)
        return tileCost(step: m, n: n, g, filters: co, perOutputChannels: (n + m) * output)
    }

    /// The same for the weight gradient F(3x3, t x t): per tile and 16 output channels, the dy
    /// tile's t + n 1-D transforms by G (dW's own transform runs once per chunk).
    static func gradientCost(t: Int, _ g: ConvGeometry, filters co: Int) -> Int {
        let n = t + 2
        return tileCost(step: t, n: n, g, filters: co, perOutputChannels: (t + n) * [3: 9, 4: 13, 5: 26][t, default: 26])
    }

    private static func tileCost(step: Int, n: Int, _ g: ConvGeometry, filters co: Int, perOutputChannels: Int) -> Int {
        let tiles = ((g.oh + step - 1) / step) * ((g.ow + step - 1) / step)
        let input = 2 * n * [5: 12, 6: 14, 7: 29][n, default: 29]   // B^T of n points
        return tiles * (n * n * g.c * co / 16 + g.c / 16 * input + co / 16 * perOutputChannels)
    }

    /// Whether m x m tiles can read g's input unpadded: the runtime's guards (TileGrid) zero the
    /// window rows above the input only in the first tile row and those below it only in the
    /// last, so the second tile row must start inside the input and the next-to-last end inside
    /// it (a 5x5 'same' layer with a 7-row output has its second-to-last window end 2 rows past
    /// the input); likewise for columns.
    static func readsUnpadded(_ g: ConvGeometry, m: Int) -> Bool {
        func fits(_ size: Int, _ out: Int, _ before: Int) -> Bool {
            let tiles = (out + m - 1) / m, n = m + g.kh - 1
            return tiles < 2 || (before <= m && (tiles - 2) * m - before + n <= size)
        }
        return fits(g.h, g.oh, g.top) && fits(g.w, g.ow, g.left)
    }

    /// `prefix` names the buffers and functions (`<prefix>ForwardTiles`, `<prefix>WinogradWeights`);
    /// `kernel` overrides the tile function's name; `unpadded`: the input is stored without its border.
    init?(g: ConvGeometry, co: Int, prefix: String, kernel: String? = nil, unpadded: Bool = false) {
        guard let m = WinogradConv.tile(g, filters: co) else { return nil }
        self.g = g; self.co = co; self.prefix = prefix; self.unpadded = unpadded
        kernelName = kernel ?? "\(prefix)ForwardTiles"
        self.m = m; r = g.kh
    }

    var form: String { "F(\(m)x\(m), \(r)x\(r))" }
    /// The runtime's type for the form.
    var formType: String { "Winograd<WinogradF\(m)x\(m)x\(r)x\(r)>" }
    var tilesH: Int { (g.oh + m - 1) / m }
    var tilesW: Int { (g.ow + m - 1) / m }
    var tiles: Int { tilesH * tilesW }
    /// Floats from U[xi] to U[xi + 1]: CI x CO plus one cache line, so that the n^2 matrices
    /// (CI x CO x 4 bytes is a multiple of 1 KiB, often of 4 KiB) do not all map to the same L1
    /// sets (in a one-image experiment, seed 002's four U transforms fell from 56% to 27% of the
    /// samples with it).
    var uStride: Int { g.c * co + 16 }
    /// Single-image inference uses the tiles from this many on (seed 002's 14x14 layers in 5x5
    /// tiles and seed 000's 9x9 one in 3x3 tiles have 9), else the direct row kernels: with fewer
    /// (seed 002's 7x7 layer has 4), each U value feeds too few multiplies to pay for reading U
    /// (n^2 x CI x CO floats). Measured on AVX2 and AVX-512 with seeds 000 and 002:
    /// Tests/Peers/RESULTS.md.
    static let singleImageMinimumTiles = 9
    /// One image's tiles go to the threads in multiples of this: whole 6-row GEMM tiles, or single
    /// tiles when there are few (9 tiles on 2 threads: 4 and 5 rather than 6 and 3, the same one
    /// GEMM tile each and the transforms shared evenly).
    var singleImageBlock: Int { tiles < 4 * ConvLowering.rowsPerBlock ? 1 : ConvLowering.rowsPerBlock }
    /// Tiles per GEMM block: two of the Gemm's 6-row tiles (each block streams all of U; a
    /// 10-tile block would compute 12). A call's blocks run on across its images' tiles, so
    /// only the call's last block can be partial.
    var block: Int { 2 * ConvLowering.rowsPerBlock }
    /// Images per call of the tiles for a caller that holds each image (`imageFloats`) in a
    /// per-thread scratch: enough that the images' tiles fill whole 6-row GEMM tiles (49 tiles
    /// an image: 6 images; 16 or 4: 3), else a partial tile repeats its last row (16 tiles
    /// compute 18, 4 compute 6, and 49 leave a 1-row block), within a 1 MiB scratch.
    static func imagesPerCall(tiles: Int, imageFloats: Int) -> Int {
        let r = ConvLowering.rowsPerBlock
        var (a, b) = (tiles, r)
        while b != 0 { (a, b) = (b, a % b) }
        var images = r / a
        while images > 1 && images * imageFloats > 262_144 { images -= 1 }
        return images
    }
    let kernelName: String
    var weightsName: String { "\(prefix)WinogradWeights" }
    private var u: String { "\(prefix)wu" }
    private var v: String { "\(prefix)wv" }
    private var mm: String { "\(prefix)wm" }
    private var half: String { "\(prefix)wh" }

    /// Declares the transformed-weight and per-thread tile buffers and emits `WinogradWeights()`
    /// (U from the kernel at `kernel`, run before every batch inference or training forward,
    /// or backward for an input gradient).
    /// `cached`: also keeps a copy of the kernel U was made from and emits
    /// `WinogradWeightsIfChanged()`, which recomputes U only when the kernel's bits differ from
    /// it (single-image inference; every U computation refreshes the copy, so it cannot go stale).
    func emitWeights(_ m: ModelEmission, name: String, kernel: String, cached: Bool = false) {
        let nn = n * n, source = "\(prefix)wsrc", count = r * r * g.c * co
        let sizes = "channels: \(g.c), filters: \(co), uStride: \(uStride)"
        if cached {
            m.buffer(source, perImage: 0, fixed: count, "\(name) the kernel U was computed from (bit-compared before single-image inference)")
            m.serialFunction(weightsName + "IfChanged", comment: "\(name): U = G g G^T unless the kernel equals (bit for bit) the one U was made from") { w in
                w.line("\(formType).weightsIfChanged(\(kernel), source: \(source), \(u), \(half), \(sizes))")
            }
        }
        m.buffer(u, perImage: 0, fixed: nn * uStride, "\(name) Winograd kernel U = G g G^T [\(nn), CI, CO] (each xi \(uStride) floats apart)")
        m.buffer(v, perImage: 0, perChunk: nn * block * g.c, "\(name) Winograd input tiles V = B^T d B of one block [\(nn), \(block), CI] (per thread)")
        m.buffer(mm, perImage: 0, perChunk: nn * block * co, "\(name) Winograd products M = V x U of one block [\(nn), \(block), CO] (per thread)")
        m.buffer(half, perImage: 0, perChunk: nn * 16, "\(name) Winograd half-transformed tile, 16 channels [\(n), \(n), 16] (per thread)")
        m.serialFunction(weightsName, comment: "\(name): U[xi][ci][co] = (G g G^T)[xi / \(n)][xi % \(n)], g = W[:, :, ci, co] (Winograd \(form))") { w in
            w.line("\(formType).weights(\(kernel), \(u), \(half), \(sizes))")
            if cached { w.line("\(source).update(from: \(kernel), count: \(count))") }
        }
    }

    /// The body of `ForwardTiles(x, y, q0, q1, t)`: tiles q0..<q1 of the images whose inputs (padded,
    /// or unpadded) start at x (past an image's tiles, the next image's), written to y in layout
    /// `out` through the epilogue (the caller declares bias, or
    /// sc/sh for a folded BatchNorm). The tile loop itself is one function per geometry
    /// (`sharedTiles`), which the layers with that geometry (a layer's forward and its input
    /// gradient, inference and training) share: the optimizer specializes each copy of the
    /// runtime's kernel for its sizes, so one copy instead of three is a third of the work.
    func emitKernelBody(_ w: CodeWriter, _ m: ModelEmission, user: String, out: PixelLayout, bias: String?, scale: String?,
                        shift: String?, epilogue: EpilogueActivation) {
        let nn = n * n
        let tiles = sharedTiles(m, user: user, out: out)
        w.line("let buffers = WinogradBuffers(u: \(u), v: \(v) + t * \(nn * block * g.c), m: \(mm) + t * \(nn * block * co), h: \(half) + t * \(nn * 16))")
        let epi = RowGemm.epilogueText(bias: bias, scale: scale, shift: shift, epilogue: epilogue)
        w.line("\(tiles)(x, y, q0, q1, buffers, \(epi))")
    }

    /// `winograd<m>x<m>_<OH>x<OW>x<CI>to<CO>[Padded](x, y, q0, q1, buffers, epilogue)`: the runtime's
    /// tile loop with this layer's sizes and output layout as literals.
    private func sharedTiles(_ m: ModelEmission, user: String, out: PixelLayout) -> String {
        let input = unpadded ? "inputHeight: \(g.h), inputWidth: \(g.w), padTop: \(g.top), padLeft: \(g.left)," : "inputHeight: \(g.hp), inputWidth: \(g.wp),"
        let geometry = ["\(input) channels: \(g.c),",
                        "outputHeight: \(g.oh), outputWidth: \(g.ow), filters: \(co),",
                        "outputOffset: \(out.offset), outputRowStride: \(out.rowStride), outputPixelStride: \(out.channels), outputImageStride: \(out.imageStride),",
                        "block: \(block), uStride: \(uStride))"]
        let layout = out.isDense ? "dense" : "into a padded buffer"
        let name = "winograd\(self.m)x\(self.m)_\(g.oh)x\(g.ow)x\(g.c)to\(co)" + (out.isDense ? "" : "Padded")
        let source = unpadded ? "[\(g.h), \(g.w), \(g.c)] input (zero border \(g.top) above, \(g.left) left, applied in the transform)"
                              : "[\(g.hp), \(g.wp), \(g.c)] padded input"
        return m.sharedKernel(key: formType + geometry.joined(), name: name,
                              parameters: "_ buffers: WinogradBuffers, _ epilogue: GemmEpilogue",
                              comment: "Winograd \(form): output tiles q0..<q1 (\(tiles) an image; past them, the next images') of a \(source) into [\(g.oh), \(g.ow), \(co)] (\(layout)), \(block) tiles per block",
                              user: user) { w in
            w.line("let geometry = WinogradGeometry(\(geometry[0])")
            for l in geometry.dropFirst() { w.line("                                \(l)") }
            w.line("\(formType).tiles(x, y, q0, q1, geometry, buffers, epilogue)")
        }
    }
}
