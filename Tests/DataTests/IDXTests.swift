import Foundation
import XCTest
@testable import ModelcData

final class IDXTests: XCTestCase {
    func testGzipAndRawAgree() throws {
        let gz = try IDX.read(path: fixture("kmnist/t10k-images-idx3-ubyte.gz"))
        let raw = try IDX.read(path: fixture("raw/t10k-images-idx3-ubyte"))
        XCTAssertEqual(gz.dims, [12, 28, 28])
        XCTAssertEqual(gz.dims, raw.dims)
        XCTAssertEqual(gz.bytes, raw.bytes)
        XCTAssertEqual(gz.bytes.count, 12 * 28 * 28)
        // make_fixtures.py zeroes the top 4 rows of every image.
        XCTAssertTrue(gz.bytes[0..<(4 * 28)].allSatisfy { $0 == 0 })
        let labels = try IDX.read(path: fixture("kmnist/t10k-labels-idx1-ubyte.gz"))
        XCTAssertEqual(labels.dims, [12])
        XCTAssertEqual(labels.bytes, (0..<12).map { UInt8(($0 * 3) % 10) })
    }

    func testLyingHeaderIsRejectedWithoutAllocating() {
        // 16-byte file claiming 10^9 images of 28x28.
        assertDataError(["lying-images-idx3-ubyte", "offset 4", "[1000000000, 28, 28]", "exceed"]) {
            try IDX.read(path: fixture("corrupt/lying-images-idx3-ubyte"))
        }
        // 12 bytes claiming 10^9 images with 3 dims: the header itself is incomplete.
        let twelve: [UInt8] = [0, 0, 8, 3, 0x3B, 0x9A, 0xCA, 0x00, 0, 0, 0, 28]
        assertDataError(["t.idx", "3 dimensions (16 header bytes) but the file has only 12 bytes"]) {
            try IDX.decode(twelve, file: "t.idx")
        }
        // Plausible count but not enough data.
        assertDataError(["t.idx", "offset 16", "[1000, 28, 28] need 784000 data bytes, found 0", "truncated"]) {
            try IDX.decode([0, 0, 8, 3, 0, 0, 0x03, 0xE8, 0, 0, 0, 28, 0, 0, 0, 28], file: "t.idx")
        }
    }

    func testShortAndExtraData() throws {
        assertDataError(["short-images-idx3-ubyte", "offset 16", "need 9408 data bytes, found 9308"]) {
            try IDX.read(path: fixture("corrupt/short-images-idx3-ubyte"))
        }
        assertDataError(["t.idx", "extra bytes"]) {
            try IDX.decode([0, 0, 8, 1, 0, 0, 0, 2, 5, 6, 7], file: "t.idx")
        }
    }

    func testMagicAndTypeErrors() {
        assertDataError(["t.idx", "offset 0", "expected magic 00 00 TYPE NDIMS", "found 1f 8b 08 00"]) {
            try IDX.decode([0x1F, 0x8B, 8, 0, 0, 0], file: "t.idx")
        }
        assertDataError(["t.idx", "offset 2", "unknown IDX element type 0x07"]) {
            try IDX.decode([0, 0, 7, 1, 0, 0, 0, 0], file: "t.idx")
        }
        assertDataError(["t.idx", "offset 0", "expected at least a 4-byte magic"]) {
            try IDX.decode([0, 0], file: "t.idx")
        }
        assertDataError(["t.idx", "offset 3", "0 dimensions"]) {
            try IDX.decode([0, 0, 8, 0], file: "t.idx")
        }
    }

    func testOtherElementTypes() throws {
        // int32 (0x0C), 2 values, big-endian.
        let r = try IDX.decode([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF], file: "t")
        XCTAssertEqual(r.type, .int32)
        XCTAssertEqual(r.dims, [2])
        XCTAssertEqual(r.bytes, [0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    func testWriteRoundTrip() throws {
        let dir = tempDir()
        let data = (0..<(3 * 5 * 4)).map { UInt8($0) }
        try IDX.write(dims: [3, 5, 4], bytes: data, to: dir + "/a-idx3-ubyte.gz", gzip: true)
        try IDX.write(dims: [3, 5, 4], bytes: data, to: dir + "/a-idx3-ubyte")
        for p in [dir + "/a-idx3-ubyte.gz", dir + "/a-idx3-ubyte"] {
            let r = try IDX.read(path: p)
            XCTAssertEqual(r.dims, [3, 5, 4]); XCTAssertEqual(r.bytes, data)
        }
        XCTAssertThrowsError(try IDX.encode(dims: [3, 5], bytes: data))
    }

    func testMissingFileAndDirectory() {
        assertDataError(["/nonexistent/x-idx3-ubyte", "no such file"]) { try IDX.read(path: "/nonexistent/x-idx3-ubyte") }
        assertDataError(["is a directory"]) { try IDX.read(path: fixture("kmnist")) }
    }

    func testEveryTruncationOfRawFails() {
        let b = bytes(fixture("raw/t10k-labels-idx1-ubyte"))
        for n in 0..<b.count {
            XCTAssertThrowsError(try IDX.decode(Array(b[0..<n]), file: "p"), "prefix \(n)")
        }
        XCTAssertNoThrow(try IDX.decode(b, file: "p"))
    }
}
