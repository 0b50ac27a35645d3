// ModelError: every problem with a model document, located by file and (when known) line.

import ModelcData

public struct ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file; self.line = line; self.message = message
    }

    /// "FILE:LINE: error: MESSAGE", or "FILE: error: MESSAGE" without a line.
    public var description: String {
        if let line { return "\(file):\(line): error: \(message)" }
        return "\(file): error: \(message)"
    }
}

extension ModelError {
    /// A decoder's error on a model file (.keras, .h5, .onnx): `FILE: error: offset N: ...`.
    public init(_ e: DataError) {
        self.init(file: e.file, line: nil, message: (e.offset.map { "offset \($0): " } ?? "") + e.message)
    }
}
