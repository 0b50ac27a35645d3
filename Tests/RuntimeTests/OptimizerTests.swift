// Optimizer updates against hand-computed Keras-formula values (w = 1, g = 0.5, lr = 0.1 unless
// stated), L2 decay, AdamW's decoupled decay, and untouched non-trainable tensors.

import XCTest
@testable import ModelcRuntime

final class OptimizerTests: XCTestCase {
    /// tensors: "k" [1] trainable decays, "b" [1] trainable no decay, "m" [1] non-trainable.
    let tensors = [
        TensorSpec(key: "k", shape: [1], offset: 0, trainable: true, initializer: .zeros, decays: true),
        TensorSpec(key: "b", shape: [1], offset: 1, trainable: true, initializer: .zeros, decays: false),
        TensorSpec(key: "m", shape: [1], offset: 2, trainable: false, initializer: .zeros, decays: false),
    ]

    /// Runs `steps` updates from w = [1, 1, 1] with gradient 0.5 everywhere; returns w.
    func run(_ kind: OptimizerKind, lr: Float = 0.1, steps: Int, wd: Float = 0, configure: (inout OptimizerSettings) -> Void = { _ in }) -> [Float] {
        var s = OptimizerSettings(kind: kind)
        s.weightDecay = wd
        configure(&s)
        let o = Optimizer(settings: s, tensors: tensors, parameterCount: 3)
        var w: [Float] = [1, 1, 1]
        for _ in 0..<steps {
            var g: [Float] = [0.5, 0.5, 0.5]
            w.withUnsafeMutableBufferPointer { wp in g.withUnsafeMutableBufferPointer { gp in o.step(parameters: wp.baseAddress!, gradients: gp.baseAddress!, lr: lr) } }
        }
        XCTAssertEqual(w[2], 1, "non-trainable tensor must not change (\(kind))")
        return w
    }

    func testSGD() {
        XCTAssertEqual(run(.sgd, steps: 1)[0], 0.95, accuracy: 1e-7)
        XCTAssertEqual(run(.sgd, steps: 2)[1], 0.90, accuracy: 1e-7)
    }

    func testMomentumKeras() {
        // m1 = -0.05, w1 = 0.95; m2 = 0.9 * -0.05 - 0.05 = -0.095, w2 = 0.855
        XCTAssertEqual(run(.momentum, steps: 1)[0], 0.95, accuracy: 1e-7)
        XCTAssertEqual(run(.momentum, steps: 2)[0], 0.855, accuracy: 1e-6)
    }

    func testNesterovKeras() {
        // w1 = 1 + 0.9 * -0.05 - 0.05 = 0.905; w2 = 0.905 + 0.9 * -0.095 - 0.05 = 0.7695
        XCTAssertEqual(run(.nesterov, steps: 1)[0], 0.905, accuracy: 1e-6)
        XCTAssertEqual(run(.nesterov, steps: 2)[0], 0.7695, accuracy: 1e-6)
    }

    func testAdamKeras() {
        // alpha_t = lr sqrt(1 - 0.999^t) / (1 - 0.9^t); eps = 1e-7 outside the sqrt
        XCTAssertEqual(run(.adam, steps: 1)[0], 0.900000632451532, accuracy: 2e-6)
        XCTAssertEqual(run(.adam, steps: 2)[0], 0.8000010797749725, accuracy: 2e-6)
    }

    func testRMSpropKeras() {
        // v = 0.1 * 0.25; w = 1 - 0.1 * 0.5 / sqrt(v + 1e-7)
        XCTAssertEqual(run(.rmsprop, steps: 1)[0], 0.6837728664367967, accuracy: 1e-6)
    }

    func testAdadeltaKeras() {
        // rho 0.95, eps 1e-7, lr 1: a = 0.0125; d = -sqrt(1e-7) / sqrt(a + 1e-7) * 0.5
        XCTAssertEqual(run(.adadelta, lr: 1, steps: 1)[0], 0.9985857920944472, accuracy: 1e-6)
        // lr 0.1 scales the first step by 0.1
        XCTAssertEqual(run(.adadelta, lr: 0.1, steps: 1)[0], 1 - 0.1 * (1 - 0.9985857920944472), accuracy: 1e-6)
    }

    func testL2WeightDecayOnlyOnDecayingTensors() {
        // g' = 0.5 + 2 * 0.01 * 1 = 0.52 for the kernel, 0.5 for the bias
        let w = run(.sgd, steps: 1, wd: 0.01)
        XCTAssertEqual(w[0], 1 - 0.1 * 0.52, accuracy: 1e-7)
        XCTAssertEqual(w[1], 0.95, accuracy: 1e-7)
    }

    func testPyTorchWeightDecayIsWdTimesW() {
        // torch.optim weight_decay: g' = 0.5 + 0.01 * 1 = 0.51 (not Keras' 2 * wd * w)
        var settings = OptimizerSettings(kind: .sgd)
        settings.weightDecay = 0.01
        settings.l2GradientScale = 1
        let o = Optimizer(settings: settings, tensors: tensors, parameterCount: 3)
        var w: [Float] = [1, 1, 1], g: [Float] = [0.5, 0.5, 0.5]
        w.withUnsafeMutableBufferPointer { wp in g.withUnsafeMutableBufferPointer { gp in o.step(parameters: wp.baseAddress!, gradients: gp.baseAddress!, lr: 0.1) } }
        XCTAssertEqual(w[0], 1 - 0.1 * 0.51, accuracy: 1e-7)
        // penalty reported with the loss: wd/2 * sum(w^2) over the decaying kernel
        var one: [Float] = [2, 0, 0]
        XCTAssertEqual(one.withUnsafeMutableBufferPointer { o.l2Penalty($0.baseAddress!) }, 0.005 * 4, accuracy: 1e-9)
    }

    func testAdamWDecoupledDecay() {
        // Keras 3 AdamW decays every trainable variable (biases too):
        // w = 1 - 0.1 * 0.1 * 1 = 0.99, then the Adam step (-0.1) -> 0.89 for the kernel and the bias
        let w = run(.adamw, steps: 1, wd: 0.1)
        XCTAssertEqual(w[0], 0.99 - (1 - 0.900000632451532), accuracy: 2e-6)
        XCTAssertEqual(w[1], 0.99 - (1 - 0.900000632451532), accuracy: 2e-6)
        XCTAssertEqual(w[2], 1, "non-trainable tensors are never decayed")
    }

    func testSlotsRoundTrip() throws {
        let o = Optimizer(settings: OptimizerSettings(kind: .adam), tensors: tensors, parameterCount: 3)
        var w: [Float] = [1, 2, 3], g: [Float] = [0.1, -0.2, 0.3]
        w.withUnsafeMutableBufferPointer { wp in g.withUnsafeMutableBufferPointer { gp in o.step(parameters: wp.baseAddress!, gradients: gp.baseAddress!, lr: 0.01) } }
        let o2 = Optimizer(settings: OptimizerSettings(kind: .adam), tensors: tensors, parameterCount: 3)
        try o2.restore(slots: o.slotArrays(), iterations: o.iterations)
        XCTAssertEqual(o2.slotArrays(), o.slotArrays())
        XCTAssertEqual(o2.iterations, 1)
        XCTAssertThrowsError(try o2.restore(slots: [[0, 0, 0]], iterations: 1))
    }
}
