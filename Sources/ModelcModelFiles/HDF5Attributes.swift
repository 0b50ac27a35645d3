// HDF5 attributes (message versions 1-3), compact in the object header or dense (attribute info
// message: fractal heap + v2 B-tree of type 8), and their values: numbers as NDArrays, strings
// fixed-length or variable-length (each element a length and a global heap ID; the string lives
// in a global heap collection, "GCOL").

import ModelcData

struct HDF5Attribute {
    let name: String
    let datatype: HDF5Datatype
    /// nil for a null dataspace.
    let shape: [Int]?
    /// The value's bytes (shape.product x datatype.size), checked to lie in the message.
    let value: ArraySlice<UInt8>
    let offset: Int

    var count: Int { shape?.reduce(1, *) ?? 0 }
}

enum HDF5Attributes {
    static func all(_ c: HDF5Cursor, _ h: HDF5ObjectHeader) throws -> [HDF5Attribute] {
        var out = try h.all(HDF5Message.attribute).map { m in
            try parse(try c.sub(at: m.start, count: m.size, "attribute message"))
        }
        if let info = h.first(HDF5Message.attributeInfo),
           let (heap, index) = try HDF5FractalHeap.denseStorage(c, info, "attribute", creationIndexBytes: 2) {
            let h = try HDF5FractalHeap(c, at: heap)
            for r in try HDF5BTree2.records(c, at: index, type: 8) {
                let object = try h.object(r.prefix(8))
                out.append(try parse(try c.sub(at: object.startIndex, count: object.count, "dense attribute")))
            }
        }
        return out
    }

    /// Attribute message: version, flags, sizes of name / datatype / dataspace, (v3: charset),
    /// then each part (v1: padded to 8 bytes), then the value.
    static func parse(_ c0: HDF5Cursor) throws -> HDF5Attribute {
        var c = c0
        let start = c.pos
        let version = try c.u8("attribute version")
        guard (1...3).contains(version) else { throw c.fail("attribute message version \(version), expected 1, 2 or 3", at: start) }
        let flags = try c.u8("attribute flags")
        guard flags & 0x03 == 0 else { throw c.fail("attribute with a shared datatype or dataspace is not supported", at: start + 1) }
        let nameSize = try c.u16("attribute name size")
        let typeSize = try c.u16("attribute datatype size"), spaceSize = try c.u16("attribute dataspace size")
        if version == 3 { try c.skip(1, "attribute name charset") }
        func padded(_ n: Int) -> Int { version == 1 ? (n + 7) / 8 * 8 : n }
        let name = String(decoding: try c.raw(nameSize, "attribute name").prefix { $0 != 0 }, as: UTF8.self)
        try c.skip(padded(nameSize) - nameSize, "attribute name padding")
        let datatype = try HDF5Datatype.parse(try c.sub(at: c.pos, count: typeSize, "attribute '\(name)' datatype"))
        try c.skip(padded(typeSize), "attribute datatype")
        let shape = try HDF5Dataspace.parse(try c.sub(at: c.pos, count: spaceSize, "attribute '\(name)' dataspace"))
        try c.skip(padded(spaceSize), "attribute dataspace")
        let n = try shape.map { s -> Int in
            guard let n = checkedProduct(s, limit: c.end - c.pos) else {
                throw c.fail("attribute '\(name)' declares shape \(s), more elements than its \(c.end - c.pos) value bytes", at: start)
            }
            return n
        } ?? 0
        let (bytes, o) = n.multipliedReportingOverflow(by: datatype.size)
        guard !o else { throw c.fail("attribute '\(name)' value size overflows", at: start) }
        let value = try c.raw(bytes, "attribute '\(name)' value")
        return HDF5Attribute(name: name, datatype: datatype, shape: shape, value: value, offset: start)
    }

    /// The attribute's value as strings (fixed-length or variable-length string types).
    static func strings(_ c: HDF5Cursor, _ a: HDF5Attribute) throws -> [String] {
        switch a.datatype.kind {
        case .fixedString(let padding):
            let s = a.datatype.size
            guard s > 0 else { return [String](repeating: "", count: a.count) }
            return stride(from: a.value.startIndex, to: a.value.endIndex, by: s).map { i in
                var e = a.value[i..<(i + s)]
                if let z = e.firstIndex(of: 0) { e = e[..<z] }
                if padding == 2 { while e.last == 0x20 { e = e.dropLast() } }
                return String(decoding: e, as: UTF8.self)
            }
        case .vlenString:
            let s = a.datatype.size
            guard s == 4 + c.offsetSize + 4 else {
                throw c.fail("attribute '\(a.name)': variable-length string element of \(s) bytes, expected \(8 + c.offsetSize)", at: a.offset)
            }
            return try stride(from: a.value.startIndex, to: a.value.endIndex, by: s).map { i in
                var k = try c.sub(at: i, count: s, "variable-length string")
                let length = try k.u32("string length")
                guard let collection = try k.address("global heap collection address") else { return "" }
                let index = try k.u32("global heap object index")
                let bytes = try globalHeapObject(c, collection: collection, index: index)
                guard length <= bytes.count else {
                    throw c.fail("attribute '\(a.name)': string of \(length) bytes in a \(bytes.count)-byte global heap object", at: collection)
                }
                return String(decoding: bytes.prefix(length), as: UTF8.self)
            }
        default:
            if a.count == 0 { return [] }   // h5py writes an empty list as an empty float array
            throw c.fail("attribute '\(a.name)': expected a string, found a \(a.datatype.description)", at: a.offset)
        }
    }

    /// Object `index` of the global heap collection at `collection`.
    static func globalHeapObject(_ c: HDF5Cursor, collection: Int, index: Int) throws -> ArraySlice<UInt8> {
        var g = try c.sub(at: collection, count: 8 + c.lengthSize, "global heap collection")
        try g.signature("GCOL", "global heap collection")
        try g.skip(4, "global heap version")
        let size = try g.length("global heap collection size")
        g = try c.sub(at: collection, count: size, "global heap collection of \(size) bytes")
        g.pos += 8 + c.lengthSize
        while g.end - g.pos >= 8 + c.lengthSize {
            let id = try g.u16("global heap object index")
            try g.skip(6, "global heap object reference count")
            let n = try g.length("global heap object size")
            if id == 0 { break }
            let data = try g.raw(n, "global heap object \(id)")
            if id == index { return data }
            try g.skip(min((n + 7) / 8 * 8 - n, g.end - g.pos), "global heap object padding")
        }
        throw c.fail("global heap collection has no object \(index)", at: collection)
    }
}
