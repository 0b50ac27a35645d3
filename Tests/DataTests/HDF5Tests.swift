// modelc's own HDF5 reader (issue 18) on files written by h5py and Keras
// (Tests/Fixtures/keras_files, made by make_keras_files.py there): dataset values of every
// layout, datatype and byte order, attributes (fixed and variable-length strings, dense
// storage), groups old-style and new-style (dense links), and hostile files, each refused with
// a DataError naming the file, the offset and what was expected.
import Foundation
import XCTest
@testable import ModelcData

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
