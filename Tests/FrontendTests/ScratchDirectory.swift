// A test's own scratch directory (model files with their FILE.modelc sidecars).

import XCTest
import Foundation

extension XCTestCase {
    /// A new empty directory under the temporary one, removed when the test ends.
    func scratchDirectory(_ prefix: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }
}
