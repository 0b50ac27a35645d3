// PNG chunks (for PNG.decode): the walk from the signature to IEND with each chunk's length
// and CRC32 checked, the chunk rules (IHDR first and once, PLTE size, unknown critical chunks
// rejected, IHDR, IEND, IDAT and a palette's PLTE required), the checked IHDR fields and the
// geometry that follows from them (samples, Adam7 passes, filtered data size).

/// The chunks a decode needs: the header, PLTE, tRNS and the IDAT payloads concatenated.
struct PNGChunks {
    let header: PNGHeader
    let palette: [UInt8]
    let trns: [UInt8]
    let idat: [UInt8]

    /// Walks the chunks after the 8-byte signature up to IEND, then checks what must have come.
    static func read(_ b: [UInt8], file: String) throws -> PNGChunks {
        var walk = PNGChunkWalk(file: file)
        var p = 8
        while p < b.count {
            let (type, data) = try chunk(b, at: p, file: file)
            try walk.take(type, data, at: p)
            p += 12 + data.count
            if walk.sawEnd { break }
        }
        return try walk.finish(fileSize: b.count)
    }

    /// The chunk at offset `p`: its type and payload, with the length bounded and the CRC checked.
    static func chunk(_ b: [UInt8], at p: Int, file: String) throws -> (type: String, data: ArraySlice<UInt8>) {
        guard p + 12 <= b.count else {
            throw DataError(file: file, offset: p, message: "PNG chunk header ends early: expected 12 bytes (length, type, CRC), found \(b.count - p)")
        }
        let len = PNG.be32(b, p)
        let type = String(decoding: b[(p + 4)..<(p + 8)], as: UTF8.self)
        guard len <= 0x7FFF_FFFF, p + 12 + len <= b.count else {
            throw DataError(file: file, offset: p, message: "chunk '\(type)' declares \(len) bytes but only \(max(0, b.count - p - 12)) remain")
        }
        let data = b[(p + 8)..<(p + 8 + len)]
        let stored = UInt32(PNG.be32(b, p + 8 + len))
        let crc = CRC32.checksum(b[(p + 4)..<(p + 8 + len)])
        if stored != crc {
            throw DataError(file: file, offset: p + 8 + len, message: "CRC mismatch in chunk '\(type)': stored 0x\(hex32(stored)), computed 0x\(hex32(crc))")
        }
        return (type, data)
    }
}

/// The state of the chunk walk: what has been seen so far.
private struct PNGChunkWalk {
    let file: String
    var header: PNGHeader? = nil
    var sawEnd = false
    var palette: [UInt8] = []
    var trns: [UInt8] = []
    var idat: [UInt8] = []

    init(file: String) { self.file = file }

    /// Takes one CRC-checked chunk (at offset `p`) by its type.
    mutating func take(_ type: String, _ data: ArraySlice<UInt8>, at p: Int) throws {
        if header == nil && type != "IHDR" {
            throw DataError(file: file, offset: p, message: "expected the IHDR chunk first, found '\(type)'")
        }
        switch type {
        case "IHDR":
            if header != nil { throw DataError(file: file, offset: p, message: "second IHDR chunk") }
            header = try PNGHeader(data, at: p, file: file)
        case "PLTE":
            guard data.count % 3 == 0, data.count > 0, data.count <= 768 else {
                throw DataError(file: file, offset: p, message: "PLTE is \(data.count) bytes, expected a multiple of 3 up to 768")
            }
            palette = Array(data)
        case "tRNS":
            trns = Array(data)
        case "IDAT":
            idat.append(contentsOf: data)
        case "IEND":
            sawEnd = true
        default:
            // Unknown critical chunks (uppercase first letter) cannot be skipped safely.
            if let f = type.unicodeScalars.first, f.value >= 65 && f.value <= 90 {
                throw DataError(file: file, offset: p, message: "unknown critical chunk '\(type)'")
            }
        }
    }

    /// The chunks, once the walk has ended (at IEND or at the end of a file of `fileSize` bytes).
    func finish(fileSize: Int) throws -> PNGChunks {
        guard let h = header else { throw DataError(file: file, offset: 8, message: "no IHDR chunk") }
        if !sawEnd { throw DataError(file: file, offset: fileSize, message: "PNG ends without an IEND chunk (file truncated)") }
        if idat.isEmpty { throw DataError(file: file, offset: fileSize, message: "no IDAT chunk (no image data)") }
        if h.colorType == 3 && palette.isEmpty {
            throw DataError(file: file, offset: 8, message: "palette image (color type 3) without a PLTE chunk")
        }
        return PNGChunks(header: h, palette: palette, trns: trns, idat: idat)
    }
}

/// One Adam7 pass (or the whole image): the pixels (x0 + i * dx, y0 + j * dy).
struct PNGPass {
    let x0: Int, y0: Int, dx: Int, dy: Int

    /// Pixels per row and rows of this pass in a width x height image.
    func extent(width: Int, height: Int) -> (w: Int, h: Int) {
        ((width - x0 + dx - 1) / dx, (height - y0 + dy - 1) / dy)
    }
}

/// The IHDR fields, checked, and the image geometry that follows from them.
struct PNGHeader {
    let width: Int, height: Int, depth: Int, colorType: Int, interlace: Int
    /// Samples per pixel: gray 1, RGB 3, palette index 1, gray+alpha 2, RGBA 4.
    let samples: Int
    var bitsPerPixel: Int { samples * depth }

    /// Reads the payload of the IHDR chunk at offset `p`.
    init(_ data: ArraySlice<UInt8>, at p: Int, file: String) throws {
        guard data.count == 13 else { throw DataError(file: file, offset: p, message: "IHDR is \(data.count) bytes, expected 13") }
        let d = Array(data)
        width = PNG.be32(d, 0); height = PNG.be32(d, 4)
        depth = Int(d[8]); colorType = Int(d[9]); interlace = Int(d[12])
        if width == 0 || height == 0 || width > DataLimits.maxImageSide || height > DataLimits.maxImageSide || width * height > DataLimits.maxImagePixels {
            throw DataError(file: file, offset: p + 8, message: "image size \(width)x\(height) is zero or exceeds the limit (\(DataLimits.maxImageSide) per side, \(DataLimits.maxImagePixels) pixels)")
        }
        let allowed: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let depths = allowed[colorType] else {
            throw DataError(file: file, offset: p + 17, message: "invalid color type \(colorType) (expected 0, 2, 3, 4 or 6)")
        }
        if !depths.contains(depth) {
            throw DataError(file: file, offset: p + 16, message: "bit depth \(depth) is not allowed for color type \(colorType) (expected \(depths.map(String.init).joined(separator: ", ")))")
        }
        if d[10] != 0 || d[11] != 0 {
            throw DataError(file: file, offset: p + 18, message: "unknown compression/filter method \(d[10])/\(d[11]) (expected 0/0)")
        }
        if interlace > 1 {
            throw DataError(file: file, offset: p + 20, message: "unknown interlace method \(interlace) (expected 0 or 1)")
        }
        samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
    }

    /// Adam7's seven passes when interlaced, else one pass over the whole image.
    var passes: [PNGPass] {
        interlace == 1
            ? [PNGPass(x0: 0, y0: 0, dx: 8, dy: 8), PNGPass(x0: 4, y0: 0, dx: 8, dy: 8), PNGPass(x0: 0, y0: 4, dx: 4, dy: 8),
               PNGPass(x0: 2, y0: 0, dx: 4, dy: 4), PNGPass(x0: 0, y0: 2, dx: 2, dy: 4), PNGPass(x0: 1, y0: 0, dx: 2, dy: 2),
               PNGPass(x0: 0, y0: 1, dx: 1, dy: 2)]
            : [PNGPass(x0: 0, y0: 0, dx: 1, dy: 1)]
    }

    /// Expected raw (filtered) size: a filter byte and the packed samples per row of every
    /// non-empty pass. It bounds the inflate output exactly.
    var filteredSize: Int {
        var expected = 0
        for ps in passes {
            let (w, h) = ps.extent(width: width, height: height)
            if w > 0 && h > 0 { expected += h * (1 + (w * bitsPerPixel + 7) / 8) }
        }
        return expected
    }
}
