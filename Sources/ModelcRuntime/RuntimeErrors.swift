// Errors raised by the runtime and the generated binary's command line.
//
// UsageError: a bad command line (unknown flag, malformed value) -> exit code 2.
// RuntimeError: a model, data, checkpoint or weights problem -> exit code 1. Like DataError it
// names the file and, where it applies, the byte offset.

public struct UsageError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "error: \(message)" }
}

public struct RuntimeError: Error, CustomStringConvertible {
    public let file: String?
    public let offset: Int?
    public let message: String
    public init(file: String? = nil, offset: Int? = nil, _ message: String) {
        self.file = file; self.offset = offset; self.message = message
    }
    public var description: String {
        switch (file, offset) {
        case let (f?, o?): return "\(f): offset \(o): \(message)"
        case let (f?, nil): return "\(f): \(message)"
        default: return message
        }
    }
}
