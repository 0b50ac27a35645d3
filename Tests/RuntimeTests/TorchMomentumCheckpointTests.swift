// PyTorch models' momentum buffers hold gradients (torch.optim's form): their checkpoints say so
// (`momentum_buffer=gradients`), and one written before (Keras's steps, m = -lr v) is converted
// on resume with the learning rate of its last step.

import XCTest
import TinyModels
import ModelcData
@testable import ModelcRuntime

/// TinyModel with PyTorch semantics (its parameters, gradients and passes).
final class TorchTinyModel: TinyModelWrapper {
    static var info: ModelInfo {
        let t = TinyModel.info
        return ModelInfo(name: "torch_tiny", fingerprint: t.fingerprint, inputHeight: 28, inputWidth: 28, inputChannels: 1,
                         classCount: t.classCount, classNames: t.classNames, nativeClassNames: nil, dataset: "mnist",
                         inputScale: t.inputScale, inputOffset: 0, semantics: "pytorch", tensors: t.tensors,
                         parameterCount: t.parameterCount, trainableParameterCount: t.trainableParameterCount,
                         forwardFlops: t.forwardFlops, summary: "", defaults: t.defaults)
    }
    static var endsWithSoftmax: Bool { true }
    let inner: TinyModel
    init(maxBatch: Int) { inner = TinyModel(maxBatch: maxBatch) }
}

final class TorchMomentumCheckpointTests: XCTestCase {
    func trainer(epochs: Int) throws -> Trainer<TorchTinyModel> {
        let data = syntheticImages(count: 64, seed: 5).splitForValidation(0)
        var config = try TrainingConfig(defaults: TinyModel.info.defaults, dataset: "mnist")
        config.optimizer.kind = .momentum; config.learningRate = 0.05; config.epochs = epochs
        let m = TorchTinyModel(maxBatch: 16)
        initializeParameters(m.parameters, tensors: TorchTinyModel.info.tensors, seed: 3)
        return try Trainer(model: m, config: config, train: data.train, validation: nil)
    }

    func testOldMomentumCheckpointsAreConverted() throws {
        let t = try trainer(epochs: 1)
        try t.run()
        let new = t.snapshot()
        XCTAssertTrue(new.training!.config.contains { $0 == ("momentum_buffer", "gradients") })
        let v = new.training!.optimizerSlots[0]
        XCTAssertTrue(v.contains { $0 != 0 })
        // as an earlier version wrote it: Keras's steps, without the pair
        var old = new
        old.training!.config.removeAll { $0.0 == "momentum_buffer" }
        old.training!.optimizerSlots[0] = v.map { -0.05 * $0 }
        let resumed = try trainer(epochs: 2)
        try resumed.restore(old, file: "old.ckpt")
        let slot = Array(UnsafeBufferPointer(start: resumed.optimizer.slots[0], count: v.count))
        XCTAssertEqual(zip(slot, v).map { abs($0 - $1) }.max() ?? 1, 0, accuracy: 1e-5)
        // a checkpoint that says its form is taken as it is
        let again = try trainer(epochs: 2)
        try again.restore(new, file: "new.ckpt")
        XCTAssertEqual(Array(UnsafeBufferPointer(start: again.optimizer.slots[0], count: v.count)), v)
    }
}
