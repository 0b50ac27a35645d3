// The smooth activations (silu, gelu and its tanh form, hard_sigmoid, hard_swish, selu, softplus,
// softsign, mish) against their textbook definitions computed in Double, and every backward
// (from y, or from x for those that `needsInput`) against central finite differences of the
// Double definition, in place as the emitted layers call them, inlined and out of line.
// PyTorch's own values: Tests/Fixtures/pytorch_smooth (the compiled model's fixture test).

import Foundation
import XCTest
@testable import ModelcRuntime

final class SmoothActivationTests: XCTestCase {
    static let functions: [ActivationFunction] = [.silu, .gelu, .geluTanh, .hardSigmoid(1 / 6, 0.5), .hardSigmoid(0.2, 0.5),
                                                  .hardSwish, .selu, .softplus, .softsign, .mish]

    /// The definitions, in Double.
    func reference(_ f: ActivationFunction, _ x: Double) -> Double {
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        func softplus(_ v: Double) -> Double { v > 30 ? v : Foundation.log(1 + Foundation.exp(v)) }
        switch f {
        case .silu: return x * sigmoid(x)
        case .gelu: return x * 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .geluTanh: return 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .hardSigmoid(let a, let b): return min(max(Double(a) * x + Double(b), 0), 1)
        case .hardSwish: return x * min(max(x + 3, 0), 6) / 6
        case .selu: return 1.0507009873554804934 * (x > 0 ? x : 1.6732632423543772848 * (Foundation.exp(x) - 1))
        case .softplus: return softplus(x)
        case .softsign: return x / (1 + abs(x))
        case .mish: return x * Foundation.tanh(softplus(x))
        default: preconditionFailure("\(f)")
        }
    }

    /// Points in [-6, 6] away from the kinks of the piecewise functions (hard_sigmoid, hard_swish
    /// at -3 and 3 and 0.2 x + 0.5 at -2.5 and 2.5; selu at 0), where a difference quotient is exact.
    let points: [Float] = stride(from: -6.0, through: 6.0, by: 0.173).map { Float($0) } + [-0.01, 0.01, 7.9, 25, -25]

    func testForwardMatchesTheDefinition() {
        for f in Self.functions {
            var y = [Float](repeating: 0, count: points.count)
            points.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { Activations.forwardInlined(f, x.baseAddress!, $0.baseAddress!, count: points.count) } }
            for (i, x) in points.enumerated() {
                let want = reference(f, Double(x))
                XCTAssertEqual(Double(y[i]), want, accuracy: 2e-6 * max(1, abs(want)), "\(f)(\(x))")
            }
        }
    }

    func testBackwardMatchesFiniteDifferences() {
        let h = 1e-4
        for f in Self.functions {
            let n = points.count
            let x = points, dy = (0..<n).map { Float(1 + $0 % 3) / 2 }
            var y = [Float](repeating: 0, count: n)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Activations.forwardInlined(f, xp.baseAddress!, $0.baseAddress!, count: n) } }
            for inlined in [true, false] {
                var dx = dy   // in place: dx over dy
                dx.withUnsafeMutableBufferPointer { d in
                    let p = d.baseAddress!
                    switch (f.needsInput, inlined) {
                    case (true, true): Activations.backwardFromInputInlined(f, dy: p, x: x, dx: p, count: n)
                    case (true, false): Activations.backwardFromInputOutOfLine(f, dy: p, x: x, dx: p, count: n)
                    case (false, true): Activations.backwardInlined(f, dy: p, y: y, dx: p, count: n)
                    case (false, false): Activations.backwardOutOfLine(f, dy: p, y: y, dx: p, count: n)
                    }
                }
                for i in 0..<n {
                    let v = Double(x[i])
                    let slope = (reference(f, v + h) - reference(f, v - h)) / (2 * h)
                    XCTAssertEqual(Double(dx[i]), Double(dy[i]) * slope, accuracy: 1e-4 * max(1, abs(slope)), "\(f)'(\(x[i])) inlined \(inlined)")
                }
            }
        }
    }

    /// Large and non-finite inputs: no NaN where the function has a limit, PyTorch's threshold for softplus.
    func testTails() {
        let x: [Float] = [-100, 100, -.infinity, .infinity]
        for f in Self.functions {
            var y = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Activations.forwardInlined(f, xp.baseAddress!, $0.baseAddress!, count: x.count) } }
            XCTAssertFalse(y[0].isNaN || y[1].isNaN, "\(f) at -100, 100: \(y)")
            XCTAssertEqual(y[1], Float(reference(f, 100)), accuracy: 1e-5 * max(1, y[1]), "\(f)(100)")
            XCTAssertEqual(y[0], Float(reference(f, -100)), accuracy: 1e-6, "\(f)(-100)")
        }
        var sp: [Float] = [21, -120]
        sp.withUnsafeMutableBufferPointer { Activations.forwardInlined(.softplus, $0.baseAddress!, $0.baseAddress!, count: 2) }
        XCTAssertEqual(sp, [21, 0])   // PyTorch: x above threshold 20
        XCTAssertFalse(ActivationFunction.selu.needsInput)
        XCTAssertTrue(ActivationFunction.mish.needsInput)
    }
}
