import XCTest
import GeneratedTestModels
import ModelcRuntime
import Foundation

/// The library API on a sigmoid head (FxActSigmoid: 60 independent sigmoid outputs): `predict`
/// reports each output's own probability (no softmax over them), and `evaluate(on:)`, which
/// measures softmax classifiers, refuses with a message instead of a meaningless accuracy.
final class SigmoidHeadAPITests: XCTestCase {
    func testPredictKeepsSigmoidProbabilities() throws {
        let m = FxActSigmoid(seed: 3)
        let n = FxActSigmoid.info.inputSize
        let pixels = (0..<n).map { UInt8(($0 * 37) % 256) }
        let p = try m.predict(pixels: pixels, top: 3)
        var input = pixels.map { Float($0) * FxActSigmoid.info.inputScale + FxActSigmoid.info.inputOffset }
        let raw = input.withUnsafeMutableBufferPointer { b in
            Array(UnsafeBufferPointer(start: m.forward(b.baseAddress!, count: 1, training: false, seed: 0), count: FxActSigmoid.info.classCount))
        }
        XCTAssertEqual(p.probabilities, raw, "a sigmoid head's outputs are its probabilities")
        XCTAssertGreaterThan(p.probabilities.reduce(0, +), 2, "60 independent sigmoids do not sum to 1")
    }

    func testEvaluateRefusesASigmoidHead() throws {
        let m = FxActSigmoid(seed: 3)
        let i = FxActSigmoid.info
        let images = LabeledImages(height: i.inputHeight, width: i.inputWidth, channels: i.inputChannels,
                                   pixels: [UInt8](repeating: 7, count: 2 * i.inputSize), labels: [0, 1])
        XCTAssertThrowsError(try m.evaluate(on: images)) { e in
            XCTAssertTrue("\(e)".contains("has a sigmoid head"), "\(e)")
        }
    }

    /// `predict --top K` ranks a softmax's classes: on a sigmoid head, whose every output is
    /// printed, the flag is refused rather than ignored.
    func testPredictRefusesTopOnASigmoidHead() throws {
        let m = FxActSigmoid(seed: 3), i = FxActSigmoid.info
        let dir = NSTemporaryDirectory() + "modelc-sigmoid-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try m.export(weights: URL(fileURLWithPath: dir + "/w.npz"))
        let header = "\(i.inputChannels == 1 ? "P5" : "P6")\n\(i.inputWidth) \(i.inputHeight)\n255\n"
        let image = dir + (i.inputChannels == 1 ? "/x.pgm" : "/x.ppm")
        try Data(Array(header.utf8) + [UInt8](repeating: 9, count: i.inputSize)).write(to: URL(fileURLWithPath: image))
        func predict(_ extra: [String]) -> (code: Int32, out: String, err: String) {
            runCommandLine(FxActSigmoid.self, ["predict", "--weights", dir + "/w.npz", image] + extra)
        }
        XCTAssertEqual(predict([]).code, 0, predict([]).err)
        let top = predict(["--top", "3"])
        XCTAssertEqual(top.code, 2)
        XCTAssertTrue(top.err.contains("--top K ranks the classes of a softmax output"), top.err)
    }
}
