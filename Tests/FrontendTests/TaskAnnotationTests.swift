// The task annotations of issue 17: `train: loss=NAME` with the Keras loss names and aliases,
// `target=input` (an autoencoder), a one-unit sigmoid head reported as a binary classifier,
// and the errors for unknown values.

import XCTest
import Foundation
@testable import ModelcCore

final class TaskAnnotationTests: XCTestCase {
    static func table(last: String) -> String {
        InferenceTests.table([("input_1", "InputLayer", "4", 0), ("dense_1", "Dense", "8", 40), ("dense_2", "Dense", last, last == "1" ? 9 : 36)])
    }

    func testLossNamesAndTargetInput() throws {
        let doc = Self.table(last: "4") + "\n```modelc\nlayer dense_2: activation=sigmoid\ntrain: loss=mean_squared_error target=input\n```\n"
        let r = try Frontend.check(text: doc, path: "ae.md")
        XCTAssertEqual(r.ir.training.loss, .meanSquaredError)
        XCTAssertTrue(r.ir.training.targetIsInput)
        XCTAssertTrue(r.text().contains("loss=mse target=input"), r.text())
        XCTAssertFalse(r.ir.isBinaryClassifier)   // four sigmoid units: multi-label, not binary
        // An autoencoder's outputs reconstruct the input: no class names (a classifier keeps them).
        XCTAssertEqual(r.ir.classNames, [])
        XCTAssertTrue(r.text().contains("classes: none\n"), r.text())
        XCTAssertTrue(r.ir.assumptions.contains("classes: none (train: target=input: the 4 outputs reconstruct the input)"), "\(r.ir.assumptions)")
        XCTAssertEqual(try Frontend.check(text: Self.table(last: "4"), path: "c.md").ir.classNames, ["0", "1", "2", "3"])
        for (name, kind) in [("bce", LossKind.binaryCrossEntropy), ("binary_crossentropy", .binaryCrossEntropy),
                             ("categorical_crossentropy", .categoricalCrossEntropy), ("sparse_categorical_crossentropy", .sparseCategoricalCrossEntropy),
                             ("mae", .meanAbsoluteError), ("crossentropy", .crossEntropy)] {
            let t = try Frontend.check(text: Self.table(last: "4") + "\n```modelc\ntrain: loss=\(name)\n```\n", path: "l.md")
            XCTAssertEqual(t.ir.training.loss, kind, name)
            XCTAssertFalse(t.ir.training.targetIsInput)
        }
    }

    /// models/fashion_conv_autoencoder.md: `check` names none of its 784 outputs as a class.
    func testTheAutoencoderExampleListsNoClasses() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/fashion_conv_autoencoder.md").path
        let r = try Frontend.check(path: path)
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.classCount, 784)
        XCTAssertEqual(r.ir.classNames, [])
        let text = r.text()
        XCTAssertTrue(text.contains("classes: none\n"), text)
        XCTAssertFalse(text.contains("783"), text)
        XCTAssertTrue(r.json().contains("\"class_names\": [],"), r.json())
    }

    func testOneSigmoidUnitIsABinaryClassifier() throws {
        let doc = Self.table(last: "1") + "\n```modelc\nlayer dense_2: activation=sigmoid\n```\n"
        let r = try Frontend.check(text: doc, path: "b.md")
        XCTAssertTrue(r.ir.isBinaryClassifier)
        XCTAssertEqual(r.ir.classNames, ["1"])
        XCTAssertTrue(r.text().contains("classes: binary (0, 1; the output is P(1))"), r.text())
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("classes: binary (one sigmoid unit") }, "\(r.ir.assumptions)")
        // a final one-unit Dense is sigmoid unless annotated: linear is a regression output
        XCTAssertTrue(try Frontend.check(text: Self.table(last: "1"), path: "d.md").ir.isBinaryClassifier)
        let linear = try Frontend.check(text: Self.table(last: "1") + "\n```modelc\nlayer dense_2: activation=linear\n```\n", path: "r.md")
        XCTAssertFalse(linear.ir.isBinaryClassifier)
        XCTAssertEqual(linear.ir.classNames, ["0"])
    }

    func testErrors() {
        let base = Self.table(last: "1") + "\n```modelc\n"
        checkError(base + "train: loss=hinge\n```\n", contains: "error: loss=hinge: expected one of crossentropy, margin, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, mse, mae", path: "x.md")
        checkError(base + "train: target=output\n```\n", contains: "error: target=output: expected input (an autoencoder: the targets are the inputs) or labels", path: "x.md")
    }
}
