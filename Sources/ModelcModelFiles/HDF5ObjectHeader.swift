// HDF5 object headers, versions 1 and 2, with their continuation blocks: the list of messages
// (type, flags, where the message data lies). See HDF5Superblock.swift for the design notes.

import ModelcData

struct HDF5Message {
    let type: Int
    let flags: Int
    /// Offset and size of the message data in the file.
    let start: Int
    let size: Int

    static let dataspace = 0x01, linkInfo = 0x02, datatype = 0x03, link = 0x06, externalFiles = 0x07
    static let layout = 0x08, filters = 0x0B, attribute = 0x0C, continuation = 0x10
    static let symbolTable = 0x11, attributeInfo = 0x15
}

struct HDF5ObjectHeader {
    let address: Int
    let messages: [HDF5Message]

    func first(_ type: Int) -> HDF5Message? { messages.first { $0.type == type } }
    func all(_ type: Int) -> [HDF5Message] { messages.filter { $0.type == type } }

    /// At most this many continuation blocks per object header.
    static let maxBlocks = 4096
    /// At most this many messages per object header.
    static let maxMessages = 1 << 16

    static func read(_ base: HDF5Cursor, at address: Int) throws -> HDF5ObjectHeader {
        var c = try base.sub(at: address, count: 4, "object header")
        c.end = base.bytes.count
        if base.bytes[address..<(address + 4)].elementsEqual("OHDR".utf8) {
            return HDF5ObjectHeader(address: address, messages: try readV2(c, at: address))
        }
        return HDF5ObjectHeader(address: address, messages: try readV1(c, at: address))
    }

    /// Version 1: 16-byte prefix (version 1, message count, reference count, size), then
    /// messages of 8-byte header (type 2, size 2, flags 1, reserved 3).
    static func readV1(_ base: HDF5Cursor, at address: Int) throws -> [HDF5Message] {
        var c = base
        let version = try c.u8("object header version")
        guard version == 1 else {
            throw c.fail("expected an object header (version 1, or signature 'OHDR'), found version byte \(version)", at: address)
        }
        try c.skip(1, "object header reserved byte")
        let count = try c.u16("object header message count")
        try c.skip(4, "object header reference count")
        let size = try c.u32("object header size")
        try c.skip(4, "object header padding")
        var blocks = [(c.pos, size)]
        var seen = Set<Int>()
        var out: [HDF5Message] = []
        while let (start, size) = blocks.popLast() {
            guard seen.insert(start).inserted, seen.count <= maxBlocks else {
                throw c.fail("object header continuation blocks loop back or exceed \(maxBlocks)", at: start)
            }
            var m = try c.sub(at: start, count: size, "object header block")
            while m.end - m.pos >= 8 && out.count < count {
                let type = try m.u16("message type"), msize = try m.u16("message size")
                let flags = try m.u8("message flags")
                try m.skip(3, "message reserved bytes")
                try m.need(msize, "message type 0x\(String(type, radix: 16)) data")
                out.append(try message(type, flags, m.pos, msize, &blocks, c))
                m.pos += msize
            }
        }
        return out
    }

    /// Version 2: "OHDR", version 2, flags, optional times and attribute phase-change values,
    /// chunk 0 size (1-8 bytes); messages of type 1, size 2, flags 1 (+ creation order 2);
    /// a lookup3 checksum ends every block; continuation blocks start with "OCHK".
    static func readV2(_ base: HDF5Cursor, at address: Int) throws -> [HDF5Message] {
        var c = base
        try c.signature("OHDR", "object header")
        let version = try c.u8("object header version")
        guard version == 2 else { throw c.fail("object header 'OHDR' version \(version), expected 2", at: address + 4) }
        let flags = try c.u8("object header flags")
        if flags & 0x20 != 0 { try c.skip(16, "object header times") }
        if flags & 0x10 != 0 { try c.skip(4, "object header attribute phase change values") }
        let size = try c.uint(1 << (flags & 3), "object header chunk 0 size")
        let orderBytes = flags & 0x04 != 0 ? 2 : 0
        var blocks: [(Int, Int)] = []
        var out: [HDF5Message] = []
        try messagesV2(c, blockStart: address, start: c.pos, size: size, orderBytes: orderBytes, &out, &blocks)
        var seen = Set<Int>()
        while let (start, size) = blocks.popLast() {
            guard seen.insert(start).inserted, seen.count <= maxBlocks else {
                throw c.fail("object header continuation blocks loop back or exceed \(maxBlocks)", at: start)
            }
            var k = try c.sub(at: start, count: size, "object header continuation block")
            try k.signature("OCHK", "object header continuation block")
            guard size >= 8 else { throw c.fail("continuation block of \(size) bytes, expected at least 8", at: start) }
            try messagesV2(c, blockStart: start, start: start + 4, size: size - 8, orderBytes: orderBytes, &out, &blocks)
        }
        return out
    }

    static func messagesV2(_ c: HDF5Cursor, blockStart: Int, start: Int, size: Int, orderBytes: Int,
                           _ out: inout [HDF5Message], _ blocks: inout [(Int, Int)]) throws {
        var m = try c.sub(at: start, count: size, "object header messages")
        let headerSize = 4 + orderBytes
        while m.end - m.pos >= headerSize {
            let type = try m.u8("message type"), msize = try m.u16("message size")
            let flags = try m.u8("message flags")
            try m.skip(orderBytes, "message creation order")
            try m.need(msize, "message type 0x\(String(type, radix: 16)) data")
            out.append(try message(type, flags, m.pos, msize, &blocks, c))
            m.pos += msize
            guard out.count <= maxMessages else { throw m.fail("object header holds more than \(maxMessages) messages") }
        }
        var k = try c.sub(at: start + size, count: 4, "object header checksum")
        try k.checksum(from: blockStart, "object header")
    }

    /// One message; a continuation message queues its block instead.
    static func message(_ type: Int, _ flags: Int, _ start: Int, _ size: Int,
                        _ blocks: inout [(Int, Int)], _ c: HDF5Cursor) throws -> HDF5Message {
        if type == HDF5Message.continuation {
            var k = try c.sub(at: start, count: size, "continuation message")
            let at = try k.definedAddress("continuation block address")
            let length = try k.length("continuation block length")
            blocks.append((at, length))
        }
        if flags & 0x02 != 0 && type != 0 {
            throw c.fail("message type 0x\(String(type, radix: 16)) is shared (stored elsewhere); shared messages are not supported", at: start)
        }
        return HDF5Message(type: type, flags: flags, start: start, size: size)
    }
}
