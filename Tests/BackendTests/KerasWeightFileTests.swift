// Keras weight files loaded by the runtime (issue 18): each model of Tests/Fixtures/keras_files
// (made by Keras 3 with make_keras_files.py there) mirrors a generated test model; its weights,
// saved by Keras as `.weights.h5`, `.keras` and legacy Keras 2 `.h5` (full model and weights
// only, and copies in the newer HDF5 layouts), load through `WeightsFile.load` and give Keras'
// own outputs (probabilities after a final softmax) on the saved inputs within 1e-5 (max abs difference over max(1, max|output|)).

import XCTest
import Foundation
import GeneratedTestModels
import ModelcCommands
import ModelcRuntime
import ModelcData

final class KerasWeightFileTests: XCTestCase {
    static let dir: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/keras_files").path
    }()

    static let files: [String: [String]] = [
        "gc_bn_pool": ["weights.h5", "keras", "h5"],
        "gc_separable": ["weights.h5", "keras", "h5"],
        "gc_dense_bn": ["weights.h5", "keras", "h5", "weights_only.h5", "v108.h5", "latest.weights.h5"],
        "gc_conv_wide": ["keras"],   // hard_silu, elu, gelu
    ]

    func testEveryFormatGivesKerasOutputs() throws {
        var checked = 0
        for (name, suffixes) in Self.files.sorted(by: { $0.key < $1.key }) {
            let t = try TestModels.type(name)
            for s in suffixes {
                try check(t, name: name, file: "\(Self.dir)/\(name).\(s)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, 13)
    }

    private func check<M: CompiledModel>(_ t: M.Type, name: String, file: String) throws {
        let io = try NPZ.read(path: "\(Self.dir)/\(name).io.npz")
        let x = try XCTUnwrap(io["input"]).floats(), ref = try XCTUnwrap(io["output"]).floats()
        let n = try XCTUnwrap(io["input"]?.shape.first)
        let m = M(maxBatch: n)
        (m as? CompiledModelBase)?.dropout = false
        try WeightsFile.load(file, into: m)
        var y = TestModels.forward(m, x, count: n, training: false)
        if M.endsWithSoftmax {   // forward gives the logits; Keras saved the probabilities
            let k = M.info.classCount
            let logits = y
            logits.withUnsafeBufferPointer { z in
                y.withUnsafeMutableBufferPointer { p in
                    for i in 0..<n { softmax(z.baseAddress! + i * k, into: p.baseAddress! + i * k, k) }
                }
            }
        }
        XCTAssertEqual(y.count, ref.count, file)
        let diff = zip(y, ref).map { abs($0 - $1) }.max() ?? .infinity
        let scale = max(1, ref.map(abs).max() ?? 0)
        XCTAssertLessThanOrEqual(diff / scale, 1e-5, "\(file): max abs difference \(diff) to Keras")
    }

    /// Keras 3 positions and Keras 2 names give the same parameters.
    func testKeras3PositionsMatchKeras2Names() throws {
        let t = try TestModels.type("gc_separable")
        func params<M: CompiledModel>(_ t: M.Type, _ file: String) throws -> [Float] {
            let m = M(maxBatch: 1)
            try WeightsFile.load("\(Self.dir)/\(file)", into: m)
            return TestModels.parameters(m)
        }
        let a = try params(t, "gc_separable.weights.h5"), b = try params(t, "gc_separable.h5")
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.contains { $0 != 0 })
    }

    /// A weights file of another model is refused, naming what does not fit.
    func testWrongModelIsRefused() throws {
        let t = try TestModels.type("gc_bn_pool")
        func load<M: CompiledModel>(_ t: M.Type) throws { try WeightsFile.load("\(Self.dir)/gc_separable.weights.h5", into: M(maxBatch: 1)) }
        XCTAssertThrowsError(try load(t)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("gc_separable.weights.h5") && text.contains("missing key 'batch_normalization_1/gamma'"), text)
        }
    }
}

/// The binary's command line takes every Keras format through `--weights` (the same loader
/// serves train, eval and predict).
final class KerasWeightFileCommandTests: XCTestCase {
    func run<M: CompiledModel>(_ t: M.Type, _ args: [String]) -> (code: Int32, out: String, err: String) {
        runCommandLine(t, args, program: "gc_bn_pool")
    }

    func testPredictWithEveryKerasFormat() throws {
        let t = try TestModels.type("gc_bn_pool")
        let image = NSTemporaryDirectory() + "modelc_keras_cli_\(getpid()).ppm"
        let pixels = (0..<75).map { UInt8(($0 * 37) % 256) }
        try Data(Array("P6\n5 5\n255\n".utf8) + pixels).write(to: URL(fileURLWithPath: image))
        defer { try? FileManager.default.removeItem(atPath: image) }
        var outputs: [String] = []
        for s in ["weights.h5", "keras", "h5"] {
            let r = run(t, ["predict", "--weights", "\(KerasWeightFileTests.dir)/gc_bn_pool.\(s)", image, "--json"])
            XCTAssertEqual(r.code, 0, "\(s): \(r.err)")
            outputs.append(r.out)
        }
        XCTAssertEqual(Set(outputs).count, 1, "the three formats predict differently: \(outputs)")
        let bad = run(t, ["predict", "--weights", "\(KerasWeightFileTests.dir)/hdf5_features.h5", image])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.err.contains("hdf5_features.h5: not a Keras weights file"), bad.err)
        let usage = run(t, [])
        XCTAssertTrue(usage.err.contains("--weights W reads .npz, .onnx, .weights.h5, .h5, .hdf5, .keras, .pt, .pth, .safetensors"), usage.err)
    }
}
