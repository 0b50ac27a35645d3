// A big model's emitted file in extensions of whole layers, and the build driver's cut of it
// into one file per core (SourceParts.swift): every piece compiled exactly once, the values the
// kernels specialize on in every file, the work shared out evenly.

import XCTest
import Foundation
import ModelcCore
@testable import ModelcBackend

final class SourcePartsTests: XCTestCase {
    private func emitted(_ model: String) throws -> String { Emitter.emit(try zooModel(model), fuse: true).source }

    /// The calls ModelClassWriter finds in emitted text (which functions are reached, which
    /// steps are written in place): identifiers directly followed by '(' only.
    func testCalledNamesAreTheIdentifiersBeforeAParenthesis() {
        XCTAssertEqual(ModelClassWriter.calledNames("l1_conv_forward(lo, hi, t); Gemm.rows(a, b) // l2_pool (not a call)\nlet x = f2(g_3(1))"),
                       ["l1_conv_forward", "rows", "f2", "g_3"])
        XCTAssertEqual(ModelClassWriter.calledNames("(x) + y[0] ("), [])
        XCTAssertEqual(ModelClassWriter.calledNames("a_b("), ["a_b"])
    }

    func testSmallModelStaysOneClassAndOneFile() throws {
        let source = try emitted("seed001_mlp_128_64_relu_adam")
        XCTAssertFalse(source.contains("\nextension "))
        XCTAssertEqual(SourceParts.files(source, file: "m.swift", count: 2), [source])
    }

    func testBigModelKeepsEachLayerInOneExtension() throws {
        let pieces = SourceParts.pieces(try emitted("seed002_mnist_cnn"))
        XCTAssertGreaterThan(pieces.count, 3)
        XCTAssertTrue(pieces[0].text.contains("public final class Seed002MnistCnn"))
        XCTAssertEqual(pieces.filter(\.isShared).count, 1)
        // l<index>_<name><Role>: every layer's functions sit in one piece
        var owner: [String: Int] = [:]
        let function = try NSRegularExpression(pattern: #"func (l\d+)_"#)
        for (k, piece) in pieces.map(\.text).enumerated() {
            for match in function.matches(in: piece, range: NSRange(piece.startIndex..., in: piece)) {
                let layer = (piece as NSString).substring(with: match.range(at: 1))
                XCTAssertEqual(owner[layer, default: k], k, "\(layer)'s functions are in pieces \(owner[layer]!) and \(k)")
                owner[layer] = k
            }
        }
        XCTAssertGreaterThan(Set(owner.values).count, 2)
    }

    func testFilesHoldEveryPieceOnceAndTheSharedValuesEverywhere() throws {
        let source = try emitted("seed002_mnist_cnn")
        let pieces = SourceParts.pieces(source)
        XCTAssertEqual(pieces.map(\.text).joined(separator: "\n"), source)
        let files = SourceParts.files(source, file: "generated/Seed002MnistCnn.swift", count: 2)
        XCTAssertEqual(files.count, 2)
        XCTAssertTrue(files[0].contains("public final class Seed002MnistCnn"))
        XCTAssertTrue(files[1].hasPrefix("import ModelcRuntime\n"))
        for piece in pieces.dropFirst() {
            let copies = files.filter { $0.contains(piece.text) }.count
            XCTAssertEqual(copies, piece.isShared ? 2 : 1, String(piece.text.prefix(120)))
        }
        let work = files.map(SourceParts.weight)
        XCTAssertLessThan(Double(work.max()!) / Double(work.min()!), 1.3, "unbalanced: \(work)")
    }

    /// After each `#sourceLocation(file:line: N)` the files read as the emitted file from line N.
    func testSourceLocationsPointIntoTheEmittedFile() throws {
        let source = try emitted("seed002_mnist_cnn")
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let directive = "#sourceLocation(file: \"generated/Seed002MnistCnn.swift\", line: "
        var checked = 0
        for file in SourceParts.files(source, file: "generated/Seed002MnistCnn.swift", count: 3) {
            var at: Int? = nil
            for line in file.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(directive) {
                    at = Int(line.dropFirst(directive.count).dropLast())
                    XCTAssertNotNil(at, String(line))
                    continue
                }
                guard let n = at else { continue }
                XCTAssertEqual(String(line), String(lines[n - 1]), "line \(n)")
                at = n + 1; checked += 1
            }
        }
        XCTAssertGreaterThan(checked, lines.count)   // every line at least once, the shared ones more
    }

    func testOneCoreOrNoExtensionsKeepsTheFile() {
        let text = "import ModelcRuntime\n\npublic final class A {\n}\n\n// A's f\nextension A {\n    func f() {}\n}\n"
        XCTAssertEqual(SourceParts.files(text, file: "m.swift", count: 1), [text])
        XCTAssertEqual(SourceParts.files("import ModelcRuntime\nfinal class B {}\n", file: "m.swift", count: 4).count, 1)
        let two = SourceParts.files(text, file: "a \"b\".swift", count: 8)
        XCTAssertEqual(two.count, 2)
        XCTAssertEqual(two[1], "import ModelcRuntime\n#sourceLocation(file: \"a \\\"b\\\".swift\", line: 6)\n// A's f\nextension A {\n    func f() {}\n}\n")
    }

    func testUnreadableGeneratedFileIsNamedInTheError() {
        let missing = NSTemporaryDirectory() + "modelc-missing-\(getpid())/Model.swift"
        XCTAssertThrowsError(try BuildDriver.modelSources(missing, className: "Model", in: URL(fileURLWithPath: NSTemporaryDirectory()))) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(missing): cannot read the generated model: "), "\(error)")
        }
    }

    func testWeightCountsCodeFromTheFirstFunction() {
        XCTAssertEqual(SourceParts.weight("final class A {\n    var a: Int { 1 }\n    // note\n    func f() {\n\n        g()\n    }\n}"), 4)
    }
}
