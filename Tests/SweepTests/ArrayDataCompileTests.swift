// A binary classifier (Dense 8 relu, Dense 1 sigmoid on 4 features, loss binary_crossentropy)
// compiled with the built modelc binary and run on the array fixtures of
// Tests/Fixtures/data/arrays: train on the .npz (the loss goes down), eval on its x_test/y_test
// (task binary, accuracy, the two classes' metrics), eval as regression (--loss mse: mse and
// mae), predict one example (P(class 1) and the label), train on the .csv, and an .npz whose x
// does not fit the model (the error names the file, the array, what was expected and found).
// Slow: one generated binary.

import XCTest
import Foundation

final class ArrayDataCompileTests: XCTestCase, BuiltModelcTests {
    static let model = """
    # A binary classifier on 4 features

    ```
    Model: "sequential"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     dense (Dense)               (None, 8)                 40

     dense_1 (Dense)             (None, 1)                 9

    =================================================================
    Total params: 49
    Trainable params: 49
    Non-trainable params: 0
    _________________________________________________________________
    ```

    ```modelc
    model: name=tiny_binary
    input: shape=4 scale=1 offset=0
    layer dense: activation=relu
    layer dense_1: activation=sigmoid
    train: loss=binary_crossentropy optimizer=adam lr=0.05 batch=16 epochs=8 val_split=0 seed=3
    ```
    """

    func json(_ line: Substring) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
    }

    func testBinaryClassifierOnArrays() throws {
        let modelc = try modelc()
        let tmp = temp()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let arrays = repo.appendingPathComponent("Tests/Fixtures/data/arrays").path
        try Self.model.write(toFile: tmp + "/tiny_binary.md", atomically: true, encoding: .utf8)
        let c = try run(modelc, ["compile", tmp + "/tiny_binary.md", "-o", tmp + "/m", "--generated", tmp + "/gen"], cwd: tmp)
        XCTAssertEqual(c.status, 0, c.err)
        let bin = tmp + "/m"

        let summary = try run(bin, ["summary"], cwd: tmp)
        XCTAssertTrue(summary.out.contains("classes: binary (0, 1; the one sigmoid output is P(class 1))"), summary.out)

        let train = try run(bin, ["train", "--data", arrays + "/binary.npz", "--checkpoint", "c.ckpt", "--json"], cwd: tmp)
        XCTAssertEqual(train.status, 0, train.err)
        let epochs = try train.out.split(separator: "\n").map(json)
        XCTAssertEqual(epochs.count, 8)
        let first = try XCTUnwrap(epochs.first?["loss"] as? Double), last = try XCTUnwrap(epochs.last?["loss"] as? Double)
        XCTAssertLessThan(last, 0.6 * first, "the loss goes down: \(train.out)")
        XCTAssertGreaterThan(try XCTUnwrap(epochs.last?["accuracy"] as? Double), 0.85)

        let eval = try run(bin, ["eval", "--data", arrays + "/binary.npz", "--checkpoint", "c.ckpt", "--json"], cwd: tmp)
        XCTAssertEqual(eval.status, 0, eval.err)
        let e = try json(Substring(eval.out.trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(e["task"] as? String, "binary")
        XCTAssertEqual(e["count"] as? Int, 16)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(e["accuracy"] as? Double), 0.75)
        XCTAssertEqual((e["confusion"] as? [[Int]])?.count, 2)
        let text = try run(bin, ["eval", "--data", arrays + "/binary.npz", "--checkpoint", "c.ckpt"], cwd: tmp)
        XCTAssertTrue(text.out.contains("binary classifier: class 1 when p > 0.5"), text.out)

        let regression = try run(bin, ["eval", "--data", arrays + "/binary.npz", "--checkpoint", "c.ckpt", "--loss", "mse", "--json"], cwd: tmp)
        XCTAssertEqual(regression.status, 0, regression.err)
        let r = try json(Substring(regression.out.trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(r["task"] as? String, "regression")
        XCTAssertEqual(try XCTUnwrap(r["mse"] as? Double), try XCTUnwrap(r["loss"] as? Double), accuracy: 1e-6)
        XCTAssertNotNil(r["mae"] as? Double)

        let predict = try run(bin, ["predict", "--data", arrays + "/binary.npz", "--index", "2", "--checkpoint", "c.ckpt", "--json"], cwd: tmp)
        XCTAssertEqual(predict.status, 0, predict.err)
        let p = try json(Substring(predict.out.trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(p["input"] as? String, arrays + "/binary.npz[2]")
        let probability = try XCTUnwrap(p["probability"] as? Double)
        XCTAssertEqual(p["label"] as? Int, probability > 0.5 ? 1 : 0)
        let predictCSV = try run(bin, ["predict", "--data", arrays + "/binary.csv", "--index", "0", "--checkpoint", "c.ckpt"], cwd: tmp)
        XCTAssertTrue(predictCSV.out.contains("binary.csv[line 2]\n  p(class 1) = "), predictCSV.out + predictCSV.err)

        let csv = try run(bin, ["train", "--data", arrays + "/binary.csv", "--checkpoint", "csv.ckpt", "--epochs", "2"], cwd: tmp)
        XCTAssertEqual(csv.status, 0, csv.err)
        XCTAssertTrue(csv.out.contains("epoch 2/2  loss"), csv.out)

        // x of 5 values per example for a model of 4 inputs
        let bad = arrays + "/bad_x_shape.npz"
        let refused = try run(bin, ["train", "--data", bad, "--checkpoint", "bad.ckpt"], cwd: tmp)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("\(bad): array x has shape [3, 5]: 5 values per example; model tiny_binary expects 1x4x1 = 4 values"), refused.err)
    }
}
