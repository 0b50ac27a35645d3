// PGM (Netpbm graymap): P2 (ASCII) and P5 (binary), '#' comments in the header,
// maxval 1...65535 (16-bit P5 samples are big-endian). Values are rescaled to 0...255.

public enum PGM {
    public static func isPGM(_ b: [UInt8]) -> Bool { b.count >= 2 && b[0] == 0x50 && (b[1] == 0x32 || b[1] == 0x35) }

    public static func decode(_ b: [UInt8], file: String) throws -> DecodedImage {
        guard isPGM(b) else {
            throw DataError(file: file, offset: 0, message: "not a PGM file: expected 'P2' or 'P5', found '\(String(decoding: b.prefix(2), as: UTF8.self))'")
        }
        let binary = b[1] == 0x35
        var p = 2
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C }
        func skip() {
            while p < b.count {
                if isSpace(b[p]) { p += 1 }
                else if b[p] == 0x23 { while p < b.count && b[p] != 0x0A && b[p] != 0x0D { p += 1 } }
                else { break }
            }
        }
        func number(_ what: String) throws -> Int {
            skip()
            let start = p
            var v = 0
            while p < b.count, b[p] >= 0x30, b[p] <= 0x39, p - start < 9 {
                v = v * 10 + Int(b[p] - 0x30); p += 1
            }
            if p == start || (p < b.count && !isSpace(b[p]) && b[p] != 0x23) {
                let found = p >= b.count ? "end of file" : "'\(String(decoding: b[p..<min(b.count, p + 8)], as: UTF8.self))'"
                throw DataError(file: file, offset: p, message: "expected \(what) (a decimal integer), found \(found)")
            }
            return v
        }
        if b.count > 2 && !isSpace(b[2]) && b[2] != 0x23 {
            throw DataError(file: file, offset: 2, message: "expected whitespace after the magic number")
        }
        let width = try number("the width")
        let height = try number("the height")
        let maxval = try number("maxval")
        if width == 0 || height == 0 || width > DataLimits.maxImageSide || height > DataLimits.maxImageSide || width * height > DataLimits.maxImagePixels {
            throw DataError(file: file, offset: 2, message: "image size \(width)x\(height) is zero or exceeds the limit (\(DataLimits.maxImageSide) per side, \(DataLimits.maxImagePixels) pixels)")
        }
        guard maxval >= 1 && maxval <= 65535 else {
            throw DataError(file: file, offset: p, message: "maxval \(maxval) out of range (expected 1...65535)")
        }
        let n = width * height
        var out = [UInt8](repeating: 0, count: n)
        @inline(__always) func scale(_ v: Int) -> UInt8 { UInt8((v * 255 + maxval / 2) / maxval) }
        if binary {
            // Exactly one whitespace byte separates maxval from the raster.
            p += 1
            let bps = maxval > 255 ? 2 : 1
            let need = n * bps
            guard p + need <= b.count else {
                throw DataError(file: file, offset: p, message: "P5 raster needs \(need) bytes for \(width)x\(height)\(bps == 2 ? " 16-bit" : ""), found \(max(0, b.count - p))")
            }
            for i in 0..<n {
                let v = bps == 1 ? Int(b[p + i]) : (Int(b[p + 2 * i]) << 8 | Int(b[p + 2 * i + 1]))
                if v > maxval { throw DataError(file: file, offset: p + i * bps, message: "sample \(v) exceeds maxval \(maxval)") }
                out[i] = maxval == 255 ? UInt8(v) : scale(v)
            }
        } else {
            for i in 0..<n {
                let at = p
                let v = try number("sample \(i + 1) of \(n)")
                if v > maxval { throw DataError(file: file, offset: at, message: "sample \(v) exceeds maxval \(maxval)") }
                out[i] = maxval == 255 ? UInt8(v) : scale(v)
            }
        }
        return DecodedImage(width: width, height: height, channels: 1, pixels: out)
    }
}
