// Issue 17: the normalization fixture saved by Keras 3 as a `.keras` file
// (Tests/Fixtures/numerics/make_norm_fixtures.py). Its weights load by Keras 3's variable order
// (LayerNormalization gamma, beta; Normalization mean, variance, count) and give Keras's outputs.

import XCTest
import Foundation
import GeneratedTestModels
import ModelcRuntime
import ModelcData

final class NormalizationModelFileTests: XCTestCase {
    func testKerasFileWeightsGiveKerasOutputs() throws {
        let dir = KerasFixtureTests.root + "/normalization_layers"
        let io = try NPZ.read(path: dir + "/io.npz")
        let x = try XCTUnwrap(io["input"]).floats(), want = try XCTUnwrap(io["output_inference"]).floats()
        let m = try FxNormalizationLayers(weights: URL(fileURLWithPath: dir + "/model.keras"), maxBatch: 3)
        let got = TestModels.forward(m, x, count: 3, training: false)
        XCTAssertLessThan(relativeError(got, want), 1e-4)
        let count = try XCTUnwrap(FxNormalizationLayers.info.tensors.first { $0.key == "normalization/count" })
        XCTAssertEqual(m.parameters[count.offset], 10, "the int64 count scalar loads as a float")
    }
}
