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
