// Several inputs (issue 17, IR/ModelInputs.swift): Keras 2 and Keras 3 functional tables with
// several InputLayer rows (an Input row may come after layers that do not read it), a .keras
// file's `input_layers` order, the report and JSON, real published two-input summaries, and
// the clear errors for inputs that do not fit.

import XCTest
@testable import ModelcCore

final class ModelInputsTests: XCTestCase {
    /// A Keras 2 functional table: an image branch, then the `meta` input (after layers that do
    /// not read it, as real tables print it), a Dense on it, a Concatenate and a head.
    static let keras2 = """
    __________________________________________________________________________________________________
    Layer (type)                    Output Shape         Param #     Connected to
    ==================================================================================================
    image (InputLayer)              (None, 8, 8, 1)      0
    __________________________________________________________________________________________________
    conv (Conv2D)                   (None, 6, 6, 4)      40          image[0][0]
    __________________________________________________________________________________________________
    flat (Flatten)                  (None, 144)          0           conv[0][0]
    __________________________________________________________________________________________________
    meta (InputLayer)               (None, 3)            0
    __________________________________________________________________________________________________
    meta_dense (Dense)              (None, 5)            20          meta[0][0]
    __________________________________________________________________________________________________
    merged (Concatenate)            (None, 149)          0           flat[0][0]
                                                                     meta_dense[0][0]
    __________________________________________________________________________________________________
    out (Dense)                     (None, 2)            300         merged[0][0]
    ==================================================================================================
    Total params: 360
    Trainable params: 360
    Non-trainable params: 0
    __________________________________________________________________________________________________
    """

    /// The same model as Keras 3 prints it (box table, `-` for an InputLayer's Connected to).
    static var keras3: String {
        func cell(_ s: String, _ n: Int, right: Bool = false) -> String {
            let pad = String(repeating: " ", count: max(0, n - s.count))
            return right ? pad + s : s + pad
        }
        func row(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
            "│ \(cell(a, 19)) │ \(cell(b, 17)) │ \(cell(c, 10, right: true)) │ \(cell(d, 17)) │"
        }
        func rule(_ l: String, _ m: String, _ r: String, _ h: String) -> String {
            l + [21, 19, 12, 19].map { String(repeating: h, count: $0) }.joined(separator: m) + r
        }
        let rows = [row("image (InputLayer)", "(None, 8, 8, 1)", "0", "-"),
                    row("conv (Conv2D)", "(None, 6, 6, 4)", "40", "image[0][0]"),
                    row("flat (Flatten)", "(None, 144)", "0", "conv[0][0]"),
                    row("meta (InputLayer)", "(None, 3)", "0", "-"),
                    row("meta_dense (Dense)", "(None, 5)", "20", "meta[0][0]"),
                    row("merged", "(None, 149)", "0", "flat[0][0],"),
                    row("(Concatenate)", "", "", "meta_dense[0][0]"),
                    row("out (Dense)", "(None, 2)", "300", "merged[0][0]")]
        var lines = ["Model: \"functional\"", rule("┏", "┳", "┓", "━"),
                     "┃ \(cell("Layer (type)", 19)) ┃ \(cell("Output Shape", 17)) ┃ \(cell("Param #", 10, right: true)) ┃ \(cell("Connected to", 17)) ┃",
                     rule("┡", "╇", "┩", "━")]
        for (i, r) in rows.enumerated() {
            lines.append(r)
            if i + 1 < rows.count && i != 5 { lines.append(rule("├", "┼", "┤", "─")) }
        }
        lines += [rule("└", "┴", "┘", "─"), " Total params: 360 (1.41 KB)", " Trainable params: 360 (1.41 KB)", " Non-trainable params: 0 (0.00 B)"]
        return lines.joined(separator: "\n")
    }

    func check(_ text: String) throws -> CheckReport {
        let r = try Frontend.check(text: text, path: "in.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        return r
    }

    func testBothTableLayoutsGiveTheInputs() throws {
        for text in [Self.keras2, Self.keras3] {
            let ir = try check(text).ir
            XCTAssertEqual(ir.inputs?.map(\.name), ["image", "meta"])
            XCTAssertEqual(ir.inputs?.map(\.layer), [0, 3])
            XCTAssertEqual(ir.inputs?.map(\.shape), [[8, 8, 1], [3]])
            XCTAssertEqual(ir.inputs?.map(\.offset), [0, 64])
            XCTAssertEqual(ir.layers[3].producers, [])
            XCTAssertEqual(ir.layers[4].producers, [3])
            XCTAssertEqual(ir.layers[5].op, .merge(.concatenate(axis: -1)))
            XCTAssertEqual(ir.totalParams, 360)
            XCTAssertNil(ir.dataset, "a model with several inputs names no dataset")
            XCTAssertNil(ir.heads)
        }
    }

    func testReportAndJSONNameTheInputs() throws {
        let r = try check(Self.keras2)
        let text = r.text()
        XCTAssertTrue(text.contains("Inputs (2; one flat vector per example, in this order; data: an .npz with x_<name> per input):"), text)
        XCTAssertTrue(text.contains("  image (8, 8, 1): values 0..<64"), text)
        XCTAssertTrue(text.contains("  meta (3): values 64..<67"), text)
        XCTAssertTrue(text.contains("dataset: none (a model with 2 inputs trains on an .npz holding one array per input: x_image [N, 8, 8, 1], x_meta [N, 3])"), text)
        XCTAssertTrue(text.contains("OK: every shape and parameter count matches"), text)
        let json = r.json()
        XCTAssertTrue(json.contains("\"inputs\": [{\"name\": \"image\", \"shape\": [8, 8, 1], \"offset\": 0}, {\"name\": \"meta\", \"shape\": [3], \"offset\": 64}],"), json)
        let one = try check(GraphTests.keras2)
        XCTAssertNil(one.ir.inputs)
        XCTAssertFalse(one.json().contains("\n  \"inputs\": "), "no top-level inputs for one input")
    }

    /// A .keras file lists its inputs in `input_layers` (features, tokens), not the layers' order.
    func testKerasFileInputsFollowInputLayers() throws {
        let r = try Frontend.check(path: Fixtures.path("keras_files/inputs_order.keras"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputs?.map(\.name), ["features", "tokens"])
        XCTAssertEqual(r.ir.inputs?.map(\.offset), [0, 4])
        XCTAssertEqual(r.ir.inputs?.map(\.shape), [[4], [5]])
        XCTAssertEqual(r.ir.totalParams, 21 + 30 + 66)
    }

    /// The Keras fixture's own table (make_input_fixtures.py) reads its inputs in table order.
    func testFixtureTable() throws {
        let r = try Frontend.check(path: Fixtures.path("numerics/graph_inputs/model.md"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(Set(r.ir.inputs?.map(\.name) ?? []), ["tokens", "features"])
        XCTAssertEqual(r.ir.layers.filter { $0.op == .input }.count, 2)
    }

    /// Real published two-input summaries (Tests/Fixtures/summaries, manifest.json): the weather
    /// model prints its second input after the layers of the first.
    func testPublishedTwoInputTables() throws {
        let weather = try Frontend.check(path: Fixtures.path("summaries/functional_keras2_two_inputs_station_embedding.txt"))
        XCTAssertTrue(weather.ok, "\(weather.problems)")
        XCTAssertEqual(weather.ir.inputs?.map(\.name), ["station_id_input", "month_day_input"])
        XCTAssertEqual(weather.ir.inputs?.map(\.layer), [0, 3])
        let images = try Frontend.check(path: Fixtures.path("summaries/functional_keras2_two_image_inputs_conv_concat.txt"))
        XCTAssertTrue(images.ok, "\(images.problems)")
        XCTAssertEqual(images.ir.inputs?.map(\.shape), [[64, 64, 1], [32, 32, 3]])
        XCTAssertEqual(images.ir.inputs?.map(\.offset), [0, 4096])
    }

    /// ONNX graphs with several inputs stay out of scope: the error names them and the way that works.
    func testONNXGraphWithTwoInputsIsAClearError() {
        let graph = PB.bytes(1, PB.node("Add", ["x", "z"], ["y"])) + PB.string(2, "g") + PB.bytes(11, PB.valueInfo("x", [1, 4]))
            + PB.bytes(11, PB.valueInfo("z", [1, 4])) + PB.bytes(12, PB.valueInfo("y", [1, 4]))
        let bytes = PB.int(1, 8) + PB.string(2, "tests") + PB.bytes(7, graph) + PB.bytes(8, PB.string(1, "") + PB.int(2, 13))
        XCTAssertThrowsError(try Frontend.checkONNX(bytes: bytes, path: "two.onnx")) {
            XCTAssertTrue("\($0)".contains("found 2: 'x', 'z'; modelc reads single-input ONNX graphs (a model with several inputs is read from its Keras functional summary or .keras file)"), "\($0)")
        }
    }

    func testErrors() {
        let unread = Self.keras2.replacingOccurrences(of: "meta_dense (Dense)              (None, 5)            20          meta[0][0]",
                                                      with: "meta_dense (Dense)              (None, 5)            20          flat[0][0]")
        // meta_dense now reads flat (144 inputs): 725 params, so fix the count too.
        checkError(unread.replacingOccurrences(of: "(None, 5)            20 ", with: "(None, 5)            725"),
                   contains: "Input layer 'meta' feeds no layer of the model")
        let noInput = Self.keras2.replacingOccurrences(of: "meta_dense (Dense)              (None, 5)            20          meta[0][0]",
                                                       with: "meta_dense (Dense)              (None, 5)            20")
        checkError(noInput, contains: "layer 'meta_dense' has no input in the 'Connected to' column (only an InputLayer reads nothing)")
        let connected = Self.keras2.replacingOccurrences(of: "meta (InputLayer)               (None, 3)            0",
                                                         with: "meta (InputLayer)               (None, 3)            0           flat[0][0]")
        checkError(connected, contains: "test.md:10: error: InputLayer 'meta' is connected to flat; an InputLayer reads nothing")
        let chain = """
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #
        =================================================================
        a (InputLayer)               (None, 3)                 0
        _________________________________________________________________
        b (InputLayer)               (None, 3)                 0
        _________________________________________________________________
        dense (Dense)                (None, 2)                 8
        =================================================================
        Total params: 8
        """
        checkError(chain, contains: "a second InputLayer 'b' in a table without a 'Connected to' column")
    }
}
