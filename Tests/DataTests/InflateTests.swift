import Foundation
import XCTest
@testable import ModelcData

final class InflateTests: XCTestCase {
    func testCRC32KnownValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
    }

    func testAdler32KnownValue() {
        XCTAssertEqual(Zlib.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
    }

    func testStoredRoundTrip() throws {
        var data = [UInt8]()
        for i in 0..<150_000 { data.append(UInt8(truncatingIfNeeded: i * 7 + i / 300)) }
        let gz = Gzip.compressStored(data)
        XCTAssertEqual(try Gzip.decompress(gz, file: "mem"), data)
        XCTAssertEqual(try Gzip.decompress(Gzip.compressStored([]), file: "mem"), [])
    }

    func testFixedHuffmanHandMade() throws {
        // "a" as a single fixed-Huffman block: BFINAL=1, BTYPE=01, literal 'a' (0x61), EOB.
        // Python: zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_FIXED) on b"a" gives 4b 04 00.
        let (out, used) = try Inflate.inflate([0x4B, 0x04, 0x00], file: "mem")
        XCTAssertEqual(out, [0x61])
        XCTAssertEqual(used, 3)
    }

    func testDynamicHuffmanRealFile() throws {
        // The shipped MNIST sample is gzip -9 (dynamic Huffman blocks with long back-references).
        guard let dir = Datasets.sampleDirectory(name: "mnist") else { return XCTFail("sample missing") }
        let gz = bytes(dir + "/t10k-labels-idx1-ubyte.gz")
        let raw = try Gzip.decompress(gz, file: "labels")
        XCTAssertEqual(raw.count, 8 + 1000)
        XCTAssertEqual(Array(raw[0..<8]), [0, 0, 8, 1, 0, 0, 0x03, 0xE8])
    }

    func testInvalidBlockType() {
        // BFINAL=1, BTYPE=11 (reserved).
        assertDataError(["mem", "offset 0", "invalid deflate block type 3"]) {
            try Inflate.inflate([0x07, 0x00], file: "mem")
        }
    }

    func testStoredLengthComplementMismatch() {
        assertDataError(["mem", "offset 1", "stored block length 5 does not match its complement"]) {
            try Inflate.inflate([0x01, 0x05, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5], file: "mem")
        }
    }

    func testStoredBlockLongerThanInput() {
        assertDataError(["mem", "offset 5", "declares 5 bytes but only 2 remain"]) {
            try Inflate.inflate([0x01, 0x05, 0x00, 0xFA, 0xFF, 1, 2], file: "mem")
        }
    }

    func testTruncatedStream() {
        assertDataError(["mem", "ends"]) { try Inflate.inflate([0x4B], file: "mem") }
        assertDataError(["mem", "ends"]) { try Inflate.inflate([], file: "mem") }
    }

    func testDistanceTooFarBack() {
        // Fixed block: length 3 (symbol 257, code 0000001), distance code 0 (distance 1) with no output yet.
        // Bits LSB-first: 1 (final), 10 (fixed type 1 -> bits 1,0), then 7-bit code 0000001, 5-bit dist 00000.
        var bits: [Int] = [1, 1, 0]
        bits += [0, 0, 0, 0, 0, 0, 1]
        bits += [0, 0, 0, 0, 0]
        bits += [0, 0, 0, 0, 0, 0, 0]   // end of block
        var out = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (i, b) in bits.enumerated() where b == 1 { out[i / 8] |= UInt8(1 << (i % 8)) }
        assertDataError(["mem", "distance 1 reaches before the start of the output"]) {
            try Inflate.inflate(out, file: "mem")
        }
    }

    func testOutputBoundStopsBomb() throws {
        // 1 MB of zeros as stored blocks; a 1000-byte bound must stop it.
        let gz = Gzip.compressStored([UInt8](repeating: 0, count: 1 << 20))
        assertDataError(["bomb", "exceeds the limit of 1000 bytes"]) {
            try Gzip.decompress(gz, file: "bomb", maxOutput: 1000)
        }
    }

    func testCompressedBombBounded() throws {
        // A real dynamic-Huffman bomb: 64 MB of zeros compress to ~65 KB. Made here with
        // long back-references in a fixed block: literal 0 then repeated (258, dist 1).
        var w = BitWriter()
        w.put(1, 1); w.put(1, 2)                 // final, fixed
        w.putFixedLiteral(0)
        for _ in 0..<100_000 { w.putFixedLength258Dist1() }
        w.putFixedLiteral(256)
        let stream = w.bytesFlushed
        assertDataError(["bomb", "exceeds the limit of 1048576 bytes"]) {
            try Inflate.inflate(stream, maxOutput: 1 << 20, file: "bomb")
        }
        // With a generous bound it decodes exactly.
        let (out, _) = try Inflate.inflate(stream, maxOutput: 1 << 26, file: "bomb")
        XCTAssertEqual(out.count, 1 + 258 * 100_000)
        XCTAssertTrue(out.allSatisfy { $0 == 0 })
    }

    func testGzipHeaderFlags() throws {
        // FNAME + FCOMMENT + FEXTRA + FHCRC.
        let payload = Array("hello, gzip header flags".utf8)
        var h: [UInt8] = [0x1F, 0x8B, 8, 0x1E, 0, 0, 0, 0, 0, 3]
        h += [4, 0, 1, 2, 3, 4]                 // FEXTRA: 4 bytes
        h += Array("name.txt".utf8) + [0]
        h += Array("a comment".utf8) + [0]
        let hcrc = CRC32.checksum(h) & 0xFFFF
        h += [UInt8(hcrc & 0xFF), UInt8(hcrc >> 8)]
        var file = h + Deflate.stored(payload)
        appendLE32(&file, CRC32.checksum(payload))
        appendLE32(&file, UInt32(payload.count))
        XCTAssertEqual(try Gzip.decompress(file, file: "flags.gz"), payload)
        // Corrupt the header CRC.
        var bad = file
        bad[h.count - 1] ^= 0xFF
        assertDataError(["flags.gz", "offset \(h.count - 2)", "gzip header CRC mismatch"]) {
            try Gzip.decompress(bad, file: "flags.gz")
        }
    }

    func testGzipConcatenatedMembers() throws {
        let a = Gzip.compressStored([1, 2, 3]), b = Gzip.compressStored([4, 5])
        XCTAssertEqual(try Gzip.decompress(a + b, file: "two.gz"), [1, 2, 3, 4, 5])
    }

    func testGzipErrors() {
        let good = bytes(fixture("kmnist/t10k-labels-idx1-ubyte.gz"))
        XCTAssertFalse(good.isEmpty)
        assertDataError(["x.gz", "offset 0", "expected magic 1f 8b, found 50 4b"]) {
            try Gzip.decompress([0x50, 0x4B, 3, 4, 0, 0, 0, 0, 0, 0, 0], file: "x.gz")
        }
        var m = good; m[2] = 7
        assertDataError(["x.gz", "offset 2", "compression method 7"]) { try Gzip.decompress(m, file: "x.gz") }
        assertDataError(["x.gz", "offset 0", "header: expected 10 bytes, found 5"]) {
            try Gzip.decompress(Array(good[0..<5]), file: "x.gz")
        }
        assertDataError(["x.gz", "trailer", "expected 8 bytes, found 3"]) {
            try Gzip.decompress(Array(good[0..<(good.count - 5)]), file: "x.gz")
        }
    }

    func testGzipCorruptFixtures() {
        let dir = fixture("corrupt") + "/"
        assertDataError(["badcrc-images-idx3-ubyte.gz", "gzip CRC32 mismatch"]) {
            try IDX.read(path: dir + "badcrc-images-idx3-ubyte.gz")
        }
        assertDataError(["badisize-images-idx3-ubyte.gz", "ISIZE"]) {
            try IDX.read(path: dir + "badisize-images-idx3-ubyte.gz")
        }
        assertDataError(["truncated-images-idx3-ubyte.gz", "offset", "ends"]) {
            try IDX.read(path: dir + "truncated-images-idx3-ubyte.gz")
        }
    }

    func testEveryTruncationFailsCleanly() {
        // Every prefix of a real gzip file is an error, never a crash or a wrong result.
        let good = bytes(fixture("kmnist/t10k-labels-idx1-ubyte.gz"))
        for n in 0..<good.count {
            XCTAssertThrowsError(try Gzip.decompress(Array(good[0..<n]), file: "p"), "prefix \(n)")
        }
    }

    func testRandomCorruptionNeverCrashes() {
        let good = bytes(fixture("kmnist/t10k-images-idx3-ubyte.gz"))
        var rng = SplitMix(seed: 42)
        var failures = 0
        for _ in 0..<300 {
            var b = good
            let i = Int(rng.next() % UInt64(b.count))
            b[i] ^= UInt8(1 << (rng.next() % 8))
            if (try? Gzip.decompress(b, file: "c")) == nil { failures += 1 }
        }
        // A flipped bit is always caught (by the decoder, the CRC32 or ISIZE) except when it
        // lands in ignored header bytes (MTIME, XFL, OS).
        XCTAssertGreaterThan(failures, 250)
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes deflate bits LSB-first (for hand-made streams).
struct BitWriter {
    var bytes: [UInt8] = []
    var acc: UInt64 = 0
    var n = 0
    mutating func put(_ v: Int, _ count: Int) {
        acc |= UInt64(v) << UInt64(n); n += count
        while n >= 8 { bytes.append(UInt8(acc & 0xFF)); acc >>= 8; n -= 8 }
        if n > 0 && bytes.count >= 0 { }
    }
    /// Huffman codes go most significant bit first.
    mutating func putCode(_ code: Int, _ len: Int) {
        var r = 0
        for i in 0..<len { r |= ((code >> i) & 1) << (len - 1 - i) }
        put(r, len)
    }
    mutating func putFixedLiteral(_ s: Int) {
        switch s {
        case 0...143: putCode(0x30 + s, 8)
        case 144...255: putCode(0x190 + s - 144, 9)
        case 256...279: putCode(s - 256, 7)
        default: putCode(0xC0 + s - 280, 8)
        }
    }
    mutating func putFixedLength258Dist1() {
        putFixedLiteral(285)        // length 258, no extra bits
        putCode(0, 5)               // distance code 0 = distance 1
    }
    var bytesFlushed: [UInt8] { n > 0 ? bytes + [UInt8(acc & 0xFF)] : bytes }
}
