// A minimal PNG encoder for the sample-image grid: 8-bit grayscale (1 channel) or RGB (3 channels),
// no interlace, filter type 0 on every scanline, and a zlib stream made of stored (uncompressed)
// deflate blocks.
//
// File layout: signature, IHDR, one IDAT, IEND. Each chunk is length (big-endian), type, data,
// CRC32 of type + data. The zlib stream is 0x78 0x01, blocks of at most 65535 bytes
// (BFINAL bit, BTYPE 00, LEN, NLEN little-endian, raw bytes), then Adler-32 big-endian.
// The checksums are ModelcData's (CRC32.checksum, Zlib.adler32), the ones its decoder checks.

import ModelcData

public enum ReportPNG {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// Largest payload of one stored deflate block.
    public static let maxStoredBlock = 65535

    /// Encodes `pixels` (height x width x channels, row-major, HWC) as a PNG file.
    /// Throws when the sizes are not positive, the channel count is not 1 or 3, or the pixel
    /// count does not match.
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) throws -> [UInt8] {
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw ReportError("image size \(width)x\(height) out of range, expected 1...16384 on each side")
        }
        guard channels == 1 || channels == 3 else {
            throw ReportError("image has \(channels) channels, expected 1 (grayscale) or 3 (RGB)")
        }
        guard pixels.count == width * height * channels else {
            throw ReportError("image \(height)x\(width)x\(channels) needs \(width * height * channels) pixel bytes, found \(pixels.count)")
        }
        var ihdr = [UInt8]()
        appendBE32(&ihdr, UInt32(width))
        appendBE32(&ihdr, UInt32(height))
        ihdr += [8, channels == 1 ? 0 : 2, 0, 0, 0]   // bit depth, color type, compression, filter, interlace

        let rowBytes = width * channels
        var raw = [UInt8]()
        raw.reserveCapacity(height * (rowBytes + 1))
        for y in 0..<height {
            raw.append(0)                              // filter type None
            raw += pixels[(y * rowBytes)..<((y + 1) * rowBytes)]
        }

        var png = signature
        appendChunk(&png, "IHDR", ihdr)
        appendChunk(&png, "IDAT", zlibStored(raw))
        appendChunk(&png, "IEND", [])
        return png
    }

    /// `bytes` wrapped as a zlib stream of stored deflate blocks.
    public static func zlibStored(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]                // CM=8 (deflate), 32K window, FCHECK so that 0x7801 % 31 == 0
        var start = 0
        repeat {
            let n = min(maxStoredBlock, bytes.count - start)
            let final = start + n == bytes.count
            out.append(final ? 1 : 0)                  // BFINAL, BTYPE=00 (stored)
            out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
            let nn = ~UInt16(n)
            out.append(UInt8(nn & 0xFF)); out.append(UInt8(nn >> 8))
            out += bytes[start..<(start + n)]
            start += n
        } while start < bytes.count
        appendBE32(&out, Zlib.adler32(bytes))
        return out
    }

    /// `data:image/png;base64,...` for embedding in SVG or HTML.
    public static func dataURI(_ png: [UInt8]) -> String {
        "data:image/png;base64," + base64(png)
    }

    /// Standard base64 with padding (RFC 4648).
    public static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(v >> 18)], alphabet[Int((v >> 12) & 63)], alphabet[Int((v >> 6) & 63)], alphabet[Int(v & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out += [alphabet[Int(v >> 18)], alphabet[Int((v >> 12) & 63)], 61, 61]
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(v >> 18)], alphabet[Int((v >> 12) & 63)], alphabet[Int((v >> 6) & 63)], 61]
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendBE32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static func appendChunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
        appendBE32(&out, UInt32(data.count))
        let typeAndData = Array(type.utf8) + data
        out += typeAndData
        appendBE32(&out, CRC32.checksum(typeAndData))
    }
}
