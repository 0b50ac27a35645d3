// The image-folder cache file format: round trip, the frame's checks (magic, version, length,
// CRC-32), hostile counts behind a valid CRC refused before allocating, every truncation, and
// the fuzzing corpus (Tests/Fuzz/seeds/imagecache, Tests/Fuzz/regressions/imagecache) replayed
// through the harness's entry point.

import XCTest
import ModelcData
import ModelcFuzz
@testable import ModelcRuntime

final class ImageFolderCacheTests: XCTestCase {
    func sample() -> ImageFolderCache {
        let files = [ImageFolderFile(path: "cat/1.png", label: 0, size: 120, modified: 1_700_000_000_123_456_789, changed: -5),
                     ImageFolderFile(path: "cat/bad.png", label: 0, size: 9, modified: 2, changed: 3),
                     ImageFolderFile(path: "dög/2.pgm", label: 1, size: 70, modified: 4, changed: 5)]
        return ImageFolderCache(key: "rules 1; fit 2x2x1", classes: ["cat", "dög"],
                                entries: [.init(file: files[0], problem: nil), .init(file: files[1], problem: "offset 0: unknown image format"),
                                          .init(file: files[2], problem: nil)],
                                height: 2, width: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6, 7, 8])
    }

    func testRoundTrip() throws {
        let c = sample()
        let bytes = c.encode()
        XCTAssertEqual(Array(bytes[0..<8]), Array("MODELCIM".utf8))
        XCTAssertEqual(try ImageFolderCache.decode(bytes, file: "c"), c)
        let path = temporaryDirectory() + "/c.images"
        try c.write(to: path)
        XCTAssertEqual(try ImageFolderCache.read(path: path), c)
        XCTAssertEqual(ImageCacheFuzzEntry.run(bytes), 2)
    }

    /// A cache whose images are another size than the fit's (its key matching) is not reused,
    /// with a note: its pixels would be sliced at the wrong offsets.
    func testACacheOfAnotherImageSizeIsNotReused() throws {
        let c = sample(), path = temporaryDirectory() + "/c.images"
        try c.write(to: path)
        var notes: [String] = []
        let fit = ImageFit(width: 4, height: 4, channels: 1, resize: false, crop: false)
        XCTAssertNil(ImageFolderLoader.previousCache(path, key: c.key, fit: fit) { notes.append($0) })
        XCTAssertEqual(notes, ["note: the image cache \(path) holds 2x2x1 images under the rules for 4x4x1, exact size; rebuilding it"])
        let same = ImageFit(width: 2, height: 2, channels: 1, resize: false, crop: false)
        XCTAssertEqual(ImageFolderLoader.previousCache(path, key: c.key, fit: same) { notes.append($0) }, c)
        XCTAssertEqual(notes.count, 1)
    }

    func expectError(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ImageFolderCache.decode(bytes, file: "c.images"), file: file, line: line) { e in
            XCTAssertTrue("\(e)".contains(fragment), "\(e)", file: file, line: line)
        }
    }

    func testFrameErrors() {
        let good = sample().encode()
        expectError(Array(good.prefix(10)), "not a modelc image cache: expected a 24-byte header, found 10 bytes")
        expectError(Array("MODELCKP".utf8) + good.dropFirst(8), "not a modelc image cache: expected magic \"MODELCIM\"")
        var v = good; v[8] = 9
        expectError(v, "c.images: offset 8: image cache format version 9 is not supported")
        expectError(Array(good.dropLast()), "offset 12: payload length says")
        var flipped = good; flipped[30] ^= 1
        expectError(flipped, "offset 20: image cache is corrupt: CRC-32")
        for cut in 0..<good.count { XCTAssertThrowsError(try ImageFolderCache.decode(Array(good.prefix(cut)), file: "c"), "prefix \(cut)") }
    }

    func testHostilePayloadsBehindAValidCRC() {
        let frame = ImageFolderCache.frame
        var w = BinaryWriter()
        w.string("k"); w.u32(1); w.string("a"); w.u64(1 << 40)
        expectError(frame.encode(w.bytes), "entry count is 1099511627776, more than the")
        w = BinaryWriter(); w.string("k"); w.u32(0xFFFF_FFFF)
        expectError(frame.encode(w.bytes), "class count 4294967295 is more than the remaining data can hold")
        // an entry labelled 3 of 1 class; a decoded flag of 7; a size of 0x0 pixels; pixels missing
        func one(label: UInt32 = 0, flag: UInt8 = 1, h: UInt32 = 2, pixels: [UInt8] = [1, 2, 3, 4]) -> [UInt8] {
            var w = BinaryWriter()
            w.string("k"); w.u32(1); w.string("a"); w.int(1)
            w.string("a/1.png"); w.int(1); w.int(2); w.int(3); w.u32(label); w.u8(flag)
            w.u32(h); w.u32(2); w.u32(1); w.bytes += pixels
            return frame.encode(w.bytes)
        }
        XCTAssertEqual(try ImageFolderCache.decode(one(), file: "c").pixels, [1, 2, 3, 4])
        expectError(one(label: 3), "label 3 of a/1.png is not one of the 1 classes")
        expectError(one(flag: 7), "decoded flag of a/1.png is 7, expected 0 or 1")
        expectError(one(h: 0), "image size 0x2x1 is out of range")
        expectError(one(h: 100_000), "image size 100000x2x1 is out of range")
        expectError(one(pixels: [1, 2, 3]), "1 decoded images of 2x2x1 need 4 bytes, found 3")
    }

    func testFuzzCorpusReplays() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz").path
        func corpus(_ kind: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(kind)/imagecache")) ?? []).filter { !$0.hasPrefix(".") }.sorted()
                .map { "\(dir)/\(kind)/imagecache/\($0)" }
        }
        let seeds = corpus("seeds")
        XCTAssertGreaterThanOrEqual(seeds.count, 2)
        for f in seeds {
            let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: f)))
            XCTAssertEqual(ImageCacheFuzzEntry.run(b), 2, f)
        }
        for f in corpus("regressions") { _ = ImageCacheFuzzEntry.run([UInt8](try Data(contentsOf: URL(fileURLWithPath: f)))) }
    }
}
