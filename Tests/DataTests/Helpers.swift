import Foundation
import XCTest
@testable import ModelcData

/// Tests/Fixtures/data/<rel>
func fixture(_ rel: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/data").appendingPathComponent(rel).path
}

/// A fresh temporary directory for one test.
func tempDir() -> String {
    let d = NSTemporaryDirectory() + "modelc-data-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

func bytes(_ path: String) -> [UInt8] { (try? FileIO.read(path: path)) ?? [] }

/// Asserts that `body` throws a DataError whose description contains every fragment.
func assertDataError<T>(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch let e as DataError {
        for f in fragments where !e.description.contains(f) {
            XCTFail("error '\(e.description)' does not contain '\(f)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected DataError, got \(error)", file: file, line: line)
    }
}
