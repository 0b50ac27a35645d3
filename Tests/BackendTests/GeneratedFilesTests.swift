// The emitted files: committed outputs are what the emitter produces now (CI-style diff),
// the registry stays consistent when models are compiled one after another, fingerprints
// are stable, class names are identifiers, inconsistent IRs are refused.

import XCTest
import Foundation
import ModelcCore
import ModelcBackend
import ModelcRuntime
import TestModelSpecs

final class GeneratedFilesTests: XCTestCase {
    static let repo: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    func testCommittedGeneratedFilesAreUpToDate() throws {
        let models = try GeneratedFiles.expected(modelsDirectory: Self.repo + "/models", generatedDirectory: Self.repo + "/generated")
        assertInSync(models, regenerate: "modelc generate")
        let tests = BackendTestModels.expected(directory: Self.repo + "/Tests/GeneratedTestModels", root: Self.repo)
        assertInSync(tests, regenerate: "swift run modelc-testmodels")
    }

    private func assertInSync(_ expected: ExpectedFiles, regenerate: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(expected.files.count, 10, file: file, line: line)
        for path in expected.differing() {
            XCTFail("\(path) differs from the emitter's output: run `\(regenerate)`", file: file, line: line)
        }
        XCTAssertEqual(expected.stale, [], "stale generated files: run `\(regenerate)`", file: file, line: line)
    }

    func testEmissionIsDeterministic() {
        let a = BackendTestModels.all.map { Emitter.emit($0, fuse: true).source }
        let b = BackendTestModels.all.map { Emitter.emit($0, fuse: true).source }
        XCTAssertEqual(a, b)
    }

    func testRegistryListsEveryCompiledModelInAnyOrder() throws {
        let dir = NSTemporaryDirectory() + "modelc-registry-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let models = BackendTestModels.all
        let e1 = Emitter.emit(models[1], fuse: false), e0 = Emitter.emit(models[0], fuse: false)
        try GeneratedFiles.write(e1, into: dir)
        var reg = try String(contentsOfFile: dir + "/AllModels.swift", encoding: .utf8)
        XCTAssertTrue(reg.contains("\(e1.className).self"))
        XCTAssertFalse(reg.contains("\(e0.className).self"))
        try GeneratedFiles.write(e0, into: dir)
        reg = try String(contentsOfFile: dir + "/AllModels.swift", encoding: .utf8)
        XCTAssertTrue(reg.contains("    \(e0.className).self,\n    \(e1.className).self,\n"), reg)
        // Recompiling one of them changes nothing.
        try GeneratedFiles.write(e1, into: dir)
        XCTAssertEqual(try String(contentsOfFile: dir + "/AllModels.swift", encoding: .utf8), reg)
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/\(e0.directoryName)/\(e0.fileName)", encoding: .utf8), e0.source)
    }

    func testFingerprint() {
        let ir = BackendTestModels.all[0]
        let f = Fingerprint.of(ir)
        XCTAssertEqual(f.count, 16)
        XCTAssertTrue(f.allSatisfy { $0.isHexDigit })
        XCTAssertEqual(Fingerprint.of(ir), f)
        var other = ir
        other.training.epochs += 5
        other.classNames = ["a", "b", "c"]
        XCTAssertEqual(Fingerprint.of(other), f, "training settings and class names do not change the layout")
        if case .conv2d(var a) = other.layers[1].op {
            a.activation = .relu
            other.layers[1].op = .conv2d(a)
        }
        XCTAssertNotEqual(Fingerprint.of(other), f)
    }

    func testClassNames() {
        XCTAssertEqual(Emitter.className(for: "seed002_mnist_cnn"), "Seed002MnistCnn")
        XCTAssertEqual(Emitter.className(for: "002-net"), "Model002Net")
        XCTAssertEqual(Emitter.className(for: "ü"), "Model")
    }

    func testInconsistentShapesAreRefused() {
        var ir = BackendTestModels.all[0]
        ir.layers[1].outputShape = [6, 6, 6]
        let problems = Emitter.problems(ir)
        XCTAssertFalse(problems.isEmpty)
        XCTAssertTrue(problems.contains { $0.message.contains("conv2d_1") && $0.line == ir.layers[1].line })
        XCTAssertTrue(Emitter.problems(BackendTestModels.all[0]).isEmpty)
    }

    func testModelInfo() {
        let ir = BackendTestModels.all[0]
        let src = Emitter.emit(ir, fuse: false).source
        XCTAssertTrue(src.contains("TensorSpec(key: \"conv2d_1/kernel\", shape: [3, 3, 2, 5], offset: 0, trainable: true, initializer: .glorotUniform(fanIn: 18, fanOut: 45), decays: true)"))
        XCTAssertTrue(src.contains("TensorSpec(key: \"conv2d_1/bias\", shape: [5], offset: 90, trainable: true, initializer: .zeros, decays: false)"))
        XCTAssertFalse(src.contains("[0.") , "no weight literals")
    }

    /// Emitted models state only the training settings that differ from TrainingConfig(), so its
    /// defaults must be the runtime's TrainingDefaults().
    func testTrainingDefaultsAgree() {
        let c = TrainingConfig(), d = TrainingDefaults()
        XCTAssertEqual(c.optimizer.rawValue, d.optimizer)
        XCTAssertEqual([c.learningRate, c.momentum, c.beta1, c.beta2, c.epsilon, c.rho, c.rmsRho, c.weightDecay, c.validationSplit,
                        c.augmentation.maxRotationDegrees],
                       [d.learningRate, d.momentum, d.beta1, d.beta2, d.epsilon, d.rho, d.rmsRho, d.weightDecay, d.validationSplit,
                        d.augmentRotate])
        XCTAssertEqual([c.batchSize, c.epochs, c.augmentation.maxShiftPixels], [d.batchSize, d.epochs, d.augmentShift])
        XCTAssertEqual(c.loss.rawValue, d.loss)
        XCTAssertEqual(c.schedule, .constant); XCTAssertEqual(d.schedule, "constant")
        XCTAssertEqual(c.earlyStopping, .none); XCTAssertEqual(d.earlyStopping, "none")
        XCTAssertEqual(c.seed, d.seed)
    }
}
