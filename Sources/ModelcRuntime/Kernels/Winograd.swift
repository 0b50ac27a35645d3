// Winograd convolution: an r x r stride-1 'valid' correlation of a padded NHWC image, computed
// tile by tile in a form F(m x m, r x r) (Kernels/WinogradForms.swift; Lavin & Gray, 2015).
//
//   tile (ty, tx) reads the n x n window d of the padded input at (m ty, m tx). The input is
//   stored unpadded, or with its zero border (`padTop`/`padLeft` 0): window rows and columns
//   outside the stored image read as zero, so the padding costs no copy.
//     V[xi][tile][ci] = (B^T d B)[i][j]      xi = n i + j, SIMD over 16 input channels
//     U[xi][ci][co]   = (G g G^T)[i][j]      g = W[:, :, ci, co]   (`weights`, once per pass)
//     M[xi]           = V[xi] x U[xi]        n^2 GEMMs [tiles, CI] x [CI, CO] (Gemm.rows)
//     y[m ty + a][m tx + b] = (A^T M A)[a][b], then the epilogue (bias or folded BatchNorm,
//                                              activation), stored where the layout says
//   Tiles go `block` at a time; a block's V and M (per thread) stay in cache from the input
//   transform to the output one. Each 2-D transform is two 1-D passes through a per-thread
//   n x n x 16 scratch tile h. The compiler (ConvLowering) chooses where Winograd is used.
//
// Like the Gemm, these functions are @_transparent: the emitted model passes its geometry as
// literals, so after inlining every bound, stride and guard is a constant. With
// MODELC_KERNELS_OUT_OF_LINE (debug builds) they call a copy compiled here instead.

/// One layer's tiling, all sizes in floats (a literal at every call).
public struct WinogradGeometry {
    /// The input as stored (unpadded, or with its zero border): height, width and channels (CI).
    public var inputHeight: Int, inputWidth: Int, channels: Int
    /// The padding that is not stored, above and left of the input (below and right it is
    /// implied by the output size).
    public var padTop: Int, padLeft: Int
    /// The output: height, width and channels (CO).
    public var outputHeight: Int, outputWidth: Int, filters: Int
    /// Where output pixel (0, 0) is in y, the floats from one output row to the next, and from
    /// one pixel to the next (a padded or strided target layout).
    public var outputOffset: Int, outputRowStride: Int, outputPixelStride: Int
    /// Floats from one image's output to the next (tiles past an image's last are the next
    /// image's: see `tiles`); the input's images are inputHeight x inputWidth x channels apart.
    public var outputImageStride: Int
    /// Tiles per GEMM block, and the floats from U[xi] to U[xi + 1] (CI x CO plus padding that
    /// keeps the n^2 matrices off the same cache sets).
    public var block: Int, uStride: Int

    @_transparent
    public init(inputHeight: Int, inputWidth: Int, padTop: Int = 0, padLeft: Int = 0, channels: Int,
                outputHeight: Int, outputWidth: Int, filters: Int,
                outputOffset: Int, outputRowStride: Int, outputPixelStride: Int, outputImageStride: Int,
                block: Int, uStride: Int) {
        self.inputHeight = inputHeight; self.inputWidth = inputWidth; self.channels = channels
        self.padTop = padTop; self.padLeft = padLeft
        self.outputHeight = outputHeight; self.outputWidth = outputWidth; self.filters = filters
        self.outputOffset = outputOffset; self.outputRowStride = outputRowStride; self.outputPixelStride = outputPixelStride
        self.outputImageStride = outputImageStride
        self.block = block; self.uStride = uStride
    }

    /// Output tiles per image of an F(m x m, r x r) form.
    @_transparent public func tiles(step m: Int) -> Int { ((outputHeight + m - 1) / m) * ((outputWidth + m - 1) / m) }
}

/// The per-thread buffers of one layer's tiles: U (shared, read only), V, M and the scratch tile.
public struct WinogradBuffers {
    public var u: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>
    public var h: UnsafeMutablePointer<Float>

    @_transparent
    public init(u: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>) {
        self.u = u; self.v = v; self.m = m; self.h = h
    }
}

public enum Winograd<F: WinogradForm> {
    /// Output tiles q0..<q1 (row-major over the tile grid) of the image whose input is at x.
    /// Tiles from `g.tiles` on are those of the images after it (input images
    /// inputHeight x inputWidth x channels floats apart, output images `outputImageStride`):
    /// one call covers several images, and a GEMM block runs on from one image's tiles into the
    /// next's instead of ending short at each image's last tile (49 tiles would leave a 1-row block).
    @_transparent
    public static func tiles(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ q0: Int, _ q1: Int,
                             _ g: WinogradGeometry, _ buf: WinogradBuffers, _ epi: GemmEpilogue) {
        #if MODELC_KERNELS_OUT_OF_LINE
        tilesOutOfLine(x, y, q0, q1, g, buf, epi)
        #else
        tilesInlined(x, y, q0, q1, g, buf, epi)
        #endif
    }

    @inline(never)
    @_specialize(exported: true, where F == WinogradF4x4x3x3)
    @_specialize(exported: true, where F == WinogradF5x5x3x3)
    @_specialize(exported: true, where F == WinogradF3x3x3x3)
    @_specialize(exported: true, where F == WinogradF3x3x5x5)
    public static func tilesOutOfLine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ q0: Int, _ q1: Int,
                                      _ g: WinogradGeometry, _ buf: WinogradBuffers, _ epi: GemmEpilogue) {
        tilesInlined(x, y, q0, q1, g, buf, epi)
    }

    @_transparent
    public static func tilesInlined(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ q0: Int, _ q1: Int,
                                    _ g: WinogradGeometry, _ buf: WinogradBuffers, _ epi: GemmEpilogue) {
        let n = F.n, ci = g.channels, co = g.filters
        let perImage = g.tiles(step: F.m), inputImage = g.inputHeight * g.inputWidth * ci
        var q = q0
        var start = TileIndex(q0, perImage)
        while q < q1 {
            let rows = min(g.block, q1 - q)
            var at = start
            for i in 0..<rows {
                inputTile(x + at.image * inputImage, at.tile, i, g, buf)
                at.advance(perImage)
            }
            for xi in 0..<(n * n) {
                let vx = buf.v + xi * g.block * ci, mx = buf.m + xi * g.block * co
                Gemm.rows(rows, a: { row in vx + row * ci }, b: buf.u + xi * g.uStride, n: co, c: { row in mx + row * co },
                          GemmReduction(k: ci, ldb: co), .store)
            }
            at = start
            for i in 0..<rows {
                outputTile(y + at.image * g.outputImageStride, at.tile, i, g, buf, epi)
                at.advance(perImage)
            }
            start = at
            q += rows
        }
    }

    /// V[xi][i] = (B^T d B)[xi] for tile `tile`, the block's i-th.
    @_transparent @usableFromInline
    static func inputTile(_ x: UnsafePointer<Float>, _ tile: Int, _ i: Int, _ g: WinogradGeometry, _ buf: WinogradBuffers) {
        let grid = TileGrid(step: F.m, inputHeight: g.inputHeight, inputWidth: g.inputWidth, padTop: g.padTop, padLeft: g.padLeft,
                            outputHeight: g.outputHeight, outputWidth: g.outputWidth)
        inputWindow(x, grid, tile, channels: g.channels, buf.v + i * g.channels, vStride: g.block * g.channels, buf.h)
    }

    /// The input transform of the window of tile `tile` of `grid`: v[xi * vStride + ci] = (B^T d B)[xi].
    @_transparent @usableFromInline
    static func inputWindow(_ x: UnsafePointer<Float>, _ grid: TileGrid, _ tile: Int, channels ci: Int,
                            _ v: UnsafeMutablePointer<Float>, vStride: Int, _ h: UnsafeMutablePointer<Float>) {
        let n = F.n, ty = tile / grid.tilesW, tx = tile % grid.tilesW
        // Window rows (columns) below lastRow (lastCol) and from padTop (padLeft) on are stored,
        // except in the last (first) tile row or column.
        let rowIn = ty < grid.tilesH - 1, colIn = tx < grid.tilesW - 1, rowAfterTop = ty > 0, colAfterLeft = tx > 0
        let d = x + ((ty * grid.step - grid.padTop) * grid.inputWidth + tx * grid.step - grid.padLeft) * ci
        for c0 in stride(from: 0, to: ci, by: 16) {
            for cc in 0..<n {   // B^T d: window column cc -> h[0..<n][cc]
                let inside = (cc < grid.lastCol || colIn) && (cc >= grid.padLeft || colAfterLeft)
                F.input({ k in inside && (k < grid.lastRow || rowIn) && (k >= grid.padTop || rowAfterTop)
                            ? .load(d + (k * grid.inputWidth + cc) * ci + c0) : SIMD16() },
                        { j, b in b.store(h + (j * n + cc) * 16) })
            }
            for r in 0..<n {    // (B^T d) B: row r -> V[r][0..<n]
                F.input({ k in .load(h + (r * n + k) * 16) }, { j, b in b.store(v + (r * n + j) * vStride + c0) })
            }
        }
    }

    /// y's m x m pixels of tile `tile` = (A^T M A) of the block's i-th tile, through the epilogue.
    @_transparent @usableFromInline
    static func outputTile(_ y: UnsafeMutablePointer<Float>, _ tile: Int, _ i: Int, _ g: WinogradGeometry,
                           _ buf: WinogradBuffers, _ epi: GemmEpilogue) {
        let n = F.n, m = F.m, co = g.filters
        let tilesH = (g.outputHeight + m - 1) / m, tilesW = (g.outputWidth + m - 1) / m
        let ty = tile / tilesW, tx = tile % tilesW
        // Only the last tile row (column) has fewer than m output rows (columns).
        let lastRow = g.outputHeight - (tilesH - 1) * m, lastCol = g.outputWidth - (tilesW - 1) * m
        let rowOut = ty < tilesH - 1, colOut = tx < tilesW - 1
        let yo = y + g.outputOffset + ty * m * g.outputRowStride + tx * m * g.outputPixelStride
        let h = buf.h, mi = buf.m + i * co
        for c0 in stride(from: 0, to: co, by: 16) {
            for cc in 0..<n {   // A^T M: column cc -> h[0..<m][cc]
                F.output({ k in .load(mi + (k * n + cc) * g.block * co + c0) }, { a, s in s.store(h + (a * n + cc) * 16) })
            }
            let bias: SIMD16<Float> = epi.bias.map { .load($0 + c0) } ?? SIMD16()
            let row = h + m * n * 16   // h's rows past m hold one output row
            for a in 0..<m where a < lastRow || rowOut {   // (A^T M) A: row a -> output row a
                F.output({ k in .load(h + (a * n + k) * 16) }, { b, z in z.store(row + b * 16) })
                for b in 0..<m where b < lastCol || colOut {
                    var v = SIMD16<Float>.load(row + b * 16)
                    if epi.bias != nil { v += bias }
                    if let sc = epi.scale, let sh = epi.shift { v = v.scaled(.load(sc + c0), .load(sh + c0)) }
                    v = vactivate(v, epi.activation)
                    v.store(yo + a * g.outputRowStride + b * g.outputPixelStride + c0)
                }
            }
        }
    }

    /// U[xi][ci][co] = (G g G^T)[xi / n][xi % n] for g = W[:, :, ci, co] of the HWIO kernel at wk
    /// ([r, r, channels, filters]), through the scratch tile h.
    @_transparent
    public static func weights(_ wk: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>,
                               channels ci: Int, filters co: Int, uStride: Int) {
        #if MODELC_KERNELS_OUT_OF_LINE
        weightsOutOfLine(wk, u, h, channels: ci, filters: co, uStride: uStride)
        #else
        weightsInlined(wk, u, h, channels: ci, filters: co, uStride: uStride)
        #endif
    }

    @inline(never)
    @_specialize(exported: true, where F == WinogradF4x4x3x3)
    @_specialize(exported: true, where F == WinogradF5x5x3x3)
    @_specialize(exported: true, where F == WinogradF3x3x3x3)
    @_specialize(exported: true, where F == WinogradF3x3x5x5)
    public static func weightsOutOfLine(_ wk: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>,
                                        channels ci: Int, filters co: Int, uStride: Int) {
        weightsInlined(wk, u, h, channels: ci, filters: co, uStride: uStride)
    }

    @_transparent
    public static func weightsInlined(_ wk: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>,
                                      channels ci: Int, filters co: Int, uStride: Int) {
        let n = F.n, r = F.r
        for c in 0..<ci {
            for c0 in stride(from: 0, to: co, by: 16) {
                for kw in 0..<r {   // G g: kernel column kw -> h[0..<n][kw]
                    F.kernel({ kh in .load(wk + (kh * r + kw) * ci * co + c * co + c0) }, { i, v in v.store(h + (i * n + kw) * 16) })
                }
                for i in 0..<n {    // (G g) G^T: row i -> U[i][0..<n]
                    F.kernel({ k in .load(h + (i * n + k) * 16) }, { j, v in v.store(u + (i * n + j) * uStride + c * co + c0) })
                }
            }
        }
    }

    /// `weights`, unless the kernel at wk equals, bit for bit, the copy at `source` that U was
    /// last made from (then nothing); refreshes the copy.
    @inlinable
    public static func weightsIfChanged(_ wk: UnsafePointer<Float>, source: UnsafeMutablePointer<Float>,
                                        _ u: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>,
                                        channels ci: Int, filters co: Int, uStride: Int) {
        let count = F.r * F.r * ci * co
        if !sameBits(wk, source, count: count) {
            weights(wk, u, h, channels: ci, filters: co, uStride: uStride)
            source.update(from: wk, count: count)
        }
    }

    /// Whether `count` floats at a and b are equal bit for bit: 16 lanes at a time with no exit
    /// inside the loop, so that it vectorizes (an early return per element does not), since it is
    /// a serial step of every single-image call that reads U.
    @inlinable
    public static func sameBits(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Bool {
        var diff = SIMD16<UInt32>(), rest: UInt32 = 0, i = 0
        while i + 16 <= count {
            diff |= UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<UInt32>.self) ^ UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<UInt32>.self)
            i += 16
        }
        while i < count { rest |= a[i].bitPattern ^ b[i].bitPattern; i += 1 }
        return diff == SIMD16() && rest == 0
    }
}

/// Tile q of a call over several images: its image and its index within the image, stepped
/// without a division per tile.
@usableFromInline
struct TileIndex {
    @usableFromInline var image: Int, tile: Int

    @_transparent @usableFromInline
    init(_ q: Int, _ perImage: Int) { image = q / perImage; tile = q % perImage }

    @_transparent @usableFromInline
    mutating func advance(_ perImage: Int) {
        tile += 1
        if tile == perImage { tile = 0; image += 1 }
    }
}

/// Tiles of `step` x `step` output pixels over an output, each reading an n x n window of the
/// padded input from (step ty, step tx) on, that is from (step ty - padTop, step tx - padLeft)
/// of the stored input. Only the first tile row (column) reads above (left of) the stored input,
/// in window rows below `padTop` (columns below `padLeft`); only the last reads past it, from
/// window row `lastRow` (column `lastCol`) on.
@usableFromInline
struct TileGrid {
    @usableFromInline let step: Int, inputWidth: Int, padTop: Int, padLeft: Int
    @usableFromInline let tilesH: Int, tilesW: Int, lastRow: Int, lastCol: Int

    @_transparent @usableFromInline
    init(step: Int, inputHeight: Int, inputWidth: Int, padTop: Int, padLeft: Int, outputHeight: Int, outputWidth: Int) {
        self.step = step; self.inputWidth = inputWidth; self.padTop = padTop; self.padLeft = padLeft
        tilesH = (outputHeight + step - 1) / step; tilesW = (outputWidth + step - 1) / step
        lastRow = inputHeight + padTop - (tilesH - 1) * step; lastCol = inputWidth + padLeft - (tilesW - 1) * step
    }
}
