// Resource bounds (issue 6): shapes and counts a model file declares are checked against the
// documented limits (ResourceLimits: 2^26 activation elements per image per layer, 2^28
// parameters per model) before anything multiplies or allocates them, with a FILE:LINE error.
import XCTest
@testable import ModelcCore

final class ResourceBoundsTests: XCTestCase {
    /// A Keras 2 table; `rows` are (name (Type), shape, params); the first row is on line 4.
    func keras2(_ rows: [(String, String, String)], total: String) -> String {
        var s = "Model: \"sequential\"\n_________________________________________________________________\n"
        s += "Layer (type)                 Output Shape              Param #   \n"
        s += "=================================================================\n"
        for (i, r) in rows.enumerated() {
            if i > 0 { s += "_________________________________________________________________\n" }
            s += r.0.padding(toLength: 29, withPad: " ", startingAt: 0) + r.1.padding(toLength: 26, withPad: " ", startingAt: 0) + r.2 + "\n"
        }
        s += "=================================================================\n"
        s += "Total params: \(total)\nTrainable params: \(total)\nNon-trainable params: 0\n"
        s += "_________________________________________________________________\n"
        return s
    }

    func error(_ text: String, path: String = "huge.md") -> ModelError? {
        do {
            let r = try Frontend.check(text: text, path: path)
            XCTFail("expected a resource-limit error, got a report:\n\(r.text())")
        } catch let e as ModelError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)")
        }
        return nil
    }

    func testHugeConvOutputShapeIsRefusedWithFileAndLine() throws {
        let text = keras2([("input_1 (InputLayer)", "(None, 28, 28, 1)", "0"),
                           ("conv2d (Conv2D)", "(None, 100000, 100000, 3)", "30")], total: "30")
        let e = try XCTUnwrap(error(text))
        XCTAssertEqual(e.line, 7)
        XCTAssertTrue(e.description.hasPrefix("huge.md:7: error: layer 'conv2d': output (None, 100000, 100000, 3) has 30,000,000,000 elements per image"), e.description)
        XCTAssertTrue(e.description.contains("at most 67,108,864 (2^26) per layer"), e.description)
    }

    func testHugeInputShapeIsRefused() throws {
        let text = keras2([("input_1 (InputLayer)", "(None, 8192, 8192, 3)", "0"),
                           ("flatten (Flatten)", "(None, 201326592)", "0")], total: "0")
        let e = try XCTUnwrap(error(text))
        XCTAssertEqual(e.line, 5)
        XCTAssertTrue(e.description.contains("201,326,592 elements per image"), e.description)
    }

    func testActivationLimitIsInclusive() throws {
        // (None, 4096, 4096, 4) is exactly 2^26 elements: accepted; one more channel is not.
        let ok = keras2([("input_1 (InputLayer)", "(None, 4096, 4096, 4)", "0"),
                         ("flatten (Flatten)", "(None, 67108864)", "0"),
                         ("dense (Dense)", "(None, 1)", "67,108,865")], total: "67,108,865")
        let r = try Frontend.check(text: ok, path: "edge.md")
        XCTAssertTrue(r.ok, r.problems.description)
        XCTAssertEqual(r.ir.totalParams, 67_108_865)
        let over = keras2([("input_1 (InputLayer)", "(None, 4096, 4096, 5)", "0"),
                           ("flatten (Flatten)", "(None, 83886080)", "0")], total: "0")
        XCTAssertTrue(try XCTUnwrap(error(over)).description.contains("2^26"))
    }

    func testHugeLayerParameterCountIsRefused() throws {
        let text = keras2([("input_1 (InputLayer)", "(None, 65536)", "0"),
                           ("dense (Dense)", "(None, 65536)", "4,295,032,832")], total: "4,295,032,832")
        let e = try XCTUnwrap(error(text))
        XCTAssertEqual(e.line, 7)
        XCTAssertTrue(e.description.contains("parameter count 4,295,032,832 is too large; modelc accepts at most 268,435,456 (2^28)"), e.description)
    }

    func testPyTorchReprWithTooManyParametersIsRefused() throws {
        let text = "```\nNet(\n  (fc1): Linear(in_features=1048576, out_features=1048576, bias=True)\n  (fc2): Linear(in_features=1048576, out_features=10, bias=True)\n)\n```\n"
        let e = try XCTUnwrap(error(text, path: "big.txt"))
        XCTAssertEqual(e.file, "big.txt")
        XCTAssertNotNil(e.line)
        XCTAssertTrue(e.description.contains("268,435,456 (2^28) parameters"), e.description)
    }

    func testTorchSummaryHugeShapeIsRefused() throws {
        let text = """
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv2d-1     [-1, 10, 1000000, 1000000]             260
                    Linear-2                   [-1, 10]             510
        ================================================================
        Total params: 770
        Trainable params: 770
        Non-trainable params: 0
        ----------------------------------------------------------------
        """
        let e = try XCTUnwrap(error(text, path: "ts.txt"))
        XCTAssertEqual(e.line, 4)
        XCTAssertTrue(e.description.contains("Conv2d-1: output [10, 1000000, 1000000] has 10,000,000,000,000 elements per image"), e.description)
    }

    func testAdaptivePoolOutputSizeIsBounded() throws {
        let text = "```\nNet(\n  (conv1): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))\n  (pool): AdaptiveAvgPool2d(output_size=(100000000000, 100000000000))\n  (fc): Linear(in_features=8, out_features=10, bias=True)\n)\n```\n"
        let e = try XCTUnwrap(error(text, path: "pool.txt"))
        XCTAssertEqual(e.line, 4)
        XCTAssertTrue(e.description.contains("expected 1...4096"), e.description)
    }

    func testLimitsAreDocumentedValues() {
        XCTAssertEqual(ResourceLimits.maxActivationElements, 67_108_864)
        XCTAssertEqual(ResourceLimits.maxParameters, 268_435_456)
        XCTAssertEqual(ResourceLimits.elements([4096, 4096, 4]), 67_108_864)
        XCTAssertNil(ResourceLimits.elements([4096, 4096, 5]))
        XCTAssertNil(ResourceLimits.elements([Int.max, 2]))
        XCTAssertNil(ResourceLimits.elements([0, 3]))
    }
}
