// The Keras initializers of recurrent layers: orthogonal recurrent kernels and the LSTM's
// unit forget bias (issue 17); PyTorch's N(0, 1) Embedding tables.

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

    /// 20,000 draws: mean within 4 standard errors of 0 (0.028), standard deviation of 1 (0.02),
    /// the tails of a Gaussian (not a uniform), the padding row zero.
    func testStandardNormalZeroRowDrawsNormalValuesAroundAZeroRow() {
        let (rows, columns, pad) = (2001, 10, 7)
        let spec = TensorSpec(key: "emb.weight", shape: [rows, columns], offset: 0, trainable: true,
                              initializer: .standardNormalZeroRow(row: pad, columns: columns), decays: true)
        var p = [Float](repeating: 9, count: rows * columns)
        p.withUnsafeMutableBufferPointer { initializeParameters($0.baseAddress!, tensors: [spec], seed: 3) }
        XCTAssertEqual(Array(p[pad * columns..<(pad + 1) * columns]), [Float](repeating: 0, count: columns))
        let v = (p[..<(pad * columns)] + p[((pad + 1) * columns)...]).map(Double.init)
        let n = Double(v.count), mean = v.reduce(0, +) / n
        let std = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        XCTAssertLessThan(abs(mean), 4 / n.squareRoot())
        XCTAssertLessThan(abs(std - 1), 4 / (2 * n).squareRoot())
        let beyond2 = Double(v.filter { abs($0) > 2 }.count) / n   // 4.55% for N(0, 1)
        XCTAssertEqual(beyond2, 0.0455, accuracy: 0.006)
        var q = [Float](repeating: 9, count: 40)
        let plain = TensorSpec(key: "emb.weight", shape: [4, 10], offset: 0, trainable: true, initializer: .standardNormal, decays: true)
        q.withUnsafeMutableBufferPointer { initializeParameters($0.baseAddress!, tensors: [plain], seed: 3) }
        XCTAssertTrue(q.allSatisfy { $0 != 0 && $0 != 9 && abs($0) < 6 }, "\(q)")
    }

    /// The padding-row variant draws the same table as the plain one from the same seed and
    /// tensor index, with only the padding row zeroed (a padding row past the table zeroes nothing).
    func testStandardNormalZeroRowIsThePlainTableWithOneRowZeroed() {
        func draw(_ initializer: TensorSpec.Initializer) -> [Float] {
            let spec = TensorSpec(key: "emb.weight", shape: [5, 3], offset: 0, trainable: true, initializer: initializer, decays: true)
            var p = [Float](repeating: 9, count: 15)
            p.withUnsafeMutableBufferPointer { initializeParameters($0.baseAddress!, tensors: [spec], seed: 11) }
            return p
        }
        let plain = draw(.standardNormal), padded = draw(.standardNormalZeroRow(row: 2, columns: 3))
        XCTAssertTrue(plain.allSatisfy { $0 != 0 && $0 != 9 }, "\(plain)")
        XCTAssertEqual(Array(padded[0..<6]), Array(plain[0..<6]))
        XCTAssertEqual(Array(padded[6..<9]), [0, 0, 0])
        XCTAssertEqual(Array(padded[9...]), Array(plain[9...]))
        XCTAssertEqual(draw(.standardNormalZeroRow(row: 5, columns: 3)), plain)
    }
}
