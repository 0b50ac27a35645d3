// `--resplit TRAIN:VAL:TEST` (one labeled file set cut into three seeded parts) and the report
// directories written by `train --report DIR` and `eval --report DIR`, through ModelcApp.run.

import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ModelcData
import TinyModels
@testable import ModelcCommands
@testable import ModelcRuntime

final class ResplitAndRunReportTests: XCTestCase {
    func run(_ args: [String]) -> (code: Int32, out: [String], err: String) {
        let c = Captured()
        let code = ModelcApp.run(TinyModel.self, arguments: args, console: c.console, program: "tiny")
        return (code, c.out, c.err.joined(separator: "\n"))
    }

    func testResplitPartsAreDisjointSeededAndSized() throws {
        let r = try Resplit(parsing: "80:10:10")
        XCTAssertEqual(r.description, "80:10:10")
        let a = try r.indices(count: 120, seed: 0, source: "f")
        XCTAssertEqual([a.train.count, a.validation.count, a.test.count], [80, 10, 10])
        XCTAssertEqual(Set(a.train + a.validation + a.test).count, 100, "no image in two parts")
        XCTAssertEqual(a.train, a.train.sorted(), "each part keeps the file order")
        let again = try r.indices(count: 120, seed: 0, source: "f")
        XCTAssertEqual(again.test, a.test, "same seed, same parts")
        let other = try r.indices(count: 120, seed: 1, source: "f")
        XCTAssertNotEqual(other.test, a.test, "another seed, other parts")
        XCTAssertThrowsError(try r.indices(count: 99, seed: 0, source: "kannada t10k")) {
            XCTAssertEqual("\($0)", "kannada t10k: --resplit 80:10:10 needs 100 images, the file set holds 99")
        }
        for bad in ["80:10", "0:10:10", "a:b:c", "80:-1:10", "80:10:10:1", "", "9223372036854775807:9223372036854775807:2"] {
            XCTAssertThrowsError(try Resplit(parsing: bad), bad) {
                XCTAssertTrue("\($0)".contains("--resplit expects TRAIN:VAL:TEST"), "\($0)")
            }
        }
    }

    func testTrainAndEvalOnResplitTestFiles() throws {
        let data = try writeSyntheticMNIST(train: 30, test: 500)
        let ckpt = data + "/r.ckpt"
        let t = run(["train", "--data", data, "--checkpoint", ckpt, "--resplit", "300:100:50", "--split-seed", "5",
                     "--epochs", "2", "--batch", "20"])
        XCTAssertEqual(t.code, 0, t.err)
        XCTAssertTrue(t.out[0].contains("300 images, 100 for validation"), t.out[0])
        // eval reads the protocol from the checkpoint: the held-out parts
        for (split, count) in [("test", 50), ("val", 100), ("train", 300)] {
            let e = run(["eval", "--data", data, "--checkpoint", ckpt, "--split", split, "--json"])
            XCTAssertEqual(e.code, 0, e.err)
            let o = try JSONSerialization.jsonObject(with: Data(e.out[0].utf8)) as! [String: Any]
            XCTAssertEqual(o["count"] as? Int, count, split)
        }
        // the same test part with --weights and explicit flags
        let npz = data + "/r.npz"
        XCTAssertEqual(run(["export", "--weights", npz, "--checkpoint", ckpt]).code, 0)
        let a = run(["eval", "--data", data, "--checkpoint", ckpt, "--json"])
        let b = run(["eval", "--data", data, "--weights", npz, "--resplit", "300:100:50", "--split-seed", "5", "--json"])
        XCTAssertEqual(evalMetrics(a.out), b.out)
        let c = run(["eval", "--data", data, "--weights", npz, "--resplit", "300:100:50", "--split-seed", "6", "--json"])
        XCTAssertNotEqual(evalMetrics(a.out), c.out, "another split seed tests other images")
        // usage and data errors
        let both = run(["train", "--data", data, "--resplit", "300:100:50", "--val-split", "0.1"])
        XCTAssertEqual(both.code, 2)
        XCTAssertTrue(both.err.contains("cannot be combined with --val-split"), both.err)
        let big = run(["train", "--data", data, "--checkpoint", data + "/big.ckpt", "--resplit", "400:100:50"])
        XCTAssertEqual(big.code, 1)
        XCTAssertTrue(big.err.contains("--resplit 400:100:50 needs 550 images, the file set holds 500"), big.err)
    }

    func parseXML(_ path: String) throws -> [String] {
        final class Names: NSObject, XMLParserDelegate {
            var names: [String] = []
            func parser(_ parser: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) { names.append(e) }
        }
        let parser = XMLParser(data: Data(try FileIO.read(path: path)))
        let n = Names()
        parser.delegate = n
        XCTAssertTrue(parser.parse(), "\(path): \(parser.parserError.map { "\($0)" } ?? "")")
        return n.names
    }

    func testTrainAndEvalWriteReports() throws {
        let data = try writeSyntheticMNIST(train: 400, test: 120)
        let ckpt = data + "/rep.ckpt", dir = data + "/report"
        let t = run(["train", "--data", data, "--checkpoint", ckpt, "--epochs", "3", "--batch", "20", "--lr", "0.02",
                     "--schedule", "step:1:0.5", "--report", dir])
        XCTAssertEqual(t.code, 0, t.err)
        XCTAssertTrue(t.err.contains("report: 6 files in \(dir)"), t.err)
        for f in ReportWriter.fileNames { XCTAssertEqual(FileIO.exists(dir + "/" + f), f != "reconstructions.svg", f) }   // a classifier's
        // history.csv: the three epochs with the step schedule's learning rates
        let csv = String(decoding: try FileIO.read(path: dir + "/history.csv"), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(csv.count, 4)
        XCTAssertEqual(csv.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).last.map(String.init) }, ["0.019999999552965164", "0.009999999776482582", "0.004999999888241291"])
        let c = try Checkpoint.read(path: ckpt)
        let history = try XCTUnwrap(c.training?.progress.history)
        XCTAssertEqual(csv[1].split(separator: ",")[1], Substring("\(history[0].loss)"))
        // metrics on train, val and test, matching eval
        let html = String(decoding: try FileIO.read(path: dir + "/report.html"), as: UTF8.self)
        XCTAssertTrue(html.contains("evaluated on train, val, test"), html)
        let e = run(["eval", "--data", data, "--checkpoint", ckpt, "--json"])
        let o = try JSONSerialization.jsonObject(with: Data(e.out[0].utf8)) as! [String: Any]
        let accuracy = o["accuracy"] as! Double
        XCTAssertTrue(html.contains(ReportFormat.percent(accuracy)), "test accuracy \(accuracy) in the overall table")
        // SVGs parse and hold the expected elements
        XCTAssertEqual(try parseXML(dir + "/confusion.svg").filter { $0 == "rect" }.count >= 100, true)
        let samples = try parseXML(dir + "/samples.svg")
        XCTAssertEqual(samples.filter { $0 == "image" }.count, RunReport.shown)
        XCTAssertTrue(try parseXML(dir + "/learning_curves.svg").contains("polyline"))
        XCTAssertTrue(try parseXML(dir + "/class_distribution.svg").contains("rect"))
        let svg = String(decoding: try FileIO.read(path: dir + "/class_distribution.svg"), as: UTF8.self)
        for split in ["train", "val", "test"] { XCTAssertTrue(svg.contains(split), split) }

        // eval --report: one split, history from the checkpoint
        let dir2 = data + "/eval-report"
        let e2 = run(["eval", "--data", data, "--checkpoint", ckpt, "--split", "val", "--report", dir2])
        XCTAssertEqual(e2.code, 0, e2.err)
        let html2 = String(decoding: try FileIO.read(path: dir2 + "/report.html"), as: UTF8.self)
        XCTAssertTrue(html2.contains("3 epochs of training, evaluated on val"), html2)
        XCTAssertTrue(FileIO.exists(dir2 + "/history.csv"))
        // eval --report with weights only: no history, so no learning curves
        XCTAssertEqual(run(["export", "--weights", data + "/w.npz", "--checkpoint", ckpt]).code, 0)
        let e3 = run(["eval", "--data", data, "--weights", data + "/w.npz", "--report", dir2])
        XCTAssertEqual(e3.code, 0, e3.err)
        XCTAssertFalse(FileIO.exists(dir2 + "/history.csv"), "a stale history from the previous report is removed")
    }

    func testSampleSelectionShowsMisclassifiedFirst() {
        let images = syntheticImages(count: 40, seed: 3)
        // predict class 0 for everything: every image of another class is misclassified
        var p = [Float](repeating: 0, count: 40 * 10)
        for n in 0..<40 { p[n * 10] = 1 }
        let s = RunReport.samples(images, probabilities: p, classes: 10)
        XCTAssertEqual(s.count, min(RunReport.shown, 8 + images.labels.filter { $0 == 0 }.count))
        XCTAssertEqual(s.filter { !$0.isCorrect }.count, RunReport.misclassifiedShown)
        XCTAssertTrue(s.allSatisfy { $0.predictedLabel == 0 && $0.probability == 1 })
    }
}
