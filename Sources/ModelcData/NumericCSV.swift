// Numeric CSV: one example per line, comma-separated finite numbers, every line as many as
// the first; an optional header line (read as one when a field of the first line is not a
// number). A UTF-8 BOM, CRLF line ends, blank lines and fields wrapped in double quotes are
// accepted; nothing else (no quoted commas, no missing values: "expected a number" names the
// line and column).
//
// Limits before allocating: the value count is bounded by the file size (every value takes at
// least two bytes with its separator) and by `maxValues`, and a field by `maxFieldBytes`.

public enum NumericCSV {
    public struct Table: Sendable, Equatable {
        /// The header's column names, if the file has a header line.
        public var header: [String]?
        public var rows: Int
        public var columns: Int
        /// Row-major values, rows x columns.
        public var values: [Float]
        /// The 1-based file line of each row (for errors about a row's values).
        public var lines: [Int]
    }

    /// Longest field (a number longer than this is not one a user wrote).
    public static let maxFieldBytes = 64
    /// Most values in one file: 2^28 (1 GiB of floats).
    public static let maxValues = 1 << 28

    public static func read(path: String) throws -> Table {
        try decode(FileIO.read(path: path), file: path)
    }

    public static func decode(_ b: [UInt8], file: String, maxValues: Int = NumericCSV.maxValues) throws -> Table {
        var pos = 0
        if b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { pos = 3 }
        var header: [String]? = nil
        var columns = 0
        var values: [Float] = []
        values.reserveCapacity(min(b.count / 2 + 1, maxValues))
        var lines: [Int] = []
        var line = 0
        while pos < b.count {
            line += 1
            var end = pos
            while end < b.count && b[end] != 0x0A { end += 1 }
            var stop = end
            if stop > pos && b[stop - 1] == 0x0D { stop -= 1 }
            defer { pos = end + 1 }
            if stop == pos { continue }   // blank line
            let fields = try split(b, pos, stop, file: file, line: line)
            if columns == 0 {
                columns = fields.count
                let numbers = fields.map { number($0) }
                if numbers.contains(where: { $0 == nil }) {
                    header = fields.map { String(decoding: $0, as: UTF8.self) }
                    continue
                }
            }
            guard fields.count == columns else {
                throw DataError(file: file, offset: pos, message: "line \(line): expected \(columns) comma-separated values (as the first line), found \(fields.count)")
            }
            guard values.count + columns <= maxValues else {
                throw DataError(file: file, offset: pos, message: "line \(line): more than \(maxValues) values in the file (the limit)")
            }
            for (c, f) in fields.enumerated() {
                guard let v = number(f) else {
                    throw DataError(file: file, offset: pos, message: "line \(line), column \(c + 1): expected a finite number, found '\(String(decoding: f, as: UTF8.self))'")
                }
                values.append(v)
            }
            lines.append(line)
        }
        guard !lines.isEmpty else {
            throw DataError(file: file, message: header == nil ? "no rows of numbers (the file is empty)" : "a header line but no rows of numbers")
        }
        return Table(header: header, rows: lines.count, columns: columns, values: values, lines: lines)
    }

    /// The fields of b[start..<end], quotes around a field removed; every field at most maxFieldBytes.
    static func split(_ b: [UInt8], _ start: Int, _ end: Int, file: String, line: Int) throws -> [ArraySlice<UInt8>] {
        var fields: [ArraySlice<UInt8>] = []
        var i = start
        while true {
            var j = i
            while j < end && b[j] != 0x2C { j += 1 }
            var lo = i, hi = j
            while lo < hi && (b[lo] == 0x20 || b[lo] == 0x09) { lo += 1 }
            while hi > lo && (b[hi - 1] == 0x20 || b[hi - 1] == 0x09) { hi -= 1 }
            if hi - lo >= 2 && b[lo] == 0x22 && b[hi - 1] == 0x22 { lo += 1; hi -= 1 }
            guard hi - lo <= maxFieldBytes else {
                throw DataError(file: file, offset: lo, message: "line \(line), column \(fields.count + 1): a field of \(hi - lo) bytes (at most \(maxFieldBytes))")
            }
            fields.append(b[lo..<hi])
            if j >= end { break }
            i = j + 1
        }
        return fields
    }

    /// A finite decimal number (digits, sign, point, exponent; no "nan", "inf" or hex).
    static func number(_ f: ArraySlice<UInt8>) -> Float? {
        guard !f.isEmpty, f.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }),
              let d = Double(String(decoding: f, as: UTF8.self)), d.isFinite, abs(d) <= Double(Float.greatestFiniteMagnitude) else { return nil }
        return Float(d)
    }
}
