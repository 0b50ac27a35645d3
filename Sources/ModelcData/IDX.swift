// IDX files (the MNIST format), raw or gzip: big-endian magic 00 00 TYPE NDIMS, NDIMS
// big-endian UInt32 dimensions, then the data in C order (big-endian for multi-byte types).
// Type codes: 08 ubyte, 09 sbyte, 0B int16, 0C int32, 0D float32, 0E float64.
// The declared dimensions are checked against the data actually present before anything is
// allocated from them.

public enum IDX {
    public enum ElementType: UInt8, Sendable {
        case ubyte = 0x08, sbyte = 0x09, int16 = 0x0B, int32 = 0x0C, float32 = 0x0D, float64 = 0x0E
        public var size: Int {
            switch self {
            case .ubyte, .sbyte: return 1
            case .int16: return 2
            case .int32, .float32: return 4
            case .float64: return 8
            }
        }
    }

    /// Reads an IDX file (gzip detected by its magic bytes). Returns the dimensions and the raw
    /// data bytes as stored (big-endian for multi-byte element types).
    public static func read(path: String) throws -> (dims: [Int], bytes: [UInt8]) {
        let r = try readTyped(path: path)
        return (r.dims, r.bytes)
    }

    public static func readTyped(path: String, maxBytes: Int = DataLimits.maxDecompressedBytes) throws -> (type: ElementType, dims: [Int], bytes: [UInt8]) {
        var b = try FileIO.read(path: path)
        if Gzip.isGzip(b) {
            // Check the header inside the gzip stream first? The decompressed size is bounded
            // by maxBytes and the declared dims are checked against it below.
            b = try Gzip.decompress(b, file: path, maxOutput: maxBytes)
        }
        return try decode(b, file: path)
    }

    /// Parses an uncompressed IDX file held in memory.
    public static func decode(_ b: [UInt8], file: String) throws -> (type: ElementType, dims: [Int], bytes: [UInt8]) {
        guard b.count >= 4 else {
            throw DataError(file: file, offset: 0, message: "not an IDX file: \(b.count) bytes, expected at least a 4-byte magic number")
        }
        if b[0] != 0 || b[1] != 0 {
            throw DataError(file: file, offset: 0, message: "not an IDX file: expected magic 00 00 TYPE NDIMS (e.g. 00 00 08 03), found \(b[0..<4].map { hex8($0) }.joined(separator: " "))")
        }
        guard let type = ElementType(rawValue: b[2]) else {
            throw DataError(file: file, offset: 2, message: "unknown IDX element type 0x\(hex8(b[2])) (expected 08, 09, 0b, 0c, 0d or 0e)")
        }
        let ndims = Int(b[3])
        if ndims == 0 {
            throw DataError(file: file, offset: 3, message: "IDX file declares 0 dimensions")
        }
        let dataStart = 4 + 4 * ndims
        guard b.count >= dataStart else {
            throw DataError(file: file, offset: b.count, message: "IDX header declares \(ndims) dimensions (\(dataStart) header bytes) but the file has only \(b.count) bytes")
        }
        var dims: [Int] = []
        for d in 0..<ndims {
            let p = 4 + 4 * d
            dims.append(Int(b[p]) << 24 | Int(b[p + 1]) << 16 | Int(b[p + 2]) << 8 | Int(b[p + 3]))
        }
        let available = b.count - dataStart
        guard let n = checkedProduct(dims, limit: DataLimits.maxElements) else {
            throw DataError(file: file, offset: 4, message: "IDX dimensions \(dims) exceed \(DataLimits.maxElements) elements; the file has \(available) data bytes")
        }
        let need = n * type.size
        if need != available {
            throw DataError(file: file, offset: dataStart, message: "IDX dimensions \(dims) need \(need) data bytes, found \(available)\(need > available ? " (file truncated or dimensions wrong)" : " (extra bytes after the data)")")
        }
        return (type, dims, Array(b[dataStart...]))
    }

    /// Encodes an IDX file (raw) for ubyte data.
    public static func encode(dims: [Int], bytes: [UInt8], type: ElementType = .ubyte) throws -> [UInt8] {
        guard !dims.isEmpty, dims.count < 256, dims.allSatisfy({ $0 >= 0 && $0 <= Int(UInt32.max) }),
              let n = checkedProduct(dims, limit: DataLimits.maxElements), n * type.size == bytes.count else {
            throw DataError(file: "idx", message: "cannot encode IDX: dims \(dims) do not match \(bytes.count) bytes")
        }
        var out: [UInt8] = [0, 0, type.rawValue, UInt8(dims.count)]
        for d in dims { out += [UInt8((d >> 24) & 0xFF), UInt8((d >> 16) & 0xFF), UInt8((d >> 8) & 0xFF), UInt8(d & 0xFF)] }
        out += bytes
        return out
    }

    /// Writes an IDX file atomically; gzip-wrapped (stored deflate blocks) if `gzip` is true.
    public static func write(dims: [Int], bytes: [UInt8], to path: String, gzip: Bool = false) throws {
        let raw = try encode(dims: dims, bytes: bytes)
        try AtomicFile.write(gzip ? Gzip.compressStored(raw) : raw, to: path)
    }
}
