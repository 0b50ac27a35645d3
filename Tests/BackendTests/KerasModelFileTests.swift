// Issue 18: seed 002's network saved by Keras 3 as a `.keras` file
// (Tests/Fixtures/keras_files/make_seed002_keras.py). Its config gives the same network as
// models/seed002_mnist_cnn.md once `seed002_mnist_cnn.keras.modelc` states the Lambda's function
// (the fingerprint `modelc compile` keys the generated class by is equal, so `modelc compile
// seed002_mnist_cnn.keras` builds the committed Seed002MnistCnn); the file's own weights give
// Keras's probabilities, and the model trains on from them.

import XCTest
import Foundation
import GeneratedModels
import ModelcCore
import ModelcBackend
import ModelcRuntime
import ModelcData

final class KerasModelFileTests: XCTestCase {
    static let file = KerasWeightFileTests.dir + "/seed002_mnist_cnn.keras"

    func testTheKerasFileIsSeed002() throws {
        let fromFile = try Frontend.check(path: Self.file)
        XCTAssertTrue(fromFile.ok, "\(fromFile.problems)")
        XCTAssertEqual(Fingerprint.of(fromFile.ir), Seed002MnistCnn.info.fingerprint)
        XCTAssertEqual(fromFile.ir.totalParams, 265_258)
    }

    func testWithoutItsAnnotationFileTheLambdaIsRefused() throws {
        let copy = NSTemporaryDirectory() + "modelc_seed002_\(getpid()).keras"
        try FileManager.default.copyItem(atPath: Self.file, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        XCTAssertThrowsError(try Frontend.check(path: copy)) { e in
            XCTAssertTrue("\(e)".contains("layer 'lambda_1' (Lambda): its function is saved as Python bytecode"), "\(e)")
            XCTAssertTrue("\(e)".contains(".keras.modelc beside the model file"), "\(e)")
        }
    }

    func testKerasProbabilitiesAndTrainingOn() throws {
        let io = try NPZ.read(path: Self.file + ".io.npz")
        let pixels = try XCTUnwrap(io["pixels"]).data, expected = try XCTUnwrap(io["probabilities"]).floats()
        let m = try Seed002MnistCnn(weights: URL(fileURLWithPath: Self.file))
        let images = (0..<4).map { Array(pixels[($0 * 784)..<(($0 + 1) * 784)]) }
        let got = try m.predict(pixels: images, top: 1).flatMap(\.probabilities)
        XCTAssertLessThanOrEqual(zip(got, expected).map { abs($0 - $1) }.max() ?? 1, 1e-5)

        // One image at a time too: single-image inference, whose Winograd layers run their tiles
        // split over the threads (28x28 in blocks of 6 tiles, 14x14 one by one).
        for (i, image) in images.enumerated() {
            let one = try m.predict(pixels: [image], top: 1)[0].probabilities
            XCTAssertLessThanOrEqual(zip(one, expected[(i * 10)..<((i + 1) * 10)]).map { abs($0 - $1) }.max() ?? 1, 1e-5, "image \(i)")
        }

        // Trains on: Adam steps on these four images lower their loss.
        m.dropout = false
        let x = pixels.map { Float($0) * Seed002MnistCnn.info.inputScale }
        let y: [Int32] = [7, 2, 1, 0]   // the labels of the MNIST test set's first four images
        let loss = Loss(kind: .crossentropy, modelEndsWithSoftmax: Seed002MnistCnn.endsWithSoftmax)
        let optimizer = Optimizer(settings: OptimizerSettings(kind: .adam), info: Seed002MnistCnn.info)
        var d = [Float](repeating: 0, count: 40), losses: [Double] = []
        for _ in 0..<3 {
            let out = x.withUnsafeBufferPointer { m.forward($0.baseAddress!, count: 4, training: true, seed: 1) }
            let (sum, _) = y.withUnsafeBufferPointer { yb in
                d.withUnsafeMutableBufferPointer { loss.evaluate(outputs: out, labels: yb.baseAddress!, count: 4, classes: 10, gradient: $0.baseAddress!) }
            }
            losses.append(sum / 4)
            d.withUnsafeBufferPointer { m.backward($0.baseAddress!, count: 4) }
            optimizer.step(parameters: m.parameters, gradients: m.gradients, lr: 1e-3)
        }
        XCTAssertLessThan(losses[2], losses[0], "losses \(losses)")
    }
}
