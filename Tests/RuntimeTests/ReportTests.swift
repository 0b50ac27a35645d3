// Reports: every written file parses as XML (SVG) or has the expected structure (CSV, HTML),
// holds one element per drawn item, and escapes hostile names; the PNG encoder's output decodes
// (signature, chunk CRCs, stored deflate blocks, Adler-32) and round-trips through ModelcData's
// independent PNG decoder.
import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import ModelcCommands
@testable import ModelcRuntime
import ModelcData

/// One parsed XML element: its name, attributes, the class attributes of its ancestors
/// (innermost last) and its own text content.
struct ReportXMLElement {
    var name: String
    var attributes: [String: String]
    var ancestorClasses: [String]
    var text: String = ""
    func inside(_ cls: String) -> Bool { ancestorClasses.contains { $0.split(separator: " ").contains(Substring(cls)) } }
    var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
}

/// Parses a whole XML document with Foundation's XMLParser and records every element.
final class ReportXMLCollector: NSObject, XMLParserDelegate {
    var elements: [ReportXMLElement] = []
    private var stack: [Int] = []
    private var classStack: [String] = []
    var error: Error?

    static func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [ReportXMLElement] {
        let c = ReportXMLCollector()
        let p = XMLParser(data: Data(text.utf8))
        p.delegate = c
        let ok = p.parse()
        XCTAssertTrue(ok, "XML does not parse: \(String(describing: p.parserError ?? c.error))", file: file, line: line)
        return c.elements
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements.append(ReportXMLElement(name: elementName, attributes: attributeDict, ancestorClasses: classStack))
        stack.append(elements.count - 1)
        classStack.append(attributeDict["class"] ?? "")
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        stack.removeLast()
        classStack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = stack.last { elements[i].text += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }
}

final class ReportTests: XCTestCase {
    static let hostile = "a<b&c\"d'e>"
    let classNames = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", ReportTests.hostile]
    let native = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"]

    // MARK: fixtures

    /// A 28x28 "digit": a ring whose radius depends on the label, so images differ.
    func digit(_ label: Int) -> [UInt8] {
        var px = [UInt8](repeating: 0, count: 28 * 28)
        for y in 0..<28 { for x in 0..<28 {
            let d = ((Double(x) - 13.5) * (Double(x) - 13.5) + (Double(y) - 13.5) * (Double(y) - 13.5)).squareRoot()
            px[y * 28 + x] = abs(d - Double(4 + label)) < 1.5 ? 255 : UInt8((x * 3 + y * 5 + label) % 40)
        } }
        return px
    }

    func split(_ name: String, scale: Int, errors: Int) -> ReportSplitMetrics {
        var cm = Array(repeating: Array(repeating: 0, count: 10), count: 10)
        for r in 0..<10 {
            cm[r][r] = scale * (90 + r)
            for j in 0..<errors { cm[r][(r + 1 + j) % 10] += 1 + (r + j) % 3 }
        }
        let support = cm.map { $0.reduce(0, +) }
        let total = support.reduce(0, +)
        let correct = (0..<10).reduce(0) { $0 + cm[$1][$1] }
        var p = [Double](), r = [Double](), f = [Double]()
        for c in 0..<10 {
            let predicted = (0..<10).reduce(0) { $0 + cm[$1][c] }
            let pp = Double(cm[c][c]) / Double(predicted), rr = Double(cm[c][c]) / Double(support[c])
            p.append(pp); r.append(rr); f.append(2 * pp * rr / (pp + rr))
        }
        let auc: [Double?] = (0..<10).map { $0 == 3 ? nil : 0.99 + Double($0) / 1000 }
        return ReportSplitMetrics(split: name, count: total, accuracy: Double(correct) / Double(total), loss: 0.05,
                                  precision: p, recall: r, f1: f, rocAUC: auc, confusion: cm)
    }

    func history(_ epochs: Int, valEvery: Int = 1) -> [ReportEpoch] {
        (1...epochs).map { e in
            let t = Double(e)
            let hasVal = e % valEvery == 0
            return ReportEpoch(epoch: e, loss: 1 / t, accuracy: 1 - 0.5 / t, valLoss: hasVal ? 1.1 / t : nil,
                               valAccuracy: hasVal ? 1 - 0.6 / t : nil, seconds: 1.25 * t, learningRate: 0.001 / t)
        }
    }

    func samples() -> [ReportSample] {
        var s = (0..<6).map { i in
            ReportSample(pixels: digit(i), height: 28, width: 28, channels: 1, trueLabel: i,
                         predictedLabel: i == 2 || i == 4 ? 9 : i, probability: 0.5 + Double(i) / 20)
        }
        // An RGB sample of another size.
        let rgb = (0..<(10 * 12 * 3)).map { UInt8(($0 * 7) % 256) }
        s.append(ReportSample(pixels: rgb, height: 10, width: 12, channels: 3, trueLabel: 9, predictedLabel: 9, probability: 0.99))
        return s
    }

    func fullData() -> ReportData {
        ReportData(modelName: "model <x> & \"y\" 'z'", classNames: classNames, nativeClassNames: native,
                   info: [("dataset", "mnist & <friends>")],
                   history: history(30, valEvery: 3),
                   splits: [split("train", scale: 9, errors: 3), split("val", scale: 1, errors: 1), split("test", scale: 2, errors: 2)],
                   classCounts: [ReportClassCounts(split: "train", counts: (0..<10).map { 5000 + $0 * 10 }),
                                 ReportClassCounts(split: "val", counts: (0..<10).map { 500 + $0 }),
                                 ReportClassCounts(split: "test", counts: (0..<10).map { 900 + $0 * 3 })],
                   samples: samples())
    }

    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "modelc-report-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    // MARK: SVG writer and formatting

    func testEscapingRoundTripsThroughXMLParser() {
        var svg = SVGWriter(width: 100, height: 50, title: "t " + ReportTests.hostile, desc: "d & <e>")
        svg.beginGroup(cls: "g \"x\"")
        svg.text(ReportTests.hostile + " ひらがな", x: 1, y: 2, tooltip: "tip <&>")
        svg.text("bad\u{1}char\u{FFFF}", x: 1, y: 2)
        svg.rect(x: 0, y: 0, width: 1, height: 1, fill: "#fff", tooltip: "r'\"")
        svg.endGroup()
        let text = svg.render()
        XCTAssertTrue(text.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(text.contains("viewBox=\"0 0 100 50\""))
        XCTAssertTrue(text.contains("a&lt;b&amp;c&quot;d&apos;e&gt;"))
        let els = ReportXMLCollector.parse(text)
        XCTAssertEqual(els.first?.name, "svg")
        let titles = els.filter { $0.name == "title" }.map { $0.text }
        XCTAssertEqual(titles, ["t " + ReportTests.hostile, "tip <&>", "r'\""])
        XCTAssertEqual(els.first { $0.name == "desc" }?.text, "d & <e>")
        let texts = els.filter { $0.name == "text" }
        guard texts.count == 2 else { return XCTFail("expected 2 text elements, found \(texts.count)") }
        XCTAssertEqual(texts[0].text, ReportTests.hostile + " ひらがな")
        XCTAssertEqual(texts[1].text, "bad\u{FFFD}char\u{FFFD}")
        XCTAssertEqual(els.first { $0.name == "g" }?.attributes["class"], "g \"x\"")
    }

    func testUnbalancedGroupsAreClosed() {
        var svg = SVGWriter(width: 10, height: 10, title: "t")
        svg.beginGroup(cls: "a"); svg.beginGroup(cls: "b")
        svg.line(x1: 0, y1: 0, x2: 1, y2: 1, stroke: "#000")
        svg.endGroup()
        let els = ReportXMLCollector.parse(svg.render())
        XCTAssertEqual(els.filter { $0.name == "g" }.count, 2)
        XCTAssertEqual(els.first { $0.name == "line" }?.ancestorClasses, ["", "a", "b"])
    }

    func testNumberFormattingIsDeterministic() {
        XCTAssertEqual(ReportXML.number(3), "3")
        XCTAssertEqual(ReportXML.number(2.5), "2.5")
        XCTAssertEqual(ReportXML.number(1234.5678), "1234.57")
        XCTAssertEqual(ReportXML.number(-0.001), "0")
        XCTAssertEqual(ReportXML.number(-12.345), "-12.35")
        XCTAssertEqual(ReportXML.number(.nan), "0")
        XCTAssertEqual(ReportXML.number(.infinity), "0")
        XCTAssertEqual(ReportXML.number(1e20), "1000000000000000")
        XCTAssertEqual(ReportFormat.fixed(0.5, decimals: 4), "0.5000")
        XCTAssertEqual(ReportFormat.fixed(0.00049, decimals: 3), "0.000")
        XCTAssertEqual(ReportFormat.fixed(.nan, decimals: 2), "nan")
        XCTAssertEqual(ReportFormat.percent(0.98765), "98.77%")
        XCTAssertEqual(ReportFormat.metric(nil), "–")
        XCTAssertEqual(ReportFormat.grouped(60000), "60,000")
        XCTAssertEqual(ReportFormat.grouped(999), "999")
        XCTAssertEqual(ReportFormat.grouped(-1234567), "-1,234,567")
    }

    func testNiceTicks() {
        let t = ReportTicks.nice(0, 0.237, target: 6)
        XCTAssertEqual(t.step, 0.05, accuracy: 1e-12)
        XCTAssertEqual(t.ticks.count, 6)
        XCTAssertEqual(t.domain.1, 0.25, accuracy: 1e-12)
        XCTAssertEqual(ReportTicks.epochs(last: 30), [1, 5, 10, 15, 20, 25, 30])
        XCTAssertEqual(ReportTicks.epochs(last: 1), [1])
        XCTAssertEqual(ReportTicks.epochs(last: 3), [1, 2, 3])
        let flat = ReportTicks.nice(5, 5)
        XCTAssertLessThan(flat.domain.0, flat.domain.1)
    }

    // MARK: PNG

    struct PNGChunk { var type: String; var data: [UInt8]; var crc: UInt32 }

    func chunks(_ png: [UInt8]) throws -> [PNGChunk] {
        XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var out = [PNGChunk](), i = 8
        func be32(_ at: Int) -> UInt32 { png[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        struct Truncated: Error {}
        while i < png.count {
            guard i + 12 <= png.count else { throw Truncated() }
            let n = Int(be32(i))
            guard i + 12 + n <= png.count else { throw Truncated() }
            let type = String(decoding: png[(i + 4)..<(i + 8)], as: UTF8.self)
            let data = Array(png[(i + 8)..<(i + 8 + n)])
            out.append(PNGChunk(type: type, data: data, crc: be32(i + 8 + n)))
            i += 12 + n
        }
        XCTAssertEqual(i, png.count)
        return out
    }

    /// Inflates a zlib stream made only of stored blocks, checking LEN/NLEN and Adler-32.
    func inflateStored(_ z: [UInt8]) -> [UInt8] {
        XCTAssertEqual(z[0] & 0x0F, 8, "CM must be deflate")
        XCTAssertEqual((UInt16(z[0]) << 8 | UInt16(z[1])) % 31, 0, "FCHECK")
        var out = [UInt8](), i = 2, final = false
        while !final {
            guard i + 5 <= z.count else { XCTFail("stored block header past the end"); return [] }
            final = z[i] & 1 == 1
            XCTAssertEqual((z[i] >> 1) & 3, 0, "BTYPE must be stored")
            let len = Int(z[i + 1]) | Int(z[i + 2]) << 8
            let nlen = Int(z[i + 3]) | Int(z[i + 4]) << 8
            XCTAssertEqual(len ^ 0xFFFF, nlen)
            guard i + 5 + len + 4 <= z.count else { XCTFail("stored block past the end"); return [] }
            out += z[(i + 5)..<(i + 5 + len)]
            i += 5 + len
        }
        let adler = z[i..<(i + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        XCTAssertEqual(i + 4, z.count)
        // Adler-32 computed here the slow, obvious way.
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in out { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        XCTAssertEqual(adler, b << 16 | a)
        return out
    }

    func checkPNG(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        let png = try ReportPNG.encode(pixels: pixels, width: width, height: height, channels: channels)
        let cs = try chunks(png)
        guard cs.map({ $0.type }) == ["IHDR", "IDAT", "IEND"] else { return XCTFail("chunks \(cs.map { $0.type })") }
        for c in cs { XCTAssertEqual(c.crc, CRC32.checksum(Array(c.type.utf8) + c.data), "CRC of \(c.type)") }
        let ihdr = cs[0].data
        guard ihdr.count == 13 else { return XCTFail("IHDR has \(ihdr.count) bytes") }
        XCTAssertEqual(ihdr[0..<4].reduce(0) { $0 << 8 | Int($1) }, width)
        XCTAssertEqual(ihdr[4..<8].reduce(0) { $0 << 8 | Int($1) }, height)
        XCTAssertEqual(Array(ihdr[8..<13]), [8, channels == 1 ? 0 : 2, 0, 0, 0])
        var scanlines = [UInt8]()
        for y in 0..<height { scanlines.append(0); scanlines += pixels[(y * width * channels)..<((y + 1) * width * channels)] }
        XCTAssertEqual(inflateStored(cs[1].data), scanlines)
        // An independent decoder (ModelcData's own inflate) gives back the pixels.
        let decoded = try PNG.decode(png, file: "report.png")
        XCTAssertEqual(decoded.width, width)
        XCTAssertEqual(decoded.height, height)
        XCTAssertEqual(decoded.channels, channels)
        XCTAssertEqual(decoded.pixels, pixels)
    }

    func testPNGEncoderOutputDecodes() throws {
        try checkPNG(width: 28, height: 28, channels: 1, pixels: digit(3))
        try checkPNG(width: 5, height: 3, channels: 3, pixels: (0..<45).map { UInt8($0 * 5) })
        try checkPNG(width: 1, height: 1, channels: 1, pixels: [200])
        // 300x300 RGB: 270,300 bytes of scanlines -> five stored blocks.
        let big = (0..<(300 * 300 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
        try checkPNG(width: 300, height: 300, channels: 3, pixels: big)
        XCTAssertEqual(ReportPNG.zlibStored([UInt8](repeating: 1, count: 200_000)).count, 2 + 4 * 5 + 200_000 + 4)
        XCTAssertEqual(ReportPNG.zlibStored([]), [0x78, 0x01, 1, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1])
    }

    func testPNGEncoderRejectsBadInput() {
        XCTAssertThrowsError(try ReportPNG.encode(pixels: [1, 2, 3], width: 2, height: 2, channels: 1)) {
            XCTAssertTrue("\($0)".contains("needs 4 pixel bytes, found 3"), "\($0)")
        }
        XCTAssertThrowsError(try ReportPNG.encode(pixels: [1, 2, 3, 4], width: 1, height: 2, channels: 2))
        XCTAssertThrowsError(try ReportPNG.encode(pixels: [], width: 0, height: 0, channels: 1))
    }

    func testChecksumsAndBase64MatchReferences() {
        // the PNG encoder uses ModelcData's checksums: check them against the published values
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(Zlib.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        for n in 0..<12 {
            let bytes = (0..<n).map { UInt8(($0 * 97 + 13) % 256) }
            XCTAssertEqual(ReportPNG.base64(bytes), Data(bytes).base64EncodedString())
        }
    }

    // MARK: plots

    func testLearningCurvesOnePolylinePerCurve() {
        let full = ReportXMLCollector.parse(ReportPlots.learningCurves(history: history(30), modelName: "m"))
        XCTAssertEqual(full.filter { $0.name == "polyline" }.count, 4)
        let trainLoss = full.first { $0.name == "polyline" && $0.inside("loss") && $0.inside("train") }
        XCTAssertEqual(trainLoss?.attributes["points"]?.split(separator: " ").count, 30)
        XCTAssertEqual(full.filter { $0.name == "circle" }.count, 4 * 30)
        let texts = full.filter { $0.name == "text" }.map { $0.text }
        for needed in ["Loss", "Accuracy", "epoch", "training", "validation", "30", "100%"] {
            XCTAssertTrue(texts.contains(needed), "missing text \(needed)")
        }
        XCTAssertTrue(texts.contains { $0.hasPrefix("best val") && $0.hasSuffix("@ 30") })

        // Validation only every third epoch: the validation polylines go through 10 points.
        let sparse = ReportXMLCollector.parse(ReportPlots.learningCurves(history: history(30, valEvery: 3), modelName: "m"))
        let valAcc = sparse.first { $0.name == "polyline" && $0.inside("accuracy") && $0.inside("val") }
        XCTAssertEqual(valAcc?.attributes["points"]?.split(separator: " ").count, 10)

        // One epoch, no validation: two one-point curves, each with a visible dot; no validation legend.
        var one = history(1)
        one[0].valLoss = nil; one[0].valAccuracy = nil
        let single = ReportXMLCollector.parse(ReportPlots.learningCurves(history: one, modelName: "m"))
        XCTAssertEqual(single.filter { $0.name == "polyline" }.count, 2)
        XCTAssertEqual(single.filter { $0.name == "circle" }.count, 2)
        XCTAssertFalse(single.contains { $0.name == "text" && $0.text == "validation" })
        for p in single where p.name == "polyline" || p.name == "circle" {
            for v in p.attributes.values { XCTAssertFalse(v.contains("nan") || v.contains("inf"), v) }
        }

        // Non-finite losses are skipped, not drawn as NaN coordinates.
        var diverged = history(5)
        diverged[3].loss = .nan
        let d = ReportXMLCollector.parse(ReportPlots.learningCurves(history: diverged, modelName: "m"))
        let dl = d.first { $0.name == "polyline" && $0.inside("loss") && $0.inside("train") }
        XCTAssertEqual(dl?.attributes["points"]?.split(separator: " ").count, 4)
    }

    func testConfusionHeatMapHasOneRectPerCell() {
        let m = split("test", scale: 2, errors: 2)
        let labels = (0..<10).map { fullData().displayName($0) }
        let els = ReportXMLCollector.parse(ReportPlots.confusionHeatMap(m, labels: labels, modelName: "m"))
        let cells = els.filter { $0.name == "rect" && $0.inside("cells") }
        guard cells.count == 100 else { return XCTFail("expected 100 cells, found \(cells.count)") }
        XCTAssertEqual(cells.filter { $0.classes.contains("diagonal") }.count, 10)
        // Counts, row by row, equal the matrix.
        let counts = els.filter { $0.name == "text" && $0.inside("counts") }.map { Int($0.text) }
        XCTAssertEqual(counts, m.confusion.flatMap { $0 }.map { Optional($0) })
        // Class names on both axes, hostile name unescaped by the parser.
        let yLabels = els.filter { $0.name == "text" && $0.inside("y-labels") }.map { $0.text }
        let xLabels = els.filter { $0.name == "text" && $0.inside("x-labels") }.map { $0.text }
        XCTAssertTrue(yLabels.contains(ReportTests.hostile + " (九)"))
        XCTAssertTrue(xLabels.contains("zero (〇)"))
        // Row-normalized shading: every diagonal cell has the same share here only if rows match,
        // so compare against the palette directly.
        let row0 = m.confusion[0], sum0 = row0.reduce(0, +)
        XCTAssertEqual(cells[0].attributes["fill"], ReportPalette.blues(Double(row0[0]) / Double(sum0)))
        XCTAssertEqual(cells[5].attributes["fill"], ReportPalette.emptyCell)     // row 0, column 5 is zero
        XCTAssertTrue(els.contains { $0.name == "rect" && $0.inside("scale") })
    }

    func testClassDistributionBars() {
        let d = fullData()
        let labels = (0..<10).map { d.displayName($0) }
        let els = ReportXMLCollector.parse(ReportPlots.classDistribution(d.classCounts, labels: labels, modelName: d.modelName))
        let bars = els.filter { $0.name == "rect" && $0.classes.contains("bar") }
        XCTAssertEqual(bars.count, 30)
        // Bar heights are proportional to the counts within a split.
        let h = bars.map { Double($0.attributes["height"]!)! }
        XCTAssertEqual(h[9] / h[0], 5090.0 / 5000.0, accuracy: 0.01)
        XCTAssertEqual(bars.filter { $0.attributes["fill"] == ReportPalette.color(split: "val") }.count, 10)
        let texts = els.filter { $0.name == "text" }.map { $0.text }
        for s in ["train", "val", "test"] { XCTAssertTrue(texts.contains(s), "legend \(s)") }
    }

    func testSamplesGridEmbedsDecodablePNGs() throws {
        let d = fullData()
        let labels = (0..<10).map { d.displayName($0) }
        let s = samples()
        let els = ReportXMLCollector.parse(try ReportPlots.samplesGrid(s, labels: labels, modelName: d.modelName))
        let images = els.filter { $0.name == "image" }
        XCTAssertEqual(images.count, s.count)
        for (img, sample) in zip(images, s) {
            let href = try XCTUnwrap(img.attributes["href"])
            XCTAssertTrue(href.hasPrefix("data:image/png;base64,"))
            let bytes = try XCTUnwrap(Data(base64Encoded: String(href.dropFirst("data:image/png;base64,".count))))
            let decoded = try PNG.decode([UInt8](bytes), file: "sample")
            XCTAssertEqual(decoded.pixels, sample.pixels)
            XCTAssertEqual(decoded.channels, sample.channels)
        }
        let wrong = els.filter { $0.name == "g" && $0.classes.contains("misclassified") }
        XCTAssertEqual(wrong.count, 2)
        let redFrames = els.filter { $0.name == "rect" && $0.inside("misclassified") && $0.attributes["stroke"] == ReportPalette.wrong }
        XCTAssertEqual(redFrames.count, 2)
        let predicted = els.filter { $0.name == "text" && $0.classes.contains("predicted-label") }
        XCTAssertEqual(predicted.count, s.count)
        XCTAssertEqual(predicted.filter { $0.attributes["fill"] == ReportPalette.wrong }.count, 2)
        let trueTexts = els.filter { $0.name == "text" && $0.classes.contains("true-label") }.map { $0.text }
        guard trueTexts.count == s.count else { return XCTFail("expected \(s.count) true labels, found \(trueTexts.count)") }
        XCTAssertEqual(trueTexts[0], "true: zero (〇)")
        XCTAssertTrue(trueTexts[6].hasPrefix("true: a<b&c"))

        var bad = s
        bad[1].pixels.removeLast()
        XCTAssertThrowsError(try ReportPlots.samplesGrid(bad, labels: labels, modelName: "m"))
    }

    // MARK: writer

    func testWriterWritesEveryFile() throws {
        let dir = try tempDir() + "/nested/report"
        let d = fullData()
        let written = try ReportWriter.write(to: dir, data: d)
        let names = Set(written.map { URL(fileURLWithPath: $0).lastPathComponent })
        XCTAssertEqual(names, Set(ReportWriter.fileNames).subtracting(["reconstructions.svg"]), "every file but an autoencoder's")
        // Nothing else (no temporary files) is left in the directory.
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), names)

        for name in ["learning_curves.svg", "confusion.svg", "class_distribution.svg", "samples.svg"] {
            let text = try read(dir + "/" + name)
            let els = ReportXMLCollector.parse(text)
            XCTAssertEqual(els.first?.name, "svg", name)
            XCTAssertNotNil(els.first?.attributes["viewBox"], name)
            XCTAssertTrue(els.contains { $0.name == "title" }, name)
        }
        let curves = ReportXMLCollector.parse(try read(dir + "/learning_curves.svg"))
        XCTAssertEqual(curves.filter { $0.name == "polyline" }.count, 4)
        XCTAssertTrue(curves.contains { $0.name == "title" && $0.text.contains("model <x> & \"y\" 'z'") })
        let confusion = ReportXMLCollector.parse(try read(dir + "/confusion.svg"))
        XCTAssertEqual(confusion.filter { $0.name == "rect" && $0.inside("cells") }.count, 100)
        XCTAssertTrue(confusion.contains { $0.name == "text" && $0.text.hasPrefix("Confusion matrix — test") })
        let sampleEls = ReportXMLCollector.parse(try read(dir + "/samples.svg"))
        XCTAssertEqual(sampleEls.filter { $0.name == "image" }.count, 7)

        // CSV: header, one row per epoch, empty fields for absent validation values.
        let csv = try read(dir + "/history.csv").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(csv[0], "epoch,loss,accuracy,val_loss,val_accuracy,seconds,learning_rate")
        guard csv.count == 1 + 30 + 1 else { return XCTFail("history.csv has \(csv.count) lines, expected 32") }   // trailing newline
        XCTAssertEqual(csv.last, "")
        for (i, line) in csv[1...30].enumerated() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(f.count, 7, line)
            let e = d.history[i]
            XCTAssertEqual(Int(f[0]), e.epoch)
            XCTAssertEqual(Double(f[1]), e.loss)
            XCTAssertEqual(Double(f[2]), e.accuracy)
            XCTAssertEqual(f[3].isEmpty ? nil : Double(f[3]), e.valLoss)
            XCTAssertEqual(f[4].isEmpty ? nil : Double(f[4]), e.valAccuracy)
            XCTAssertEqual(Double(f[5])!, e.seconds, accuracy: 0.0005)
            XCTAssertEqual(Double(f[6]), e.learningRate)
        }
        XCTAssertEqual(csv[1], "1,1.0,0.5,,,1.250,0.001")
        XCTAssertEqual(csv[3], "3,0.3333333333333333,0.8333333333333334,0.3666666666666667,0.8,3.750,0.0003333333333333333")

        // HTML: UTF-8, self-contained, the tables, escaped names, the four plots inline.
        let html = try read(dir + "/report.html")
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<meta charset=\"utf-8\">"))
        XCTAssertTrue(html.contains("<h1>model &lt;x&gt; &amp; &quot;y&quot; &apos;z&apos;</h1>"))
        XCTAssertFalse(html.contains("model <x>"))
        XCTAssertEqual(html.components(separatedBy: "<table class=\"metrics overall\">").count - 1, 1)
        XCTAssertEqual(html.components(separatedBy: "<table class=\"metrics per-class\"").count - 1, 3)
        XCTAssertEqual(html.components(separatedBy: "<table class=\"confusion\"").count - 1, 3)
        XCTAssertEqual(html.components(separatedBy: "<tr class=\"macro\">").count - 1, 3)
        XCTAssertEqual(html.components(separatedBy: "<svg xmlns=").count - 1, 4)
        XCTAssertFalse(html.contains("<?xml"))
        for external in ["<script", "<link", "src=", "url(", "@import", "https://", "href=\"http"] {
            XCTAssertFalse(html.contains(external), "external resource: \(external)")
        }
        XCTAssertTrue(html.contains("九"))
        XCTAssertTrue(html.contains("a&lt;b&amp;c&quot;d&apos;e&gt;"))
        XCTAssertTrue(html.contains("mnist &amp; &lt;friends&gt;"))
        // Overall table rows: accuracy of each split as a percentage.
        for s in d.splits {
            XCTAssertTrue(html.contains("\(s.split)</td><td>\(ReportFormat.grouped(s.count))</td><td>\(ReportFormat.percent(s.accuracy))</td>"), s.split)
        }
        // Macro ROC-AUC skips the undefined class 3.
        let test = d.splits[2]
        let defined = test.rocAUC.compactMap { $0 }
        XCTAssertEqual(test.macroROCAUC!, defined.reduce(0, +) / 9, accuracy: 1e-12)
        XCTAssertTrue(html.contains(ReportFormat.metric(test.macroROCAUC)))
        // Every inline SVG is well-formed XML too.
        var rest = Substring(html)
        var inline = 0
        while let start = rest.range(of: "<svg xmlns="), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            _ = ReportXMLCollector.parse(String(rest[start.lowerBound..<end.upperBound]))
            inline += 1
            rest = rest[end.upperBound...]
        }
        XCTAssertEqual(inline, 4)
    }

    func testWriterRemovesFilesTheNewDataDoesNotProduce() throws {
        let dir = try tempDir()
        try ReportWriter.write(to: dir, data: fullData())
        var evalOnly = fullData()
        evalOnly.history = []
        evalOnly.samples = []
        let written = try ReportWriter.write(to: dir, data: evalOnly)
        XCTAssertEqual(Set(written.map { URL(fileURLWithPath: $0).lastPathComponent }),
                       ["confusion.svg", "class_distribution.svg", "report.html"])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)),
                       ["confusion.svg", "class_distribution.svg", "report.html"])
        let html = try read(dir + "/report.html")
        XCTAssertFalse(html.contains("Learning curves"))
        XCTAssertEqual(html.components(separatedBy: "<svg xmlns=").count - 1, 2)
    }

    func testRenderingIsDeterministic() throws {
        let a = try ReportWriter.render(fullData())
        let b = try ReportWriter.render(fullData())
        XCTAssertEqual(a.map { $0.contents }, b.map { $0.contents })
    }

    func testInvalidDataIsRejectedBeforeWriting() throws {
        let dir = try tempDir()
        func expectError(_ mutate: (inout ReportData) -> Void, _ fragment: String, line: UInt = #line) {
            var d = fullData()
            mutate(&d)
            XCTAssertThrowsError(try ReportWriter.write(to: dir, data: d), line: line) { error in
                XCTAssertTrue(error is ReportError, line: line)
                XCTAssertTrue("\(error)".contains(fragment), "\(error)", line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir), line: line)
        }
        expectError({ $0.splits[1].confusion.removeLast() }, "split 'val': confusion matrix has 9 rows, expected 10")
        expectError({ $0.splits[0].confusion[4].append(1) }, "confusion row 4 has 11 columns, expected 10")
        expectError({ $0.splits[2].rocAUC = [] }, "split 'test': rocAUC has 0 values, expected 10")
        expectError({ $0.classCounts[0].counts.removeLast() }, "class counts of split 'train' have 9 values, expected 10")
        expectError({ $0.samples[3].pixels.removeLast() }, "sample 3 is 28x28x1 = 784 bytes, but has 783 pixel bytes")
        expectError({ $0.samples[0].predictedLabel = 10 }, "sample 0 has true label 0 and predicted label 10, expected 0...9")
        expectError({ $0.samples[0].channels = 4 }, "sample 0 has 4 channels, expected 1 or 3")
        expectError({ $0.nativeClassNames = ["x"] }, "nativeClassNames has 1 names, expected 10")
        expectError({ $0.classNames = [] }, "classNames is empty")
        expectError({ $0.heatMapSplit = "holdout" }, "heatMapSplit is 'holdout'")
    }

    func testWriterReportsAPathThatIsAFile() throws {
        let dir = try tempDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/plain"
        try ReportWriter.writeAtomically(Array("x".utf8), to: file)
        XCTAssertEqual(try read(file), "x")
        XCTAssertThrowsError(try ReportWriter.write(to: file, data: fullData())) {
            XCTAssertTrue("\($0)".contains("\(file): error: exists and is not a directory"), "\($0)")
        }
        XCTAssertThrowsError(try ReportWriter.writeAtomically([1], to: dir + "/missing/x.svg")) {
            XCTAssertTrue("\($0)".contains("\(dir)/missing/x.svg: error: directory \(dir)/missing does not exist"), "\($0)")
        }
    }

    func testHeatMapSplitSelection() {
        var d = fullData()
        XCTAssertEqual(d.heatMapMetrics?.split, "test")
        d.heatMapSplit = "train"
        XCTAssertEqual(d.heatMapMetrics?.split, "train")
        d.heatMapSplit = nil
        d.splits.removeLast()
        XCTAssertEqual(d.heatMapMetrics?.split, "val")
    }

    /// The tables with a row per split (overall metrics; an autoencoder's reconstruction error):
    /// the swatch and escaped name of the split, its grouped count, then the formatted measures.
    func testPerSplitTablesMarkup() {
        let m = ReportSplitMetrics(split: "te<st", count: 12345, accuracy: 0.75, loss: 0.5, precision: [1, 0.5], recall: [0.5, 1],
                                   f1: [0.6, 0.7], rocAUC: [0.9, nil], confusion: [[2, 1], [0, 1]])
        let page = ReportHTML.page(ReportData(modelName: "m", classNames: ["a", "b"], splits: [m]), learningCurves: nil,
                                   confusion: nil, distribution: nil, samples: nil)
        let overall = page.components(separatedBy: "<h2 id=\"overall\">Overall metrics</h2>\n")[1].components(separatedBy: "</table>\n")[0]
        XCTAssertEqual(overall, """
            <table class="metrics overall">
            <thead><tr><th class="name">split</th><th>examples</th><th>accuracy</th><th>loss</th><th>macro precision</th><th>macro recall</th><th>macro F1</th><th>macro ROC-AUC</th></tr></thead>
            <tbody>
            <tr><td class="name"><span class="swatch" style="background:#5f6b7a"></span>te&lt;st</td><td>12,345</td><td>75.00%</td><td>0.5000</td><td>0.7500</td><td>0.7500</td><td>0.6500</td><td>0.9000</td></tr>
            </tbody>

            """)
        var a = ReportData(modelName: "m", classNames: ["a", "b"])
        a.reconstructionErrors = [ReportReconstructionError(split: "val", count: 7, mse: 0.0025, mae: 0.04)]
        let ae = ReportHTML.page(a, learningCurves: nil, confusion: nil, distribution: nil, samples: nil)
        let errors = ae.components(separatedBy: "<h2 id=\"reconstruction\">Reconstruction error</h2>\n")[1].components(separatedBy: "</table>\n")[0]
        XCTAssertEqual(errors, """
            <table class="metrics reconstruction">
            <thead><tr><th class="name">split</th><th>examples</th><th>MSE per value</th><th>MAE per value</th><th>RMSE</th></tr></thead>
            <tbody>
            <tr><td class="name"><span class="swatch" style="background:#e8710a"></span>val</td><td>7</td><td>0.002500</td><td>0.040000</td><td>0.050000</td></tr>
            </tbody>

            """)
    }
}
