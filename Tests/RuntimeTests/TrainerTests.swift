// The training loop: learning, determinism, resume-equals-uninterrupted (bit for bit, at an
// epoch boundary and mid-epoch, with dropout and augmentation), early stopping, NaN handling.

import XCTest
import TinyModels
import ModelcData
@testable import ModelcRuntime

final class TrainerTests: XCTestCase {
    let data = syntheticImages(count: 300, seed: 11).splitForValidation(0.2)

    func makeTrainer(_ configure: (inout TrainingConfig) -> Void = { _ in }) throws -> Trainer<TinyModel> {
        var config = try TrainingConfig(defaults: TinyModel.info.defaults, dataset: "mnist")
        configure(&config)
        let model = TinyModel(maxBatch: 32)
        initializeParameters(model.parameters, tensors: TinyModel.info.tensors, seed: config.seed)
        return try Trainer(model: model, config: config, train: data.train, validation: data.validation)
    }

    func parameters(_ t: Trainer<TinyModel>) -> [Float] {
        Array(UnsafeBufferPointer(start: t.model.parameters, count: TinyModel.info.parameterCount))
    }

    func testLearnsSyntheticClasses() throws {
        let t = try makeTrainer { $0.epochs = 8 }
        try t.run()
        XCTAssertEqual(t.progress.history.count, 8)
        XCTAssertGreaterThan(t.progress.history.last!.valAccuracy!, 0.9)
        XCTAssertLessThan(t.progress.history.last!.loss, t.progress.history.first!.loss)
    }

    func testDeterministicForSeed() throws {
        let a = try makeTrainer { $0.augmentation = Augmentation(maxShift: 2, maxDegrees: 10) }
        let b = try makeTrainer { $0.augmentation = Augmentation(maxShift: 2, maxDegrees: 10) }
        let c = try makeTrainer { $0.augmentation = Augmentation(maxShift: 2, maxDegrees: 10); $0.seed = 8 }
        try a.run(); try b.run(); try c.run()
        XCTAssertEqual(parameters(a), parameters(b))
        XCTAssertNotEqual(parameters(a), parameters(c))
        XCTAssertEqual(a.progress.history.map(\.loss), b.progress.history.map(\.loss))
    }

    func checkResumeEqualsUninterrupted(stopAt: Int, configure: @escaping (inout TrainingConfig) -> Void) throws {
        let dir = temporaryDirectory()
        let full = try makeTrainer(configure)
        try full.run()

        let first = try makeTrainer(configure)
        first.checkpointPath = dir + "/run.ckpt"
        first.stopAfterGlobalStep = stopAt
        XCTAssertThrowsError(try first.run()) { e in
            guard case TrainingStop.interrupted = e else { return XCTFail("\(e)") }
        }
        // a fresh process: new model with other initial weights, state from the file only
        let second = try makeTrainer { configure(&$0); $0.seed = $0.seed }
        for i in 0..<TinyModel.info.parameterCount { second.model.parameters[i] = -1 }
        try second.restore(try Checkpoint.read(path: dir + "/run.ckpt"), file: dir + "/run.ckpt")
        XCTAssertEqual(second.progress.globalStep, stopAt)
        try second.run()
        XCTAssertEqual(parameters(second), parameters(full), "resumed at step \(stopAt)")
        XCTAssertEqual(second.optimizer.slotArrays(), full.optimizer.slotArrays())
        XCTAssertEqual(second.progress.history.map(\.loss), full.progress.history.map(\.loss))
        XCTAssertEqual(second.progress.history.map(\.valAccuracy), full.progress.history.map(\.valAccuracy))
    }

    func testResumeMidEpochEqualsUninterrupted() throws {
        // 240 training images, batch 16: 15 steps per epoch; stop inside epoch 2
        try checkResumeEqualsUninterrupted(stopAt: 22) { $0.augmentation = Augmentation(maxShift: 2, maxDegrees: 10); $0.schedule = .cosine }
    }

    func testResumeAtEpochBoundaryEqualsUninterrupted() throws {
        try checkResumeEqualsUninterrupted(stopAt: 15) { $0.optimizer.kind = .adadelta; $0.learningRate = 0.1; $0.loss = .margin }
    }

    func testSignalStopsAfterCurrentStepAndSavesState() throws {
        let dir = temporaryDirectory()
        let t = try makeTrainer()
        t.checkpointPath = dir + "/sig.ckpt"
        Interruption.install()
        defer { Interruption.requested = 0; signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL) }
        var observer = TrainingObserver()
        observer.step = { _, step, _, _, _, _, _, _ in if step == 5 { raise(SIGINT) } }
        t.observer = observer
        XCTAssertThrowsError(try t.run()) { e in
            guard case let TrainingStop.interrupted(epoch, step, path) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(epoch, 1); XCTAssertEqual(step, 5); XCTAssertEqual(path, dir + "/sig.ckpt")
            XCTAssertTrue("\(e)".contains("train --resume --checkpoint \(dir)/sig.ckpt"), "\(e)")
        }
        let c = try Checkpoint.read(path: dir + "/sig.ckpt")
        XCTAssertEqual(c.training?.progress.globalStep, 5)
        XCTAssertEqual(c.training?.progress.stepInEpoch, 5)
        XCTAssertEqual(c.parameters, parameters(t))
    }

    func testSeed003EarlyStoppingRule() throws {
        let t = try makeTrainer { $0.earlyStopping = .dropAfter(3) }
        let accs = [0.5, 0.6, 0.55, 0.6, 0.6, 0.7, 0.65, 0.9]
        var improvedAt: [Int] = []
        var stoppedAt: Int? = nil
        for (i, a) in accs.enumerated() {
            if t.updateEarlyStopping(valAccuracy: a, epoch: i + 1) { improvedAt.append(i + 1) }
            if t.progress.stopped { stoppedAt = i + 1; break }
        }
        // epoch 3 drops but is within the first 3; epoch 4 rises, 5 equal (continue), 6 improves, 7 drops -> stop
        XCTAssertEqual(stoppedAt, 7)
        XCTAssertEqual(improvedAt, [1, 2, 6])
        XCTAssertEqual(t.progress.bestEpoch, 6)
        XCTAssertEqual(t.progress.bestValAccuracy, 0.7)
    }

    func testPatienceEarlyStopping() throws {
        let t = try makeTrainer { $0.earlyStopping = .patience(2) }
        var stoppedAt: Int? = nil
        for (i, a) in [0.5, 0.6, 0.6, 0.59, 0.7].enumerated() {
            t.updateEarlyStopping(valAccuracy: a, epoch: i + 1)
            if t.progress.stopped { stoppedAt = i + 1; break }
        }
        XCTAssertEqual(stoppedAt, 4)
    }

    func testEarlyStoppingEndsRunAndKeepsBest() throws {
        let dir = temporaryDirectory()
        let t = try makeTrainer { $0.epochs = 30; $0.earlyStopping = .patience(1); $0.learningRate = 0.05 }
        t.checkpointPath = dir + "/es.ckpt"
        try t.run()
        XCTAssertTrue(t.progress.stopped)
        XCTAssertLessThan(t.progress.epochsDone, 30)
        let best = try Checkpoint.read(path: dir + "/es.best.ckpt")
        XCTAssertEqual(best.training?.progress.epochsDone, t.progress.bestEpoch)
    }

    func testEarlyStoppingNeedsValidation() throws {
        var config = try TrainingConfig(defaults: TinyModel.info.defaults, dataset: "mnist")
        config.earlyStopping = .dropAfter(10)
        XCTAssertThrowsError(try Trainer(model: TinyModel(maxBatch: 16), config: config, train: data.train, validation: nil)) { e in
            XCTAssertTrue("\(e)".contains("--val-split"), "\(e)")
        }
    }

    func testNonFiniteLossStopsAndKeepsLastGoodCheckpoint() throws {
        let dir = temporaryDirectory()
        let t = try makeTrainer { $0.optimizer.kind = .sgd; $0.learningRate = 1e30; $0.epochs = 5 }
        t.checkpointPath = dir + "/nan.ckpt"
        try t.snapshot().write(to: dir + "/nan.ckpt")
        let before = try FileIO.read(path: dir + "/nan.ckpt")
        XCTAssertThrowsError(try t.run()) { e in
            guard case let TrainingStop.nonFiniteLoss(epoch, step, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(epoch, 1)
            XCTAssertGreaterThan(step, 1)
            XCTAssertTrue("\(e)".contains("NaN or infinite in epoch 1 at step \(step)"), "\(e)")
        }
        XCTAssertEqual(try FileIO.read(path: dir + "/nan.ckpt"), before, "the last good checkpoint is kept")
    }

    func testValidationSplitFromTheEnd() {
        let all = syntheticImages(count: 10, seed: 3)
        let (t, v) = all.splitForValidation(0.25)   // Keras: train = first int(10 * 0.75) = 7
        XCTAssertEqual(t.count, 7); XCTAssertEqual(v?.count, 3)
        XCTAssertEqual(v?.labels, Array(all.labels[7...]))
        XCTAssertNil(all.splitForValidation(0).validation)
    }

    func testAugmentationIdentityAndShift() {
        var img = [UInt8](repeating: 0, count: 28 * 28)
        img[10 * 28 + 10] = 200
        var out = [Float](repeating: -1, count: 28 * 28)
        // zero range: exact copy
        img.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { d in
            Augmentation(maxShift: 0, maxDegrees: 0).apply(s.baseAddress!, to: d.baseAddress!, height: 28, width: 28, channels: 1, seed: 5) } }
        XCTAssertEqual(out, img.map(Float.init))
        // shift only: the pixel moves by whole pixels and keeps its value
        img.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { d in
            Augmentation(maxShift: 3, maxDegrees: 0).apply(s.baseAddress!, to: d.baseAddress!, height: 28, width: 28, channels: 1, seed: 5) } }
        XCTAssertEqual(out.filter { $0 != 0 }, [200])
        let at = out.firstIndex(of: 200)!
        XCTAssertLessThanOrEqual(abs(at / 28 - 10), 3); XCTAssertLessThanOrEqual(abs(at % 28 - 10), 3)
    }

    func testInitializationIsSeededAndGlorotBounded() {
        let a = TinyModel(maxBatch: 1), b = TinyModel(maxBatch: 1)
        initializeParameters(a.parameters, tensors: TinyModel.info.tensors, seed: 1)
        initializeParameters(b.parameters, tensors: TinyModel.info.tensors, seed: 1)
        let limit = Float((6.0 / Double(784 + 8)).squareRoot())
        var maxAbs: Float = 0
        for i in 0..<(784 * 8) { XCTAssertEqual(a.parameters[i], b.parameters[i]); maxAbs = max(maxAbs, abs(a.parameters[i])) }
        XCTAssertLessThanOrEqual(maxAbs, limit)
        XCTAssertGreaterThan(maxAbs, limit * 0.95)
        XCTAssertEqual(a.parameters[784 * 8], 0)      // bias zeros
    }
}
