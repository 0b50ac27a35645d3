// The GEMM of the runtime's own kernels (the recurrent and attention layers), compiled here with
// run-time sizes. The runtime is compiled file by file (BuildDriver), and `Gemm.rows`' tiles,
// generic over FloatVector, stay generic when compiled here: every FMA would be a call through a
// protocol witness. This kernel uses the standard library's
// SIMD16<Float> directly, which compiles to vector instructions in any file: 4 rows x 32
// columns of sums in registers, then 16 columns, then single columns. A lone row (one image's
// recurrent step, or the last of rows not a multiple of 4) takes 128 columns at a time in eight
// sums first: the 4-row block would compute it four times over, in chains as long.
//
//   C[r][0..<n] (op)= sum_{i < outer} sum_{j < inner} A_r[i*aOuter + j*aInner] * B[i*bOuter + j*bInner + 0..<n]
//
// The reduction and epilogue are Gemm.rows' (Kernels/Gemm.swift): sums from the bias or zero,
// stored, or added to C (`accumulate`); a scale, shift or activation is not offered (its callers
// never ask for one).

extension Gemm {
    public static func runtime(_ rows: Int, a: (Int) -> UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, n: Int,
                               c: (Int) -> UnsafeMutablePointer<Float>, _ red: GemmReduction, _ epi: GemmEpilogue = .store) {
        precondition(!epi.isPointwise, "Gemm.runtime computes no scale, shift or activation")
        var r = 0
        while r < rows {
            // Gemm.rows' row addresses, of which the first 4 are used (past `valid` they repeat the last)
            let valid = min(rows - r, 4), p = TileRows(valid, r, a: a, c: c)
            var col = 0
            if valid == 1 { while n - col >= 128 { runtimeRow(p, b: b, col: col, red, epi); col += 128 } }
            while n - col >= 32 { runtimeBlock(32, p, valid, b: b, col: col, red, epi); col += 32 }
            if n - col >= 16 { runtimeBlock(16, p, valid, b: b, col: col, red, epi); col += 16 }
            while col < n { runtimeColumn(p, valid, b: b, col: col, red, epi); col += 1 }
            r += 4
        }
    }

    /// Rows p (the first `valid` stored) of 16 or 32 (`width`) columns from `col`: two SIMD16
    /// sums per row, the second unused at width 16.
    @inline(never)
    static func runtimeBlock(_ width: Int, _ p: TileRows, _ valid: Int, b: UnsafePointer<Float>, col: Int, _ red: GemmReduction, _ epi: GemmEpilogue) {
        typealias V = SIMD16<Float>
        let two = width == 32
        let bias = epi.accumulate ? nil : epi.bias
        let z0 = bias.map { V.loadFrom($0 + col) } ?? V(), z1 = two ? bias.map { V.loadFrom($0 + col + 16) } ?? V() : V()
        var s00 = z0, s01 = z1, s10 = z0, s11 = z1, s20 = z0, s21 = z1, s30 = z0, s31 = z1
        for i in 0..<red.outer {
            let ai = i * red.aOuter, bi = b + col + i * red.bOuter
            for j in 0..<red.inner {
                let o = ai + j * red.aInner, bp = bi + j * red.bInner
                let b0 = V.loadFrom(bp)
                s00.addProduct(b0, p.a0[o]); s10.addProduct(b0, p.a1[o]); s20.addProduct(b0, p.a2[o]); s30.addProduct(b0, p.a3[o])
                if two {
                    let b1 = V.loadFrom(bp + 16)
                    s01.addProduct(b1, p.a0[o]); s11.addProduct(b1, p.a1[o]); s21.addProduct(b1, p.a2[o]); s31.addProduct(b1, p.a3[o])
                }
            }
        }
        func store(_ c: UnsafeMutablePointer<Float>, _ lo: V, _ hi: V) {
            finish(lo, c + col, epi)
            if two { finish(hi, c + col + 16, epi) }
        }
        store(p.c0, s00, s01)
        if valid > 1 { store(p.c1, s10, s11) }
        if valid > 2 { store(p.c2, s20, s21) }
        if valid > 3 { store(p.c3, s30, s31) }
    }

    /// Row p.a0 alone, 128 columns from `col`: eight independent SIMD16 sums.
    @inline(never)
    static func runtimeRow(_ p: TileRows, b: UnsafePointer<Float>, col: Int, _ red: GemmReduction, _ epi: GemmEpilogue) {
        typealias V = SIMD16<Float>
        let bias = epi.accumulate ? nil : epi.bias.map { $0 + col }
        func start(_ k: Int) -> V { bias.map { V.loadFrom($0 + 16 * k) } ?? V() }
        var s0 = start(0), s1 = start(1), s2 = start(2), s3 = start(3), s4 = start(4), s5 = start(5), s6 = start(6), s7 = start(7)
        for i in 0..<red.outer {
            let ai = i * red.aOuter, bi = b + col + i * red.bOuter
            for j in 0..<red.inner {
                let x = p.a0[ai + j * red.aInner], bp = bi + j * red.bInner
                s0.addProduct(V.loadFrom(bp), x); s1.addProduct(V.loadFrom(bp + 16), x)
                s2.addProduct(V.loadFrom(bp + 32), x); s3.addProduct(V.loadFrom(bp + 48), x)
                s4.addProduct(V.loadFrom(bp + 64), x); s5.addProduct(V.loadFrom(bp + 80), x)
                s6.addProduct(V.loadFrom(bp + 96), x); s7.addProduct(V.loadFrom(bp + 112), x)
            }
        }
        let c = p.c0 + col
        finish(s0, c, epi); finish(s1, c + 16, epi); finish(s2, c + 32, epi); finish(s3, c + 48, epi)
        finish(s4, c + 64, epi); finish(s5, c + 80, epi); finish(s6, c + 96, epi); finish(s7, c + 112, epi)
    }

    /// One column of rows p (the first `valid` stored).
    @inline(never)
    static func runtimeColumn(_ p: TileRows, _ valid: Int, b: UnsafePointer<Float>, col: Int, _ red: GemmReduction, _ epi: GemmEpilogue) {
        let start: Float = epi.accumulate ? 0 : epi.bias.map { $0[col] } ?? 0
        var s0 = start, s1 = start, s2 = start, s3 = start
        for i in 0..<red.outer {
            for j in 0..<red.inner {
                let o = i * red.aOuter + j * red.aInner, v = b[col + i * red.bOuter + j * red.bInner]
                s0 += p.a0[o] * v; s1 += p.a1[o] * v; s2 += p.a2[o] * v; s3 += p.a3[o] * v
            }
        }
        func store(_ c: UnsafeMutablePointer<Float>, _ s: Float) { c[col] = epi.accumulate ? c[col] + s : s }
        store(p.c0, s0)
        if valid > 1 { store(p.c1, s1) }
        if valid > 2 { store(p.c2, s2) }
        if valid > 3 { store(p.c3, s3) }
    }

    @inline(__always)
    static func finish(_ s: SIMD16<Float>, _ c: UnsafeMutablePointer<Float>, _ epi: GemmEpilogue) {
        let v = epi.accumulate ? s + SIMD16<Float>.loadFrom(c) : s
        UnsafeMutableRawPointer(c).storeBytes(of: v, as: SIMD16<Float>.self)
    }
}

extension SIMD16 where Scalar == Float {
    @inline(__always)
    static func loadFrom(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
}
