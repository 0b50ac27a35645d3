// Issue 17: the normalization fixture saved by Keras 3 as a `.keras` file
// (Tests/Fixtures/numerics/make_norm_fixtures.py). Its weights load by Keras 3's variable order
// (LayerNormalization gamma, beta; Normalization mean, variance, count) and give Keras's outputs;
// both normalization fixtures' models train on (Adam steps lower the loss).

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

        // Trains on: Adam steps lower the loss on the fixture's three inputs; the Normalization's
        // mean, variance and count (not trainable) stay as loaded.
        let fixed = FxNormalizationLayers.info.tensors.filter { !$0.trainable }
        let before = fixed.map { t in (0..<t.count).map { m.parameters[t.offset + $0] } }
        let losses = try Self.adamLosses(m, x, labels: [0, 1, 2])
        XCTAssertLessThan(losses[4], losses[0], "losses \(losses)")
        XCTAssertEqual(fixed.map { t in (0..<t.count).map { m.parameters[t.offset + $0] } }, before)
    }

    func testPyTorchGroupNormLayerNormModelTrains() throws {
        let dir = KerasFixtureTests.root + "/pytorch_norm"
        let x = try XCTUnwrap(try NPZ.read(path: dir + "/io.npz")["input"]).floats()
        let m = FxPytorchNorm(maxBatch: 3)
        try WeightsFile.load(dir + "/weights.npz", into: m)
        let losses = try Self.adamLosses(m, x, labels: [2, 0, 1])
        XCTAssertLessThan(losses[4], losses[0], "losses \(losses)")
    }

    /// The mean cross-entropy of five Adam steps (lr 1e-2) on `x` with `labels`.
    static func adamLosses<M: CompiledModel>(_ m: M, _ x: [Float], labels: [Int32]) throws -> [Double] {
        let n = labels.count, k = M.info.classCount
        let loss = Loss(kind: .crossentropy, modelEndsWithSoftmax: M.endsWithSoftmax)
        let optimizer = Optimizer(settings: OptimizerSettings(kind: .adam), info: M.info)
        var d = [Float](repeating: 0, count: n * k), losses: [Double] = []
        for _ in 0..<5 {
            let out = x.withUnsafeBufferPointer { m.forward($0.baseAddress!, count: n, training: true, seed: 1) }
            let (sum, _) = labels.withUnsafeBufferPointer { yb in
                d.withUnsafeMutableBufferPointer { loss.evaluate(outputs: out, labels: yb.baseAddress!, count: n, classes: k, gradient: $0.baseAddress!) }
            }
            losses.append(sum / Double(n))
            d.withUnsafeBufferPointer { m.backward($0.baseAddress!, count: n) }
            optimizer.step(parameters: m.parameters, gradients: m.gradients, lr: 1e-2)
        }
        return losses
    }
}
