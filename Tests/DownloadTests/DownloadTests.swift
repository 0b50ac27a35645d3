import Foundation
import XCTest
@testable import ModelcData
@testable import ModelcDownload

final class DownloadTests: XCTestCase {
    var server: LocalHTTPServer!

    override func setUpWithError() throws { server = try LocalHTTPServer() }
    override func tearDown() { server.stop() }

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "modelc-dl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    func payload(_ n: Int) -> [UInt8] {
        var x: UInt32 = 12345
        return (0..<n).map { _ in x = x &* 1_103_515_245 &+ 12345; return UInt8(truncatingIfNeeded: x >> 16) }
    }

    func quiet() -> Downloader {
        let d = Downloader(); d.retryDelay = 0; d.timeout = 10; return d
    }

    func testMD5KnownVectors() {
        XCTAssertEqual(MD5.hex([]), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(MD5.hex(Array("abc".utf8)), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(MD5.hex(Array("The quick brown fox jumps over the lazy dog".utf8)), "9e107d9d372bb6826bd81d3542a419d6")
        // Multi-block and chunked updates agree.
        let big = payload(200_003)
        var h = MD5()
        h.update(Array(big[0..<7])); h.update(Array(big[7..<100_000])); h.update(Array(big[100_000...]))
        XCTAssertEqual(hexString(h.finalize()), MD5.hex(big))
    }

    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let big = payload(150_001)
        var h = SHA256()
        h.update(Array(big[0..<63])); h.update(Array(big[63...]))
        XCTAssertEqual(hexString(h.finalize()), SHA256.hex(big))
    }

    func testPlainDownloadVerifiesAndRenames() throws {
        let body = payload(300_000)
        server.set("/f.bin", body)
        let dir = tempDir()
        let r = try quiet().fetch(URL(string: server.baseURL + "/f.bin")!, to: dir + "/f.bin", md5: MD5.hex(body), sha256: SHA256.hex(body))
        XCTAssertEqual(try FileIO.read(path: dir + "/f.bin"), body)
        XCTAssertEqual(r.bytes, 300_000)
        XCTAssertEqual(r.attempts, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/f.bin.part"))
    }

    func testInterruptedDownloadResumesWithRange() throws {
        let body = payload(500_000)
        server.set("/f.bin", body)
        server.cut("/f.bin", after: [123_456])          // the first response dies after 123,456 bytes
        let dir = tempDir()
        let lines = LockedLines()
        let d = quiet()
        d.log = { lines.append($0) }
        let r = try d.fetch(URL(string: server.baseURL + "/f.bin")!, to: dir + "/f.bin", md5: MD5.hex(body))
        XCTAssertEqual(try FileIO.read(path: dir + "/f.bin"), body)
        XCTAssertEqual(r.attempts, 2)
        let reqs = server.requests
        XCTAssertEqual(reqs.count, 2)
        XCTAssertNil(reqs[0].range)
        XCTAssertEqual(reqs[1].range, "bytes=123456-")
        XCTAssertTrue(lines.all.contains { $0.contains("resuming from byte 123456") }, "\(lines.all)")
    }

    func testResumeFromPartFileOfEarlierRun() throws {
        let body = payload(100_000)
        server.set("/f.bin", body)
        let dir = tempDir()
        // An earlier run died after 40,000 bytes.
        try AtomicFile.write(Array(body[0..<40_000]), to: dir + "/f.bin.part")
        let r = try quiet().fetch(URL(string: server.baseURL + "/f.bin")!, to: dir + "/f.bin", md5: MD5.hex(body))
        XCTAssertEqual(r.resumedFrom, 40_000)
        XCTAssertEqual(server.requests.map { $0.range }, ["bytes=40000-"])
        XCTAssertEqual(try FileIO.read(path: dir + "/f.bin"), body)
    }

    func testServerIgnoringRangeRestartsCleanly() throws {
        let body = payload(50_000)
        server.set("/f.bin", body)
        server.setIgnoreRange(true)
        let dir = tempDir()
        try AtomicFile.write(Array(body[0..<10_000]), to: dir + "/f.bin.part")
        _ = try quiet().fetch(URL(string: server.baseURL + "/f.bin")!, to: dir + "/f.bin", md5: MD5.hex(body))
        XCTAssertEqual(try FileIO.read(path: dir + "/f.bin"), body)   // not 10,000 bytes + full body
    }

    func testChecksumMismatchInstallsNothing() throws {
        let body = payload(20_000)
        server.set("/f.bin", body)
        let dir = tempDir()
        let want = MD5.hex(Array(body.reversed()))
        XCTAssertThrowsError(try quiet().fetch(URL(string: server.baseURL + "/f.bin")!, to: dir + "/f.bin", md5: want)) { e in
            let msg = "\(e)"
            XCTAssertTrue(msg.contains("checksum mismatch for \(dir)/f.bin"), msg)
            XCTAssertTrue(msg.contains("expected md5 \(want), got \(MD5.hex(body))"), msg)
            XCTAssertTrue(msg.contains(self.server.baseURL + "/f.bin"), msg)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/f.bin"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/f.bin.part"))
    }

    func testHTTPErrorsAreClear() {
        let dir = tempDir()
        XCTAssertThrowsError(try quiet().fetch(URL(string: server.baseURL + "/missing.gz")!, to: dir + "/m.gz")) { e in
            XCTAssertTrue("\(e)".contains("/missing.gz: HTTP 404"), "\(e)")
        }
        // Nothing listening: connection refused, retried, then a clear message.
        let port = server.port
        server.stop()
        let d = quiet(); d.maxAttempts = 2
        XCTAssertThrowsError(try d.fetch(URL(string: "http://127.0.0.1:\(port)/x")!, to: dir + "/x")) { e in
            XCTAssertTrue("\(e)".contains("gave up after 2 attempts"), "\(e)")
        }
    }

    func testAlwaysCutGivesUpKeepingPart() throws {
        let body = payload(40_000)
        server.set("/f.bin", body)
        server.cut("/f.bin", after: [1000, 1000, 1000])
        let dir = tempDir()
        let d = quiet(); d.maxAttempts = 3
        XCTAssertThrowsError(try d.fetch(URL(string: server.baseURL + "/f.bin")!, to: dir + "/f.bin", md5: MD5.hex(body))) { e in
            XCTAssertTrue("\(e)".contains("3000 bytes kept in \(dir)/f.bin.part, run again to resume"), "\(e)")
        }
        // Running again resumes from 3000 and completes.
        let r = try quiet().fetch(URL(string: server.baseURL + "/f.bin")!, to: dir + "/f.bin", md5: MD5.hex(body))
        XCTAssertEqual(r.resumedFrom, 3000)
        XCTAssertEqual(try FileIO.read(path: dir + "/f.bin"), body)
    }

    func testDatasetDownloadWithBaseOverride() throws {
        // A small "dig-mnist" mirror: the official file names with the catalog's entries scaled
        // down to 200 images (the full-size catalog is checked in the next test).
        let images = try IDX.encode(dims: [200, 28, 28], bytes: [UInt8](repeating: 3, count: 200 * 784))
        let labels = try IDX.encode(dims: [200], bytes: (0..<200).map { UInt8($0 % 10) })
        server.set("/m/X_dig_MNIST-idx3-ubyte.gz", Gzip.compressStored(images))
        server.set("/m/y_dig_MNIST-idx1-ubyte.gz", Gzip.compressStored(labels))
        server.cut("/m/X_dig_MNIST-idx3-ubyte.gz", after: [50_000])
        let official = try DownloadCatalog.source(for: "dig-mnist")
        XCTAssertEqual(official.files.map { $0.name }, ["X_dig_MNIST-idx3-ubyte.gz", "y_dig_MNIST-idx1-ubyte.gz"])
        let small = DatasetSource(dataset: "dig-mnist", baseURL: "unused",
                                  files: [RemoteFile(name: official.files[0].name, md5: nil, idxDims: [200, 28, 28]),
                                          RemoteFile(name: official.files[1].name, md5: nil, idxDims: [200])], note: nil)
        let dir = tempDir() + "/dig-mnist"
        let lines = LockedLines()
        let d = quiet()
        let results = try DatasetDownload.run(source: small, into: dir, baseURL: server.baseURL + "/m", downloader: d,
                                              say: { lines.append($0) })
        XCTAssertEqual(results.count, 2)
        XCTAssertEqual(results[0].resumedFrom, 0)
        XCTAssertEqual(results[0].attempts, 2)      // cut after 50,000 bytes, resumed
        XCTAssertEqual(server.requests.filter { $0.range != nil }.map { $0.range }, ["bytes=50000-"])
        let set = try Datasets.load(name: "dig-mnist", directory: dir, split: .test)
        XCTAssertEqual(set.count, 200)
        XCTAssertEqual(set.classCounts(classes: 10)[0], 20)
        XCTAssertTrue(lines.all.contains { $0.contains("no published checksum; structure verified; sha256") }, "\(lines.all)")
        // A second run finds the files and fetches nothing.
        let before = server.requests.count
        _ = try DatasetDownload.run(source: small, into: dir, baseURL: server.baseURL + "/m", downloader: d, say: { lines.append($0) })
        XCTAssertEqual(server.requests.count, before)
        XCTAssertTrue(lines.all.contains { $0.contains("already present") })
    }

    func testDatasetDownloadRejectsWrongStructure() throws {
        // Right names, wrong content (a 5-image file where 10,240 are official): removed, error.
        let images = try IDX.encode(dims: [5, 28, 28], bytes: [UInt8](repeating: 3, count: 5 * 784))
        server.set("/m/X_dig_MNIST-idx3-ubyte.gz", Gzip.compressStored(images))
        let dir = tempDir()
        XCTAssertThrowsError(try DatasetDownload.run(dataset: "dig-mnist", into: dir, baseURL: server.baseURL + "/m",
                                                     downloader: quiet(), say: { _ in })) { e in
            XCTAssertTrue("\(e)".contains("IDX dimensions [5, 28, 28], expected [10240, 28, 28]"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/X_dig_MNIST-idx3-ubyte.gz"))
    }

    func testKMNISTCatalogUsesPublishedMD5() throws {
        let s = try DownloadCatalog.source(for: "kmnist")
        XCTAssertEqual(s.files.map { $0.name }, ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
        XCTAssertEqual(s.files[0].md5, "bdb82020997e1d708af4cf47b453dcf7")
        XCTAssertEqual(s.files[3].md5, "7320c461ea6c1c855c0b718fb2a4b134")
        // A mirror serving a wrong file for a checksummed dataset is refused.
        server.set("/k/train-images-idx3-ubyte.gz", [1, 2, 3])
        let dir = tempDir()
        XCTAssertThrowsError(try DatasetDownload.run(dataset: "kmnist", into: dir, baseURL: server.baseURL + "/k", downloader: quiet(), say: { _ in })) { e in
            XCTAssertTrue("\(e)".contains("expected md5 bdb82020997e1d708af4cf47b453dcf7"), "\(e)")
        }
        XCTAssertThrowsError(try DownloadCatalog.source(for: "imagenet")) { e in
            XCTAssertTrue("\(e)".contains("unknown dataset 'imagenet' (expected one of: mnist, fashion-mnist, kmnist, kannada-mnist, dig-mnist, cifar10)"), "\(e)")
        }
    }

    func testCIFAR10ArchiveIsVerifiedAndUnpacked() throws {
        let official = try DownloadCatalog.source(for: "cifar10")
        XCTAssertEqual(official.baseURL, "https://www.cs.toronto.edu/~kriz")
        XCTAssertEqual(official.files.map { $0.name }, ["cifar-10-binary.tar.gz"])
        XCTAssertEqual(official.files[0].md5, "c32a1d4ab5d03f1284b67883e8d87530")
        // The fixture archive (the official format, a few records) served by a mirror, with its own MD5.
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/data/cifar10/cifar-10-binary.tar.gz").path
        let archive = try FileIO.read(path: fixture)
        server.set("/c/cifar-10-binary.tar.gz", archive)
        func mirror(_ md5: String) -> DatasetSource {
            DatasetSource(dataset: "cifar10", baseURL: server.baseURL + "/c",
                          files: [RemoteFile(name: "cifar-10-binary.tar.gz", md5: md5, idxDims: nil, unpack: official.files[0].unpack)], note: nil)
        }
        let dir = tempDir()
        let lines = LockedLines()
        _ = try DatasetDownload.run(source: mirror(MD5.hex(archive)), into: dir, downloader: quiet(), say: { lines.append($0) })
        XCTAssertTrue(lines.all.contains("\(dir)/cifar-10-binary.tar.gz: unpacked 7 files into \(dir)/cifar-10-batches-bin"), "\(lines.all)")
        XCTAssertEqual(try Datasets.load(name: "cifar10", directory: dir, split: .test).count, 4)
        XCTAssertEqual(try FileIO.read(path: dir + "/cifar-10-batches-bin/data_batch_5.bin").count, 2 * 3073)
        // With the official MD5, the fixture is refused and nothing is installed.
        let other = tempDir()
        XCTAssertThrowsError(try DatasetDownload.run(source: mirror(official.files[0].md5!), into: other, downloader: quiet(), say: { _ in })) { e in
            XCTAssertTrue("\(e)".contains("expected md5 c32a1d4ab5d03f1284b67883e8d87530"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: other + "/cifar-10-binary.tar.gz"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: other + "/cifar-10-batches-bin"))
        // An archive whose batch is damaged (a label of 12) is not unpacked.
        var bad = try Tar.read(path: fixture).bytes
        let entry = try XCTUnwrap(try Tar.entries(bad, file: "a").first { $0.name.hasSuffix("test_batch.bin") })
        bad[entry.offset] = 12
        let gz = Gzip.compressStored(bad)
        server.set("/c/cifar-10-binary.tar.gz", gz)
        let third = tempDir()
        XCTAssertThrowsError(try DatasetDownload.run(source: mirror(MD5.hex(gz)), into: third, downloader: quiet(), say: { _ in })) { e in
            XCTAssertTrue("\(e)".contains("cifar-10-binary.tar.gz(cifar-10-batches-bin/test_batch.bin): offset 0: record 0: label 12"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: third + "/cifar-10-batches-bin/test_batch.bin"))
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
