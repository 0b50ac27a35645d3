// PNG decoder (ISO/IEC 15948): signature, chunks with CRC32 checked, IHDR, PLTE, tRNS, IDAT
// (zlib stream through modelc's own Inflate, Adler-32 checked), the five filter types, Adam7
// interlacing. Color types: grayscale (1/2/4/8/16-bit), RGB, palette (1/2/4/8-bit), gray+alpha,
// RGBA. 16-bit samples are rescaled to 8 bits with rounding, v * 255 / 65535 (as PGM and PPM
// samples are). Output is 8-bit, channels:
// gray 1, gray+alpha 2, RGB 3, RGBA 4, palette 3 (4 with a tRNS chunk).
// The chunk walk and IHDR: PNGChunks.swift; unfiltering and pixel output: PNGScanlines.swift.

public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func isPNG(_ b: [UInt8]) -> Bool { b.count >= 8 && Array(b[0..<8]) == signature }

    @inline(__always) static func be32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
    }

    public static func decode(_ b: [UInt8], file: String) throws -> DecodedImage {
        guard isPNG(b) else {
            throw DataError(file: file, offset: 0, message: "not a PNG file: expected signature 89 50 4e 47 0d 0a 1a 0a, found \(b.prefix(8).map { hex8($0) }.joined(separator: " "))")
        }
        let chunks = try PNGChunks.read(b, file: file)
        let h = chunks.header
        let expected = h.filteredSize
        let raw = try Zlib.decompress(chunks.idat, file: file, expectedSize: expected)
        if raw.count != expected {
            throw DataError(file: file, message: "image data inflates to \(raw.count) bytes, expected \(expected) for \(h.width)x\(h.height) color type \(h.colorType) depth \(h.depth)\(h.interlace == 1 ? " interlaced" : "")")
        }
        var image = PNGScanlines(header: h, palette: chunks.palette, trns: chunks.trns, file: file)
        try image.fill(from: raw)
        return DecodedImage(width: h.width, height: h.height, channels: image.outChannels, pixels: image.out)
    }
}

/// Zlib streams (RFC 1950): 2-byte header, deflate data, Adler-32 of the output.
public enum Zlib {
    public static func decompress(_ b: [UInt8], file: String, expectedSize: Int) throws -> [UInt8] {
        guard b.count >= 6 else {
            throw DataError(file: file, message: "zlib stream of \(b.count) bytes is too short (expected at least 6)")
        }
        let cmf = Int(b[0]), flg = Int(b[1])
        if cmf & 0x0F != 8 || (cmf >> 4) > 7 {
            throw DataError(file: file, message: "zlib header 0x\(hex8(b[0])): expected deflate (method 8, window <= 32K)")
        }
        if (cmf * 256 + flg) % 31 != 0 {
            throw DataError(file: file, message: "zlib header check failed (0x\(hex8(b[0])) 0x\(hex8(b[1])) is not a multiple of 31)")
        }
        if flg & 0x20 != 0 { throw DataError(file: file, message: "zlib preset dictionary is not supported") }
        let (out, used) = try Inflate.inflate(b, start: 2, maxOutput: expectedSize, expectedSize: expectedSize, file: file + "(image data)")
        let p = 2 + used
        guard p + 4 <= b.count else {
            throw DataError(file: file, message: "zlib stream ends before its Adler-32 checksum")
        }
        let stored = UInt32(b[p]) << 24 | UInt32(b[p + 1]) << 16 | UInt32(b[p + 2]) << 8 | UInt32(b[p + 3])
        let actual = adler32(out)
        if stored != actual {
            throw DataError(file: file, message: "zlib Adler-32 mismatch: stored 0x\(hex32(stored)), computed 0x\(hex32(actual))")
        }
        return out
    }

    public static func adler32(_ d: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < d.count {
            let end = min(i + 5552, d.count)
            while i < end { a += UInt32(d[i]); b += a; i += 1 }
            a %= 65521; b %= 65521
        }
        return b << 16 | a
    }
}
