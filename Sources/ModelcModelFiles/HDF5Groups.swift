// HDF5 groups: a group's links by name. Old-style groups keep them in a symbol table (a v1
// B-tree of symbol table nodes whose names live in a local heap); new-style groups in link
// messages in the object header, or, when large, in a fractal heap indexed by a v2 B-tree
// (dense storage). Only hard links are followed: soft and external links are refused.

import ModelcData

enum HDF5Groups {
    /// Most links one group may hold (bounds the walk of a hostile B-tree).
    static let maxLinks = 1 << 20

    /// The links of a group object, in storage order; nil if the object is not a group.
    static func links(_ c: HDF5Cursor, _ h: HDF5ObjectHeader) throws -> [(name: String, address: Int)]? {
        if let st = h.first(HDF5Message.symbolTable) {
            var k = try c.sub(at: st.start, count: st.size, "symbol table message")
            let tree = try k.definedAddress("symbol table B-tree address")
            let heap = try k.definedAddress("symbol table local heap address")
            return try symbolTable(c, tree: tree, heap: heap)
        }
        if let info = h.first(HDF5Message.linkInfo),
           let (heap, index) = try HDF5FractalHeap.denseStorage(c, info, "link", creationIndexBytes: 8) {
            return try dense(c, heap: heap, index: index)
        }
        let messages = h.all(HDF5Message.link)
        if messages.isEmpty && h.first(HDF5Message.linkInfo) == nil { return nil }
        return try messages.map { m in
            try link(try c.sub(at: m.start, count: m.size, "link message"))
        }
    }

    /// Link message: version 1, flags, optional type / creation order / charset, name, target.
    static func link(_ c0: HDF5Cursor) throws -> (name: String, address: Int) {
        var c = c0
        let start = c.pos
        let version = try c.u8("link message version")
        guard version == 1 else { throw c.fail("link message version \(version), expected 1", at: start) }
        let flags = try c.u8("link message flags")
        let type = flags & 0x08 != 0 ? try c.u8("link type") : 0
        if flags & 0x04 != 0 { try c.skip(8, "link creation order") }
        if flags & 0x10 != 0 { try c.skip(1, "link name charset") }
        let nameLength = try c.uint(1 << (flags & 3), "link name length")
        let name = String(decoding: try c.raw(nameLength, "link name"), as: UTF8.self)
        guard type == 0 else {
            let kind = type == 1 ? "soft" : type == 64 ? "external" : "type \(type)"
            throw c.fail("link '\(name)' is a \(kind) link; only hard links are supported", at: start)
        }
        return (name, try c.definedAddress("link '\(name)' object address"))
    }

    /// Dense links: v2 B-tree of type 5 (name hash 4 bytes + heap ID) over a fractal heap.
    static func dense(_ c: HDF5Cursor, heap: Int, index: Int) throws -> [(name: String, address: Int)] {
        let h = try HDF5FractalHeap(c, at: heap)
        return try HDF5BTree2.records(c, at: index, type: 5).map { r in
            let object = try h.object(r.dropFirst(4))
            return try link(try c.sub(at: object.startIndex, count: object.count, "dense link"))
        }
    }

    /// Old-style group: walks the v1 B-tree (node type 0) to its symbol table nodes.
    static func symbolTable(_ c: HDF5Cursor, tree: Int, heap: Int) throws -> [(name: String, address: Int)] {
        var h = try c.sub(at: heap, count: 8 + 2 * c.lengthSize + c.offsetSize, "local heap")
        try h.signature("HEAP", "local heap")
        try h.skip(4, "local heap version")
        let dataSize = try h.length("local heap data size")
        try h.skip(c.lengthSize, "local heap free list offset")
        let dataAt = try h.definedAddress("local heap data address")
        let names = try c.sub(at: dataAt, count: dataSize, "local heap data")
        var out: [(String, Int)] = []
        var seen = Set<Int>(), nodes = Set<Int>()
        try HDF5BTree1.walk(c, at: tree, type: 0, keySize: c.lengthSize, &seen) { _, address in
            guard nodes.insert(address).inserted else { throw c.fail("symbol table node listed twice", at: address) }
            var s = try c.sub(at: address, count: 8, "symbol table node")
            s.end = c.bytes.count
            try s.signature("SNOD", "symbol table node")
            try s.skip(2, "symbol table node version")
            let count = try s.u16("symbol table node entry count")
            for _ in 0..<count {
                let nameAt = try s.length("symbol name offset")
                let object = try s.definedAddress("symbol object header address")
                try s.skip(4 + 4 + 16, "symbol table entry cache")
                out.append((try string(names, at: nameAt), object))
                guard out.count <= maxLinks else { throw s.fail("group holds more than \(maxLinks) links") }
            }
        }
        return out
    }

    /// A null-terminated name in a local heap's data.
    static func string(_ heap: HDF5Cursor, at offset: Int) throws -> String {
        guard offset >= 0, offset < heap.end - heap.pos else {
            throw heap.fail("name offset \(offset) lies outside the local heap's \(heap.end - heap.pos) bytes")
        }
        let from = heap.pos + offset
        guard let zero = heap.bytes[from..<heap.end].firstIndex(of: 0) else {
            throw heap.fail("name at local heap offset \(offset) is not null-terminated", at: from)
        }
        return String(decoding: heap.bytes[from..<zero], as: UTF8.self)
    }
}

/// Version 1 B-trees (node type 0: group nodes; 1: raw data chunks). Levels must strictly
/// decrease down the tree and no node may be visited twice.
enum HDF5BTree1 {
    static let maxLevel = 64
    static let maxEntries = 1 << 16

    /// Calls `leaf(keyOffset, childAddress)` for every child of every level-0 node, in order.
    /// Keys are `keySize` bytes and precede their child.
    static func walk(_ c: HDF5Cursor, at address: Int, type: Int, keySize: Int, level expected: Int? = nil,
                     _ seen: inout Set<Int>, leaf: (Int, Int) throws -> Void) throws {
        guard seen.insert(address).inserted else { throw c.fail("B-tree node visited twice (a loop)", at: address) }
        var k = try c.sub(at: address, count: 8, "B-tree node")
        k.end = c.bytes.count
        try k.signature("TREE", "B-tree node")
        let found = try k.u8("B-tree node type")
        guard found == type else { throw k.fail("B-tree node type \(found), expected \(type)", at: address + 4) }
        let level = try k.u8("B-tree node level")
        let entries = try k.u16("B-tree entries used")
        if let expected, level != expected {
            throw k.fail("B-tree node level \(level), expected \(expected) (levels must decrease by one)", at: address + 5)
        }
        guard level <= maxLevel, entries <= maxEntries else { throw k.fail("B-tree node level \(level) with \(entries) entries is not valid", at: address) }
        try k.skip(2 * c.offsetSize, "B-tree sibling addresses")
        var children: [(Int, Int)] = []
        for _ in 0..<entries {
            let keyAt = k.pos
            try k.skip(keySize, "B-tree key")
            children.append((keyAt, try k.definedAddress("B-tree child address")))
        }
        for (keyAt, a) in children {
            if level == 0 { try leaf(keyAt, a) } else {
                try walk(c, at: a, type: type, keySize: keySize, level: level - 1, &seen, leaf: leaf)
            }
        }
    }
}
