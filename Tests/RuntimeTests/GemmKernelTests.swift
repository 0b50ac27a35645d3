// The runtime's GEMM kernels (Sources/ModelcRuntime/Kernels/Gemm.swift, and GemmRuntime.swift's
// for the runtime's own callers, without scale, shift or activation) against plain loops:
// every row remainder (1 to 6 and past a tile), column tails (full tiles, 16, 8, 4, 2, 1),
// two-level reductions with strided A (weight gradients, convolution windows) and every
// epilogue (bias, folded scale/shift, relu, leaky, accumulate).

import XCTest
@testable import ModelcRuntime

final class GemmKernelTests: XCTestCase {
    /// Deterministic values in [-1, 1).
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s % 2000) / 1000 - 1
        }
    }

    /// Reference: C[r][c] = epilogue(sum_{i,j} A[aRow(r) + i*aOuter + j*aInner] * B[i*bOuter + j*bInner + c]).
    func reference(rows: Int, n: Int, aRow: (Int) -> Int, red: GemmReduction, a: [Float], b: [Float],
                   bias: [Float]?, scale: [Float]?, shift: [Float]?, alpha: Float?, c0: [Float]?, ldc: Int,
                   post: ((Float) -> Float)? = nil) -> [Float] {
        var out = c0 ?? [Float](repeating: 0, count: rows * ldc)
        for r in 0..<rows {
            for c in 0..<n {
                var s: Double = 0
                for i in 0..<red.outer {
                    for j in 0..<red.inner {
                        s += Double(a[aRow(r) + i * red.aOuter + j * red.aInner]) * Double(b[i * red.bOuter + j * red.bInner + c])
                    }
                }
                var v = Float(s)
                if c0 != nil { out[r * ldc + c] += v; continue }
                if let bias = bias { v += bias[c] }
                if let sc = scale, let sh = shift { v = v * sc[c] + sh[c] }
                if let al = alpha, v < 0 { v *= al }
                out[r * ldc + c] = post.map { $0(v) } ?? v
            }
        }
        return out
    }

    /// `activation` (with `post`, its scalar definition for the reference) replaces `alpha`'s relu / leaky.
    func check(rows: Int, n: Int, k: Int, biasOn: Bool = false, folded: Bool = false, alpha: Float? = nil,
               accumulate: Bool = false, activation: GemmEpilogue.Activation? = nil, post: ((Float) -> Float)? = nil,
               file: StaticString = #filePath, line: UInt = #line) {
        let ldc = n + 3   // C rows with padding past n, which must stay untouched
        var a = values(rows * k + 7, seed: UInt64(rows * 131 + k))
        var b = values(k * n, seed: UInt64(n * 17 + k))
        let bias = values(n, seed: 5), scale = values(n, seed: 6), shift = values(n, seed: 7)
        let start = values(rows * ldc, seed: 9)
        let red = GemmReduction(k: k, ldb: n)
        // The forms of the kernel: inlined with the caller's sizes (generated binaries), compiled
        // out of line (the package's debug builds), and Gemm.runtime (the recurrent kernels').
        let runtime = !folded && alpha == nil && activation == nil
        for form in ["inlined", "outOfLine"] + (runtime ? ["runtime"] : []) {
            let inlined = form == "inlined"
            var c = accumulate ? start : [Float](repeating: 42, count: rows * ldc)
            let act: GemmEpilogue.Activation = activation ?? alpha.map { $0 == 0 ? .relu : .leaky($0) } ?? .none
            a.withUnsafeMutableBufferPointer { ap in b.withUnsafeMutableBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                bias.withUnsafeBufferPointer { bi in scale.withUnsafeBufferPointer { sc in shift.withUnsafeBufferPointer { sh in
                    let x = ap.baseAddress!, y = cp.baseAddress!
                    let epi = accumulate ? GemmEpilogue.add
                        : GemmEpilogue(bias: biasOn ? bi.baseAddress! : nil, scale: folded ? sc.baseAddress! : nil,
                                       shift: folded ? sh.baseAddress! : nil, activation: act)
                    if inlined {
                        Gemm.inlined(rows, a: { x + $0 * k }, b: bp.baseAddress!, n: n, c: { y + $0 * ldc }, red, epi)
                    } else if form == "runtime" {
                        Gemm.runtime(rows, a: { x + $0 * k }, b: bp.baseAddress!, n: n, c: { y + $0 * ldc }, red, epi)
                    } else {
                        Gemm.outOfLine(rows, a: { x + $0 * k }, b: bp.baseAddress!, n: n, c: { y + $0 * ldc }, red, epi)
                    }
                } } }
            } } }
            var want = reference(rows: rows, n: n, aRow: { $0 * k }, red: red, a: a, b: b, bias: biasOn ? bias : nil,
                                 scale: folded ? scale : nil, shift: folded ? shift : nil, alpha: alpha,
                                 c0: accumulate ? start : nil, ldc: ldc, post: post)
            if !accumulate { for r in 0..<rows { for p in n..<ldc { want[r * ldc + p] = 42 } } }
            for i in 0..<want.count {
                XCTAssertEqual(c[i], want[i], accuracy: 1e-4 * Float(k), "rows \(rows) n \(n) k \(k) \(form): element \(i)", file: file, line: line)
            }
        }
    }

    /// A lone row (its own wide tile, KernelTarget.LoneLanes) gives the bits a 6-row tile gives
    /// the same row: one image alone and in a batch must agree exactly.
    func testLoneRowMatchesTileRowsBitForBit() {
        for n in [10, 64, 70, 128, 130, 300] {
            let k = 45, rows = 7
            var a = values(rows * k, seed: UInt64(n)), b = values(k * n, seed: UInt64(n + 1))
            let bias = values(n, seed: 3)
            var batch = [Float](repeating: 0, count: rows * n), alone = batch
            a.withUnsafeMutableBufferPointer { ap in b.withUnsafeMutableBufferPointer { bp in bias.withUnsafeBufferPointer { bi in
                let x = ap.baseAddress!, epi = GemmEpilogue(bias: bi.baseAddress!, activation: .relu)
                batch.withUnsafeMutableBufferPointer { cp in
                    let y = cp.baseAddress!
                    Gemm.inlined(rows, a: { x + $0 * k }, b: bp.baseAddress!, n: n, c: { y + $0 * n }, GemmReduction(k: k, ldb: n), epi)
                }
                alone.withUnsafeMutableBufferPointer { cp in
                    for r in 0..<rows {
                        let y = cp.baseAddress! + r * n
                        Gemm.inlined(1, a: { _ in x + r * k }, b: bp.baseAddress!, n: n, c: { _ in y }, GemmReduction(k: k, ldb: n), epi)
                    }
                }
            } } }
            XCTAssertEqual(alone, batch, "n \(n)")
        }
    }

    func testEveryRowRemainderAndColumnTail() {
        for rows in [1, 2, 3, 4, 5, 6, 7, 11, 12, 13] {
            for n in [1, 2, 3, 5, 10, 16, 24, 31, 32, 64, 70, 128, 177, 300] {
                check(rows: rows, n: n, k: 9)
            }
        }
    }

    func testEpilogues() {
        check(rows: 13, n: 70, k: 33, biasOn: true)
        check(rows: 13, n: 70, k: 33, biasOn: true, alpha: 0)
        check(rows: 13, n: 70, k: 33, biasOn: true, alpha: 0.3)
        check(rows: 8, n: 37, k: 20, folded: true, alpha: 0.1)
        check(rows: 9, n: 19, k: 5, accumulate: true)
        check(rows: 5, n: 300, k: 40, biasOn: true)   // a lone last row's 128-column blocks start from the bias
        check(rows: 1, n: 130, k: 9, accumulate: true)
        // ReLU6-style cap and hard_swish (inference), against their scalar definitions.
        check(rows: 13, n: 70, k: 33, biasOn: true, activation: .capped(0.5), post: { min(max($0, 0), 0.5) })
        check(rows: 8, n: 37, k: 20, folded: true, activation: .hardSwish, post: { $0 * min(max($0 + 3, 0), 6) / 6 })
    }

    /// A read down its columns over a two-level reduction, as a convolution's weight gradient:
    /// dW[r][c] += sum_{oy, ox} x[(oy*2*W + ox*2)*C + r] * dy[(oy*OW + ox)*CO + c].
    func testStridedTwoLevelReduction() {
        let h = 7, w = 7, ch = 3, oh = 3, ow = 3, co = 10, kRow = 3 * ch
        var x = values(h * w * ch, seed: 1), dy = values(oh * ow * co, seed: 2)
        let red = GemmReduction(outer: oh, inner: ow, aOuter: 2 * w * ch, aInner: 2 * ch, bOuter: ow * co, bInner: co)
        let start = values(kRow * co, seed: 3)
        let want = reference(rows: kRow, n: co, aRow: { $0 }, red: red, a: x, b: dy, bias: nil, scale: nil, shift: nil,
                             alpha: nil, c0: start, ldc: co)
        for runtime in [false, true] {
            var d = start
            x.withUnsafeMutableBufferPointer { xp in dy.withUnsafeMutableBufferPointer { dp in d.withUnsafeMutableBufferPointer { gp in
                let xb = xp.baseAddress!, g = gp.baseAddress!
                if runtime {
                    Gemm.runtime(kRow, a: { xb + $0 }, b: dp.baseAddress!, n: co, c: { g + $0 * co }, red, .add)
                } else {
                    Gemm.inlined(kRow, a: { xb + $0 }, b: dp.baseAddress!, n: co, c: { g + $0 * co }, red, .add)
                }
            } } }
            for i in 0..<want.count { XCTAssertEqual(d[i], want[i], accuracy: 1e-4, "runtime \(runtime): element \(i)") }
        }
    }

    /// Gemm.runtime's packed blocks: reductions over several blocks of steps (block boundaries
    /// inside a two-level reduction's inner loop), rows past one packed group and past a block of
    /// 6, panels of 1 to 4 vectors and column tails, the bias added once, an empty reduction; A's
    /// rows interleaved (a weight gradient's) and B's rows padded.
    func testRuntimePackedBlocks() {
        let cases = [(2, 17, 1, 300), (100, 70, 7, 41), (7, 64, 3, 129), (200, 33, 1, 5), (13, 130, 0, 4), (1, 200, 5, 77),
                     (6, 48, 2, 128), (97, 80, 1, 260), (1, 10, 1, 0)]
        for (rows, n, outer, inner) in cases {
            let aInner = rows * 3 + 1, bInner = n + 5, ldc = n + 3   // C rows padded past n: must stay untouched
            let red = GemmReduction(outer: outer, inner: inner, aOuter: inner * aInner + 2, aInner: aInner,
                                    bOuter: inner * bInner + 3, bInner: bInner)
            var a = values(max(1, outer * red.aOuter + rows * 3), seed: UInt64(rows)), b = values(max(1, outer * red.bOuter + n), seed: UInt64(n))
            let bias = values(n, seed: 4), start = values(rows * ldc, seed: 8)
            // Gemm.runtime as the family has it, with B packed beforehand (and B itself NaN, which
            // it must not read then), then the packed, direct and lone-row forms with every panel
            // width (and short blocks)
            let forms = [("runtime", 0, 0)]
                + (rows > 1 ? [("prepacked", 0, 0), ("packed", 1, 16), ("packed", 2, 16), ("packed", 2, 7), ("packed", 4, 16), ("packed", 4, 128)] : [])
                + (rows > 1 ? [1, 2, 4].map { ("direct", $0, 0) } : [8, 4].map { ("lone", $0, 0) })
            for mode in ["store", "bias", "add"] {
                var want = reference(rows: rows, n: n, aRow: { $0 * 3 }, red: red, a: a, b: b, bias: mode == "bias" ? bias : nil,
                                     scale: nil, shift: nil, alpha: nil, c0: mode == "add" ? start : nil, ldc: ldc)
                if mode != "add" { for r in 0..<rows { for p in n..<ldc { want[r * ldc + p] = 42 } } }
                for (form, vectors, kc) in forms {
                    var c = mode == "add" ? start : [Float](repeating: 42, count: rows * ldc)
                    var packed = [Float](repeating: .nan, count: max(1, Gemm.runtimePackedFloats(k: outer * inner, n: n)))
                    var nans = [Float](repeating: .nan, count: b.count)
                    a.withUnsafeMutableBufferPointer { ap in b.withUnsafeMutableBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                        bias.withUnsafeBufferPointer { bi in
                            let x = ap.baseAddress!, y = cp.baseAddress!, bb = bp.baseAddress!
                            let epi = mode == "add" ? GemmEpilogue.add : GemmEpilogue(bias: mode == "bias" ? bi.baseAddress! : nil)
                            switch form {
                            case "runtime":
                                Gemm.runtime(rows, a: { x + $0 * 3 }, b: bb, n: n, c: { y + $0 * ldc }, red, epi)
                            case "prepacked":
                                Gemm.packRuntimeB(bb, n: n, red, into: &packed)
                                Gemm.runtime(rows, a: { x + $0 * 3 }, b: &nans, n: n, c: { y + $0 * ldc }, red, epi, packedB: packed)
                            case "packed":
                                RuntimeGemm.packed(rows, a: { x + $0 * 3 }, b: bb, n: n, c: { y + $0 * ldc }, red, epi, vectors: vectors, kc: kc)
                            case "lone":
                                RuntimeGemm.loneRow(x, b: bb, n: n, c: y, red, epi, widest: vectors)
                            default:
                                RuntimeGemm.direct(rows, a: { x + $0 * 3 }, b: bb, n: n, c: { y + $0 * ldc }, red, epi, vectors: vectors)
                            }
                        }
                    } } }
                    let tolerance = 1e-5 * Float(outer * inner + 1)
                    let bad = want.indices.first { !(abs(c[$0] - want[$0]) <= tolerance) }
                    XCTAssertNil(bad, "rows \(rows) n \(n) k \(outer)x\(inner) \(mode) \(form) vectors \(vectors) kc \(kc): "
                                 + "element \(bad ?? 0) is \(c[bad ?? 0]), expected \(want[bad ?? 0])")
                }
            }
        }
    }

    func testActivationKeepsNaNAndZeroesNegatives() {
        let v = SIMD8<Float>(-2, -0.5, 0, 1, .nan, -.infinity, .infinity, 3)
        let relu = v.relu(), leaky = v.leaky(0.3)
        XCTAssertEqual(relu[0], 0); XCTAssertEqual(relu[0].sign, .plus)
        XCTAssertTrue(relu[4].isNaN); XCTAssertTrue(leaky[4].isNaN)
        XCTAssertEqual(relu[5], 0); XCTAssertEqual(leaky[5], -.infinity)
        XCTAssertEqual(leaky[0], -2 * 0.3); XCTAssertEqual(leaky[3], 1); XCTAssertEqual(relu[6], .infinity)
        let capped = v.capped(2), g = SIMD8<Float>(repeating: 1).cappedGradient(capped, 2)
        XCTAssertEqual(capped[0], 0); XCTAssertTrue(capped[4].isNaN); XCTAssertEqual(capped[6], 2); XCTAssertEqual(capped[7], 2); XCTAssertEqual(capped[3], 1)
        XCTAssertEqual(g[3], 1); XCTAssertEqual(g[4], 1, "NaN passes the gradient (PyTorch's hardtanh_backward)"); XCTAssertEqual(g[0], 0); XCTAssertEqual(g[7], 0)
        for i in 0..<8 where !v[i].hardSwish().isNaN { XCTAssertEqual(v.hardSwish()[i], v[i].hardSwish(), "lane \(i)") }
    }
}
