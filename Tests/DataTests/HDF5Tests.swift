// modelc's own HDF5 reader (issue 18) on files written by h5py and Keras
// (Tests/Fixtures/keras_files, made by make_keras_files.py there): dataset values of every
// layout, datatype and byte order, attributes (fixed and variable-length strings, dense
// storage), groups old-style and new-style (dense links), and hostile files, each refused with
// a DataError naming the file, the offset and what was expected.
import Foundation
import XCTest
@testable import ModelcData
@testable import ModelcModelFiles

final class HDF5Tests: XCTestCase {
    static let dir: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/keras_files").path
    }()

    func open(_ name: String) throws -> HDF5File { try HDF5File(path: "\(Self.dir)/\(name)") }

    func dataset(_ f: HDF5File, _ path: String) throws -> NDArray {
        try f.read(try XCTUnwrap(try f.object(path), "\(f.path) has no \(path)"))
    }

    func testFeatureFilesBothLayouts() throws {
        for name in ["hdf5_features.h5", "hdf5_features_v0.h5"] {
            let f = try open(name)
            let chunked = try dataset(f, "/chunked")
            XCTAssertEqual(chunked.shape, [7, 5], name)
            XCTAssertEqual(try chunked.floats(), (0..<35).map { Float($0) / 10 }, name)
            XCTAssertEqual(try dataset(f, "f16").floats(), [0.5, -1.25, 2.0], name)
            XCTAssertEqual(try dataset(f, "f64be").dtype, "<f8", name)
            XCTAssertEqual(try dataset(f, "f64be").floats(), [1.5, -2.25], name)
            XCTAssertEqual(try dataset(f, "i16be").ints(), [-3, 300], name)
            XCTAssertEqual(try dataset(f, "u8").ints(), [1, 2, 255], name)
            XCTAssertEqual(try dataset(f, "compact").ints(), [7, 8, 9], name)
            XCTAssertEqual(try f.rootAttributeString("fixed"), "abc", name)
            XCTAssertEqual(try f.rootAttributeString("vlen"), "hello", name)
            XCTAssertEqual(try f.attributeStrings("names", of: f.root), ["x", "yz"], name)
            XCTAssertEqual(try f.attributeStrings("vnames", of: f.root), ["p", "qq"], name)
            XCTAssertNil(try f.rootAttributeString("missing"), name)
            let big = try XCTUnwrap(try f.object("big"))
            let members = try f.members(big)
            XCTAssertEqual(members.map(\.path).sorted(), (0..<20).map { String(format: "/big/d%02d", $0) }, name)
            for m in members {
                XCTAssertEqual(try f.read(m).ints(), [Int(m.path.suffix(2))!], "\(name) \(m.path)")
            }
            XCTAssertEqual(try f.attributeNames(big).sorted(), (0..<12).map { String(format: "a%02d", $0) }, name)
            XCTAssertEqual(try f.attributeArray("a07", of: big)?.ints(), [107], name)
            // 100 hard links: a v2 B-tree with an internal node, a fractal heap with an indirect root.
            let many = try f.members(try XCTUnwrap(try f.object("many")))
            XCTAssertEqual(many.map(\.path).sorted(), (0..<100).map { String(format: "/many/link_to_u8_%03d", $0) }, name)
            XCTAssertEqual(Set(many.map(\.address)), [try XCTUnwrap(try f.object("u8")).address], name)
        }
    }

    func testKeras2ModelConfigAttribute() throws {
        let config = try XCTUnwrap(try open("gc_separable.h5").rootAttributeString("model_config"))
        XCTAssertTrue(config.hasPrefix("{\"class_name\": \"Functional\""), String(config.prefix(80)))
        XCTAssertTrue(config.contains("\"separable_conv2d_2\""))
        XCTAssertEqual(try open("gc_dense_bn.v108.h5").rootAttributeString("model_config"),
                       try open("gc_dense_bn.h5").rootAttributeString("model_config"))
        let json = try KerasWeightFiles.kerasConfigJSON(path: "\(Self.dir)/gc_separable.keras")
        XCTAssertTrue(json.contains("\"DepthwiseConv2D\""))
    }

    func testKerasWeightLayouts() throws {
        let k3 = try KerasWeightFiles.readH5(path: "\(Self.dir)/gc_separable.weights.h5")
        XCTAssertEqual(k3.keys.sorted(), ["conv2d_1/vars/0", "conv2d_1/vars/1", "dense_1/vars/0", "dense_1/vars/1",
                                          "depthwise_conv2d_1/vars/0", "depthwise_conv2d_1/vars/1",
                                          "separable_conv2d_1/vars/0", "separable_conv2d_1/vars/1", "separable_conv2d_1/vars/2",
                                          "separable_conv2d_2/vars/0", "separable_conv2d_2/vars/1"])
        XCTAssertEqual(k3["separable_conv2d_2/vars/1"]?.shape, [1, 1, 10, 18])
        let k2 = try KerasWeightFiles.readH5(path: "\(Self.dir)/gc_separable.h5")
        XCTAssertEqual(k2["separable_conv2d_1/pointwise_kernel"], k3["separable_conv2d_1/vars/1"])
        XCTAssertEqual(k2["depthwise_conv2d_1/kernel"], k3["depthwise_conv2d_1/vars/0"])
        XCTAssertEqual(k2.count, k3.count)
        let zipped = try KerasWeightFiles.readKeras(path: "\(Self.dir)/gc_separable.keras")
        XCTAssertEqual(zipped, k3)
        let only = try KerasWeightFiles.readH5(path: "\(Self.dir)/gc_dense_bn.weights_only.h5")
        XCTAssertEqual(only.keys.sorted(), ["batch_normalization_1/beta", "batch_normalization_1/gamma", "batch_normalization_1/moving_mean",
                                            "batch_normalization_1/moving_variance", "dense_1/bias", "dense_1/kernel", "dense_2/kernel",
                                            "dense_3/bias", "dense_3/kernel"])
        XCTAssertEqual(try KerasWeightFiles.readH5(path: "\(Self.dir)/gc_dense_bn.h5"), only)
        XCTAssertEqual(try KerasWeightFiles.readH5(path: "\(Self.dir)/gc_dense_bn.v108.h5"), only)
        XCTAssertEqual(try KerasWeightFiles.readH5(path: "\(Self.dir)/gc_dense_bn.latest.weights.h5"),
                       try KerasWeightFiles.readH5(path: "\(Self.dir)/gc_dense_bn.weights.h5"))
    }
}

/// Hostile files: each refused with a DataError naming the file, an offset and what was expected.
final class HDF5HostileFileTests: XCTestCase {
    func bytes(_ name: String) throws -> [UInt8] { try FileIO.read(path: "\(HDF5Tests.dir)/\(name)") }

    /// Every object, attribute and dataset of the file (what the fuzz entry point reads).
    func readAll(_ b: [UInt8], _ file: String) throws {
        let f = try HDF5File(bytes: b, file: file)
        try f.walk { o in
            for n in try f.attributeNames(o) { _ = try? f.attributeStrings(n, of: o) }
            if try f.isDataset(o) { _ = try f.read(o) }
        }
    }

    func assertRefused(_ b: [UInt8], _ file: String, _ parts: [String], line: UInt = #line) {
        XCTAssertThrowsError(try readAll(b, file), line: line) { e in
            guard let d = e as? DataError else { return XCTFail("not a DataError: \(e)", line: line) }
            XCTAssertEqual(d.file, file, line: line)
            XCTAssertNotNil(d.offset, "\(d)", line: line)
            for p in parts { XCTAssertTrue(d.description.contains(p), "'\(p)' not in: \(d)", line: line) }
        }
    }

    func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    func testNotHDF5AndTruncated() throws {
        assertRefused(Array("hello, not hdf5".utf8), "x.h5", ["not an HDF5 file", "expected the signature"])
        let b = try bytes("hdf5_features_v0.h5")
        for n in [9, 40, 100, 2000, 9000, b.count - 100] {
            assertRefused(Array(b.prefix(n)), "t.h5", ["expected"])
        }
        assertRefused(Array(b.prefix(2000)), "t.h5", ["expected an address inside the file (2000 bytes)"])
    }

    func testWrongOffsets() throws {
        var b = try bytes("hdf5_features_v0.h5")
        // Superblock v0: the root symbol table entry's object header address is at 64.
        b.replaceSubrange(64..<72, with: le64(b.count + 4096))
        assertRefused(b, "w.h5", ["offset 64", "root group object header address", "expected an address inside the file"])
        b = try bytes("hdf5_features_v0.h5")
        b.replaceSubrange(64..<72, with: le64(8))   // inside the superblock: no object header there
        assertRefused(b, "w.h5", ["offset 8", "expected an object header"])
    }

    func testLinkCycle() throws {
        var b = try bytes("gc_separable.weights.h5")
        let f = try HDF5File(bytes: b, file: "c.h5")
        let layers = try XCTUnwrap(try f.object("/layers"))
        let dense = try XCTUnwrap(try f.object("/layers/dense"))
        // Point the symbol table entry of /layers/dense at /layers, its own parent.
        let target = le64(dense.address)
        let snod = try XCTUnwrap((0..<(b.count - 4)).first { i in
            b[i..<(i + 4)].elementsEqual("SNOD".utf8) && (i..<min(b.count - 8, i + 1000)).contains { b[$0..<($0 + 8)].elementsEqual(target) }
        })
        let at = try XCTUnwrap((snod..<(b.count - 8)).first { b[$0..<($0 + 8)].elementsEqual(target) })
        b.replaceSubrange(at..<(at + 8), with: le64(layers.address))
        assertRefused(b, "c.h5", ["link cycle", "/layers/dense"])
        XCTAssertThrowsError(try KerasWeightFiles.decodeH5(b, file: "c.h5")) { e in
            XCTAssertTrue("\(e)".contains("link cycle"), "\(e)")
        }
    }

    func testHugeDeclaredSizes() throws {
        // Version 1 object headers (no checksum): the claim reaches the size check.
        for (name, path) in [("hdf5_features_v0.h5", "/u8"), ("hdf5_features_v0.h5", "/chunked"), ("hdf5_features.h5", "/f16")] {
            var b = try bytes(name)
            let f = try HDF5File(bytes: b, file: name)
            let o = try XCTUnwrap(try f.object(path))
            let space = try XCTUnwrap(try f.header(o).first(HDF5Message.dataspace))
            let dims = space.start + (b[space.start] == 1 ? 8 : 4)
            b.replaceSubrange(dims..<(dims + 8), with: le64(1 << 40))
            // Version 2 headers: the checksum catches the change first.
            assertRefused(b, name, b[o.address] == 1 ? ["declares shape [1099511627776", "more than this"] : ["object header: checksum mismatch"])
        }
    }

    func testNonKerasFileIsRefusedAsWeights() throws {
        XCTAssertThrowsError(try KerasWeightFiles.decodeH5(try bytes("hdf5_features.h5"), file: "f.h5")) { e in
            XCTAssertTrue("\(e)".contains("not a Keras weights file: expected a 'layers' group"), "\(e)")
        }
        XCTAssertThrowsError(try KerasWeightFiles.readKeras(path: "\(HDF5Tests.dir)/gc_dense_bn.io.npz")) { e in
            XCTAssertTrue("\(e)".contains("expected a member 'model.weights.h5'"), "\(e)")
        }
    }
}
