// Merge.forwardBroadcast and backwardBroadcast (Sources/ModelcRuntime/Kernels/Merge.swift): the
// broadcast inputs tiled to the output's shape by hand give the same outputs through the
// element-wise Merge.forward, and every gradient matches a central finite difference of
// sum(y * r) in Double, for every operation, on a squeeze-and-excitation shape (x [4, 3, 5] *
// s [1, 1, 5]), a spatial one ([4, 3, 1] + [4, 3, 5] + [1, 3, 1]), rank 4 and vectors; and the
// tie of maximum and minimum goes to the first input equal to y, with or without a gradient; and
// Merge.backward (equal shapes) gives backwardBroadcast's gradients, also with a gradient written
// into dy's own buffer.

import XCTest
@testable import ModelcRuntime

final class MergeBroadcastTests: XCTestCase {
    let ops: [MergeOperation] = [.add, .subtract, .multiply, .average, .maximum, .minimum]
    let cases: [(shapes: [[Int]], out: [Int])] = [([[4, 3, 5], [1, 1, 5]], [4, 3, 5]), ([[4, 3, 1], [4, 3, 5], [1, 3, 1]], [4, 3, 5]),
                                                  ([[2, 3, 2, 4], [2, 1, 1, 4]], [2, 3, 2, 4]), ([[6], [1]], [6])]   // TimeDistributed rank 4; vectors

    func values(_ n: Int, _ seed: Int) -> [Float] { (0..<n).map { Float(($0 * 7919 + seed * 104_729) % 2001) / 1000 - 1 } }

    /// Input k's values tiled over the output's shape (image by image), by the index arithmetic.
    func tiled(_ x: [Float], _ s: [Int], out: [Int], images: Int) -> [Float] {
        let size = out.reduce(1, *)
        var t: [Float] = []
        for n in 0..<images {
            for i in 0..<size {
                var rest = i, offset = 0, step = 1
                for a in stride(from: out.count - 1, through: 0, by: -1) {
                    let coord = rest % out[a]
                    rest /= out[a]
                    offset += (s[a] == 1 ? 0 : coord) * step
                    step *= s[a]
                }
                t.append(x[n * s.reduce(1, *) + offset])
            }
        }
        return t
    }

    func run(_ op: MergeOperation, _ xs: [[Float]], _ shapes: [[Int]], out: [Int], images: Int) -> [Float] {
        var y = [Float](repeating: 0, count: images * out.reduce(1, *))
        var copies = xs
        let ptrs = copies.indices.map { k in copies[k].withUnsafeMutableBufferPointer { $0.baseAddress! } }
        y.withUnsafeMutableBufferPointer { Merge.forwardBroadcast(op, ptrs, shapes: shapes, out: out, $0.baseAddress!, images: images) }
        _ = copies
        return y
    }

    func testForwardIsTheTiledElementwiseMerge() {
        for (shapes, out) in cases where shapes.count == 2 || true {
            let images = 2, size = out.reduce(1, *)
            let xs = shapes.enumerated().map { values(images * $1.reduce(1, *), $0 + 1) }
            for op in ops where op != .subtract || shapes.count == 2 {
                var tiles = xs.indices.map { tiled(xs[$0], shapes[$0], out: out, images: images) }
                var want = [Float](repeating: 0, count: images * size)
                let ptrs = tiles.indices.map { k in tiles[k].withUnsafeMutableBufferPointer { $0.baseAddress! } }
                want.withUnsafeMutableBufferPointer { Merge.forward(op, ptrs, $0.baseAddress!, count: images * size) }
                _ = tiles
                XCTAssertEqual(run(op, xs, shapes, out: out, images: images), want, "\(op) \(shapes)")
            }
        }
    }

    func testMaximumTiesGoToTheFirstInputWithOrWithoutAGradient() {
        var x0: [Float] = [0, 0], x1: [Float] = [0], y: [Float] = [0, 0], dy: [Float] = [1, 2], dx1: [Float] = [9]
        x0.withUnsafeMutableBufferPointer { a in x1.withUnsafeMutableBufferPointer { b in y.withUnsafeMutableBufferPointer { yy in
            dy.withUnsafeMutableBufferPointer { d in dx1.withUnsafeMutableBufferPointer { g in
                Merge.backwardBroadcast(.maximum, dy: d.baseAddress!, xs: [a.baseAddress!, b.baseAddress!], y: yy.baseAddress!,
                                        dxs: [nil, g.baseAddress!], shapes: [[2], [1]], out: [2], images: 1)
            } }
        } } }
        XCTAssertEqual(dx1, [0], "input 0 ties with input 1 and takes dy, though it takes no gradient")
    }

    func testBackwardMatchesFiniteDifferences() {
        for (shapes, out) in cases {
            let images = 2, size = out.reduce(1, *)
            var xs = shapes.enumerated().map { values(images * $1.reduce(1, *), $0 + 3) }
            let r = values(images * size, 9)
            for op in ops where op != .subtract || shapes.count == 2 {
                var y = run(op, xs, shapes, out: out, images: images)
                var dy = r
                var dxs = xs.map { [Float](repeating: 7, count: $0.count) }   // overwritten, never summed into
                let xp = xs.indices.map { k in xs[k].withUnsafeMutableBufferPointer { $0.baseAddress! } }
                let dp: [UnsafeMutablePointer<Float>?] = dxs.indices.map { k in dxs[k].withUnsafeMutableBufferPointer { $0.baseAddress! } }
                dy.withUnsafeMutableBufferPointer { d in y.withUnsafeMutableBufferPointer { yy in
                    Merge.backwardBroadcast(op, dy: d.baseAddress!, xs: xp, y: yy.baseAddress!, dxs: dp, shapes: shapes, out: out, images: images)
                } }
                for k in xs.indices {
                    for j in stride(from: 0, to: xs[k].count, by: 3) {
                        func loss(_ e: Float) -> Double {
                            var m = xs
                            m[k][j] += e
                            return zip(run(op, m, shapes, out: out, images: images), r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
                        }
                        let h: Float = 1e-3
                        let fd = (loss(h) - loss(-h)) / Double(2 * h)
                        XCTAssertEqual(Double(dxs[k][j]), fd, accuracy: 2e-2, "\(op) \(shapes) input \(k) [\(j)]")
                    }
                }
                _ = xs
            }
        }
    }

    /// Merge.backward (equal shapes) gives what backwardBroadcast gives for the same shapes,
    /// ties of maximum and minimum included, and the same when an input's gradient is written
    /// into dy's own buffer (each input's gradient read from dy before that one is stored).
    func testElementwiseBackwardIsTheBroadcastOneAndSafeInPlace() {
        let n = 10
        func buffer(_ v: [Float]) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: v.count)
            p.initialize(from: v, count: v.count)
            return p
        }
        var raw = (0..<3).map { values(n, $0 + 1) }
        for i in stride(from: 0, to: n, by: 3) { raw[1][i] = raw[0][i]; raw[2][i] = raw[0][i] }   // ties
        let all = raw.map(buffer), dyValues = values(n, 9)
        defer { all.forEach { $0.deallocate() } }
        for op in ops {
            let xs = op == .subtract ? Array(all.prefix(2)) : all, inputs = xs.count
            let y = buffer([Float](repeating: 0, count: n))
            Merge.forward(op, xs, y, count: n)
            let want = (0..<inputs).map { _ in buffer([Float](repeating: 7, count: n)) }
            let dy = buffer(dyValues)
            Merge.backwardBroadcast(op, dy: dy, xs: xs, y: y, dxs: want, shapes: Array(repeating: [n], count: inputs), out: [n], images: 1)
            for inPlace in [nil, 0, inputs - 1] {
                let got = (0..<inputs).map { k in k == inPlace ? dy : buffer([Float](repeating: 7, count: n)) }
                dy.update(from: dyValues, count: n)
                Merge.backward(op, dy: dy, xs: xs, y: y, dxs: got, count: n)
                for k in 0..<inputs {
                    XCTAssertEqual(Array(UnsafeBufferPointer(start: got[k], count: n)),
                                   Array(UnsafeBufferPointer(start: want[k], count: n)),
                                   "\(op) input \(k), gradient in dy's buffer: \(inPlace.map(String.init) ?? "none")")
                }
                for (k, p) in got.enumerated() where k != inPlace { p.deallocate() }
            }
            (want + [dy, y]).forEach { $0.deallocate() }
        }
    }
}
