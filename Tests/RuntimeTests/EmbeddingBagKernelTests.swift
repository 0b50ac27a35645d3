// The Embedding (with a padding row) and EmbeddingBag kernels against PyTorch
// (Tests/Fixtures/numerics/embedding_kernels, made by make_pytorch_embedding_fixtures.py):
// outputs and table gradients at relative 1e-4, the padding row's gradient exactly zero, the
// gradients against central finite differences, bad ids reported and left out, and the
// padding row's zero initialization.

import XCTest
import ModelcData
@testable import ModelcRuntime

final class EmbeddingBagKernelTests: XCTestCase {
    static let fixture: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/numerics/embedding_kernels/cases.npz").path
    }()

    struct Case {
        var ids: [Float], table: [Float], upstream: [Float], output: [Float], grad: [Float]
        var vocab: Int, dim: Int, count: Int, steps: Int
        var padding: Int?
        /// nil: an Embedding.
        var mode: EmbeddingBagReduction?
    }

    static let caseNames = ["embedding_padding", "embedding_negative_padding"]
        + ["sum", "mean", "max"].flatMap { ["bag_\($0)_padding", "bag_\($0)"] }

    func load(_ name: String) throws -> Case {
        let a = try NPZ.read(path: Self.fixture)
        func get(_ k: String) throws -> NDArray { try XCTUnwrap(a["\(name)/\(k)"], "\(name)/\(k) missing") }
        let cfg = try get("config").floats().map { Int($0) }
        let ids = try get("ids")
        let modes: [EmbeddingBagReduction] = [.sum, .mean, .max]
        return Case(ids: try ids.floats(), table: try get("table").floats(), upstream: try get("upstream").floats(),
                    output: try get("output").floats(), grad: try get("grad").floats(), vocab: cfg[0], dim: cfg[1],
                    count: ids.shape[0], steps: ids.shape[1], padding: cfg[2] < 0 ? nil : cfg[2], mode: cfg[3] < 0 ? nil : modes[cfg[3]])
    }

    func forward(_ c: Case, table: [Float]) -> (y: [Float], bad: Float?) {
        var y = [Float](repeating: .nan, count: c.count * (c.mode == nil ? c.steps : 1) * c.dim)
        var bad: Float?
        c.ids.withUnsafeBufferPointer { ids in table.withUnsafeBufferPointer { t in y.withUnsafeMutableBufferPointer { yp in
            if let mode = c.mode {
                bad = EmbeddingBagKernel.forward(ids: ids.baseAddress!, count: c.count, steps: c.steps, table: t.baseAddress!, vocab: c.vocab,
                                                 dim: c.dim, mode: mode, paddingIdx: c.padding, y: yp.baseAddress!)
            } else {
                bad = EmbeddingKernel.forward(ids: ids.baseAddress!, count: c.count * c.steps, table: t.baseAddress!, vocab: c.vocab,
                                              dim: c.dim, y: yp.baseAddress!)
            }
        } } }
        return (y, bad)
    }

    func backward(_ c: Case) -> [Float] {
        var g = [Float](repeating: .nan, count: c.vocab * c.dim)
        c.ids.withUnsafeBufferPointer { ids in c.table.withUnsafeBufferPointer { t in c.upstream.withUnsafeBufferPointer { dy in
            g.withUnsafeMutableBufferPointer { gp in
                if let mode = c.mode {
                    EmbeddingBagKernel.backward(ids: ids.baseAddress!, count: c.count, dy: dy.baseAddress!, steps: c.steps, table: t.baseAddress!,
                                                vocab: c.vocab, dim: c.dim, mode: mode, paddingIdx: c.padding, gTable: gp.baseAddress!)
                } else {
                    EmbeddingKernel.backward(ids: ids.baseAddress!, count: c.count * c.steps, dy: dy.baseAddress!, vocab: c.vocab, dim: c.dim,
                                             gTable: gp.baseAddress!, paddingIdx: c.padding)
                }
            }
        } } }
        return g
    }

    /// max |a - b| <= tol * max |b|
    func assertClose(_ a: [Float], _ b: [Float], _ tol: Float = 1e-4, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        let diff = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(diff, tol * scale, "\(what): max difference \(diff), scale \(scale)", file: file, line: line)
    }

    func testAgainstPyTorch() throws {
        for name in Self.caseNames {
            let c = try load(name)
            let (y, bad) = forward(c, table: c.table)
            XCTAssertNil(bad, name)
            assertClose(y, c.output, 1e-4, "\(name): output")
            let g = backward(c)
            assertClose(g, c.grad, 1e-4, "\(name): table gradient")
            if let p = c.padding {
                XCTAssertTrue(c.table[(p * c.dim)..<((p + 1) * c.dim)].contains { $0 != 0 }, "\(name): the fixture's padding row is loaded, not zero")
                XCTAssertEqual(Array(g[(p * c.dim)..<((p + 1) * c.dim)]), [Float](repeating: 0, count: c.dim), "\(name): padding row gradient")
            }
        }
        // The negative padding_idx=-1 is row vocab - 1; an Embedding still outputs the padding row itself.
        let e = try load("embedding_negative_padding")
        XCTAssertEqual(e.padding, e.vocab - 1)
        let (y, _) = forward(e, table: e.table)
        let at = try XCTUnwrap(e.ids.firstIndex(of: Float(e.vocab - 1)))
        XCTAssertEqual(Array(y[(at * e.dim)..<((at + 1) * e.dim)]), Array(e.table[((e.vocab - 1) * e.dim)...]))
    }

    /// L = sum(y * upstream): every table entry's gradient against (L(w + h) - L(w - h)) / 2h,
    /// but for an Embedding's padding row: its output reads that row, so L depends on it, yet
    /// PyTorch defines its gradient as zero (testAgainstPyTorch checks that). A bag leaves the
    /// padding row out, so there the difference quotient is zero too and is checked.
    func testFiniteDifferences() throws {
        for name in Self.caseNames {
            let c = try load(name)
            let g = backward(c)
            func loss(_ t: [Float]) -> Double {
                zip(forward(c, table: t).y, c.upstream).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            let h: Float = 1e-3
            var checked = 0
            for i in 0..<c.table.count where c.mode != nil || i / c.dim != c.padding {
                var plus = c.table, minus = c.table
                plus[i] += h; minus[i] -= h
                let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
                XCTAssertEqual(Double(g[i]), numeric, accuracy: 1e-3 + 1e-3 * abs(numeric), "\(name): table[\(i)]")
                checked += 1
            }
            XCTAssertEqual(checked, (c.vocab - (c.mode == nil && c.padding != nil ? 1 : 0)) * c.dim)
        }
    }

    /// A bad id is reported and left out of its bag; the other ids still count.
    func testBadIdIsLeftOut() {
        let table: [Float] = [1, 2, 3, 4, 5, 6]   // 3 rows of 2
        let ids: [Float] = [1, 7, 2.5, 2]
        var y = [Float](repeating: 0, count: 2)
        let bad = ids.withUnsafeBufferPointer { i in table.withUnsafeBufferPointer { t in y.withUnsafeMutableBufferPointer { yp in
            EmbeddingBagKernel.forward(ids: i.baseAddress!, count: 1, steps: 4, table: t.baseAddress!, vocab: 3, dim: 2, mode: .mean,
                                       paddingIdx: nil, y: yp.baseAddress!)
        } } }
        XCTAssertEqual(bad, 7)
        XCTAssertEqual(y, [4, 5])   // the mean of rows 1 and 2
    }

    func testPaddingRowStartsAtZero() {
        let spec = TensorSpec(key: "embedding.weight", shape: [5, 3], offset: 0, trainable: true,
                              initializer: .standardNormalZeroRow(row: 2, columns: 3), decays: true)
        var p = [Float](repeating: 9, count: 15)
        p.withUnsafeMutableBufferPointer { initializeParameters($0.baseAddress!, tensors: [spec], seed: 4) }
        XCTAssertEqual(Array(p[6..<9]), [0, 0, 0])
        XCTAssertTrue((p[0..<6] + p[9...]).allSatisfy { $0 != 0 }, "\(p)")
    }
}
