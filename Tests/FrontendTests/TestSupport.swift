import XCTest
@testable import ModelcCore

/// Locates Tests/Fixtures from this file (tests never read /work/shared).
enum Fixtures {
    static var root: String {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }
    static func path(_ rel: String) -> String { root + "/" + rel }
    static func text(_ rel: String) throws -> String {
        let p = path(rel)
        guard let d = FileManager.default.contents(atPath: p) else {
            throw ModelError(file: p, line: nil, message: "fixture missing")
        }
        return String(decoding: d, as: UTF8.self)
    }
}

/// Checks `text` and fails the test with the error text when it throws.
func checkOK(_ text: String, path: String = "test.md", file: StaticString = #filePath, line: UInt = #line) -> CheckReport? {
    do {
        let r = try Frontend.check(text: text, path: path)
        return r
    } catch {
        XCTFail("unexpected error: \(error)", file: file, line: line)
        return nil
    }
}

/// Expects a ModelError whose description contains `substring`.
func checkError(_ text: String, contains substring: String, path: String = "test.md",
                file: StaticString = #filePath, line: UInt = #line) {
    do {
        let r = try Frontend.check(text: text, path: path)
        XCTFail("expected an error containing '\(substring)', got a report:\n\(r.text())", file: file, line: line)
    } catch let e as ModelError {
        XCTAssertTrue(e.description.contains(substring), "error '\(e.description)' lacks '\(substring)'", file: file, line: line)
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}

extension CheckReport {
    func layer(_ name: String) -> Layer? { ir.layers.first { $0.name == name } }
}
