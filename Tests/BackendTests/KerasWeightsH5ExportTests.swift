// `export --weights OUT.weights.h5` (issue 18): the Keras 3 weights file modelc writes.
// - Through the binary's command line: a checkpoint exported to .weights.h5 and read back with
//   `--weights` predicts exactly as the checkpoint does, and holds its parameters bit for bit.
// - Its layout is Keras 3's: the same datasets, paths and shapes as the file Keras itself saved
//   for the same network (Tests/Fixtures/keras_files/<case>.weights.h5).
// - The committed exports `<case>.modelc.weights.h5` (which check_weights_h5_export.py loaded
//   into Keras, see the README there) are what the writer writes today, byte for byte, and give
//   the outputs recorded with them in `<case>.modelc.io.npz`.
// Set MODELC_MAKE_EXPORT_FIXTURE=1 to rewrite those fixtures (then run the Python check once).

import Foundation
import XCTest
import GeneratedTestModels
import ModelcCommands
import ModelcRuntime
import ModelcData
import ModelcModelFiles

final class KerasWeightsH5ExportTests: XCTestCase {
    static let cases = ["gc_bn_pool", "gc_separable", "gc_dense_bn"]
    static var dir: String { KerasWeightFileTests.dir }

    func run<M: CompiledModel>(_ t: M.Type, _ args: [String]) -> (code: Int32, out: String, err: String) {
        runCommandLine(t, args)
    }

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "modelc_h5export_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testExportThenPredictThroughWeights() throws {
        let t = try TestModels.type("gc_bn_pool")
        try exportThenPredict(t)
    }

    private func exportThenPredict<M: CompiledModel>(_ t: M.Type) throws {
        let dir = try temporaryDirectory()
        let m = M(maxBatch: 1)
        var rng = TestRNG(18)
        TestModels.randomize(m, &rng)
        let ckpt = dir + "/model.ckpt", out = dir + "/model.weights.h5", image = dir + "/x.ppm"
        try Checkpoint(model: m, training: nil).write(to: ckpt)
        try Data(Array("P6\n5 5\n255\n".utf8) + (0..<75).map { UInt8(($0 * 53) % 256) }).write(to: URL(fileURLWithPath: image))
        let e = run(t, ["export", "--weights", out, "--checkpoint", ckpt])
        XCTAssertEqual(e.code, 0, e.err)
        XCTAssertTrue(e.err.contains("wrote 12 tensors (485 floats) from \(ckpt) to \(out)"), e.err)
        let viaWeights = run(t, ["predict", "--weights", out, image, "--json"])
        let viaCheckpoint = run(t, ["predict", "--checkpoint", ckpt, image, "--json"])
        XCTAssertEqual(viaWeights.code, 0, viaWeights.err)
        XCTAssertFalse(viaWeights.out.isEmpty)
        XCTAssertEqual(viaWeights.out, viaCheckpoint.out)
        let back = M(maxBatch: 1)
        try WeightsFile.load(out, into: back)
        XCTAssertEqual(TestModels.parameters(back).map(\.bitPattern), TestModels.parameters(m).map(\.bitPattern))
        let bad = run(t, ["export", "--weights", dir + "/missing/model.weights.h5", "--checkpoint", ckpt])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.err.contains("\(dir)/missing/model.weights.h5: directory \(dir)/missing does not exist"), bad.err)
    }

    /// Every dataset Keras wrote for the network is in modelc's file under the same path with
    /// the same shape, and nothing else is.
    func testLayoutMatchesKerasOwnFile() throws {
        for name in Self.cases {
            let t = try TestModels.type(name)
            let dir = try temporaryDirectory()
            let mine = try datasets(exporting(t, to: dir + "/\(name).weights.h5"))
            let keras = try datasets("\(Self.dir)/\(name).weights.h5")
            XCTAssertEqual(mine.map(\.0), keras.map(\.0), name)
            XCTAssertEqual(mine.map(\.1), keras.map(\.1), name)
            XCTAssertGreaterThan(mine.count, 5, name)
        }
    }

    private func exporting<M: CompiledModel>(_ t: M.Type, to path: String) throws -> String {
        try WeightsFile.export(M(maxBatch: 1), to: path)
        return path
    }

    /// (path, shape) of every dataset under /layers, sorted by path.
    private func datasets(_ path: String) throws -> [(String, [Int])] {
        let f = try HDF5File(path: path)
        var out: [(String, [Int])] = []
        try f.walk(from: try XCTUnwrap(try f.object("layers"))) { o in
            if try f.isDataset(o) { out.append((o.path, try f.read(o).shape)) }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    func testCommittedExportFixtures() throws {
        for name in Self.cases {
            let t = try TestModels.type(name)
            try checkFixture(t, name: name)
        }
    }

    private func checkFixture<M: CompiledModel>(_ t: M.Type, name: String) throws {
        let file = "\(Self.dir)/\(name).modelc.weights.h5", io = "\(Self.dir)/\(name).modelc.io.npz"
        let x = try XCTUnwrap(try NPZ.read(path: "\(Self.dir)/\(name).io.npz")["input"])
        let n = x.shape[0]
        if ProcessInfo.processInfo.environment["MODELC_MAKE_EXPORT_FIXTURE"] != nil {
            let m = M(maxBatch: n)
            var rng = TestRNG(2026)
            TestModels.randomize(m, &rng)
            try WeightsFile.export(m, to: file)
            try NPZ.write([("input", x), ("output", NDArray(float32: try outputs(m, x.floats(), n), shape: [n, M.info.classCount]))], to: io)
        }
        let m = M(maxBatch: n)
        try WeightsFile.load(file, into: m)
        let recorded = try XCTUnwrap(try NPZ.read(path: io)["output"]).floats()
        XCTAssertEqual(try outputs(m, x.floats(), n), recorded, name)
        let dir = try temporaryDirectory()
        try WeightsFile.export(m, to: dir + "/again.weights.h5")
        XCTAssertEqual(try FileIO.read(path: dir + "/again.weights.h5"), try FileIO.read(path: file), "\(name): the writer no longer writes the committed export")
    }

    /// Inference outputs, probabilities when the model ends in softmax (as Keras' predict gives).
    private func outputs<M: CompiledModel>(_ m: M, _ x: [Float], _ n: Int) throws -> [Float] {
        (m as? CompiledModelBase)?.dropout = false
        var y = TestModels.forward(m, x, count: n, training: false)
        if M.endsWithSoftmax {
            let k = M.info.classCount, logits = y
            logits.withUnsafeBufferPointer { z in
                y.withUnsafeMutableBufferPointer { p in
                    for i in 0..<n { softmax(z.baseAddress! + i * k, into: p.baseAddress! + i * k, k) }
                }
            }
        }
        return y
    }

    /// Models whose weights Keras 3 keeps elsewhere (recurrent cells) or that are not Keras
    /// models are refused, naming the file and the reason.
    func testUnsupportedModelsAreRefused() throws {
        let dir = try temporaryDirectory()
        for (name, expected) in [("fx_sequence_stack", "layer lstm (LSTM): a Keras .weights.h5 export writes layers of kinds"),
                                 ("gc_pytorch_fused", "has pytorch semantics (export .npz or .safetensors)")] {
            let t = try TestModels.type(name)
            let path = dir + "/\(name).weights.h5"
            XCTAssertThrowsError(try exporting(t, to: path)) { e in
                XCTAssertTrue("\(e)".hasPrefix("\(path): ") && "\(e)".contains(expected), "\(e)")
            }
            XCTAssertFalse(FileIO.exists(path))
        }
    }
}
