// NumericCSV: the committed fixture (Tests/Fixtures/data/arrays/binary.csv, the rows of
// binary.npz), header detection, CRLF/BOM/blank lines/quotes, and errors naming the line and
// column with what was expected and found; the value limit before allocating; the fuzz entry.

import XCTest
import ModelcFuzz
@testable import ModelcData

final class NumericCSVTests: XCTestCase {
    func decode(_ s: String, maxValues: Int = NumericCSV.maxValues) throws -> NumericCSV.Table {
        try NumericCSV.decode(Array(s.utf8), file: "t.csv", maxValues: maxValues)
    }

    func error(_ s: String, maxValues: Int = NumericCSV.maxValues) -> String {
        do { _ = try decode(s, maxValues: maxValues); return "no error" } catch { return "\(error)" }
    }

    func testFixtureMatchesTheNPZ() throws {
        let t = try NumericCSV.read(path: fixture("arrays/binary.csv"))
        XCTAssertEqual(t.header, ["x0", "x1", "x2", "x3", "label"])
        XCTAssertEqual([t.rows, t.columns], [64, 5])
        XCTAssertEqual(t.lines.first, 2)
        let npz = try NPZ.read(path: fixture("arrays/binary.npz"))
        let x = try XCTUnwrap(npz["x"]).floats(), y = try XCTUnwrap(npz["y"]).ints()
        for r in 0..<64 {
            for c in 0..<4 { XCTAssertEqual(t.values[r * 5 + c], x[r * 4 + c], accuracy: 1e-6) }
            XCTAssertEqual(Int(t.values[r * 5 + 4]), y[r])
        }
    }

    func testLayouts() throws {
        let plain = try decode("1,2.5,-3e-1\n4,5,6\n")
        XCTAssertNil(plain.header)
        XCTAssertEqual(plain.values, [1, 2.5, -0.3, 4, 5, 6])
        XCTAssertEqual(plain.lines, [1, 2])
        let windows = try decode("\u{FEFF}\"a\", b ,c\r\n\r\n\"1\", 2 ,3\r\n")
        XCTAssertEqual(windows.header, ["a", "b", "c"])
        XCTAssertEqual(windows.values, [1, 2, 3])
        XCTAssertEqual(windows.lines, [3])
        XCTAssertEqual(try decode("7").values, [7])
    }

    func testErrorsNameLineAndColumn() {
        XCTAssertEqual(error("1,2\n3\n"), "t.csv: offset 4: line 2: expected 2 comma-separated values (as the first line), found 1")
        XCTAssertEqual(error("a,b\n1,x\n"), "t.csv: offset 4: line 2, column 2: expected a finite number, found 'x'")
        XCTAssertEqual(error("1,2\n1,\n"), "t.csv: offset 4: line 2, column 2: expected a finite number, found ''")
        XCTAssertEqual(error("x,y\n1,nan\n"), "t.csv: offset 4: line 2, column 2: expected a finite number, found 'nan'")
        XCTAssertEqual(error("1,nan\n"), "t.csv: a header line but no rows of numbers")   // a first line with a non-number is a header
        XCTAssertTrue(error("x,y\n1,1e39\n").contains("line 2, column 2: expected a finite number, found '1e39'"), error("x,y\n1,1e39\n"))
        XCTAssertEqual(error(""), "t.csv: no rows of numbers (the file is empty)")
        XCTAssertEqual(error("a,b\n\n"), "t.csv: a header line but no rows of numbers")
        XCTAssertTrue(error("1," + String(repeating: "1", count: 65) + "\n").contains("line 1, column 2: a field of 65 bytes (at most 64)"))
        XCTAssertEqual(error("1,2\n3,4\n5,6\n", maxValues: 4), "t.csv: offset 8: line 3: more than 4 values in the file (the limit)")
    }

    func testFuzzEntryDecodesOrThrows() {
        XCTAssertTrue(DecoderFuzzEntry.run("numcsv", Array("1,2\n3,4\n".utf8)))
        XCTAssertFalse(DecoderFuzzEntry.run("numcsv", Array("1,2\n3\n".utf8)))
        XCTAssertFalse(DecoderFuzzEntry.run("numcsv", [0xFF, 0x2C, 0x0A, 0x00]))
    }
}
