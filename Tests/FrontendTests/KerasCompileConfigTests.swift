// A Keras model file's training settings (Keras 3's compile_config, Keras 2's training_config)
// become the model's `train:` settings, FILE.modelc's train: keys overriding them, and what
// modelc does not compute is named, not silently dropped.

import XCTest
import Foundation
@testable import ModelcCore

final class KerasCompileConfigTests: XCTestCase {
    /// A Dense model's config with `compile` as its compile_config (Keras 3).
    func config(compile: String) -> [UInt8] {
        Array("""
        {"class_name": "Sequential", "keras_version": "3.10.0", "config": {"name": "s", "layers": [
         {"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [null, 4]}},
         {"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "softmax", "use_bias": true}}]},
         "compile_config": \(compile)}
        """.utf8)
    }

    func check(_ compile: String) throws -> CheckReport {
        try KerasConfig.check(bytes: config(compile: compile), file: "m.json", zip: false)
    }

    func note(_ r: CheckReport) -> String? { r.ir.assumptions.first { $0.contains("from the file's compile settings") } }

    func testKeras3CompileConfig() throws {
        let r = try check("""
        {"optimizer": {"module": "keras.optimizers", "class_name": "SGD", "config": {"name": "SGD", "learning_rate": 0.01, "momentum": 0.9,
         "nesterov": true, "clipnorm": null, "weight_decay": null}}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
        """)
        XCTAssertEqual(r.ir.training.optimizer, .nesterov)
        XCTAssertEqual(r.ir.training.momentum, 0.9)
        XCTAssertEqual(r.ir.training.learningRate, 0.01)
        XCTAssertEqual(r.ir.training.loss, .crossEntropy)   // the one of the head and the data
        XCTAssertEqual(note(r), "train: optimizer=nesterov momentum=0.9 lr=0.01 loss=crossentropy from the file's compile settings")
        XCTAssertFalse(r.ir.assumptions.contains { $0.contains("optimizer=adam") && $0.contains("(defaults") }, "\(r.ir.assumptions)")
    }

    func testWhatModelcDoesNotComputeIsNamed() throws {
        let nadam = try check(#"{"optimizer": {"class_name": "Nadam", "config": {"learning_rate": 0.002}}, "loss": {"module": "keras.losses", "class_name": "CategoricalCrossentropy", "config": {"from_logits": true}}}"#)
        XCTAssertEqual(nadam.ir.training.optimizer, .adam)   // modelc's default, said as one
        XCTAssertEqual(nadam.ir.training.loss, .crossEntropy)
        XCTAssertEqual(note(nadam), "train: nothing from the file's compile settings; not reproduced: optimizer Nadam (modelc trains with sgd, momentum, nesterov, adam, adamw, rmsprop or adadelta); loss CategoricalCrossentropy from logits")
        let schedule = try check(#"{"optimizer": {"class_name": "Custom>Adam", "config": {"learning_rate": {"class_name": "ExponentialDecay", "config": {}}, "amsgrad": true, "clipnorm": 1.0}}, "loss": "kl_divergence"}"#)
        XCTAssertEqual(schedule.ir.training.optimizer, .adam)
        XCTAssertEqual(note(schedule), "train: optimizer=adam from the file's compile settings; not reproduced: clipnorm (gradient clipping); learning_rate (a schedule); amsgrad; loss kl_divergence (modelc computes \(LossKind.namesList))")
        let function = try check(#"{"optimizer": "rmsprop", "loss": {"module": "keras.losses", "class_name": "function", "config": "mean_squared_error"}}"#)
        XCTAssertEqual(function.ir.training.optimizer, .rmsprop)
        XCTAssertEqual(function.ir.training.loss, .meanSquaredError)
        XCTAssertNil(note(try check("null")))
    }

    /// Keras 2 keeps them in the .h5's training_config attribute (lr, decay).
    func testKeras2TrainingConfig() throws {
        let training = #"{"optimizer_config": {"class_name": "RMSprop", "config": {"lr": 0.009999999776482582, "rho": 0.8999999761581421, "decay": 0.0010000000474974513, "epsilon": 1e-08}}, "loss": "mixed_loss", "metrics": ["acc"]}"#
        let model = #"{"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "softmax", "use_bias": true, "batch_input_shape": [null, 4]}}]}"#
        let r = try KerasConfig.check(json: Array(model.utf8), file: "m.h5", container: "model_config", kerasVersion: "2.1.0", trainingConfig: Array(training.utf8))
        XCTAssertEqual(r.ir.training.optimizer, .rmsprop)
        XCTAssertEqual(r.ir.training.learningRate, 0.01)
        XCTAssertEqual(r.ir.training.epsilon, 1e-8)
        XCTAssertEqual(note(r), "train: optimizer=rmsprop rho=0.9 epsilon=1e-08 lr=0.01 from the file's compile settings; not reproduced: decay=0.001 (Keras 2's learning-rate decay); loss mixed_loss (modelc computes \(LossKind.namesList))")
    }

    /// FILE.modelc's train: keys win over the file's.
    func testTheSidecarOverrides() throws {
        let dir = NSTemporaryDirectory() + "modelc_compile_\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.json"
        try Data(config(compile: #"{"optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01}}, "loss": "categorical_crossentropy"}"#)).write(to: URL(fileURLWithPath: path))
        try "train: learning_rate=0.5 epochs=3\n".write(toFile: path + ".modelc", atomically: true, encoding: .utf8)
        let r = try Frontend.check(path: path)
        XCTAssertEqual(r.ir.training.learningRate, 0.5)
        XCTAssertEqual(r.ir.training.epochs, 3)
        XCTAssertEqual(r.ir.training.loss, .crossEntropy)
        XCTAssertEqual(note(r), "train: optimizer=adam loss=crossentropy from the file's compile settings (FILE.modelc's train: keys override the rest)")
    }

    /// A published Keras 2.2 .h5 (FER's emotion model, Tests/Fixtures/published_models).
    func testAPublishedFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/published_models/fer_emotion_model.h5").path
        let r = try Frontend.check(path: path)
        XCTAssertEqual(r.ir.training.optimizer, .adam)
        XCTAssertEqual(r.ir.training.learningRate, Float(0.00010000000474974513))
        XCTAssertEqual(r.ir.training.epsilon, 1e-8)
        XCTAssertEqual(r.ir.training.loss, .crossEntropy)   // categorical_crossentropy: labeled data trains it
    }
}
