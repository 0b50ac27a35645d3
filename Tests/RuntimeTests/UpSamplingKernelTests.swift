// The runtime's nearest upsampling kernel (Sources/ModelcRuntime/Kernels/UpSampling.swift)
// against plain scalar loops, bit for bit, in its inlined and its out-of-line form: square and
// non-square factors, factor 1 on one axis, one and many channels, NaN and signed zeros.

import XCTest
@testable import ModelcRuntime

final class UpSamplingKernelTests: XCTestCase {
    /// (height, width, channels, size height, size width)
    static let cases = [(3, 4, 5, 2, 2), (2, 3, 1, 1, 3), (4, 1, 17, 3, 1), (1, 1, 2, 4, 5), (5, 2, 64, 2, 3)]

    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { i in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            switch i % 11 {
            case 3: return .nan
            case 7: return -0.0
            default: return Float(Int(s >> 40) % 2001 - 1000) / 997
            }
        }
    }

    func testForwardAndBackwardAgainstScalarLoops() {
        for (h, w, c, sh, sw) in Self.cases {
            let g = UpSamplingGeometry(input: (h, w, c), size: (sh, sw))
            let x = values(h * w * c, seed: UInt64(h * 31 + w)), dy = values(h * sh * w * sw * c, seed: UInt64(c))
            var want = [Float](repeating: 0, count: dy.count), wantDx = [Float](repeating: 0, count: x.count)
            for oh in 0..<(h * sh) { for ow in 0..<(w * sw) { for k in 0..<c {
                want[(oh * w * sw + ow) * c + k] = x[(oh / sh * w + ow / sw) * c + k]
            } } }
            for ih in 0..<h { for iw in 0..<w { for k in 0..<c {
                var sum: Float = 0
                for i in 0..<sh { for j in 0..<sw { sum += dy[((ih * sh + i) * w * sw + iw * sw + j) * c + k] } }
                wantDx[(ih * w + iw) * c + k] = sum
            } } }
            for inlined in [true, false] {
                var y = [Float](repeating: 7, count: dy.count), dx = [Float](repeating: 7, count: x.count)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                    if inlined { UpSampling.nearestInlined(xp.baseAddress!, yp.baseAddress!, g) } else { UpSampling.nearestOutOfLine(xp.baseAddress!, yp.baseAddress!, g) }
                } }
                dy.withUnsafeBufferPointer { dp in dx.withUnsafeMutableBufferPointer { xp in
                    if inlined { UpSampling.nearestBackwardInlined(xp.baseAddress!, dp.baseAddress!, g) } else { UpSampling.nearestBackwardOutOfLine(xp.baseAddress!, dp.baseAddress!, g) }
                } }
                let label = "\(h)x\(w)x\(c) by \(sh)x\(sw)\(inlined ? "" : " out of line")"
                XCTAssertEqual(y.map(\.bitPattern), want.map(\.bitPattern), "forward \(label)")
                XCTAssertEqual(dx.map(\.bitPattern), wantDx.map(\.bitPattern), "backward \(label)")
            }
        }
    }
}
