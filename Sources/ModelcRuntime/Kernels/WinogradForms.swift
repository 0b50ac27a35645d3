// The Winograd forms the compiler uses, as straight-line 1-D transforms on 16-channel vectors
// (Kernels/Winograd.swift applies each twice per tile): F(3x3, 3x3), F(4x4, 3x3), F(5x5, 3x3) and
// F(3x3, 5x5) for convolutions, F(3x3, t x t) (t = 3, 4, 5) for the weight gradient of a 3x3 convolution
// (WinogradGradient.swift), where the 3x3 result is dW and the t x t "kernel" is a tile of the
// output gradient.
//
// The matrices are Cook-Toom's with the interpolation points 0, 1, -1, 2, -2, 1/2 and infinity,
// rows scaled so that G's factors are positive (derived, and these transforms checked against
// the derivation, in Tests/RuntimeTests/WinogradKernelTests.swift). Coefficients +-1 are additions; the points p and -p share their
// sums and differences (the "e" and "o" terms below), which saves about a third of the work.

/// One Winograd form F(m x m, r x r): the transforms of an n x n input window (n = m + r - 1),
/// of an r x r kernel and of the n x n product back to the m x m output tile, each as a 1-D
/// matrix product applied to rows and then to columns. `load(k)` gives the k-th input vector,
/// `store(j, v)` takes the j-th output.
public protocol WinogradForm {
    static var m: Int { get }
    static var r: Int { get }
    /// B^T d: n inputs -> n outputs.
    static func input(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void)
    /// A^T s: n inputs -> m outputs.
    static func output(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void)
    /// G g: r inputs -> n outputs.
    static func kernel(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void)
}

extension WinogradForm {
    @_transparent public static var n: Int { m + r - 1 }
}

@_transparent @usableFromInline func splat(_ v: Float) -> SIMD16<Float> { SIMD16<Float>(repeating: v) }

/// F(4x4, 3x3): n = 6, 36 multiplies per tile and channel pair instead of the direct 144.
public enum WinogradF4x4x3x3: WinogradForm {
    @_transparent public static var m: Int { 4 }
    @_transparent public static var r: Int { 3 }

    /// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
    @inlinable @inline(__always)
    public static func input(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let d0 = load(0), d1 = load(1), d2 = load(2), d3 = load(3), d4 = load(4), d5 = load(5)
        store(0, d4.addingProduct(d0, splat(4)).addingProduct(d2, splat(-5)))
        let e1 = (-d4).addingProduct(d2, splat(4)), o1 = (-d3).addingProduct(d1, splat(4))
        store(1, e1 + o1)
        store(2, e1 - o1)
        let e3 = -d2 + d4, o3 = (d1 * splat(-2)).addingProduct(d3, splat(2))
        store(3, e3 + o3)
        store(4, e3 - o3)
        store(5, d5.addingProduct(d1, splat(4)).addingProduct(d3, splat(-5)))
    }

    /// A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
    @inlinable @inline(__always)
    public static func output(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let s0 = load(0), s1 = load(1), s2 = load(2), s3 = load(3), s4 = load(4), s5 = load(5)
        let sum1 = s1 + s2, diff1 = s1 - s2, sum3 = s3 + s4, diff3 = s3 - s4
        store(0, s0 + sum1 + sum3)
        store(1, diff1.addingProduct(diff3, splat(2)))
        store(2, sum1.addingProduct(sum3, splat(4)))
        store(3, (s5 + diff1).addingProduct(diff3, splat(8)))
    }

    /// G = [1/4 0 0; 1/6 1/6 1/6; 1/6 -1/6 1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
    @inlinable @inline(__always)
    public static func kernel(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let g0 = load(0), g1 = load(1), g2 = load(2)
        store(0, g0 * splat(0.25))
        let e1 = (g0 * splat(0.16666667)).addingProduct(g2, splat(0.16666667)), o1 = g1 * splat(0.16666667)
        store(1, e1 + o1)
        store(2, e1 - o1)
        let e3 = (g0 * splat(0.041666668)).addingProduct(g2, splat(0.16666667)), o3 = g1 * splat(0.083333336)
        store(3, e3 + o3)
        store(4, e3 - o3)
        store(5, g2)
    }
}

/// F(3x3, 5x5): n = 7, 49 multiplies per tile and channel pair instead of the direct 225.
public enum WinogradF3x3x5x5: WinogradForm {
    @_transparent public static var m: Int { 3 }
    @_transparent public static var r: Int { 5 }

    /// B^T rows (columns d0..d6):
    ///   [2 -4 -2.5 5 0.5 -1 0; 0 -2 2 4.5 -0.5 -1 0; 0 -2 6 -3.5 -1.5 1 0; 0 1 -1.5 -2 1.5 1 0;
    ///    0 1 -2.5 0 2.5 -1 0; 0 4 0 -5 0 1 0; 0 -2 4 2.5 -5 -0.5 1]
    @inlinable @inline(__always)
    public static func input(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let d0 = load(0), d1 = load(1), d2 = load(2), d3 = load(3), d4 = load(4), d5 = load(5), d6 = load(6)
        store(0, (-d5).addingProduct(d0, splat(2)).addingProduct(d1, splat(-4)).addingProduct(d2, splat(-2.5))
                  .addingProduct(d3, splat(5)).addingProduct(d4, splat(0.5)))
        store(1, (-d5).addingProduct(d1, splat(-2)).addingProduct(d2, splat(2)).addingProduct(d3, splat(4.5))
                  .addingProduct(d4, splat(-0.5)))
        store(2, d5.addingProduct(d1, splat(-2)).addingProduct(d2, splat(6)).addingProduct(d3, splat(-3.5))
                  .addingProduct(d4, splat(-1.5)))
        store(3, (d1 + d5).addingProduct(d2, splat(-1.5)).addingProduct(d3, splat(-2)).addingProduct(d4, splat(1.5)))
        store(4, (d1 - d5).addingProduct(d2, splat(-2.5)).addingProduct(d4, splat(2.5)))
        store(5, d5.addingProduct(d1, splat(4)).addingProduct(d3, splat(-5)))
        store(6, d6.addingProduct(d1, splat(-2)).addingProduct(d2, splat(4)).addingProduct(d3, splat(2.5))
                  .addingProduct(d4, splat(-5)).addingProduct(d5, splat(-0.5)))
    }

    /// A^T = [1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 0; 0 1 1 4 4 1/4 1]
    @inlinable @inline(__always)
    public static func output(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let s0 = load(0), s1 = load(1), s2 = load(2), s3 = load(3), s4 = load(4), s5 = load(5), s6 = load(6)
        let sum1 = s1 + s2, diff1 = s1 - s2, sum3 = s3 + s4, diff3 = s3 - s4
        store(0, s0 + sum1 + sum3 + s5)
        store(1, diff1.addingProduct(s5, splat(0.5)).addingProduct(diff3, splat(2)))
        store(2, (sum1 + s6).addingProduct(sum3, splat(4)).addingProduct(s5, splat(0.25)))
    }

    /// G rows (columns g0..g4): [1/2 0 0 0 0; 1/3 1/3 1/3 1/3 1/3; 1/9 -1/9 1/9 -1/9 1/9;
    ///   1/36 1/18 1/9 2/9 4/9; 1/60 -1/30 1/15 -2/15 4/15; 32/45 16/45 8/45 4/45 2/45; 0 0 0 0 1]
    @inlinable @inline(__always)
    public static func kernel(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let g0 = load(0), g1 = load(1), g2 = load(2), g3 = load(3), g4 = load(4)
        store(0, g0 * splat(0.5))
        store(1, (g0 * splat(0.33333334)).addingProduct(g1, splat(0.33333334)).addingProduct(g2, splat(0.33333334))
                  .addingProduct(g3, splat(0.33333334)).addingProduct(g4, splat(0.33333334)))
        store(2, (g0 * splat(0.11111111)).addingProduct(g1, splat(-0.11111111)).addingProduct(g2, splat(0.11111111))
                  .addingProduct(g3, splat(-0.11111111)).addingProduct(g4, splat(0.11111111)))
        store(3, (g0 * splat(0.027777778)).addingProduct(g1, splat(0.055555556)).addingProduct(g2, splat(0.11111111))
                  .addingProduct(g3, splat(0.22222222)).addingProduct(g4, splat(0.44444445)))
        store(4, (g0 * splat(0.016666668)).addingProduct(g1, splat(-0.033333335)).addingProduct(g2, splat(0.06666667))
                  .addingProduct(g3, splat(-0.13333334)).addingProduct(g4, splat(0.26666668)))
        store(5, (g0 * splat(0.7111111)).addingProduct(g1, splat(0.35555556)).addingProduct(g2, splat(0.17777778))
                  .addingProduct(g3, splat(0.08888889)).addingProduct(g4, splat(0.044444446)))
        store(6, g4)
    }
}

/// F(3x3, 3x3): n = 5, the points 0, 1, -1, 2 and infinity; 25 multiplies per tile and channel
/// pair for 9 outputs. For small outputs (a 3x3 layer is one tile), and as F(3x3, t x t) with
/// t = 3 the weight gradient of such a layer.
public enum WinogradF3x3x3x3: WinogradForm {
    @_transparent public static var m: Int { 3 }
    @_transparent public static var r: Int { 3 }

    /// B^T = [2 -1 -2 1 0; 0 2 1 -1 0; 0 -2 3 -1 0; 0 -1 0 1 0; 0 2 -1 -2 1]
    @inlinable @inline(__always)
    public static func input(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let d0 = load(0), d1 = load(1), d2 = load(2), d3 = load(3), d4 = load(4)
        store(0, (d3 - d1).addingProduct(d0 - d2, splat(2)))
        store(1, (d2 - d3).addingProduct(d1, splat(2)))
        store(2, (-d3).addingProduct(d1, splat(-2)).addingProduct(d2, splat(3)))
        store(3, d3 - d1)
        store(4, (d4 - d2).addingProduct(d1 - d3, splat(2)))
    }

    /// A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 1]
    @inlinable @inline(__always)
    public static func output(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let s0 = load(0), s1 = load(1), s2 = load(2), s3 = load(3), s4 = load(4)
        let sum1 = s1 + s2
        store(0, s0 + sum1 + s3)
        store(1, (s1 - s2).addingProduct(s3, splat(2)))
        store(2, (sum1 + s4).addingProduct(s3, splat(4)))
    }

    /// G = [1/2 0 0; 1/2 1/2 1/2; 1/6 -1/6 1/6; 1/6 1/3 2/3; 0 0 1]
    @inlinable @inline(__always)
    public static func kernel(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let g0 = load(0), g1 = load(1), g2 = load(2)
        let e = g0 + g2
        store(0, g0 * splat(0.5))
        store(1, (e + g1) * splat(0.5))
        store(2, (e - g1) * splat(0.16666667))
        store(3, (g0 * splat(0.16666667)).addingProduct(g1, splat(0.33333334)).addingProduct(g2, splat(0.6666667)))
        store(4, g2)
    }
}

/// F(5x5, 3x3): n = 7, the points and B^T of F(3x3, 5x5); 49 multiplies per tile and channel
/// pair for 25 outputs (F(4x4, 3x3): 36 for 16). The lowering pass picks it where its tiles
/// cover the output with less waste: a 14x14 output is 9 tiles of 5x5 (225 pixels computed)
/// rather than 16 of 4x4 (256).
public enum WinogradF5x5x3x3: WinogradForm {
    @_transparent public static var m: Int { 5 }
    @_transparent public static var r: Int { 3 }

    @inlinable @inline(__always)
    public static func input(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        WinogradF3x3x5x5.input(load, store)
    }

    /// A^T = [1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 0; 0 1 1 4 4 1/4 0; 0 1 -1 8 -8 1/8 0; 0 1 1 16 16 1/16 1]
    @inlinable @inline(__always)
    public static func output(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let s0 = load(0), s1 = load(1), s2 = load(2), s3 = load(3), s4 = load(4), s5 = load(5), s6 = load(6)
        let sum1 = s1 + s2, diff1 = s1 - s2, sum3 = s3 + s4, diff3 = s3 - s4
        store(0, s0 + sum1 + sum3 + s5)
        store(1, diff1.addingProduct(diff3, splat(2)).addingProduct(s5, splat(0.5)))
        store(2, sum1.addingProduct(sum3, splat(4)).addingProduct(s5, splat(0.25)))
        store(3, diff1.addingProduct(diff3, splat(8)).addingProduct(s5, splat(0.125)))
        store(4, (sum1 + s6).addingProduct(sum3, splat(16)).addingProduct(s5, splat(0.0625)))
    }

    /// G = [1/2 0 0; 1/3 1/3 1/3; 1/9 -1/9 1/9; 1/36 1/18 1/9; 1/60 -1/30 1/15; 32/45 16/45 8/45; 0 0 1]
    @inlinable @inline(__always)
    public static func kernel(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let g0 = load(0), g1 = load(1), g2 = load(2)
        store(0, g0 * splat(0.5))
        let e = g0 + g2
        store(1, (e + g1) * splat(0.33333334))
        store(2, (e - g1) * splat(0.11111111))
        store(3, (g0 * splat(0.027777778)).addingProduct(g1, splat(0.055555556)).addingProduct(g2, splat(0.11111111)))
        store(4, (g0 * splat(0.016666668)).addingProduct(g1, splat(-0.033333335)).addingProduct(g2, splat(0.06666667)))
        store(5, (g0 * splat(0.7111111)).addingProduct(g1, splat(0.35555556)).addingProduct(g2, splat(0.17777778)))
        store(6, g2)
    }
}

/// F(3x3, 4x4): n = 6, the same points and B^T as F(4x4, 3x3); 36 multiplies per 4x4 tile of
/// the output gradient and channel pair instead of the direct 144.
public enum WinogradF3x3x4x4: WinogradForm {
    @_transparent public static var m: Int { 3 }
    @_transparent public static var r: Int { 4 }

    @inlinable @inline(__always)
    public static func input(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        WinogradF4x4x3x3.input(load, store)
    }

    /// A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 1]
    @inlinable @inline(__always)
    public static func output(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let s0 = load(0), s1 = load(1), s2 = load(2), s3 = load(3), s4 = load(4), s5 = load(5)
        let sum1 = s1 + s2, diff1 = s1 - s2, sum3 = s3 + s4, diff3 = s3 - s4
        store(0, s0 + sum1 + sum3)
        store(1, diff1.addingProduct(diff3, splat(2)))
        store(2, (sum1 + s5).addingProduct(sum3, splat(4)))
    }

    /// G = [1/4 0 0 0; 1/6 1/6 1/6 1/6; 1/6 -1/6 1/6 -1/6; 1/24 1/12 1/6 1/3; 1/24 -1/12 1/6 -1/3; 0 0 0 1]
    @inlinable @inline(__always)
    public static func kernel(_ load: (Int) -> SIMD16<Float>, _ store: (Int, SIMD16<Float>) -> Void) {
        let g0 = load(0), g1 = load(1), g2 = load(2), g3 = load(3)
        store(0, g0 * splat(0.25))
        let e1 = (g0 + g2) * splat(0.16666667), o1 = (g1 + g3) * splat(0.16666667)
        store(1, e1 + o1)
        store(2, e1 - o1)
        let e3 = (g0 * splat(0.041666668)).addingProduct(g2, splat(0.16666667))
        let o3 = (g1 * splat(0.083333336)).addingProduct(g3, splat(0.33333334))
        store(3, e3 + o3)
        store(4, e3 - o3)
        store(5, g3)
    }
}
