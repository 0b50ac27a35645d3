// Tar archives (POSIX ustar, GNU and pax; raw or gzip), read from memory: 512-byte headers with
// their checksums verified, sizes in octal or GNU base-256, the ustar name prefix, pax 'path'
// and 'size' records and GNU long names ('L') applied to the next entry, global pax headers,
// directories, links and devices listed but not files. Every declared size is checked against
// the bytes present before it is used, and the number of entries is bounded.

public struct TarEntry: Sendable, Equatable {
    public let name: String
    /// Offset of the entry's data in the (decompressed) archive, and its length.
    public let offset: Int
    public let size: Int
    /// A regular file (type '0' or NUL); directories, links and devices are not.
    public let isFile: Bool
}

public enum Tar {
    /// Most entries one archive may hold.
    public static let maxEntries = 100_000
    /// Largest pax or GNU long-name record read into a string (bytes).
    public static let maxMetadataBytes = 1 << 20

    /// A whole archive in memory (gunzipped when it starts with the gzip magic) and its entries.
    public static func read(path: String, maxBytes: Int = DataLimits.maxDecompressedBytes) throws -> (bytes: [UInt8], entries: [TarEntry]) {
        var b = try FileIO.read(path: path)
        if Gzip.isGzip(b) { b = try Gzip.decompress(b, file: path, maxOutput: maxBytes) }
        return (b, try entries(b, file: path))
    }

    /// The entries of an uncompressed archive, in order.
    public static func entries(_ b: [UInt8], file: String) throws -> [TarEntry] {
        var out: [TarEntry] = []
        var p = 0
        var pending = TarPendingNames()
        while p + 512 <= b.count {
            if b[p..<(p + 512)].allSatisfy({ $0 == 0 }) { return out }   // end-of-archive block
            let h = try TarHeader(b, at: p, file: file)
            let dataStart = p + 512
            let metadata = [UInt8(ascii: "x"), UInt8(ascii: "L"), UInt8(ascii: "g"), UInt8(ascii: "K")].contains(h.type)
            let size = metadata ? h.size : pending.size ?? h.size
            guard size <= b.count - dataStart else {
                throw DataError(file: file, offset: p + 124, message: "tar entry '\(h.name)' declares \(size) bytes but only \(b.count - dataStart) remain")
            }
            switch h.type {
            case UInt8(ascii: "x"), UInt8(ascii: "L"):
                guard size <= maxMetadataBytes else {
                    throw DataError(file: file, offset: p + 124, message: "tar \(h.type == UInt8(ascii: "x") ? "pax" : "GNU long-name") record of \(size) bytes exceeds the limit of \(maxMetadataBytes)")
                }
                try pending.take(h.type, b[dataStart..<(dataStart + size)], at: dataStart, file: file)
            case UInt8(ascii: "g"), UInt8(ascii: "K"):
                break   // global pax settings and GNU long link names do not name entries
            default:
                guard out.count < maxEntries else {
                    throw DataError(file: file, offset: p, message: "tar archive holds more than \(maxEntries) entries")
                }
                let isFile = h.type == UInt8(ascii: "0") || h.type == 0 || h.type == UInt8(ascii: "7")
                out.append(TarEntry(name: pending.name ?? h.name, offset: dataStart, size: isFile ? size : 0, isFile: isFile))
                pending = TarPendingNames()
            }
            p = dataStart + (size + 511) / 512 * 512
            guard p <= b.count else {
                throw DataError(file: file, offset: b.count, message: "tar archive ends inside the 512-byte padding after entry '\(h.name)' (truncated)")
            }
        }
        if p < b.count || b.count == 0 {
            throw DataError(file: file, offset: p, message: "tar archive ends inside a header block: expected 512 bytes, found \(b.count - p)")
        }
        return out   // no end-of-archive blocks: tolerated, as GNU tar does with a warning
    }
}

/// Names and sizes announced by a pax header ('x') or a GNU long name ('L') for the next entry.
private struct TarPendingNames {
    var name: String?
    var size: Int?

    mutating func take(_ type: UInt8, _ data: ArraySlice<UInt8>, at offset: Int, file: String) throws {
        if type == UInt8(ascii: "L") {
            name = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
            return
        }
        // pax records: "LENGTH KEY=VALUE\n", LENGTH counting the whole record
        var p = data.startIndex
        while p < data.endIndex {
            guard let space = data[p...].firstIndex(of: 0x20),
                  let length = Int(String(decoding: data[p..<space], as: UTF8.self)), length > space - p, p + length <= data.endIndex,
                  data[p + length - 1] == 0x0A, let eq = data[(space + 1)..<(p + length)].firstIndex(of: 0x3D) else {
                throw DataError(file: file, offset: offset + (p - data.startIndex), message: "malformed pax record: expected 'LENGTH KEY=VALUE\\n'")
            }
            let key = String(decoding: data[(space + 1)..<eq], as: UTF8.self)
            let value = String(decoding: data[(eq + 1)..<(p + length - 1)], as: UTF8.self)
            if key == "path" { name = value }
            if key == "size" {
                guard let s = Int(value), s >= 0 else {
                    throw DataError(file: file, offset: offset + (p - data.startIndex), message: "pax size '\(value)' is not a non-negative integer")
                }
                size = s
            }
            p += length
        }
    }
}

/// One checked 512-byte header block.
private struct TarHeader {
    let name: String
    let size: Int
    let type: UInt8

    init(_ b: [UInt8], at p: Int, file: String) throws {
        let stored = try Self.number(b, p + 148, 8, file: file, what: "header checksum")
        var unsigned = 0, signed = 0
        for i in 0..<512 {
            let v = (148..<156).contains(i) ? 0x20 : b[p + i]
            unsigned += Int(v); signed += Int(Int8(bitPattern: v))
        }
        guard stored == unsigned || stored == signed else {
            throw DataError(file: file, offset: p + 148, message: "tar header checksum mismatch: stored \(stored), computed \(unsigned) (not a tar archive, or a damaged one)")
        }
        size = try Self.number(b, p + 124, 12, file: file, what: "entry size")
        type = b[p + 156]
        func text(_ at: Int, _ n: Int) -> String { String(decoding: b[(p + at)..<(p + at + n)].prefix { $0 != 0 }, as: UTF8.self) }
        let base = text(0, 100)
        // POSIX ustar ("ustar\0") splits long names into a prefix; GNU's "ustar  \0" has no prefix
        let posix = Array(b[(p + 257)..<(p + 263)]) == Array("ustar\0".utf8)
        let prefix = posix ? text(345, 155) : ""
        name = prefix.isEmpty ? base : prefix + "/" + base
    }

    /// An octal field (spaces and NULs around the digits), or a GNU base-256 one (high bit set).
    static func number(_ b: [UInt8], _ at: Int, _ n: Int, file: String, what: String) throws -> Int {
        let field = b[at..<(at + n)]
        if let first = field.first, first & 0x80 != 0 {
            var v = Int(first & 0x3F)
            for c in field.dropFirst() {
                guard v < (1 << 53) else { throw DataError(file: file, offset: at, message: "tar \(what) in base-256 is too large") }
                v = v << 8 | Int(c)
            }
            return v
        }
        let digits = field.drop { $0 == 0x20 || $0 == 0 }.prefix { $0 >= 0x30 && $0 <= 0x37 }
        let rest = field.drop { $0 == 0x20 || $0 == 0 }.dropFirst(digits.count)
        guard !digits.isEmpty || rest.isEmpty, rest.allSatisfy({ $0 == 0x20 || $0 == 0 }) else {
            throw DataError(file: file, offset: at, message: "tar \(what): expected octal digits, found '\(String(decoding: field.map { $0 >= 0x20 && $0 < 0x7F ? $0 : 0x3F }, as: UTF8.self))'")
        }
        return digits.reduce(0) { $0 * 8 + Int($1 - 0x30) }
    }
}
