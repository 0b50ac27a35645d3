// The runtime's pooling kernels (Sources/ModelcRuntime/Kernels/Pooling.swift) against plain
// scalar loops, bit for bit, in both their inlined and their out-of-line form: 'valid' and
// 'same' windows (clipped at every border), odd and non-square sizes, strides larger and
// smaller than the window, channel counts that use every vector width, output into a strided
// layout, every activation after the pool, ties, NaN and signed zeros; and PyTorch's explicit
// padding, ceil mode and count_include_pad, with the divisor computed as PyTorch's
// avg_pool2d kernel computes it.

import XCTest
@testable import ModelcRuntime

final class PoolingKernelTests: XCTestCase {
    /// One pooling layer: input h x w x c, window kh x kw, stride sh x sw, TF 'same' or 'valid'.
    struct Case {
        var h: Int, w: Int, c: Int, kh: Int, kw: Int, sh: Int, sw: Int, same: Bool
        /// PyTorch / ONNX: explicit padding (top, left, bottom, right), ceil mode, count_include_pad.
        var explicit: (t: Int, l: Int, b: Int, r: Int)? = nil
        var ceil = false, counted = false
        var oh: Int { explicit.map { out(h, kh, sh, $0.t, $0.b) } ?? (same ? (h + sh - 1) / sh : (h - kh) / sh + 1) }
        var ow: Int { explicit.map { out(w, kw, sw, $0.l, $0.r) } ?? (same ? (w + sw - 1) / sw : (w - kw) / sw + 1) }
        var top: Int { explicit?.t ?? (same ? max((oh - 1) * sh + kh - h, 0) / 2 : 0) }
        var left: Int { explicit?.l ?? (same ? max((ow - 1) * sw + kw - w, 0) / 2 : 0) }
        /// PyTorch's pooling_output_shape.
        func out(_ n: Int, _ k: Int, _ s: Int, _ p0: Int, _ p1: Int) -> Int {
            var o = (n + p0 + p1 - k + (ceil ? s - 1 : 0)) / s + 1
            if ceil && (o - 1) * s >= n + p0 { o -= 1 }
            return o
        }
        /// The window of output (oh, ow), clipped to the image.
        func window(_ y: Int, _ x: Int) -> (hs: Int, he: Int, ws: Int, we: Int) {
            let h0 = y * sh - top, w0 = x * sw - left
            return (max(h0, 0), min(h0 + kh, h), max(w0, 0), min(w0 + kw, w))
        }
        /// An average's divisor: PyTorch's pool_size (the window within the padded image) when
        /// the padding counts, else the clipped window's pixels.
        func divisor(_ y: Int, _ x: Int) -> Int {
            guard counted, let e = explicit else { let win = window(y, x); return (win.he - win.hs) * (win.we - win.ws) }
            let h0 = y * sh - e.t, w0 = x * sw - e.l
            return (min(h0 + kh, h + e.b) - h0) * (min(w0 + kw, w + e.r) - w0)
        }
        func geometry(offset: Int = 0, rowStride: Int? = nil) -> PoolGeometry {
            PoolGeometry(input: (h, w, c), output: (oh, ow), window: (kh, kw), stride: (sh, sw), padding: (top, left),
                         countedPadding: counted ? explicit.map { ($0.b, $0.r) } : nil, outputOffset: offset, outputRowStride: rowStride)
        }
    }

    static let cases: [Case] = [
        Case(h: 8, w: 8, c: 32, kh: 2, kw: 2, sh: 2, sw: 2, same: false),    // seed 002's pools
        Case(h: 9, w: 7, c: 20, kh: 2, kw: 2, sh: 2, sw: 2, same: true),     // odd 'same': bottom/right clipped
        Case(h: 7, w: 9, c: 37, kh: 3, kw: 3, sh: 1, sw: 1, same: true),     // padding on every side
        Case(h: 10, w: 6, c: 95, kh: 3, kw: 2, sh: 2, sw: 1, same: true),    // non-square; 64 + 16 + 8 + 4 + 3 channels
        Case(h: 11, w: 9, c: 3, kh: 2, kw: 3, sh: 3, sw: 2, same: false),    // stride past the window
        Case(h: 5, w: 5, c: 132, kh: 5, kw: 5, sh: 1, sw: 1, same: false),   // one window covers the image
        Case(h: 6, w: 4, c: 7, kh: 4, kw: 1, sh: 3, sw: 1, same: true),
        Case(h: 6, w: 9, c: 20, kh: 2, kw: 3, sh: 2, sw: 3, same: false),   // non-square windows that tile; 16 + 4 channels
        // PyTorch MaxPool2d(3, 2, 1) (ResNet's stem), AvgPool2d(3, 2, 1, ceil_mode=True) counting
        // its padding (a last window reaching past it), AvgPool2d(3, 1, 1, count_include_pad=False),
        // a ceil-mode window clipped at the image, ONNX's asymmetric pads counted.
        Case(h: 7, w: 9, c: 20, kh: 3, kw: 3, sh: 2, sw: 2, same: false, explicit: (1, 1, 1, 1)),
        Case(h: 6, w: 6, c: 37, kh: 3, kw: 3, sh: 2, sw: 2, same: false, explicit: (1, 1, 1, 1), ceil: true, counted: true),
        Case(h: 5, w: 4, c: 8, kh: 3, kw: 3, sh: 1, sw: 1, same: false, explicit: (1, 1, 1, 1)),
        Case(h: 4, w: 6, c: 5, kh: 3, kw: 3, sh: 2, sw: 2, same: false, explicit: (0, 0, 0, 0), ceil: true, counted: true),
        Case(h: 5, w: 5, c: 16, kh: 2, kw: 2, sh: 2, sw: 2, same: false, explicit: (0, 0, 1, 1), counted: true),
    ]

    /// Values in [-1, 1) with repeats (ties), NaN, infinities and both zeros mixed in.
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            switch s % 97 {
            case 0: return .nan
            case 1: return -.infinity
            case 2: return -0.0
            case 3: return 0
            default: return Float(s % 40) / 20 - 1
            }
        }
    }

    func activate(_ v: Float, _ act: GemmEpilogue.Activation) -> Float {
        switch act {
        case .none: return v
        case .relu: return max(v, 0)
        case .leaky(let a): return v < 0 ? v * a : v
        case .capped(let m): return min(max(v, 0), m)
        case .hardSwish: return v * min(max(v + 3, 0), 6) / 6
        }
    }

    /// Bit for bit; with `zeroSign` false, +0 and -0 count as equal (relu keeps a -0 in vector
    /// lanes, a mask, and gives +0 in the scalar tail, `max`; Kernels/Vectors.swift).
    func assertBits(_ got: [Float], _ want: [Float], _ what: String, zeroSign: Bool = true,
                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        for i in want.indices where got[i].bitPattern != want[i].bitPattern && (zeroSign || got[i] != 0 || want[i] != 0) {
            XCTFail("\(what): [\(i)] = \(got[i]), want \(want[i])", file: file, line: line)
            return
        }
    }

    /// Max or average over each clipped window, then the activation, into a layout with a
    /// border: offset one row and one pixel, rows two pixels wider than the output.
    func checkPool(_ t: Case, max isMax: Bool, _ act: GemmEpilogue.Activation, file: StaticString = #filePath, line: UInt = #line) {
        let x = values(t.h * t.w * t.c, seed: UInt64(t.h * 100 + t.c))
        let rowStride = (t.ow + 2) * t.c, offset = rowStride + t.c
        var want = [Float](repeating: 7, count: offset + t.oh * rowStride)
        for y in 0..<t.oh {
            for xo in 0..<t.ow {
                let win = t.window(y, xo)
                for c in 0..<t.c {
                    var v: Float = isMax ? -.infinity : 0
                    for ih in win.hs..<win.he {
                        for iw in win.ws..<win.we {
                            let e = x[(ih * t.w + iw) * t.c + c]
                            if isMax { if e > v { v = e } } else { v += e }
                        }
                    }
                    if !isMax { v *= 1 / Float(t.divisor(y, xo)) }
                    want[offset + y * rowStride + xo * t.c + c] = activate(v, act)
                }
            }
        }
        let g = t.geometry(offset: offset, rowStride: rowStride)
        let kind: Pooling.Kind = isMax ? .max : .average
        for inlined in [true, false] {
            var out = [Float](repeating: 7, count: want.count)
            if inlined { Pooling.poolInlined(kind, x, &out, g, act) } else { Pooling.poolOutOfLine(kind, x, &out, g, act) }
            var signless = false   // relu and a cap keep a -0 in vector lanes (a mask), max() gives +0
            switch act { case .relu, .capped: signless = true; default: break }
            assertBits(out, want, "\(t) \(kind) \(act) inlined \(inlined)", zeroSign: !signless, file: file, line: line)
        }
    }

    func testPoolMatchesPlainLoops() {
        for t in Self.cases {
            for act in [GemmEpilogue.Activation.none, .relu, .leaky(0.3), .capped(0.5), .hardSwish] {
                checkPool(t, max: true, act)
                checkPool(t, max: false, act)
            }
        }
    }

    /// The training forward: the max and the offset of its first occurrence per output (the
    /// window's first pixel when nothing beats -infinity), the same maxima as `pool`.
    func testMaxWithArgmax() {
        for t in Self.cases {
            let x = values(t.h * t.w * t.c, seed: UInt64(t.w * 10 + t.c))
            let n = t.oh * t.ow * t.c
            var want = [Float](repeating: 0, count: n), wantArg = [Int32](repeating: 0, count: n)
            for y in 0..<t.oh {
                for xo in 0..<t.ow {
                    let win = t.window(y, xo)
                    for c in 0..<t.c {
                        let o = (y * t.ow + xo) * t.c + c
                        want[o] = -.infinity; wantArg[o] = Int32((win.hs * t.w + win.ws) * t.c + c)
                        for ih in win.hs..<win.he {
                            for iw in win.ws..<win.we {
                                let i = (ih * t.w + iw) * t.c + c
                                if x[i] > want[o] { want[o] = x[i]; wantArg[o] = Int32(i) }
                            }
                        }
                    }
                }
            }
            var pooled = [Float](repeating: 0, count: n)
            Pooling.poolInlined(.max, x, &pooled, t.geometry(), .none)
            assertBits(pooled, want, "\(t) pool(.max)")
            for inlined in [true, false] {
                var y = [Float](repeating: 7, count: n), arg = [Int32](repeating: -1, count: n)
                if inlined {
                    Pooling.maxWithArgmaxInlined(x, &y, &arg, t.geometry())
                } else {
                    Pooling.maxWithArgmaxOutOfLine(x, &y, &arg, t.geometry())
                }
                assertBits(y, want, "\(t) inlined \(inlined)")
                XCTAssertEqual(arg, wantArg, "\(t) inlined \(inlined)")
            }
        }
    }

    /// The backward with the pool's geometry, on the forward's argmax: dy at each winner and 0
    /// elsewhere, as zeroing and scattering give it (the stores of windows that tile the input,
    /// and the zero-then-add of every other geometry).
    func testMaxBackwardOfWindows() {
        for t in Self.cases {
            let x = values(t.h * t.w * t.c, seed: UInt64(t.h * 31 + t.c))
            let n = t.oh * t.ow * t.c
            var y = [Float](repeating: 0, count: n), arg = [Int32](repeating: -1, count: n)
            Pooling.maxWithArgmaxInlined(x, &y, &arg, t.geometry())
            let dy = values(n, seed: 5).map { $0.isNaN || $0.isInfinite ? 0.5 : $0 }
            var want = [Float](repeating: 0, count: x.count)
            for o in 0..<n { want[Int(arg[o])] += dy[o] }
            for inlined in [true, false] {
                var dx = [Float](repeating: 9, count: x.count)
                if inlined {
                    Pooling.maxBackwardInlined(&dx, dy, arg, t.geometry())
                } else {
                    Pooling.maxBackwardOutOfLine(&dx, dy, arg, t.geometry())
                }
                assertBits(dx, want, "\(t) inlined \(inlined)")
            }
        }
    }

    /// dx = 0, then dy scattered to the winners (several outputs may share one winner).
    func testMaxBackward() {
        let inputCount = 50, outputCount = 40
        let dy = values(outputCount, seed: 3).map { $0.isNaN ? 0.5 : $0 }
        let arg = (0..<outputCount).map { Int32(($0 * 7) % 23) }
        var want = [Float](repeating: 0, count: inputCount)
        for i in 0..<outputCount { want[Int(arg[i])] += dy[i] }
        var dx = [Float](repeating: 9, count: inputCount)
        Pooling.maxBackward(&dx, dy, arg, inputCount: inputCount, outputCount: outputCount)
        assertBits(dx, want, "scatter")
    }

    /// dx = 0, then each window's pixels += dy / (pixels in the clipped window), in window order.
    func testAverageBackward() {
        for t in Self.cases {
            let dy = values(t.oh * t.ow * t.c, seed: UInt64(t.c)).map { $0.isNaN || $0.isInfinite ? 0.25 : $0 }
            var want = [Float](repeating: 0, count: t.h * t.w * t.c)
            for y in 0..<t.oh {
                for xo in 0..<t.ow {
                    let win = t.window(y, xo)
                    let inv = 1 / Float(t.divisor(y, xo))
                    for ih in win.hs..<win.he {
                        for iw in win.ws..<win.we {
                            for c in 0..<t.c { want[(ih * t.w + iw) * t.c + c] += dy[(y * t.ow + xo) * t.c + c] * inv }
                        }
                    }
                }
            }
            for inlined in [true, false] {
                var dx = [Float](repeating: 9, count: want.count)
                if inlined {
                    Pooling.averageBackwardInlined(&dx, dy, t.geometry())
                } else {
                    Pooling.averageBackwardOutOfLine(&dx, dy, t.geometry())
                }
                assertBits(dx, want, "\(t) inlined \(inlined)")
            }
        }
    }

    /// Global max: the first pixel's value (NaN included) beaten only by a greater one; global
    /// average backward: dy / pixels everywhere.
    func testGlobalPooling() {
        for (pixels, channels) in [(1, 5), (9, 3), (49, 64), (12, 37)] {
            var x = values(pixels * channels, seed: UInt64(pixels))
            x[0] = .nan   // kept: nothing is greater than NaN
            var want = Array(x[0..<channels]), wantArg = (0..<channels).map { Int32($0) }
            for p in 1..<max(pixels, 1) {
                for c in 0..<channels where x[p * channels + c] > want[c] {
                    want[c] = x[p * channels + c]; wantArg[c] = Int32(p * channels + c)
                }
            }
            let dy = values(channels, seed: 5).map { $0.isNaN ? 1 : $0 }
            let inv = 1 / Float(pixels)
            let wantDx = (0..<(pixels * channels)).map { dy[$0 % channels] * inv }
            for inlined in [true, false] {
                var y = [Float](repeating: 7, count: channels), arg = [Int32](repeating: -1, count: channels)
                var dx = [Float](repeating: 7, count: pixels * channels)
                if inlined {
                    GlobalPooling.maxInlined(x, &y, &arg, pixels: pixels, channels: channels)
                    GlobalPooling.averageBackwardInlined(&dx, dy, pixels: pixels, channels: channels)
                } else {
                    GlobalPooling.maxOutOfLine(x, &y, &arg, pixels: pixels, channels: channels)
                    GlobalPooling.averageBackwardOutOfLine(&dx, dy, pixels: pixels, channels: channels)
                }
                assertBits(y, want, "\(pixels)x\(channels) max inlined \(inlined)")
                XCTAssertTrue(y[0].isNaN)
                XCTAssertEqual(arg, wantArg, "\(pixels)x\(channels) inlined \(inlined)")
                assertBits(dx, wantDx, "\(pixels)x\(channels) average backward inlined \(inlined)")
            }
        }
    }
}

/// A PyTorch depthwise kernel: its state_dict layout [C * mult, 1, kh, kw] is a permutation of the
/// view [kh, kw, C * mult, 1]; the Keras layout of the same floats, [kh, kw, C, mult], is what a
/// Keras file (matched by order) and a checkpoint give.
final class DepthwiseTensorSpecTests: XCTestCase {
    func testStateDictViewAndKerasShape() {
        let t = TensorSpec(key: "dw.weight", shape: [3, 3, 8, 1], offset: 0, trainable: true, initializer: .zeros, decays: true,
                           fileShape: [8, 1, 3, 3], filePermutation: [2, 3, 0, 1], kerasShape: [3, 3, 4, 2])
        XCTAssertEqual(t.fileShape, [8, 1, 3, 3])
        XCTAssertEqual(t.kerasShape, [3, 3, 4, 2])
        XCTAssertEqual(WeightsMatching.other(t, semantics: "pytorch").shape, [3, 3, 4, 2])
        // File element (j, 0, y, x), j = c * 2 + m, is internal (y, x, c, m) = (y * 3 + x) * 8 + j.
        let map = t.fileToInternalIndex()
        for j in 0..<8 { for y in 0..<3 { for x in 0..<3 { XCTAssertEqual(map[(j * 3 + y) * 3 + x], (y * 3 + x) * 8 + j) } } }
        XCTAssertNil(WeightsMatching.flattenProblem([t, TensorSpec(key: "fc.weight", shape: [8, 2], offset: 72, trainable: true, initializer: .zeros, decays: true)]))
    }
}
