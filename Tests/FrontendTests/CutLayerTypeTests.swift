// Keras 3 cuts long class names with an ellipsis (`(GlobalAveragePool…`). When several supported
// classes start with the printed text, the row's shapes and count choose among them
// (IR/CutLayerTypes.swift); the layer name decides only between classes that print alike, and
// a row that several classes (or none) fit is an error naming the line, the text and the candidates.
import XCTest
@testable import ModelcCore

final class CutLayerTypeTests: XCTestCase {
    /// A Keras 3 box table from (name, type cell, shape, count) rows, each row wrapped over two
    /// lines (the name, then the type), as Keras 3 prints a narrow first column.
    static func table(_ rows: [(String, String, String, Int)]) -> String {
        func cell(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
        var s = """
        Model: "cut"
        ┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┓
        ┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃
        ┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━┩

        """
        for (i, (name, type, shape, count)) in rows.enumerated() {
            let p = String(count)
            s += "│ \(cell(name, 19)) │ \(cell("(None, \(shape))", 17)) │ \(String(repeating: " ", count: 10 - p.count) + p) │\n"
            s += "│ \(cell(type, 19)) │ \(cell("", 17)) │ \(cell("", 10)) │\n"
            s += i == rows.count - 1 ? "└─────────────────────┴───────────────────┴────────────┘\n"
                                     : "├─────────────────────┼───────────────────┼────────────┤\n"
        }
        return s + " Total params: \(rows.reduce(0) { $0 + $1.3 })\n"
    }

    /// The 1-based line of the row named `name`.
    static func line(_ text: String, _ name: String) -> Int {
        (text.components(separatedBy: "\n").firstIndex { $0.hasPrefix("│ \(name) ") } ?? -1) + 1
    }

    func testTheShapesChooseAmongTheClassesACutTypeMayBe() throws {
        // After an image the pool is GlobalAveragePooling2D, after a sequence GlobalAveragePooling1D,
        // even when the layer's name is a stem of the other class ('gap1d', 'gap').
        let image = Self.table([("input_layer", "(InputLayer)", "8, 8, 1", 0), ("conv", "(Conv2D)", "6, 6, 4", 40),
                                ("global_average_poo…", "(GlobalAveragePool…", "4", 0), ("dense", "(Dense)", "3", 15)])
        XCTAssertEqual(checkOK(image)?.layer("global_average_poo")?.kind, "GlobalAveragePooling2D")
        let named1D = image.replacingOccurrences(of: "global_average_poo…", with: "gap1d              ")
        let r = try XCTUnwrap(checkOK(named1D))
        XCTAssertEqual(r.layer("gap1d")?.kind, "GlobalAveragePooling2D", "the shapes, not the name")
        XCTAssertTrue(r.layer("gap1d")?.notes.contains { $0.contains("chosen: the candidate that fits the shapes and count") } ?? false, "\(r.layer("gap1d")?.notes ?? [])")
        let sequence = Self.table([("input_layer", "(InputLayer)", "10, 4", 0), ("gap", "(GlobalAveragePool…", "4", 0), ("dense", "(Dense)", "3", 15)])
        XCTAssertEqual(checkOK(sequence)?.layer("gap")?.kind, "GlobalAveragePooling1D")
    }

    func testConv2DOrConv2DTransposeByTheirShapes() throws {
        // (Conv2… is Conv2D or Conv2DTranspose (same count): shrinking 8 -> 6 is a Conv2D, 6 -> 8 a transpose.
        let t = Self.table([("input_layer", "(InputLayer)", "8, 8, 1", 0), ("c1", "(Conv2…", "6, 6, 4", 40),
                            ("c2", "(Conv2…", "8, 8, 2", 74), ("flatten", "(Flatten)", "128", 0)])
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertEqual(r.layer("c1")?.kind, "Conv2D")
        XCTAssertEqual(r.layer("c2")?.kind, "Conv2DTranspose")
        XCTAssertEqual(r.ir.totalParams, 114)
    }

    func testSeveralOrNoFittingClassesAreErrors() {
        // GlobalAveragePooling2D and GlobalMaxPooling2D print alike, and 'pool' names neither.
        let alike = Self.table([("input_layer", "(InputLayer)", "8, 8, 1", 0), ("conv", "(Conv2D)", "6, 6, 4", 40),
                                ("pool", "(Global…", "4", 0), ("dense", "(Dense)", "3", 15)])
        checkError(alike, contains: "test.md:\(Self.line(alike, "pool")): error: layer 'pool': the type (Global… is cut short and several of its candidates ")
        checkError(alike, contains: "fit (6, 6, 4) -> (4) with 0 params: GlobalAveragePooling2D, GlobalMaxPooling2D; annotate `layer pool: kind=GlobalAveragePooling2D`")
        // A Keras default name decides between them.
        let named = Self.table([("input_layer", "(InputLayer)", "8, 8, 1", 0), ("conv", "(Conv2D)", "6, 6, 4", 40),
                                ("gmp", "(Global…", "4", 0), ("dense", "(Dense)", "3", 15)])
        XCTAssertEqual(checkOK(named)?.layer("gmp")?.kind, "GlobalMaxPooling2D")
        // No candidate gives 41 params.
        let none = Self.table([("input_layer", "(InputLayer)", "8, 8, 1", 0), ("c1", "(Conv2…", "6, 6, 4", 41), ("flatten", "(Flatten)", "144", 0)])
        checkError(none, contains: "test.md:\(Self.line(none, "c1")): error: layer 'c1': the type (Conv2… is cut short and none of its candidates (Conv2D, Conv2DTranspose) fits: ")
        // A count cut short asks for a wider summary.
        let wide = Self.table([("flatten", "(Flatten)", "3072", 0), ("dense", "(Dense)", "1000", 3_073_000)])
        let cut = wide.replacingOccurrences(of: "   3073000 │", with: " 3,073,… │")
        XCTAssertNotEqual(cut, wide)
        checkError(cut, contains: "parameter count '3,073,…' is not a number (Keras 3 cut it at the column's width: print the summary wider (model.summary(line_length=150)))")
    }
}
