import XCTest
@testable import ModelcCore

final class ReportTests: XCTestCase {
    func testJSONHasExactlyTheDocumentedKeys() throws {
        let r = try Frontend.check(text: LayoutTests.keras2, path: "k2.md")
        let data = Data(r.json().utf8)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        // Issue 2's keys, plus the additive semantics/dataset/class_names/input/training keys.
        XCTAssertEqual(Set(obj.keys), ["name", "input_shape", "ok", "layers", "total_params", "trainable_params",
                                       "non_trainable_params", "declared", "semantics", "dataset", "class_names",
                                       "input", "training"])
        let training = try XCTUnwrap(obj["training"] as? [String: Any])
        XCTAssertEqual(Set(training.keys), ["optimizer", "optimizer_params", "lr", "batch", "epochs", "loss", "weight_decay",
                                            "schedule", "val_split", "early_stopping", "augmentation", "seed"])
        XCTAssertEqual(obj["semantics"] as? String, "keras")
        XCTAssertEqual(obj["name"] as? String, "k2")
        XCTAssertEqual(obj["input_shape"] as? [Int], [28, 28, 1])
        XCTAssertEqual(obj["ok"] as? Bool, true)
        XCTAssertEqual(obj["total_params"] as? Int, 43_922)
        let declared = try XCTUnwrap(obj["declared"] as? [String: Any])
        XCTAssertEqual(Set(declared.keys), ["total", "trainable", "non_trainable"])
        XCTAssertEqual(declared["non_trainable"] as? Int, 32)
        let layers = try XCTUnwrap(obj["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 9)
        for l in layers {
            XCTAssertEqual(Set(l.keys), ["name", "type", "output_shape", "params", "trainable_params", "inferred"])
        }
        let conv = try XCTUnwrap(layers.first { $0["name"] as? String == "conv2d_1" })
        let inf = try XCTUnwrap(conv["inferred"] as? [String: Any])
        XCTAssertEqual(inf["kernel"] as? [Int], [3, 3])
        XCTAssertEqual(inf["strides"] as? [Int], [1, 1])
        XCTAssertEqual(inf["padding"] as? String, "valid")
        XCTAssertEqual(inf["use_bias"] as? Bool, true)
        let bn = try XCTUnwrap(layers.first { $0["name"] as? String == "batch_normalization_1" })
        XCTAssertEqual(bn["params"] as? Int, 64)
        XCTAssertEqual(bn["trainable_params"] as? Int, 32)
        let zp = try XCTUnwrap(layers.first { $0["name"] as? String == "zero_padding2d_1" })
        XCTAssertEqual((zp["inferred"] as? [String: Any])?["padding"] as? [[Int]], [[1, 1], [1, 1]])
    }

    func testTextReportMarksTotalsAndAssumptions() throws {
        let r = try Frontend.check(text: LayoutTests.keras2, path: "k2.md")
        let t = r.text()
        XCTAssertTrue(t.contains("Layer (type)"))
        XCTAssertTrue(t.contains("Inferred"))
        XCTAssertTrue(t.contains("conv2d_1 (Conv2D)"))
        XCTAssertTrue(t.contains("3x3 s1 valid, bias"))
        XCTAssertTrue(t.contains("Total params:         43,922      matches declared 43,922"), t)
        XCTAssertTrue(t.contains("Non-trainable params: 32          matches declared 32"), t)
        XCTAssertTrue(t.contains("Assumed defaults:"))
        XCTAssertTrue(t.hasSuffix("OK: every shape and parameter count matches\n"))
        // Missing footer lines read "(not declared)".
        let noFooter = LayoutTests.keras2.components(separatedBy: "Total params:")[0]
        let t2 = try Frontend.check(text: noFooter, path: "k2.md").text()
        XCTAssertTrue(t2.contains("Total params:         43,922      (not declared)"), t2)
    }

    func testErrorDescriptionFormat() {
        XCTAssertEqual(ModelError(file: "a.md", line: 3, message: "bad").description, "a.md:3: error: bad")
        XCTAssertEqual(ModelError(file: "a.md", line: nil, message: "bad").description, "a.md: error: bad")
    }

    func testUnreadableFiles() {
        XCTAssertThrowsError(try Frontend.check(path: "/nonexistent/model.md")) { e in
            XCTAssertEqual((e as? ModelError)?.description, "/nonexistent/model.md: error: no such file")
        }
        XCTAssertThrowsError(try Frontend.check(path: Fixtures.root)) { e in
            XCTAssertTrue((e as? ModelError)?.description.contains("is a directory") ?? false)
        }
    }
}
