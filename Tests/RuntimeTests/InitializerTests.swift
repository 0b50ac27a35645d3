// The Keras initializers of recurrent layers: orthogonal recurrent kernels and the LSTM's
// unit forget bias (issue 17).

import XCTest
@testable import ModelcRuntime

final class InitializerTests: XCTestCase {
    /// rows <= columns: the rows are orthonormal; rows > columns: the columns are.
    func testOrthogonalIsOrthonormalAlongItsShorterSide() {
        for (rows, columns) in [(8, 32), (32, 8), (5, 5)] {
            let spec = TensorSpec(key: "rnn/recurrent_kernel", shape: [rows, columns], offset: 0, trainable: true,
                                  initializer: .orthogonal(rows: rows, columns: columns), decays: true)
            var p = [Float](repeating: 0, count: rows * columns)
            p.withUnsafeMutableBufferPointer { initializeParameters($0.baseAddress!, tensors: [spec], seed: 7) }
            let k = min(rows, columns), len = max(rows, columns)
            func at(_ v: Int, _ j: Int) -> Double { Double(rows <= columns ? p[v * columns + j] : p[j * columns + v]) }
            for a in 0..<k {
                for b in 0..<k {
                    let dot = (0..<len).reduce(0.0) { $0 + at(a, $1) * at(b, $1) }
                    XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-5, "\(rows)x\(columns): vectors \(a), \(b)")
                }
            }
            XCTAssertGreaterThan(Set(p).count, rows * columns / 2, "a random matrix, not a permutation")
        }
    }

    func testUnitForgetBiasSetsTheForgetGateOnly() {
        let spec = TensorSpec(key: "lstm/bias", shape: [12], offset: 0, trainable: true,
                              initializer: .unitForgetBias(units: 3), decays: false)
        var p = [Float](repeating: 5, count: 12)
        p.withUnsafeMutableBufferPointer { initializeParameters($0.baseAddress!, tensors: [spec], seed: 1) }
        XCTAssertEqual(p, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])   // gates i, f, c, o
    }
}
