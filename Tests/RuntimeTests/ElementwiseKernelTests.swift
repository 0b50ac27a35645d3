// The runtime's element-wise kernels (Sources/ModelcRuntime/Kernels/Elementwise.swift) against
// plain scalar expressions (sigmoid, tanh, elu, selu and softplus: VectorMath's value for the
// element), bit for bit, in both their inlined and their out-of-line form: every activation
// forward and backward (in place too, as the layers with a folded activation call them), softmax
// and its backward, and dropout's mask (the SplitMix64 finalizer of seed + element index,
// written out here; spatial: of seed + image x channels + channel), its independence of how the
// elements are split, and its backward.

import Foundation
import XCTest
@testable import ModelcRuntime

final class ElementwiseKernelTests: XCTestCase {
    /// The functions whose backward reads y (those that read x: SmoothActivationTests).
    static let functions: [ActivationFunction] = [.linear, .relu, .leaky(0.3), .sigmoid, .tanh, .elu(1), .elu(0.5), .capped(6), .capped(1.5),
                                                  .hardSigmoid(1 / 6, 0.5), .hardSigmoid(0.2, 0.5), .selu, .softplus, .softsign]

    /// Values in [-4, 4) (odd count), with NaN, infinities, both zeros and large values.
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        let special: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 100, -100, 1e-30]
        return (0..<n).map { i in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return i < special.count ? special[i] : Float(s % 8000) / 1000 - 4
        }
    }

    func forwardReference(_ f: ActivationFunction, _ v: Float) -> Float {
        switch f {
        case .linear: return v
        case .relu: return max(v, 0)
        case .leaky(let a): return v < 0 ? v * a : v
        case .sigmoid: return VectorMath.sigmoid(VectorMath.V(repeating: v))[0]   // VectorMathTests: within 4 ulp of the formula
        case .tanh: return VectorMath.tanh(VectorMath.V(repeating: v))[0]         // and 3 of Foundation's tanh
        case .elu, .selu, .softplus: return smooth(f, v)   // VectorMathTests: within 4 ulp of the formulas
        case .capped(let m): return min(max(v, 0), m)
        case .hardSigmoid(let a, let b): return min(max(v * a + b, 0), 1)
        case .softsign: return v / (1 + abs(v))
        case .softmax: preconditionFailure("softmax is per row (testSoftmaxAndItsBackward)")
        case .silu, .gelu, .geluTanh, .hardSwish, .mish: preconditionFailure("\(f): SmoothActivationTests")
        }
    }

    /// VectorMath's value of a smooth activation for one element.
    func smooth(_ f: ActivationFunction, _ v: Float) -> Float {
        var y: Float = 0
        VectorMath.smooth(f, [v], &y, count: 1)
        return y
    }

    func backwardReference(_ f: ActivationFunction, dy: Float, y: Float) -> Float {
        switch f {
        case .linear: return dy
        case .relu: return y > 0 ? dy : 0
        case .leaky(let a): return y > 0 ? dy : dy * a
        case .sigmoid: return dy * y * (1 - y)
        case .tanh: return dy * (1 - y * y)
        case .elu(let a): return y > 0 ? dy : dy * (y + a)
        case .capped(let m): return y <= 0 || y >= m ? 0 : dy   // PyTorch's hardtanh_backward: 0 < x < m, and NaN passes dy
        case .hardSigmoid(let a, _): return y > 0 && y < 1 ? dy * a : 0
        case .selu: return y > 0 ? dy * SmoothActivations.seluScale : dy * (y + SmoothActivations.seluScaleAlpha)
        case .softplus: return dy * -VectorMath.expm1(VectorMath.V(repeating: -y))[0]
        case .softsign: return dy * (1 - abs(y)) * (1 - abs(y))
        case .softmax: preconditionFailure("softmax is per row (testSoftmaxAndItsBackward)")
        case .silu, .gelu, .geluTanh, .hardSwish, .mish: preconditionFailure("\(f): SmoothActivationTests")
        }
    }

    /// Bit for bit, except that any NaN equals any NaN (the sign and payload of a NaN from
    /// two NaN operands depend on the order the compiler puts them in).
    func assertBits(_ got: UnsafePointer<Float>, _ want: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for i in want.indices where got[i].bitPattern != want[i].bitPattern && !(got[i].isNaN && want[i].isNaN) {
            XCTFail("\(what): [\(i)] = \(got[i]), want \(want[i])", file: file, line: line)
            return
        }
    }

    /// `body` gets a buffer holding `values` (so input and output can be the same pointer).
    func withBuffer(_ values: [Float], _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: values.count)
        defer { p.deallocate() }
        p.initialize(from: values, count: values.count)
        body(p)
    }

    func testActivationsForwardAndBackward() {
        let n = 301
        let x = values(n, seed: 1), dy = values(n, seed: 2)
        for f in Self.functions {
            let y = x.map { forwardReference(f, $0) }
            let dx = (0..<n).map { backwardReference(f, dy: dy[$0], y: y[$0]) }
            for inlined in [true, false] {
                withBuffer(x) { p in   // in place: y over x
                    if inlined { Activations.forwardInlined(f, p, p, count: n) } else { Activations.forwardOutOfLine(f, p, p, count: n) }
                    assertBits(p, y, "\(f) forward inlined \(inlined)")
                }
                withBuffer(dy) { p in   // in place: dx over dy
                    if inlined {
                        Activations.backwardInlined(f, dy: p, y: y, dx: p, count: n)
                    } else {
                        Activations.backwardOutOfLine(f, dy: p, y: y, dx: p, count: n)
                    }
                    assertBits(p, dx, "\(f) backward inlined \(inlined)")
                }
            }
        }
    }

    func testSoftmaxAndItsBackward() {
        let rows = 7, channels = 13
        let x = values(rows * channels, seed: 3).map { $0.isFinite ? $0 : 2 }
        let dy = values(rows * channels, seed: 4).map { $0.isFinite ? $0 : -1 }
        var y = [Float](repeating: 0, count: x.count), dx = y
        for r in 0..<rows {
            let o = r * channels
            var mx = -Float.infinity
            for c in 0..<channels { mx = max(mx, x[o + c]) }
            var sum: Float = 0
            for c in 0..<channels { let e = exp(x[o + c] - mx); y[o + c] = e; sum += e }
            let inv = 1 / sum
            for c in 0..<channels { y[o + c] *= inv }
            var dot: Float = 0
            for c in 0..<channels { dot += dy[o + c] * y[o + c] }
            for c in 0..<channels { dx[o + c] = y[o + c] * (dy[o + c] - dot) }
        }
        let f = ActivationFunction.softmax(channels: channels), n = rows * channels
        for inlined in [true, false] {
            withBuffer(x) { p in
                if inlined { Activations.forwardInlined(f, p, p, count: n) } else { Activations.forwardOutOfLine(f, p, p, count: n) }
                assertBits(p, y, "softmax inlined \(inlined)")
            }
            withBuffer(dy) { p in
                if inlined {
                    Activations.backwardInlined(f, dy: p, y: y, dx: p, count: n)
                } else {
                    Activations.backwardOutOfLine(f, dy: p, y: y, dx: p, count: n)
                }
                assertBits(p, dx, "softmax backward inlined \(inlined)")
            }
        }
    }

    /// The SplitMix64 finalizer of v + the golden-ratio increment.
    func mix64(_ v: UInt64) -> UInt64 {
        var z = v &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    func testDropoutMaskAndBackward() {
        let n = 4001, seed: UInt64 = 0xDEAD_BEEF_1234_5678
        let x = values(n, seed: 5).map { $0.isNaN ? 1 : $0 }, dy = values(n, seed: 6).map { $0.isNaN ? 1 : $0 }
        for rate: Float in [0, 0.25, 0.5, 0.9] {
            let keep: Float = 1 / (1 - rate)
            let mask = (0..<n).map { i -> Float in
                let u = Float(mix64(seed &+ UInt64(i)) >> 40) * Float(1.0 / 16_777_216.0)
                return u >= rate ? keep : 0
            }
            let kept = Float(mask.filter { $0 != 0 }.count) / Float(n)
            XCTAssertEqual(kept, 1 - rate, accuracy: 0.03, "rate \(rate)")
            for inlined in [true, false] {
                var y = [Float](repeating: 7, count: n), m = y
                // Two calls over uneven element ranges, as the threads split a batch.
                for (a, b) in [(0, 1234), (1234, n)] {
                    let count = b - a
                    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in m.withUnsafeMutableBufferPointer { mp in
                        let (xa, ya, ma) = (xp.baseAddress! + a, yp.baseAddress! + a, mp.baseAddress! + a)
                        if inlined {
                            Dropout.trainingInlined(xa, ya, mask: ma, count: count, first: a, seed: seed, rate: rate)
                        } else {
                            Dropout.trainingOutOfLine(xa, ya, mask: ma, count: count, first: a, seed: seed, rate: rate)
                        }
                    } } }
                }
                assertBits(m, mask, "rate \(rate) mask inlined \(inlined)")
                assertBits(y, (0..<n).map { x[$0] * mask[$0] }, "rate \(rate) y inlined \(inlined)")
                withBuffer(dy) { p in
                    if inlined {
                        Dropout.backwardInlined(dy: p, mask: mask, dx: p, count: n)
                    } else {
                        Dropout.backwardOutOfLine(dy: p, mask: mask, dx: p, count: n)
                    }
                    assertBits(p, (0..<n).map { dy[$0] * mask[$0] }, "rate \(rate) backward inlined \(inlined)")
                }
            }
        }
    }

    /// Spatial dropout: one draw per image and channel, hashed as (seed, n * C + c), the same at
    /// every position; independent of how the images are split; element-wise dropout's mask when
    /// an image is one position (its channels are its values).
    func testSpatialDropoutDrawsPerImageAndChannel() {
        let images = 7, positions = 5, channels = 6, size = positions * channels, n = images * size
        let seed: UInt64 = 0x1234_5678_9ABC_DEF0, rate: Float = 0.4
        let x = values(n, seed: 9).map { $0.isNaN ? 1 : $0 }
        let want = (0..<n).map { g -> Float in
            let u = Float(mix64(seed &+ UInt64(g / size * channels + g % channels)) >> 40) * Float(1.0 / 16_777_216.0)
            return u >= rate ? 1 / (1 - rate) : 0
        }
        var y = [Float](repeating: 7, count: n), m = y
        for (a, b) in [(0, 3), (3, images)] {   // images 0..<3, then 3..<7, as two threads
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in m.withUnsafeMutableBufferPointer { mp in
                Dropout.training(xp.baseAddress! + a * size, yp.baseAddress! + a * size, mask: mp.baseAddress! + a * size,
                                 count: (b - a) * size, first: a * size, seed: seed, rate: rate, channels: channels, size: size)
            } } }
        }
        assertBits(m, want, "spatial mask")
        assertBits(y, (0..<n).map { x[$0] * want[$0] }, "spatial y")
        let dropped = Set((0..<n).filter { want[$0] == 0 }.map { ($0 / size) * channels + $0 % channels })
        XCTAssertTrue(dropped.count > 5 && dropped.count < 37, "\(dropped.count) of 42 channels dropped")
        var e = [Float](repeating: 0, count: n), em = e, s = e, sm = e
        Dropout.trainingInlined(x, &e, mask: &em, count: n, first: 0, seed: seed, rate: rate)
        Dropout.training(x, &s, mask: &sm, count: n, first: 0, seed: seed, rate: rate, channels: size, size: size)
        XCTAssertEqual(sm, em, "one position: element-wise")
    }

    /// BiasGradient.sum against the plain double loop, in the same summation order (bit for bit).
    func testBiasGradientSumsTheRows() {
        let rows = 37, n = 19
        let dy = values(rows * n, seed: 9).map { $0.isNaN ? 1 : $0 }
        var want = [Float](repeating: 0, count: n)
        for r in 0..<rows { for o in 0..<n { want[o] += dy[r * n + o] } }
        for inlined in [true, false] {
            var gb = [Float](repeating: 7, count: n)
            dy.withUnsafeBufferPointer { d in gb.withUnsafeMutableBufferPointer { g in
                if inlined {
                    BiasGradient.sumInlined(d.baseAddress!, rows: rows, n: n, into: g.baseAddress!)
                } else {
                    BiasGradient.sumOutOfLine(d.baseAddress!, rows: rows, n: n, into: g.baseAddress!)
                }
            } }
            assertBits(gb, want, "inlined \(inlined)")
        }
    }

    /// Matrix.transpose, blocks of [rows, cols] matrices, against the index formula.
    func testMatrixTransposeByBlocks() {
        let rows = 5, cols = 7, blocks = 3
        let src = (0..<(rows * cols * blocks)).map { Float($0) }
        var dst = [Float](repeating: -1, count: src.count)
        src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in
            Matrix.transpose(s.baseAddress!, rows: rows, cols: cols, blocks: blocks, into: d.baseAddress!)
        } }
        for b in 0..<blocks { for i in 0..<rows { for j in 0..<cols {
            XCTAssertEqual(dst[b * rows * cols + j * rows + i], src[b * rows * cols + i * cols + j])
        } } }
    }
}
