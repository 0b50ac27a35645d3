// The initial Embedding tables of emitted models: PyTorch nn.Embedding / nn.EmbeddingBag start
// from N(0, 1) with the padding_idx row zero, Keras Embedding from U(-0.05, 0.05)
// (ModelInfoEmitter.initializer, drawn by the runtime's initializeParameters).
import XCTest
import ModelcRuntime
import GeneratedTestModels

final class EmbeddingInitializationTests: XCTestCase {
    func table(_ model: String, _ key: String, seed: UInt64) throws -> (TensorSpec, [Float]) {
        let t = try XCTUnwrap(backendTestModels[model], model)
        let m = t.init(maxBatch: 1)
        initializeParameters(m.parameters, tensors: t.info.tensors, seed: seed)
        let spec = try XCTUnwrap(t.info.tensors.first { $0.key == key }, "\(model): \(key)")
        return (spec, Array(UnsafeBufferPointer(start: m.parameters + spec.offset, count: spec.count)))
    }

    /// The tables hold 32 or 36 draws: mean and standard deviation within 4 standard errors of
    /// N(0, 1)'s (U(-0.05, 0.05) has standard deviation 0.029), over several seeds.
    func testPyTorchTablesStartStandardNormal() throws {
        for (model, key, padding) in [("fx_pytorch_embedding_bag", "embedding.weight", 0 as Int?), ("fx_pytorch_recurrent", "embed.weight", nil)] {
            for seed: UInt64 in [1, 2, 3] {
                let (spec, w) = try table(model, key, seed: seed)
                let columns = spec.shape[1]
                var rows = Array(0..<spec.shape[0])
                if let p = padding {
                    XCTAssertEqual(Array(w[p * columns..<(p + 1) * columns]), [Float](repeating: 0, count: columns), "\(model): the padding row")
                    rows.removeAll { $0 == p }
                }
                let v = rows.flatMap { r in w[r * columns..<(r + 1) * columns].map(Double.init) }
                let mean = v.reduce(0, +) / Double(v.count)
                let std = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)).squareRoot()
                let n = Double(v.count)
                XCTAssertLessThan(abs(mean), 4 / n.squareRoot(), "\(model) seed \(seed): mean")
                XCTAssertLessThan(abs(std - 1), 4 / (2 * n).squareRoot(), "\(model) seed \(seed): standard deviation")
            }
        }
    }

    func testKerasTablesStayWithinFiveHundredths() throws {
        for model in ["fx_graph_inputs", "fx_sequence_stack"] {
            let (spec, w) = try table(model, "embedding/embeddings", seed: 1)
            XCTAssertEqual(spec.initializer, .glorotUniform(fanIn: 1200, fanOut: 1200), model)
            XCTAssertTrue(w.allSatisfy { abs($0) <= 0.05 }, "\(model): \(w)")
            XCTAssertGreaterThan(w.map(abs).max() ?? 0, 0.03, model)
        }
    }
}
