// The error of the report code: inconsistent report data (file nil) or a failed write (file set).

public struct ReportError: Error, CustomStringConvertible, Sendable {
    /// The file being written, or nil when the problem is in the report data itself.
    public let file: String?
    public let message: String
    public init(file: String? = nil, _ message: String) { self.file = file; self.message = message }
    public var description: String { file.map { "\($0): error: \(message)" } ?? "report: error: \(message)" }
}
