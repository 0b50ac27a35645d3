import Foundation
import XCTest
@testable import ModelcData

final class NPZTests: XCTestCase {
    func checkArrays(_ a: [String: NDArray], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(Set(a.keys), ["f4", "f8", "i8", "i4", "u1", "scalar"], file: file, line: line)
        let f4 = try XCTUnwrap(a["f4"])
        XCTAssertEqual(f4.shape, [3, 4]); XCTAssertEqual(f4.dtype, "<f4")
        let v = try f4.floats()
        for i in 0..<12 { XCTAssertEqual(v[i], -1.5 + Float(i) * 4 / 11, accuracy: 1e-6, file: file, line: line) }
        XCTAssertEqual(try a["f8"]!.floats(), [Float(1e-300), -2.5, 3.25])
        XCTAssertEqual(a["i8"]!.dtype, "<i8")
        XCTAssertEqual(try a["i8"]!.ints(), [-(1 << 40), 7, 0, 1 << 40])
        XCTAssertEqual(try a["i4"]!.ints(), [-5, 0, 5, Int(Int32.max)])
        XCTAssertEqual(a["u1"]!.dtype, "|u1"); XCTAssertEqual(a["u1"]!.shape, [2, 3])
        XCTAssertEqual(try a["u1"]!.ints(), [250, 251, 252, 253, 254, 255])
        XCTAssertEqual(a["scalar"]!.shape, [])
        XCTAssertEqual(try a["scalar"]!.floats(), [4.5])
        assertDataError(["expected an integer dtype, found '<f4'"]) { try f4.ints() }
    }

    func testNumpySavezStored() throws { try checkArrays(NPZ.read(path: fixture("npz/stored.npz"))) }
    func testNumpySavezCompressed() throws { try checkArrays(NPZ.read(path: fixture("npz/compressed.npz"))) }

    func testKeysWithSlashes() throws {
        let a = try NPZ.read(path: fixture("npz/layered.npz"))
        XCTAssertEqual(a["conv2d_1/kernel"]?.shape, [2, 2, 1, 3])
        XCTAssertEqual(try a["conv2d_1/bias"]?.floats(), [0.5, -0.5, 0.25])
    }

    func testNPYVersionsAndByteOrder() throws {
        let f4 = try NPY.read(path: fixture("npz/f4.npy"))
        let be = try NPY.read(path: fixture("npz/bigendian.npy"))
        XCTAssertEqual(be.dtype, "<f4")
        XCTAssertEqual(try be.floats(), try f4.floats())
        let v2 = try NPY.read(path: fixture("npz/v2.npy"))
        XCTAssertEqual(try v2.ints(), [-5, 0, 5, Int(Int32.max)])
    }

    func testFortranAndStructuredRejected() {
        assertDataError(["fortran.npy", "offset 10", "Fortran-order arrays are not supported"]) {
            try NPY.read(path: fixture("npz/fortran.npy"))
        }
        assertDataError(["structured.npy", "structured dtypes are not supported"]) {
            try NPY.read(path: fixture("npz/structured.npy"))
        }
    }

    func testWriteReadRoundTripAndNumpyLayout() throws {
        let dir = tempDir()
        let path = dir + "/w.npz"
        let k = NDArray(float32: (0..<24).map { Float($0) * 0.5 - 3 }, shape: [2, 3, 4])
        let b = NDArray(int64: [1, -2, 3], shape: [3])
        let u = NDArray(uint8: [9, 8, 7, 6], shape: [2, 2])
        try NPZ.write([("dense_1/kernel", k), ("dense_1/bias", b), ("u", u)], to: path)
        let r = try NPZ.read(path: path)
        XCTAssertEqual(r["dense_1/kernel"], k)
        XCTAssertEqual(r["dense_1/bias"], b)
        XCTAssertEqual(r["u"], u)
        // The header is what numpy writes: 64-byte aligned, ends with a newline.
        let npy = try NPY.encode(k)
        let hlen = Int(npy[8]) | Int(npy[9]) << 8
        XCTAssertEqual((10 + hlen) % 64, 0)
        XCTAssertEqual(npy[10 + hlen - 1], 0x0A)
        XCTAssertEqual(String(decoding: npy[10..<(10 + hlen)], as: UTF8.self).trimmedWS(),
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }")
        // No temporary files left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["w.npz"])
    }

    func testWriteRejectsMismatchedData() {
        let bad = NDArray(shape: [5], dtype: "<f4", data: [0, 0, 0, 0])
        assertDataError(["x.npz", "does not match 4 data bytes"]) { try NPZ.write([("a", bad)], to: tempDir() + "/x.npz") }
        assertDataError(["duplicate array key 'a'"]) {
            try NPZ.encode([("a", NDArray(uint8: [1], shape: [1])), ("a", NDArray(uint8: [1], shape: [1]))])
        }
    }

    func testNPYHeaderErrors() throws {
        func npy(_ header: String, data: [UInt8] = []) -> [UInt8] {
            var h = header
            while (10 + h.utf8.count + 1) % 64 != 0 { h += " " }
            h += "\n"
            return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8)] + Array(h.utf8) + data
        }
        assertDataError(["a.npy", "offset 128", "shape [3] of <f4 needs 12 data bytes, found 4"]) {
            try NPY.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data: [0, 0, 0, 0]), file: "a.npy")
        }
        assertDataError(["a.npy", "unsupported dtype '<c8'"]) {
            try NPY.decode(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"), file: "a.npy")
        }
        assertDataError(["a.npy", "exceeds"]) {
            try NPY.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 3), }"), file: "a.npy")
        }
        assertDataError(["a.npy", "malformed .npy header", "expected '}'"]) {
            try NPY.decode(npy("{'descr': '<f4', 'fortran_order': False 'shape': (1,)}"), file: "a.npy")
        }
        assertDataError(["a.npy", "offset 0", "expected magic \\x93NUMPY"]) {
            try NPY.decode(Array("PK\u{3}\u{4}xxxxxxxxxx".utf8), file: "a.npy")
        }
        var v9 = npy("{}"); v9[6] = 9
        assertDataError(["a.npy", "offset 6", "unsupported .npy format version 9"]) { try NPY.decode(v9, file: "a.npy") }
        var long = npy("{}"); long[8] = 0xFF; long[9] = 0xFF
        assertDataError(["a.npy", "offset 10", "header declares 65535 bytes"]) { try NPY.decode(long, file: "a.npy") }
    }

    func testCorruptArchives() {
        assertDataError(["badcrc.npz", "CRC32 mismatch in 'f4.npy'"]) { try NPZ.read(path: fixture("corrupt/badcrc.npz")) }
        assertDataError(["truncated.npz", "no end-of-central-directory record"]) { try NPZ.read(path: fixture("corrupt/truncated.npz")) }
        assertDataError(["tiny.npz", "offset 0", "smaller than the 22-byte end record"]) { try NPZ.decode([1, 2, 3], file: "tiny.npz") }
    }

    func testZipLyingSizes() throws {
        var z = try Zip.archiveStored([("a.npy", try NPY.encode(NDArray(uint8: [1, 2, 3], shape: [3])))])
        // Central directory sizes start at cdOffset + 20; find the central header.
        let cd = try XCTUnwrap(findSig(z, [0x50, 0x4B, 0x01, 0x02]))
        z[cd + 20] = 0xFF; z[cd + 21] = 0xFF; z[cd + 22] = 0x0F   // compressed size ~1M
        assertDataError(["lie.npz", "declares", "compressed bytes but only"]) { try NPZ.decode(z, file: "lie.npz") }
        var z2 = try Zip.archiveStored([("a.npy", [1, 2, 3])])
        let cd2 = try XCTUnwrap(findSig(z2, [0x50, 0x4B, 0x01, 0x02]))
        z2[cd2 + 10] = 14   // method 14 (LZMA)
        assertDataError(["m.npz", "compression method 14"]) { try NPZ.decode(z2, file: "m.npz") }
        var z3 = try Zip.archiveStored([("a.npy", [1, 2, 3])])
        let cd3 = try XCTUnwrap(findSig(z3, [0x50, 0x4B, 0x01, 0x02]))
        for i in 20..<28 { z3[cd3 + i] = 0xFF }
        assertDataError(["z64.npz", "zip64"]) { try NPZ.decode(z3, file: "z64.npz") }
        // A deflate entry whose declared size is smaller than its real output stops at the declared size.
        let payload = try NPY.encode(NDArray(uint8: [UInt8](repeating: 7, count: 1000), shape: [1000]))
        let real = bytes(fixture("npz/compressed.npz"))
        XCTAssertFalse(real.isEmpty)
        _ = payload
    }

    func testDeflateEntryBoundedByDeclaredSize() throws {
        var z = bytes(fixture("npz/compressed.npz"))
        let cd = try XCTUnwrap(findSig(z, [0x50, 0x4B, 0x01, 0x02]))
        // Shrink the declared uncompressed size of the first entry by 1.
        let usize = Int(z[cd + 24]) | Int(z[cd + 25]) << 8
        z[cd + 24] = UInt8((usize - 1) & 0xFF); z[cd + 25] = UInt8((usize - 1) >> 8)
        assertDataError(["c.npz", "exceeds the limit of \(usize - 1) bytes"]) { try NPZ.decode(z, file: "c.npz") }
    }

    func findSig(_ b: [UInt8], _ sig: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where Array(b[i..<(i + 4)]) == sig { return i }
        return nil
    }
}
