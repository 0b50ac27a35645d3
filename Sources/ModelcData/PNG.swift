// PNG decoder (ISO/IEC 15948): signature, chunks with CRC32 checked, IHDR, PLTE, tRNS, IDAT
// (zlib stream through modelc's own Inflate, Adler-32 checked), the five filter types, Adam7
// interlacing. Color types: grayscale (1/2/4/8/16-bit), RGB, palette (1/2/4/8-bit), gray+alpha,
// RGBA. 16-bit samples are reduced to 8 bits (high byte). Output is 8-bit, channels:
// gray 1, gray+alpha 2, RGB 3, RGBA 4, palette 3 (4 with a tRNS chunk).

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
        var p = 8
        var width = 0, height = 0, depth = 0, colorType = 0, interlace = 0
        var sawHeader = false, sawEnd = false
        var palette: [UInt8] = []
        var trns: [UInt8] = []
        var idat: [UInt8] = []
        while p < b.count {
            guard p + 12 <= b.count else {
                throw DataError(file: file, offset: p, message: "PNG chunk header ends early: expected 12 bytes (length, type, CRC), found \(b.count - p)")
            }
            let len = be32(b, p)
            let type = String(decoding: b[(p + 4)..<(p + 8)], as: UTF8.self)
            guard len <= 0x7FFF_FFFF, p + 12 + len <= b.count else {
                throw DataError(file: file, offset: p, message: "chunk '\(type)' declares \(len) bytes but only \(max(0, b.count - p - 12)) remain")
            }
            let data = b[(p + 8)..<(p + 8 + len)]
            let stored = UInt32(be32(b, p + 8 + len))
            let crc = CRC32.checksum(b[(p + 4)..<(p + 8 + len)])
            if stored != crc {
                throw DataError(file: file, offset: p + 8 + len, message: "CRC mismatch in chunk '\(type)': stored 0x\(hex32(stored)), computed 0x\(hex32(crc))")
            }
            if !sawHeader && type != "IHDR" {
                throw DataError(file: file, offset: p, message: "expected the IHDR chunk first, found '\(type)'")
            }
            switch type {
            case "IHDR":
                if sawHeader { throw DataError(file: file, offset: p, message: "second IHDR chunk") }
                guard len == 13 else { throw DataError(file: file, offset: p, message: "IHDR is \(len) bytes, expected 13") }
                let d = Array(data)
                width = be32(d, 0); height = be32(d, 4)
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
                sawHeader = true
            case "PLTE":
                guard len % 3 == 0, len > 0, len <= 768 else {
                    throw DataError(file: file, offset: p, message: "PLTE is \(len) bytes, expected a multiple of 3 up to 768")
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
            p += 12 + len
            if sawEnd { break }
        }
        if !sawHeader { throw DataError(file: file, offset: 8, message: "no IHDR chunk") }
        if !sawEnd { throw DataError(file: file, offset: b.count, message: "PNG ends without an IEND chunk (file truncated)") }
        if idat.isEmpty { throw DataError(file: file, offset: b.count, message: "no IDAT chunk (no image data)") }
        if colorType == 3 && palette.isEmpty {
            throw DataError(file: file, offset: 8, message: "palette image (color type 3) without a PLTE chunk")
        }

        let samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
        let bitsPerPixel = samples * depth
        let bpp = max(1, bitsPerPixel / 8)   // filter byte distance
        // Expected raw (filtered) size, to bound the inflate output exactly.
        let passes: [(x0: Int, y0: Int, dx: Int, dy: Int)] = interlace == 1
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)]
        var expected = 0
        for ps in passes {
            let w = (width - ps.x0 + ps.dx - 1) / ps.dx, h = (height - ps.y0 + ps.dy - 1) / ps.dy
            if w > 0 && h > 0 { expected += h * (1 + (w * bitsPerPixel + 7) / 8) }
        }
        let raw = try Zlib.decompress(idat, file: file, expectedSize: expected)
        if raw.count != expected {
            throw DataError(file: file, message: "image data inflates to \(raw.count) bytes, expected \(expected) for \(width)x\(height) color type \(colorType) depth \(depth)\(interlace == 1 ? " interlaced" : "")")
        }

        let outChannels = colorType == 3 ? (trns.isEmpty ? 3 : 4) : samples
        var out = [UInt8](repeating: 0, count: width * height * outChannels)
        var rp = 0
        for ps in passes {
            let w = (width - ps.x0 + ps.dx - 1) / ps.dx, h = (height - ps.y0 + ps.dy - 1) / ps.dy
            if w <= 0 || h <= 0 { continue }
            let stride = (w * bitsPerPixel + 7) / 8
            var prev = [UInt8](repeating: 0, count: stride)
            var cur = [UInt8](repeating: 0, count: stride)
            for y in 0..<h {
                let ft = raw[rp]
                let rowStart = rp + 1
                // Unfilter (PNG spec 9.2): x = filtered + predictor(a = left, b = up, c = up-left).
                for i in 0..<stride {
                    let x = raw[rowStart + i]
                    let a = i >= bpp ? Int(cur[i - bpp]) : 0
                    let up = Int(prev[i])
                    let c = i >= bpp ? Int(prev[i - bpp]) : 0
                    let pred: Int
                    switch ft {
                    case 0: pred = 0
                    case 1: pred = a
                    case 2: pred = up
                    case 3: pred = (a + up) >> 1
                    case 4:
                        let pp = a + up - c
                        let pa = abs(pp - a), pb = abs(pp - up), pc = abs(pp - c)
                        pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? up : c)
                    default:
                        throw DataError(file: file, message: "invalid filter type \(ft) on row \(y) of pass (expected 0 to 4); image data is corrupt")
                    }
                    cur[i] = x &+ UInt8(truncatingIfNeeded: pred)
                }
                rp = rowStart + stride
                // Scatter the row's pixels into the output.
                let oy = ps.y0 + y * ps.dy
                for xi in 0..<w {
                    let ox = ps.x0 + xi * ps.dx
                    let o = (oy * width + ox) * outChannels
                    if depth == 8 {
                        let s = xi * samples
                        if colorType == 3 {
                            let idx = Int(cur[s])
                            guard idx * 3 + 2 < palette.count else {
                                throw DataError(file: file, message: "palette index \(idx) at pixel (\(ox), \(oy)) is outside the \(palette.count / 3)-entry palette")
                            }
                            out[o] = palette[idx * 3]; out[o + 1] = palette[idx * 3 + 1]; out[o + 2] = palette[idx * 3 + 2]
                            if outChannels == 4 { out[o + 3] = idx < trns.count ? trns[idx] : 255 }
                        } else {
                            for k in 0..<samples { out[o + k] = cur[s + k] }
                        }
                    } else if depth == 16 {
                        for k in 0..<samples { out[o + k] = cur[(xi * samples + k) * 2] }
                    } else {
                        // 1, 2 or 4 bits per pixel, most significant bits first.
                        let bit = xi * depth
                        let v = Int(cur[bit >> 3] >> UInt8(8 - depth - (bit & 7))) & ((1 << depth) - 1)
                        if colorType == 3 {
                            guard v * 3 + 2 < palette.count else {
                                throw DataError(file: file, message: "palette index \(v) at pixel (\(ox), \(oy)) is outside the \(palette.count / 3)-entry palette")
                            }
                            out[o] = palette[v * 3]; out[o + 1] = palette[v * 3 + 1]; out[o + 2] = palette[v * 3 + 2]
                            if outChannels == 4 { out[o + 3] = v < trns.count ? trns[v] : 255 }
                        } else {
                            out[o] = UInt8(v * 255 / ((1 << depth) - 1))
                        }
                    }
                }
                swap(&prev, &cur)
            }
        }
        return DecodedImage(width: width, height: height, channels: outChannels, pixels: out)
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
