// nn.EmbeddingBag and nn.Embedding(padding_idx) end to end: the generated fx_pytorch_embedding_bag
// model (Tests/Fixtures/numerics/pytorch_embedding_bag, compared with PyTorch by
// KerasFixtureTests and by finite differences in GradientCheckTests) loads the state_dict saved by
// torch.save with its loaded padding row intact, never moves that row, and starts it at zero; an
// Embedding's padding row is emitted into its backward and its initializer.

import XCTest
import Foundation
@testable import ModelcCore
import ModelcBackend
import GeneratedTestModels
import ModelcRuntime
import ModelcData

final class EmbeddingBagModelTests: XCTestCase {
    static let dir = KerasFixtureTests.root + "/pytorch_embedding_bag"

    func testPthKeepsTheLoadedPaddingRow() throws {
        let t = try XCTUnwrap(backendTestModels["fx_pytorch_embedding_bag"])
        let a = t.init(maxBatch: 4), b = t.init(maxBatch: 4)
        try WeightsFile.load(Self.dir + "/weights.pth", into: a)
        try WeightsFile.load(Self.dir + "/weights.npz", into: b)
        XCTAssertEqual(TestModels.parameters(a), TestModels.parameters(b))
        let spec = try XCTUnwrap(t.info.tensors.first { $0.key == "embedding.weight" })
        let file = try XCTUnwrap(try NPZ.read(path: Self.dir + "/weights.npz")["embedding.weight"]).floats()
        let row0 = Array(UnsafeBufferPointer(start: a.parameters + spec.offset, count: 4))
        XCTAssertEqual(row0, Array(file[0..<4]))
        XCTAssertTrue(row0.contains { $0 != 0 }, "the fixture's padding row is loaded, not zero")

        // Its gradient is zero, so a step leaves it; the rows the bags use do move.
        let io = try NPZ.read(path: Self.dir + "/io.npz")
        let x = try XCTUnwrap(io["input"]).floats()
        _ = TestModels.forward(a, x, count: 4, training: true)
        TestModels.backward(a, try XCTUnwrap(io["upstream"]).floats(), count: 4)
        let g = Array(UnsafeBufferPointer(start: a.gradients + spec.offset, count: spec.count))
        XCTAssertEqual(Array(g[0..<4]), [0, 0, 0, 0])
        XCTAssertTrue(g[4...].contains { $0 != 0 })
    }

    func testPaddingRowStartsAtZero() throws {
        let t = try XCTUnwrap(backendTestModels["fx_pytorch_embedding_bag"])
        let m = t.init(maxBatch: 1)
        initializeParameters(m.parameters, tensors: t.info.tensors, seed: 5)
        let spec = try XCTUnwrap(t.info.tensors.first { $0.key == "embedding.weight" })
        XCTAssertEqual(spec.initializer, .standardNormalZeroRow(row: 0, columns: 4))
        let w = Array(UnsafeBufferPointer(start: m.parameters + spec.offset, count: spec.count))
        XCTAssertEqual(Array(w[0..<4]), [0, 0, 0, 0])
        XCTAssertTrue(w[4...].allSatisfy { $0 != 0 })
    }

    func testEmbeddingPaddingIsEmitted() throws {
        let text = """
        Net(
          (emb): Embedding(10, 4, padding_idx=-2)
          (gru): GRU(4, 3, batch_first=True)
          (fc): Linear(in_features=3, out_features=2, bias=True)
        )
        ```modelc
        input: shape=5
        ```
        """
        let r = try Frontend.check(text: text, path: "embedding_padding.md")
        XCTAssertTrue(r.ok && Emitter.problems(r.ir).isEmpty, "\(r.problems) \(Emitter.problems(r.ir))")
        let src = Emitter.emit(r.ir, fuse: true).source
        XCTAssertTrue(src.contains("gTable: partials + t * "), src)
        XCTAssertTrue(src.contains(", paddingIdx: 8)"), "the padding row is left out of the backward")
        XCTAssertTrue(src.contains(".standardNormalZeroRow(row: 8, columns: 4)"))
        var plain = r.ir
        plain.layers[1].op = .embedding(vocab: 10, dim: 4)
        XCTAssertNotEqual(Fingerprint.of(r.ir), Fingerprint.of(plain), "the padding row is part of the fingerprint")
        XCTAssertFalse(Emitter.emit(plain, fuse: true).source.contains("paddingIdx"))
    }

    func testTokenLayerMustBeFirst() {
        var ir = ModelIR(name: "m", sourcePath: "m.md", semantics: .pytorch, inputShape: [4, 4], layers: [])
        ir.layers = [
            Layer(name: "input", kind: "Input", op: .input, inputShape: [4, 4], outputShape: [4, 4], line: 1),
            Layer(name: "fl", kind: "Flatten", op: .flatten, inputShape: [4, 4], outputShape: [16], line: 2),
            Layer(name: "bag", kind: "EmbeddingBag", op: .embeddingBag(EmbeddingBagAttrs(vocab: 5, dim: 2, mode: .max, paddingIdx: 7)),
                  inputShape: [16], outputShape: [2], line: 3),
        ]
        let text = Emitter.problems(ir).map(\.message).joined(separator: "\n")
        XCTAssertTrue(text.contains("an EmbeddingBag reads the model's input (token ids): it must be the first layer"), text)
        XCTAssertTrue(text.contains("EmbeddingBag padding index 7 is not a row of its 5-row table"), text)
    }
}
