// Image files (PNG, PGM, PPM; chosen by the file's magic bytes, not its extension), the decoded
// 8-bit image, and its channel conversions: gray from RGB with ITU-R BT.601 luma in PIL's
// integer form, gray replicated to RGB, alpha composited over a background (black by default).

public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    public var channels: Int
    /// height * width * channels bytes, row-major HWC.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// One gray channel: luma (bt601Luma) of the color, alpha composited over `background`
    /// first (0 = black, as MNIST digits are light on dark).
    public func grayscale(background: UInt8 = 0) -> DecodedImage {
        converted(to: 1, background: background)!
    }

    /// The image with `target` channels (1 or 3, or the image's own count), or nil when no
    /// conversion exists. Alpha (2 and 4 channels) is composited over `background`:
    /// c' = round((c * a + background * (255 - a)) / 255); gray becomes RGB by replication, RGB
    /// becomes gray by bt601Luma. A gray+alpha image made RGB, or an RGBA image made gray, gets both.
    public func converted(to target: Int, background: UInt8 = 0) -> DecodedImage? {
        if target == channels { return self }
        guard target == 1 || target == 3, (1...4).contains(channels) else { return nil }
        let n = width * height, from = channels
        let alpha = from == 2 || from == 4
        var out = [UInt8](repeating: 0, count: n * target)
        let bg = Int(background)
        pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    let s = i * from
                    let a = alpha ? Int(p[s + from - 1]) : 255
                    @inline(__always) func over(_ c: UInt8) -> Int { alpha ? (Int(c) * a + bg * (255 - a) + 127) / 255 : Int(c) }
                    let r = over(p[s])
                    let (g, b) = from >= 3 ? (over(p[s + 1]), over(p[s + 2])) : (r, r)
                    if target == 1 {
                        o[i] = from >= 3 ? bt601Luma(r, g, b) : UInt8(r)
                    } else {
                        o[3 * i] = UInt8(r); o[3 * i + 1] = UInt8(g); o[3 * i + 2] = UInt8(b)
                    }
                }
            }
        }
        return DecodedImage(width: width, height: height, channels: target, pixels: out)
    }
}

/// ITU-R BT.601 luma, L = 0.299 R + 0.587 G + 0.114 B, in the 16-bit fixed-point form of PIL's
/// convert("L") (19595 R + 38470 G + 7471 B + 2^15) >> 16, so that gray images match PIL's.
@inline(__always) public func bt601Luma(_ r: Int, _ g: Int, _ b: Int) -> UInt8 {
    UInt8((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16)
}

/// A sample of 0...maxval rescaled to 0...255 with rounding: (v * 255 + maxval / 2) / maxval
/// (16-bit samples: v / 257 rounded; exact for maxval 255 and the 1/2/4-bit maxvals 1, 3, 15).
@inline(__always) func scaleSample(_ v: Int, maxval: Int) -> UInt8 {
    maxval == 255 ? UInt8(v) : UInt8((v * 255 + maxval / 2) / maxval)
}

public enum ImageDecoder {
    /// Largest image file read (bytes).
    public static let maxFileBytes = 256 << 20

    /// Decodes a PNG, PGM or PPM file, chosen by its magic bytes.
    public static func decode(path: String) throws -> DecodedImage {
        try decode(FileIO.read(path: path, maxBytes: maxFileBytes), file: path)
    }

    public static func decode(_ b: [UInt8], file: String) throws -> DecodedImage {
        if PNG.isPNG(b) { return try PNG.decode(b, file: file) }
        if Netpbm.isNetpbm(b) { return try Netpbm.decode(b, file: file) }
        let head = b.prefix(8).map { hex8($0) }.joined(separator: " ")
        var hint = ""
        if b.count >= 2 && b[0] == 0x50 && (b[1] == 0x31 || b[1] == 0x34) { hint = " (a PBM bitmap; convert it to PGM or PNG)" }
        if b.count >= 2 && b[0] == 0x50 && b[1] == 0x37 { hint = " (a PAM file; convert it to PNG)" }
        if b.count >= 3 && b[0] == 0xFF && b[1] == 0xD8 { hint = " (a JPEG file; convert it to PNG)" }
        throw DataError(file: file, offset: 0, message: "unknown image format: expected a PNG signature (89 50 4e 47) or PGM/PPM magic (P2/P5/P3/P6), found \(head.isEmpty ? "an empty file" : head)\(hint)")
    }
}
