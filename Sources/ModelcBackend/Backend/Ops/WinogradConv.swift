// Winograd F(2x2, 3x3): the inference forward of a 3x3 stride-1 Conv2D (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2015). Conv2DEmitter uses it in place of the
// direct row kernel when `applies` holds and the model is emitted with `winograd: true`.
//
//   The output is cut into 2x2 tiles; tile (ty, tx) reads the 4x4 window d of the padded
//   input at (2ty, 2tx) (rows/columns past the padded image read as zero when the output
//   size is odd). With xi = 4r + c indexing the 4x4 transformed positions:
//     V[xi][tile][ci]  = (B^T d B)[r][c]         per input channel (SIMD over CI)
//     U[xi][ci][co]    = (G g G^T)[r][c]         g = W[:, :, ci, co], once per forward call
//     M[xi]            = V[xi] x U[xi]           16 GEMMs [tiles, CI] x [CI, CO] (RowGemm)
//     y[2ty+a][2tx+b]  = (A^T M A)[a][b]         then bias or folded BatchNorm, activation
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
//   16 multiplies per tile and channel pair instead of the direct form's 4 x 9 = 36. The sums
//   are regrouped, so outputs differ from the direct form by rounding only (tests: 1e-5).
//   Inference only: training keeps the direct form and its checked backward.
//   Tiles go R at a time (RowGemm.preferredRows(CO)); a block's V and M (16 x R x CI and
//   16 x R x CO floats, per thread) stay in cache from the input transform to the output one.

struct WinogradConv {
    let g: ConvGeometry
    let co: Int
    let prefix: String

    /// 3x3, stride 1, channel counts in whole SIMD16 vectors (the transforms run 16 lanes wide).
    static func applies(_ g: ConvGeometry, filters co: Int) -> Bool {
        g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.c % 16 == 0 && co % 16 == 0 && g.oh >= 2 && g.ow >= 2
            && g.hp == g.oh + 2 && g.wp == g.ow + 2
    }

    var tilesH: Int { (g.oh + 1) / 2 }
    var tilesW: Int { (g.ow + 1) / 2 }
    var tiles: Int { tilesH * tilesW }
    var block: Int { RowGemm.preferredRows(n: co) }
    var kernelName: String { "\(prefix)ForwardTiles" }
    var weightsName: String { "\(prefix)WinogradWeights" }
    private var u: String { "\(prefix)wu" }
    private var v: String { "\(prefix)wv" }
    private var mm: String { "\(prefix)wm" }

    /// Declares the transformed-weight and per-thread tile buffers and emits `WinogradWeights()`
    /// (U from the kernel at `kernel`, run before every inference forward).
    func emitWeights(_ m: ModelEmission, name: String, kernel: String) {
        let ci = g.c
        m.buffer(u, perImage: 0, fixed: 16 * ci * co, "\(name) Winograd kernel U = G g G^T [16, CI, CO]")
        m.buffer(v, perImage: 0, perChunk: 16 * block * ci, "\(name) Winograd input tiles V = B^T d B of one block [16, \(block), CI] (per thread)")
        m.buffer(mm, perImage: 0, perChunk: 16 * block * co, "\(name) Winograd products M = V x U of one block [16, \(block), CO] (per thread)")
        m.serialFunction(weightsName, comment: "\(name): U[xi][ci][co] = (G g G^T)[xi / 4][xi % 4], g = W[:, :, ci, co] (Winograd F(2x2, 3x3))") { w in
            w.line("let wk = \(kernel)")
            w.block("for ci in 0..<\(ci)") {
                w.block("for c0 in stride(from: 0, to: \(co), by: 16)") {
                    for kh in 0..<3 {
                        for kw in 0..<3 { w.line("let g\(kh)\(kw) = ld16(wk + \((kh * 3 + kw) * ci * co) + ci * \(co) + c0)") }
                    }
                    // G g: rows over kh, for each kw column
                    for kw in 0..<3 {
                        w.line("let t0\(kw) = g0\(kw)")
                        w.line("let t1\(kw) = (g0\(kw) + g1\(kw) + g2\(kw)) * 0.5")
                        w.line("let t2\(kw) = (g0\(kw) - g1\(kw) + g2\(kw)) * 0.5")
                        w.line("let t3\(kw) = g2\(kw)")
                    }
                    // (G g) G^T: columns over kw, for each row
                    for r in 0..<4 {
                        let cols = ["t\(r)0", "(t\(r)0 + t\(r)1 + t\(r)2) * 0.5", "(t\(r)0 - t\(r)1 + t\(r)2) * 0.5", "t\(r)2"]
                        for (c, e) in cols.enumerated() {
                            w.line("st16(\(u) + \((r * 4 + c) * ci * co) + ci * \(co) + c0, \(e))")
                        }
                    }
                }
            }
        }
    }

    /// The body of `ForwardTiles(x, y, t)`: every tile of the image whose padded input is at x,
    /// written to y in layout `out`, R tiles at a time and then the tiles % R left (their own
    /// unrolled variant). The caller declares bias, or sc/sh for a folded BatchNorm.
    func emitKernelBody(_ w: CodeWriter, out: PixelLayout, bias: String?, scale: String?, shift: String?,
                        epilogue: EpilogueActivation) {
        let ci = g.c, r = block
        w.line("let v = \(v) + t * \(16 * r * ci), mm = \(mm) + t * \(16 * r * co)")
        emitRowBlocks(w, total: tiles, rowsPerBlock: r, index: "q") { rows, q in
            // 1. input transform: V[xi][i] for the block's tiles
            w.block("for i in 0..<\(rows)") {
                w.line("let tile = \(q) + i, ty = tile / \(tilesW), tx = tile % \(tilesW)")
                if g.oh % 2 == 1 { w.line("let rowIn = ty < \(tilesH - 1)   // the last tile row's window ends one row past the image") }
                if g.ow % 2 == 1 { w.line("let colIn = tx < \(tilesW - 1)") }
                w.line("let d = x + (ty * \(2 * g.wp) + tx * 2) * \(ci)")
                w.line("let vi = v + i * \(ci)")
                w.block("for c0 in stride(from: 0, to: \(ci), by: 16)") {
                    for rr in 0..<4 {
                        for cc in 0..<4 {
                            var guards: [String] = []
                            if rr == 3 && g.oh % 2 == 1 { guards.append("rowIn") }
                            if cc == 3 && g.ow % 2 == 1 { guards.append("colIn") }
                            let load = "ld16(d + \((rr * g.wp + cc) * ci) + c0)"
                            w.line("let d\(rr)\(cc) = \(guards.isEmpty ? load : "\(guards.joined(separator: " && ")) ? \(load) : SIMD16<Float>()")")
                        }
                    }
                    // B^T d: over rows, for each column
                    for cc in 0..<4 {
                        w.line("let t0\(cc) = d0\(cc) - d2\(cc), t1\(cc) = d1\(cc) + d2\(cc), t2\(cc) = d2\(cc) - d1\(cc), t3\(cc) = d1\(cc) - d3\(cc)")
                    }
                    // (B^T d) B: over columns, for each row
                    for rr in 0..<4 {
                        let vals = ["t\(rr)0 - t\(rr)2", "t\(rr)1 + t\(rr)2", "t\(rr)2 - t\(rr)1", "t\(rr)1 - t\(rr)3"]
                        for (cc, e) in vals.enumerated() {
                            w.line("st16(vi + \((rr * 4 + cc) * r * ci) + c0, \(e))")
                        }
                    }
                }
            }
            // 2. M[xi] = V[xi] x U[xi], 16 GEMMs of [rows, CI] x [CI, CO]
            w.block("for xi in 0..<16") {
                w.line("let vx = v + xi * \(r * ci), mx = mm + xi * \(r * co), ux = \(u) + xi * \(ci * co)")
                RowGemm(rows: rows, aRow: { "vx + \($0 * ci)" }, cRow: { "mx + \($0 * co)" },
                        k: ci, b: "ux", ldb: co, n: co).emit(w)
            }
            // 3. output transform Y = A^T M A, epilogue, store the tile's 2x2 pixels
            w.block("for i in 0..<\(rows)") {
                w.line("let tile = \(q) + i, ty = tile / \(tilesW), tx = tile % \(tilesW)")
                w.line("let yo = y + \(out.offset) + ty * \(2 * out.rowStride) + tx * \(2 * out.channels)")
                w.line("let mi = mm + i * \(co)")
                w.block("for c0 in stride(from: 0, to: \(co), by: 16)") {
                    for rr in 0..<4 {
                        for cc in 0..<4 { w.line("let m\(rr)\(cc) = ld16(mi + \((rr * 4 + cc) * r * co) + c0)") }
                    }
                    for cc in 0..<4 {
                        w.line("let s0\(cc) = m0\(cc) + m1\(cc) + m2\(cc), s1\(cc) = m1\(cc) - m2\(cc) - m3\(cc)")
                    }
                    let pre = bias.map { "ld16(\($0) + c0)" }
                    let mutated = pre != nil || scale != nil || epilogue != .none
                    for a in 0..<2 {
                        for b in 0..<2 {
                            let e = b == 0 ? "s\(a)0 + s\(a)1 + s\(a)2" : "s\(a)1 - s\(a)2 - s\(a)3"
                            w.line("\(mutated ? "var" : "let") y\(a)\(b) = \(e)")
                            if let p = pre { w.line("y\(a)\(b) += \(p)") }
                            if let sc = scale, let sh = shift { w.line("y\(a)\(b) = y\(a)\(b) * ld16(\(sc) + c0) + ld16(\(sh) + c0)") }
                            if let e = SIMDText.epilogue(16, "y\(a)\(b)", epilogue) { w.line(e) }
                        }
                    }
                    for a in 0..<2 {
                        for b in 0..<2 {
                            var guards: [String] = []
                            if a == 1 && g.oh % 2 == 1 { guards.append("ty < \(tilesH - 1)") }
                            if b == 1 && g.ow % 2 == 1 { guards.append("tx < \(tilesW - 1)") }
                            let store = "st16(yo + \(a * out.rowStride + b * out.channels) + c0, y\(a)\(b))"
                            w.line(guards.isEmpty ? store : "if \(guards.joined(separator: " && ")) { \(store) }")
                        }
                    }
                }
            }
        }
    }
}
