// Replays the model-file fuzzing corpus (Tests/Fuzz/seeds/model and Tests/Fuzz/regressions/model,
// see Tests/Fuzz/README.md) through the fuzzing entry point: every file must give a report or a
// ModelError (the entry point returns either way); a crash or hang fails the whole test run.
import XCTest
@testable import ModelcCore
import ModelcFuzz

final class FuzzRegressionTests: XCTestCase {
    static func corpus(_ kind: String) -> [String] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/\(kind)/model").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
    }

    func replay(_ kind: String, atLeast minimum: Int) throws {
        let files = Self.corpus(kind)
        XCTAssertGreaterThanOrEqual(files.count, minimum, "Tests/Fuzz/\(kind)/model")
        for f in files {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: f)))
            let decoded = FrontendFuzzEntry.run(bytes, path: "fuzz.md")
            // The entry point must agree with the public API: a report exactly when check succeeds.
            let viaAPI = (try? Frontend.check(text: String(decoding: bytes, as: UTF8.self), path: "fuzz.md")) != nil
            XCTAssertEqual(decoded, viaAPI, f)
            // Reports stay proportionate to the input (a 2 KB file once produced 8 MB of class names).
            if let r = try? Frontend.check(text: String(decoding: bytes, as: UTF8.self), path: "fuzz.md") {
                XCTAssertLessThan(r.text().utf8.count + r.json().utf8.count, 64 * bytes.count + 65536, f)
            }
        }
    }

    func testSeedCorpusReplaysCleanly() throws {
        try replay("seeds", atLeast: 100)
        // Sanity: the corpus holds real, valid models (not only rejected input).
        let good = Self.corpus("seeds").filter { $0.hasSuffix("models_seed002_mnist_cnn.md") }
        XCTAssertEqual(good.count, 1)
        XCTAssertTrue(FrontendFuzzEntry.run([UInt8](try Data(contentsOf: URL(fileURLWithPath: good[0])))))
    }

    func testRegressionCorpusReplaysCleanly() throws {
        try replay("regressions", atLeast: 1)
    }
}
