// The per-image normalization kernels (Sources/ModelcRuntime/Kernels/LayerNorm.swift):
// GroupNorm's forward against the formula computed in Double, and every output of its backward
// (dx, dgamma, dbeta) against central finite differences of L = sum(y * r), for LayerNorm's
// two forms and GroupNorm (groups of 10 channels too), with and without gamma and beta; Keras's
// fixed Normalization too, including its 1e-7 floor on sqrt(variance).

import XCTest
@testable import ModelcRuntime

final class NormalizationKernelTests: XCTestCase {
    struct Case { var samples, positions, channels, groups: Int; var gamma, beta: Bool }
    static let cases = [Case(samples: 2, positions: 1, channels: 5, groups: 1, gamma: true, beta: true),     // LayerNorm, last axis
                        Case(samples: 1, positions: 1, channels: 12, groups: 1, gamma: true, beta: false),   // LayerNorm, whole image
                        Case(samples: 2, positions: 6, channels: 4, groups: 2, gamma: true, beta: true),     // GroupNorm
                        Case(samples: 3, positions: 4, channels: 6, groups: 3, gamma: false, beta: true),
                        Case(samples: 1, positions: 3, channels: 4, groups: 4, gamma: false, beta: false),
                        // runs of 10 channels per group: the eight partial sums and their tail
                        Case(samples: 2, positions: 3, channels: 20, groups: 2, gamma: true, beta: true)]

    func values(_ n: Int, _ rng: inout UInt64, _ lo: Float, _ hi: Float) -> [Float] {
        (0..<n).map { _ in
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return lo + (hi - lo) * Float(rng >> 40) / Float(1 << 24)
        }
    }

    func forward(_ c: Case, _ x: [Float], _ gamma: [Float], _ beta: [Float], stats: inout [Float]) -> [Float] {
        let g = GroupNormGeometry(positions: c.positions, channels: c.channels, groups: c.groups, epsilon: 1e-3)
        var x = x, gamma = gamma, beta = beta
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeMutableBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            gamma.withUnsafeMutableBufferPointer { gp in beta.withUnsafeMutableBufferPointer { bp in
                stats.withUnsafeMutableBufferPointer { sp in
                    GroupNorm.forward(xp.baseAddress!, yp.baseAddress!, samples: c.samples, g, gamma: c.gamma ? gp.baseAddress : nil,
                                      beta: c.beta ? bp.baseAddress : nil, stats: sp.baseAddress!)
                }
            } }
        } }
        return y
    }

    func testGroupNormForwardIsTheFormula() {
        var rng: UInt64 = 7
        for c in Self.cases {
            let n = c.samples * c.positions * c.channels
            let x = values(n, &rng, -2, 3), gamma = values(c.channels, &rng, 0.5, 1.5), beta = values(c.channels, &rng, -0.5, 0.5)
            var stats = [Float](repeating: 0, count: c.samples * c.groups * 2)
            let y = forward(c, x, gamma, beta, stats: &stats)
            let cg = c.channels / c.groups
            for s in 0..<c.samples { for k in 0..<c.groups {
                let idx = (0..<c.positions).flatMap { p in (k * cg..<(k + 1) * cg).map { s * c.positions * c.channels + p * c.channels + $0 } }
                let mean = idx.reduce(0.0) { $0 + Double(x[$1]) } / Double(idx.count)
                let v = idx.reduce(0.0) { $0 + (Double(x[$1]) - mean) * (Double(x[$1]) - mean) } / Double(idx.count)
                for i in idx {
                    let ch = i % c.channels
                    let want = (Double(x[i]) - mean) / (v + 1e-3).squareRoot() * (c.gamma ? Double(gamma[ch]) : 1) + (c.beta ? Double(beta[ch]) : 0)
                    XCTAssertEqual(Double(y[i]), want, accuracy: 1e-5 * max(1, abs(want)), "\(c) [\(i)]")
                }
            } }
        }
    }

    func testGroupNormBackwardMatchesFiniteDifferences() {
        var rng: UInt64 = 11
        for c in Self.cases {
            let n = c.samples * c.positions * c.channels
            var x = values(n, &rng, -2, 3), gamma = values(c.channels, &rng, 0.5, 1.5), beta = values(c.channels, &rng, -0.5, 0.5)
            var r = values(n, &rng, -1, 1)
            var stats = [Float](repeating: 0, count: c.samples * c.groups * 2)
            func loss() -> Double {
                var st = [Float](repeating: 0, count: stats.count)
                let y = forward(c, x, gamma, beta, stats: &st)
                return zip(y, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            _ = forward(c, x, gamma, beta, stats: &stats)
            var dx = [Float](repeating: .nan, count: n)
            var dGamma = [Float](repeating: 0, count: c.channels), dBeta = [Float](repeating: 0, count: c.channels)
            let g = GroupNormGeometry(positions: c.positions, channels: c.channels, groups: c.groups, epsilon: 1e-3)
            r.withUnsafeMutableBufferPointer { rp in x.withUnsafeMutableBufferPointer { xp in dx.withUnsafeMutableBufferPointer { dp in
                gamma.withUnsafeMutableBufferPointer { gp in stats.withUnsafeMutableBufferPointer { sp in
                    dGamma.withUnsafeMutableBufferPointer { dg in dBeta.withUnsafeMutableBufferPointer { db in
                        GroupNorm.backward(rp.baseAddress!, xp.baseAddress!, dx: dp.baseAddress, samples: c.samples, g,
                                           gamma: c.gamma ? gp.baseAddress : nil, stats: sp.baseAddress!,
                                           dGamma: c.gamma ? dg.baseAddress : nil, dBeta: c.beta ? db.baseAddress : nil)
                    } }
                } }
            } } }
            let eps: Float = 1e-2
            /// The central difference in x (0), gamma (1) or beta (2) at i.
            func numeric(_ which: Int, _ i: Int) -> Double {
                func set(_ v: Float) { switch which { case 0: x[i] = v; case 1: gamma[i] = v; default: beta[i] = v } }
                let old = which == 0 ? x[i] : which == 1 ? gamma[i] : beta[i]
                set(old + eps); let lp = loss()
                set(old - eps); let lm = loss()
                set(old)
                return (lp - lm) / Double(2 * eps)
            }
            func expect(_ analytic: Float, _ num: Double, _ what: String) {
                XCTAssertEqual(Double(analytic), num, accuracy: 2e-3 + 1e-2 * abs(num), "\(c): \(what)")
            }
            for i in 0..<n { expect(dx[i], numeric(0, i), "dx[\(i)]") }
            for ch in 0..<c.channels {
                if c.gamma { expect(dGamma[ch], numeric(1, ch), "dgamma[\(ch)]") }
                if c.beta { expect(dBeta[ch], numeric(2, ch), "dbeta[\(ch)]") }
            }
        }
    }

    func testFixedNormalizationForwardAndBackward() {
        var rng: UInt64 = 5
        let rows = 4, channels = 3
        var x = values(rows * channels, &rng, -2, 2), dy = values(rows * channels, &rng, -1, 1)
        var mean: [Float] = [0.25, -0.5, 1], variance: [Float] = [4, 0.25, 0]   // the last: Keras's 1e-7 floor
        var y = [Float](repeating: .nan, count: x.count), dx = y
        x.withUnsafeMutableBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            mean.withUnsafeMutableBufferPointer { mp in variance.withUnsafeMutableBufferPointer { vp in
                FixedNormalization.forward(xp.baseAddress!, yp.baseAddress!, rows: rows, channels: channels, mean: mp.baseAddress!, variance: vp.baseAddress!)
                dy.withUnsafeMutableBufferPointer { dp in dx.withUnsafeMutableBufferPointer { dxp in
                    FixedNormalization.backward(dp.baseAddress!, dx: dxp.baseAddress!, rows: rows, channels: channels, variance: vp.baseAddress!)
                } }
            } }
        } }
        let denominators: [Float] = [2, 0.5, 1e-7]
        for i in 0..<x.count {
            let ch = i % channels
            XCTAssertEqual(y[i], (x[i] - mean[ch]) / denominators[ch], accuracy: 1e-6 * max(1, abs(y[i])))
            // y is linear in x with slope 1 / denominator: the backward is exactly that slope.
            XCTAssertEqual(dx[i], dy[i] / denominators[ch], accuracy: 1e-6 * max(1, abs(dx[i])))
        }
    }
}
