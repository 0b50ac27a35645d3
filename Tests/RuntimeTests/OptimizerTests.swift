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

    /// PyTorch models: torch.optim's Adam adds epsilon to sqrt(v_hat), RMSprop to sqrt(v).
    /// References from torch 2 (Tests/Fixtures/numerics/make_torch_optimizer_refs.py), with
    /// epsilon 0.1 so that its place shows: Keras's forms give 0.986 and 0.844 after one step.
    func testTorchEpsilonPlacement() {
        func torch(_ kind: OptimizerKind, _ steps: Int) -> Float {
            run(kind, steps: steps) { $0.torchForms = true; $0.epsilon = 0.1; $0.rmsRho = 0.99 }[0]
        }
        XCTAssertEqual(torch(.adam, 1), 0.9166666666666666, accuracy: 1e-6)
        XCTAssertEqual(torch(.adam, 2), 0.8333333333333338, accuracy: 1e-6)
        XCTAssertEqual(torch(.rmsprop, 1), 0.6666666666666667, accuracy: 1e-6)
        XCTAssertEqual(torch(.rmsprop, 2), 0.373469451724671, accuracy: 1e-6)
        XCTAssertNotEqual(run(.adam, steps: 1) { $0.epsilon = 0.1 }[0], torch(.adam, 1), accuracy: 0.01, "Keras's form differs")
    }

    /// PyTorch models: torch's momentum buffer holds gradients, so a learning rate changed by a
    /// schedule scales the whole step (references from make_torch_optimizer_refs.py; Keras's form
    /// gives 0.88 after the second step).
    func testTorchMomentumUnderASchedule() {
        func run(_ kind: OptimizerKind, torch: Bool) -> [Float] {
            var s = OptimizerSettings(kind: kind)
            s.torchForms = torch
            let o = Optimizer(settings: s, tensors: tensors, parameterCount: 3)
            var w: [Float] = [1, 1, 1], out: [Float] = []
            for lr: Float in [0.1, 0.05] {
                var g: [Float] = [0.5, 0.5, 0.5]
                w.withUnsafeMutableBufferPointer { wp in g.withUnsafeMutableBufferPointer { gp in o.step(parameters: wp.baseAddress!, gradients: gp.baseAddress!, lr: lr) } }
                out.append(w[0])
            }
            return out
        }
        let momentum = run(.momentum, torch: true), nesterov = run(.nesterov, torch: true)
        XCTAssertEqual(momentum[0], 0.95, accuracy: 1e-6); XCTAssertEqual(momentum[1], 0.9025, accuracy: 1e-6)
        XCTAssertEqual(nesterov[0], 0.905, accuracy: 1e-6); XCTAssertEqual(nesterov[1], 0.83725, accuracy: 1e-6)
        XCTAssertEqual(run(.momentum, torch: false)[1], 0.88, accuracy: 1e-6, "Keras's form")
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

    /// The scalar Keras formulas, one element at a time (the reference for the vectorized,
    /// split `step`): w, g, m, v of one element after one update.
    static func scalarUpdate(_ s: OptimizerSettings, lr: Float, t: Float, decays: Bool,
                             _ w: inout Float, _ g: inout Float, _ m: inout Float, _ v: inout Float) {
        let wd = s.weightDecay
        if wd != 0 && s.kind != .adamw && decays { g += s.l2GradientScale * wd * w }
        switch s.kind {
        case .sgd: w -= lr * g
        case .momentum: m = s.momentum * m - lr * g; w += m
        case .nesterov: m = s.momentum * m - lr * g; w += s.momentum * m - lr * g
        case .adam, .adamw:
            if s.kind == .adamw && wd != 0 { w -= w * (lr * wd) }
            let alpha = lr * (1 - powf(s.beta2, t)).squareRoot() / (1 - powf(s.beta1, t))
            m += (g - m) * (1 - s.beta1)
            v += (g * g - v) * (1 - s.beta2)
            w -= alpha * m / (v.squareRoot() + s.epsilon)
        case .rmsprop:
            m = s.rmsRho * m + (1 - s.rmsRho) * g * g
            w -= lr * g / (m + s.epsilon).squareRoot()
        case .adadelta:
            m = s.rho * m + (1 - s.rho) * g * g
            let d = -(v + s.epsilon).squareRoot() / (m + s.epsilon).squareRoot() * g
            v = s.rho * v + (1 - s.rho) * d * d
            w += lr * d
        }
    }

    /// `step` runs 16 lanes at a time with a padded tail and splits the elements over the threads;
    /// each element must still get exactly the scalar formulas' result (bit for bit), for every
    /// optimizer, with 1 and 2 threads, on tensors whose sizes are not multiples of 16 and with
    /// a non-trainable tensor in between that must stay untouched.
    func testVectorizedSplitStepMatchesScalarFormulas() {
        let sizes = [(20_011, true, true), (37, true, false), (1_000, false, false), (19_993, true, true), (5, true, false)]
        var specs: [TensorSpec] = []
        var offset = 0
        for (i, (n, trainable, decays)) in sizes.enumerated() {
            specs.append(TensorSpec(key: "t\(i)", shape: [n], offset: offset, trainable: trainable, initializer: .zeros, decays: decays))
            offset += n
        }
        let count = offset
        var rng = SystemRandomNumberGenerator()
        let w0 = (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
        let grads = (0..<3).map { _ in (0..<count).map { _ in Float.random(in: -1...1, using: &rng) } }
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for kind in OptimizerKind.allCases {
            var s = OptimizerSettings(kind: kind)
            s.weightDecay = 0.01
            // reference: the scalar formulas element by element
            var rw = w0, rm = [Float](repeating: 0, count: count), rv = rm
            for (step, g) in grads.enumerated() {
                for spec in specs where spec.trainable {
                    for i in spec.offset..<(spec.offset + spec.count) {
                        var gi = g[i]
                        OptimizerTests.scalarUpdate(s, lr: 0.01, t: Float(step + 1), decays: spec.decays, &rw[i], &gi, &rm[i], &rv[i])
                    }
                }
            }
            for threads in [1, 2] {
                Parallel.threads = threads
                let o = Optimizer(settings: s, tensors: specs, parameterCount: count)
                var w = w0
                for g in grads {
                    var g = g
                    w.withUnsafeMutableBufferPointer { wp in g.withUnsafeMutableBufferPointer { gp in o.step(parameters: wp.baseAddress!, gradients: gp.baseAddress!, lr: 0.01) } }
                }
                let mismatches = (0..<count).filter { w[$0].bitPattern != rw[$0].bitPattern }
                XCTAssertEqual(mismatches.count, 0, "\(kind), \(threads) threads: \(mismatches.count) elements differ from the scalar formulas, first at \(mismatches.first ?? -1)")
                if kind.slotCount > 0 {
                    XCTAssertEqual(o.slotArrays()[0].map(\.bitPattern), rm.map(\.bitPattern), "\(kind) slot 0, \(threads) threads")
                }
                if kind.slotCount > 1 {
                    XCTAssertEqual(o.slotArrays()[1].map(\.bitPattern), rv.map(\.bitPattern), "\(kind) slot 1, \(threads) threads")
                }
            }
        }
    }
}
