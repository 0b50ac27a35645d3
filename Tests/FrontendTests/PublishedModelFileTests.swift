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
            ("ccoltong_lenet_regulized.onnx", "layer 'unsqueeze' (Unsqueeze) is not supported"),
            ("onnx_light_zfnet512.onnx", "(ConstantOfShape): expected a shape of at most 16777216 elements, found [4096, 18432]"),
            ("onnxruntime_logreg_iris.onnx", "expected one graph output, found 2"),
        ]
        for (f, message) in refused {
            XCTAssertThrowsError(try Frontend.check(path: path(f)), f) { e in
                XCTAssertTrue("\(e)".contains(message), "\(f): \(e)")
            }
        }
    }
}
