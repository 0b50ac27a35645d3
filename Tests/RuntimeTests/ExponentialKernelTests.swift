// Exponential.exp (Sources/ModelcRuntime/Kernels/Exponential.swift) against Foundation's exp:
// within 2 ulp from -103.9 (subnormal results) to 88.7, exact at 0, 0 below the range, +inf
// above it, NaN kept.

import XCTest
import Foundation
@testable import ModelcRuntime

final class ExponentialKernelTests: XCTestCase {
    func exp16(_ xs: [Float]) -> [Float] {
        var out: [Float] = []
        for i in stride(from: 0, to: xs.count, by: 16) {
            var v = Exponential.V()
            for l in 0..<16 { v[l] = i + l < xs.count ? xs[i + l] : 0 }
            let e = Exponential.exp(v)
            for l in 0..<16 where i + l < xs.count { out.append(e[l]) }
        }
        return out
    }

    func testWithinTwoUlpOfFoundationsExp() {
        // a sweep of the normal range, and the softmax's side of it (x <= 0) finely
        let step: Float = (103.9 + 88.7) / 40_000
        let range: [Float] = (0..<40_000).map { i -> Float in -103.9 + Float(i) * step }
        let xs = range + (0..<20_000).map { i -> Float in -Float(i) * 1e-3 }
        for (x, e) in zip(xs, exp16(xs)) {
            let want: Float = Foundation.exp(x)
            XCTAssertLessThanOrEqual(abs(e - want), max(want.ulp, Float.leastNonzeroMagnitude) * 2, "exp(\(x)) = \(e), Foundation \(want)")
        }
        XCTAssertEqual(exp16([0]), [1])
    }

    func testOutsideTheRange() {
        let e = exp16([-104, -1000, -.infinity, 88.8, 1000, .infinity, .nan, -.nan])
        XCTAssertEqual(Array(e[0..<6]), [0, 0, 0, .infinity, .infinity, .infinity])
        XCTAssertTrue(e[6].isNaN && e[7].isNaN)
    }
}
