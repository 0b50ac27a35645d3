// PNG scanlines (for PNG.decode): every pass's rows of the inflated image data unfiltered (the
// five filter types, PNG spec 9.2) and their pixels written to the 8-bit output: 8-bit samples
// copied, 16-bit ones rescaled to 8 bits with rounding (scaleSample), 1/2/4-bit gray scaled to 0...255, palette
// indices looked up (with the tRNS alpha when there is one).

/// The output image, filled pass by pass from the filtered scanlines.
struct PNGScanlines {
    let header: PNGHeader
    let palette: [UInt8]
    let trns: [UInt8]
    let file: String
    /// Output channels: the header's samples, or 3 (4 with a tRNS chunk) for a palette image.
    let outChannels: Int
    /// height * width * outChannels bytes, row-major.
    private(set) var out: [UInt8]

    init(header: PNGHeader, palette: [UInt8], trns: [UInt8], file: String) {
        self.header = header
        self.palette = palette
        self.trns = trns
        self.file = file
        outChannels = header.colorType == 3 ? (trns.isEmpty ? 3 : 4) : header.samples
        out = [UInt8](repeating: 0, count: header.width * header.height * outChannels)
    }

    /// Unfilters and writes every row of every pass; `raw` holds exactly `header.filteredSize` bytes.
    mutating func fill(from raw: [UInt8]) throws {
        let bpp = max(1, header.bitsPerPixel / 8)   // filter byte distance
        var rp = 0
        for ps in header.passes {
            let (w, h) = ps.extent(width: header.width, height: header.height)
            if w <= 0 || h <= 0 { continue }
            let stride = (w * header.bitsPerPixel + 7) / 8
            var prev = [UInt8](repeating: 0, count: stride)
            var cur = [UInt8](repeating: 0, count: stride)
            for y in 0..<h {
                try Self.unfilter(raw, filter: raw[rp], rowStart: rp + 1, y: y, bpp: bpp, prev: prev, into: &cur, file: file)
                rp += 1 + stride
                try scatter(cur, pass: ps, y: y, pixels: w)
                swap(&prev, &cur)
            }
        }
    }

    /// Unfilter (PNG spec 9.2): x = filtered + predictor(a = left, b = up, c = up-left), for the
    /// `cur.count` bytes of row `y` starting at `rowStart`, with the previous row `prev`.
    static func unfilter(_ raw: [UInt8], filter ft: UInt8, rowStart: Int, y: Int, bpp: Int, prev: [UInt8],
                         into cur: inout [UInt8], file: String) throws {
        for i in 0..<cur.count {
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
    }

    /// Writes the `pixels` pixels of the unfiltered row `y` of pass `ps` into the output.
    mutating func scatter(_ cur: [UInt8], pass ps: PNGPass, y: Int, pixels w: Int) throws {
        let depth = header.depth, samples = header.samples
        let oy = ps.y0 + y * ps.dy
        for xi in 0..<w {
            let ox = ps.x0 + xi * ps.dx
            let o = (oy * header.width + ox) * outChannels
            if depth == 8 {
                let s = xi * samples
                if header.colorType == 3 {
                    try writePaletteEntry(Int(cur[s]), at: o, x: ox, y: oy)
                } else {
                    for k in 0..<samples { out[o + k] = cur[s + k] }
                }
            } else if depth == 16 {
                for k in 0..<samples {
                    let s = (xi * samples + k) * 2
                    out[o + k] = scaleSample(Int(cur[s]) << 8 | Int(cur[s + 1]), maxval: 65535)
                }
            } else {
                // 1, 2 or 4 bits per pixel, most significant bits first.
                let bit = xi * depth
                let v = Int(cur[bit >> 3] >> UInt8(8 - depth - (bit & 7))) & ((1 << depth) - 1)
                if header.colorType == 3 {
                    try writePaletteEntry(v, at: o, x: ox, y: oy)
                } else {
                    out[o] = UInt8(v * 255 / ((1 << depth) - 1))
                }
            }
        }
    }

    /// Writes palette entry `idx` (RGB, then its tRNS alpha or 255 when the output has 4
    /// channels) at output offset `o`, the pixel (ox, oy).
    mutating func writePaletteEntry(_ idx: Int, at o: Int, x ox: Int, y oy: Int) throws {
        guard idx * 3 + 2 < palette.count else {
            throw DataError(file: file, message: "palette index \(idx) at pixel (\(ox), \(oy)) is outside the \(palette.count / 3)-entry palette")
        }
        out[o] = palette[idx * 3]; out[o + 1] = palette[idx * 3 + 1]; out[o + 2] = palette[idx * 3 + 2]
        if outChannels == 4 { out[o + 3] = idx < trns.count ? trns[idx] : 255 }
    }
}
