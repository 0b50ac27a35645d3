import Foundation
import XCTest
@testable import ModelcData

final class ImageTests: XCTestCase {
    func testPNGFixturesMatchExpectedPixels() throws {
        let expected = try NPZ.read(path: fixture("png/expected.npz"))
        XCTAssertEqual(expected.count, 18)
        for (name, want) in expected {
            let img = try ImageDecoder.decode(path: fixture("png/\(name).png"))
            XCTAssertEqual([img.height, img.width, img.channels], want.shape, name)
            XCTAssertEqual(img.pixels, want.data, name)
        }
    }

    func testPGMFixtures() throws {
        let expected = try NPZ.read(path: fixture("pgm/expected.npz"))
        for (name, want) in expected {
            let img = try ImageDecoder.decode(path: fixture("pgm/\(name).pgm"))
            XCTAssertEqual([img.height, img.width], want.shape, name)
            XCTAssertEqual(img.channels, 1)
            XCTAssertEqual(img.pixels, want.data, name)
        }
    }

    func testPNGCorruptFixtures() {
        assertDataError(["badcrc.png", "offset 29", "CRC mismatch in chunk 'IHDR'"]) { try ImageDecoder.decode(path: fixture("corrupt/badcrc.png")) }
        assertDataError(["truncated.png", "offset"]) { try ImageDecoder.decode(path: fixture("corrupt/truncated.png")) }
    }

    func testEveryPNGTruncationFails() {
        let b = bytes(fixture("png/palette4_trns.png"))
        for n in 0..<b.count {
            XCTAssertThrowsError(try ImageDecoder.decode(Array(b[0..<n]), file: "p"), "prefix \(n)")
        }
    }

    func testPNGRandomCorruptionNeverCrashes() {
        let b = bytes(fixture("png/rgb_adam7.png"))
        var rng = SplitMix(seed: 7)
        for _ in 0..<300 {
            var c = b
            for _ in 0..<3 { c[Int(rng.next() % UInt64(c.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? ImageDecoder.decode(c, file: "c")
        }
    }

    /// Builds a PNG from chunks with correct CRCs.
    func png(_ chunks: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        for (t, d) in chunks {
            let n = UInt32(d.count)
            out += [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
            let td = Array(t.utf8) + d
            out += td
            let c = CRC32.checksum(td)
            out += [UInt8(c >> 24), UInt8((c >> 16) & 0xFF), UInt8((c >> 8) & 0xFF), UInt8(c & 0xFF)]
        }
        return out
    }

    func ihdr(_ w: UInt32, _ h: UInt32, depth: UInt8 = 8, color: UInt8 = 0, interlace: UInt8 = 0) -> [UInt8] {
        var d: [UInt8] = []
        for v in [w, h] { d += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        return d + [depth, color, 0, 0, interlace]
    }

    func zlibStored(_ raw: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01] + Deflate.stored(raw)
        let a = Zlib.adler32(raw)
        out += [UInt8(a >> 24), UInt8((a >> 16) & 0xFF), UInt8((a >> 8) & 0xFF), UInt8(a & 0xFF)]
        return out
    }

    func testPNGHeaderErrors() {
        assertDataError(["p.png", "image size 100000x100000", "exceeds the limit"]) {
            try PNG.decode(png([("IHDR", ihdr(100_000, 100_000)), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "offset 24", "bit depth 3 is not allowed for color type 0"]) {
            try PNG.decode(png([("IHDR", ihdr(2, 2, depth: 3)), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "offset 25", "invalid color type 5"]) {
            try PNG.decode(png([("IHDR", ihdr(2, 2, color: 5)), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "offset 8", "expected the IHDR chunk first, found 'IDAT'"]) {
            try PNG.decode(png([("IDAT", [1]), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "palette image (color type 3) without a PLTE chunk"]) {
            try PNG.decode(png([("IHDR", ihdr(1, 1, color: 3)), ("IDAT", zlibStored([0, 0])), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "palette index 5", "outside the 1-entry palette"]) {
            try PNG.decode(png([("IHDR", ihdr(1, 1, color: 3)), ("PLTE", [1, 2, 3]), ("IDAT", zlibStored([0, 5])), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "invalid filter type 9"]) {
            try PNG.decode(png([("IHDR", ihdr(1, 1)), ("IDAT", zlibStored([9, 5])), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "inflates to 2 bytes, expected 6"]) {
            try PNG.decode(png([("IHDR", ihdr(2, 2)), ("IDAT", zlibStored([0, 5])), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "exceeds the limit of 2 bytes"]) {
            try PNG.decode(png([("IHDR", ihdr(1, 1)), ("IDAT", zlibStored([0, 5, 6, 7])), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "Adler-32 mismatch"]) {
            var z = zlibStored([0, 5]); z[z.count - 1] ^= 1
            return try PNG.decode(png([("IHDR", ihdr(1, 1)), ("IDAT", z), ("IEND", [])]), file: "p.png")
        }
        assertDataError(["p.png", "without an IEND chunk"]) {
            try PNG.decode(png([("IHDR", ihdr(1, 1)), ("IDAT", zlibStored([0, 5]))]), file: "p.png")
        }
        assertDataError(["p.png", "unknown critical chunk 'ABCD'"]) {
            try PNG.decode(png([("IHDR", ihdr(1, 1)), ("ABCD", []), ("IDAT", zlibStored([0, 5])), ("IEND", [])]), file: "p.png")
        }
        XCTAssertEqual(try PNG.decode(png([("IHDR", ihdr(1, 1)), ("IDAT", zlibStored([0, 5])), ("IEND", [])]), file: "p").pixels, [5])
    }

    func testNetpbmErrors() {
        assertDataError(["a.pgm", "offset 11", "P5 raster for 4x3 needs 12 bytes, found 3"]) {
            try Netpbm.decode(Array("P5 4 3 255\n".utf8) + [1, 2, 3], file: "a.pgm")
        }
        assertDataError(["a.ppm", "offset 11", "P6 raster for 2x1 16-bit needs 12 bytes, found 6"]) {
            try Netpbm.decode(Array("P6 2 1 999\n".utf8) + [0, 1, 0, 2, 0, 3], file: "a.ppm")
        }
        assertDataError(["a.pgm", "expected the height (a decimal integer), found 'x 255"]) {
            try Netpbm.decode(Array("P2 4 x 255\n".utf8), file: "a.pgm")
        }
        assertDataError(["a.pgm", "maxval 0 out of range"]) { try Netpbm.decode(Array("P2 1 1 0\n0".utf8), file: "a.pgm") }
        assertDataError(["a.pgm", "offset 10", "sample 20 exceeds maxval 15"]) { try Netpbm.decode(Array("P2 1 1 15 20".utf8), file: "a.pgm") }
        assertDataError(["a.ppm", "offset 15", "sample 300 exceeds maxval 255"]) { try Netpbm.decode(Array("P3 1 1 255 1 2 300 ".utf8), file: "a.ppm") }
        assertDataError(["a.pgm", "sample 3 of 3", "found end of file"]) { try Netpbm.decode(Array("P2 3 1 255 1 2  ".utf8), file: "a.pgm") }
        assertDataError(["a.pgm", "exceeds the limit"]) { try Netpbm.decode(Array("P5 99999 99999 255\n".utf8), file: "a.pgm") }
        // an ASCII header claiming 4096 x 4096 RGB samples in a 30-byte file: refused before allocating
        assertDataError(["a.ppm", "P3 raster for 4096x4096 needs 50331648 samples (at least 100663295 bytes), found 2 bytes"]) {
            try Netpbm.decode(Array("P3 4096 4096 255\n1".utf8), file: "a.ppm")
        }
    }

    func testPPMAndSixteenBitDecoding() throws {
        // P6 8-bit and P3 with maxval 15: RGB, rescaled with rounding
        XCTAssertEqual(try Netpbm.decode(Array("P6 2 1 255\n".utf8) + [1, 2, 3, 250, 251, 252], file: "a.ppm"),
                       DecodedImage(width: 2, height: 1, channels: 3, pixels: [1, 2, 3, 250, 251, 252]))
        XCTAssertEqual(try Netpbm.decode(Array("P3\n# c\n1 1\n15\n0 7 15\n".utf8), file: "a.ppm").pixels, [0, 119, 255])
        // 16-bit P6: v * 255 / 65535 rounded (v = 257 k gives k exactly; 32896 = 128.0019 * 257 -> 128)
        let p16 = try Netpbm.decode(Array("P6 1 1 65535\n".utf8) + [0x01, 0x01, 0x80, 0x80, 0xFF, 0xFE], file: "a.ppm")
        XCTAssertEqual(p16.pixels, [1, 128, 255])
        // a 16-bit PNG and the same samples as a 16-bit PGM decode alike (both round; PNG used to truncate)
        let samples: [Int] = [0, 128, 129, 32767, 32896, 65278, 65535, 385]
        var raw: [UInt8] = [0]
        for v in samples { raw += [UInt8(v >> 8), UInt8(v & 255)] }
        let png = try PNG.decode(png([("IHDR", ihdr(UInt32(samples.count), 1, depth: 16)), ("IDAT", zlibStored(raw)), ("IEND", [])]), file: "p.png")
        let pgm = try Netpbm.decode(Array("P5 \(samples.count) 1 65535\n".utf8) + raw.dropFirst(), file: "p.pgm")
        XCTAssertEqual(png.pixels, pgm.pixels)
        XCTAssertEqual(png.pixels, samples.map { UInt8(($0 * 255 + 32767) / 65535) })
        XCTAssertEqual(png.pixels, [0, 0, 1, 127, 128, 254, 255, 1])
    }

    func testUnknownFormats() {
        assertDataError(["x.jpg", "offset 0", "unknown image format", "JPEG"]) { try ImageDecoder.decode([0xFF, 0xD8, 0xFF, 0xE0], file: "x.jpg") }
        assertDataError(["x.pbm", "offset 0", "a PBM bitmap"]) { try ImageDecoder.decode(Array("P4 1 1\n".utf8), file: "x.pbm") }
        assertDataError(["x.pam", "a PAM file"]) { try ImageDecoder.decode(Array("P7\nWIDTH 1\n".utf8), file: "x.pam") }
        assertDataError(["x.ppm", "offset 11", "P6 raster for 1x1 needs 3 bytes, found 0"]) { try ImageDecoder.decode(Array("P6 1 1 255\n".utf8), file: "x.ppm") }
        assertDataError(["e", "an empty file"]) { try ImageDecoder.decode([], file: "e") }
    }

    func testGrayscaleAndResize() {
        let rgba = DecodedImage(width: 2, height: 1, channels: 4, pixels: [255, 255, 255, 255, 255, 0, 0, 0])
        XCTAssertEqual(rgba.grayscale().pixels, [255, 0])
        XCTAssertEqual(rgba.grayscale(background: 255).pixels, [255, 255])
        let rgb = DecodedImage(width: 1, height: 1, channels: 3, pixels: [255, 0, 0])
        XCTAssertEqual(rgb.grayscale().pixels, [76])
        let g = DecodedImage(width: 2, height: 2, channels: 1, pixels: [0, 100, 100, 200])
        let up = g.resized(width: 4, height: 4)
        XCTAssertEqual(up.pixels.count, 16)
        XCTAssertEqual(up.pixels[0], 0); XCTAssertEqual(up.pixels[15], 200)
        XCTAssertEqual(g.resized(width: 1, height: 1).pixels, [100])
    }
}
