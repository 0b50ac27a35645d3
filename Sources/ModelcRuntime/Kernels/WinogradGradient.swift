// The weight gradient of an r x r stride-1 convolution by Winograd (Kernels/Winograd.swift for
// the forward). Over the images and output pixels p,
//   dW[kh][kw][ci][co] = sum xp[p + (kh, kw)][ci] * dy[p][co]
// is the r x r 'valid' correlation of the padded input xp with dy, computed in a form
// F(r x r, t x t) (F.m = r, F.r = t, n = r + t - 1): dy is cut into t x t tiles, and tile
// (ty, tx) pairs with the n x n window of xp at (t ty, t tx):
//   V[xi][tile][ci] = (B^T d B)[xi]        the window (outside the stored input: zero; the
//                                          input may be stored unpadded, see Winograd.swift)
//   E[xi][tile][co] = (G e G^T)[xi]        e = the dy tile (zero past the output)
//   M[xi][ci][co]  += sum_tiles V[xi][tile][ci] * E[xi][tile][co]   n^2 GEMMs (Gemm.rows)
//   dW = A^T M A                            once, after all of a chunk's images (`store`)
// M (per thread) sums over the chunk's images, so the transforms of dW run once per chunk.
// A round of GEMMs reduces over `block` tiles. An image with fewer tiles than that (a 7x7 output
// has 4) shares a round with the next images of its chunk: their tiles fill V and E side by side
// and the GEMMs run when the block is full or the chunk ends, so M is read and written once per
// block rather than once per image, and the GEMMs' reduction is long enough to keep the FMAs busy.

/// One layer's weight-gradient tiling (a literal at every call).
public struct WinogradGradientGeometry {
    /// The input as stored (unpadded, or with its zero border): height, width and channels (CI).
    public var inputHeight: Int, inputWidth: Int, channels: Int
    /// The padding that is not stored, above and left of the input.
    public var padTop: Int, padLeft: Int
    /// The output gradient: height, width and channels (CO).
    public var outputHeight: Int, outputWidth: Int, filters: Int
    /// Floats from one dy row to the next: outputWidth * filters, or more when dy sits in the
    /// interior of a zero-bordered buffer.
    public var outputRowStride: Int
    /// Tiles transformed before each round of GEMMs: a multiple of an image's tiles when an image
    /// has fewer (its images then share rounds), otherwise at most an image's tiles.
    public var block: Int

    @_transparent
    public init(inputHeight: Int, inputWidth: Int, padTop: Int = 0, padLeft: Int = 0, channels: Int,
                outputHeight: Int, outputWidth: Int, filters: Int, block: Int, outputRowStride: Int? = nil) {
        self.inputHeight = inputHeight; self.inputWidth = inputWidth; self.channels = channels
        self.padTop = padTop; self.padLeft = padLeft
        self.outputHeight = outputHeight; self.outputWidth = outputWidth; self.filters = filters; self.block = block
        self.outputRowStride = outputRowStride ?? outputWidth * filters
    }
}

/// Per-thread buffers: V and E of one block, the accumulator M [n^2, CI, CO], the scratch tile.
public struct WinogradGradientBuffers {
    public var v: UnsafeMutablePointer<Float>, e: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>
    public var h: UnsafeMutablePointer<Float>

    @_transparent
    public init(v: UnsafeMutablePointer<Float>, e: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>) {
        self.v = v; self.e = e; self.m = m; self.h = h
    }
}

public enum WinogradGradient<F: WinogradForm> {
    /// M += this image's products: x is its padded input, dy its output gradient [oh, ow, CO]
    /// (rows `g.outputRowStride` floats apart).
    /// `image` counts the chunk's images from 0 and `last` marks its final one: when images share
    /// a round (see the header), the products of a partly filled block are added at `last`.
    @_transparent
    public static func accumulate(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ g: WinogradGradientGeometry,
                                  _ buf: WinogradGradientBuffers, image: Int = 0, last: Bool = true) {
        #if MODELC_KERNELS_OUT_OF_LINE
        accumulateOutOfLine(x, dy, g, buf, image: image, last: last)
        #else
        accumulateInlined(x, dy, g, buf, image: image, last: last)
        #endif
    }

    @inline(never)
    @_specialize(exported: true, where F == WinogradF3x3x4x4)
    @_specialize(exported: true, where F == WinogradF3x3x5x5)
    @_specialize(exported: true, where F == WinogradF3x3x3x3)
    public static func accumulateOutOfLine(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ g: WinogradGradientGeometry,
                                           _ buf: WinogradGradientBuffers, image: Int, last: Bool) {
        accumulateInlined(x, dy, g, buf, image: image, last: last)
    }

    @_transparent
    public static func accumulateInlined(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ g: WinogradGradientGeometry,
                                         _ buf: WinogradGradientBuffers, image: Int, last: Bool) {
        let ci = g.channels, co = g.filters
        let grid = TileGrid(step: F.r, inputHeight: g.inputHeight, inputWidth: g.inputWidth, padTop: g.padTop, padLeft: g.padLeft,
                            outputHeight: g.outputHeight, outputWidth: g.outputWidth)
        let tiles = grid.tilesH * grid.tilesW
        // Shared rounds: this image's tiles fill its slot of the block (slot 0 otherwise).
        let shared = tiles < g.block
        let images = shared ? g.block / tiles : 1, base = shared ? image % images * tiles : 0
        var q = 0
        while q < tiles {
            let count = min(g.block - base, tiles - q)
            for i in 0..<count {
                Winograd<F>.inputWindow(x, grid, q + i, channels: ci, buf.v + (base + i) * ci, vStride: g.block * ci, buf.h)
                gradientTile(dy, grid, q + i, g, buf.e + (base + i) * co, buf.h)
            }
            q += count
            if shared && image % images != images - 1 && !last { return }   // the block waits for the next image
            multiply(rows: base + count, g, buf)   // the one call: the GEMMs are large once inlined
        }
    }

    /// M[xi] += V[xi]^T E[xi] over the first `rows` tiles of the block, for every xi.
    @_transparent @usableFromInline
    static func multiply(rows: Int, _ g: WinogradGradientGeometry, _ buf: WinogradGradientBuffers) {
        let ci = g.channels, co = g.filters
        for xi in 0..<(F.n * F.n) {
            let vx = buf.v + xi * g.block * ci, mx = buf.m + xi * ci * co
            Gemm.rows(ci, a: { c in vx + c }, b: buf.e + xi * g.block * co, n: co, c: { c in mx + c * co },
                      GemmReduction(k: rows, aStride: ci, ldb: co), .add)
        }
    }

    /// E[xi] = (G e G^T)[xi] for the dy tile of `tile` (rows and columns past the output are zero).
    @_transparent @usableFromInline
    static func gradientTile(_ dy: UnsafePointer<Float>, _ grid: TileGrid, _ tile: Int, _ g: WinogradGradientGeometry,
                             _ e: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>) {
        let n = F.n, t = F.r, co = g.filters
        let ty = tile / grid.tilesW, tx = tile % grid.tilesW
        let rows = min(t, g.outputHeight - ty * t), cols = min(t, g.outputWidth - tx * t)
        let d = dy + ty * t * g.outputRowStride + tx * t * co
        for c0 in stride(from: 0, to: co, by: 16) {
            for kw in 0..<t {   // G e: tile column kw -> h[0..<n][kw]
                F.kernel({ kh in kh < rows && kw < cols ? .load(d + kh * g.outputRowStride + kw * co + c0) : SIMD16() },
                         { i, v in v.store(h + (i * n + kw) * 16) })
            }
            for i in 0..<n {    // (G e) G^T: row i -> E[i][0..<n]
                F.kernel({ k in .load(h + (i * n + k) * 16) }, { j, v in v.store(e + (i * n + j) * g.block * co + c0) })
            }
        }
    }

    /// dW = A^T M A into the HWIO gradient gk [r, r, CI, CO] (stored, not added).
    @inlinable
    public static func store(_ m: UnsafePointer<Float>, _ gk: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>,
                             channels ci: Int, filters co: Int) {
        let n = F.n, r = F.m
        for c in 0..<ci {
            for c0 in stride(from: 0, to: co, by: 16) {
                let mc = m + c * co + c0
                for cc in 0..<n {   // A^T M: column cc -> h[0..<r][cc]
                    F.output({ k in .load(mc + (k * n + cc) * ci * co) }, { a, s in s.store(h + (a * n + cc) * 16) })
                }
                for a in 0..<r {    // (A^T M) A: row a -> dW[a][0..<r]
                    F.output({ k in .load(h + (a * n + k) * 16) }, { b, s in s.store(gk + ((a * r + b) * ci + c) * co + c0) })
                }
            }
        }
    }
}
