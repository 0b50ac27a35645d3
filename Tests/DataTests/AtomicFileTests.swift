import Foundation
import XCTest
@testable import ModelcData

final class AtomicFileTests: XCTestCase {
    func testWriteReplaceAndNoTempLeft() throws {
        let d = tempDir()
        let p = d + "/out.bin"
        try AtomicFile.write([1, 2, 3], to: p)
        XCTAssertEqual(try FileIO.read(path: p), [1, 2, 3])
        try AtomicFile.write([UInt8](repeating: 9, count: 100_000), to: p)
        XCTAssertEqual(try FileIO.read(path: p).count, 100_000)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: d), ["out.bin"])
    }

    func testErrorsNameThePath() {
        assertDataError(["/nonexistent-dir/x.npz", "directory /nonexistent-dir does not exist"]) {
            try AtomicFile.write([1], to: "/nonexistent-dir/x.npz")
        }
        let d = tempDir()
        try? FileManager.default.createDirectory(atPath: d + "/sub", withIntermediateDirectories: true)
        // Renaming a file over a non-empty directory fails; the old directory is untouched.
        _ = FileManager.default.createFile(atPath: d + "/sub/keep", contents: Data([1]))
        assertDataError([d + "/sub", "rename"]) { try AtomicFile.write([1], to: d + "/sub") }
        XCTAssertTrue(FileIO.exists(d + "/sub/keep"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: d), ["sub"])
    }

    func testReadLimit() {
        assertDataError([fixture("npz/f4.npy"), "larger than the limit of 10 bytes"]) { try FileIO.read(path: fixture("npz/f4.npy"), maxBytes: 10) }
    }
}
