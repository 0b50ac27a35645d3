// HDF5 datatype and dataspace messages, and turning raw elements into NDArrays and strings.
// Numbers: integers of 1, 2, 4 or 8 bytes and IEEE floats of 2, 4 or 8 bytes, little or big
// endian (float16 becomes float32; everything else keeps its width as a little-endian NumPy
// descr). Strings: fixed-length (null-terminated, null- or space-padded) and variable-length
// (stored in the global heap, see HDF5Attributes.swift).

import ModelcData

struct HDF5Datatype {
    enum Kind { case integer(signed: Bool), float, fixedString(padding: Int), vlenString, other(Int) }
    let kind: Kind
    let size: Int
    let bigEndian: Bool

    static let classNames = ["integer", "float", "time", "string", "bitfield", "opaque", "compound",
                             "reference", "enum", "variable-length", "array"]

    var description: String {
        switch kind {
        case .integer(let s): return "\(s ? "" : "unsigned ")integer of \(size) bytes"
        case .float: return "float of \(size) bytes"
        case .fixedString: return "fixed-length string of \(size) bytes"
        case .vlenString: return "variable-length string"
        case .other(let k): return "\(k < Self.classNames.count ? Self.classNames[k] : "class \(k)") datatype"
        }
    }

    static func parse(_ c0: HDF5Cursor) throws -> HDF5Datatype {
        var c = c0
        let start = c.pos
        let classVersion = try c.u8("datatype class and version")
        let bits = try c.uint(3, "datatype bit field")
        let size = try c.u32("datatype size")
        let cls = classVersion & 0x0F
        switch cls {
        case 0:
            guard [1, 2, 4, 8].contains(size) else { throw c.fail("integer datatype of \(size) bytes, expected 1, 2, 4 or 8", at: start) }
            return HDF5Datatype(kind: .integer(signed: bits & 0x08 != 0), size: size, bigEndian: bits & 1 != 0)
        case 1:
            try checkFloat(&c, bits: bits, size: size, start: start)
            return HDF5Datatype(kind: .float, size: size, bigEndian: bits & 1 != 0)
        case 3:
            return HDF5Datatype(kind: .fixedString(padding: bits & 0x0F), size: size, bigEndian: false)
        case 9:
            return HDF5Datatype(kind: bits & 0x0F == 1 ? .vlenString : .other(9), size: size, bigEndian: false)
        default:
            return HDF5Datatype(kind: .other(cls), size: size, bigEndian: false)
        }
    }

    /// IEEE binary16/32/64 only: exponent and mantissa sizes and places as IEEE has them.
    static func checkFloat(_ c: inout HDF5Cursor, bits: Int, size: Int, start: Int) throws {
        let layout: [Int: (Int, Int)] = [2: (5, 10), 4: (8, 23), 8: (11, 52)]
        guard let (e, m) = layout[size] else { throw c.fail("float datatype of \(size) bytes, expected 2, 4 or 8", at: start) }
        guard bits & 0x40 == 0 else { throw c.fail("VAX-order float datatype is not supported", at: start) }
        let offset = try c.u16("float bit offset"), precision = try c.u16("float precision")
        let ePos = try c.u8("float exponent location"), eSize = try c.u8("float exponent size")
        let mPos = try c.u8("float mantissa location"), mSize = try c.u8("float mantissa size")
        guard offset == 0, precision == 8 * size, eSize == e, mSize == m, mPos == 0, ePos == m, (bits >> 8) & 0xFF == 8 * size - 1 else {
            throw c.fail("float datatype of \(size) bytes is not IEEE (precision \(precision), exponent \(eSize) bits at \(ePos), mantissa \(mSize) bits at \(mPos))", at: start)
        }
    }

    /// NumPy descr of the converted array.
    var descr: String? {
        switch kind {
        case .integer(let s):
            return (size == 1 ? "|" : "<") + (s ? "i" : "u") + "\(size)"
        case .float: return size == 8 ? "<f8" : "<f4"
        default: return nil
        }
    }

    /// Converts `count` raw elements to an NDArray (little-endian; float16 widened to float32).
    func array(_ raw: [UInt8], shape: [Int], file: String, offset: Int) throws -> NDArray {
        guard let descr else {
            throw DataError(file: file, offset: offset, message: "expected a numeric dataset (integer or float), found a \(description)")
        }
        var data = raw
        if bigEndian && size > 1 {
            data.withUnsafeMutableBufferPointer { b in
                var i = 0
                while i + size <= b.count { b[i..<(i + size)].reverse(); i += size }
            }
        }
        if case .float = kind, size == 2 {
            var out = [Float](repeating: 0, count: data.count / 2)
            for i in out.indices { out[i] = Self.half(UInt16(data[2 * i]) | UInt16(data[2 * i + 1]) << 8) }
            return NDArray(float32: out, shape: shape)
        }
        return NDArray(shape: shape, dtype: descr, data: data)
    }

    static func half(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let e = Int((h >> 10) & 0x1F), m = Float(h & 0x3FF)
        switch e {
        case 0: return sign * m * 0x1p-24
        case 31: return m == 0 ? sign * .infinity : .nan
        default: return sign * (1 + m / 1024) * Float(sign: .plus, exponent: e - 15, significand: 1)
        }
    }
}

/// Dataspace message: the shape (scalar = [], null = nil).
enum HDF5Dataspace {
    /// Most dimensions accepted.
    static let maxRank = 32

    static func parse(_ c0: HDF5Cursor) throws -> [Int]? {
        var c = c0
        let start = c.pos
        let version = try c.u8("dataspace version")
        let rank = try c.u8("dataspace rank")
        let flags = try c.u8("dataspace flags")
        switch version {
        case 1: try c.skip(5, "dataspace reserved bytes")
        case 2:
            let type = try c.u8("dataspace type")
            if type == 2 { return nil }
            if type == 0 { return [] }
        default: throw c.fail("dataspace version \(version), expected 1 or 2", at: start)
        }
        guard rank <= maxRank else { throw c.fail("dataspace rank \(rank), expected at most \(maxRank)", at: start + 1) }
        var dims: [Int] = []
        for i in 0..<rank { dims.append(try c.length("dimension \(i) size")) }
        _ = flags
        return dims
    }
}
