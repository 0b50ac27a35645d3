// ONNX model files end to end with the built modelc binary: `modelc check model.onnx`, then
// `modelc compile model.onnx` for every fixture of Tests/Fixtures/onnx (made by torch.onnx.export,
// see make_onnx.py, by make_onnx_graphs.py: branching graphs, tf2onnx, external data, and by
// make_onnx_layernorm_patterns.py: decomposed LayerNorms), whose binary, started from the
// initializers `compile` stored beside it (BIN-weights.npz), must give onnxruntime's class
// probabilities (expected.json) within 1e-5 on the KMNIST fixture images, and train one step
// from the file's initializers read with `--weights model.onnx`. Slow: one generated binary
// per fixture (plus the runtime once per runtime-source change).

import XCTest
import Foundation

final class ONNXCompileTests: XCTestCase, BuiltModelcTests {
    var fixtures: String { repo.appendingPathComponent("Tests/Fixtures/onnx").path }

    func testCheckPrintsTheTableAndRefusesATruncatedFile() throws {
        let tmp = temp()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let r = try run(try modelc(), ["check", "\(fixtures)/cnn_bn.onnx"], cwd: tmp)
        XCTAssertEqual(r.status, 0, r.err)
        for line in ["4 (Conv)                      [-1, 8, 6, 6]           296         3x3 s2 pad 0, bias",
                     "6 (BatchNormalization)        [-1, 8, 6, 6]           16          affine, eps 1e-05, momentum 0.1",
                     "Total params:         1,082", "OK: every shape and parameter count matches"] {
            XCTAssertTrue(r.out.contains(line), "missing '\(line)' in\n\(r.out)")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/cnn_bn.onnx"))
        try bytes.prefix(2000).write(to: URL(fileURLWithPath: tmp + "/cut.onnx"))
        let cut = try run(try modelc(), ["check", "cut.onnx"], cwd: tmp)
        XCTAssertEqual(cut.status, 1)
        XCTAssertTrue(cut.err.hasPrefix("cut.onnx: error: offset "), cut.err)
    }

    func testCompiledFixturesMatchOnnxruntimeAndTrain() throws {
        try compileAndCompare("expected.json")
    }

    /// Branching graphs (merge layers), a tf2onnx Keras graph (NHWC), external data, derived weights.
    func testCompiledGraphFixturesMatchOnnxruntimeAndTrain() throws {
        try compileAndCompare("expected_graphs.json")
    }

    /// LayerNorms written as primitive operators (torch.onnx.export at opsets 13 and 14, a
    /// tf2onnx-style Reciprocal form): make_onnx_layernorm_patterns.py.
    func testCompiledDecomposedLayerNormsMatchOnnxruntimeAndTrain() throws {
        try compileAndCompare("expected_layernorm_patterns.json")
    }

    /// LSTM, GRU and RNN nodes (both torch.onnx exporters, tf2onnx) over image rows, and after an
    /// Embedding over the token ids of recurrent_ids.npz: make_onnx_recurrent.py.
    func testCompiledRecurrentFixturesMatchOnnxruntimeAndTrain() throws {
        try compileAndCompare("expected_recurrent.json")
    }

    /// Sub, Div, Mul and Add by one-value constants (a forward's own input normalization and
    /// rescaling): make_onnx_scalar_maps.py.
    func testCompiledScalarMapsMatchOnnxruntimeAndTrain() throws {
        try compileAndCompare("expected_scalar_maps.json")
    }

    /// Compiles every model of a fixture list (make_onnx.py's or make_onnx_graphs.py's).
    func compileAndCompare(_ list: String) throws {
        let modelc = try modelc()
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/\(list)"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let models = try XCTUnwrap(root["models"] as? [String: [String: Any]])
        let indices = try XCTUnwrap(root["indices"] as? [Int])
        let idx = repo.appendingPathComponent(try XCTUnwrap(root["idx"] as? String)).path
        let tmp = temp()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let names = models.keys.sorted()
        let compiles = compileAll(names, modelc: modelc, in: tmp)
        for (name, compiled) in zip(names, compiles) {
            let onnx = "\(fixtures)/\(name).onnx", bin = "\(tmp)/\(name)"
            let c = try compiled.get()
            XCTAssertEqual(c.status, 0, "\(name): \(c.err)")
            guard c.status == 0 else { continue }
            XCTAssertTrue(c.out.contains("stored as \(bin)-weights.npz"), "\(name): \(c.out)")
            let expected = try XCTUnwrap(models[name]?["probabilities"] as? [[Double]])
            // Token ids come from the list's .npz (its x, then y for training); images from the IDX file.
            let npz = models[name]?["input"] as? String == "npz" ? try XCTUnwrap(root["npz"] as? String) : nil
            let data = npz.map { repo.appendingPathComponent($0).path }
            let examples = data.map { d in indices.indices.map { ["--data", d, "--index", "\($0)"] } } ?? indices.map { ["--idx", idx, "--index", "\($0)"] }
            for (k, example) in examples.enumerated() {
                let probs = try probabilities(bin, example, cwd: tmp)   // the stored weights
                XCTAssertEqual(probs.count, 10)
                let diff = zip(probs, expected[k]).map { abs($0 - $1) }.max() ?? 1
                XCTAssertLessThanOrEqual(diff, 1e-5, "\(name) example \(example): \(probs) vs onnxruntime \(expected[k])")
            }
            // One training step (16 images, batch 16) from the file's initializers.
            let t = try run(bin, ["train", "--data", data ?? repo.appendingPathComponent("Tests/Fixtures/data/kmnist").path, "--weights", onnx,
                                  "--epochs", "1", "--batch", "16", "--limit", "16", "--val-split", "0", "--checkpoint", "\(tmp)/\(name).ckpt", "--json"],
                          cwd: tmp)
            XCTAssertEqual(t.status, 0, "\(name): \(t.err)")
            let epoch = try XCTUnwrap(t.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .first { $0["epoch"] as? Int == 1 }, "\(name): \(t.out)")
            XCTAssertTrue((epoch["loss"] as? Double)?.isFinite ?? false, "\(name): \(epoch)")
            let after = try probabilities(bin, ["--checkpoint", "\(tmp)/\(name).ckpt"] + examples[0], cwd: tmp)
            XCTAssertEqual(after.reduce(0, +), 1, accuracy: 1e-4, name)
            XCTAssertGreaterThan(zip(after, expected[0]).map { abs($0 - $1) }.max() ?? 0, 1e-6, "\(name): the step changed nothing")
        }
    }

    /// `modelc compile` of every fixture, as many at a time as there are cores (a small model's
    /// compile uses one), each with its own generated folder.
    func compileAll(_ names: [String], modelc: String, in tmp: String) -> [Result<(status: Int32, out: String, err: String), Error>] {
        let results = CompileResults(names.count)
        let fixtures = self.fixtures
        DispatchQueue.concurrentPerform(iterations: names.count) { k in
            let r = Result { try runProcess(modelc, ["compile", "\(fixtures)/\(names[k]).onnx", "-o", "\(tmp)/\(names[k])",
                                              "--generated", "\(tmp)/generated-\(names[k])"], cwd: tmp) }
            results.lock.withLock { results.list[k] = r }
        }
        return results.list.map { $0! }
    }

    func probabilities(_ bin: String, _ args: [String], cwd: String) throws -> [Double] {
        let r = try run(bin, ["predict"] + args + ["--json"], cwd: cwd)
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        return try XCTUnwrap(obj?["probabilities"] as? [Double], r.out)
    }
}

/// The compiles' results, filled in from several threads.
private final class CompileResults: @unchecked Sendable {
    let lock = NSLock()
    var list: [Result<(status: Int32, out: String, err: String), Error>?]
    init(_ n: Int) { list = Array(repeating: nil, count: n) }
}
