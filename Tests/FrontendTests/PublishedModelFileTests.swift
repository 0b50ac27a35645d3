// Issue 18: real model files other people published (Tests/Fixtures/published_models, sources
// and checksums in its README). Each committed file checks with the parameter count its stored
// weights have, or is refused with the error that names what modelc does not read yet.

import XCTest
import ModelcCore

final class PublishedModelFileTests: XCTestCase {
    func path(_ f: String) -> String { Fixtures.path("published_models/" + f) }

    func testPublishedFilesVerify() throws {
        // file -> total parameters (the weights the file stores, counted with h5py / onnx)
        let ok: [(String, Int)] = [("kiljaeden_mnist.h5", 34_826), ("moonflower_mnist_model.h5", 34_826),
                                   ("moonflower_mnist_model.keras", 34_826), ("shubhu111_sentiment_gru.h5", 85_643),
                                   ("ccoltong_lenet.onnx", 61_706), ("ccoltong_custom.onnx", 61_782),
                                   // BatchNorm1d between Unsqueeze and Squeeze (torch 1.3); onnx counts one more: num_batches_tracked
                                   ("ccoltong_lenet_regulized.onnx", 62_186),
                                   ("fer_emotion_model.h5", 58_423),   // mini-Xception: residual Adds
                                   // SqueezeNet 1.1: eight Concat fire modules, weights made by ConstantOfShape
                                   // (onnx counts 1,234,856 filled + 640 initializer values)
                                   ("onnx_light_squeezenet.onnx", 1_235_496)]
        for (f, total) in ok {
            let r = try Frontend.check(path: path(f))
            XCTAssertTrue(r.ok, "\(f): \(r.problems)")
            XCTAssertEqual(r.ir.totalParams, total, f)
        }
    }

    func testPublishedFilesOutOfScopeAreRefusedClearly() {
        let refused: [(String, String)] = [
            ("onnx_light_zfnet512.onnx", "(ConstantOfShape): expected a shape of at most 16777216 elements, found [4096, 18432]"),
            ("onnxruntime_logreg_iris.onnx", "expected one graph output, found 2"),
        ]
        for (f, message) in refused {
            XCTAssertThrowsError(try Frontend.check(path: path(f)), f) { e in
                XCTAssertTrue("\(e)".contains(message), "\(f): \(e)")
            }
        }
    }

    /// Squeeze(BatchNormalization(Unsqueeze(x))) on features is one BatchNorm of x
    /// (ONNXSqueezedBatchNorm): axes as an attribute (opset 11) or a constant input (opset 13),
    /// 2 or -1; an axis before 2, or a Squeeze of other axes, stays refused.
    func testBatchNorm1dBetweenUnsqueezeAndSqueeze() throws {
        let stats = ["s", "b", "m", "v"].map { PB.tensor($0, [4], [1, 2, 3, 4]) }
        func graph(_ unsqueeze: [Int], _ squeeze: [Int], opset: Int) -> [UInt8] {
            let attrs = opset < 13
            func axes(_ op: String, _ a: [Int], _ i: String, _ o: String) -> [UInt8] {
                attrs ? PB.node(op, [i], [o], attrs: [PB.attr("axes", ints: a)]) : PB.node(op, [i, op + "_axes"], [o])
            }
            let consts = attrs ? [] : [PB.intTensor("Unsqueeze_axes", unsqueeze), PB.intTensor("Squeeze_axes", squeeze)]
            let nodes = [axes("Unsqueeze", unsqueeze, "x", "u"), PB.node("BatchNormalization", ["u", "s", "b", "m", "v"], ["n"], name: "/bn/BatchNormalization"),
                         axes("Squeeze", squeeze, "n", "q"), PB.node("Relu", ["q"], ["y"])]
            return PB.model(nodes: nodes, initializers: stats + consts, input: [1, 4], opset: opset)
        }
        for (u, q, opset) in [([2], [2], 13), ([-1], [-1], 11), ([2], [2], 9)] {
            let r = try Frontend.checkONNX(bytes: graph(u, q, opset: opset), path: "t.onnx")
            XCTAssertTrue(r.ok, "\(u) opset \(opset): \(r.problems)")
            let ops = r.ir.layers.dropFirst().map(\.op)
            XCTAssertEqual(ops.count, 2, "\(ops)")
            guard case .batchNorm = ops.first, ops.last == .activation(.relu) else { return XCTFail("\(ops)") }
            XCTAssertEqual(r.ir.totalParams, 16)   // scale, bias and the running statistics of 4 features
        }
        for (u, q) in [([1], [1]), ([2], [3]), ([0], [0])] {
            XCTAssertThrowsError(try Frontend.checkONNX(bytes: graph(u, q, opset: 13), path: "t.onnx"), "\(u) \(q)") {
                XCTAssertTrue("\($0)".contains("(Unsqueeze) is not supported"), "\($0)")
            }
        }
    }
}
