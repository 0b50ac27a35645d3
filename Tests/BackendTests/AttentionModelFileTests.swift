// The attention fixture (Tests/Fixtures/numerics/graph_attention, make_graph_fixtures.py) saved by
// Keras 3 as a `.keras` file: its config gives the layers the annotated table gives (query,
// value and key in call order, use_causal_mask from the call), its weights load from the
// attention layers' `query_dense` ... groups and give Keras's outputs, and the model trains on.

import XCTest
import Foundation
import ModelcCore
import GeneratedTestModels
import ModelcRuntime
import ModelcData

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
}
