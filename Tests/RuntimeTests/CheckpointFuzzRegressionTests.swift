// Replays the checkpoint fuzzing corpus (Tests/Fuzz/seeds/checkpoint and
// Tests/Fuzz/regressions/checkpoint, see Tests/Fuzz/README.md) through the harness's entry point:
// every file must decode or be refused with a RuntimeError; a crash fails the test run.
import Foundation
import XCTest
@testable import ModelcRuntime
import ModelcFuzz

final class CheckpointFuzzRegressionTests: XCTestCase {
    static func corpus(_ kind: String) -> [String] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/\(kind)/checkpoint").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
    }

    func testSeedCheckpointsDecode() throws {
        let files = Self.corpus("seeds")
        XCTAssertGreaterThanOrEqual(files.count, 2)
        for f in files {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: f)))
            // Valid seeds decode both as they are and with the header recomputed.
            XCTAssertEqual(CheckpointFuzzEntry.run(bytes), 2, f)
            // One flipped payload byte: refused by the CRC as is (the entry point must not crash
            // on the re-headered variant either).
            var bad = bytes
            bad[bad.count / 2] ^= 0x5A
            XCTAssertThrowsError(try Checkpoint.decode(bad, file: f)) { e in
                XCTAssertTrue("\(e)".contains("CRC-32"), "\(e)")
            }
            XCTAssertLessThanOrEqual(CheckpointFuzzEntry.run(bad), 1, f)
        }
    }

    func testRegressionCheckpointsReplay() throws {
        for f in Self.corpus("regressions") {
            _ = CheckpointFuzzEntry.run([UInt8](try Data(contentsOf: URL(fileURLWithPath: f))))
        }
    }
}
