import Foundation
import XCTest
@testable import ModelcData

final class CSVTests: XCTestCase {
    func testLabelledCSVMatchesIDX() throws {
        let t = try KaggleCSV.read(path: fixture("csv/train.csv"))
        XCTAssertTrue(t.hasLabels)
        XCTAssertNil(t.ids)
        XCTAssertEqual(t.images.count, 5)
        XCTAssertEqual([t.images.height, t.images.width, t.images.channels], [28, 28, 1])
        XCTAssertEqual(t.images.labels, [0, 1, 2, 3, 4])
        // Same pixels as the first 5 images of the KMNIST-format IDX fixture.
        let idx = try IDX.read(path: fixture("kmnist/train-images-idx3-ubyte.gz"))
        XCTAssertEqual(t.images.pixels, Array(idx.bytes[0..<(5 * 784)]))
    }

    func testCRLFDigMNIST() throws {
        let a = try KaggleCSV.read(path: fixture("csv/Dig-MNIST.csv"))
        let b = try KaggleCSV.read(path: fixture("csv/train.csv"))
        XCTAssertEqual(a.images.pixels, b.images.pixels)
        XCTAssertEqual(a.images.labels, b.images.labels)
    }

    func testUnlabelledKaggleTest() throws {
        let t = try KaggleCSV.read(path: fixture("csv/test.csv"))
        XCTAssertFalse(t.hasLabels)
        XCTAssertEqual(t.ids, [0, 1, 2])
        XCTAssertEqual(t.images.count, 3)
        XCTAssertTrue(t.images.labels.isEmpty)
        assertDataError(["test.csv", "line 1", "expected a 'label' column first, found 'id'", "no labels"]) {
            try Datasets.loadCSV(path: fixture("csv/test.csv"), classes: 10)
        }
    }

    func testBadRowNamesLineAndColumn() {
        // make_fixtures.py turned "4,<pixel0>" on line 6 into "4,x<pixel0>".
        assertDataError(["badrow.csv", "line 6: column 2 (pixel0): expected an integer followed by ','", "found 'x"]) {
            try KaggleCSV.read(path: fixture("corrupt/badrow.csv"))
        }
    }

    func testSmallErrors() {
        func csv(_ s: String) -> [UInt8] { Array(s.utf8) }
        let head = "label," + (0..<4).map { "pixel\($0)" }.joined(separator: ",") + "\n"
        XCTAssertEqual(try KaggleCSV.decode(csv(head + "3,1,2,3,4\n"), file: "s.csv").images.pixels, [1, 2, 3, 4])
        XCTAssertEqual(try KaggleCSV.decode(csv(head + "3,1,2,3,4"), file: "s.csv").images.count, 1)   // no final newline
        assertDataError(["s.csv", "line 2: column 5 (pixel3): pixel value 300 out of range 0...255"]) {
            try KaggleCSV.decode(csv(head + "3,1,2,3,300\n"), file: "s.csv")
        }
        assertDataError(["s.csv", "line 2: column 3 (pixel1)", "found the end of the line", "line has 3 fields, header has 5"]) {
            try KaggleCSV.decode(csv(head + "3,1,2\n"), file: "s.csv")
        }
        assertDataError(["s.csv", "line 3: column 5", "more fields than the header's 5"]) {
            try KaggleCSV.decode(csv(head + "3,1,2,3,4\n3,1,2,3,4,5\n"), file: "s.csv")
        }
        assertDataError(["s.csv", "line 2: label -1 is not a class index"]) {
            try KaggleCSV.decode(csv(head + "-1,1,2,3,4\n"), file: "s.csv")
        }
        assertDataError(["s.csv", "line 1: column 3: expected header 'pixel1', found 'pixelX'"]) {
            try KaggleCSV.decode(csv("label,pixel0,pixelX,pixel2,pixel3\n"), file: "s.csv")
        }
        assertDataError(["s.csv", "line 1: 3 pixel columns is not a square image"]) {
            try KaggleCSV.decode(csv("label,pixel0,pixel1,pixel2\n1,1,1,1\n"), file: "s.csv")
        }
        assertDataError(["s.csv", "no image rows after the header"]) { try KaggleCSV.decode(csv(head), file: "s.csv") }
        assertDataError(["s.csv", "line 1", "empty line"]) { try KaggleCSV.decode([], file: "s.csv") }
        assertDataError(["s.csv", "label 0 is 12, expected a class index 0...9"]) {
            let d = tempDir(); let p = d + "/s.csv"
            try AtomicFile.write(csv(head + "12,1,2,3,4\n"), to: p)
            return try Datasets.loadCSV(path: p, classes: 10)
        }
    }
}
