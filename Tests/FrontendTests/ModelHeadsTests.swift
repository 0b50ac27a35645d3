// Several output heads (issue 17, IR/ModelHeads.swift): the layers nothing reads are the heads,
// in table order, with their default activation, loss and weight, `head` annotations, and the
// clear errors for annotations that do not fit.

import XCTest
@testable import ModelcCore

final class ModelHeadsTests: XCTestCase {
    /// A Keras 2 functional table: a trunk, a 10-class head, a 1-unit head and a 4-value head.
    static let table = """
    __________________________________________________________________________________________________
    Layer (type)                    Output Shape         Param #     Connected to
    ==================================================================================================
    input_1 (InputLayer)            (None, 784)          0
    __________________________________________________________________________________________________
    trunk (Dense)                   (None, 32)           25120       input_1[0][0]
    __________________________________________________________________________________________________
    digit (Dense)                   (None, 10)           330         trunk[0][0]
    __________________________________________________________________________________________________
    dropout (Dropout)               (None, 32)           0           trunk[0][0]
    __________________________________________________________________________________________________
    flag (Dense)                    (None, 1)            33          dropout[0][0]
    __________________________________________________________________________________________________
    box (Dense)                     (None, 4)            132         trunk[0][0]
    ==================================================================================================
    Total params: 25,615
    Trainable params: 25,615
    Non-trainable params: 0
    """

    func check(_ annotations: String = "") throws -> ModelIR {
        let r = try Frontend.check(text: Self.table + "\n```modelc\n" + annotations + "\n```\n", path: "h.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        return r.ir
    }

    func testHeadsDefaults() throws {
        let ir = try check()
        XCTAssertEqual(ir.heads?.map(\.name), ["digit", "flag", "box"])
        XCTAssertEqual(ir.heads?.map(\.layer), [2, 4, 5])
        // Each head's Dense gets the final Dense's default: softmax, or sigmoid for one unit.
        XCTAssertEqual(ir.layers[2].op, .dense(units: 10, useBias: true, activation: .softmax))
        XCTAssertEqual(ir.layers[4].op, .dense(units: 1, useBias: true, activation: .sigmoid))
        XCTAssertEqual(ir.layers[5].op, .dense(units: 4, useBias: true, activation: .softmax))
        XCTAssertEqual(ir.heads?.map(\.loss), [.crossEntropy, .crossEntropy, .crossEntropy])
        XCTAssertEqual(ir.heads?.map(\.weight), [1, 1, 1])
        XCTAssertEqual(ir.classNames, [])
        XCTAssertTrue(ir.assumptions.contains { $0.hasPrefix("head flag: loss crossentropy (from its sigmoid output") }, "\(ir.assumptions)")
    }

    func testHeadAnnotations() throws {
        let ir = try check("layer box: activation=linear\nhead box: loss=mae weight=0.25\nhead flag: weight=3")
        XCTAssertEqual(ir.heads?.map(\.loss), [.crossEntropy, .crossEntropy, .meanAbsoluteError])
        XCTAssertEqual(ir.heads?.map(\.weight), [1, 3, 0.25])
        let linear = try check("layer box: activation=linear")
        XCTAssertEqual(linear.heads?.last?.loss, .meanSquaredError, "a linear head defaults to mse")
        let text = try Frontend.check(text: Self.table + "\n```modelc\nhead box: loss=mse weight=0.5\n```\n", path: "h.md").text()
        XCTAssertTrue(text.contains("Heads (3 outputs; the training loss is the sum of weight x loss; data: x and one array per head):"), text)
        XCTAssertTrue(text.contains("  box (4): loss=mse weight=0.5"), text)
    }

    /// A .keras file: the heads in Keras's output order (`output_layers`), not the layers' order.
    func testKerasFileHeadsFollowOutputLayers() throws {
        let r = try Frontend.check(path: Fixtures.path("keras_files/heads_order.keras"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.heads?.map(\.name), ["map_out", "class_out", "flag_out"])
        XCTAssertEqual(r.ir.heads?.map(\.loss), [.meanSquaredError, .crossEntropy, .crossEntropy])
        XCTAssertEqual(r.ir.totalParams, 383)
    }

    func testHeadAnnotationErrors() {
        let t = Self.table + "\n```modelc\n"
        checkError(t + "head trunk: loss=mse\n```\n", contains: "h.md:20: error: head 'trunk' is not an output of the model (its outputs, the layers nothing reads: digit, flag, box)", path: "h.md")
        checkError(t + "head box: loss=margin\n```\n", contains: "head 'box': loss margin is not available on one of several heads", path: "h.md")
        checkError(t + "head box: loss=huber\n```\n", contains: "loss=huber: expected one of", path: "h.md")
        checkError(t + "head box: weight=-1\n```\n", contains: "weight=-1: must be >= 0", path: "h.md")
        checkError(t + "head box: colour=red\n```\n", contains: "unknown head key 'colour' (expected loss=, weight=)", path: "h.md")
        checkError(t + "head: loss=mse\n```\n", contains: "expected 'head NAME: loss=KIND weight=W'", path: "h.md")
        checkError(t + "train: target=input\n```\n", contains: "train: target=input takes the inputs as the one output's targets; this model has 3 outputs", path: "h.md")
        let chain = GraphTests.keras2 + "\n```modelc\nhead dense_3: weight=2\n```\n"
        checkError(chain, contains: "head 'dense_3': the model has one output ('dense_3'); `head` annotations are for models with several outputs", path: "g.md")
    }
}
