// Output of the generated binary: stdout/stderr sinks (replaceable in tests) and minimal JSON
// formatting. `train`'s progress bar is in Sources/ModelcCommands/ProgressBar.swift.

import Foundation
import ModelcData
#if canImport(Glibc)
import Glibc
#endif

public struct Console {
    public var out: (String) -> Void
    public var err: (String) -> Void
    /// Whether stderr is a terminal (progress bars are drawn only then).
    public var isTTY: Bool

    public init(out: @escaping (String) -> Void, err: @escaping (String) -> Void, isTTY: Bool) {
        self.out = out; self.err = err; self.isTTY = isTTY
    }

    public static var standard: Console {
        Console(out: { s in FileHandle.standardOutput.write(Data((s + "\n").utf8)) },
                err: { s in FileHandle.standardError.write(Data((s + "\n").utf8)) },
                isTTY: isatty(STDERR_FILENO) == 1)
    }
}

package enum JSON {
    package static func number(_ x: Double?) -> String {
        guard let x = x, x.isFinite else { return "null" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }
    package static func number(_ x: Float) -> String { number(Double(x)) }
    package static func string(_ s: String) -> String { JSONText.quoted(s) }
    /// An object from ordered (key, already-encoded value) pairs.
    package static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
    package static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
}
