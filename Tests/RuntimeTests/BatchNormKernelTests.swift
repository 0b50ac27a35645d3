// The runtime's BatchNorm kernels (Sources/ModelcRuntime/Kernels/BatchNorm.swift) against
// plain scalar loops, over channel counts that exercise every block and tail
// (ChannelPasses.swift), two chunks of rows, with and without gamma/beta and a fused activation.

import XCTest
@testable import ModelcRuntime

final class BatchNormKernelTests: XCTestCase {
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s % 2000) / 1000 - 1
        }
    }

    func pointer(_ a: [Float]) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: a.count)
        p.initialize(from: a, count: a.count)
        return p
    }

    /// Runs training forward, backward and inference through the kernels on two chunks and
    /// compares every output with the scalar formulas (the same operations, so exactly equal).
    func check(channels ch: Int, rows: Int, affine: Bool, act: GemmEpilogue.Activation, unbiased: Bool,
               file: StaticString = #filePath, line: UInt = #line) {
        let x = values(rows * ch, seed: UInt64(ch)), dOut = values(rows * ch, seed: 99)
        let mm0 = values(ch, seed: 5), mv0 = values(ch, seed: 6).map { $0 * $0 + 0.5 }
        let gamma = pointer(values(ch, seed: 3)), beta = pointer(values(ch, seed: 4))
        let mm = pointer(mm0), mv = pointer(mv0), stats = pointer([Float](repeating: 0, count: 4 * ch))
        let part = pointer([Float](repeating: 0, count: 4 * ch))
        defer { [gamma, beta, mm, mv, stats, part].forEach { $0.deallocate() } }
        var y = [Float](repeating: 0, count: rows * ch), dx = y, yi = y
        var fold = [Float](repeating: 0, count: 2 * ch), dg = [Float](repeating: 0, count: ch), db = dg
        let half = rows / 2
        let l = BatchNormLayer(channels: ch, statistics: stats, gamma: affine ? gamma : nil, beta: affine ? beta : nil,
                               movingMean: mm, movingVariance: mv, epsilon: 1e-3, momentum: 0.99, unbiased: unbiased)
        // Two chunks: rows 0..<half into part[0..<2ch], the rest into part[2ch...]
        BatchNorm.sums(x, rows: half, l, into: part)
        BatchNorm.sums(Array(x[(half * ch)...]), rows: rows - half, l, into: part + 2 * ch)
        BatchNorm.reduceMean(part, chunks: 2, rows: rows, l)
        BatchNorm.squaredDeviations(x, rows: half, l, into: part)
        BatchNorm.squaredDeviations(Array(x[(half * ch)...]), rows: rows - half, l, into: part + 2 * ch)
        BatchNorm.reduceVariance(part, chunks: 2, rows: rows, l)
        BatchNorm.normalize(x, &y, rows: rows, l, act)
        BatchNorm.backwardSums(dOut, y, x, rows: half, l, act, into: part)
        BatchNorm.backwardSums(Array(dOut[(half * ch)...]), Array(y[(half * ch)...]), Array(x[(half * ch)...]),
                               rows: rows - half, l, act, into: part + 2 * ch)
        BatchNorm.backwardReduce(part, chunks: 2, rows: rows, l, dGamma: &dg, dBeta: &db)
        BatchNorm.backwardData(dOut, y, x, &dx, rows: rows, l, act)
        BatchNorm.inference(x, &yi, rows: rows, l, fold: &fold)

        for c in 0..<ch {
            var s0: Float = 0, s1: Float = 0
            for r in 0..<half { s0 += x[r * ch + c] }
            for r in half..<rows { s1 += x[r * ch + c] }
            XCTAssertEqual(stats[c], (s0 + s1) * (1 / Float(rows)), accuracy: 1e-6, "mean \(c)", file: file, line: line)
            var v0: Float = 0, v1: Float = 0
            for r in 0..<half { let d = x[r * ch + c] - stats[c]; v0 += d * d }
            for r in half..<rows { let d = x[r * ch + c] - stats[c]; v1 += d * d }
            let v = (v0 + v1) / Float(rows), inv = 1 / (v + 1e-3).squareRoot()
            XCTAssertEqual(stats[ch + c], inv, "inv \(c)", file: file, line: line)
            XCTAssertEqual(mm[c], 0.99 * mm0[c] + (1 - 0.99) * stats[c], "moving mean \(c)", file: file, line: line)
            let batchVar = unbiased ? (v0 + v1) / Float(rows - 1) : v
            XCTAssertEqual(mv[c], 0.99 * mv0[c] + (1 - 0.99) * batchVar, "moving variance \(c)", file: file, line: line)
            let g = affine ? gamma[c] : 1, b = affine ? beta[c] : 0
            for r in 0..<rows {
                let i = r * ch + c, xhat = (x[i] - stats[c]) * inv
                XCTAssertEqual(y[i], vactivate(g * xhat + b, act), "y[\(i)]", file: file, line: line)
            }
            let k = (affine ? gamma[c] : 1) / (mv[c] + 1e-3).squareRoot()
            XCTAssertEqual(fold[c], k, "scale \(c)", file: file, line: line)
            XCTAssertEqual(yi[c], x[c] * k + ((affine ? beta[c] : 0) - mm[c] * k), "inference \(c)", file: file, line: line)
            // dx from the reduced means, exactly as the kernel orders the operations
            let my = stats[2 * ch + c], mx = stats[3 * ch + c]
            XCTAssertEqual(my, db[c] * (1 / Float(rows)), "mean(dy) \(c)", file: file, line: line)
            XCTAssertEqual(mx, dg[c] * (1 / Float(rows)), "mean(dy * xhat) \(c)", file: file, line: line)
            for r in [0, rows - 1] {
                let i = r * ch + c, xhat = (x[i] - stats[c]) * inv
                let want = (affine ? gamma[c] * inv : inv) * (vgradient(dOut[i], through: y[i], act) - my - xhat * mx)
                XCTAssertEqual(dx[i], want, "dx[\(i)]", file: file, line: line)
            }
        }
        // folding into a producer with a bias
        let bias = values(ch, seed: 7)
        var folded = [Float](repeating: 0, count: 2 * ch)
        BatchNorm.fold(l, bias: bias, into: &folded)
        for c in 0..<ch {
            let k = (affine ? gamma[c] : 1) / (mv[c] + 1e-3).squareRoot()
            XCTAssertEqual(folded[c], k, "folded scale \(c)", file: file, line: line)
            XCTAssertEqual(folded[ch + c], (bias[c] - mm[c]) * k + (affine ? beta[c] : 0), "folded shift \(c)", file: file, line: line)
        }
        // dbeta and dgamma as the sums of the two chunks
        for c in 0..<ch {
            var sy: [Float] = [0, 0], sx: [Float] = [0, 0]
            for r in 0..<rows {
                let i = r * ch + c, xhat = (x[i] - stats[c]) * stats[ch + c], dy = vgradient(dOut[i], through: y[i], act)
                sy[r < half ? 0 : 1] += dy; sx[r < half ? 0 : 1] += dy * xhat
            }
            XCTAssertEqual(db[c], sy[0] + sy[1], "dbeta \(c)", file: file, line: line)
            XCTAssertEqual(dg[c], sx[0] + sx[1], "dgamma \(c)", file: file, line: line)
        }
    }

    func testEveryBlockAndTail() {
        check(channels: 32, rows: 50, affine: true, act: .leaky(0.3), unbiased: false)
        check(channels: 64, rows: 9, affine: true, act: .relu, unbiased: true)
        check(channels: 128 + 32 + 16 + 8 + 4 + 3, rows: 7, affine: false, act: .none, unbiased: false)
        check(channels: 1, rows: 5, affine: true, act: .leaky(0.01), unbiased: true)
    }
}
