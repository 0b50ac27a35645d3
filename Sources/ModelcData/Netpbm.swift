// Netpbm images: PGM graymaps (P2 ASCII, P5 binary) and PPM pixmaps (P3 ASCII, P6 binary), with
// '#' comments in the header and maxval 1...65535 (16-bit binary samples are big-endian).
// Samples are rescaled to 0...255 with rounding (scaleSample; exact for maxval 255). Output:
// 1 channel for PGM, 3 (RGB) for PPM. PBM bitmaps (P1/P4) and PAM (P7) are refused by name.

public enum Netpbm {
    /// P2, P3, P5 or P6.
    public static func isNetpbm(_ b: [UInt8]) -> Bool {
        b.count >= 2 && b[0] == 0x50 && (b[1] == 0x32 || b[1] == 0x33 || b[1] == 0x35 || b[1] == 0x36)
    }

    public static func decode(_ b: [UInt8], file: String) throws -> DecodedImage {
        guard isNetpbm(b) else {
            throw DataError(file: file, offset: 0, message: "not a PGM/PPM file: expected 'P2', 'P3', 'P5' or 'P6', found '\(String(decoding: b.prefix(2), as: UTF8.self))'")
        }
        let binary = b[1] == 0x35 || b[1] == 0x36
        let channels = b[1] == 0x33 || b[1] == 0x36 ? 3 : 1
        let kind = "P\(Character(UnicodeScalar(b[1])))"
        var header = NetpbmReader(bytes: b, file: file, position: 2)
        if b.count > 2 && !NetpbmReader.isSpace(b[2]) && b[2] != 0x23 {
            throw DataError(file: file, offset: 2, message: "expected whitespace after the magic number")
        }
        let width = try header.number("the width")
        let height = try header.number("the height")
        let maxval = try header.number("maxval")
        if width == 0 || height == 0 || width > DataLimits.maxImageSide || height > DataLimits.maxImageSide || width * height > DataLimits.maxImagePixels {
            throw DataError(file: file, offset: 2, message: "image size \(width)x\(height) is zero or exceeds the limit (\(DataLimits.maxImageSide) per side, \(DataLimits.maxImagePixels) pixels)")
        }
        guard maxval >= 1 && maxval <= 65535 else {
            throw DataError(file: file, offset: header.position, message: "maxval \(maxval) out of range (expected 1...65535)")
        }
        let n = width * height * channels
        let samples = binary
            ? try header.binarySamples(n, maxval: maxval, what: "\(kind) raster for \(width)x\(height)")
            : try header.asciiSamples(n, maxval: maxval, what: "\(kind) raster for \(width)x\(height)")
        return DecodedImage(width: width, height: height, channels: channels, pixels: samples)
    }
}

/// The header and raster reader: numbers separated by whitespace and comments, then samples.
private struct NetpbmReader {
    let bytes: [UInt8]
    let file: String
    var position: Int

    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C }

    /// Skips whitespace and '#' comments (to the end of the line).
    mutating func skip() {
        while position < bytes.count {
            if Self.isSpace(bytes[position]) { position += 1 }
            else if bytes[position] == 0x23 { while position < bytes.count && bytes[position] != 0x0A && bytes[position] != 0x0D { position += 1 } }
            else { break }
        }
    }

    /// A decimal integer of at most 9 digits, after whitespace and comments.
    mutating func number(_ what: String) throws -> Int {
        skip()
        let start = position
        var v = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39, position - start < 9 {
            v = v * 10 + Int(bytes[position] - 0x30); position += 1
        }
        if position == start || (position < bytes.count && !Self.isSpace(bytes[position]) && bytes[position] != 0x23) {
            let found = position >= bytes.count ? "end of file" : "'\(String(decoding: bytes[position..<min(bytes.count, position + 8)], as: UTF8.self))'"
            throw DataError(file: file, offset: position, message: "expected \(what) (a decimal integer), found \(found)")
        }
        return v
    }

    /// `n` binary samples (1 byte each, 2 big-endian bytes when maxval > 255) after the single
    /// whitespace byte that ends the header; the size is checked before anything is allocated.
    mutating func binarySamples(_ n: Int, maxval: Int, what: String) throws -> [UInt8] {
        position += 1
        let bps = maxval > 255 ? 2 : 1
        let need = n * bps
        guard position + need <= bytes.count else {
            throw DataError(file: file, offset: position, message: "\(what)\(bps == 2 ? " 16-bit" : "") needs \(need) bytes, found \(max(0, bytes.count - position))")
        }
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            let p = position + i * bps
            let v = bps == 1 ? Int(bytes[p]) : (Int(bytes[p]) << 8 | Int(bytes[p + 1]))
            if v > maxval { throw DataError(file: file, offset: p, message: "sample \(v) exceeds maxval \(maxval)") }
            out[i] = scaleSample(v, maxval: maxval)
        }
        return out
    }

    /// `n` ASCII samples; each takes at least two bytes (a digit and a separator), which bounds
    /// `n` by the file size before anything is allocated.
    mutating func asciiSamples(_ n: Int, maxval: Int, what: String) throws -> [UInt8] {
        let remaining = bytes.count - position
        guard 2 * n - 1 <= remaining else {
            throw DataError(file: file, offset: position, message: "\(what) needs \(n) samples (at least \(2 * n - 1) bytes), found \(max(0, remaining)) bytes")
        }
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            skip()
            let at = position
            let v = try number("sample \(i + 1) of \(n)")
            if v > maxval { throw DataError(file: file, offset: at, message: "sample \(v) exceeds maxval \(maxval)") }
            out[i] = scaleSample(v, maxval: maxval)
        }
        return out
    }
}
