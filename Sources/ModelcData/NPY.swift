// NumPy .npy arrays (format versions 1, 2 and 3): the magic, the header dict
// ({'descr': ..., 'fortran_order': ..., 'shape': (...)}), then raw C-order data.
// Supported dtypes: |u1 |i1 |b1 <i2 <u2 <i4 <u4 <i8 <u8 <f4 <f8 (big-endian '>' forms are
// byte-swapped to little-endian). Fortran order and structured dtypes are rejected.

public struct NDArray: Sendable, Equatable {
    public var shape: [Int]
    /// NumPy descr, always little-endian or byte-sized after loading: "<f4", "|u1", "<i8", ...
    public var dtype: String
    /// Raw little-endian bytes in C order.
    public var data: [UInt8]

    public init(shape: [Int], dtype: String, data: [UInt8]) {
        self.shape = shape; self.dtype = dtype; self.data = data
    }

    public init(float32 values: [Float], shape: [Int]) {
        self.shape = shape
        dtype = "<f4"
        data = values.withUnsafeBytes { Array($0) }   // little-endian host
    }

    public init(uint8 values: [UInt8], shape: [Int]) {
        self.shape = shape; dtype = "|u1"; data = values
    }

    public init(int64 values: [Int64], shape: [Int]) {
        self.shape = shape
        dtype = "<i8"
        data = values.withUnsafeBytes { Array($0) }
    }

    public var count: Int { shape.reduce(1, *) }

    /// Bytes per element for a supported descr, nil otherwise.
    public static func itemSize(_ descr: String) -> Int? {
        switch descr.dropFirst() {
        case "u1", "i1", "b1": return 1
        case "i2", "u2": return 2
        case "i4", "u4", "f4": return 4
        case "i8", "u8", "f8": return 8
        default: return nil
        }
    }

    /// Values as Float (any numeric dtype; integers are converted).
    public func floats() throws -> [Float] {
        try checkSize()
        let n = count
        return data.withUnsafeBytes { r -> [Float] in
            switch dtype.dropFirst() {
            case "f4": return [Float](unsafeUninitializedCapacity: n) { b, c in
                for i in 0..<n { b[i] = r.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }; c = n }
            case "f8": return (0..<n).map { Float(r.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) }
            case "u1", "b1": return (0..<n).map { Float(r[$0]) }
            case "i1": return (0..<n).map { Float(Int8(bitPattern: r[$0])) }
            case "i2": return (0..<n).map { Float(r.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
            case "u2": return (0..<n).map { Float(r.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
            case "i4": return (0..<n).map { Float(r.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
            case "u4": return (0..<n).map { Float(r.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
            case "i8": return (0..<n).map { Float(r.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            default: return (0..<n).map { Float(r.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) }
            }
        }
    }

    /// Values as Int (integer and boolean dtypes only; a float array is an error).
    public func ints() throws -> [Int] {
        try checkSize()
        let n = count
        return try data.withUnsafeBytes { r -> [Int] in
            switch dtype.dropFirst() {
            case "u1", "b1": return (0..<n).map { Int(r[$0]) }
            case "i1": return (0..<n).map { Int(Int8(bitPattern: r[$0])) }
            case "i2": return (0..<n).map { Int(r.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
            case "u2": return (0..<n).map { Int(r.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
            case "i4": return (0..<n).map { Int(r.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
            case "u4": return (0..<n).map { Int(r.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
            case "i8": return (0..<n).map { Int(r.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            case "u8":
                var out = [Int](); out.reserveCapacity(n)
                for i in 0..<n {
                    let v = r.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                    guard v <= UInt64(Int.max) else {
                        throw DataError(file: "array", offset: 8 * i, message: "uint64 value \(v) does not fit in Int")
                    }
                    out.append(Int(v))
                }
                return out
            default:
                throw DataError(file: "array", message: "expected an integer dtype, found '\(dtype)'")
            }
        }
    }

    private func checkSize() throws {
        guard let s = NDArray.itemSize(dtype), let n = checkedProduct(shape, limit: DataLimits.maxElements),
              n * s == data.count else {
            throw DataError(file: "array", message: "array of dtype '\(dtype)' and shape \(shape) does not match its \(data.count) data bytes")
        }
    }
}

public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // "\x93NUMPY"

    public static func read(path: String) throws -> NDArray {
        try decode(FileIO.read(path: path), file: path)
    }

    /// Parses a whole .npy file held in memory.
    public static func decode(_ b: [UInt8], file: String) throws -> NDArray {
        guard b.count >= 10 else {
            throw DataError(file: file, offset: 0, message: "not a .npy file: \(b.count) bytes, expected at least 10")
        }
        if Array(b[0..<6]) != magic {
            throw DataError(file: file, offset: 0, message: "not a .npy file: expected magic \\x93NUMPY, found \(b[0..<6].map { hex8($0) }.joined(separator: " "))")
        }
        let major = Int(b[6])
        var headerLen: Int
        var p: Int
        switch major {
        case 1:
            headerLen = Int(b[8]) | Int(b[9]) << 8
            p = 10
        case 2, 3:
            guard b.count >= 12 else { throw DataError(file: file, offset: 8, message: "truncated .npy v\(major) header length") }
            headerLen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            p = 12
        default:
            throw DataError(file: file, offset: 6, message: "unsupported .npy format version \(major).\(b[7]) (expected 1, 2 or 3)")
        }
        guard p + headerLen <= b.count else {
            throw DataError(file: file, offset: p, message: "header declares \(headerLen) bytes but only \(b.count - p) remain")
        }
        let header = String(decoding: b[p..<(p + headerLen)], as: UTF8.self)
        var parser = HeaderParser(text: header, file: file, base: p)
        let dict = try parser.parseDict()
        guard case .string(var descr)? = dict["descr"] else {
            throw DataError(file: file, offset: p, message: "header has no 'descr' string (structured dtypes are not supported): \(header.trimmedWS())")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw DataError(file: file, offset: p, message: "header has no 'fortran_order' boolean")
        }
        guard case .tuple(let shape)? = dict["shape"] else {
            throw DataError(file: file, offset: p, message: "header has no 'shape' tuple")
        }
        if fortran {
            throw DataError(file: file, offset: p, message: "Fortran-order arrays are not supported; save with np.ascontiguousarray(a) (C order)")
        }
        if descr.first == "=" { descr = "<" + String(descr.dropFirst()) }
        guard descr.count == 3, "<>|".contains(descr.first!), let size = NDArray.itemSize(descr) else {
            throw DataError(file: file, offset: p, message: "unsupported dtype '\(descr)' (expected one of |u1 |i1 |b1 <i2 <u2 <i4 <u4 <i8 <u8 <f4 <f8)")
        }
        let dataStart = p + headerLen
        guard let n = checkedProduct(shape, limit: DataLimits.maxElements) else {
            throw DataError(file: file, offset: p, message: "shape \(shape) is negative or exceeds \(DataLimits.maxElements) elements")
        }
        let expected = n * size
        let found = b.count - dataStart
        if expected != found {
            throw DataError(file: file, offset: dataStart, message: "shape \(shape) of \(descr) needs \(expected) data bytes, found \(found)")
        }
        var data = Array(b[dataStart...])
        let kind = descr.dropFirst()
        if descr.first == ">" && size > 1 {
            for i in stride(from: 0, to: data.count, by: size) { data[i..<(i + size)].reverse() }
        }
        let normalized = (size == 1 ? "|" : "<") + String(kind)
        return NDArray(shape: shape, dtype: normalized, data: data)
    }

    /// Serializes an array as a version 1.0 .npy file (version 2.0 if the header is too long).
    public static func encode(_ a: NDArray) throws -> [UInt8] {
        guard let size = NDArray.itemSize(a.dtype), let n = checkedProduct(a.shape, limit: DataLimits.maxElements),
              n * size == a.data.count else {
            throw DataError(file: "array", message: "cannot write array: dtype '\(a.dtype)' shape \(a.shape) does not match \(a.data.count) data bytes")
        }
        let shapeText: String
        switch a.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(a.shape[0]),)"
        default: shapeText = "(" + a.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(a.dtype)', 'fortran_order': False, 'shape': \(shapeText), }"
        var out = magic
        let v1Total = 10 + header.utf8.count + 1
        if v1Total + 64 <= 0xFFFF + 10 {
            header += String(repeating: " ", count: (64 - v1Total % 64) % 64) + "\n"
            out += [1, 0]
            appendLE16(&out, UInt16(header.utf8.count))
        } else {
            let total = 12 + header.utf8.count + 1
            header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
            out += [2, 0]
            appendLE32(&out, UInt32(header.utf8.count))
        }
        out += Array(header.utf8)
        out += a.data
        return out
    }

    public static func write(_ a: NDArray, to path: String) throws {
        try AtomicFile.write(encode(a), to: path)
    }
}

/// The Python literal subset used in .npy headers.
enum PyValue { case string(String), bool(Bool), tuple([Int]), other }

struct HeaderParser {
    let chars: [Character]
    let file: String
    let base: Int
    var i = 0

    init(text: String, file: String, base: Int) {
        chars = Array(text); self.file = file; self.base = base
    }

    func fail(_ msg: String) -> DataError {
        DataError(file: file, offset: base + i, message: "malformed .npy header: \(msg): \(String(chars).trimmedWS())")
    }

    mutating func skipSpace() { while i < chars.count && chars[i].isWhitespace { i += 1 } }

    mutating func expect(_ c: Character) throws {
        skipSpace()
        guard i < chars.count, chars[i] == c else { throw fail("expected '\(c)'") }
        i += 1
    }

    mutating func parseDict() throws -> [String: PyValue] {
        var d: [String: PyValue] = [:]
        try expect("{")
        while true {
            skipSpace()
            if i < chars.count && chars[i] == "}" { i += 1; break }
            let key = try parseString()
            try expect(":")
            d[key] = try parseValue()
            skipSpace()
            if i < chars.count && chars[i] == "," { i += 1; continue }
            try expect("}")
            break
        }
        return d
    }

    mutating func parseString() throws -> String {
        skipSpace()
        guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { throw fail("expected a quoted string") }
        let q = chars[i]
        i += 1
        var s = ""
        while i < chars.count && chars[i] != q { s.append(chars[i]); i += 1 }
        guard i < chars.count else { throw fail("unterminated string") }
        i += 1
        return s
    }

    mutating func parseValue() throws -> PyValue {
        skipSpace()
        guard i < chars.count else { throw fail("expected a value") }
        let c = chars[i]
        if c == "'" || c == "\"" { return .string(try parseString()) }
        if c == "(" {
            i += 1
            var dims: [Int] = []
            while true {
                skipSpace()
                if i < chars.count && chars[i] == ")" { i += 1; break }
                var digits = ""
                while i < chars.count && (chars[i].isNumber || chars[i] == "L") {
                    if chars[i] != "L" { digits.append(chars[i]) }
                    i += 1
                }
                guard digits.count <= 18, let v = Int(digits) else { throw fail("expected a dimension in the shape tuple") }
                dims.append(v)
                skipSpace()
                if i < chars.count && chars[i] == "," { i += 1; continue }
                try expect(")")
                break
            }
            return .tuple(dims)
        }
        for (word, v) in [("True", true), ("False", false)] where String(chars[i..<min(chars.count, i + word.count)]) == word {
            i += word.count
            return .bool(v)
        }
        // Anything else (e.g. a structured dtype list): skip to the next top-level comma.
        var depth = 0
        while i < chars.count {
            let ch = chars[i]
            if ch == "[" || ch == "(" || ch == "{" { depth += 1 }
            if ch == "]" || ch == ")" || ch == "}" { if depth == 0 { break }; depth -= 1 }
            if ch == "," && depth == 0 { break }
            i += 1
        }
        return .other
    }
}

extension String {
    func trimmedWS() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
