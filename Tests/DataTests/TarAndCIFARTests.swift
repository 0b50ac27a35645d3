// The tar reader (ustar, GNU and pax archives built here byte by byte, and their damaged forms)
// and CIFAR-10's binary batches: the record layout, labels, the three places the files may be
// (the archive, its cifar-10-batches-bin/ folder, the directory itself), batches.meta.txt, and
// the fixture archive in the official format (Tests/Fixtures/data/cifar10).
import Foundation
import XCTest
@testable import ModelcData

/// One 512-byte tar header with a correct checksum. `size` is written in octal unless `rawSize`
/// gives the 12 bytes of the field; `magic` "ustar\0" + "00" is POSIX, "ustar  \0" GNU.
func tarHeader(_ name: String, size: Int, type: Character = "0", prefix: String = "", posix: Bool = true, rawSize: [UInt8]? = nil) -> [UInt8] {
    var h = [UInt8](repeating: 0, count: 512)
    func put(_ s: String, _ at: Int) { for (i, b) in s.utf8.enumerated() { h[at + i] = b } }
    put(name, 0); put("0000644", 100); put("0000000", 108); put("0000000", 116)
    if let r = rawSize { for (i, b) in r.enumerated() { h[124 + i] = b } } else { put(String(format: "%011o", size), 124) }
    put("00000000000", 136)
    h[156] = type.asciiValue!
    if posix { put("ustar", 257); put("00", 263) } else { put("ustar  ", 257) }
    put(prefix, 345)
    for i in 148..<156 { h[i] = 0x20 }
    let sum = h.reduce(0) { $0 + Int($1) }
    put(String(format: "%06o", sum), 148); h[154] = 0
    return h
}

/// A tar member: its header and its data padded to 512 bytes.
func tarMember(_ name: String, _ data: [UInt8], type: Character = "0", prefix: String = "", posix: Bool = true) -> [UInt8] {
    tarHeader(name, size: data.count, type: type, prefix: prefix, posix: posix) + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
}

final class TarAndCIFARTests: XCTestCase {
    let end = [UInt8](repeating: 0, count: 1024)

    func testUstarGNUAndPaxNames() throws {
        let long = String(repeating: "d/", count: 80) + "file.bin"   // 168 bytes: too long for the name field
        var pax = Array("\(long.utf8.count + 9 + 3 + 1) path=\(long)\n".utf8)
        pax = Array("\(pax.count) path=\(long)\n".utf8)
        let archive = tarMember("plain.txt", Array("hello".utf8))
            + tarMember("name.bin", [1, 2, 3], prefix: "some/prefix")
            + tarMember("././@LongLink", Array((long + "\0").utf8), type: "L", posix: false) + tarMember("cut", [4], posix: false)
            + tarMember("PaxHeaders/x", pax, type: "x") + tarMember("short", [5, 6])
            + tarMember("dir", [], type: "5") + tarMember("link", [], type: "2") + end
        let entries = try Tar.entries(archive, file: "a.tar")
        XCTAssertEqual(entries.map(\.name), ["plain.txt", "some/prefix/name.bin", long, long, "dir", "link"])
        XCTAssertEqual(entries.map(\.isFile), [true, true, true, true, false, false])
        XCTAssertEqual(entries.map(\.size), [5, 3, 1, 2, 0, 0])
        XCTAssertEqual(Array(archive[entries[3].offset..<(entries[3].offset + 2)]), [5, 6])
        // base-256 size (GNU, for files over 8 GiB): here 3 bytes
        let b256 = tarHeader("big", size: 0, rawSize: [0x80] + [UInt8](repeating: 0, count: 10) + [3]) + [7, 8, 9] + [UInt8](repeating: 0, count: 509)
        XCTAssertEqual(try Tar.entries(b256 + end, file: "b.tar").map(\.size), [3])
        // no end-of-archive blocks: tolerated; a pax size record overrides the header's size
        XCTAssertEqual(try Tar.entries(tarMember("x", [1]), file: "c.tar").count, 1)
        let sized = tarMember("h", Array("10 size=2\n".utf8), type: "x") + tarHeader("y", size: 0) + [1, 2] + [UInt8](repeating: 0, count: 510)
        XCTAssertEqual(try Tar.entries(sized, file: "d.tar").map(\.size), [2])
    }

    func testDamagedArchivesAreRefused() {
        var badSum = tarMember("a", [1]); badSum[0] = UInt8(ascii: "b")
        assertDataError(["t.tar", "offset 148", "tar header checksum mismatch"]) { try Tar.entries(badSum, file: "t.tar") }
        assertDataError(["t.tar", "offset 124", "tar entry 'a' declares 1000 bytes but only 0 remain"]) {
            try Tar.entries(tarHeader("a", size: 1000), file: "t.tar")
        }
        assertDataError(["t.tar", "offset 1024", "ends inside a header block: expected 512 bytes, found 100"]) {
            try Tar.entries(tarMember("a", [1]) + [UInt8](repeating: 7, count: 100), file: "t.tar")
        }
        assertDataError(["t.tar", "offset 124", "entry size: expected octal digits, found '0000000009x"]) {
            try Tar.entries(tarHeader("a", size: 0, rawSize: Array("0000000009x\0".utf8)), file: "t.tar")
        }
        assertDataError(["t.tar", "offset 124", "base-256 is too large"]) {
            try Tar.entries(tarHeader("a", size: 0, rawSize: [0xFF] + [UInt8](repeating: 0xFF, count: 11)), file: "t.tar")
        }
        assertDataError(["t.tar", "offset 512", "malformed pax record"]) {
            try Tar.entries(tarMember("p", Array("99 path=x\n".utf8), type: "x") + end, file: "t.tar")
        }
        assertDataError(["t.tar", "pax size 'lots' is not a non-negative integer"]) {
            try Tar.entries(tarMember("p", Array("13 size=lots\n".utf8), type: "x") + end, file: "t.tar")
        }
        assertDataError(["t.tar", "found 0"]) { try Tar.entries([], file: "t.tar") }
    }

    func testCIFARRecordsBecomeHWCImages() throws {
        // two records: label, then the red, green and blue planes
        var rec: [UInt8] = []
        for (label, base) in [(7, 0), (2, 100)] {
            rec.append(UInt8(label))
            for c in 0..<3 { for i in 0..<1024 { rec.append(UInt8((base + c * 50 + i) % 256)) } }
        }
        var pixels: [UInt8] = [], labels: [Int32] = []
        try CIFAR10.decode(rec[...], file: "b.bin", pixels: &pixels, labels: &labels)
        XCTAssertEqual(labels, [7, 2])
        XCTAssertEqual(pixels.count, 2 * 3072)
        // image 1, pixel (y 1, x 2) = plane index 34: channel c is (100 + 50 c + 34) % 256
        XCTAssertEqual(Array(pixels[(3072 + 34 * 3)..<(3072 + 34 * 3 + 3)]), [134, 184, 234])
        var bad = rec; bad[3073] = 10
        assertDataError(["b.bin", "offset 3073", "record 1: label 10, expected a class index 0...9"]) {
            try CIFAR10.decode(bad[...], file: "b.bin", pixels: &pixels, labels: &labels)
        }
        assertDataError(["b.bin", "offset 3073", "file is 3100 bytes, expected a positive multiple of the 3073-byte record"]) {
            try CIFAR10.decode(rec[0..<3100], file: "b.bin", pixels: &pixels, labels: &labels)
        }
        assertDataError(["b.bin", "positive multiple"]) { try CIFAR10.decode([][...], file: "b.bin", pixels: &pixels, labels: &labels) }
    }

    func testFixtureArchiveFolderAndFlatFilesLoadAlike() throws {
        let dir = fixture("cifar10")
        XCTAssertEqual(try Datasets.resolveDirectory(name: "cifar10", explicit: dir), dir)
        let (bytes, entries) = try Tar.read(path: dir + "/cifar-10-binary.tar.gz")
        XCTAssertEqual(entries.filter(\.isFile).map(\.name).sorted(),
                       (["batches.meta.txt", "readme.html", "test_batch.bin"] + (1...5).map { "data_batch_\($0).bin" }).map { "cifar-10-batches-bin/" + $0 }.sorted())
        let train = try Datasets.load(name: "cifar10", directory: dir, split: .train)
        let test = try Datasets.load(name: "cifar10", directory: dir, split: .test)
        XCTAssertEqual([train.count, train.height, train.width, train.channels, test.count], [10, 32, 32, 3, 4])
        XCTAssertEqual(train.labels, (0..<10).map(Int32.init))
        XCTAssertEqual(test.labels, [3, 4, 5, 6])
        // the first training pixel's channels are the first byte of each plane of the first record
        let first = try XCTUnwrap(entries.first { $0.name.hasSuffix("data_batch_1.bin") })
        XCTAssertEqual(Array(train.pixels[0..<3]), [bytes[first.offset + 1], bytes[first.offset + 1025], bytes[first.offset + 2049]])

        // unpacked (as `modelc download cifar10` does) into cifar-10-batches-bin/, and flat in the directory
        let out = tempDir()
        let written = try CIFAR10.extract(archive: dir + "/cifar-10-binary.tar.gz", into: out)
        XCTAssertEqual(written.count, 7)
        XCTAssertEqual(try Datasets.load(name: "cifar10", directory: out, split: .train).pixels, train.pixels)
        let flat = tempDir()
        for f in written { try FileManager.default.copyItem(atPath: f, toPath: flat + "/" + (f as NSString).lastPathComponent) }
        XCTAssertEqual(try Datasets.load(name: "cifar10", directory: flat, split: .test).labels, test.labels)

        // a missing batch, a wrong class list, nothing at all
        try FileManager.default.removeItem(atPath: flat + "/data_batch_3.bin")
        assertDataError([flat + "/data_batch_1.bin", "found this CIFAR-10 batch but not " + flat + "/data_batch_3.bin"]) {
            try Datasets.load(name: "cifar10", directory: flat, split: .train)
        }
        try AtomicFile.write(Array("airplane\nautomobile\nbird\ndog\n".utf8), to: flat + "/batches.meta.txt")
        assertDataError([flat + "/batches.meta.txt", "expected class 3 to be 'cat', found 'dog' on line 4"]) {
            try Datasets.load(name: "cifar10", directory: flat, split: .test)
        }
        assertDataError(["no CIFAR-10 test files", "cifar-10-binary.tar.gz"]) { try CIFAR10.load(directory: tempDir(), split: .test) }
    }

    func testArchiveWithoutTheBatches() throws {
        let dir = tempDir()
        try AtomicFile.write(Gzip.compressStored(tarMember("cifar-10-batches-bin/readme.html", [1]) + end), to: dir + "/cifar-10-binary.tar.gz")
        assertDataError([dir + "/cifar-10-binary.tar.gz", "the archive has no member cifar-10-batches-bin/test_batch.bin (1 entries)"]) {
            try Datasets.load(name: "cifar10", directory: dir, split: .test)
        }
    }
}
