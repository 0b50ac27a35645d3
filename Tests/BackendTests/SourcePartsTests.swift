// A big model's emitted file in extensions of whole layers, and the build driver's cut of it
// into one file per core (SourceParts.swift): every piece compiled exactly once, the values the
// kernels specialize on in every file, the work shared out evenly.

import XCTest
import Foundation
import ModelcCore
@testable import ModelcBackend

final class SourcePartsTests: XCTestCase {
    private func emitted(_ model: String) throws -> String {
        let report = try Frontend.check(path: GeneratedFilesTests.repo + "/models/\(model).md")
        XCTAssertTrue(report.ok, "\(model) does not check")
        return Emitter.emit(report.ir, fuse: true).source
    }

    func testSmallModelStaysOneClassAndOneFile() throws {
        let source = try emitted("seed001_mlp_128_64_relu_adam")
        XCTAssertFalse(source.contains("\nextension "))
        XCTAssertEqual(SourceParts.files(source, count: 2), [source])
    }

    func testBigModelKeepsEachLayerInOneExtension() throws {
        let pieces = SourceParts.pieces(try emitted("seed002_mnist_cnn"))
        XCTAssertGreaterThan(pieces.count, 3)
        XCTAssertTrue(pieces[0].contains("public final class Seed002MnistCnn"))
        XCTAssertEqual(pieces.filter(SourceParts.isShared).count, 1)
        // l<index>_<name><Role>: every layer's functions sit in one piece
        var owner: [String: Int] = [:]
        let function = try NSRegularExpression(pattern: #"func (l\d+)_"#)
        for (k, piece) in pieces.enumerated() {
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
        XCTAssertEqual(pieces.joined(separator: "\n"), source)
        let files = SourceParts.files(source, count: 2)
        XCTAssertEqual(files.count, 2)
        XCTAssertTrue(files[0].contains("public final class Seed002MnistCnn"))
        XCTAssertTrue(files[1].hasPrefix("import ModelcRuntime\n"))
        for piece in pieces where piece.hasPrefix("extension ") || piece.hasPrefix("fileprivate extension ") {
            let copies = files.filter { $0.contains(piece) }.count
            XCTAssertEqual(copies, SourceParts.isShared(piece) ? 2 : 1, String(piece.prefix(120)))
        }
        let work = files.map(SourceParts.weight)
        XCTAssertLessThan(Double(work.max()!) / Double(work.min()!), 1.3, "unbalanced: \(work)")
    }

    func testOneCoreOrNoExtensionsKeepsTheFile() {
        let text = "import ModelcRuntime\n\npublic final class A {\n}\n\nextension A {\n    func f() {}\n}\n"
        XCTAssertEqual(SourceParts.files(text, count: 1), [text])
        XCTAssertEqual(SourceParts.files("import ModelcRuntime\nfinal class B {}\n", count: 4).count, 1)
        let two = SourceParts.files(text, count: 8)
        XCTAssertEqual(two.count, 2)
        XCTAssertEqual(two[1], "import ModelcRuntime\n\nextension A {\n    func f() {}\n}\n")
    }

    func testWeightCountsCodeFromTheFirstFunction() {
        XCTAssertEqual(SourceParts.weight("final class A {\n    var a: Int { 1 }\n    // note\n    func f() {\n\n        g()\n    }\n}"), 4)
    }
}
