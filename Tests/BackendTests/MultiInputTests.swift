// Several inputs (issue 17) against Keras 3 (Tests/Fixtures/numerics/graph_inputs, made by
// make_input_fixtures.py): the compiled model names its inputs, data.npz (x_tokens as int64
// token ids, x_features as floats, y) is read as the flat input io.npz holds, the outputs on
// it match Keras's, bad data files get errors naming the array, training lowers the loss, and
// the binary trains, evaluates and predicts on the .npz and refuses images. (KerasFixtureTests
// checks outputs and gradients at 1e-4 like every fixture's; GradientCheckTests the gradients
// by finite differences.)

import XCTest
import Foundation
import GeneratedTestModels
import ModelcCommands
import ModelcRuntime
import ModelcData

final class MultiInputTests: XCTestCase {
    static let dir = KerasFixtureTests.root + "/graph_inputs"
    typealias M = FxGraphInputs

    func read(_ path: String = dir + "/data.npz") throws -> ArrayData.Raw {
        try ArrayData.read(path, split: .train, info: M.info, targetColumns: 1)
    }

    func testInfoNamesTheInputs() {
        let ins = M.info.inputs
        XCTAssertEqual(Set(ins.map(\.name)), ["tokens", "features"])
        XCTAssertEqual(ins.map(\.offset), [0, ins[0].size])
        XCTAssertEqual(ins.first { $0.name == "tokens" }?.shape, [5])
        XCTAssertEqual(ins.first { $0.name == "features" }?.shape, [4])
        XCTAssertEqual(M.info.inputSize, 9)
        XCTAssertEqual([M.info.inputHeight, M.info.inputWidth, M.info.inputChannels], [1, 9, 1])
        XCTAssertNil(M.info.dataset)
    }

    /// The arrays, one per input (int64 ids enter as they are), side by side as io.npz's input;
    /// the model's outputs on them are Keras's.
    func testDataFileIsTheFlatInput() throws {
        let raw = try read()
        let io = try NPZ.read(path: "\(Self.dir)/io.npz")
        XCTAssertEqual(raw.count, 6)
        XCTAssertEqual(raw.x, try XCTUnwrap(io["input"]).floats())
        XCTAssertEqual(raw.source, "\(Self.dir)/data.npz (\(M.info.inputs.map { "x_" + $0.name }.joined(separator: ", ")))")
        let m = M(maxBatch: raw.count)
        try WeightsFile.load("\(Self.dir)/weights.npz", into: m)
        let out = TestModels.forward(m, raw.x, count: raw.count, training: false)
        XCTAssertLessThan(relativeError(out, try XCTUnwrap(io["output_inference"]).floats()), 1e-4)
    }

    /// Missing arrays, wrong shapes, different counts, a lone `x` and a CSV name the file and array.
    func testBadDataFilesAreClearErrors() throws {
        let arrays = try NPZ.read(path: "\(Self.dir)/data.npz")
        let path = "\(Self.dir)/data.npz"
        func error(_ change: ([String: NDArray]) -> [String: NDArray]) -> String {
            let p = NSTemporaryDirectory() + "modelc_inputs_\(UUID().uuidString).npz"
            defer { try? FileManager.default.removeItem(atPath: p) }
            do {
                try NPZ.write(change(arrays).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: p)
                _ = try read(p)
                return "no error"
            } catch { return "\(error)".replacingOccurrences(of: p, with: "F") }
        }
        let expected = M.info.inputs.map { "x_\($0.name) [N, \($0.shape.map(String.init).joined(separator: ", "))]" }.joined(separator: ", ")
        let missing = error { var a = $0; a["x_features"] = nil; return a }
        XCTAssertTrue(missing.contains("F: no array 'x_features' for input features (found x_tokens, y); model fx_graph_inputs reads one array per input: \(expected)"), missing)
        let alone = error { ["x": NDArray(float32: [Float](repeating: 0, count: 54), shape: [6, 9]), "y": $0["y"]!] }
        XCTAssertTrue(alone.contains("no array 'x_"), alone)
        let shape = error { var a = $0; a["x_tokens"] = NDArray(float32: [Float](repeating: 1, count: 24), shape: [6, 4]); return a }
        XCTAssertTrue(shape.hasSuffix("array x_tokens has shape [6, 4]; input tokens expects [N, 5]"), shape)
        let count = error { var a = $0; a["x_features"] = NDArray(float32: [Float](repeating: 0, count: 20), shape: [5, 4]); return a }
        XCTAssertTrue(count.contains("holds 5 examples but") && count.contains("holds 6; every input's array holds the same examples"), count)
        let y = error { var a = $0; a["y"] = NDArray(int64: [0, 1, 2], shape: [3]); return a }
        XCTAssertTrue(y.contains("array y has shape [3] but \(M.info.inputs.map { "x_" + $0.name }.joined(separator: ", ")) has 6 examples"), y)
        XCTAssertThrowsError(try ArrayData.read(NSTemporaryDirectory() + "modelc_inputs.csv", split: .train, info: M.info, targetColumns: 1)) {
            XCTAssertTrue("\($0)".contains("model fx_graph_inputs has 2 inputs"), "\($0)")
            XCTAssertTrue("\($0)".contains("its data is an .npz with one array per input, \(expected), and y"), "\($0)")
        }
        XCTAssertFalse(ArrayData.hasTestSplit(path, info: M.info))
    }

    /// The test split: x_<input>_test and y_test, when the file has them.
    func testTestSplitArrays() throws {
        var arrays = try NPZ.read(path: "\(Self.dir)/data.npz")
        for i in M.info.inputs { arrays["x_\(i.name)_test"] = arrays["x_\(i.name)"] }
        arrays["y_test"] = NDArray(int64: [2, 2, 2, 2, 2, 2], shape: [6])
        let p = NSTemporaryDirectory() + "modelc_inputs_test_\(UUID().uuidString).npz"
        defer { try? FileManager.default.removeItem(atPath: p) }
        try NPZ.write(arrays.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: p)
        XCTAssertTrue(ArrayData.hasTestSplit(p, info: M.info))
        let test = try ArrayData.read(p, split: .test, info: M.info, targetColumns: 1)
        XCTAssertEqual(test.y, [2, 2, 2, 2, 2, 2])
        XCTAssertEqual(test.x, try read().x)
    }

    /// Adam on the six examples lowers the loss (the training loop needs no change).
    func testTrainingLowersTheLoss() throws {
        let m = M(maxBatch: 6)
        try WeightsFile.load("\(Self.dir)/weights.npz", into: m)
        var config = try TrainingConfig(defaults: TrainingDefaults(), dataset: ArrayData.datasetName)
        config.epochs = 40; config.batchSize = 6; config.learningRate = 0.02
        let raw = try read()
        let loss = try ArrayData.loss(config, info: M.info, raw: raw)
        let data = try ArrayData.examples(raw, loss: loss, info: M.info)
        let before = Evaluator.evaluateTask(m, images: data, loss: loss, batch: 6).loss
        let trainer = try Trainer(model: m, config: config, train: data, validation: nil)
        try trainer.run()
        let after = Evaluator.evaluateTask(m, images: data, loss: loss, batch: 6).loss
        XCTAssertLessThan(after, 0.5 * before, "before \(before), after \(after)")
    }

    func run(_ args: [String]) -> (code: Int32, out: String, err: String) {
        runCommandLine(M.self, args, program: "fx_graph_inputs")
    }

    /// The binary's commands: train and eval on the .npz, predict on one example; images and a
    /// named dataset are refused with the arrays the model needs.
    func testCommands() throws {
        let tmp = NSTemporaryDirectory() + "modelc_inputs_cli_\(getpid())"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let data = "\(Self.dir)/data.npz", ckpt = tmp + "/m.ckpt"
        let train = run(["train", "--data", data, "--epochs", "3", "--batch", "3", "--val-split", "0", "--checkpoint", ckpt,
                         "--weights", "\(Self.dir)/weights.npz"])
        XCTAssertEqual(train.code, 0, train.err)
        XCTAssertTrue(train.out.contains("training fx_graph_inputs on arrays: 6 examples"), train.out)
        let eval = run(["eval", "--data", data, "--checkpoint", ckpt])
        XCTAssertEqual(eval.code, 0, eval.err)
        XCTAssertTrue(eval.out.contains("6 examples"), eval.out)
        let predict = run(["predict", "--data", data, "--index", "2", "--checkpoint", ckpt])
        XCTAssertEqual(predict.code, 0, predict.err)
        XCTAssertTrue(predict.out.contains("data.npz[2]"), predict.out)
        let image = run(["predict", "--checkpoint", ckpt, tmp + "/x.png"])
        XCTAssertEqual(image.code, 2)
        XCTAssertTrue(image.err.contains("predict: model fx_graph_inputs has 2 inputs"), image.err)
        XCTAssertTrue(image.err.contains("give --data FILE.npz"), image.err)
        let named = run(["train", "--dataset", "mnist", "--checkpoint", ckpt])
        XCTAssertEqual(named.code, 2)
        XCTAssertTrue(named.err.contains("train: model fx_graph_inputs has 2 inputs"), named.err)
        let summary = run(["summary"])
        XCTAssertTrue(summary.out.contains("inputs (one .npz array each): "), summary.out)
    }
}
