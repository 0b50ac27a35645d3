// A fresh run adapts the Keras Normalization layers that read the model's input to its training
// data (Keras's `adapt(x_train)`): per-channel mean and population variance in the model's units,
// count the values per channel; statistics already set (count > 0) are kept.

import XCTest
import ModelcRuntime

/// 2x1 images with 2 channels -> Normalization "norm" (mean, variance [2], count []) -> output = input.
final class NormInputModel: CompiledModel {
    static var info: ModelInfo {
        let tensors = [TensorSpec(key: "norm/mean", shape: [2], offset: 0, trainable: false, initializer: .zeros, decays: false),
                       TensorSpec(key: "norm/variance", shape: [2], offset: 2, trainable: false, initializer: .ones, decays: false),
                       TensorSpec(key: "norm/count", shape: [], offset: 4, trainable: false, initializer: .zeros, decays: false)]
        return ModelInfo(name: "norm_input", fingerprint: "0", inputHeight: 2, inputWidth: 1, inputChannels: 2, classCount: 4,
                         classNames: ["0", "1", "2", "3"], nativeClassNames: nil, dataset: nil, inputScale: 1.0 / 255, inputOffset: 0,
                         semantics: "keras", tensors: tensors, parameterCount: 5, trainableParameterCount: 0, forwardFlops: 0,
                         summary: "", defaults: TrainingDefaults(), adaptOnInput: ["norm"])
    }
    static var endsWithSoftmax: Bool { false }
    let maxBatch: Int
    let parameters = UnsafeMutablePointer<Float>.allocate(capacity: 5)
    let gradients = UnsafeMutablePointer<Float>.allocate(capacity: 5)
    init(maxBatch: Int) {
        self.maxBatch = maxBatch
        parameters.initialize(repeating: 0, count: 5); parameters[2] = 1; parameters[3] = 1
        gradients.initialize(repeating: 0, count: 5)
    }
    deinit { parameters.deallocate(); gradients.deallocate() }
    func forward(_ input: UnsafePointer<Float>, count: Int, training: Bool, seed: UInt64) -> UnsafePointer<Float> { input }
    func backward(_ outputGradient: UnsafePointer<Float>, count: Int) {}
}

final class NormalizationAdaptTests: XCTestCase {
    func testAFreshRunAdaptsTheInputNormalization() {
        // two images, HWC: channel 0 takes 0, 51, 102, 153 (scaled 0, 0.2, 0.4, 0.6); channel 1 all 255 (1.0)
        let images = LabeledImages(height: 2, width: 1, channels: 2, pixels: [0, 255, 51, 255, 102, 255, 153, 255], labels: [0, 1])
        let m = NormInputModel(maxBatch: 2)
        let log = NormalizationAdapt.apply(m, to: images)
        XCTAssertEqual(log, ["norm: adapted to the 2 training examples (mean and variance of 2 channels, as Keras's adapt)"])
        XCTAssertEqual(m.parameters[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(m.parameters[1], 1, accuracy: 1e-6)
        XCTAssertEqual(m.parameters[2], 0.05, accuracy: 1e-6, "population variance of 0, 0.2, 0.4, 0.6")
        XCTAssertEqual(m.parameters[3], 0, accuracy: 1e-6)
        XCTAssertEqual(m.parameters[4], 4, "values per channel")
        // set statistics (loaded weights, a checkpoint, an earlier adapt) are kept
        m.parameters[0] = 7
        XCTAssertEqual(NormalizationAdapt.apply(m, to: images), [])
        XCTAssertEqual(m.parameters[0], 7)
        // Keras 3's adapt leaves count at 0: statistics loaded from its files are kept too
        let loaded = NormInputModel(maxBatch: 2)
        loaded.parameters[0] = 0.5; loaded.parameters[2] = 2
        XCTAssertEqual(NormalizationAdapt.apply(loaded, to: images), [])
        XCTAssertEqual([loaded.parameters[0], loaded.parameters[2], loaded.parameters[4]], [0.5, 2, 0])
    }
}
