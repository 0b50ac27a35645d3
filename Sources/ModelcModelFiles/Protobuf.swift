// Protocol Buffers wire format (proto2/proto3 binary encoding), read without a schema compiler:
// a cursor over one message's bytes that yields (field number, wire type) keys and the values
// behind them. Callers (ONNXModel.swift) decide which fields they know; every other field is
// skipped by its wire type.
//
// Guarantees, for hostile input: a varint is at most 10 bytes; every length is checked against
// the bytes left in the enclosing message before anything is sliced, so a nested message never
// reads past its parent; nested messages are at most `maxDepth` deep; groups (wire types 3 and
// 4, deprecated) are refused rather than skipped. Errors are DataError with the file, the byte
// offset in the file, what was expected and what was found.

import ModelcData

public enum WireType: Int, Sendable {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

public struct ProtoReader {
    /// The whole file (shared, never copied); this reader sees `pos..<end`.
    let bytes: [UInt8]
    public private(set) var pos: Int
    public let end: Int
    public let file: String
    /// How many messages enclose this one (0 for the file's top-level message).
    public let depth: Int
    /// Deepest nesting accepted (ONNX needs about 8: model, graph, node, attribute, tensor, type, shape, dim).
    public static let maxDepth = 32

    public init(bytes: [UInt8], file: String) {
        self.init(bytes: bytes, range: 0..<bytes.count, file: file, depth: 0)
    }

    init(bytes: [UInt8], range: Range<Int>, file: String, depth: Int) {
        self.bytes = bytes; pos = range.lowerBound; end = range.upperBound; self.file = file; self.depth = depth
    }

    public var atEnd: Bool { pos >= end }

    public func error(_ message: String, at offset: Int? = nil) -> DataError {
        DataError(file: file, offset: offset ?? pos, message: message)
    }

    /// The next field's key, or nil at the end of the message.
    public mutating func field() throws -> (number: Int, wire: WireType)? {
        guard !atEnd else { return nil }
        let start = pos
        let key = try varint()
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else {
            throw error("expected a field number 1...536870911, found \(number)", at: start)
        }
        guard let wire = WireType(rawValue: Int(key & 7)), wire != .startGroup, wire != .endGroup else {
            throw error("expected wire type 0, 1, 2 or 5 for field \(number), found \(key & 7)", at: start)
        }
        return (Int(number), wire)
    }

    public mutating func varint() throws -> UInt64 {
        let start = pos
        var value: UInt64 = 0
        for i in 0..<10 {
            guard pos < end else { throw error("expected a varint, found the end of the message after \(i) byte(s)", at: start) }
            let b = bytes[pos]
            pos += 1
            if i == 9 && b > 1 { throw error("expected a varint of at most 64 bits, found a 10th byte 0x\(String(b, radix: 16))", at: start) }
            value |= UInt64(b & 0x7f) << (7 * UInt64(i))
            if b & 0x80 == 0 { return value }
        }
        throw error("expected a varint of at most 10 bytes, found a longer one", at: start)
    }

    /// A varint read as a signed int64 (two's complement, as int32/int64 fields are encoded).
    public mutating func int64() throws -> Int64 { Int64(bitPattern: try varint()) }

    public mutating func fixed32() throws -> UInt32 {
        let raw = try take(4, what: "4 bytes of a fixed32 value")
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[raw.lowerBound + i]) << (8 * UInt32(i)) }
        return v
    }

    public mutating func fixed64() throws -> UInt64 {
        let raw = try take(8, what: "8 bytes of a fixed64 value")
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[raw.lowerBound + i]) << (8 * UInt64(i)) }
        return v
    }

    /// The byte range of a length-delimited field, checked against the bytes left.
    public mutating func lengthDelimited() throws -> Range<Int> {
        let start = pos
        let n = try varint()
        guard n <= UInt64(end - pos) else {
            throw error("expected \(n) bytes of a length-delimited field, found \(end - pos) left in the enclosing message", at: start)
        }
        return try take(Int(n), what: "")
    }

    public mutating func bytesField() throws -> ArraySlice<UInt8> { bytes[try lengthDelimited()] }

    public mutating func string() throws -> String { String(decoding: try bytesField(), as: UTF8.self) }

    /// A nested message: a reader bounded by its length, one level deeper.
    public mutating func message() throws -> ProtoReader {
        let start = pos
        let r = try lengthDelimited()
        guard depth + 1 <= Self.maxDepth else {
            throw error("expected messages nested at most \(Self.maxDepth) deep, found deeper nesting", at: start)
        }
        return ProtoReader(bytes: bytes, range: r, file: file, depth: depth + 1)
    }

    /// Skips a field's value of the given wire type.
    public mutating func skip(_ wire: WireType) throws {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try take(8, what: "8 bytes of a fixed64 value")
        case .fixed32: _ = try take(4, what: "4 bytes of a fixed32 value")
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw error("expected no groups (wire types 3 and 4), found one")
        }
    }

    /// Repeated int32/int64 values: packed (wire type 2) or one unpacked varint.
    public mutating func int64s(_ wire: WireType, into out: inout [Int64]) throws {
        switch wire {
        case .varint: out.append(try int64())
        case .lengthDelimited:
            var sub = ProtoReader(bytes: bytes, range: try lengthDelimited(), file: file, depth: depth)
            while !sub.atEnd { out.append(try sub.int64()) }
        default: throw error("expected a varint or packed varints, found wire type \(wire.rawValue)")
        }
    }

    /// Repeated float values: packed (wire type 2) or one unpacked fixed32.
    public mutating func floats(_ wire: WireType, into out: inout [Float]) throws {
        switch wire {
        case .fixed32: out.append(Float(bitPattern: try fixed32()))
        case .lengthDelimited:
            let start = pos
            let r = try lengthDelimited()
            guard r.count % 4 == 0 else { throw error("expected packed floats (a multiple of 4 bytes), found \(r.count) bytes", at: start) }
            out.reserveCapacity(out.count + r.count / 4)
            var i = r.lowerBound
            while i < r.upperBound {
                out.append(Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24))
                i += 4
            }
        default: throw error("expected a fixed32 or packed fixed32 values, found wire type \(wire.rawValue)")
        }
    }

    /// Repeated double values: packed (wire type 2) or one unpacked fixed64.
    public mutating func doubles(_ wire: WireType, into out: inout [Double]) throws {
        switch wire {
        case .fixed64: out.append(Double(bitPattern: try fixed64()))
        case .lengthDelimited:
            var sub = ProtoReader(bytes: bytes, range: try lengthDelimited(), file: file, depth: depth)
            guard (sub.end - sub.pos) % 8 == 0 else { throw error("expected packed doubles (a multiple of 8 bytes), found \(sub.end - sub.pos) bytes") }
            while !sub.atEnd { out.append(Double(bitPattern: try sub.fixed64())) }
        default: throw error("expected a fixed64 or packed fixed64 values, found wire type \(wire.rawValue)")
        }
    }

    /// Checks that a field has the wire type its schema gives it.
    public func expect(_ wire: WireType, _ want: WireType, field: String) throws {
        guard wire == want else { throw error("expected wire type \(want.rawValue) for \(field), found \(wire.rawValue)") }
    }

    private mutating func take(_ n: Int, what: String) throws -> Range<Int> {
        guard n <= end - pos else {
            throw error("expected \(what.isEmpty ? "\(n) bytes" : what), found \(end - pos) left in the enclosing message")
        }
        defer { pos += n }
        return pos..<(pos + n)
    }
}
