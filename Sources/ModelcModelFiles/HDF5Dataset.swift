// HDF5 datasets: the data layout message (version 3: compact, contiguous, chunked with a v1
// B-tree index; version 4 adds single-chunk and fixed-array chunk indexes), the filter pipeline
// (deflate and shuffle) and the assembly of chunks into one C-order array. The declared size is
// checked against the element limit and against what the file can hold before anything is
// allocated; every element must be covered by exactly the stored data (a missing chunk is an
// error, not a silent fill value).

import ModelcData

enum HDF5Dataset {
    /// Deflate cannot expand more than 1032:1, so a file cannot hold more data than this.
    static let maxExpansion = 1032

    struct Filter { let id: Int; let clientData: [Int] }

    static func read(_ c: HDF5Cursor, _ h: HDF5ObjectHeader, name: String) throws -> NDArray {
        guard let space = h.first(HDF5Message.dataspace), let type = h.first(HDF5Message.datatype),
              let layout = h.first(HDF5Message.layout) else {
            throw c.fail("dataset '\(name)': expected dataspace, datatype and layout messages", at: h.address)
        }
        if h.first(HDF5Message.externalFiles) != nil {
            throw c.fail("dataset '\(name)' stores its data in external files; not supported", at: h.address)
        }
        let datatype = try HDF5Datatype.parse(try c.sub(at: type.start, count: type.size, "datatype message"))
        guard let shape = try HDF5Dataspace.parse(try c.sub(at: space.start, count: space.size, "dataspace message")) else {
            return try datatype.array([], shape: [0], file: c.file, offset: h.address)
        }
        guard datatype.descr != nil else {
            throw c.fail("dataset '\(name)': expected a numeric datatype (integer or float), found a \(datatype.description)", at: type.start)
        }
        let limit = min(DataLimits.maxDecompressedBytes, c.bytes.count.multipliedReportingOverflow(by: maxExpansion).partialValue)
        guard let count = checkedProduct(shape, limit: DataLimits.maxElements),
              case let (bytes, overflow) = count.multipliedReportingOverflow(by: datatype.size), !overflow, bytes <= limit else {
            throw c.fail("dataset '\(name)' declares shape \(shape) of \(datatype.size)-byte elements, more than this \(c.bytes.count)-byte file can hold (limit \(limit) bytes)", at: space.start)
        }
        let filters = try h.first(HDF5Message.filters).map { try pipeline(try c.sub(at: $0.start, count: $0.size, "filter pipeline message")) } ?? []
        var l = try c.sub(at: layout.start, count: layout.size, "data layout message")
        let raw = try data(&l, shape: shape, elementSize: datatype.size, filters: filters, name: name)
        return try datatype.array(raw, shape: shape, file: c.file, offset: layout.start)
    }

    /// The dataset's raw bytes, in C order, from its layout message.
    static func data(_ l: inout HDF5Cursor, shape: [Int], elementSize: Int, filters: [Filter], name: String) throws -> [UInt8] {
        let start = l.pos
        let bytes = shape.reduce(1, *) * elementSize
        let version = try l.u8("data layout version")
        guard version == 3 || version == 4 else { throw l.fail("dataset '\(name)': data layout version \(version), expected 3 or 4", at: start) }
        let layoutClass = try l.u8("data layout class")
        switch layoutClass {
        case 0:
            let size = try l.u16("compact data size")
            guard size == bytes else { throw l.fail("dataset '\(name)': compact data of \(size) bytes, expected \(bytes)", at: start) }
            return Array(try l.raw(size, "compact data"))
        case 1:
            let at = l.pos
            let address = try l.address("contiguous data address")
            let size = try l.length("contiguous data size")
            guard size == bytes, let address else {
                throw l.fail("dataset '\(name)': contiguous data of \(size) bytes\(address == nil ? " (never written)" : ""), expected \(bytes)", at: at)
            }
            var d = try l.sub(at: address, count: size, "dataset '\(name)' data")
            return Array(try d.raw(size, "dataset data"))
        case 2:
            return try HDF5Chunks(l: &l, version: version, shape: shape, elementSize: elementSize, filters: filters, name: name).read()
        default:
            throw l.fail("dataset '\(name)': data layout class \(layoutClass) (virtual?) is not supported", at: start + 1)
        }
    }

    /// Filter pipeline message, versions 1 and 2. Only deflate (1) and shuffle (2) are accepted.
    static func pipeline(_ c0: HDF5Cursor) throws -> [Filter] {
        var c = c0
        let version = try c.u8("filter pipeline version")
        guard version == 1 || version == 2 else { throw c.fail("filter pipeline version \(version), expected 1 or 2") }
        let count = try c.u8("filter count")
        if version == 1 { try c.skip(6, "filter pipeline reserved bytes") }
        var out: [Filter] = []
        for _ in 0..<count {
            let at = c.pos
            let id = try c.u16("filter id")
            let nameLength = version == 1 || id >= 256 ? try c.u16("filter name length") : 0
            try c.skip(2, "filter flags")
            let values = try c.u16("filter client data count")
            try c.skip(version == 1 ? (nameLength + 7) / 8 * 8 : nameLength, "filter name")
            var data: [Int] = []
            for _ in 0..<values { data.append(try c.u32("filter client data")) }
            if version == 1 && values % 2 == 1 { try c.skip(4, "filter padding") }
            guard id == 1 || id == 2 else {
                let known = [3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32001: "blosc", 32004: "lz4", 32015: "zstd"]
                throw c.fail("filter \(id)\(known[id].map { " (\($0))" } ?? "") is not supported; modelc reads deflate (gzip) and shuffle", at: at)
            }
            out.append(Filter(id: id, clientData: data))
        }
        return out
    }

    /// Undoes the filters (last applied first) of one stored chunk; `mask` bit i skips filter i.
    static func unfilter(_ stored: [UInt8], filters: [Filter], mask: Int, size: Int, elementSize: Int,
                         file: String, at: Int) throws -> [UInt8] {
        var b = stored
        for (i, f) in filters.enumerated().reversed() where mask & (1 << i) == 0 {
            if f.id == 1 {
                b = try Zlib.decompress(b, file: "\(file) (chunk at offset \(at))", expectedSize: size)
            } else if elementSize > 1 {
                b = unshuffle(b, elementSize: elementSize)
            }
        }
        guard b.count == size else {
            throw DataError(file: file, offset: at, message: "chunk holds \(b.count) bytes after its filters, expected \(size)")
        }
        return b
    }

    /// Shuffle stores byte k of every element together; this puts each element back together.
    static func unshuffle(_ b: [UInt8], elementSize s: Int) -> [UInt8] {
        let n = b.count / s
        var out = b
        for k in 0..<s { for i in 0..<n { out[i * s + k] = b[k * n + i] } }
        return out
    }
}

/// A chunked dataset: the chunk shape and its index, assembled into one C-order buffer.
struct HDF5Chunks {
    let c: HDF5Cursor
    let shape: [Int]
    let chunk: [Int]
    let elementSize: Int
    let filters: [HDF5Dataset.Filter]
    let name: String
    let index: Index
    let chunkBytes: Int

    enum Index { case btree(Int), single(Int, size: Int?, mask: Int), fixedArray(Int) }

    init(l: inout HDF5Cursor, version: Int, shape: [Int], elementSize: Int, filters: [HDF5Dataset.Filter], name: String) throws {
        let start = l.pos
        var dims: [Int] = []
        if version == 3 {
            let rank = try l.u8("chunk dimensionality")
            let tree = try l.address("chunk B-tree address")
            for i in 0..<rank { dims.append(try l.u32("chunk dimension \(i)")) }
            guard let tree else { throw l.fail("dataset '\(name)' has no chunks written", at: start) }
            index = .btree(tree)
        } else {
            let flags = try l.u8("chunked layout flags")
            let rank = try l.u8("chunk dimensionality")
            let width = try l.u8("chunk dimension size width")
            guard (1...8).contains(width) else { throw l.fail("chunk dimension width \(width), expected 1 to 8") }
            for i in 0..<rank { dims.append(try l.uint(width, "chunk dimension \(i)")) }
            let kind = try l.u8("chunk index type")
            switch kind {
            case 1:
                let filtered = flags & 0x02 != 0
                let size = filtered ? try l.length("filtered chunk size") : nil
                let mask = filtered ? try l.u32("filter mask") : 0
                index = .single(try l.definedAddress("chunk address"), size: size, mask: mask)
            case 3:
                try l.skip(1, "fixed array page bits")
                index = .fixedArray(try l.definedAddress("fixed array header address"))
            default:
                let names = [2: "implicit", 4: "extensible array", 5: "v2 B-tree"]
                throw l.fail("dataset '\(name)': \(names[kind] ?? "type \(kind)") chunk index is not supported", at: l.pos - 1)
            }
        }
        guard dims.count == shape.count + 1, dims.last == elementSize, dims.dropLast().allSatisfy({ $0 >= 1 }) else {
            throw l.fail("dataset '\(name)': chunk dimensions \(dims) do not fit shape \(shape) of \(elementSize)-byte elements", at: start)
        }
        chunk = Array(dims.dropLast())
        guard let n = checkedProduct(chunk, limit: DataLimits.maxElements), n * elementSize <= DataLimits.maxDecompressedBytes else {
            throw l.fail("dataset '\(name)': chunk shape \(chunk) is too large", at: start)
        }
        chunkBytes = n * elementSize
        c = l; self.shape = shape; self.elementSize = elementSize; self.filters = filters; self.name = name
    }

    func read() throws -> [UInt8] {
        let total = shape.reduce(1, *)
        var out = [UInt8](repeating: 0, count: total * elementSize)
        var covered = 0
        var done = Set<[Int]>()
        func place(_ offsets: [Int], _ at: Int, _ stored: Int, _ mask: Int) throws {
            guard offsets.count == shape.count, zip(offsets, zip(shape, chunk)).allSatisfy({ $0 >= 0 && $0 < $1.0 && $0 % $1.1 == 0 }),
                  done.insert(offsets).inserted else {
                throw c.fail("dataset '\(name)': chunk at \(offsets) is outside shape \(shape), misaligned to chunk \(chunk) or repeated", at: at)
            }
            var k = try c.sub(at: at, count: stored, "dataset '\(name)' chunk")
            let bytes = try HDF5Dataset.unfilter(Array(try k.raw(stored, "chunk")), filters: filters, mask: mask, size: chunkBytes,
                                                 elementSize: elementSize, file: c.file, at: at)
            covered += copy(bytes, at: offsets, into: &out)
        }
        switch index {
        case .btree(let tree):
            var seen = Set<Int>()
            let keySize = 8 + 8 * (shape.count + 1)
            try HDF5BTree1.walk(c, at: tree, type: 1, keySize: keySize, &seen) { keyAt, address in
                var k = try c.sub(at: keyAt, count: keySize, "chunk key")
                let size = try k.u32("chunk size"), mask = try k.u32("filter mask")
                let offsets = try shape.indices.map { _ in try k.uint(8, "chunk offset") }
                try place(offsets, address, size, mask)
            }
        case .single(let at, let size, let mask):
            try place(shape.map { _ in 0 }, at, size ?? chunkBytes, mask)
        case .fixedArray(let header):
            try fixedArray(header, place)
        }
        guard covered == total else {
            throw c.fail("dataset '\(name)': its chunks hold \(covered) of \(total) elements (unwritten chunks are not supported)", at: c.pos)
        }
        return out
    }

    /// Fixed array chunk index (unpaged): one entry per chunk, in C order of the chunk grid.
    func fixedArray(_ header: Int, _ place: ([Int], Int, Int, Int) throws -> Void) throws {
        var h = try c.sub(at: header, count: 4, "fixed array header")
        h.end = c.bytes.count
        try h.signature("FAHD", "fixed array header")
        try h.skip(1, "fixed array version")
        let client = try h.u8("fixed array client")
        let entrySize = try h.u8("fixed array entry size")
        let pageBits = try h.u8("fixed array page bits")
        let count = try h.length("fixed array entry count")
        let block = try h.definedAddress("fixed array data block address")
        try h.checksum(from: header, "fixed array header")
        let grid = zip(shape, chunk).map { ($0 + $1 - 1) / $1 }
        guard count == grid.reduce(1, *), count <= 1 << pageBits else {
            throw h.fail("fixed array of \(count) entries (page bits \(pageBits)) does not fit chunk grid \(grid) or is paged (not supported)", at: header)
        }
        let sizeBytes = entrySize - c.offsetSize - 4
        guard client <= 1, client == 0 ? entrySize == c.offsetSize : (1...8).contains(sizeBytes) else {
            throw h.fail("fixed array client \(client) with \(entrySize)-byte entries is not valid", at: header)
        }
        var d = try c.sub(at: block, count: 6 + c.offsetSize, "fixed array data block")
        d.end = c.bytes.count
        try d.signature("FADB", "fixed array data block")
        try d.skip(2 + c.offsetSize, "fixed array data block header")
        for i in 0..<count {
            let at = try d.definedAddress("chunk address")
            let size = client == 1 ? try d.uint(sizeBytes, "chunk size") : chunkBytes
            let mask = client == 1 ? try d.u32("filter mask") : 0
            var rest = i, offsets = [Int](repeating: 0, count: grid.count)
            for j in grid.indices.reversed() { offsets[j] = rest % grid[j] * chunk[j]; rest /= grid[j] }
            try place(offsets, at, size, mask)
        }
        try d.checksum(from: block, "fixed array data block")
    }

    /// Copies the part of a chunk that lies inside the dataset; returns the elements copied.
    func copy(_ b: [UInt8], at offsets: [Int], into out: inout [UInt8]) -> Int {
        let rank = shape.count
        guard rank > 0 else { out.replaceSubrange(0..<elementSize, with: b.prefix(elementSize)); return 1 }
        let runs = zip(shape, zip(offsets, chunk)).map { min($1.1, $0 - $1.0) }
        let run = runs[rank - 1] * elementSize
        var idx = [Int](repeating: 0, count: rank - 1)
        var copied = 0
        while true {
            var src = 0, dst = 0
            for j in 0..<(rank - 1) {
                src = src * chunk[j] + idx[j]
                dst = dst * shape[j] + offsets[j] + idx[j]
            }
            src = src * chunk[rank - 1] * elementSize
            dst = (dst * shape[rank - 1] + offsets[rank - 1]) * elementSize
            out.replaceSubrange(dst..<(dst + run), with: b[src..<(src + run)])
            copied += runs[rank - 1]
            var j = rank - 2
            while j >= 0 { idx[j] += 1; if idx[j] < runs[j] { break }; idx[j] = 0; j -= 1 }
            if j < 0 { return copied }
        }
    }
}
