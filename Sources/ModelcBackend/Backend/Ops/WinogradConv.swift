// Winograd F(m x m, r x r): an r x r stride-1 'valid' correlation of a padded image (Lavin &
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2015). Conv2DEmitter uses it in
// place of the direct row kernel when `tile` finds a tile size (F(4x4, 3x3), F(3x3, 5x5)) and
// the model is emitted with `winograd: true`: for the batch forward (inference, with a folded
// BatchNorm, and training), and for the input gradient of a 'same'-like layer, which is the
// correlation of the zero-bordered dy with the flipped kernel.
//
//   The output is cut into m x m tiles; tile (ty, tx) reads the n x n window d (n = m + r - 1)
//   of the padded input at (m ty, m tx) (rows/columns past the padded image read as zero when
//   the output size is not a multiple of m). With xi = n i + j indexing the transformed positions:
//     V[xi][tile][ci]  = (B^T d B)[i][j]         per input channel (SIMD over CI)
//     U[xi][ci][co]    = (G g G^T)[i][j]         g = W[:, :, ci, co], once per forward / backward call
//     M[xi]            = V[xi] x U[xi]           n^2 GEMMs [tiles, CI] x [CI, CO] (the runtime's Gemm)
//     y[m ty + a][m tx + b] = (A^T M A)[a][b]    then bias or folded BatchNorm, activation
//   A^T [m, n], G [n, r] and B^T [n, n] come from Cook-Toom (WinogradMatrices below); each 2-D
//   transform is two passes of straight-line 1-D code with those constants (WinogradCode),
//   through a per-thread n x n x 16 tile h. n^2 multiplies per tile and channel pair instead
//   of the direct form's m^2 r^2. The sums are regrouped, so outputs differ from the direct
//   form by rounding only (tests: relative 1e-5).
//   Training: the forward is Winograd and the backward differentiates the convolution itself
//   (dW direct; dx Winograd or direct), so gradients match the direct form's up to rounding
//   (tests: SemanticsTests.testWinogradMatchesDirect, the Keras fixtures, finite differences).
//   Tiles go R at a time (at most 12, `block`); a block's V and M (n^2 x R x CI and
//   n^2 x R x CO floats, per thread) stay in cache from the input transform to the output one.

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

/// Straight-line SIMD16 code for the transforms' small matrix products. Coefficients +-1 become
/// additions and subtractions, others fused multiply-adds (`addingProduct`) with SIMD16
/// constants; every operand is a SIMD16 value, so swiftc type-checks the chains quickly (float
/// literals in them take seconds). The constants used are collected and declared by `flush`.
final class WinogradCode {
    /// Keyed by the Float value: coefficients equal in real arithmetic may differ in Double.
    private(set) var constants = Set<Float>()

    /// `sum_k coefficients[k] * terms[k]` ("SIMD16<Float>()" when every coefficient is zero).
    func combination(_ coefficients: [Double], _ terms: [String]) -> String {
        let nonzero = zip(coefficients, terms).filter { $0.0 != 0 }
        var e = ""
        for (c, t) in nonzero where abs(c) == 1 { e += e.isEmpty ? (c < 0 ? "-\(t)" : t) : (c < 0 ? " - \(t)" : " + \(t)") }
        for (c, t) in nonzero where abs(c) != 1 {
            constants.insert(Float(c))
            e = e.isEmpty ? "\(t) * \(WinogradCode.constantName(c))" : "(\(e)).addingProduct(\(t), \(WinogradCode.constantName(c)))"
        }
        return e.isEmpty ? "SIMD16<Float>()" : e
    }

    /// Emits `let <out>i = sum_k m[i][k] * x[k]` for every row i (returns the names), sharing the
    /// work that the interpolation points p and -p make common:
    ///   inputs j < j' with |m[i][j]| == |m[i][j']| in every row: x_j + x_j' and x_j - x_j' once,
    ///     then each row reads one of them (m[i][j] x_j + m[i][j'] x_j' = m[i][j] (x_j +- x_j'));
    ///   rows a < b with |m[a][k]| == |m[b][k]| for every k: E (the terms where they agree) and
    ///     O (where they are opposite) once, then out_a = E + O and out_b = E - O.
    func product(_ w: CodeWriter, _ m: [[Double]], _ x: [String], out: String) -> [String] {
        var m = m, x = x
        let cols = x.count
        var paired = Set<Int>()
        for j in 0..<cols where !paired.contains(j) {
            for j2 in (j + 1)..<cols where !paired.contains(j2) {
                let same = m.allSatisfy { abs($0[j]) == abs($0[j2]) }
                let used = m.filter { $0[j] != 0 }.count
                guard same, used >= 2 else { continue }
                let needSum = m.contains { $0[j] != 0 && $0[j] == $0[j2] }
                let needDiff = m.contains { $0[j] != 0 && $0[j] == -$0[j2] }
                let sum = "\(out)s\(j)", diff = "\(out)d\(j)"
                if needSum { w.line("let \(sum) = \(x[j]) + \(x[j2])") }
                if needDiff { w.line("let \(diff) = \(x[j]) - \(x[j2])") }
                // column j now reads the sum where the row agrees, a new column the difference
                x.append(diff)
                for i in m.indices {
                    let agree = m[i][j] == m[i][j2]
                    m[i].append(agree ? 0 : m[i][j])
                    if !agree { m[i][j] = 0 }
                    m[i][j2] = 0
                }
                x[j] = sum
                paired.formUnion([j, j2])
                break
            }
        }
        var names = m.indices.map { "\(out)\($0)" }
        var done = Set<Int>()
        for a in m.indices where !done.contains(a) {
            for b in (a + 1)..<m.count where !done.contains(b) {
                guard m[a].indices.allSatisfy({ abs(m[a][$0]) == abs(m[b][$0]) }) else { continue }
                let e = m[a].indices.map { m[a][$0] == m[b][$0] ? m[a][$0] : 0 }
                let o = m[a].indices.map { m[a][$0] == -m[b][$0] ? m[a][$0] : 0 }
                guard e.contains(where: { $0 != 0 }) && o.contains(where: { $0 != 0 }) else { continue }
                w.line("let \(out)e\(a) = \(combination(e, x)), \(out)o\(a) = \(combination(o, x))")
                w.line("let \(names[a]) = \(out)e\(a) + \(out)o\(a), \(names[b]) = \(out)e\(a) - \(out)o\(a)")
                done.formUnion([a, b])
                break
            }
            if !done.contains(a) {
                let e = combination(m[a], x)
                if x.contains(e) { names[a] = e } else { w.line("let \(names[a]) = \(e)") }
                done.insert(a)
            }
        }
        return names
    }

    /// "c2_5" for 2.5, "cm4" for -4: the SIMD16 constant holding a coefficient.
    static func constantName(_ value: Double) -> String { constantName(Float(value)) }

    static func constantName(_ value: Float) -> String {
        var text = "\(value)"
        if text.hasSuffix(".0") { text.removeLast(2) }
        return "c" + text.replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "m")
    }

    /// Declares the constants used so far, then appends `body`.
    func flush(_ w: CodeWriter, _ body: CodeWriter) {
        for k in constants.sorted() { w.line("let \(WinogradCode.constantName(k)) = SIMD16<Float>(repeating: \(k))") }
        w.append(body)
    }
}

struct WinogradConv {
    let g: ConvGeometry
    let co: Int
    let prefix: String
    let t: WinogradMatrices

    /// The output tile size m for an r x r kernel, or nil when the layer does not qualify:
    /// stride 1, square 3x3 or 5x5 kernel, padded input exactly output + r - 1, channel counts
    /// in whole SIMD16 vectors (the transforms run 16 lanes wide), output at least m x m.
    /// F(4x4, 3x3) and F(3x3, 5x5): n = 6 and 7, 4x and 4.6x fewer multiplies than the direct
    /// form; measured against direct on the same inputs, outputs differ by about 1e-6 relative
    /// (SemanticsTests). Larger tiles would need points beyond +-2 and +-1/2 and lose accuracy.
    static func tile(_ g: ConvGeometry, filters co: Int) -> Int? {
        guard g.kh == g.kw, g.kh == 3 || g.kh == 5, g.sh == 1, g.sw == 1, g.c % 16 == 0, co % 16 == 0,
              g.hp == g.oh + g.kh - 1, g.wp == g.ow + g.kw - 1 else { return nil }
        let m = g.kh == 3 ? 4 : 3
        return g.oh >= m && g.ow >= m ? m : nil
    }

    /// `prefix` names the buffers and functions (`<prefix>ForwardTiles`, `<prefix>WinogradWeights`);
    /// `kernel` overrides the tile function's name.
    init?(g: ConvGeometry, co: Int, prefix: String, kernel: String? = nil) {
        guard let m = WinogradConv.tile(g, filters: co) else { return nil }
        self.g = g; self.co = co; self.prefix = prefix
        kernelName = kernel ?? "\(prefix)ForwardTiles"
        t = WinogradMatrices(m: m, r: g.kh)
    }

    var form: String { "F(\(t.m)x\(t.m), \(t.r)x\(t.r))" }
    var tilesH: Int { (g.oh + t.m - 1) / t.m }
    var tilesW: Int { (g.ow + t.m - 1) / t.m }
    var tiles: Int { tilesH * tilesW }
    /// Floats from U[xi] to U[xi + 1]: CI x CO plus one cache line, so that the n^2 matrices
    /// (CI x CO x 4 bytes is a multiple of 1 KiB, often of 4 KiB) do not all map to the same L1
    /// sets (in a one-image experiment, seed 002's four U transforms fell from 56% to 27% of the
    /// samples with it).
    var uStride: Int { g.c * co + 16 }
    /// Single-image inference uses the tiles from this many on (seed 002's 28x28 conv2d_2 has
    /// 49: batch-1 latency 0.264 -> 0.238 ms, 16-run medians): with fewer, each U value feeds
    /// too few multiplies to pay for reading U (n^2 x CI x CO floats, from beyond L2 when all
    /// layers' U do not fit), and the direct row kernels are faster (at 16, seed 002's two 14x14
    /// layers too: 0.245 -> 0.266 ms).
    static let singleImageMinimumTiles = 32
    /// Tiles per GEMM block: two of the Gemm's 6-row tiles, so that only an image's last block
    /// has a partial tile (each block streams all of U; a 10-tile block would compute 12).
    var block: Int { min(2 * ConvLowering.rowsPerBlock, tiles) }
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
        let ci = g.c, n = t.n, r = t.r, nn = n * n
        let source = "\(prefix)wsrc", count = r * r * ci * co
        if cached {
            m.buffer(source, perImage: 0, fixed: count, "\(name) the kernel U was computed from (bit-compared before single-image inference)")
            m.serialFunction(weightsName + "IfChanged", comment: "\(name): U = G g G^T unless the kernel equals (bit for bit) the one U was made from") { w in
                w.line("let wk = \(kernel)")
                w.block("for i in 0..<\(count) where wk[i].bitPattern != \(source)[i].bitPattern") {
                    w.line("\(weightsName)()")
                    w.line("return")
                }
            }
        }
        m.buffer(u, perImage: 0, fixed: nn * uStride, "\(name) Winograd kernel U = G g G^T [\(nn), CI, CO] (each xi \(uStride) floats apart)")
        m.buffer(v, perImage: 0, perChunk: nn * block * ci, "\(name) Winograd input tiles V = B^T d B of one block [\(nn), \(block), CI] (per thread)")
        m.buffer(mm, perImage: 0, perChunk: nn * block * co, "\(name) Winograd products M = V x U of one block [\(nn), \(block), CO] (per thread)")
        m.buffer(half, perImage: 0, perChunk: n * n * 16, "\(name) Winograd half-transformed tile, 16 channels [\(n), \(n), 16] (per thread)")
        m.serialFunction(weightsName, comment: "\(name): U[xi][ci][co] = (G g G^T)[xi / \(n)][xi % \(n)], g = W[:, :, ci, co] (Winograd \(form))") { w in
            w.line("let wk = \(kernel), h = \(half)")
            let code = WinogradCode(), body = CodeWriter()
            body.block("for ci in 0..<\(ci)") {
                body.block("for c0 in stride(from: 0, to: \(co), by: 16)") {
                    body.line("// G g: kernel column kw -> h[0..<\(n)][kw]")
                    body.block("for kw in 0..<\(r)") {
                        for kh in 0..<r { body.line("let g\(kh) = ld16(wk + (\(kh * r) + kw) * \(ci * co) + ci * \(co) + c0)") }
                        for (i, e) in code.product(body, t.g, (0..<r).map { "g\($0)" }, out: "gg").enumerated() {
                            body.line("st16(h + (\(i * n) + kw) * 16, \(e))")
                        }
                    }
                    body.line("// (G g) G^T: row i -> U[i][0..<\(n)]")
                    body.block("for i in 0..<\(n)") {
                        for k in 0..<r { body.line("let h\(k) = ld16(h + (i * \(n) + \(k)) * 16)") }
                        for (j, e) in code.product(body, t.g, (0..<r).map { "h\($0)" }, out: "u").enumerated() {
                            body.line("st16(\(u) + (i * \(n) + \(j)) * \(uStride) + ci * \(co) + c0, \(e))")
                        }
                    }
                }
            }
            code.flush(w, body)
            if cached { w.line("\(source).update(from: wk, count: \(count))") }
        }
    }

    /// The body of `ForwardTiles(x, y, q0, q1, t)`: tiles q0..<q1 of the image whose padded input
    /// is at x, written to y in layout `out`, up to `block` tiles at a time (the block's V x U
    /// products are calls of the runtime's Gemm). The caller declares bias, or sc/sh for a folded BatchNorm. Each 2-D
    /// transform runs as two 1-D passes through the per-thread tile h (few live registers,
    /// short code: swiftc compiles it quickly).
    func emitKernelBody(_ w: CodeWriter, out: PixelLayout, bias: String?, scale: String?, shift: String?,
                        epilogue: EpilogueActivation) {
        let ci = g.c, r = block, n = t.n, tm = t.m, nn = n * n
        // The last tile row (column) reads window rows from `lastRowIn` on past the padded image
        // and stores output rows from `lastRowOut` on past the output (none when they divide).
        let lastRowIn = g.hp - (tilesH - 1) * tm, lastColIn = g.wp - (tilesW - 1) * tm
        let lastRowOut = g.oh - (tilesH - 1) * tm, lastColOut = g.ow - (tilesW - 1) * tm
        w.line("let v = \(v) + t * \(nn * r * ci), mm = \(mm) + t * \(nn * r * co), h = \(half) + t * \(nn * 16)")
        let code = WinogradCode(), body = CodeWriter()
        func emitTiles(_ w: CodeWriter) {
            let q = "q", rows = "rows"
            w.line("var q = q0")
            w.block("while q < q1") {
                w.line("let rows = min(\(r), q1 - q)")
                // 1. input transform: V[xi][i] for the block's tiles
                w.block("for i in 0..<\(rows)") {
                    w.line("let tile = \(q) + i, ty = tile / \(tilesW), tx = tile % \(tilesW)")
                    if lastRowIn < n { w.line("let rowIn = ty < \(tilesH - 1)   // the last tile row's window ends past the image") }
                    if lastColIn < n { w.line("let colIn = tx < \(tilesW - 1)") }
                    w.line("let d = x + (ty * \(tm * g.wp) + tx * \(tm)) * \(ci)")
                    w.line("let vi = v + i * \(ci)")
                    w.block("for c0 in stride(from: 0, to: \(ci), by: 16)") {
                        w.line("// B^T d: window column cc -> h[0..<\(n)][cc]")
                        w.block("for cc in 0..<\(n)") {
                            if lastColIn < n { w.line("let inside = colIn || cc < \(lastColIn)") }
                            for rr in 0..<n {
                                let guards = (lastColIn < n ? ["inside"] : []) + (rr >= lastRowIn ? ["rowIn"] : [])
                                let load = "ld16(d + (\(rr * g.wp) + cc) * \(ci) + c0)"
                                w.line("let d\(rr) = \(guards.isEmpty ? load : "\(guards.joined(separator: " && ")) ? \(load) : SIMD16<Float>()")")
                            }
                            for (i, e) in code.product(w, t.bt, (0..<n).map { "d\($0)" }, out: "b").enumerated() {
                                w.line("st16(h + (\(i * n) + cc) * 16, \(e))")
                            }
                        }
                        w.line("// (B^T d) B: row i -> V[i][0..<\(n)]")
                        w.block("for i in 0..<\(n)") {
                            for k in 0..<n { w.line("let h\(k) = ld16(h + (i * \(n) + \(k)) * 16)") }
                            for (j, e) in code.product(w, t.bt, (0..<n).map { "h\($0)" }, out: "b").enumerated() {
                                w.line("st16(vi + (i * \(n) + \(j)) * \(r * ci) + c0, \(e))")
                            }
                        }
                    }
                }
                // 2. M[xi] = V[xi] x U[xi], n^2 GEMMs of [rows, CI] x [CI, CO]
                w.block("for xi in 0..<\(nn)") {
                    w.line("let vx = v + xi * \(r * ci), mx = mm + xi * \(r * co), ux = \(u) + xi * \(uStride)")
                    RowGemm(rows: rows, aRow: { "vx + \($0) * \(ci)" }, cRow: { "mx + \($0) * \(co)" },
                            k: ci, b: "ux", ldb: co, n: co).emit(w)
                }
                // 3. output transform Y = A^T M A, epilogue, store the tile's m x m pixels
                w.block("for i in 0..<\(rows)") {
                    w.line("let tile = \(q) + i, ty = tile / \(tilesW), tx = tile % \(tilesW)")
                    w.line("let yo = y + \(out.offset) + ty * \(tm * out.rowStride) + tx * \(tm * out.channels)")
                    w.line("let mi = mm + i * \(co)")
                    if lastRowOut < tm { w.line("let rowOut = ty < \(tilesH - 1)   // the last tile row has \(lastRowOut) output rows") }
                    if lastColOut < tm { w.line("let colOut = tx < \(tilesW - 1)") }
                    w.block("for c0 in stride(from: 0, to: \(co), by: 16)") {
                        w.line("// A^T M: column cc -> h[0..<\(tm)][cc]")
                        w.block("for cc in 0..<\(n)") {
                            for rr in 0..<n { w.line("let m\(rr) = ld16(mi + (\(rr * n) + cc) * \(r * co) + c0)") }
                            for (a, e) in code.product(w, t.at, (0..<n).map { "m\($0)" }, out: "a").enumerated() {
                                w.line("st16(h + (\(a * n) + cc) * 16, \(e))")
                            }
                        }
                        let pre = bias.map { "ld16(\($0) + c0)" }
                        let mutated = pre != nil || scale != nil || epilogue != .none
                        if let p = pre { w.line("let bv = \(p)") }
                        if let sc = scale, let sh = shift { w.line("let scv = ld16(\(sc) + c0), shv = ld16(\(sh) + c0)") }
                        w.line("// (A^T M) A: row a -> output row a, then the epilogue")
                        w.block("for a in 0..<\(tm)") {
                            if lastRowOut < tm { w.line("if !rowOut && a >= \(lastRowOut) { break }") }
                            for k in 0..<n { w.line("let s\(k) = ld16(h + (a * \(n) + \(k)) * 16)") }
                            for (b, e) in code.product(w, t.at, (0..<n).map { "s\($0)" }, out: "z").enumerated() {
                                w.line("\(mutated ? "var" : "let") y\(b) = \(e)")
                                if pre != nil { w.line("y\(b) += bv") }
                                if scale != nil { w.line("y\(b) = y\(b) * scv + shv") }
                                if let e = SIMDText.epilogue(16, "y\(b)", epilogue) { w.line(e) }
                                let store = "st16(yo + a * \(out.rowStride) + \(b * out.channels) + c0, y\(b))"
                                w.line(b >= lastColOut ? "if colOut { \(store) }" : store)
                            }
                        }
                    }
                }
                w.line("q += rows")
            }
        }
        emitTiles(body)
        code.flush(w, body)
    }
}
