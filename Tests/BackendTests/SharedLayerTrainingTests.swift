// Training a model with shared layers (issue 17): the Keras fixture graph_shared (a Conv1D and
// a Dense each called on two branches) trained by the runtime's Trainer on a small regression
// lowers its loss; each step's gradient is the sum over both calls, and the later calls read the
// updated first-call weights themselves (Backend/SharedWeights.swift).

import XCTest
import Foundation
import GeneratedTestModels
import ModelcRuntime
import ModelcData

final class SharedLayerTrainingTests: XCTestCase {
    typealias M = FxGraphShared

    func testTrainingLowersTheLoss() throws {
        let n = 16
        var state: UInt64 = 0x5EED
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        let x = (0..<n * 12).map { _ in uniform() }
        // Targets the model can fit: the mean of each input channel.
        var y = [Float](repeating: 0, count: n * 2)
        for i in 0..<n {
            for c in 0..<2 {
                var sum: Float = 0
                for t in 0..<6 { sum += x[i * 12 + t * 2 + c] }
                y[i * 2 + c] = sum / 6
            }
        }
        let path = NSTemporaryDirectory() + "modelc_shared_\(UUID().uuidString).npz"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try NPZ.write([("x", NDArray(float32: x, shape: [n, 6, 2])), ("y", NDArray(float32: y, shape: [n, 2]))], to: path)
        let loss = try Loss(kind: .mse, head: .linear, oneHotTargets: false)
        let data = try ArrayData.examples(try ArrayData.read(path, split: .train, info: M.info, targetColumns: 2), loss: loss, info: M.info)
        let m = M(maxBatch: n)
        try WeightsFile.load(KerasFixtureTests.root + "/graph_shared/weights.npz", into: m)
        func meanSquaredError() -> Double {
            let out = x.withUnsafeBufferPointer { m.forward($0.baseAddress!, count: n, training: false, seed: 0) }
            var sum = 0.0
            for j in 0..<n * 2 {
                let d = Double(out[j]) - Double(y[j])
                sum += d * d
            }
            return sum / Double(n * 2)
        }
        let before = meanSquaredError()
        var config = try TrainingConfig(defaults: TrainingDefaults(), dataset: ArrayData.datasetName)
        config.epochs = 40; config.batchSize = n; config.learningRate = 0.01; config.loss = .mse
        let trainer = try Trainer(model: m, config: config, train: data, validation: nil)
        try trainer.run()
        let after = meanSquaredError()
        XCTAssertLessThan(after, 0.5 * before, "before \(before), after \(after)")
    }
}
