// HDF5, read-only, the subset h5py and Keras files use (issue 18). Design notes for all the
// HDF5*.swift files:
//
// - The whole file is held in memory ([UInt8], bounded by DataLimits.maxFileBytes). Every read
//   goes through `HDF5Cursor`, which checks the range before touching a byte, so a truncated
//   file or a wrong offset is a DataError naming the file, the offset, what was expected and
//   what was found, never a crash.
// - Structures read: superblock versions 0-3 (this file); object headers v1 and v2 with
//   continuation blocks (HDF5ObjectHeader.swift); old-style groups (symbol table: B-tree v1 +
//   local heap) and new-style groups (link messages, dense storage in a fractal heap indexed by a
//   B-tree v2) (HDF5Groups.swift, HDF5FractalHeap.swift); datasets with compact, contiguous and
//   chunked layouts, chunks indexed by a B-tree v1, a single chunk or a fixed array, the deflate
//   and shuffle filters (HDF5Dataset.swift); integer and IEEE float datatypes of either byte order,
//   fixed and variable-length strings (HDF5Datatype.swift); attributes, compact or dense, strings
//   through the global heap (HDF5Attributes.swift). Metadata checksums (Jenkins lookup3) are
//   verified where the format has them.
// - Resource limits come before allocation: a dataset's declared size must fit the element limit
//   and what the file can hold (stored bytes, or 1032x them when deflated); B-tree levels must
//   strictly decrease and no node is visited twice; object-header continuations, heap blocks and
//   group walks are counted; a link back to an ancestor group is a cycle error.
// - Not read (each a clear error): shared messages, soft and external links, virtual and
//   external storage, filters other than deflate and shuffle, extensible-array and B-tree v2
//   chunk indexes, paged fixed arrays, huge fractal-heap objects, compound/enum/array types.

import ModelcData

/// Bounds-checked little-endian reads from an HDF5 file's bytes. `end` bounds the current
/// structure (a message, a block), so overruns inside a file are caught too.
struct HDF5Cursor {
    let bytes: [UInt8]
    let file: String
    var pos: Int
    var end: Int
    let offsetSize: Int
    let lengthSize: Int
    let base: Int

    func fail(_ message: String, at: Int? = nil) -> DataError {
        DataError(file: file, offset: at ?? pos, message: message)
    }

    /// Throws unless `n` bytes starting at `pos` lie inside the structure and the file.
    func need(_ n: Int, _ what: String) throws {
        guard n >= 0, pos >= 0, pos <= end, n <= end - pos, end <= bytes.count else {
            let left = max(0, min(end, bytes.count) - pos)
            throw fail("\(what): expected \(n) bytes, found \(left) before the end of the \(end < bytes.count ? "structure" : "file")")
        }
    }

    mutating func skip(_ n: Int, _ what: String) throws { try need(n, what); pos += n }

    mutating func uint(_ n: Int, _ what: String) throws -> Int {
        try need(n, what)
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
        guard v <= UInt64(Int.max) else { throw fail("\(what): value 0x\(String(v, radix: 16)) is too large") }
        pos += n
        return Int(v)
    }

    mutating func u8(_ what: String) throws -> Int { try uint(1, what) }
    mutating func u16(_ what: String) throws -> Int { try uint(2, what) }
    mutating func u32(_ what: String) throws -> Int { try uint(4, what) }
    mutating func length(_ what: String) throws -> Int { try uint(lengthSize, what) }

    /// A file address (relative to the base address), or nil for the undefined address (all ones).
    mutating func address(_ what: String) throws -> Int? {
        try need(offsetSize, what)
        if bytes[pos..<(pos + offsetSize)].allSatisfy({ $0 == 0xFF }) { pos += offsetSize; return nil }
        let at = pos
        let a = try uint(offsetSize, what)
        let (sum, o) = a.addingReportingOverflow(base)
        guard !o, sum < bytes.count else {
            throw fail("\(what): expected an address inside the file (\(bytes.count) bytes), found \(a)", at: at)
        }
        return sum
    }

    /// A defined address (the undefined address is an error here).
    mutating func definedAddress(_ what: String) throws -> Int {
        let at = pos
        guard let a = try address(what) else { throw fail("\(what): expected an address, found the undefined address", at: at) }
        return a
    }

    mutating func raw(_ n: Int, _ what: String) throws -> ArraySlice<UInt8> {
        try need(n, what)
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    mutating func signature(_ sig: String, _ what: String) throws {
        let at = pos
        let found = try raw(sig.utf8.count, what)
        guard found.elementsEqual(sig.utf8) else {
            let text = found.map { (32...126).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
            throw fail("\(what): expected signature '\(sig)', found '\(text)'", at: at)
        }
    }

    /// A cursor over `n` bytes at `at` (checked against the file).
    func sub(at: Int, count n: Int, _ what: String) throws -> HDF5Cursor {
        var c = self
        c.pos = at; c.end = bytes.count
        try c.need(n, what)
        c.end = at + n
        return c
    }

    /// Verifies the lookup3 checksum stored right after `start..<pos`.
    mutating func checksum(from start: Int, _ what: String) throws {
        let at = pos
        let stored = UInt32(try u32("\(what) checksum"))
        let actual = HDF5Checksum.lookup3(bytes, start, at - start)
        guard stored == actual else {
            throw fail("\(what): checksum mismatch: stored 0x\(hex32(stored)), computed 0x\(hex32(actual))", at: at)
        }
    }
}

/// Jenkins lookup3 (hashlittle), the checksum of HDF5's newer metadata structures.
enum HDF5Checksum {
    static func lookup3(_ k: [UInt8], _ start: Int, _ count: Int) -> UInt32 {
        var a = 0xDEAD_BEEF &+ UInt32(truncatingIfNeeded: count)
        var b = a, c = a
        func rot(_ x: UInt32, _ r: UInt32) -> UInt32 { (x << r) | (x >> (32 - r)) }
        func word(_ i: Int) -> UInt32 {
            UInt32(k[i]) | UInt32(k[i + 1]) << 8 | UInt32(k[i + 2]) << 16 | UInt32(k[i + 3]) << 24
        }
        var i = start, n = count
        while n > 12 {
            a &+= word(i); b &+= word(i + 4); c &+= word(i + 8)
            a &-= c; a ^= rot(c, 4); c &+= b
            b &-= a; b ^= rot(a, 6); a &+= c
            c &-= b; c ^= rot(b, 8); b &+= a
            a &-= c; a ^= rot(c, 16); c &+= b
            b &-= a; b ^= rot(a, 19); a &+= c
            c &-= b; c ^= rot(b, 4); b &+= a
            i += 12; n -= 12
        }
        if n == 0 { return c }
        for j in 0..<n {
            let v = UInt32(k[i + j]) << (8 * UInt32(j % 4))
            switch j / 4 {
            case 0: a &+= v
            case 1: b &+= v
            default: c &+= v
            }
        }
        c ^= b; c &-= rot(b, 14)
        a ^= c; a &-= rot(c, 11)
        b ^= a; b &-= rot(a, 25)
        c ^= b; c &-= rot(b, 16)
        a ^= c; a &-= rot(c, 4)
        b ^= a; b &-= rot(a, 14)
        c ^= b; c &-= rot(b, 24)
        return c
    }
}

/// The superblock: where the root group's object header is, and the sizes of offsets and lengths.
struct HDF5Superblock {
    let version: Int
    let offsetSize: Int
    let lengthSize: Int
    let base: Int
    let rootAddress: Int

    static let magic: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Finds the signature at 0, 512, 1024, 2048, ... and reads the superblock there.
    static func read(_ bytes: [UInt8], file: String) throws -> HDF5Superblock {
        var at = 0
        while at + 8 <= bytes.count {
            if bytes[at..<(at + 8)].elementsEqual(magic) { return try parse(bytes, file: file, at: at) }
            at = at == 0 ? 512 : at * 2
        }
        let head = bytes.prefix(8).map { hex8($0) }.joined(separator: " ")
        throw DataError(file: file, offset: 0, message: "not an HDF5 file: expected the signature 89 48 44 46 0d 0a 1a 0a (\\x89HDF), found \(head.isEmpty ? "an empty file" : head)")
    }

    static func parse(_ bytes: [UInt8], file: String, at: Int) throws -> HDF5Superblock {
        var c = HDF5Cursor(bytes: bytes, file: file, pos: at + 8, end: bytes.count, offsetSize: 8, lengthSize: 8, base: 0)
        let version = try c.u8("superblock version")
        let sizes: (Int, Int)
        switch version {
        case 0, 1:
            try c.skip(4, "superblock v\(version) versions")
            sizes = (try c.u8("size of offsets"), try c.u8("size of lengths"))
            try c.skip(1 + 4 + 4 + (version == 1 ? 4 : 0), "superblock v\(version) node sizes and flags")
        case 2, 3:
            sizes = (try c.u8("size of offsets"), try c.u8("size of lengths"))
            try c.skip(1, "superblock flags")
        default:
            throw c.fail("unsupported HDF5 superblock version \(version) (expected 0, 1, 2 or 3)", at: at + 8)
        }
        for (s, what) in [(sizes.0, "size of offsets"), (sizes.1, "size of lengths")] where ![2, 4, 8].contains(s) {
            throw c.fail("\(what) is \(s), expected 2, 4 or 8", at: at + (version < 2 ? 13 : 9))
        }
        c = HDF5Cursor(bytes: bytes, file: file, pos: c.pos, end: bytes.count, offsetSize: sizes.0, lengthSize: sizes.1, base: 0)
        let baseAt = c.pos
        let base = try c.definedAddress("base address")
        guard base == 0 || base == at else { throw c.fail("base address \(base): expected 0 or the superblock's offset \(at)", at: baseAt) }
        c = HDF5Cursor(bytes: bytes, file: file, pos: c.pos, end: bytes.count, offsetSize: sizes.0, lengthSize: sizes.1, base: base)
        let root: Int
        if version < 2 {
            try c.skip(3 * sizes.0, "free-space, end-of-file and driver addresses")
            try c.skip(sizes.0, "root group link name offset")
            root = try c.definedAddress("root group object header address")
            try c.skip(4 + 4 + 16, "root group symbol table entry")
        } else {
            if try c.address("superblock extension address") != nil {
                throw c.fail("superblock extensions are not supported", at: c.pos - sizes.0)
            }
            try c.skip(sizes.0, "end-of-file address")
            root = try c.definedAddress("root group object header address")
            try c.checksum(from: at, "superblock")
        }
        return HDF5Superblock(version: version, offsetSize: sizes.0, lengthSize: sizes.1, base: base, rootAddress: root)
    }
}
