// Errors for every data file modelc reads or writes: the file, the byte offset where it went
// wrong (when known), and what was expected versus found.
import Foundation

public struct DataError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let offset: Int?
    public let message: String

    public init(file: String, offset: Int? = nil, message: String) {
        self.file = file
        self.offset = offset
        self.message = message
    }

    /// "FILE: offset N: MESSAGE" or "FILE: MESSAGE".
    public var description: String {
        if let offset { return "\(file): offset \(offset): \(message)" }
        return "\(file): \(message)"
    }
}

/// Resource bounds applied before anything is allocated from a declared size.
public enum DataLimits {
    /// Largest file modelc reads into memory (bytes).
    public static let maxFileBytes = 4 << 30
    /// Default bound on decompressed output of one gzip stream or zip entry (bytes).
    public static let maxDecompressedBytes = 2 << 30
    /// Largest number of elements in one IDX / NPY array.
    public static let maxElements = 1 << 31
    /// Largest image side accepted by the PNG/PGM decoders.
    public static let maxImageSide = 1 << 14
    /// Largest image pixel count accepted by the PNG/PGM decoders.
    public static let maxImagePixels = 1 << 26
}

/// Overflow-checked product of declared dimensions; nil if it overflows or exceeds `limit`,
/// or if a dimension is negative.
package func checkedProduct(_ dims: [Int], limit: Int) -> Int? {
    var p = 1
    for d in dims {
        if d < 0 { return nil }
        let (r, o) = p.multipliedReportingOverflow(by: d)
        if o || r > limit { return nil }
        p = r
    }
    return p
}
