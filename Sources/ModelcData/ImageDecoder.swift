// Image files for `predict`: PNG or PGM, chosen by the file's magic bytes (not its extension).

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

    /// One gray channel: luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B); alpha composites
    /// the image over `background` (0 = black, as MNIST digits are light on dark).
    public func grayscale(background: UInt8 = 0) -> DecodedImage {
        if channels == 1 { return self }
        let n = width * height
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            let s = i * channels
            var g: Double
            switch channels {
            case 2: g = Double(pixels[s])
            default: g = 0.299 * Double(pixels[s]) + 0.587 * Double(pixels[s + 1]) + 0.114 * Double(pixels[s + 2])
            }
            if channels == 2 || channels == 4 {
                let a = Double(pixels[s + channels - 1]) / 255
                g = g * a + Double(background) * (1 - a)
            }
            out[i] = UInt8(max(0, min(255, g.rounded())))
        }
        return DecodedImage(width: width, height: height, channels: 1, pixels: out)
    }

    /// Bilinear resize (pixel centers aligned), any channel count.
    public func resized(width w: Int, height h: Int) -> DecodedImage {
        if w == width && h == height { return self }
        var out = [UInt8](repeating: 0, count: w * h * channels)
        let sx = Double(width) / Double(w), sy = Double(height) / Double(h)
        for y in 0..<h {
            let fy = max(0, min(Double(height - 1), (Double(y) + 0.5) * sy - 0.5))
            let y0 = Int(fy), y1 = min(y0 + 1, height - 1), ty = fy - Double(y0)
            for x in 0..<w {
                let fx = max(0, min(Double(width - 1), (Double(x) + 0.5) * sx - 0.5))
                let x0 = Int(fx), x1 = min(x0 + 1, width - 1), tx = fx - Double(x0)
                for c in 0..<channels {
                    func at(_ yy: Int, _ xx: Int) -> Double { Double(pixels[(yy * width + xx) * channels + c]) }
                    let v = (at(y0, x0) * (1 - tx) + at(y0, x1) * tx) * (1 - ty) + (at(y1, x0) * (1 - tx) + at(y1, x1) * tx) * ty
                    out[(y * w + x) * channels + c] = UInt8(max(0, min(255, v.rounded())))
                }
            }
        }
        return DecodedImage(width: w, height: h, channels: channels, pixels: out)
    }
}

public enum ImageDecoder {
    /// Decodes a PNG or PGM file, chosen by its magic bytes.
    public static func decode(path: String) throws -> DecodedImage {
        try decode(FileIO.read(path: path, maxBytes: 256 << 20), file: path)
    }

    public static func decode(_ b: [UInt8], file: String) throws -> DecodedImage {
        if PNG.isPNG(b) { return try PNG.decode(b, file: file) }
        if PGM.isPGM(b) { return try PGM.decode(b, file: file) }
        let head = b.prefix(8).map { hex8($0) }.joined(separator: " ")
        var hint = ""
        if b.count >= 2 && b[0] == 0x50 && (b[1] == 0x31 || b[1] == 0x33 || b[1] == 0x34 || b[1] == 0x36) { hint = " (a PBM/PPM file; convert it to PGM or PNG)" }
        if b.count >= 3 && b[0] == 0xFF && b[1] == 0xD8 { hint = " (a JPEG file; convert it to PNG)" }
        throw DataError(file: file, offset: 0, message: "unknown image format: expected a PNG signature (89 50 4e 47) or PGM magic (P2/P5), found \(head.isEmpty ? "an empty file" : head)\(hint)")
    }
}
