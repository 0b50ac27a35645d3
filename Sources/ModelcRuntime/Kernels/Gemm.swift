// The GEMM at the heart of every heavy loop of a generated model, as one register-tiled
// micro-kernel and the generic loops around it (BLIS's structure: one tile shape per
// instruction-set family in KernelTarget, everything else shared).
//
//   C[r][0..<n] (op)= sum_{i < outer} sum_{j < inner} A_r[i*aOuter + j*aInner] * B[i*bOuter + j*bInner + 0..<n]
//
// for rows r in 0..<rows, where A_r and C_r are row addresses the caller computes. One shape
// serves every layer:
//   Dense forward          A_r = x row r (aInner 1), B = W [k, n]
//   Dense backward-data    A_r = dy row r, B = W transposed [n_out, n_in]
//   weight gradients       A_r = column r of x (aInner = row length), B = dy; the reduction runs
//                          over the images (and output pixels), C = dW row r
//   Conv2D direct forward  A_r = the window of output pixel r in the padded input; outer = kernel
//                          rows, inner = kernel width x input channels (contiguous in NHWC)
//
// Every function here is @_transparent: a generated model calls them with literal sizes, so
// after inlining into the model's module every loop bound, stride and tile count is a constant,
// and only the row count (the batch) stays a variable. (@inline(__always) is not enough: the
// optimizer stops inlining into a caller past a size budget, and a kernel left out of line runs
// unspecialized.) The runtime's own kernels, compiled in the runtime with run-time sizes (the
// recurrent and attention layers), call Gemm.runtime (GemmRuntime.swift) instead: compiled
// there, file by file, these generic tiles call the vector types through protocol witnesses.

/// The reduction of one GEMM: `outer * inner` terms; term (i, j) multiplies
/// A_r[i * aOuter + j * aInner] by the row of B at i * bOuter + j * bInner.
public struct GemmReduction {
    public var outer: Int, inner: Int
    public var aOuter: Int, aInner: Int
    public var bOuter: Int, bInner: Int

    /// A plain k-term reduction: A_r[j * aStride], B row j at j * ldb.
    @_transparent
    public init(k: Int, aStride: Int = 1, ldb: Int) {
        self.init(outer: 1, inner: k, aOuter: 0, aInner: aStride, bOuter: 0, bInner: ldb)
    }

    @_transparent
    public init(outer: Int, inner: Int, aOuter: Int, aInner: Int, bOuter: Int, bInner: Int) {
        self.outer = outer; self.inner = inner
        self.aOuter = aOuter; self.aInner = aInner; self.bOuter = bOuter; self.bInner = bInner
    }
}

/// What happens to a tile's sums on their way to C.
public struct GemmEpilogue {
    /// capped(m): min(max(x, 0), m) (ReLU6); hardSwish: inference only (its gradient needs x).
    public enum Activation { case none, relu, leaky(Float), capped(Float), hardSwish }
    /// Sums start from bias[column].
    public var bias: UnsafePointer<Float>?
    /// Folded BatchNorm: s = s * scale[column] + shift[column].
    public var scale: UnsafePointer<Float>?
    public var shift: UnsafePointer<Float>?
    public var activation: Activation
    /// C += s (no bias, scale or activation).
    public var accumulate: Bool
    /// Whether a scale and shift or an activation follow the sums.
    @_transparent public var isPointwise: Bool {
        if accumulate { return false }
        if case .none = activation { return scale != nil && shift != nil }
        return true
    }

    @_transparent
    public init(bias: UnsafePointer<Float>? = nil, scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil,
                activation: Activation = .none, accumulate: Bool = false) {
        self.bias = bias; self.scale = scale; self.shift = shift
        self.activation = activation; self.accumulate = accumulate
    }

    /// C = sums.
    @_transparent public static var store: GemmEpilogue { GemmEpilogue() }
    /// C += sums.
    @_transparent public static var add: GemmEpilogue { GemmEpilogue(accumulate: true) }
}

public enum Gemm {
    /// C rows 0..<rows; `n` columns of B and C starting at column 0 (b and c(r) point there).
    /// Inlined into the caller, sizes and all; with MODELC_KERNELS_OUT_OF_LINE (the package's
    /// debug builds, Package.swift) a call of `outOfLine` instead, so that unoptimized callers
    /// (the tests' emitted models) run the kernel compiled with optimization here.
    @_transparent
    public static func rows(_ rows: Int, a: (Int) -> UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, n: Int,
                            c: (Int) -> UnsafeMutablePointer<Float>,
                            _ red: GemmReduction, _ epi: GemmEpilogue = .store) {
        #if MODELC_KERNELS_OUT_OF_LINE
        outOfLine(rows, a: a, b: b, n: n, c: c, red, epi)
        #else
        inlined(rows, a: a, b: b, n: n, c: c, red, epi)
        #endif
    }

    /// The kernel specialized for the vector type only: sizes and row addresses are run-time values.
    @inline(never)
    public static func outOfLine(_ rows: Int, a: (Int) -> UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, n: Int,
                                 c: (Int) -> UnsafeMutablePointer<Float>, _ red: GemmReduction, _ epi: GemmEpilogue) {
        inlined(rows, a: a, b: b, n: n, c: c, red, epi)
    }

    /// The kernel itself, inlined with the caller's sizes.
    @_transparent
    public static func inlined(_ rows: Int, a: (Int) -> UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, n: Int,
                               c: (Int) -> UnsafeMutablePointer<Float>,
                               _ red: GemmReduction, _ epi: GemmEpilogue = .store) {
        // Full tiles, then the rest: one row alone (a one-image layer: no wasted multiplies),
        // or 2 to 5 rows as a full tile whose extra rows repeat the last and are not stored.
        // The one-row test is written on `rows` so that it folds away when `rows` is a literal
        // (a weight gradient's rows) that leaves no single row: the one-row tiles are then not
        // compiled at all.
        let tr = KernelTarget.tileRows
        var r = 0
        while r < rows {
            let valid = min(tr, rows - r)
            if rows % tr == 1 && r == rows - 1 {
                block(1, valid: 1, r, a: a, b: b, n: n, c: c, red, epi)
            } else {
                block(tr, valid: valid, r, a: a, b: b, n: n, c: c, red, epi)
            }
            r += tr
        }
    }

    /// One block of `R` rows (a literal at every call; `valid` of them real) across all n columns:
    /// full tiles of KernelTarget.Lanes (for a lone row, of LoneLanes first), then narrower
    /// tails; n is a literal, so the tails are chosen at compile time. The tiles store the sums
    /// (plus bias); a folded BatchNorm's scale and shift and the activation then run once over
    /// the block's rows (`pointwise`), still in L1: inlined into the tiles' stores instead, they
    /// would be copied once per row and column tail of every tile, and each copy of leaky ReLU's
    /// lane-wise select is dozens of basic blocks for the optimizer.
    @_transparent @usableFromInline
    static func block(_ R: Int, valid: Int, _ r0: Int, a: (Int) -> UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, n: Int,
                      c: (Int) -> UnsafeMutablePointer<Float>, _ red: GemmReduction, _ epi: GemmEpilogue) {
        let rows = TileRows(valid, r0, a: a, c: c)
        let sums = GemmEpilogue(bias: epi.bias, accumulate: epi.accumulate)
        let w = KernelTarget.Lanes.lanes
        var col = 0
        if R == 1 {
            let lone = KernelTarget.LoneLanes.lanes
            while n - col >= lone {
                tile(KernelTarget.LoneLanes.self, 1, 1, rows, b: b, col: col, red, sums)
                col += lone
            }
        }
        while n - col >= w {
            tile(KernelTarget.Lanes.self, R, valid, rows, b: b, col: col, red, sums)
            col += w
        }
        if w > 32 && n - col >= 32 { tile(VectorPair<SIMD16<Float>>.self, R, valid, rows, b: b, col: col, red, sums); col += 32 }
        if w > 16 && n - col >= 16 { tile(SIMD16<Float>.self, R, valid, rows, b: b, col: col, red, sums); col += 16 }
        if n - col >= 8 { tile(SIMD8<Float>.self, R, valid, rows, b: b, col: col, red, sums); col += 8 }
        if n - col >= 4 { tile(SIMD4<Float>.self, R, valid, rows, b: b, col: col, red, sums); col += 4 }
        if n - col >= 2 { tile(SIMD2<Float>.self, R, valid, rows, b: b, col: col, red, sums); col += 2 }
        if n - col >= 1 { tile(Float.self, R, valid, rows, b: b, col: col, red, sums) }
        if epi.isPointwise {
            for r in 0..<valid { pointwise(c(r0 + r), n: n, epi) }
        }
    }

    /// C[0..<n] = act(C * scale + shift) (the parts `epi` has), 16 lanes at a time.
    @_transparent @usableFromInline
    static func pointwise(_ p: UnsafeMutablePointer<Float>, n: Int, _ epi: GemmEpilogue) {
        var col = 0
        while n - col >= 16 {
            finish(SIMD16<Float>.load(p + col), p + col, col, epi)
            col += 16
        }
        while col < n {
            finish(p[col], p + col, col, epi)
            col += 1
        }
    }

    /// The micro-kernel: R x V.lanes sums in registers (R <= 6), of which the first `valid`
    /// rows are stored. `R` is a literal at every call, so the `R > k` tests fold away.
    @_transparent @usableFromInline
    static func tile<V: FloatVector>(_: V.Type, _ R: Int, _ valid: Int, _ p: TileRows, b: UnsafePointer<Float>, col: Int,
                              _ red: GemmReduction, _ epi: GemmEpilogue) {
        let start: V = epi.accumulate ? V() : (epi.bias.map { V.load($0 + col) } ?? V())
        var s0 = start, s1 = start, s2 = start, s3 = start, s4 = start, s5 = start
        let bc = b + col
        for i in 0..<red.outer {
            let ai = i * red.aOuter
            let bi = bc + i * red.bOuter
            for j in 0..<red.inner {
                let o = ai + j * red.aInner
                let bv = V.load(bi + j * red.bInner)
                s0 = s0.fma(p.a0[o], bv)
                if R > 1 { s1 = s1.fma(p.a1[o], bv) }
                if R > 2 { s2 = s2.fma(p.a2[o], bv) }
                if R > 3 { s3 = s3.fma(p.a3[o], bv) }
                if R > 4 { s4 = s4.fma(p.a4[o], bv) }
                if R > 5 { s5 = s5.fma(p.a5[o], bv) }
            }
        }
        finish(s0, p.c0 + col, col, epi)
        if R > 1 && valid > 1 { finish(s1, p.c1 + col, col, epi) }
        if R > 2 && valid > 2 { finish(s2, p.c2 + col, col, epi) }
        if R > 3 && valid > 3 { finish(s3, p.c3 + col, col, epi) }
        if R > 4 && valid > 4 { finish(s4, p.c4 + col, col, epi) }
        if R > 5 && valid > 5 { finish(s5, p.c5 + col, col, epi) }
    }

    @_transparent @usableFromInline
    static func finish<V: FloatVector>(_ s: V, _ p: UnsafeMutablePointer<Float>, _ col: Int, _ epi: GemmEpilogue) {
        var s = s
        if epi.accumulate {
            s = s.plus(V.load(p))
        } else {
            if let sc = epi.scale, let sh = epi.shift { s = s.scaled(V.load(sc + col), V.load(sh + col)) }
            s = vactivate(s, epi.activation)
        }
        s.store(p)
    }
}

/// The A and C row addresses of one tile; rows past `valid` repeat the last valid one.
public struct TileRows {
    public let a0, a1, a2, a3, a4, a5: UnsafePointer<Float>
    public let c0, c1, c2, c3, c4, c5: UnsafeMutablePointer<Float>

    @_transparent
    public init(_ valid: Int, _ r0: Int, a: (Int) -> UnsafeMutablePointer<Float>, c: (Int) -> UnsafeMutablePointer<Float>) {
        let last = valid - 1
        a0 = UnsafePointer(a(r0)); a1 = UnsafePointer(a(r0 + min(1, last))); a2 = UnsafePointer(a(r0 + min(2, last)))
        a3 = UnsafePointer(a(r0 + min(3, last))); a4 = UnsafePointer(a(r0 + min(4, last))); a5 = UnsafePointer(a(r0 + min(5, last)))
        c0 = c(r0); c1 = c(r0 + min(1, last)); c2 = c(r0 + min(2, last))
        c3 = c(r0 + min(3, last)); c4 = c(r0 + min(4, last)); c5 = c(r0 + min(5, last))
    }
}

/// The activation on every lane; NaN passes through (it is neither < 0 nor > m).
@_transparent
public func vactivate<V: FloatVector>(_ s: V, _ act: GemmEpilogue.Activation) -> V {
    switch act {
    case .none: return s
    case .relu: return s.relu()
    case .leaky(let alpha): return s.leaky(alpha)
    case .capped(let m): return s.capped(m)
    case .hardSwish: return s.hardSwish()
    }
}

/// The gradient g times act'(out), given the activation's output; NaN outputs count as not > 0.
@_transparent
public func vgradient<V: FloatVector>(_ g: V, through out: V, _ act: GemmEpilogue.Activation) -> V {
    switch act {
    case .none: return g
    case .relu: return g.reluGradient(out)
    case .leaky(let alpha): return g.leakyGradient(out, alpha)
    case .capped(let m): return g.cappedGradient(out, m)
    case .hardSwish: preconditionFailure("hard_swish is an inference epilogue only (Fusion.inferenceEpilogue)")
    }
}
