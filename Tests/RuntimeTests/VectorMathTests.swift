// VectorMath (Sources/ModelcRuntime/Kernels/VectorMath.swift) against Foundation: exp within 2 ulp
// from -103.9 (subnormal results) to 88.7, exact at 0, 0 below the range and +inf above it;
// tanh within 3 ulp and sigmoid within 4 ulp of their Foundation forms over [-20, 20] (tanh
// finely near 0, where its polynomial takes over); NaN kept; the array form the same on every
// element, the tail's too; the LSTM step's one pass (`lstmStep`) equal to its definition.

import XCTest
import Foundation
@testable import ModelcRuntime

final class VectorMathTests: XCTestCase {
    func each(_ xs: [Float], _ f: (VectorMath.V) -> VectorMath.V) -> [Float] {
        var out: [Float] = []
        for i in stride(from: 0, to: xs.count, by: 16) {
            var v = VectorMath.V()
            for l in 0..<16 { v[l] = i + l < xs.count ? xs[i + l] : 0 }
            let e = f(v)
            for l in 0..<16 where i + l < xs.count { out.append(e[l]) }
        }
        return out
    }

    /// The largest distance from Foundation's value in units of its ulp.
    func worstUlps(_ xs: [Float], _ f: (VectorMath.V) -> VectorMath.V, _ want: (Float) -> Float) -> (Float, Float) {
        var worst: (Float, Float) = (0, 0)
        for (x, y) in zip(xs, each(xs, f)) {
            let w = want(x), ulps = abs(y - w) / max(w.ulp, Float.leastNonzeroMagnitude)
            if !(ulps <= worst.0) { worst = (ulps.isNaN ? .infinity : ulps, x) }   // a NaN result is the worst
        }
        return worst
    }

    func testExpWithinTwoUlp() {
        let step: Float = (103.9 + 88.7) / 40_000
        let range: [Float] = (0..<40_000).map { i -> Float in -103.9 + Float(i) * step }
        let xs = range + (0..<20_000).map { i -> Float in -Float(i) * 1e-3 }
        let (ulps, at) = worstUlps(xs, VectorMath.exp) { Foundation.exp($0) }
        XCTAssertLessThanOrEqual(ulps, 2, "exp(\(at))")
        XCTAssertEqual(each([0], VectorMath.exp), [1])
    }

    func testExpOutsideTheRange() {
        let e = each([-104, -1000, -.infinity, 88.8, 1000, .infinity, .nan, -.nan], VectorMath.exp)
        XCTAssertEqual(Array(e[0..<6]), [0, 0, 0, .infinity, .infinity, .infinity])
        XCTAssertTrue(e[6].isNaN && e[7].isNaN)
    }

    func testTanhWithinThreeUlpAndSigmoidFour() {
        let wide: [Float] = (0..<40_000).map { i -> Float in -20 + Float(i) * 1e-3 }
        let near: [Float] = (1..<20_000).map { i -> Float in Float(i) * 5e-5 }
        let xs = wide + near + near.map { -$0 } + [0, -0, 1e-30, -1e-30, 0.625, -0.625, 0.62499997]
        let (t, tAt) = worstUlps(xs, VectorMath.tanh) { Foundation.tanh($0) }
        XCTAssertLessThanOrEqual(t, 3, "tanh(\(tAt))")
        let (s, sAt) = worstUlps(wide, VectorMath.sigmoid) { 1 / (1 + Foundation.exp(-$0)) }
        XCTAssertLessThanOrEqual(s, 4, "sigmoid(\(sAt))")
        let ends = each([50, -50, 1000, -1000, .infinity, -.infinity, .nan, 0, -0.0], VectorMath.tanh)
        XCTAssertEqual(Array(ends[0..<6]), [1, -1, 1, -1, 1, -1])
        XCTAssertTrue(ends[6].isNaN)
        XCTAssertEqual(ends[7].bitPattern, Float(0).bitPattern)
        XCTAssertEqual(ends[8].bitPattern, Float(-0.0).bitPattern, "tanh(-0) = -0")
        XCTAssertEqual(each([100, -200, .infinity, -.infinity], VectorMath.sigmoid), [1, 0, 1, 0])
        XCTAssertTrue(each([.nan], VectorMath.sigmoid)[0].isNaN)
    }

    func testArrayFormsGiveEveryElementTheVectorsValue() {
        for count in [1, 15, 16, 17, 40] {
            let xs = (0..<count).map { Float(sin(Double($0) * 0.7) * 3) }
            // one sentinel past the end: nothing is written beyond count
            var inPlace = xs + [7], into = [Float](repeating: .nan, count: count) + [7]
            inPlace.withUnsafeMutableBufferPointer { VectorMath.tanh($0.baseAddress!, count: count) }
            xs.withUnsafeBufferPointer { x in
                into.withUnsafeMutableBufferPointer { VectorMath.tanh(x.baseAddress!, into: $0.baseAddress!, count: count) }
            }
            XCTAssertEqual(inPlace, each(xs, VectorMath.tanh) + [7], "\(count)")
            XCTAssertEqual(into, inPlace, "\(count)")
            var s = xs + [7]
            s.withUnsafeMutableBufferPointer { VectorMath.sigmoid($0.baseAddress!, count: count) }
            XCTAssertEqual(s, each(xs, VectorMath.sigmoid) + [7], "\(count)")
        }
    }

    /// The LSTM step's one pass gives each unit the values of its definition through the
    /// vector functions, with and without a previous c, and writes nothing past its units.
    func testLstmStepIsItsDefinition() {
        for units in [5, 16, 20, 37] {
            let pre = (0..<(4 * units)).map { Float(sin(Double($0) * 0.9) * 4) }
            let rec = (0..<(4 * units)).map { Float(cos(Double($0) * 0.4)) }
            let cPrev = (0..<units).map { Float(sin(Double($0)) * 2) }
            for previous in [false, true] {
                var z = pre + [7], c = [Float](repeating: .nan, count: units) + [7], h = c
                z.withUnsafeMutableBufferPointer { zp in c.withUnsafeMutableBufferPointer { cp in h.withUnsafeMutableBufferPointer { hp in
                    cPrev.withUnsafeBufferPointer { pp in
                        VectorMath.lstmStep(zp.baseAddress!, plus: rec, cPrev: previous ? pp.baseAddress! : nil,
                                            c: cp.baseAddress!, h: hp.baseAddress!, units: units)
                    }
                } } }
                let sum = zip(pre, rec).map { $0 + $1 }
                let i = each(Array(sum[0..<units]), VectorMath.sigmoid), f = each(Array(sum[units..<(2 * units)]), VectorMath.sigmoid)
                let cc = each(Array(sum[(2 * units)..<(3 * units)]), VectorMath.tanh)
                let o = each(Array(sum[(3 * units)...]), VectorMath.sigmoid)
                let wantC = (0..<units).map { f[$0] * (previous ? cPrev[$0] : 0) + i[$0] * cc[$0] }
                let wantH = zip(o, each(wantC, VectorMath.tanh)).map { $0 * $1 }
                let what = "units \(units), previous c \(previous)"
                XCTAssertEqual(z, i + f + cc + o + [7], what)
                XCTAssertEqual(c, wantC + [7], what)
                XCTAssertEqual(h, wantH + [7], what)
            }
        }
    }
}
