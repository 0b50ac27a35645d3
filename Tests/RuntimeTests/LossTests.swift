// Losses: values against hand-computed numbers and PyTorch's documented example, gradients
// against central finite differences (in Double), division by the batch size.

import XCTest
@testable import ModelcRuntime

final class LossTests: XCTestCase {
    func value(_ loss: Loss, _ z: [Float], _ y: [Int32], classes: Int) -> Double {
        z.withUnsafeBufferPointer { zp in y.withUnsafeBufferPointer { yp in
            loss.evaluate(outputs: zp.baseAddress!, labels: yp.baseAddress!, count: y.count, classes: classes, gradient: nil).lossSum / Double(y.count)
        } }
    }
    func gradient(_ loss: Loss, _ z: [Float], _ y: [Int32], classes: Int) -> [Float] {
        var g = [Float](repeating: 0, count: z.count)
        z.withUnsafeBufferPointer { zp in y.withUnsafeBufferPointer { yp in g.withUnsafeMutableBufferPointer { gp in
            _ = loss.evaluate(outputs: zp.baseAddress!, labels: yp.baseAddress!, count: y.count, classes: classes, gradient: gp.baseAddress!)
        } } }
        return g
    }

    func testCrossEntropyValue() {
        let l = Loss(kind: .crossentropy, modelEndsWithSoftmax: true)
        XCTAssertEqual(value(l, [1, 2, 3], [2], classes: 3), 0.40760596444438013, accuracy: 1e-6)
        // stable for large logits
        XCTAssertEqual(value(l, [1000, 0, -1000], [0], classes: 3), 0, accuracy: 1e-6)
        XCTAssertEqual(value(l, [1000, 0, -1000], [1], classes: 3), 1000, accuracy: 1e-3)
    }

    func testMarginValuePyTorchExample() {
        // torch.nn.MultiMarginLoss docs: x = [[0.1, 0.2, 0.4, 0.8]], y = [3] -> 0.25 * (0.3 + 0.4 + 0.6) = 0.3250
        let l = Loss(kind: .margin, modelEndsWithSoftmax: false)
        XCTAssertEqual(value(l, [0.1, 0.2, 0.4, 0.8], [3], classes: 4), 0.325, accuracy: 1e-6)
    }

    func checkFiniteDifferences(_ loss: Loss, file: StaticString = #filePath, line: UInt = #line) {
        var g = SplitMix64(seed: 42)
        let classes = 5, count = 3
        let z = (0..<(classes * count)).map { _ in g.nextFloat() * 4 - 2 }
        let y: [Int32] = [0, 3, 4]
        let analytic = gradient(loss, z, y, classes: classes)
        for i in 0..<z.count {
            let h: Float = 1e-2
            var zp = z, zm = z
            zp[i] += h; zm[i] -= h
            let numeric = (value(loss, zp, y, classes: classes) - value(loss, zm, y, classes: classes)) / Double(2 * h)
            XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 2e-3, "d/dz[\(i)]", file: file, line: line)
        }
    }

    func testCrossEntropyGradient() { checkFiniteDifferences(Loss(kind: .crossentropy, modelEndsWithSoftmax: true)) }
    func testMarginGradientRaw() { checkFiniteDifferences(Loss(kind: .margin, modelEndsWithSoftmax: false)) }
    func testMarginGradientThroughSoftmax() { checkFiniteDifferences(Loss(kind: .margin, modelEndsWithSoftmax: true)) }

    func testGradientDividedByBatchSize() {
        let l = Loss(kind: .crossentropy, modelEndsWithSoftmax: true)
        let one = gradient(l, [1, 2, 3], [0], classes: 3)
        let two = gradient(l, [1, 2, 3, 1, 2, 3], [0, 0], classes: 3)
        for i in 0..<3 { XCTAssertEqual(two[i], one[i] / 2, accuracy: 1e-7) }
    }

    func testCorrectCount() {
        let l = Loss(kind: .crossentropy, modelEndsWithSoftmax: true)
        let z: [Float] = [0, 5, 1, 3, 0, 0]
        let y: [Int32] = [1, 1]
        let r = z.withUnsafeBufferPointer { zp in y.withUnsafeBufferPointer { yp in
            l.evaluate(outputs: zp.baseAddress!, labels: yp.baseAddress!, count: 2, classes: 3, gradient: nil) } }
        XCTAssertEqual(r.correct, 1)
    }
}
