// Gzip (RFC 1952): header with its optional fields (FEXTRA, FNAME, FCOMMENT, FHCRC), a deflate
// body through modelc's own Inflate, and the trailer's CRC32 and ISIZE, both checked.
// Concatenated members are decompressed one after the other, as gunzip does.

public enum Gzip {
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Decompresses a whole gzip file. The output is bounded by `maxOutput`.
    public static func decompress(_ bytes: [UInt8], file: String,
                                  maxOutput: Int = DataLimits.maxDecompressedBytes) throws -> [UInt8] {
        var result: [UInt8] = []
        var pos = 0
        var member = 0
        while pos < bytes.count {
            // Trailing zero padding after the last member is tolerated (as gunzip does).
            if member > 0 && bytes[pos...].allSatisfy({ $0 == 0 }) { break }
            let (out, next) = try decodeMember(bytes, at: pos, file: file, maxOutput: maxOutput - result.count)
            if result.isEmpty { result = out } else { result.append(contentsOf: out) }
            pos = next
            member += 1
        }
        if member == 0 { throw DataError(file: file, offset: 0, message: "empty file, expected a gzip header (1f 8b)") }
        return result
    }

    static func decodeMember(_ b: [UInt8], at start: Int, file: String, maxOutput: Int) throws -> ([UInt8], Int) {
        func need(_ n: Int, _ p: Int, _ what: String) throws {
            if p + n > b.count {
                throw DataError(file: file, offset: p, message: "gzip data ends inside the \(what): expected \(n) bytes, found \(b.count - p)")
            }
        }
        try need(10, start, "header")
        if b[start] != 0x1F || b[start + 1] != 0x8B {
            throw DataError(file: file, offset: start, message: "not gzip: expected magic 1f 8b, found \(hex8(b[start])) \(hex8(b[start + 1]))")
        }
        if b[start + 2] != 8 {
            throw DataError(file: file, offset: start + 2, message: "unsupported gzip compression method \(b[start + 2]) (expected 8, deflate)")
        }
        let flags = b[start + 3]
        if flags & 0xE0 != 0 {
            throw DataError(file: file, offset: start + 3, message: "reserved gzip flag bits set (flags 0x\(String(flags, radix: 16)))")
        }
        var p = start + 10
        if flags & 0x04 != 0 {   // FEXTRA
            try need(2, p, "extra field length")
            let xlen = Int(b[p]) | Int(b[p + 1]) << 8
            p += 2
            try need(xlen, p, "extra field")
            p += xlen
        }
        for (bit, what) in [(UInt8(0x08), "file name"), (UInt8(0x10), "comment")] where flags & bit != 0 {
            guard let z = b[p...].firstIndex(of: 0) else {
                throw DataError(file: file, offset: p, message: "gzip \(what) is not terminated by a zero byte")
            }
            p = z + 1
        }
        if flags & 0x02 != 0 {   // FHCRC: low 16 bits of the CRC32 of the header
            try need(2, p, "header CRC")
            let stored = UInt32(b[p]) | UInt32(b[p + 1]) << 8
            let actual = CRC32.checksum(b[start..<p]) & 0xFFFF
            if stored != actual {
                throw DataError(file: file, offset: p, message: "gzip header CRC mismatch: stored 0x\(String(stored, radix: 16)), computed 0x\(String(actual, radix: 16))")
            }
            p += 2
        }
        // Size hint: ISIZE of a single-member file is its exact size mod 2^32.
        var hint: Int? = nil
        if b.count >= 4 {
            let n = b.count
            let isize = Int(UInt32(b[n - 4]) | UInt32(b[n - 3]) << 8 | UInt32(b[n - 2]) << 16 | UInt32(b[n - 1]) << 24)
            hint = isize
        }
        let (out, used) = try Inflate.inflate(b, start: p, maxOutput: maxOutput, expectedSize: hint, file: file)
        p += used
        try need(8, p, "trailer (CRC32 and ISIZE)")
        let crc = UInt32(b[p]) | UInt32(b[p + 1]) << 8 | UInt32(b[p + 2]) << 16 | UInt32(b[p + 3]) << 24
        let isize = UInt32(b[p + 4]) | UInt32(b[p + 5]) << 8 | UInt32(b[p + 6]) << 16 | UInt32(b[p + 7]) << 24
        let actual = CRC32.checksum(out)
        if crc != actual {
            throw DataError(file: file, offset: p, message: "gzip CRC32 mismatch: trailer says 0x\(hex32(crc)), data gives 0x\(hex32(actual)) (file is corrupt)")
        }
        if isize != UInt32(truncatingIfNeeded: out.count) {
            throw DataError(file: file, offset: p + 4, message: "gzip length mismatch: trailer ISIZE is \(isize), decompressed \(out.count) bytes")
        }
        return (out, p + 8)
    }

    /// Wraps `bytes` in a gzip file made of stored (uncompressed) deflate blocks.
    public static func compressStored(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        out.append(contentsOf: Deflate.stored(bytes))
        appendLE32(&out, CRC32.checksum(bytes))
        appendLE32(&out, UInt32(truncatingIfNeeded: bytes.count))
        return out
    }
}

/// Deflate encoding with stored blocks only (used for writing; readers accept any deflate).
public enum Deflate {
    public static func stored(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 65535 * 5 + 5)
        var i = 0
        repeat {
            let n = min(65535, bytes.count - i)
            let last: UInt8 = i + n >= bytes.count ? 1 : 0
            out.append(last)
            out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
            out.append(UInt8(~n & 0xFF)); out.append(UInt8((~n >> 8) & 0xFF))
            out.append(contentsOf: bytes[i..<(i + n)])
            i += n
        } while i < bytes.count
        return out
    }
}

package func hex8(_ v: UInt8) -> String {
    let s = String(v, radix: 16)
    return s.count == 1 ? "0" + s : s
}

package func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}

package func appendLE32(_ out: inout [UInt8], _ v: UInt32) {
    out.append(UInt8(v & 0xFF)); out.append(UInt8((v >> 8) & 0xFF))
    out.append(UInt8((v >> 16) & 0xFF)); out.append(UInt8(v >> 24))
}

package func appendLE16(_ out: inout [UInt8], _ v: UInt16) {
    out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8))
}
