// The task losses (TaskLosses.swift): values and gradients against Keras 3 on a tiny model
// (Tests/Fixtures/numerics/losses, made by make_loss_fixtures.py), gradients against central
// finite differences (in Double), the clip of binary cross-entropy, accuracy counts, and which
// objective a loss setting means on each head.

import XCTest
import ModelcData
@testable import ModelcRuntime

final class TaskLossTests: XCTestCase {
    static let fixture: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/numerics/losses/losses.npz").path
    }()

    func value(_ loss: Loss, _ z: [Float], _ y: [Float], width: Int) -> Double {
        z.withUnsafeBufferPointer { zp in y.withUnsafeBufferPointer { yp in
            loss.evaluate(outputs: zp.baseAddress!, targets: yp.baseAddress!, count: y.count / width, width: width, gradient: nil).lossSum
                / Double(y.count / width)
        } }
    }

    func gradient(_ loss: Loss, _ z: [Float], _ y: [Float], width: Int) -> [Float] {
        var g = [Float](repeating: 0, count: z.count)
        z.withUnsafeBufferPointer { zp in y.withUnsafeBufferPointer { yp in g.withUnsafeMutableBufferPointer { gp in
            _ = loss.evaluate(outputs: zp.baseAddress!, targets: yp.baseAddress!, count: y.count / width, width: width, gradient: gp.baseAddress!)
        } } }
        return g
    }

    func loss(_ kind: LossKind, _ head: OutputHead, oneHot: Bool = false) throws -> Loss {
        try Loss(kind: kind, head: head, oneHotTargets: oneHot)
    }

    /// max |a - b| <= tol * max |b|
    func assertClose(_ a: [Float], _ b: [Float], _ tol: Float = 1e-4, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(diff, tol * scale, "\(what): max difference \(diff), scale \(scale)", file: file, line: line)
    }

    // MARK: Keras references

    func testKerasReferences() throws {
        let a = try NPZ.read(path: Self.fixture)
        let cases: [(String, LossKind, OutputHead)] = [
            ("bce_sigmoid_1", .binaryCrossentropy, .sigmoid), ("bce_sigmoid_multilabel", .crossentropy, .sigmoid),
            ("bce_logits_soft", .binaryCrossentropy, .linear), ("cce_onehot", .categoricalCrossentropy, .softmax),
            ("scce", .sparseCategoricalCrossentropy, .softmax), ("mse_linear", .mse, .linear),
            ("mae_linear", .mae, .linear), ("mse_sigmoid", .mse, .sigmoid),
        ]
        for (name, kind, head) in cases {
            func get(_ k: String) throws -> NDArray { try XCTUnwrap(a["\(name)/\(k)"], "\(name)/\(k) missing") }
            let x = try get("x").floats(), out = try get("outputs").floats(), kernel = try get("kernel")
            let (n, d, k) = (x.count / 3, 3, kernel.shape[1])
            let l = try loss(kind, head, oneHot: kind == .categoricalCrossentropy)
            var g = [Float](repeating: 0, count: n * k)
            let lossSum: Double
            if l.objective.usesLabels {
                let labels = try get("y").ints().map(Int32.init)
                lossSum = out.withUnsafeBufferPointer { o in labels.withUnsafeBufferPointer { yp in g.withUnsafeMutableBufferPointer { gp in
                    l.evaluate(outputs: o.baseAddress!, labels: yp.baseAddress!, count: n, classes: k, gradient: gp.baseAddress!).lossSum
                } } }
            } else {
                let y = try get("y").floats()
                lossSum = out.withUnsafeBufferPointer { o in y.withUnsafeBufferPointer { yp in g.withUnsafeMutableBufferPointer { gp in
                    l.evaluate(outputs: o.baseAddress!, targets: yp.baseAddress!, count: n, width: k, gradient: gp.baseAddress!).lossSum
                } } }
            }
            let ref = try get("loss").floats()[0]
            XCTAssertEqual(Float(lossSum / Double(n)), ref, accuracy: 1e-4 * max(1, abs(ref)), "\(name): loss")
            // a sigmoid head's backward (emitted by modelc) multiplies by p(1 - p)
            if head == .sigmoid { for i in g.indices { g[i] *= out[i] * (1 - out[i]) } }
            assertClose(g, try get("grad_logits").floats(), 1e-4, "\(name): d loss / d logits")
            // through the tiny model's Dense: dW = x^T g, db = sum g
            var dw = [Float](repeating: 0, count: d * k), db = [Float](repeating: 0, count: k)
            for s in 0..<n { for j in 0..<k {
                db[j] += g[s * k + j]
                for i in 0..<d { dw[i * k + j] += x[s * d + i] * g[s * k + j] }
            } }
            assertClose(dw, try get("grad_kernel").floats(), 1e-4, "\(name): kernel gradient")
            assertClose(db, try get("grad_bias").floats(), 1e-4, "\(name): bias gradient")
        }
    }

    // MARK: finite differences

    func checkFiniteDifferences(_ l: Loss, z: [Float], y: [Float], width: Int, h: Float = 1e-3,
                                file: StaticString = #filePath, line: UInt = #line) {
        let analytic = gradient(l, z, y, width: width)
        for i in z.indices {
            var zp = z, zm = z
            zp[i] += h; zm[i] -= h
            let numeric = (value(l, zp, y, width: width) - value(l, zm, y, width: width)) / Double(2 * h)
            XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 2e-3 * max(1, abs(numeric)), "\(l.objective) d/dz[\(i)]", file: file, line: line)
        }
    }

    func testGradientsByFiniteDifferences() throws {
        var r = SplitMix64(seed: 5)
        let width = 4, count = 3
        let logits = (0..<(width * count)).map { _ in r.nextFloat() * 4 - 2 }
        let probabilities = (0..<(width * count)).map { _ in 0.05 + 0.9 * r.nextFloat() }
        let soft = (0..<(width * count)).map { _ in r.nextFloat() }
        let binary = soft.map { $0 > 0.5 ? Float(1) : 0 }
        var oneHot = [Float](repeating: 0, count: width * count)
        for n in 0..<count { oneHot[n * width + (n * 3) % width] = 1 }
        let regression = (0..<(width * count)).map { _ in r.nextFloat() * 2 - 1 }
        checkFiniteDifferences(try loss(.binaryCrossentropy, .sigmoid), z: probabilities, y: binary, width: width, h: 1e-4)
        checkFiniteDifferences(try loss(.binaryCrossentropy, .sigmoid), z: probabilities, y: soft, width: width, h: 1e-4)
        checkFiniteDifferences(try loss(.binaryCrossentropy, .linear), z: logits, y: soft, width: width)
        checkFiniteDifferences(try loss(.crossentropy, .softmax, oneHot: true), z: logits, y: oneHot, width: width)
        checkFiniteDifferences(try loss(.categoricalCrossentropy, .linear), z: logits, y: soft, width: width)
        checkFiniteDifferences(try loss(.mse, .linear), z: logits, y: regression, width: width)
        checkFiniteDifferences(try loss(.mae, .linear), z: logits, y: regression, width: width)
        checkFiniteDifferences(try loss(.mse, .sigmoid), z: probabilities, y: soft, width: width)
        // a softmax head's outputs are logits: the error is the probabilities', back through the softmax
        checkFiniteDifferences(try loss(.mse, .softmax), z: logits, y: oneHot, width: width)
        checkFiniteDifferences(try loss(.mae, .softmax), z: logits, y: soft, width: width)
    }

    /// Keras's mse/mae on a softmax model compare softmax(z) with y (the model outputs
    /// probabilities); modelc's softmax head hands the loss logits, so the loss applies the softmax.
    func testRegressionLossesOnASoftmaxHeadUseTheProbabilities() throws {
        let z: [Float] = [2, -1, 0.5, 0, 0, 3], y: [Float] = [1, 0, 0, 0, 0, 1], width = 3
        var mse = 0.0, mae = 0.0
        for n in 0..<2 {
            let e = (0..<width).map { exp(Double(z[n * width + $0])) }, s = e.reduce(0, +)
            for k in 0..<width {
                let d = e[k] / s - Double(y[n * width + k])
                mse += d * d / Double(width); mae += abs(d) / Double(width)
            }
        }
        XCTAssertEqual(value(try loss(.mse, .softmax), z, y, width: width), mse / 2, accuracy: 1e-6)
        XCTAssertEqual(value(try loss(.mae, .softmax), z, y, width: width), mae / 2, accuracy: 1e-6)
        // eval's error sums use the same probabilities
        var squared = 0.0, absolute = 0.0
        z.withUnsafeBufferPointer { zp in y.withUnsafeBufferPointer { yp in
            try? loss(.mse, .softmax).addErrors(outputs: zp.baseAddress!, targets: yp.baseAddress!, count: 2, width: width, stride: width,
                                               squared: &squared, absolute: &absolute)
        } }
        XCTAssertEqual(squared / 6, mse / 2, accuracy: 1e-6)
        XCTAssertEqual(absolute / 6, mae / 2, accuracy: 1e-6)
    }

    // MARK: Keras details

    func testBinaryCrossEntropyClipsAtKerasEpsilon() throws {
        let l = try loss(.binaryCrossentropy, .sigmoid)
        // p = 1 with y = 0: -log(1 - (1 - 1e-7)) in float32 arithmetic, and no gradient (clipped)
        let v = value(l, [1], [0], width: 1)
        XCTAssertEqual(v, -Double(logf(1 - (1 - lossEpsilon))), accuracy: 1e-3)
        XCTAssertGreaterThan(v, 15)
        XCTAssertEqual(gradient(l, [1], [0], width: 1), [0])
        XCTAssertEqual(gradient(l, [0], [1], width: 1), [0])
        // inside the range: d/dp = (p - y) / (p (1 - p)); times p (1 - p) that is p - y
        let g = gradient(l, [0.8], [1], width: 1)[0]
        XCTAssertEqual(g * 0.8 * 0.2, -0.2, accuracy: 1e-6)
        // the logit form is stable far out
        let logits = try loss(.binaryCrossentropy, .linear)
        XCTAssertEqual(value(logits, [100], [0], width: 1), 100, accuracy: 1e-4)
        XCTAssertEqual(value(logits, [-100], [0], width: 1), 0, accuracy: 1e-6)
    }

    func testMeansOverUnitsAndBatch() throws {
        // Keras: the mean over the output values of an example, then over the batch
        let mse = try loss(.mse, .linear)
        XCTAssertEqual(value(mse, [1, 2, 3, 4], [0, 0, 0, 0], width: 2), (1 + 4 + 9 + 16) / 4, accuracy: 1e-6)
        XCTAssertEqual(gradient(mse, [1, 2, 3, 4], [0, 0, 0, 0], width: 2), [0.5, 1, 1.5, 2])
        let mae = try loss(.mae, .linear)
        XCTAssertEqual(value(mae, [1, -2, 3, 4], [0, 0, 0, 4], width: 2), 6.0 / 4, accuracy: 1e-6)
        XCTAssertEqual(gradient(mae, [1, -2, 3, 4], [0, 0, 0, 4], width: 2), [0.25, -0.25, 0.25, 0])
    }

    func testAccuracyCounts() throws {
        let bce = try loss(.binaryCrossentropy, .sigmoid)
        let r = [Float(0.9), 0.2, 0.6, 0.4].withUnsafeBufferPointer { z in [Float(1), 0, 0, 0].withUnsafeBufferPointer { y in
            bce.evaluate(outputs: z.baseAddress!, targets: y.baseAddress!, count: 2, width: 2, gradient: nil)
        } }
        XCTAssertEqual(r.correct, 3)                       // units: 0.6 against 0 is the miss
        XCTAssertEqual(bce.accuracyUnits(width: 2), 2)
        let cce = try loss(.categoricalCrossentropy, .softmax)
        let c = [Float(1), 2, 3, 3, 2, 1].withUnsafeBufferPointer { z in [Float(0), 0, 1, 0, 1, 0].withUnsafeBufferPointer { y in
            cce.evaluate(outputs: z.baseAddress!, targets: y.baseAddress!, count: 2, width: 3, gradient: nil)
        } }
        XCTAssertEqual(c.correct, 1)
        XCTAssertEqual(try loss(.mse, .linear).evaluate(outputs: [1], targets: [1], count: 1, width: 1, gradient: nil).correct, 0)
    }

    func testObjectiveOfEachHead() throws {
        XCTAssertEqual(try Objective.resolve(.crossentropy, head: .softmax, oneHotTargets: false), .sparseCategorical)
        XCTAssertEqual(try Objective.resolve(.crossentropy, head: .softmax, oneHotTargets: true), .categorical)
        XCTAssertEqual(try Objective.resolve(.crossentropy, head: .sigmoid, oneHotTargets: false), .binary)
        XCTAssertEqual(try Objective.resolve(.crossentropy, head: .linear, oneHotTargets: false), .sparseCategorical)
        XCTAssertEqual(try Objective.resolve(.binaryCrossentropy, head: .linear, oneHotTargets: false), .binary)
        XCTAssertEqual(try Objective.resolve(.mse, head: .sigmoid, oneHotTargets: false), .meanSquared)
        XCTAssertThrowsError(try Objective.resolve(.binaryCrossentropy, head: .softmax, oneHotTargets: false)) {
            XCTAssertTrue("\($0)".contains("needs a sigmoid head"), "\($0)")
        }
        XCTAssertThrowsError(try Objective.resolve(.sparseCategoricalCrossentropy, head: .sigmoid, oneHotTargets: false)) {
            XCTAssertTrue("\($0)".contains("ends in sigmoid"), "\($0)")
        }
        // one linear output (a logit): a class objective trains nothing
        XCTAssertThrowsError(try Objective.sparseCategorical.check(outputs: 1, head: .linear, loss: .crossentropy)) {
            XCTAssertTrue("\($0)".contains("use --loss binary_crossentropy"), "\($0)")
        }
        XCTAssertThrowsError(try Objective.margin.check(outputs: 1, head: .linear, loss: .margin))
        XCTAssertNoThrow(try Objective.binary.check(outputs: 1, head: .linear, loss: .binaryCrossentropy))
        XCTAssertNoThrow(try Objective.meanSquared.check(outputs: 1, head: .linear, loss: .mse))
        XCTAssertNoThrow(try Objective.sparseCategorical.check(outputs: 10, head: .linear, loss: .crossentropy))
        XCTAssertEqual(LossKind(name: "bce"), .binaryCrossentropy)
        XCTAssertEqual(LossKind(name: "mean_absolute_error"), .mae)
        XCTAssertNil(LossKind(name: "hinge"))
    }
}
