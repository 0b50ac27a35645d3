// The library's predict on one-unit heads: logits trained with binary cross-entropy get their
// sigmoid (a softmax over one value would always say 1.0), and both classes are named, so that
// `best` is the predicted class, not the only one; a regression head is refused.

import XCTest
import ModelcRuntime

/// 4 inputs -> one output: the sum of the scaled inputs minus 1 (a logit, or a probability).
final class OneUnitModel: CompiledModel {
    nonisolated(unsafe) static var loss = "binary_crossentropy"
    nonisolated(unsafe) static var sigmoid = false
    static var info: ModelInfo {
        var d = TrainingDefaults()
        d.loss = loss
        return ModelInfo(name: "one_unit", fingerprint: "0", inputHeight: 1, inputWidth: 4, inputChannels: 1, classCount: 1,
                         classNames: ["1"], nativeClassNames: nil, dataset: nil, inputScale: 1.0 / 255, inputOffset: 0,
                         semantics: "pytorch", tensors: [], parameterCount: 0, trainableParameterCount: 0, forwardFlops: 0,
                         summary: "", defaults: d)
    }
    static var endsWithSoftmax: Bool { false }
    static var endsWithSigmoid: Bool { sigmoid }
    let maxBatch: Int
    let parameters = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    let gradients = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    let out: UnsafeMutablePointer<Float>
    init(maxBatch: Int) { self.maxBatch = maxBatch; out = .allocate(capacity: maxBatch) }
    deinit { parameters.deallocate(); gradients.deallocate(); out.deallocate() }
    func forward(_ input: UnsafePointer<Float>, count: Int, training: Bool, seed: UInt64) -> UnsafePointer<Float> {
        for n in 0..<count { out[n] = (0..<4).reduce(Float(-1)) { $0 + input[n * 4 + $1] } }
        return UnsafePointer(out)
    }
    func backward(_ outputGradient: UnsafePointer<Float>, count: Int) {}
}

/// 4 inputs -> two logits, a softmax head trained with mse (a Keras softmax model compiled with loss='mse').
final class SoftmaxMSEModel: CompiledModel {
    static var info: ModelInfo {
        var d = TrainingDefaults()
        d.loss = "mse"
        return ModelInfo(name: "softmax_mse", fingerprint: "0", inputHeight: 1, inputWidth: 4, inputChannels: 1, classCount: 2,
                         classNames: ["a", "b"], nativeClassNames: nil, dataset: nil, inputScale: 1.0 / 255, inputOffset: 0,
                         semantics: "keras", tensors: [], parameterCount: 0, trainableParameterCount: 0, forwardFlops: 0,
                         summary: "", defaults: d)
    }
    static var endsWithSoftmax: Bool { true }
    let maxBatch: Int
    let parameters = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    let gradients = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    let out: UnsafeMutablePointer<Float>
    init(maxBatch: Int) { self.maxBatch = maxBatch; out = .allocate(capacity: 2 * maxBatch) }
    deinit { parameters.deallocate(); gradients.deallocate(); out.deallocate() }
    func forward(_ input: UnsafePointer<Float>, count: Int, training: Bool, seed: UInt64) -> UnsafePointer<Float> {
        for n in 0..<count { out[2 * n] = 0; out[2 * n + 1] = input[n * 4] }
        return UnsafePointer(out)
    }
    func backward(_ outputGradient: UnsafePointer<Float>, count: Int) {}
}

final class BinaryHeadPredictTests: XCTestCase {
    /// A softmax head's classes whatever its loss: mse on a softmax model still predicts classes.
    func testASoftmaxHeadTrainedWithMSEPredictsClasses() throws {
        let p = try SoftmaxMSEModel(maxBatch: 1).predict(pixels: [255, 0, 0, 0], top: 2)
        XCTAssertEqual(p.probabilities.count, 2)
        XCTAssertEqual(p.probabilities[1], 1 / (1 + expf(-1)), accuracy: 1e-6)
        XCTAssertEqual(p.best.name, "b")
    }

    override func tearDown() { OneUnitModel.loss = "binary_crossentropy"; OneUnitModel.sigmoid = false }

    func testLogitsGetTheirSigmoidAndBothClassesAreNamed() throws {
        let m = OneUnitModel(maxBatch: 2)
        // logit 4 * 51/255 - 1 = -0.2: P(class 1) = 0.4502
        let p = try m.predict(pixels: [51, 51, 51, 51], top: 2)
        XCTAssertEqual(p.probabilities.count, 2)
        XCTAssertEqual(p.probabilities[1], 1 / (1 + expf(0.2)), accuracy: 1e-6)
        XCTAssertEqual(p.best.name, "0")
        XCTAssertEqual(p.top.map(\.name), ["0", "1"])
        // a logit head's default name is "0" (its unit is class 1 all the same)
        XCTAssertEqual(try m.predict(pixels: [[51, 51, 51, 51]], top: 2, classNames: ["0"])[0].top.map(\.name), ["0", "1"])
        let named = try m.predict(pixels: [[255, 255, 255, 255]], top: 1, classNames: ["cat"])[0]
        XCTAssertEqual(named.best.name, "cat")
        XCTAssertEqual(named.best.probability, 1 / (1 + expf(-3)), accuracy: 1e-6)
    }

    func testASigmoidOutputIsItsProbabilityAndARegressionIsRefused() throws {
        OneUnitModel.sigmoid = true
        let m = OneUnitModel(maxBatch: 1)
        XCTAssertEqual(try m.predict(pixels: [51, 51, 51, 51]).probabilities[1], -0.2, accuracy: 1e-6, "taken as it is")
        OneUnitModel.sigmoid = false
        OneUnitModel.loss = "mse"
        XCTAssertThrowsError(try m.predict(pixels: [51, 51, 51, 51])) { e in
            XCTAssertTrue("\(e)".contains("one_unit's output is a regression"), "\(e)")
        }
    }
}
