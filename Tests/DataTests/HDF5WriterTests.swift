// modelc's HDF5 writer (issue 18) read back by modelc's own HDF5 reader: groups nested and
// empty, string attributes, float32 datasets of rank 0 to 5 whose bytes come back bit for bit
// (signed zeros, subnormals, infinities, NaN payloads), long names, headers past 255 and
// 65535 bytes; and the errors: a non-float32 dataset, a duplicate or '/' name, an unwritable
// path, each naming what it is about. (Keras and h5py reading the written file:
// Tests/Fixtures/keras_files/check_weights_h5_export.py.)
import Foundation
import XCTest
@testable import ModelcData
@testable import ModelcModelFiles

final class HDF5WriterTests: XCTestCase {
    /// A float32 array whose bytes are `bits` (any pattern, NaN payloads included).
    func array(_ bits: [UInt32], _ shape: [Int]) -> NDArray {
        var data: [UInt8] = []
        for b in bits { appendLE32(&data, b) }
        return NDArray(shape: shape, dtype: "<f4", data: data)
    }

    func sample() -> [(String, NDArray)] {
        let special: [UInt32] = [0x8000_0000, 0x0000_0001, 0x7F80_0000, 0xFF80_0000, 0x7FC0_1234, 0x3F80_0000]
        var rng: UInt32 = 12345
        func next() -> UInt32 { rng = rng &* 1_664_525 &+ 1_013_904_223; return rng }
        return [
            ("scalar", array([0x4049_0FDB], [])),
            ("special", array(special, [6])),
            ("matrix", array((0..<12).map { _ in next() }, [3, 4])),
            ("kernel", array((0..<(3 * 3 * 2 * 5)).map { _ in next() }, [3, 3, 2, 5])),
            ("rank5", array((0..<32).map { _ in next() }, [2, 2, 2, 2, 2])),
            ("empty", array([], [0, 3])),
        ]
    }

    func testRoundTripThroughOwnReader() throws {
        let arrays = sample()
        var vars = HDF5Writer.Group(attributes: [("name", "conv2d_1"), ("note", "ünïcode ✓"), ("blank", "")])
        vars.members = arrays.map { ($0.0, .dataset($0.1)) }
        let long = String(repeating: "n", count: 300)
        var many = HDF5Writer.Group()
        many.members = (0..<3000).map { ("member_\($0)", .group(HDF5Writer.Group())) }
        let root = HDF5Writer.Group(attributes: [("top", "level")], members: [
            ("layers", .group(HDF5Writer.Group(members: [("conv2d", .group(HDF5Writer.Group(members: [("vars", .group(vars))])))]))),
            ("vars", .group(HDF5Writer.Group(attributes: [("name", "model")]))),
            (long, .group(HDF5Writer.Group(members: [("x", .dataset(array([1, 2], [2])))]))),
            ("many", .group(many)),
        ])
        let bytes = try HDF5Writer.encode(root)
        let f = try HDF5File(bytes: bytes, file: "written.h5")
        XCTAssertEqual(try f.members(f.root).map(\.path), ["/layers", "/vars", "/\(long)", "/many"])
        XCTAssertEqual(try f.rootAttributeString("top"), "level")
        let v = try XCTUnwrap(try f.object("/layers/conv2d/vars"))
        XCTAssertEqual(try f.attributeStrings("name", of: v), ["conv2d_1"])
        XCTAssertEqual(try f.attributeStrings("note", of: v), ["ünïcode ✓"])
        XCTAssertEqual(try f.attributeStrings("blank", of: v), [""])
        XCTAssertEqual(try f.members(v).map(\.path), arrays.map { "/layers/conv2d/vars/\($0.0)" })
        for (name, a) in arrays {
            let back = try f.read(try XCTUnwrap(try f.object(name, from: v)))
            XCTAssertEqual(back, a, name)   // shape, dtype and every byte
        }
        let x = try XCTUnwrap(try f.object("/\(long)/x"))
        XCTAssertEqual(try f.read(x).floats().count, 2)
        XCTAssertEqual(try f.members(try XCTUnwrap(try f.object("many"))).count, 3000)
        XCTAssertTrue(try f.members(try XCTUnwrap(try f.object("vars"))).isEmpty)
        // Deterministic: the same tree gives the same bytes.
        XCTAssertEqual(try HDF5Writer.encode(root), bytes)
    }

    /// Every object is checksummed: flipping any byte of the superblock or an object header is caught.
    func testChecksumsCoverTheMetadata() throws {
        let root = HDF5Writer.Group(members: [("d", .dataset(array([7], [1])))])
        let bytes = try HDF5Writer.encode(root)
        for at in [9, 20, 44, bytes.count - 10] {
            var bad = bytes
            bad[at] ^= 0x40
            XCTAssertThrowsError(try readD(bad), "byte \(at)")
        }
        XCTAssertEqual(try readD(bytes).floats(), [Float(bitPattern: 7)])
    }

    func readD(_ bytes: [UInt8]) throws -> NDArray {
        let f = try HDF5File(bytes: bytes, file: "bad.h5")
        guard let d = try f.object("d") else { throw DataError(file: "bad.h5", message: "no dataset d") }
        return try f.read(d)
    }

    func testRefusals() throws {
        let wrongType = HDF5Writer.Group(members: [("d", .dataset(NDArray(int64: [1], shape: [1])))])
        XCTAssertThrowsError(try HDF5Writer.encode(wrongType)) { XCTAssertTrue("\($0)".contains("/d: cannot write HDF5 dataset: expected float32"), "\($0)") }
        let short = HDF5Writer.Group(members: [("d", .dataset(NDArray(shape: [3], dtype: "<f4", data: [0, 0, 0, 0])))])
        XCTAssertThrowsError(try HDF5Writer.encode(short)) { XCTAssertTrue("\($0)".contains("shape [3], 4 bytes"), "\($0)") }
        let twice = HDF5Writer.Group(members: [("a", .group(HDF5Writer.Group())), ("a", .group(HDF5Writer.Group()))])
        XCTAssertThrowsError(try HDF5Writer.encode(twice)) { XCTAssertTrue("\($0)".contains("member 'a' of /"), "\($0)") }
        let slash = HDF5Writer.Group(members: [("a/b", .group(HDF5Writer.Group()))])
        XCTAssertThrowsError(try HDF5Writer.encode(slash)) { XCTAssertTrue("\($0)".contains("without '/'"), "\($0)") }
        let path = "/nonexistent_dir_\(getpid())/out.weights.h5"
        XCTAssertThrowsError(try HDF5Writer.write(HDF5Writer.Group(), to: path)) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(path): ") && "\(e)".contains("does not exist"), "\(e)")
        }
    }

    func testWriteIsAtomicAndReadable() throws {
        let dir = NSTemporaryDirectory() + "modelc_h5writer_\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/x.weights.h5"
        try HDF5Writer.write(HDF5Writer.Group(members: [("d", .dataset(array([0x3F80_0000], [1])))]), to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["x.weights.h5"])
        let f = try HDF5File(path: path)
        XCTAssertEqual(try f.read(try XCTUnwrap(try f.object("d"))).floats(), [1])
    }
}
