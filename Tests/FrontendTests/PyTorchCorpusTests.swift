import XCTest
@testable import ModelcCore

/// Real public PyTorch descriptions (Tests/Fixtures/pytorch, sources in manifest.json): each must
/// give the published/computed parameter count, report the published mismatch, or fail with the
/// expected error.
final class PyTorchCorpusTests: XCTestCase {
    func testPyTorchCorpus() throws {
        let mpath = Fixtures.path("pytorch/manifest.json")
        guard let data = FileManager.default.contents(atPath: mpath),
              let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            XCTFail("cannot read \(mpath)"); return
        }
        var bare = 0, annotated = 0, errors = 0, mismatches = 0
        for o in list {
            guard let file = o["file"] as? String else { XCTFail("entry without file"); continue }
            let path = Fixtures.path("pytorch/" + file)
            let text = try Fixtures.text("pytorch/" + file)
            if let expected = o["error"] as? String {
                do {
                    let r = try Frontend.check(text: text, path: path)
                    XCTFail("\(file): expected an error containing '\(expected)', got a report:\n\(r.text())")
                } catch let e as ModelError {
                    XCTAssertTrue(e.description.contains(expected), "\(file): '\(e)' lacks '\(expected)'")
                    XCTAssertTrue(e.description.hasPrefix(path + ":"), "\(file): error does not name the file: \(e)")
                    XCTAssertNotNil(e.line, "\(file): error has no line: \(e)")
                    errors += 1
                }
                continue
            }
            guard let total = o["total"] as? Int else { XCTFail("\(file): no total"); continue }
            if o["mismatch"] as? Bool == true {
                let published = o["published_total"] as? Int ?? -1
                guard let r = checkOK(text, path: path) else { continue }
                XCTAssertEqual(r.ir.frameworkParamCount, total, file)
                XCTAssertFalse(r.ok, "\(file): the published \(published) must be reported as a mismatch")
                XCTAssertTrue(r.problems.contains { $0.message.contains(formatCount(published)) && $0.line != nil }, "\(file): \(r.problems)")
                mismatches += 1
                continue
            }
            // First as published (no annotation); if that cannot work, with the manifest's input shape
            // as the user would annotate it (`input: shape=CxHxW`).
            var report = try? Frontend.check(text: text, path: path)
            if o["input_inferred"] as? Bool == true {
                // The file states no input size: it must pass as published, saying the size was inferred.
                XCTAssertNotNil(report, "\(file): the input size must be inferred")
                XCTAssertTrue(report?.ir.layers.first?.notes.contains { $0.contains("inferred") } ?? false, "\(file): no inference note")
                XCTAssertFalse(report?.ir.assumptions.contains { $0.contains("28, 28") } ?? true, file)
            }
            if report == nil, let s = o["input_shape"] as? [Int], s.count >= 2 {
                let ann = "\n<!-- modelc\ninput: shape=\(s.map(String.init).joined(separator: "x"))\n-->\n"
                report = checkOK(text + ann, path: path)
                if report != nil { annotated += 1 }
            } else if report != nil {
                bare += 1
            }
            guard let r = report else { XCTFail("\(file): no report"); continue }
            XCTAssertEqual(r.ir.semantics, .pytorch, file)
            XCTAssertEqual(r.ir.frameworkParamCount, total, "\(file)\n\(r.text())")
            XCTAssertEqual(r.ir.trainableParams, total, file)
            XCTAssertTrue(r.ok, "\(file): \(r.problems)")
            if let s = o["input_shape"] as? [Int], s.count >= 2 {
                XCTAssertEqual(r.ir.inputShape, PyTorchBuilder.irShape(chw: s), "\(file): input shape")
            }
        }
        print("pytorch corpus: \(bare) pass as published, \(annotated) with the manifest's input shape, \(mismatches) published mismatch(es) reported, \(errors) expected errors")
        XCTAssertGreaterThanOrEqual(bare + annotated, 20, "at least 20 real PyTorch descriptions must pass")
        XCTAssertGreaterThanOrEqual(list.count, 30)
    }
}
