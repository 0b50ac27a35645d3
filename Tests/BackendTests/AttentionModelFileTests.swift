// The attention fixture (Tests/Fixtures/numerics/graph_attention, make_graph_fixtures.py) saved by
// Keras 3 as a `.keras` file: its config gives the layers the annotated table gives (query,
// value and key in call order, use_causal_mask from the call), its weights load from the
// attention layers' `query_dense` ... groups and give Keras's outputs, and the model trains on.

import XCTest
import Foundation
import ModelcCore
import ModelcBackend
import GeneratedTestModels
import ModelcRuntime
import ModelcData
import ModelcModelFiles

final class AttentionModelFileTests: XCTestCase {
    static let dir = KerasFixtureTests.root + "/graph_attention"

    func testKerasFileWeightsGiveKerasOutputsAndTrain() throws {
        let io = try NPZ.read(path: Self.dir + "/io.npz")
        let x = try XCTUnwrap(io["input"]).floats(), want = try XCTUnwrap(io["output_inference"]).floats()
        let m = try FxGraphAttention(weights: URL(fileURLWithPath: Self.dir + "/model.keras"), maxBatch: 3)
        XCTAssertLessThan(relativeError(TestModels.forward(m, x, count: 3, training: false), want), 1e-4)
        let losses = try NormalizationModelFileTests.adamLosses(m, x, labels: [2, 0, 1])
        XCTAssertLessThan(losses[4], losses[0], "losses \(losses)")
    }

    func testTheFileAndTheAnnotatedTableGiveTheSameLayers() throws {
        let table = try Frontend.check(path: Self.dir + "/model.md").ir, file = try Frontend.check(path: Self.dir + "/model.keras").ir
        XCTAssertEqual(table.layers.map(\.name), file.layers.map(\.name))
        for (i, (t, f)) in zip(table.layers, file.layers).enumerated() {
            XCTAssertEqual(t.op, f.op, t.name)
            XCTAssertEqual(table.layers.producers(of: i), file.layers.producers(of: i), t.name)
            XCTAssertEqual(t.outputShape, f.outputShape, t.name)
        }
        guard case .multiHeadAttention(let a)? = file.layers.first(where: { $0.name == "mha_2" })?.op else { return XCTFail("mha_2") }
        XCTAssertTrue(a.causal, "use_causal_mask=True from the call's kwargs")
    }

    /// A Keras 2 `.h5` (tf_keras 2.21, Tests/Fixtures/keras_files/make_keras2_attention.py): the
    /// call `mha(q, v, k, use_causal_mask=True)` is written as the query with value= and key= in
    /// its kwargs; the weights are `mha/query/kernel:0` ... beside a Dense named `query` (whose
    /// `query/kernel:0` stays that layer's). Its compiled binary's `predict` gives tf_keras's
    /// probabilities (SweepTests' KerasCompileTests).
    func testKeras2FileCallAndWeightNames() throws {
        let path = KerasFixtureTests.root + "/../keras_files/keras2_attention.h5"
        let ir = try Frontend.check(path: path).ir
        let names = ir.layers.map(\.name)
        let mha = try XCTUnwrap(ir.layers.firstIndex { $0.name == "mha" })
        XCTAssertEqual(ir.layers.producers(of: mha).map { names[$0] }, ["query", "values", "seq"])
        guard case .multiHeadAttention(let a) = ir.layers[mha].op else { return XCTFail("\(ir.layers[mha].op)") }
        XCTAssertEqual([a.heads, a.keyDim, a.valueDim, a.keyFeatures, a.valueFeatures, a.outputDim], [2, 3, 2, 5, 4, 8])
        XCTAssertTrue(a.causal)
        let weights = try KerasWeightFiles.readH5(path: path)
        XCTAssertEqual(weights["query/kernel"]?.shape, [5, 8], "the Dense named query")
        XCTAssertEqual(weights["mha/query/kernel"]?.shape, [8, 2, 3])
        XCTAssertEqual(weights["mha/attention_output/kernel"]?.shape, [2, 2, 8])
        let model = Set(ir.layers.flatMap { l in l.paramTensors.map { "\(l.name)/\($0.scope.map { $0 + "/" } ?? "")\($0.role.rawValue)" } })
        XCTAssertEqual(Set(weights.keys), model)
    }
}

/// Attention over an Embedding's or an LSTM's sequence in a model with a 1-D layer
/// (GlobalAveragePooling1D): the lifting pass makes the attention [1, T, D] and keeps the
/// producer's [T, D] (one buffer); `check` accepted these and `compile` refused them.
final class AttentionLiftedSequenceTests: XCTestCase {
    static let lstm = """
    Model: "lstm_tf"
    ┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
    ┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
    ┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
    │ seq (InputLayer)    │ (None, 20, 8)     │          0 │ -                 │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ lstm (LSTM)         │ (None, 20, 16)    │      1,600 │ seq[0][0]         │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ mha                 │ (None, 20, 16)    │      1,088 │ lstm[0][0],       │
    │ (MultiHeadAttentio… │                   │            │ lstm[0][0]        │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ add (Add)           │ (None, 20, 16)    │          0 │ lstm[0][0],       │
    │                     │                   │            │ mha[0][0]         │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ gap                 │ (None, 16)        │          0 │ add[0][0]         │
    │ (GlobalAveragePool… │                   │            │                   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ dense (Dense)       │ (None, 2)         │         34 │ gap[0][0]         │
    └─────────────────────┴───────────────────┴────────────┴───────────────────┘
     Total params: 2,722 (10.63 KB)
     Trainable params: 2,722 (10.63 KB)
     Non-trainable params: 0 (0.00 B)

    ```modelc
    layer mha: heads=2
    ```
    """

    func testRecurrentAndEmbeddingSequencesFeedLiftedLayers() throws {
        let embedding = AttentionLiftedSequenceTests.lstm
            .replacingOccurrences(of: "│ seq (InputLayer)    │ (None, 20, 8)     │", with: "│ seq (InputLayer)    │ (None, 20)        │")
            .replacingOccurrences(of: "│ lstm (LSTM)         │ (None, 20, 16)    │      1,600 │", with: "│ lstm (Embedding)    │ (None, 20, 16)    │      1,600 │")
        for text in [Self.lstm, embedding] {
            let r = try Frontend.check(text: text, path: "m.md")
            XCTAssertTrue(r.ok, r.problems.map(\.description).joined())
            XCTAssertEqual(Emitter.problems(r.ir).map(\.description), [])
            let source = Emitter.emit(r.ir, fuse: true).source
            XCTAssertTrue(source.contains("Merge.forward(.add, "), "the Add reads [T, D] and [1, T, D] as one shape: element-wise, not broadcast")
            XCTAssertTrue(source.contains("AttentionGeometry(queryLength: 20, sourceLength: 20, queryFeatures: 16"))
        }
    }

    /// Attention dropout (`rate=`) follows the model's dropout switch in training; inference has
    /// its own forward without it, and the backward reads the mask only when it was drawn.
    func testAttentionDropoutIsWiredToTrainingOnly() throws {
        let r = try Frontend.check(text: Self.lstm.replacingOccurrences(of: "layer mha: heads=2", with: "layer mha: heads=2 rate=0.1"), path: "m.md")
        let source = Emitter.emit(r.ir, fuse: true).source
        XCTAssertTrue(source.contains("outputs: 16, dropout: Float(0.1))"), "the geometry keeps the rate")
        XCTAssertTrue(source.contains("value: a1, y: a2, lo, hi, dropoutSeed: dropout ? seed ^ "), "training: the model's switch and seed")
        XCTAssertTrue(source.contains("value: a1, y: a2, lo, hi)\n"), "inference: no seed")
        XCTAssertTrue(source.contains("lo, hi, dropout: dropout)"), "the backward knows whether the mask was drawn")
        let plain = Emitter.emit(try Frontend.check(text: Self.lstm, path: "m.md").ir, fuse: true).source
        XCTAssertFalse(plain.contains("dropoutSeed"))
    }
}
