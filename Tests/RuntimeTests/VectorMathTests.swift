// VectorMath (Sources/ModelcRuntime/Kernels/VectorMath.swift) against Foundation: exp within 2 ulp
// from -103.9 (subnormal results) to 88.7, exact at 0, 0 below the range and +inf above it;
// tanh within 3 ulp and sigmoid within 4 ulp of their Foundation forms over [-20, 20] (tanh
// finely near 0, where its polynomial takes over); NaN kept; the array form the same on every
// element, the tail's too; the LSTM step's one pass (`lstmStep`) equal to its definition. The
// smooth activations' pieces against Double: expm1 within 2 ulp, log1p on [0, 1] within 3, erfc
// within 8 + a^2 ulp (the exponent -a^2 rounds); silu, elu, selu, softplus and mish within 4 ulp,
// gelu within 2e-7 (32 ulp for |x| <= 4).

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

    /// The largest distance from a Double reference in units of the Float result's ulp.
    func worstUlpsFromDouble(_ xs: [Float], _ ys: [Float], _ want: (Double) -> Double) -> (Double, Float) {
        var worst: (Double, Float) = (0, 0)
        for (x, y) in zip(xs, ys) {
            let w = want(Double(x)), ulps = abs(Double(y) - w) / Double(max(Float(w).ulp, Float.leastNormalMagnitude))
            if !(ulps <= worst.0) { worst = (ulps.isNaN ? .infinity : ulps, x) }
        }
        return worst
    }

    func testExpm1WithinTwoUlp() {
        let wide: [Float] = (0..<80_000).map { -20 + Float($0) * 5e-4 }
        let near: [Float] = (1..<20_000).map { Float($0) * 1e-6 }
        let top: [Float] = (0..<2_000).map { 80 + Float($0) * 4.36e-3 }   // up to 88.72, where 2^n alone overflows
        let xs = wide + near + near.map { -$0 } + top
        let (ulps, at) = worstUlpsFromDouble(xs, each(xs, VectorMath.expm1)) { Foundation.expm1($0) }
        XCTAssertLessThanOrEqual(ulps, 2, "expm1(\(at))")
        let ends = each([-200, -.infinity, 89, .infinity, 1e-30, -1e-30, 88, .nan], VectorMath.expm1)
        XCTAssertEqual(Array(ends[0..<6]), [-1, -1, .infinity, .infinity, 1e-30, -1e-30])
        XCTAssertEqual(Double(ends[6]), Foundation.expm1(88), accuracy: 2 * Double(ends[6].ulp))
        XCTAssertTrue(ends[7].isNaN)
        XCTAssertEqual(each([-0.0], VectorMath.expm1)[0].bitPattern, Float(-0.0).bitPattern, "expm1(-0) = -0")
    }

    func testLog1pOnTheUnitIntervalWithinThreeUlp() {
        let grid: [Float] = (0...100_000).map { Float($0) * 1e-5 }
        let xs = grid + [1e-30, 1e-8, 3e-8, 6e-8, 1e-7, Float.leastNormalMagnitude]
        let (ulps, at) = worstUlpsFromDouble(xs, each(xs, VectorMath.log1pUnit)) { Foundation.log1p($0) }
        XCTAssertLessThanOrEqual(ulps, 3, "log1p(\(at))")
        XCTAssertTrue(each([.nan], VectorMath.log1pUnit)[0].isNaN)
    }

    func testErfcRelativeErrorGrowsOnlyWithTheExponent() {
        for i in 0..<90_000 {
            let a = Float(i) * 1e-4, y = each([a], VectorMath.erfcNonNegative)[0], w = Foundation.erfc(Double(a))
            let ulps = abs(Double(y) - w) / Double(Float(w).ulp)
            if ulps > 8 + Double(a * a) { XCTFail("erfc(\(a)) = \(y), want \(w): \(ulps) ulp"); return }
        }
        XCTAssertEqual(each([0, .infinity, 12], VectorMath.erfcNonNegative), [1, 0, 0])
    }

    func testSmoothActivationsNearTheirDefinitions() {
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        func softplus(_ v: Double) -> Double { v > 20 ? v : Foundation.log1p(Foundation.exp(v)) }
        let within4: [(ActivationFunction, (Double) -> Double)] = [
            (.silu, { $0 * sigmoid($0) }), (.elu(0.7), { $0 > 0 ? $0 : 0.7 * Foundation.expm1($0) }),
            (.selu, { 1.0507009873554804934 * ($0 > 0 ? $0 : 1.6732632423543772848 * Foundation.expm1($0)) }),
            (.softplus, softplus), (.mish, { $0 * Foundation.tanh(softplus($0)) }),
        ]
        let grid: [Float] = (0..<80_000).map { -20 + Float($0) * 5e-4 }
        let xs = grid + [1e-6, -1e-6, 19.99, 20.01, 25, 30, -30]
        func apply(_ f: ActivationFunction, _ x: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: x.count)
            VectorMath.smooth(f, x, &y, count: x.count)
            return y
        }
        for (f, want) in within4 {
            let (ulps, at) = worstUlpsFromDouble(xs, apply(f, xs), want)
            XCTAssertLessThanOrEqual(ulps, 4, "\(f)(\(at))")
        }
        let gelu = { (x: Double) in x * 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) }
        let y = apply(.gelu, xs)
        for (x, v) in zip(xs, y) where abs(Double(v) - gelu(Double(x))) > 2e-7 * max(1, abs(gelu(Double(x)))) {
            XCTFail("gelu(\(x)) = \(v), want \(gelu(Double(x)))")
            break
        }
        let near = xs.filter { abs($0) <= 4 }
        let (ulps, at) = worstUlpsFromDouble(near, apply(.gelu, near), gelu)
        XCTAssertLessThanOrEqual(ulps, 32, "gelu(\(at))")
    }
}
