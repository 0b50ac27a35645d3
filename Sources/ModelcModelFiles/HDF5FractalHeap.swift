// HDF5 dense storage: the fractal heap that holds a large group's link messages (or an object's
// attribute messages), and the version 2 B-tree whose records name them by heap ID.
// Managed and tiny heap objects are read; huge objects and filtered heaps are refused.

import ModelcData

struct HDF5FractalHeap {
    let c: HDF5Cursor
    let address: Int
    let idLength: Int
    let tableWidth: Int
    let startBlockSize: Int
    let maxDirectBlockSize: Int
    let maxHeapBits: Int
    let rootAddress: Int?
    let rootRows: Int
    let checksummedBlocks: Bool
    let maxManagedSize: Int

    var offsetBytes: Int { (maxHeapBits + 7) / 8 }

    /// Link info or attribute info message (version, flags, optional maximum creation index,
    /// heap address, name index address): where dense storage is, or nil when storage is compact.
    static func denseStorage(_ c: HDF5Cursor, _ m: HDF5Message, _ what: String, creationIndexBytes: Int) throws -> (heap: Int, index: Int)? {
        var k = try c.sub(at: m.start, count: m.size, "\(what) info message")
        try k.skip(1, "\(what) info version")
        let flags = try k.u8("\(what) info flags")
        if flags & 1 != 0 { try k.skip(creationIndexBytes, "maximum creation index") }
        guard let heap = try k.address("\(what) fractal heap address") else { return nil }
        return (heap, try k.definedAddress("\(what) name index address"))
    }

    init(_ base: HDF5Cursor, at address: Int) throws {
        var c = try base.sub(at: address, count: 4, "fractal heap header")
        c.end = base.bytes.count
        try c.signature("FRHP", "fractal heap header")
        guard try c.u8("fractal heap version") == 0 else { throw c.fail("fractal heap version, expected 0", at: address + 4) }
        idLength = try c.u16("heap ID length")
        let filterLength = try c.u16("I/O filter length")
        guard filterLength == 0 else { throw c.fail("filtered fractal heaps are not supported", at: address + 7) }
        let flags = try c.u8("fractal heap flags")
        maxManagedSize = try c.u32("maximum managed object size")
        try c.skip(c.lengthSize + c.offsetSize + c.lengthSize + c.offsetSize + 8 * c.lengthSize, "fractal heap statistics")
        tableWidth = try c.u16("fractal heap table width")
        startBlockSize = try c.length("starting block size")
        maxDirectBlockSize = try c.length("maximum direct block size")
        maxHeapBits = try c.u16("maximum heap size")
        try c.skip(2, "starting row count")
        rootAddress = try c.address("root block address")
        rootRows = try c.u16("root indirect block rows")
        try c.checksum(from: address, "fractal heap header")
        guard tableWidth >= 1, tableWidth <= 65536, startBlockSize >= 1, startBlockSize.nonzeroBitCount == 1,
              maxDirectBlockSize >= startBlockSize, maxDirectBlockSize.nonzeroBitCount == 1,
              maxDirectBlockSize <= 1 << 40, maxHeapBits >= 1, maxHeapBits <= 64, rootRows <= 64 else {
            throw c.fail("fractal heap doubling table (width \(tableWidth), start block \(startBlockSize), max direct block \(maxDirectBlockSize), \(maxHeapBits) address bits, \(rootRows) rows) is not valid", at: address)
        }
        self.c = c; self.address = address
        checksummedBlocks = flags & 0x02 != 0
    }

    /// The bytes of the object a heap ID names.
    func object(_ id: ArraySlice<UInt8>) throws -> ArraySlice<UInt8> {
        guard let first = id.first else { throw c.fail("empty heap ID", at: address) }
        switch (first >> 4) & 0x03 {
        case 0:
            var k = HDF5Cursor(bytes: Array(id), file: c.file, pos: 1, end: id.count, offsetSize: 8, lengthSize: 8, base: 0)
            let offset = try k.uint(offsetBytes, "heap ID offset")
            let log2Direct = Int.bitWidth - maxDirectBlockSize.leadingZeroBitCount - 1
            let lengthBytes = min((log2Direct + 7) / 8, Self.bytesFor(maxManagedSize))
            let length = try k.uint(lengthBytes, "heap ID length")
            return try managed(offset: offset, length: length)
        case 2:
            let n = Int(first & 0x0F) + 1
            guard n <= id.count - 1 else { throw c.fail("tiny heap object of \(n) bytes in a \(id.count)-byte heap ID", at: address) }
            return id.dropFirst().prefix(n)
        default:
            throw c.fail("huge fractal heap objects are not supported", at: address)
        }
    }

    static func bytesFor(_ v: Int) -> Int { v <= 0 ? 1 : ((Int.bitWidth - v.leadingZeroBitCount) + 7) / 8 }

    func rowSize(_ r: Int) -> Int { r == 0 ? startBlockSize : startBlockSize << (r - 1) }

    var maxDirectRows: Int {
        (Int.bitWidth - maxDirectBlockSize.leadingZeroBitCount) - (Int.bitWidth - startBlockSize.leadingZeroBitCount) + 2
    }

    /// Finds the managed object at heap `offset`, walking indirect blocks down to a direct block.
    func managed(offset: Int, length: Int) throws -> ArraySlice<UInt8> {
        guard let root = rootAddress else { throw c.fail("heap ID names offset \(offset) in an empty fractal heap", at: address) }
        var block = root, blockOffset = 0, rows = rootRows, depth = 0, blockSize = startBlockSize
        while rows > 0 {
            depth += 1
            guard depth <= 16 else { throw c.fail("fractal heap indirect blocks nest deeper than 16", at: block) }
            var k = try c.sub(at: block, count: 5 + c.offsetSize, "fractal heap indirect block")
            k.end = c.bytes.count
            try k.signature("FHIB", "fractal heap indirect block")
            try k.skip(1 + c.offsetSize + offsetBytes, "indirect block header")
            var rowStart = blockOffset, entry = 0, found = false
            for r in 0..<rows {
                guard r < 48 else { break }   // rows past 2^48-byte blocks cannot be addressed
                let span = rowSize(r).multipliedReportingOverflow(by: tableWidth)
                guard !span.overflow, !rowStart.addingReportingOverflow(span.partialValue).overflow else { break }
                if offset < rowStart + span.partialValue {
                    let col = (offset - rowStart) / rowSize(r)
                    entry += col
                    k.pos += entry * c.offsetSize   // direct-block entries, then indirect-block entries
                    guard let child = try k.address("fractal heap child block address") else {
                        throw c.fail("heap offset \(offset) lies in an unallocated block", at: block)
                    }
                    blockOffset = rowStart + col * rowSize(r)
                    blockSize = rowSize(r)
                    block = child
                    rows = r < maxDirectRows ? 0 : (Int.bitWidth - rowSize(r).leadingZeroBitCount - 1)
                        - (Int.bitWidth - (startBlockSize * tableWidth).leadingZeroBitCount - 1) + 1
                    found = true
                    break
                }
                rowStart += span.partialValue
                entry += tableWidth
            }
            guard found else { throw c.fail("heap offset \(offset) lies outside the fractal heap", at: block) }
        }
        var d = try c.sub(at: block, count: 5, "fractal heap direct block")
        d.end = c.bytes.count
        try d.signature("FHDB", "fractal heap direct block")
        let inside = offset - blockOffset
        guard inside >= 0, length <= blockSize, inside <= blockSize - length else {
            throw c.fail("heap object at offset \(offset) (\(length) bytes) does not fit its \(blockSize)-byte direct block", at: block)
        }
        var o = try c.sub(at: block + inside, count: length, "fractal heap object at heap offset \(offset)")
        return try o.raw(length, "heap object")
    }
}

/// Version 2 B-tree: every record, in key order (leaf and internal nodes).
enum HDF5BTree2 {
    static func records(_ base: HDF5Cursor, at address: Int, type: Int) throws -> [ArraySlice<UInt8>] {
        var c = try base.sub(at: address, count: 4, "v2 B-tree header")
        c.end = base.bytes.count
        try c.signature("BTHD", "v2 B-tree header")
        try c.skip(1, "v2 B-tree version")
        let found = try c.u8("v2 B-tree type")
        guard found == type else { throw c.fail("v2 B-tree of type \(found), expected type \(type)", at: address + 5) }
        let nodeSize = try c.u32("v2 B-tree node size"), recordSize = try c.u16("v2 B-tree record size")
        let depth = try c.u16("v2 B-tree depth")
        try c.skip(2, "v2 B-tree split and merge percents")
        let root = try c.address("v2 B-tree root node address")
        let rootCount = try c.u16("v2 B-tree root record count")
        let total = try c.length("v2 B-tree record total")
        try c.checksum(from: address, "v2 B-tree header")
        guard nodeSize >= 16, recordSize >= 1, depth <= 16, total <= base.bytes.count else {
            throw c.fail("v2 B-tree node size \(nodeSize), record size \(recordSize), depth \(depth), \(total) records is not valid", at: address)
        }
        guard let root else { return [] }
        var out: [ArraySlice<UInt8>] = []
        var seen = Set<Int>()
        let sizes = fieldSizes(nodeSize: nodeSize, recordSize: recordSize, depth: depth, offsetSize: c.offsetSize)
        try node(c, at: root, count: rootCount, depth: depth, recordSize: recordSize, sizes: sizes, &out, &seen)
        guard out.count == total else { throw c.fail("v2 B-tree holds \(out.count) records, its header says \(total)", at: address) }
        return out
    }

    /// Bytes of the record-count and total-count fields of the child pointers at each depth.
    static func fieldSizes(nodeSize: Int, recordSize: Int, depth: Int, offsetSize: Int) -> [(count: Int, total: Int)] {
        let leafMax = (nodeSize - 10) / recordSize
        let countBytes = HDF5FractalHeap.bytesFor(leafMax)
        var cumMax = [leafMax]
        var out: [(Int, Int)] = [(countBytes, 0)]
        for d in 1...max(1, depth) {
            let totalBytes = d > 1 ? HDF5FractalHeap.bytesFor(cumMax[d - 1]) : 0
            let pointer = offsetSize + countBytes + totalBytes
            let maxRecords = max(0, (nodeSize - (10 + pointer)) / (recordSize + pointer))
            let (m, o) = (maxRecords + 1).multipliedReportingOverflow(by: cumMax[d - 1])
            let (sum, o2) = m.addingReportingOverflow(maxRecords)
            cumMax.append(o || o2 ? Int.max / 2 : min(Int.max / 2, sum))
            out.append((countBytes, totalBytes))
        }
        return out
    }

    static func node(_ c: HDF5Cursor, at address: Int, count: Int, depth: Int, recordSize: Int,
                     sizes: [(count: Int, total: Int)], _ out: inout [ArraySlice<UInt8>], _ seen: inout Set<Int>) throws {
        guard seen.insert(address).inserted else { throw c.fail("v2 B-tree node visited twice (a loop)", at: address) }
        var k = try c.sub(at: address, count: 6, "v2 B-tree node")
        k.end = c.bytes.count
        try k.signature(depth == 0 ? "BTLF" : "BTIN", "v2 B-tree \(depth == 0 ? "leaf" : "internal") node")
        try k.skip(2, "v2 B-tree node version and type")
        var records: [ArraySlice<UInt8>] = []
        for _ in 0..<count { records.append(try k.raw(recordSize, "v2 B-tree record")) }
        if depth == 0 { out += records; return }
        var children: [(Int, Int)] = []
        for _ in 0...count {
            let child = try k.definedAddress("v2 B-tree child address")
            let n = try k.uint(sizes[depth].count, "v2 B-tree child record count")
            try k.skip(sizes[depth].total, "v2 B-tree child total record count")
            children.append((child, n))
        }
        for (i, (child, n)) in children.enumerated() {
            try node(c, at: child, count: n, depth: depth - 1, recordSize: recordSize, sizes: sizes, &out, &seen)
            if i < records.count { out.append(records[i]) }
        }
    }
}
