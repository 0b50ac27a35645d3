// The GEMM of the runtime's own kernels (the recurrent and attention layers), compiled here with
// run-time sizes. The runtime is compiled file by file (BuildDriver), and `Gemm.rows`' tiles,
// generic over FloatVector, stay generic when compiled here: every FMA would be a call through a
// protocol witness. This kernel uses the standard library's SIMD16<Float> directly, which
// compiles to vector instructions in any file.
//
//   C[r][0..<n] (op)= sum_{i < outer} sum_{j < inner} A_r[i*aOuter + j*aInner] * B[i*bOuter + j*bInner + 0..<n]
//
// The reduction and epilogue are Gemm.rows' (Kernels/Gemm.swift): sums from the bias or zero,
// stored, or added to C (`accumulate`); a scale, shift or activation is not offered (its callers
// never ask for one).
//
// Its callers' operands are strided (a recurrent layer's states sit a whole image's state apart,
// its weight gradients reduce over images and steps) and often larger than L2, so the kernel
// packs them, as BLIS does:
//   for each block of `kc` reduction steps        (the first applies the epilogue, the rest add)
//     pack B's rows, as panels of 16 x nv columns (read a row at a time, in order)
//     for each group of up to `groupBlocks` x 6 rows: pack A as [kc][6] per block of 6 rows
//       for each panel of 16 x nv columns:          B packed as [kc][16 nv] (L1-resident)
//         for each block of 6 rows: the micro-kernel, 6 x nv SIMD16 sums in registers
// The panel width follows the registers: 6 x 4 sums of 16 floats on AVX-512 (24 of 32 zmm);
// 6 x 1 on AVX2 (12 of 16 ymm) and NEON (24 of 32 q). A B used by many products (a recurrent
// kernel, at every step) can be packed once beforehand (`packRuntimeB`).
//
// Not packed: a lone row (one image's recurrent step), 128 columns at a time in eight sums
// straight from B on AVX-512 (64 in four elsewhere); and, unless B came packed, products of at
// most 6 rows or with B of at most `directLimit` floats, where packing costs more than it
// saves: blocks of 6 rows read A and B where they are.

extension Gemm {
    /// `packedB`: B as `packRuntimeB` left it (for several products with the same B, such as a
    /// recurrent kernel's at every step); B's strides in `red` then matter only for a lone row.
    /// C must not overlap A or B: a product packed in blocks of steps stores C before it has
    /// read all of A.
    public static func runtime(_ rows: Int, a: (Int) -> UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, n: Int,
                               c: (Int) -> UnsafeMutablePointer<Float>, _ red: GemmReduction, _ epi: GemmEpilogue = .store,
                               packedB: UnsafePointer<Float>? = nil) {
        precondition(!epi.isPointwise, "Gemm.runtime computes no scale, shift or activation")
        if rows == 1 {
            RuntimeGemm.loneRow(a(0), b: b, n: n, c: c(0), red, epi)
        } else if packedB != nil || RuntimeGemm.packs(rows, red, n: n) {
            RuntimeGemm.packed(rows, a: a, b: b, n: n, c: c, red, epi, packedB: packedB)
        } else if rows > 0 {
            RuntimeGemm.direct(rows, a: a, b: b, n: n, c: c, red, epi)
        }
    }

    /// The floats of B packed for Gemm.runtime: k x n, n rounded up to whole vectors.
    public static func runtimePackedFloats(k: Int, n: Int) -> Int { k * RuntimeGemm.paddedColumns(n) }

    /// B's first n columns under `red` (its k steps), packed in the order Gemm.runtime reads them:
    /// per block of kc steps (from k0 * n16 on), its panels one after another.
    public static func packRuntimeB(_ b: UnsafePointer<Float>, n: Int, _ red: GemmReduction, into out: UnsafeMutablePointer<Float>) {
        let k = red.outer * red.inner, n16 = RuntimeGemm.paddedColumns(n)
        for k0 in stride(from: 0, to: k, by: RuntimeGemm.kc) {
            RuntimeGemm.packBlock(b, red, k0, min(RuntimeGemm.kc, k - k0), n: n, RuntimeGemm.panelVectors, into: out + k0 * n16)
        }
    }
}

enum RuntimeGemm {
    typealias V = SIMD16<Float>
    /// Rows of the micro-kernel.
    static let mr = 6
    #if MODELC_ISA_AVX512
    /// SIMD16 columns of the widest panel, and the reduction steps of one block (a panel of B is
    /// kc x 16 panelVectors floats: 32 KB).
    static let panelVectors = 4, kc = 128
    /// SIMD16 sums of a lone row (8 zmm; on AVX2 and NEON, 4 take 8 ymm or 16 q). Wider forms than
    /// the family's (micro2/4, direct2/4, loneRow8 on AVX2 and NEON) are reached only by the tests.
    static let loneVectors = 8
    #else
    static let panelVectors = 1, kc = 256
    static let loneVectors = 4
    #endif

    /// Products whose B has at most this many floats (512 KB) are not packed (nor those of at most
    /// 6 rows, which read B only once): such a B stays in L2, and reading it where it is costs less
    /// than packing it (attention's per-head products and projections, a recurrent layer's input
    /// projection). Larger ones (weight gradients over a chunk's images and steps) are packed.
    static let directLimit = 131_072
    /// Whether Gemm.runtime packs an unpacked B for `rows` rows (else, for more than one row,
    /// the direct kernel, whose blocks of 6 rows give the same bits however the rows are grouped).
    static func packs(_ rows: Int, _ red: GemmReduction, n: Int) -> Bool { rows > mr && red.outer * red.inner * n > directLimit }

    /// `vectors` (4, 2 or 1) and `kc` are the family's; the tests also try the others'.
    static func packed(_ rows: Int, a: (Int) -> UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, n: Int,
                       c: (Int) -> UnsafeMutablePointer<Float>, _ red: GemmReduction, _ epi: GemmEpilogue,
                       packedB: UnsafePointer<Float>? = nil, vectors: Int = panelVectors, kc: Int = kc) {
        precondition(packedB == nil || (vectors == panelVectors && kc == RuntimeGemm.kc), "B was packed for the family's panels")
        let k = red.outer * red.inner, n16 = paddedColumns(n)
        guard k > 0 else { return direct(rows, a: a, b: b, n: n, c: c, red, epi) }   // bias or zeros (or C unchanged)
        // blocks of 6 rows sharing each packed panel of B (at most 96 KB of A), and the scratch
        // these rows and steps need
        let groupBlocks = min(max(1, 4096 / kc), (rows + mr - 1) / mr), steps = min(kc, k)
        // B, unless it came packed: one block of steps at a time, all its panels (on the heap:
        // up to kc x n floats)
        let bBlock = packedB == nil ? UnsafeMutablePointer<Float>.allocate(capacity: steps * n16) : nil
        defer { bBlock?.deallocate() }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: groupBlocks * mr * steps + mr * 16 * vectors) { scratch in
            let ap = scratch.baseAddress!, tile = ap + groupBlocks * mr * steps
            var k0 = 0
            repeat {
                let kb = min(kc, k - k0), blockEpi = k0 == 0 ? epi : GemmEpilogue.add
                if let bBlock { packBlock(b, red, k0, kb, n: n, vectors, into: bBlock) }
                let bPanels = bBlock.map { UnsafePointer($0) } ?? packedB! + k0 * n16
                var r0 = 0
                while r0 < rows {
                    let group = min(groupBlocks * mr, rows - r0)
                    packA(r0, group, a, red, k0, kb, into: ap)
                    forEachPanel(n, vectors) { col, width, padded in
                        let panel = bPanels + col * kb
                        for rowBlock in 0..<((group + mr - 1) / mr) {
                            micro(padded / 16, ap + rowBlock * mr * kb, panel, kb, tile)
                            store(tile, padded, min(mr, group - rowBlock * mr), width, r0 + rowBlock * mr, col, c, blockEpi)
                        }
                    }
                    r0 += group
                }
                k0 += kb
            } while k0 < k
        }
    }

    /// n rounded up to whole vectors: the floats of a step's row of packed B (all its panels).
    static func paddedColumns(_ n: Int) -> Int { (n + 15) / 16 * 16 }

    /// The column panels: body(first column, columns, columns rounded up to whole vectors), at
    /// most `vectors` vectors each.
    @inline(__always)
    static func forEachPanel(_ n: Int, _ vectors: Int, _ body: (Int, Int, Int) -> Void) {
        var col = 0
        while col < n {
            var nv = vectors   // the widest of 4, 2 and 1 vectors that the columns left fill, or 1
            while nv > 1 && n - col < 16 * nv { nv /= 2 }
            let width = min(16 * nv, n - col)
            body(col, width, 16 * nv)
            col += width
        }
    }

    /// Rows r0..<r0+count of A, reduction steps k0..<k0+kb, as blocks of 6 rows, each [kb][6]
    /// (rows past `count` repeat the last; their sums are never stored).
    static func packA(_ r0: Int, _ count: Int, _ a: (Int) -> UnsafeMutablePointer<Float>, _ red: GemmReduction, _ k0: Int, _ kb: Int,
                      into ap: UnsafeMutablePointer<Float>) {
        for blk in 0..<((count + mr - 1) / mr) {
            let first = r0 + blk * mr, last = r0 + count - 1
            let a0 = a(first), a1 = a(min(first + 1, last)), a2 = a(min(first + 2, last))
            let a3 = a(min(first + 3, last)), a4 = a(min(first + 4, last)), a5 = a(min(first + 5, last))
            var d = ap + blk * mr * kb, i = k0 / red.inner, j = k0 % red.inner
            for _ in 0..<kb {
                let o = i * red.aOuter + j * red.aInner
                d[0] = a0[o]; d[1] = a1[o]; d[2] = a2[o]; d[3] = a3[o]; d[4] = a4[o]; d[5] = a5[o]
                d += mr
                j += 1; if j == red.inner { j = 0; i += 1 }
            }
        }
    }

    /// B's reduction steps k0..<k0+kb, all n columns, as the panels of `forEachPanel` one after
    /// another (the panel at column col: [kb][16 nv] from col * kb, zeros past n), read a row of
    /// B at a time (rows a block of images apart stream in order).
    static func packBlock(_ b: UnsafePointer<Float>, _ red: GemmReduction, _ k0: Int, _ kb: Int, n: Int, _ vectors: Int,
                          into out: UnsafeMutablePointer<Float>) {
        var i = k0 / red.inner, j = k0 % red.inner
        for kk in 0..<kb {
            let row = b + i * red.bOuter + j * red.bInner
            forEachPanel(n, vectors) { col, width, padded in
                let src = row + col, dst = out + col * kb + kk * padded, full = width / 16
                // the whole vectors written out (as a loop, LLVM makes it a memcpy call per row)
                let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
                if full > 0 { d.storeBytes(of: s.loadUnaligned(as: V.self), as: V.self) }
                if full > 1 { d.storeBytes(of: s.loadUnaligned(fromByteOffset: 64, as: V.self), toByteOffset: 64, as: V.self) }
                if full > 2 { d.storeBytes(of: s.loadUnaligned(fromByteOffset: 128, as: V.self), toByteOffset: 128, as: V.self) }
                if full > 3 { d.storeBytes(of: s.loadUnaligned(fromByteOffset: 192, as: V.self), toByteOffset: 192, as: V.self) }
                for x in (16 * full)..<padded { dst[x] = x < width ? src[x] : 0 }
            }
            j += 1; if j == red.inner { j = 0; i += 1 }
        }
    }

    /// One row of the micro-kernel: nv SIMD16 sums (nv a literal where inlined).
    struct Sums {
        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
        @inline(__always) init() {}
        @inline(__always) mutating func add(_ nv: Int, _ a: Float, _ b0: V, _ b1: V, _ b2: V, _ b3: V) {
            s0.addProduct(b0, a)
            if nv > 1 { s1.addProduct(b1, a) }
            if nv > 2 { s2.addProduct(b2, a) }
            if nv > 3 { s3.addProduct(b3, a) }
        }
        /// C (+)= the sums (+ bias), nv vectors from p.
        @inline(__always) func finish(_ nv: Int, _ p: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>?, _ accumulate: Bool) {
            RuntimeGemm.finish(s0, p, bias, accumulate)
            if nv > 1 { RuntimeGemm.finish(s1, p + 16, bias.map { $0 + 16 }, accumulate) }
            if nv > 2 { RuntimeGemm.finish(s2, p + 32, bias.map { $0 + 32 }, accumulate) }
            if nv > 3 { RuntimeGemm.finish(s3, p + 48, bias.map { $0 + 48 }, accumulate) }
        }
        @inline(__always) func write(_ nv: Int, _ p: UnsafeMutablePointer<Float>) {
            let r = UnsafeMutableRawPointer(p)
            r.storeBytes(of: s0, as: V.self)
            if nv > 1 { r.storeBytes(of: s1, toByteOffset: 64, as: V.self) }
            if nv > 2 { r.storeBytes(of: s2, toByteOffset: 128, as: V.self) }
            if nv > 3 { r.storeBytes(of: s3, toByteOffset: 192, as: V.self) }
        }
    }

    /// tile [6][16 nv] = packed A [kb][6] x packed B [kb][16 nv]; nv 4, 2 or 1. One function per
    /// width, each with its body inlined (from a switch over the widths in one function, the
    /// inliner leaves one of them a call).
    static func micro(_ nv: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>, _ kb: Int, _ tile: UnsafeMutablePointer<Float>) {
        switch nv {
        case 4: micro4(ap, bp, kb, tile)
        case 2: micro2(ap, bp, kb, tile)
        default: micro1(ap, bp, kb, tile)
        }
    }
    @inline(never)
    static func micro4(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ kb: Int, _ t: UnsafeMutablePointer<Float>) {
        microBody(4, a, b, kb, t)
    }
    @inline(never)
    static func micro2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ kb: Int, _ t: UnsafeMutablePointer<Float>) {
        microBody(2, a, b, kb, t)
    }
    @inline(never)
    static func micro1(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ kb: Int, _ t: UnsafeMutablePointer<Float>) {
        microBody(1, a, b, kb, t)
    }

    @inline(__always)
    static func microBody(_ nv: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>, _ kb: Int,
                          _ tile: UnsafeMutablePointer<Float>) {
        var r0 = Sums(), r1 = Sums(), r2 = Sums(), r3 = Sums(), r4 = Sums(), r5 = Sums()
        var a = ap, b = UnsafeRawPointer(bp)
        for _ in 0..<kb {
            let b0 = b.loadUnaligned(as: V.self)
            let b1 = nv > 1 ? b.loadUnaligned(fromByteOffset: 64, as: V.self) : V()
            let b2 = nv > 2 ? b.loadUnaligned(fromByteOffset: 128, as: V.self) : V()
            let b3 = nv > 3 ? b.loadUnaligned(fromByteOffset: 192, as: V.self) : V()
            r0.add(nv, a[0], b0, b1, b2, b3); r1.add(nv, a[1], b0, b1, b2, b3); r2.add(nv, a[2], b0, b1, b2, b3)
            r3.add(nv, a[3], b0, b1, b2, b3); r4.add(nv, a[4], b0, b1, b2, b3); r5.add(nv, a[5], b0, b1, b2, b3)
            a += mr; b += 64 * nv
        }
        let w = 16 * nv
        r0.write(nv, tile); r1.write(nv, tile + w); r2.write(nv, tile + 2 * w)
        r3.write(nv, tile + 3 * w); r4.write(nv, tile + 4 * w); r5.write(nv, tile + 5 * w)
    }

    /// The tile's first `valid` rows and `width` columns into C rows r0... from column `col`.
    static func store(_ tile: UnsafeMutablePointer<Float>, _ padded: Int, _ valid: Int, _ width: Int, _ r0: Int, _ col: Int,
                      _ c: (Int) -> UnsafeMutablePointer<Float>, _ epi: GemmEpilogue) {
        let bias = epi.accumulate ? nil : epi.bias.map { $0 + col }
        for r in 0..<valid {
            let dst = c(r0 + r) + col, src = tile + r * padded
            var x = 0
            while width - x >= 16 {
                let s = V.loadFrom(src + x)
                finish(s, dst + x, bias.map { $0 + x }, epi.accumulate)
                x += 16
            }
            while x < width {
                dst[x] = src[x] + (epi.accumulate ? dst[x] : bias?[x] ?? 0)
                x += 1
            }
        }
    }

    /// Blocks of 6 rows straight from A and B (see directLimit): panels of up to `vectors`
    /// vectors, then single columns.
    static func direct(_ rows: Int, a: (Int) -> UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, n: Int,
                       c: (Int) -> UnsafeMutablePointer<Float>, _ red: GemmReduction, _ epi: GemmEpilogue, vectors: Int = panelVectors) {
        for r in stride(from: 0, to: rows, by: mr) {
            let valid = min(mr, rows - r), p = TileRows(valid, r, a: a, c: c)
            var col = 0
            while n - col >= 16 {
                var nv = vectors
                while n - col < 16 * nv { nv /= 2 }
                directBlock(nv, p, valid, b: b, col: col, red, epi)
                col += 16 * nv
            }
            for i in 0..<valid { column(a(r + i), b: b, from: col, to: n, c: c(r + i), red, epi) }
        }
    }

    /// nv 4, 2 or 1 (one function per width, as `micro`).
    static func directBlock(_ nv: Int, _ p: TileRows, _ valid: Int, b: UnsafePointer<Float>, col: Int,
                            _ red: GemmReduction, _ epi: GemmEpilogue) {
        switch nv {
        case 4: direct4(p, valid, b: b, col: col, red, epi)
        case 2: direct2(p, valid, b: b, col: col, red, epi)
        default: direct1(p, valid, b: b, col: col, red, epi)
        }
    }
    @inline(never)
    static func direct4(_ p: TileRows, _ valid: Int, b: UnsafePointer<Float>, col: Int, _ red: GemmReduction, _ epi: GemmEpilogue) {
        directBody(4, p, valid, b: b, col: col, red, epi)
    }
    @inline(never)
    static func direct2(_ p: TileRows, _ valid: Int, b: UnsafePointer<Float>, col: Int, _ red: GemmReduction, _ epi: GemmEpilogue) {
        directBody(2, p, valid, b: b, col: col, red, epi)
    }
    @inline(never)
    static func direct1(_ p: TileRows, _ valid: Int, b: UnsafePointer<Float>, col: Int, _ red: GemmReduction, _ epi: GemmEpilogue) {
        directBody(1, p, valid, b: b, col: col, red, epi)
    }

    /// Rows p (the first `valid` stored) x 16 nv columns from `col` (nv a literal).
    @inline(__always)
    static func directBody(_ nv: Int, _ p: TileRows, _ valid: Int, b: UnsafePointer<Float>, col: Int,
                           _ red: GemmReduction, _ epi: GemmEpilogue) {
        var r0 = Sums(), r1 = Sums(), r2 = Sums(), r3 = Sums(), r4 = Sums(), r5 = Sums()
        for i in 0..<red.outer {
            let ai = i * red.aOuter, bi = b + col + i * red.bOuter
            for j in 0..<red.inner {
                let o = ai + j * red.aInner, bp = UnsafeRawPointer(bi + j * red.bInner)
                let b0 = bp.loadUnaligned(as: V.self)
                let b1 = nv > 1 ? bp.loadUnaligned(fromByteOffset: 64, as: V.self) : V()
                let b2 = nv > 2 ? bp.loadUnaligned(fromByteOffset: 128, as: V.self) : V()
                let b3 = nv > 3 ? bp.loadUnaligned(fromByteOffset: 192, as: V.self) : V()
                r0.add(nv, p.a0[o], b0, b1, b2, b3); r1.add(nv, p.a1[o], b0, b1, b2, b3); r2.add(nv, p.a2[o], b0, b1, b2, b3)
                r3.add(nv, p.a3[o], b0, b1, b2, b3); r4.add(nv, p.a4[o], b0, b1, b2, b3); r5.add(nv, p.a5[o], b0, b1, b2, b3)
            }
        }
        let bias = epi.accumulate ? nil : epi.bias.map { $0 + col }
        r0.finish(nv, p.c0 + col, bias, epi.accumulate)
        if valid > 1 { r1.finish(nv, p.c1 + col, bias, epi.accumulate) }
        if valid > 2 { r2.finish(nv, p.c2 + col, bias, epi.accumulate) }
        if valid > 3 { r3.finish(nv, p.c3 + col, bias, epi.accumulate) }
        if valid > 4 { r4.finish(nv, p.c4 + col, bias, epi.accumulate) }
        if valid > 5 { r5.finish(nv, p.c5 + col, bias, epi.accumulate) }
    }

    /// Columns from..<to of one row, one sum each.
    static func column(_ a: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, from: Int, to: Int, c: UnsafeMutablePointer<Float>,
                       _ red: GemmReduction, _ epi: GemmEpilogue) {
        let bias = epi.accumulate ? nil : epi.bias
        for col in from..<to {
            var s = bias?[col] ?? 0
            for i in 0..<red.outer {
                for j in 0..<red.inner { s += a[i * red.aOuter + j * red.aInner] * b[i * red.bOuter + j * red.bInner + col] }
            }
            c[col] = epi.accumulate ? c[col] + s : s
        }
    }

    /// C[0..<n] (op)= A_0 B, unpacked: 128 columns at a time in eight sums (AVX-512; 64 in four
    /// elsewhere), then 64, 32 and 16 in four, two and one, then single columns.
    static func loneRow(_ a: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, n: Int, c: UnsafeMutablePointer<Float>,
                        _ red: GemmReduction, _ epi: GemmEpilogue, widest: Int = loneVectors) {
        var col = 0
        var nv = widest
        while nv > 0 {
            while n - col >= 16 * nv { loneRowVectors(nv, a, b: b, col: col, c: c, red, epi); col += 16 * nv }
            nv /= 2
        }
        column(a, b: b, from: col, to: n, c: c, red, epi)
    }

    /// nv 8, 4, 2 or 1 (one function per width, as `micro`).
    static func loneRowVectors(_ nv: Int, _ a: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, col: Int, c: UnsafeMutablePointer<Float>,
                               _ red: GemmReduction, _ epi: GemmEpilogue) {
        switch nv {
        case 8: loneRow8(a, b: b, col: col, c: c, red, epi)
        case 4: loneRow4(a, b: b, col: col, c: c, red, epi)
        case 2: loneRow2(a, b: b, col: col, c: c, red, epi)
        default: loneRow1(a, b: b, col: col, c: c, red, epi)
        }
    }
    @inline(never)
    static func loneRow8(_ a: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, col: Int, c: UnsafeMutablePointer<Float>,
                         _ red: GemmReduction, _ epi: GemmEpilogue) {
        loneRowBody(8, a, b: b, col: col, c: c, red, epi)
    }
    @inline(never)
    static func loneRow4(_ a: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, col: Int, c: UnsafeMutablePointer<Float>,
                         _ red: GemmReduction, _ epi: GemmEpilogue) {
        loneRowBody(4, a, b: b, col: col, c: c, red, epi)
    }
    @inline(never)
    static func loneRow2(_ a: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, col: Int, c: UnsafeMutablePointer<Float>,
                         _ red: GemmReduction, _ epi: GemmEpilogue) {
        loneRowBody(2, a, b: b, col: col, c: c, red, epi)
    }
    @inline(never)
    static func loneRow1(_ a: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, col: Int, c: UnsafeMutablePointer<Float>,
                         _ red: GemmReduction, _ epi: GemmEpilogue) {
        loneRowBody(1, a, b: b, col: col, c: c, red, epi)
    }

    /// 16 nv columns from `col` of the lone row: nv independent SIMD16 sums (nv a literal).
    @inline(__always)
    static func loneRowBody(_ nv: Int, _ a: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, col: Int, c: UnsafeMutablePointer<Float>,
                            _ red: GemmReduction, _ epi: GemmEpilogue) {
        let bias = epi.accumulate ? nil : epi.bias.map { $0 + col }
        func start(_ v: Int) -> V { nv > v ? bias.map { V.loadFrom($0 + 16 * v) } ?? V() : V() }
        var s0 = start(0), s1 = start(1), s2 = start(2), s3 = start(3), s4 = start(4), s5 = start(5), s6 = start(6), s7 = start(7)
        for i in 0..<red.outer {
            let ai = i * red.aOuter, bi = b + col + i * red.bOuter
            for j in 0..<red.inner {
                let x = a[ai + j * red.aInner], bp = bi + j * red.bInner
                s0.addProduct(V.loadFrom(bp), x)
                if nv > 1 { s1.addProduct(V.loadFrom(bp + 16), x) }
                if nv > 2 { s2.addProduct(V.loadFrom(bp + 32), x); s3.addProduct(V.loadFrom(bp + 48), x) }
                if nv > 4 {
                    s4.addProduct(V.loadFrom(bp + 64), x); s5.addProduct(V.loadFrom(bp + 80), x)
                    s6.addProduct(V.loadFrom(bp + 96), x); s7.addProduct(V.loadFrom(bp + 112), x)
                }
            }
        }
        let p = c + col, acc = epi.accumulate
        finish(s0, p, nil, acc)
        if nv > 1 { finish(s1, p + 16, nil, acc) }
        if nv > 2 { finish(s2, p + 32, nil, acc); finish(s3, p + 48, nil, acc) }
        if nv > 4 {
            finish(s4, p + 64, nil, acc); finish(s5, p + 80, nil, acc); finish(s6, p + 96, nil, acc); finish(s7, p + 112, nil, acc)
        }
    }

    /// c = s (+ bias), or c += s.
    @inline(__always)
    static func finish(_ s: V, _ c: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>?, _ accumulate: Bool) {
        let v = accumulate ? s + V.loadFrom(c) : bias.map { s + V.loadFrom($0) } ?? s
        UnsafeMutableRawPointer(c).storeBytes(of: v, as: V.self)
    }
}

extension SIMD16 where Scalar == Float {
    @inline(__always)
    static func loadFrom(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
}
