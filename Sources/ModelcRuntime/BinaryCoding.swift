// Little-endian binary writer and bounds-checked reader, and the framing of modelc's own binary
// files (checkpoints, image-folder caches).
//
// The reader never traps on bad input: every read checks the remaining length and throws a
// RuntimeError naming the file, the byte offset, what was expected and what was found.

import Foundation
import ModelcData

/// The frame of a modelc binary file: 8-byte magic, u32 format version, u64 payload length,
/// u32 CRC-32 (IEEE) of the payload, then the payload (24 bytes of header in all).
public struct BinaryFrame: Sendable {
    public let magic: [UInt8]
    public let version: UInt32
    /// What the file is, for messages ("checkpoint").
    public let kind: String

    public init(magic: String, version: UInt32, kind: String) {
        self.magic = Array(magic.utf8); self.version = version; self.kind = kind
    }

    public func encode(_ payload: [UInt8]) -> [UInt8] {
        var h = BinaryWriter()
        h.u32(version); h.u64(UInt64(payload.count)); h.u32(CRC32.checksum(payload[...]))
        return magic + h.bytes + payload
    }

    /// `bytes` with the header rewritten to fit what follows it (for the fuzzing entries: a
    /// mutated file almost always fails the CRC, which would leave the payload parser unexplored).
    public func reframed(_ bytes: [UInt8]) -> [UInt8] { encode(bytes.count > 24 ? Array(bytes[24...]) : bytes) }

    /// A reader at the payload, once the magic, version, length and CRC-32 are checked.
    func reader(_ bytes: [UInt8], file: String) throws -> BinaryReader {
        guard bytes.count >= 24 else {
            throw RuntimeError(file: file, offset: 0, "not a modelc \(kind): expected a 24-byte header, found \(bytes.count) bytes")
        }
        guard Array(bytes[0..<8]) == magic else {
            let found = bytes[0..<8].map { String(format: "%02x", $0) }.joined(separator: " ")
            throw RuntimeError(file: file, offset: 0, "not a modelc \(kind): expected magic \"\(String(decoding: magic, as: UTF8.self))\", found bytes \(found)")
        }
        var header = BinaryReader(bytes, file: file)
        header.position = 8
        let found = try header.u32("version")
        guard found == version else {
            throw RuntimeError(file: file, offset: 8, "\(kind) format version \(found) is not supported (this binary reads version \(version))")
        }
        let length = try header.u64("payload length")
        let storedCRC = try header.u32("CRC-32")
        guard length == UInt64(bytes.count - 24) else {
            throw RuntimeError(file: file, offset: 12, "payload length says \(length) bytes but the file holds \(bytes.count - 24) after the header (truncated or corrupt)")
        }
        let crc = CRC32.checksum(bytes[24...])
        guard crc == storedCRC else {
            throw RuntimeError(file: file, offset: 20, String(format: "\(kind) is corrupt: CRC-32 of the payload is 0x%08x, the header says 0x%08x", crc, storedCRC))
        }
        return header
    }
}

struct BinaryWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func string(_ s: String) { let u = Array(s.utf8); u32(UInt32(u.count)); bytes.append(contentsOf: u) }
    mutating func floats(_ p: UnsafePointer<Float>, _ n: Int) {
        bytes.reserveCapacity(bytes.count + 4 * n)
        for i in 0..<n { u32(p[i].bitPattern) }
    }
    mutating func floats(_ a: [Float]) { a.withUnsafeBufferPointer { if let b = $0.baseAddress { floats(b, a.count) } } }
}

struct BinaryReader {
    let bytes: [UInt8]
    let file: String
    /// Offset of `bytes[0]` in the file (for messages).
    let base: Int
    var position = 0

    init(_ bytes: [UInt8], file: String, base: Int = 0) { self.bytes = bytes; self.file = file; self.base = base }

    var remaining: Int { bytes.count - position }

    func fail(_ message: String) -> RuntimeError { RuntimeError(file: file, offset: base + position, message) }

    mutating func need(_ n: Int, _ what: String) throws {
        if n < 0 || n > remaining {
            throw fail("expected \(what) (\(n) bytes), found only \(remaining) bytes before the end of the data")
        }
    }
    mutating func u8(_ what: String) throws -> UInt8 { try need(1, what); defer { position += 1 }; return bytes[position] }
    mutating func u32(_ what: String) throws -> UInt32 { try littleEndian(what) }
    mutating func u64(_ what: String) throws -> UInt64 { try littleEndian(what) }
    /// The next `T.bitWidth / 8` bytes as a little-endian integer.
    private mutating func littleEndian<T: FixedWidthInteger & UnsignedInteger>(_ what: String) throws -> T {
        let n = T.bitWidth / 8
        try need(n, what)
        var v: T = 0
        for i in 0..<n { v |= T(bytes[position + i]) << (8 * i) }
        position += n
        return v
    }
    /// A non-negative count no larger than `limit`.
    mutating func count(_ what: String, limit: Int) throws -> Int {
        let at = position
        let v = try u64(what)
        guard v <= UInt64(limit) else {
            position = at
            throw fail("\(what) is \(v), more than the \(limit) the remaining data can hold")
        }
        return Int(v)
    }
    mutating func int(_ what: String) throws -> Int { Int(Int64(bitPattern: try u64(what))) }
    mutating func f64(_ what: String) throws -> Double { Double(bitPattern: try u64(what)) }
    mutating func string(_ what: String) throws -> String {
        let at = position
        let n = Int(try u32("length of \(what)"))
        try need(n, what)
        guard let s = String(validating: bytes[position..<(position + n)], as: UTF8.self) else {
            position = at
            throw fail("\(what) is not valid UTF-8")
        }
        position += n
        return s
    }
    mutating func floats(_ n: Int, _ what: String) throws -> [Float] {
        try need(4 * n, what)
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let p = position + 4 * i
            let v = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
            out[i] = Float(bitPattern: v)
        }
        position += 4 * n
        return out
    }
}
