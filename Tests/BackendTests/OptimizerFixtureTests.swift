// One training step, end to end, against Keras 3 (Tests/Fixtures/numerics/optimizer_steps, see its
// README): the generated model (FxOptimizerSteps: conv 3x3 relu -> flatten -> dense) loads
// weights.npz, runs a training forward, the runtime's softmax cross-entropy gives d loss/d logits,
// the generated backward gives the gradients and the runtime's optimizer applies two updates
// (the second with the carried optimizer state). Every weight after each step must match Keras
// (relative 1e-4), and so must the loss before each step. Also PyTorch MultiMarginLoss.

import XCTest
import Foundation
import GeneratedTestModels
import ModelcRuntime
import ModelcData

final class OptimizerFixtureTests: XCTestCase {
    static let dir = KerasFixtureTests.root + "/optimizer_steps"

    func testOneAndTwoStepsOfEveryOptimizerMatchKeras() throws {
        let weights = try NPZ.read(path: Self.dir + "/weights.npz")
        let steps = try NPZ.read(path: Self.dir + "/steps.npz")
        typealias M = FxOptimizerSteps
        let batches: [(x: [Float], y: [Int32])] = try (1...2).map { s in
            let x = try XCTUnwrap(steps["input_\(s)"]).floats()
            let y = try XCTUnwrap(steps["labels_\(s)"]).ints().map { Int32($0) }
            return (x, y)
        }
        let n = batches[0].y.count
        // (fixture name, optimizer, learning rate, weight decay)
        let cases: [(String, OptimizerKind, Float, Float)] = [
            ("sgd", .sgd, 0.1, 0), ("momentum", .momentum, 0.1, 0), ("nesterov", .nesterov, 0.1, 0),
            ("adam", .adam, 1e-3, 0), ("adamw", .adamw, 1e-3, 0.004), ("rmsprop", .rmsprop, 1e-3, 0),
            ("adadelta", .adadelta, 1.0, 0), ("sgd_l2", .sgd, 0.1, 0.0005),
        ]
        var checked = 0
        for (name, kind, lr, wd) in cases {
            let m = M(maxBatch: n)
            for s in M.info.tensors {
                let v = try XCTUnwrap(weights[s.key], "weights.npz has no \(s.key)").floats()
                XCTAssertEqual(v.count, s.count)
                for j in 0..<v.count { m.parameters[s.offset + j] = v[j] }
            }
            var settings = OptimizerSettings(kind: kind)
            settings.weightDecay = wd
            let optimizer = Optimizer(settings: settings, info: M.info)
            let loss = Loss(kind: .crossentropy, modelEndsWithSoftmax: M.endsWithSoftmax)
            let classes = M.info.classCount
            var dLogits = [Float](repeating: 0, count: n * classes)
            for (i, batch) in batches.enumerated() {
                let out = batch.x.withUnsafeBufferPointer { m.forward($0.baseAddress!, count: n, training: true, seed: 1) }
                let (sum, _) = batch.y.withUnsafeBufferPointer { y in
                    dLogits.withUnsafeMutableBufferPointer { g in
                        loss.evaluate(outputs: out, labels: y.baseAddress!, count: n, classes: classes, gradient: g.baseAddress!)
                    }
                }
                let reported = sum / Double(n) + optimizer.l2Penalty(m.parameters)
                let refLoss = try XCTUnwrap(steps["\(name)/loss_\(i + 1)"]).floats()[0]
                XCTAssertEqual(Float(reported), refLoss, accuracy: 1e-5 * max(1, abs(refLoss)), "\(name) loss before step \(i + 1)")
                TestModels.backward(m, dLogits, count: n)
                optimizer.step(parameters: m.parameters, gradients: m.gradients, lr: lr)
                for s in M.info.tensors where s.trainable {
                    let ref = try XCTUnwrap(steps["\(name)/step\(i + 1)/\(s.key)"], "steps.npz has no \(name)/step\(i + 1)/\(s.key)").floats()
                    let got = Array(UnsafeBufferPointer(start: m.parameters + s.offset, count: s.count))
                    let err = relativeError(got, ref)
                    XCTAssertLessThanOrEqual(err, 1e-4, "\(name) step \(i + 1) \(s.key): relative error \(err)")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, cases.count * 2 * 4)
    }

    func testMultiMarginLossMatchesPyTorch() throws {
        let f = try NPZ.read(path: Self.dir + "/margin_loss.npz")
        let logits = try XCTUnwrap(f["logits"]).floats()
        let labels = try XCTUnwrap(f["labels"]).ints().map { Int32($0) }
        let refLoss = try XCTUnwrap(f["loss"]).floats()[0]
        let refGrad = try XCTUnwrap(f["grad_logits"]).floats()
        let n = labels.count, classes = logits.count / n
        var grad = [Float](repeating: 0, count: logits.count)
        let loss = Loss(kind: .margin, modelEndsWithSoftmax: false)
        let (sum, _) = logits.withUnsafeBufferPointer { z in
            labels.withUnsafeBufferPointer { y in
                grad.withUnsafeMutableBufferPointer { g in
                    loss.evaluate(outputs: z.baseAddress!, labels: y.baseAddress!, count: n, classes: classes, gradient: g.baseAddress!)
                }
            }
        }
        XCTAssertEqual(Float(sum / Double(n)), refLoss, accuracy: 1e-6)
        XCTAssertLessThanOrEqual(relativeError(grad, refGrad), 1e-5)
    }
}
