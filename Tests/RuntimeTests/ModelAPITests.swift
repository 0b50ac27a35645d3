// The library API (ModelAPI.swift, Prediction.swift, ModelTraining.swift) on an emitted model of
// models/ (the seed 001 MLP, 784-128-64-10): loading from weights and checkpoints, predictions
// checked against a plain Double forward of the same parameters, input validation, and training
// that gives bit for bit what the binary's `train` gives with the same settings.

import XCTest
import Foundation
import GeneratedModels
import ModelcData
@testable import ModelcRuntime

final class ModelAPITests: XCTestCase {
    typealias MLP = Seed001Mlp12864ReluAdam

    func parameters(_ m: MLP) -> [Float] { Array(UnsafeBufferPointer(start: m.parameters, count: MLP.info.parameterCount)) }

    /// softmax(relu(relu(x W1 + b1) W2 + b2) W3 + b3) in Double, from the tensors' offsets.
    func referenceProbabilities(_ m: MLP, pixels: [UInt8]) -> [Double] {
        var x = pixels.map { Double($0) * Double(MLP.info.inputScale) + Double(MLP.info.inputOffset) }
        let t = MLP.info.tensors
        for layer in 0..<3 {
            let (w, b) = (t[2 * layer], t[2 * layer + 1])
            let (inputs, outputs) = (w.shape[0], w.shape[1])
            x = (0..<outputs).map { o in
                var s = Double(m.parameters[b.offset + o])
                for i in 0..<inputs { s += x[i] * Double(m.parameters[w.offset + i * outputs + o]) }
                return layer < 2 ? max(0, s) : s
            }
        }
        let e = x.map { exp($0 - x.max()!) }
        return e.map { $0 / e.reduce(0, +) }
    }

    func testPredictMatchesAPlainForwardForOneImageAndForBatches() throws {
        let model = MLP(seed: 7, maxBatch: 16)
        let test = try LabeledImages.sample("mnist", split: "test", limit: 40, for: MLP.self)
        XCTAssertEqual(test.count, 40)
        let batch = try model.predict(pixels: (0..<40).map(test.image), top: 3)   // 3 forwards of up to 16
        XCTAssertEqual(batch.count, 40)
        for (n, p) in batch.enumerated() {
            let reference = referenceProbabilities(model, pixels: test.image(n))
            for c in 0..<10 { XCTAssertEqual(Double(p.probabilities[c]), reference[c], accuracy: 1e-5, "image \(n) class \(c)") }
            XCTAssertEqual(p.top.count, 3)
            XCTAssertEqual(p.best.index, reference.indices.max { reference[$0] < reference[$1] })
            XCTAssertEqual(p.top.map(\.name), p.top.map { MLP.classNames[$0.index] })
            XCTAssertTrue(zip(p.top, p.top.dropFirst()).allSatisfy { $0.probability >= $1.probability })
        }
        let single = try model.predict(pixels: test.image(5), top: 10)
        XCTAssertEqual(single.top.count, 10)
        XCTAssertEqual(Set(single.top.map(\.index)), Set(0..<10))
        for c in 0..<10 { XCTAssertEqual(single.probabilities[c], batch[5].probabilities[c], accuracy: 1e-6) }
        // class names come from the model file (KMNIST, with the hiragana)
        XCTAssertEqual(MLP.classNames.first, "o (お)")
        XCTAssertEqual(single.top.first { $0.index == 1 }?.name, "ki (き)")
    }

    func testWrongInputIsAnErrorNamingExpectedAndFound() throws {
        let model = MLP(seed: 1, maxBatch: 4)
        XCTAssertThrowsError(try model.predict(pixels: [UInt8](repeating: 0, count: 100))) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("100 pixel bytes") && m.contains("expects 784 (28x28x1)"), m)
        }
        let good = [UInt8](repeating: 9, count: 784)
        XCTAssertThrowsError(try model.predict(pixels: [good, good, [UInt8](repeating: 0, count: 785)])) { e in
            XCTAssertTrue("\(e)".contains("image 2 has 785 pixel bytes"), "\(e)")
        }
        XCTAssertThrowsError(try model.predict(pixels: good, top: 11)) { e in XCTAssertTrue("\(e)".contains("top 11 is outside 1...10"), "\(e)") }
        let rgb = LabeledImages(height: 28, width: 28, channels: 3, pixels: [UInt8](repeating: 0, count: 2 * 2352), labels: [0, 1])
        XCTAssertThrowsError(try model.evaluate(on: rgb)) { e in XCTAssertTrue("\(e)".contains("images are 28x28x3, model seed001_mlp_128_64_relu_adam expects 28x28x1"), "\(e)") }
        let badLabel = LabeledImages(height: 28, width: 28, channels: 1, pixels: good + good, labels: [0, 12])
        XCTAssertThrowsError(try model.train(on: badLabel, epochs: 1, batchSize: 2)) { e in XCTAssertTrue("\(e)".contains("label 12 of image 1 is outside 0..<10"), "\(e)") }
        let two = LabeledImages(height: 28, width: 28, channels: 1, pixels: good + good, labels: [0, 1])
        XCTAssertThrowsError(try model.train(on: two, epochs: 1, batchSize: 8)) { e in XCTAssertTrue("\(e)".contains("batch size 8 is outside 1...4"), "\(e)") }
        XCTAssertThrowsError(try model.train(on: two, epochs: 1, batchSize: 2, validation: two, validationSplit: 0.5)) { e in
            XCTAssertTrue("\(e)".contains("not both"), "\(e)")
        }
        XCTAssertThrowsError(try MLP(weights: URL(fileURLWithPath: "/nonexistent/w.npz"))) { e in XCTAssertTrue("\(e)".contains("/nonexistent/w.npz"), "\(e)") }
    }

    func testWeightsAndCheckpointsRoundTrip() throws {
        let dir = temporaryDirectory()
        let model = MLP(seed: 3, maxBatch: 8)
        let w = URL(fileURLWithPath: dir + "/w.npz"), c = URL(fileURLWithPath: dir + "/m.ckpt")
        try model.export(weights: w)
        try model.save(checkpoint: c)
        XCTAssertEqual(parameters(try MLP(weights: w)), parameters(model))
        XCTAssertEqual(parameters(try MLP(checkpoint: c)), parameters(model))
        XCTAssertNotEqual(parameters(MLP(seed: 4)), parameters(model))
        // a checkpoint of another model is refused by name
        let other = Seed001Mlp1286432ReluNesterov(seed: 1, maxBatch: 1)
        try other.save(checkpoint: URL(fileURLWithPath: dir + "/other.ckpt"))
        XCTAssertThrowsError(try MLP(checkpoint: URL(fileURLWithPath: dir + "/other.ckpt"))) { e in
            XCTAssertTrue("\(e)".contains("checkpoint is for another model"), "\(e)")
        }
    }

    /// `train(on:)` runs the binary's loop: the same settings give the same parameters bit for bit.
    func testTrainingMatchesTheCommandLineAndReportsProgress() throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        let dir = temporaryDirectory()
        let sample = try XCTUnwrap(Datasets.sampleDirectory(name: "mnist"))
        let cli = Captured.run(MLP.self, ["train", "--data", sample, "--dataset", "mnist", "--limit", "400", "--epochs", "2",
                                          "--batch", "32", "--threads", "2", "--checkpoint", dir + "/cli.ckpt"], program: "mlp")
        XCTAssertEqual(cli.code, 0, cli.err)

        Parallel.threads = 2
        let images = try LabeledImages.sample("mnist", limit: 400, for: MLP.self)
        let model = MLP(seed: 1, maxBatch: 32)
        var steps = 0, epochs: [EpochRecord] = []
        let history = try model.train(on: images, epochs: 2, batchSize: 32, checkpoint: URL(fileURLWithPath: dir + "/api.ckpt")) { event in
            switch event {
            case .step(_, let step, let perEpoch, let loss, _):
                steps += 1
                XCTAssertEqual(perEpoch, 12)   // 360 training images (val_split 0.1) in batches of 32
                XCTAssertTrue(step >= 1 && step <= 12 && loss.isFinite)
            case .epoch(let r): epochs.append(r)
            case .message: break
            }
        }
        XCTAssertEqual(steps, 24)
        XCTAssertEqual(epochs, history)
        XCTAssertEqual(history.count, 2)
        XCTAssertNotNil(history[1].valAccuracy)
        XCTAssertLessThan(history[1].loss, history[0].loss)
        let fromCLI = try MLP(checkpoint: URL(fileURLWithPath: dir + "/cli.ckpt"))
        XCTAssertEqual(parameters(model), parameters(fromCLI))
        XCTAssertEqual(parameters(try MLP(checkpoint: URL(fileURLWithPath: dir + "/api.ckpt"))), parameters(model))
        let accuracy = try model.evaluate(on: LabeledImages.sample("mnist", split: "test", limit: 200, for: MLP.self)).accuracy
        XCTAssertGreaterThan(accuracy, 0.6, "two epochs on 360 images")
    }

    /// An image folder through the API: fitted as `train --data DIR --resize --crop` fits it,
    /// class names from the folders, used by predict.
    func testImageFolderImagesAndTheirClassNames() throws {
        let data = try fixtureCopy("images/rgb")
        var lines: [String] = []
        let (val, classes) = try LabeledImages.imageFolder(data, split: "val", resize: true, crop: true, for: Cifar10SmallCnn.self) { lines.append($0) }
        XCTAssertEqual(val.count, 10)
        XCTAssertEqual([val.height, val.width, val.channels], [32, 32, 3])
        XCTAssertEqual(classes.first, "astronaut")
        XCTAssertTrue(lines.joined().contains("10 images in 10 classes"), lines.joined(separator: "\n"))
        let model = Cifar10SmallCnn(seed: 1, maxBatch: 4)
        let p = try model.predict(pixels: [val.image(0), val.image(1)], top: 2, classNames: classes)
        XCTAssertEqual(p.count, 2)
        XCTAssertTrue(p.allSatisfy { $0.top.allSatisfy { classes.contains($0.name) } })
        XCTAssertThrowsError(try model.predict(pixels: [val.image(0)], classNames: ["a"])) { e in
            XCTAssertTrue("\(e)".contains("1 class names given, model cifar10_small_cnn has 10 classes"), "\(e)")
        }
        // the seed 001 MLP is 28x28x1 with 10 classes: the same folder fitted to it is gray
        let gray = try LabeledImages.imageFolder(data, split: "val", resize: true, for: MLP.self).images
        XCTAssertEqual([gray.height, gray.width, gray.channels], [28, 28, 1])
        XCTAssertThrowsError(try LabeledImages.imageFolder(data, split: "validation", for: MLP.self)) { e in
            XCTAssertTrue("\(e)".contains("expected train, val or test"), "\(e)")
        }
    }
}
