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
    /// compares every output with the scalar formulas: the statistics with a two-pass double
    /// reference (1e-6), everything computed from them exactly (the same operations).
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
        BatchNorm.moments(x, rows: half, l, into: part)
        BatchNorm.moments(Array(x[(half * ch)...]), rows: rows - half, l, into: part + 2 * ch)
        BatchNorm.reduceMoments(part, count: rows, threads: 2, pixels: 1, l)
        BatchNorm.normalize(x, &y, rows: rows, l, act)
        BatchNorm.backwardSums(dOut, y, x, rows: half, l, act, into: part)
        BatchNorm.backwardSums(Array(dOut[(half * ch)...]), Array(y[(half * ch)...]), Array(x[(half * ch)...]),
                               rows: rows - half, l, act, into: part + 2 * ch)
        BatchNorm.backwardReduce(part, chunks: 2, rows: rows, l, dGamma: &dg, dBeta: &db)
        BatchNorm.backwardData(dOut, y, x, &dx, rows: rows, l, act)
        BatchNorm.inference(x, &yi, rows: rows, l, fold: &fold)

        for c in 0..<ch {
            let (mean, m2) = moments(x, channels: ch, channel: c)
            XCTAssertEqual(Double(stats[c]), mean, accuracy: 1e-6, "mean \(c)", file: file, line: line)
            let v = m2 / Double(rows), inv = stats[ch + c]
            XCTAssertEqual(Double(inv), 1 / (v + 1e-3).squareRoot(), accuracy: 1e-6 * Double(inv), "inv \(c)", file: file, line: line)
            XCTAssertEqual(mm[c], 0.99 * mm0[c] + (1 - 0.99) * stats[c], "moving mean \(c)", file: file, line: line)
            let batchVar = unbiased ? m2 / Double(rows - 1) : v
            XCTAssertEqual(Double(mv[c]), 0.99 * Double(mv0[c]) + (1 - 0.99) * batchVar, accuracy: 1e-6, "moving variance \(c)",
                           file: file, line: line)
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
            // exact up to 64 rows a chunk; longer chunks are summed in blocks of 64 rows
            let tolerance = { (v: Float) in rows / 2 <= 64 ? 0 : 1e-5 * max(1, abs(v)) }
            XCTAssertEqual(db[c], sy[0] + sy[1], accuracy: tolerance(db[c]), "dbeta \(c)", file: file, line: line)
            XCTAssertEqual(dg[c], sx[0] + sx[1], accuracy: tolerance(dg[c]), "dgamma \(c)", file: file, line: line)
        }
    }

    /// Channel c's mean and sum of squared deviations, two passes in double precision.
    func moments(_ x: [Float], channels ch: Int, channel c: Int) -> (Double, Double) {
        let rows = x.count / ch
        let mean = (0..<rows).reduce(0.0) { $0 + Double(x[$1 * ch + c]) } / Double(rows)
        let m2 = (0..<rows).reduce(0.0) { s, r in let d = Double(x[r * ch + c]) - mean; return s + d * d }
        return (mean, m2)
    }

    /// The moments of chunks of several row blocks, unequal chunks (count 7 over 3 threads), and a
    /// channel whose values share an offset 10^4 times their spread: the merged variance keeps
    /// float32's precision relative to the spread, where a sum of squares minus the squared sum
    /// would lose all of it.
    func testMomentsMergeBlocksAndChunks() {
        let ch = 3, pixels = 50, count = 7, threads = 3
        var x = values(count * pixels * ch, seed: 21)
        for i in stride(from: 2, to: x.count, by: ch) { x[i] = 1000 + x[i] * 0.1 }
        let chunks = Parallel.chunkCount(count, threads: threads)
        let xp = pointer(x), part = pointer([Float](repeating: 0, count: chunks * 2 * ch))
        let stats = pointer([Float](repeating: 0, count: 4 * ch))
        let mm = pointer([Float](repeating: 0, count: ch)), mv = pointer([Float](repeating: 1, count: ch))
        defer { [xp, part, stats, mm, mv].forEach { $0.deallocate() } }
        let l = BatchNormLayer(channels: ch, statistics: stats, gamma: nil, beta: nil, movingMean: mm, movingVariance: mv,
                               epsilon: 0, momentum: 0)
        for k in 0..<chunks {
            let r = Parallel.chunk(k, of: chunks, count: count)
            BatchNorm.moments(xp + r.lo * pixels * ch, rows: (r.hi - r.lo) * pixels, l, into: part + k * 2 * ch)
        }
        BatchNorm.reduceMoments(part, count: count, threads: threads, pixels: pixels, l)
        for c in 0..<ch {
            let (mean, m2) = moments(x, channels: ch, channel: c)
            let variance = m2 / Double(count * pixels)
            XCTAssertEqual(Double(stats[c]), mean, accuracy: 1e-6 * max(1, abs(mean)), "mean \(c)")
            XCTAssertEqual(Double(mv[c]), variance, accuracy: 1e-3 * variance, "variance \(c)")   // momentum 0: the batch variance
        }
    }

    /// The backward sums of a chunk in one call and in one call per image (each added to the
    /// chunk's total) are the same bits, whatever the steps around them (Emitter.emitRegion), so
    /// fused and unfused training agree exactly; images of several row blocks and a tail.
    func testBackwardSumsPerImageMatchTheChunkBitForBit() {
        let ch = 48, pixels = 150, images = 5
        let x = pointer(values(images * pixels * ch, seed: 31)), y = pointer(values(images * pixels * ch, seed: 32))
        let dOut = pointer(values(images * pixels * ch, seed: 33))
        let stats = pointer(values(4 * ch, seed: 34).map { abs($0) + 0.5 })
        let whole = pointer([Float](repeating: 0, count: 2 * ch)), each = pointer([Float](repeating: 0, count: 2 * ch))
        let mm = pointer([Float](repeating: 0, count: ch)), mv = pointer([Float](repeating: 1, count: ch))
        defer { [x, y, dOut, stats, whole, each, mm, mv].forEach { $0.deallocate() } }
        let l = BatchNormLayer(channels: ch, statistics: stats, gamma: nil, beta: nil, movingMean: mm, movingVariance: mv,
                               epsilon: 1e-3, momentum: 0.99)
        BatchNorm.backwardSums(dOut, y, x, rows: images * pixels, pixels: pixels, l, .leaky(0.3), into: whole)
        for n in 0..<images {
            let o = n * pixels * ch
            BatchNorm.backwardSums(dOut + o, y + o, x + o, rows: pixels, pixels: pixels, l, .leaky(0.3), into: each, accumulate: true)
        }
        for i in 0..<(2 * ch) { XCTAssertEqual(whole[i].bitPattern, each[i].bitPattern, "sum \(i): \(whole[i]) vs \(each[i])") }
        XCTAssertNotEqual(whole[0], 0)
    }

    func testEveryBlockAndTail() {
        check(channels: 32, rows: 50, affine: true, act: .leaky(0.3), unbiased: false)
        check(channels: 64, rows: 9, affine: true, act: .relu, unbiased: true)
        check(channels: 128 + 32 + 16 + 8 + 4 + 3, rows: 7, affine: false, act: .none, unbiased: false)
        check(channels: 1, rows: 5, affine: true, act: .leaky(0.01), unbiased: true)
        check(channels: 24, rows: 11, affine: true, act: .capped(0.6), unbiased: true)   // ReLU6-style, fused in training
        check(channels: 16, rows: 300, affine: true, act: .none, unbiased: true)   // several row blocks a chunk
    }
}
