// The report of an autoencoder (`train: target=input`): reconstructions.svg shows the test
// images above the reconstructions the model computes for them, and report.html the
// reconstruction error (MSE per pixel) of each split. Run end to end on the committed
// fashion_conv_autoencoder model (generated/) with synthetic 28x28 images.

import XCTest
import Foundation
import GeneratedModels
import ModelcData
import TinyModels
@testable import ModelcCommands
@testable import ModelcRuntime

final class AutoencoderReportTests: XCTestCase {
    typealias AE = FashionConvAutoencoder

    /// The images of the elements of class `cls`, decoded from their PNG data URIs.
    func decodedImages(_ els: [ReportXMLElement], class cls: String) throws -> [[UInt8]] {
        try els.filter { $0.name == "image" && $0.classes.contains(cls) }.map { img in
            let href = try XCTUnwrap(img.attributes["href"])
            XCTAssertTrue(href.hasPrefix("data:image/png;base64,"))
            let bytes = try XCTUnwrap(Data(base64Encoded: String(href.dropFirst("data:image/png;base64,".count))))
            let decoded = try PNG.decode([UInt8](bytes), file: cls)
            XCTAssertEqual([decoded.width, decoded.height, decoded.channels], [28, 28, 1])
            return decoded.pixels
        }
    }

    func testGridPutsEachInputAboveItsReconstruction() throws {
        var items: [ReportReconstruction] = []
        for k in 0..<11 {
            let original: [UInt8] = (0..<12).map { i in UInt8((k * 20 + i) % 256) }
            let output: [UInt8] = (0..<12).map { i in UInt8(255 - (k * 7 + i)) }
            items.append(ReportReconstruction(original: original, reconstruction: output, height: 3, width: 4, channels: 1, mse: Double(k) / 1000))
        }
        let svg = try ReportPlots.reconstructionsGrid(items, modelName: "ae <1>", split: "test")
        let els = ReportXMLCollector.parse(svg)
        let originals = els.filter { $0.name == "image" && $0.classes.contains("original") }
        let outputs = els.filter { $0.name == "image" && $0.classes.contains("reconstruction") }
        XCTAssertEqual(originals.count, 11)
        XCTAssertEqual(outputs.count, 11)
        for (k, (o, r)) in zip(originals, outputs).enumerated() {
            XCTAssertEqual(o.attributes["x"], r.attributes["x"], "column \(k)")
            XCTAssertLessThan(Double(o.attributes["y"]!)!, Double(r.attributes["y"]!)!, "input above its reconstruction")
            for (el, want) in [(o, items[k].original), (r, items[k].reconstruction)] {
                let bytes = Data(base64Encoded: String(el.attributes["href"]!.dropFirst("data:image/png;base64,".count)))!
                XCTAssertEqual(try PNG.decode([UInt8](bytes), file: "t").pixels, want)
            }
        }
        XCTAssertEqual(els.filter { $0.classes.contains("example-mse") }.map { $0.text }[3], "mse 0.0030")
        // 11 examples: a band of 8 and one of 3, each with its two row labels
        XCTAssertEqual(els.filter { $0.classes.contains("row-label") }.map { $0.text }, ["input", "reconstruction", "input", "reconstruction"])

        var bad = ReportData(modelName: "m", classNames: [])
        bad.reconstructions = items
        bad.reconstructions[2].reconstruction.removeLast()
        XCTAssertThrowsError(try ReportWriter.render(bad)) {
            XCTAssertEqual("\($0)", "report: error: report data: reconstruction 2 is 3x4x1 = 12 bytes, but has 12 original and 11 reconstructed bytes")
        }
        XCTAssertThrowsError(try ReportWriter.render(ReportData(modelName: "m", classNames: []))) {
            XCTAssertTrue("\($0)".contains("classNames is empty"), "\($0)")
        }
    }

    func testTrainAndEvalReportsShowTheModelsReconstructions() throws {
        let data = try writeSyntheticMNIST(train: 60, test: 20)
        let ckpt = data + "/ae.ckpt", trainReport = data + "/train-report", evalReport = data + "/eval-report"
        let t = Captured.run(AE.self, ["train", "--data", data, "--epochs", "1", "--batch", "20", "--checkpoint", ckpt, "--report", trainReport],
                             program: "ae")
        XCTAssertEqual(t.code, 0, t.err)
        XCTAssertTrue(t.out.first?.contains("loss mse target=input") ?? false, "\(t.out)")

        // what the trained model makes of the first 16 test images, computed here
        let model = AE(maxBatch: 16)
        try Checkpoint.read(path: ckpt).load(into: model)
        let test = syntheticImages(count: 20, seed: 22)
        let input = (0..<(16 * 784)).map { Float(test.pixels[$0]) / 255 }
        let out = input.withUnsafeBufferPointer { p in Array(UnsafeBufferPointer(start: model.forward(p.baseAddress!, count: 16, training: false, seed: 0), count: 16 * 784)) }
        let expected = (0..<16).map { k in (0..<784).map { UInt8(max(0, min(255, (out[k * 784 + $0] * 255).rounded()))) } }
        XCTAssertTrue(expected.contains { r in r.contains { $0 != r[0] } }, "the reconstructions are not blank")

        let els = ReportXMLCollector.parse(String(decoding: try FileIO.read(path: trainReport + "/reconstructions.svg"), as: UTF8.self))
        XCTAssertEqual(try decodedImages(els, class: "original"), (0..<16).map { Array(test.pixels[($0 * 784)..<(($0 + 1) * 784)]) })
        let shown = try decodedImages(els, class: "reconstruction")
        XCTAssertEqual(shown.count, 16)
        for (k, (s, e)) in zip(shown, expected).enumerated() {
            let off = zip(s, e).map { abs(Int($0) - Int($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(off, 1, "reconstruction \(k) differs from the model's output")
        }

        // the test MSE per pixel in the page is the model's, over all 20 test images
        let all = (0..<(20 * 784)).map { Float(test.pixels[$0]) / 255 }
        let big = AE(maxBatch: 20)
        try Checkpoint.read(path: ckpt).load(into: big)
        let full = all.withUnsafeBufferPointer { p in Array(UnsafeBufferPointer(start: big.forward(p.baseAddress!, count: 20, training: false, seed: 0), count: 20 * 784)) }
        let mse = zip(full, all).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(20 * 784)
        let html = String(decoding: try FileIO.read(path: trainReport + "/report.html"), as: UTF8.self)
        XCTAssertTrue(html.contains("autoencoder (the targets are the inputs)"))
        let row = try XCTUnwrap(html.components(separatedBy: "\n").first { $0.contains("</span>test</td><td>20</td>") }, html)
        let shownMSE = try XCTUnwrap(Double(row.components(separatedBy: "<td>")[2].replacingOccurrences(of: "</td>", with: "")))
        XCTAssertEqual(shownMSE, mse, accuracy: 2e-6)
        XCTAssertFalse(html.contains("Confusion matrix"))
        for name in ["learning_curves.svg", "history.csv", "reconstructions.svg"] {
            XCTAssertTrue(FileIO.exists(trainReport + "/" + name), name)
        }
        XCTAssertFalse(FileIO.exists(trainReport + "/confusion.svg"))
        let curves = ReportXMLCollector.parse(String(decoding: try FileIO.read(path: trainReport + "/learning_curves.svg"), as: UTF8.self))
        XCTAssertFalse(curves.contains { $0.name == "text" && $0.text == "Accuracy" }, "an autoencoder has no accuracy panel")

        // eval --report on the same weights shows the same reconstructions
        let e = Captured.run(AE.self, ["eval", "--data", data, "--checkpoint", ckpt, "--report", evalReport], program: "ae")
        XCTAssertEqual(e.code, 0, e.err)
        XCTAssertTrue(e.out.joined().contains("regression: loss"), "\(e.out)")
        XCTAssertEqual(try FileIO.read(path: evalReport + "/reconstructions.svg"), try FileIO.read(path: trainReport + "/reconstructions.svg"))

        // a regression that is not an autoencoder still gets no report
        let r = Captured.run(TinyModel.self, ["train", "--data", data, "--epochs", "1", "--checkpoint", data + "/r.ckpt", "--report", data + "/r",
                                              "--loss", "mse"], program: "tiny")
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("--report covers classifiers trained on class labels and autoencoders"), r.err)
    }
}
