// The runtime's Winograd kernels (Sources/ModelcRuntime/Kernels/Winograd.swift and
// WinogradForms.swift) against their derivation and against plain loops: each form's 1-D
// transforms equal the Cook-Toom matrices below, and the tile kernel (both its inlined and its
// out-of-line form) computes the direct correlation, with output sizes that are not multiples of
// the tile, a strided output layout, and every epilogue.

import XCTest
@testable import ModelcRuntime

/// Winograd minimal filtering F(m, r) by Cook-Toom: y = A^T [(G g) .* (B^T d)] is the valid
/// correlation of d (length n = m + r - 1) with g (length r), exactly in real arithmetic.
/// Points: the finite interpolation points p_0..p_{n-2} and infinity.
///   A^T[a][j] = p_j^a (infinity: 1 for a = m - 1, else 0)
///   G[j][k]   = p_j^k / f_j, f_j = prod_{l != j} (p_j - p_l) (infinity: 1 for k = r - 1)
///   B^T[j][:] = coefficients of prod_{l != j} (x - p_l) (infinity: of prod_l (x - p_l))
/// (the transpose of the linear-convolution algorithm: evaluate, multiply, Lagrange-interpolate).
/// Rows with f_j < 0 are negated in both G and B^T, so that G's scale factors are positive.
struct WinogradMatrices {
    let m: Int, r: Int
    var n: Int { m + r - 1 }
    let at: [[Double]]   // [m][n]
    let g: [[Double]]    // [n][r]
    let bt: [[Double]]   // [n][n]

    /// Small points first: their powers stay small, which keeps the rounding error low.
    static let points: [Double] = [0, 1, -1, 2, -2, 0.5, -0.5, 3, -3]

    init(m: Int, r: Int) {
        self.m = m; self.r = r
        let n = m + r - 1
        let p = Array(WinogradMatrices.points.prefix(n - 1))
        precondition(p.count == n - 1, "F(\(m), \(r)) needs more interpolation points")
        func power(_ x: Double, _ e: Int) -> Double { (0..<e).reduce(1.0) { acc, _ in acc * x } }
        /// Coefficients (constant term first) of prod over `roots` of (x - root).
        func poly(_ roots: [Double]) -> [Double] {
            var c: [Double] = [1]
            for root in roots {
                var next = [Double](repeating: 0, count: c.count + 1)
                for (i, v) in c.enumerated() { next[i + 1] += v; next[i] -= root * v }
                c = next
            }
            return c + [Double](repeating: 0, count: n - c.count)
        }
        var at = [[Double]](repeating: [Double](repeating: 0, count: n), count: m)
        var g = [[Double]](repeating: [Double](repeating: 0, count: r), count: n)
        var bt = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for j in 0..<(n - 1) {
            let others = p.enumerated().filter { $0.offset != j }.map { $0.element }
            let f = others.reduce(1.0) { $0 * (p[j] - $1) }
            let sign: Double = f < 0 ? -1 : 1
            for a in 0..<m { at[a][j] = power(p[j], a) }
            for k in 0..<r { g[j][k] = sign * power(p[j], k) / f }
            bt[j] = poly(others).map { sign * $0 }
        }
        at[m - 1][n - 1] = 1
        g[n - 1][r - 1] = 1
        bt[n - 1] = poly(p)
        self.at = at; self.g = g; self.bt = bt
    }
}

final class WinogradKernelTests: XCTestCase {
    /// Applies a 1-D transform to the unit vectors: column k of its matrix, lane 0.
    func matrix(rows: Int, cols: Int, _ transform: ((Int) -> SIMD16<Float>, (Int, SIMD16<Float>) -> Void) -> Void) -> [[Double]] {
        var out = [[Double]](repeating: [Double](repeating: 0, count: cols), count: rows)
        for k in 0..<cols {
            transform({ $0 == k ? SIMD16(repeating: 1) : SIMD16() }, { j, v in out[j][k] = Double(v[0]) })
        }
        return out
    }

    func checkForm<F: WinogradForm>(_: F.Type, file: StaticString = #filePath, line: UInt = #line) {
        let t = WinogradMatrices(m: F.m, r: F.r)
        let pairs = [(matrix(rows: F.n, cols: F.n, F.input), t.bt, "B^T"), (matrix(rows: F.m, cols: F.n, F.output), t.at, "A^T"),
                     (matrix(rows: F.n, cols: F.r, F.kernel), t.g, "G")]
        for (got, want, name) in pairs {
            for (i, row) in want.enumerated() {
                for (j, v) in row.enumerated() {
                    XCTAssertEqual(got[i][j], v, accuracy: 1e-6 * max(1, abs(v)), "\(F.self) \(name)[\(i)][\(j)]", file: file, line: line)
                }
            }
        }
    }

    func testFormsAreCookToom() {
        checkForm(WinogradF3x3x3x3.self)
        checkForm(WinogradF4x4x3x3.self)
        checkForm(WinogradF5x5x3x3.self)
        checkForm(WinogradF3x3x5x5.self)
        checkForm(WinogradF3x3x4x4.self)
    }

    /// Deterministic values in [-1, 1).
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s % 2000) / 1000 - 1
        }
    }

    /// The padded input's `border` (top, bottom, left, right) zeroed, and its interior: the
    /// input stored unpadded.
    func interior(_ x: inout [Float], hp: Int, wp: Int, ci: Int, border b: (Int, Int, Int, Int)) -> [Float] {
        var stored: [Float] = []
        for y in 0..<hp {
            for xx in 0..<wp {
                let inside = y >= b.0 && y < hp - b.1 && xx >= b.2 && xx < wp - b.3
                for c in 0..<ci {
                    if inside { stored.append(x[(y * wp + xx) * ci + c]) } else { x[(y * wp + xx) * ci + c] = 0 }
                }
            }
        }
        return stored
    }

    /// The tile kernel on `images` padded inputs of (oh + r - 1) x (ow + r - 1) x ci against the
    /// direct correlation, written into outputs with a border (offset, row and pixel strides) and
    /// a gap between images. With `unpadded` (top, bottom, left, right), the inputs are stored
    /// without that zero border. The tiles of all images go in two calls that split unevenly
    /// (as the threads split an image, or inside an image when several share a call).
    func checkTiles<F: WinogradForm>(_: F.Type, oh: Int, ow: Int, ci: Int, co: Int, bias: Bool, folded: Bool,
                                     activation: GemmEpilogue.Activation, unpadded: (Int, Int, Int, Int)? = nil, images: Int = 1,
                                     file: StaticString = #filePath, line: UInt = #line) {
        let r = F.r, n = F.n, hp = oh + r - 1, wp = ow + r - 1
        let tiles = ((oh + F.m - 1) / F.m) * ((ow + F.m - 1) / F.m) * images, block = 12
        let pixelStride = co + 16, rowStride = (ow + 1) * pixelStride, offset = rowStride + pixelStride
        let imageStride = offset + oh * rowStride + 48
        let w = values(r * r * ci * co, seed: 2)
        let b = values(co, seed: 3), sc = values(co, seed: 4), sh = values(co, seed: 5)
        var stored: [Float] = []
        var want = [Float](repeating: 7, count: images * imageStride)
        for image in 0..<images {
            var x = values(hp * wp * ci, seed: 1 + 10 * UInt64(image))
            stored += unpadded.map { interior(&x, hp: hp, wp: wp, ci: ci, border: $0) } ?? x
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for o in 0..<co {
                        var s: Double = 0
                        for kh in 0..<r { for kw in 0..<r { for c in 0..<ci {
                            s += Double(x[((oy + kh) * wp + ox + kw) * ci + c]) * Double(w[((kh * r + kw) * ci + c) * co + o])
                        } } }
                        var v = Float(s) + (bias ? b[o] : 0)
                        if folded { v = v * sc[o] + sh[o] }
                        want[image * imageStride + offset + oy * rowStride + ox * pixelStride + o] = vactivate(v, activation)
                    }
                }
            }
        }
        let p = unpadded ?? (0, 0, 0, 0)
        let uStride = ci * co + 16
        var u = [Float](repeating: 0, count: n * n * uStride), v = [Float](repeating: 0, count: n * n * block * ci)
        var m = [Float](repeating: 0, count: n * n * block * co), h = [Float](repeating: 0, count: n * n * 16)
        let geometry = WinogradGeometry(inputHeight: hp - p.0 - p.1, inputWidth: wp - p.2 - p.3, padTop: p.0, padLeft: p.2,
                                        channels: ci, outputHeight: oh, outputWidth: ow, filters: co,
                                        outputOffset: offset, outputRowStride: rowStride, outputPixelStride: pixelStride,
                                        outputImageStride: imageStride, block: block, uStride: uStride)
        for inlined in [true, false] {
            var y = [Float](repeating: 7, count: want.count)
            Winograd<F>.weightsInlined(w, &u, &h, channels: ci, filters: co, uStride: uStride)
            b.withUnsafeBufferPointer { bp in sc.withUnsafeBufferPointer { scp in sh.withUnsafeBufferPointer { shp in
                let epi = GemmEpilogue(bias: bias ? bp.baseAddress! : nil, scale: folded ? scp.baseAddress! : nil,
                                       shift: folded ? shp.baseAddress! : nil, activation: activation)
                let buffers = WinogradBuffers(u: &u, v: &v, m: &m, h: &h)
                for (q0, q1) in [(0, tiles / 2 + 1), (tiles / 2 + 1, tiles)] {
                    if inlined {
                        Winograd<F>.tilesInlined(stored, &y, q0, q1, geometry, buffers, epi)
                    } else {
                        Winograd<F>.tilesOutOfLine(stored, &y, q0, q1, geometry, buffers, epi)
                    }
                }
            } } }
            for i in want.indices where abs(y[i] - want[i]) > 1e-4 * max(1, abs(want[i])) {
                XCTFail("\(F.self) \(images)x\(oh)x\(ow)x\(ci)->\(co) inlined \(inlined): y[\(i)] = \(y[i]), want \(want[i])", file: file, line: line)
                return
            }
        }
    }

    func testTilesMatchTheDirectCorrelation() {
        checkTiles(WinogradF4x4x3x3.self, oh: 8, ow: 8, ci: 16, co: 16, bias: false, folded: false, activation: .none)
        checkTiles(WinogradF4x4x3x3.self, oh: 7, ow: 6, ci: 32, co: 48, bias: true, folded: false, activation: .leaky(0.3))
        checkTiles(WinogradF4x4x3x3.self, oh: 14, ow: 13, ci: 16, co: 32, bias: false, folded: true, activation: .relu)
        checkTiles(WinogradF3x3x5x5.self, oh: 9, ow: 9, ci: 16, co: 16, bias: true, folded: false, activation: .none)
        checkTiles(WinogradF3x3x5x5.self, oh: 5, ow: 7, ci: 32, co: 16, bias: false, folded: true, activation: .leaky(0.1))
        checkTiles(WinogradF5x5x3x3.self, oh: 14, ow: 14, ci: 32, co: 16, bias: true, folded: false, activation: .leaky(0.3))
        checkTiles(WinogradF5x5x3x3.self, oh: 5, ow: 8, ci: 16, co: 48, bias: false, folded: true, activation: .relu)
        checkTiles(WinogradF3x3x3x3.self, oh: 3, ow: 3, ci: 32, co: 16, bias: true, folded: true, activation: .leaky(0.3))
        checkTiles(WinogradF3x3x3x3.self, oh: 7, ow: 5, ci: 16, co: 32, bias: false, folded: false, activation: .none)
    }

    /// The same with the input stored unpadded: 'same' borders (partial last tiles too), a
    /// 'valid' one, an asymmetric one, and 5x5 borders of 2 where the tiles fit.
    func testTilesReadUnpaddedInputs() {
        checkTiles(WinogradF4x4x3x3.self, oh: 8, ow: 8, ci: 16, co: 16, bias: false, folded: false, activation: .none, unpadded: (1, 1, 1, 1))
        checkTiles(WinogradF4x4x3x3.self, oh: 7, ow: 6, ci: 32, co: 48, bias: true, folded: false, activation: .leaky(0.3), unpadded: (1, 1, 1, 1))
        checkTiles(WinogradF4x4x3x3.self, oh: 14, ow: 13, ci: 16, co: 32, bias: false, folded: true, activation: .relu, unpadded: (0, 2, 2, 0))
        checkTiles(WinogradF4x4x3x3.self, oh: 5, ow: 4, ci: 16, co: 16, bias: true, folded: false, activation: .none, unpadded: (0, 0, 0, 0))
        checkTiles(WinogradF3x3x5x5.self, oh: 9, ow: 8, ci: 16, co: 16, bias: true, folded: false, activation: .none, unpadded: (2, 2, 2, 2))
        checkTiles(WinogradF3x3x5x5.self, oh: 3, ow: 5, ci: 16, co: 16, bias: false, folded: true, activation: .leaky(0.1), unpadded: (3, 1, 2, 2))
        checkTiles(WinogradF5x5x3x3.self, oh: 14, ow: 13, ci: 16, co: 16, bias: true, folded: false, activation: .none, unpadded: (1, 1, 1, 1))
        checkTiles(WinogradF5x5x3x3.self, oh: 7, ow: 10, ci: 16, co: 32, bias: false, folded: true, activation: .relu, unpadded: (0, 2, 2, 0))
    }

    /// One call over several images' tiles: GEMM blocks span the images (49, 4 and 2 tiles an
    /// image), inputs stored padded or not, outputs with gaps between the images.
    func testTilesSpanImages() {
        checkTiles(WinogradF4x4x3x3.self, oh: 28, ow: 28, ci: 16, co: 16, bias: true, folded: false, activation: .none, images: 3)
        checkTiles(WinogradF4x4x3x3.self, oh: 7, ow: 7, ci: 16, co: 32, bias: false, folded: true, activation: .leaky(0.3),
                   unpadded: (1, 1, 1, 1), images: 5)
        checkTiles(WinogradF3x3x5x5.self, oh: 3, ow: 5, ci: 16, co: 16, bias: true, folded: false, activation: .relu, images: 4)
        checkTiles(WinogradF5x5x3x3.self, oh: 14, ow: 14, ci: 16, co: 16, bias: false, folded: true, activation: .none,
                   unpadded: (1, 1, 1, 1), images: 2)
        checkTiles(WinogradF3x3x3x3.self, oh: 3, ow: 3, ci: 16, co: 16, bias: true, folded: false, activation: .relu,
                   unpadded: (1, 1, 1, 1), images: 13)
    }

    /// U is recomputed exactly when the kernel's bits change, and the copy follows.
    func testWeightsIfChanged() {
        let ci = 16, co = 16, uStride = ci * co + 16, count = 9 * ci * co
        var w = values(count, seed: 8), source = [Float](repeating: 0, count: count)
        var u = [Float](repeating: 0, count: 36 * uStride), h = [Float](repeating: 0, count: 36 * 16)
        Winograd<WinogradF4x4x3x3>.weightsIfChanged(w, source: &source, &u, &h, channels: ci, filters: co, uStride: uStride)
        XCTAssertEqual(source, w)
        var expected = [Float](repeating: 0, count: u.count)
        Winograd<WinogradF4x4x3x3>.weightsInlined(w, &expected, &h, channels: ci, filters: co, uStride: uStride)
        XCTAssertEqual(u, expected)
        u[0] = 99   // unchanged kernel: U is left alone
        Winograd<WinogradF4x4x3x3>.weightsIfChanged(w, source: &source, &u, &h, channels: ci, filters: co, uStride: uStride)
        XCTAssertEqual(u[0], 99)
        w[5] = -w[5]   // a changed bit pattern (also for 0)
        Winograd<WinogradF4x4x3x3>.weightsIfChanged(w, source: &source, &u, &h, channels: ci, filters: co, uStride: uStride)
        XCTAssertEqual(source, w)
        XCTAssertNotEqual(u[0], 99)
    }

    /// The bit-for-bit compare behind weightsIfChanged: a difference anywhere (in the 16-lane
    /// body or the tail, 0 against -0, one NaN payload against another) is seen.
    func testSameBits() {
        for count in [0, 1, 15, 16, 17, 37, 2_304] {
            let a = values(count, seed: 3)
            XCTAssertTrue(Winograd<WinogradF4x4x3x3>.sameBits(a, a.map { $0 }, count: count), "\(count)")
            for i in Set([0, count / 2, 15, 16, count - 1]) where i >= 0 && i < count {
                for v: Float in [a[i] + 1, -a[i], Float(bitPattern: 0x7FC0_0001), 0, -0.0] where v.bitPattern != a[i].bitPattern {
                    var b = a
                    b[i] = v
                    XCTAssertFalse(Winograd<WinogradF4x4x3x3>.sameBits(a, b, count: count), "count \(count), index \(i), \(v)")
                }
            }
        }
    }

    /// The weight gradient (F(3x3, 4x4), or F) summed over `images` images against the direct sums, with
    /// outputs that are and are not multiples of the tile, blocks shorter than an image, and
    /// blocks that several images share (full rounds and a partly filled last one).
    /// With `unpadded`, each image is stored without a zero border of 1.
    func checkGradient<F: WinogradForm>(_: F.Type = WinogradF3x3x4x4.self, oh: Int, ow: Int, ci: Int, co: Int, block: Int, images: Int = 2,
                                        unpadded: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        let hp = oh + 2, wp = ow + 2, n = F.n
        var x = values(images * hp * wp * ci, seed: 11)
        let dy = values(images * oh * ow * co, seed: 12)
        var stored = x
        if unpadded {
            stored = []
            for img in 0..<images {
                var image = Array(x[(img * hp * wp * ci)..<((img + 1) * hp * wp * ci)])
                stored += interior(&image, hp: hp, wp: wp, ci: ci, border: (1, 1, 1, 1))
                x.replaceSubrange((img * hp * wp * ci)..<((img + 1) * hp * wp * ci), with: image)
            }
        }
        let (sh, sw) = unpadded ? (oh, ow) : (hp, wp)
        var want = [Double](repeating: 0, count: 9 * ci * co)
        for img in 0..<images {
            for oy in 0..<oh { for ox in 0..<ow { for kh in 0..<3 { for kw in 0..<3 { for c in 0..<ci { for o in 0..<co {
                want[((kh * 3 + kw) * ci + c) * co + o] += Double(x[img * hp * wp * ci + ((oy + kh) * wp + ox + kw) * ci + c])
                    * Double(dy[img * oh * ow * co + (oy * ow + ox) * co + o])
            } } } } } }
        }
        var v = [Float](repeating: 0, count: n * n * block * ci), e = [Float](repeating: 0, count: n * n * block * co)
        var m = [Float](repeating: 0, count: n * n * ci * co), h = [Float](repeating: 0, count: n * n * 16)
        var gk = [Float](repeating: 7, count: 9 * ci * co)
        let geometry = WinogradGradientGeometry(inputHeight: sh, inputWidth: sw, padTop: unpadded ? 1 : 0, padLeft: unpadded ? 1 : 0,
                                                channels: ci, outputHeight: oh, outputWidth: ow, filters: co, block: block)
        let buffers = WinogradGradientBuffers(v: &v, e: &e, m: &m, h: &h)
        for img in 0..<images {
            WinogradGradient<F>.accumulate(Array(stored[(img * sh * sw * ci)...]), Array(dy[(img * oh * ow * co)...]), geometry, buffers,
                                           image: img, last: img == images - 1)
        }
        WinogradGradient<F>.store(m, &gk, &h, channels: ci, filters: co)
        let scale = want.map { abs($0) }.max() ?? 1
        for i in want.indices where abs(Double(gk[i]) - want[i]) > 1e-5 * scale {
            XCTFail("dW[\(i)] = \(gk[i]), want \(want[i]) (\(oh)x\(ow)x\(ci)->\(co), block \(block))", file: file, line: line)
            return
        }
    }

    func testWeightGradientMatchesTheDirectSums() {
        checkGradient(oh: 8, ow: 8, ci: 16, co: 16, block: 4)
        checkGradient(oh: 7, ow: 6, ci: 32, co: 16, block: 4)
        checkGradient(oh: 14, ow: 14, ci: 16, co: 48, block: 5)
        checkGradient(oh: 7, ow: 6, ci: 32, co: 16, block: 4, unpadded: true)
        checkGradient(oh: 14, ow: 13, ci: 16, co: 16, block: 64, images: 3, unpadded: true)
        checkGradient(WinogradF3x3x5x5.self, oh: 14, ow: 14, ci: 16, co: 32, block: 9)
        checkGradient(WinogradF3x3x5x5.self, oh: 14, ow: 13, ci: 16, co: 16, block: 63, images: 3, unpadded: true)
        checkGradient(WinogradF3x3x5x5.self, oh: 7, ow: 8, ci: 32, co: 16, block: 12, images: 5)   // shared rounds of 3 images
        checkGradient(WinogradF3x3x3x3.self, oh: 3, ow: 3, ci: 16, co: 32, block: 8, images: 11, unpadded: true)
        checkGradient(WinogradF3x3x3x3.self, oh: 7, ow: 5, ci: 16, co: 16, block: 6)
    }

    /// Images with fewer tiles than the block share rounds of GEMMs: 4 tiles an image, 3 images a
    /// round, 5 images (a full round, then a round of 2 added at the last image), and 4 images
    /// in rounds of 2.
    func testWeightGradientSharedRounds() {
        checkGradient(oh: 7, ow: 7, ci: 16, co: 32, block: 12, images: 5)
        checkGradient(oh: 8, ow: 6, ci: 32, co: 16, block: 8, images: 4)
        checkGradient(oh: 8, ow: 6, ci: 16, co: 16, block: 10, images: 5)   // a block that is not a multiple: 2 images of 4 tiles
    }
}
