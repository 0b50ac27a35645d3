// Replays the decoder fuzzing corpora (Tests/Fuzz/seeds/<target> and Tests/Fuzz/regressions/<target>,
// see Tests/Fuzz/README.md) through the same entry point the libFuzzer harness calls: every file
// must decode or throw a DataError (DecoderFuzzEntry.run returns either way); a crash or hang
// fails the test run. Plus the resource bounds of issue 6 that the other data tests leave out.
import Foundation
import XCTest
@testable import ModelcData
import ModelcFuzz

final class FuzzRegressionTests: XCTestCase {
    /// Fuzz targets and the DecoderFuzzEntry kind each one runs.
    static let targets = ["inflate", "gzip", "idx", "npy", "npz", "csv", "numcsv", "png", "pgm", "ppm", "tar", "cifar", "hdf5"]

    static func corpus(_ kind: String, _ target: String) -> [String] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/\(kind)/\(target)").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
    }

    /// Seeds copied from Tests/Fixtures/data/corrupt (and the truncated CSV) must be refused.
    static func isCorrupt(_ path: String) -> Bool {
        let n = (path as NSString).lastPathComponent
        return ["badcrc", "badisize", "truncated", "lying", "short", "train_truncated"].contains { n.hasPrefix($0) }
    }

    func testSeedCorporaReplay() throws {
        for t in Self.targets {
            let files = Self.corpus("seeds", t)
            XCTAssertGreaterThanOrEqual(files.count, 2, "Tests/Fuzz/seeds/\(t)")
            var decoded = 0
            for f in files {
                let ok = DecoderFuzzEntry.run(t, bytes(f))
                if ok { decoded += 1 }
                if Self.isCorrupt(f) { XCTAssertFalse(ok, "\(t): corrupt seed \(f) decoded") }
            }
            XCTAssertGreaterThan(decoded, 0, "\(t): no seed decodes; the entry point or the seeds are broken")
        }
    }

    func testRegressionCorporaReplay() throws {
        for t in Self.targets {
            for f in Self.corpus("regressions", t) {
                // Must return (decoded or DataError) instead of crashing.
                _ = DecoderFuzzEntry.run(t, bytes(f))
            }
        }
    }

    // MARK: resource bounds (issue 6)

    func testTwelveByteLabelFileClaimingABillionItems() {
        // IDX1 header (8 bytes) + 4 data bytes, claiming 10^9 labels.
        let twelve: [UInt8] = [0, 0, 8, 1, 0x3B, 0x9A, 0xCA, 0x00, 1, 2, 3, 4]
        assertDataError(["l.idx", "offset 8", "[1000000000]", "found 4"]) { try IDX.decode(twelve, file: "l.idx") }
        // The same claim inside a gzip file: refused after decompressing 12 bytes, not 10^9.
        assertDataError(["l.idx.gz", "[1000000000]"]) {
            try IDX.decode(try Gzip.decompress(Gzip.compressStored(twelve), file: "l.idx.gz"), file: "l.idx.gz")
        }
    }

    func testIDXDimensionProductOverflowIsRefused() {
        // Four dims of 2^31-1: the product overflows Int64; must be refused, not trap.
        var b: [UInt8] = [0, 0, 8, 4]
        for _ in 0..<4 { b += [0x7F, 0xFF, 0xFF, 0xFF] }
        assertDataError(["o.idx", "exceed"]) { try IDX.decode(b, file: "o.idx") }
    }

    func testGzipBombIsBoundedByDefaultLimit() throws {
        // A gzip member whose trailer claims 4 GiB: the declared size is not trusted for allocation,
        // and decoding stops at the output bound.
        let gz = Gzip.compressStored([UInt8](repeating: 0, count: 1 << 16))
        assertDataError(["bomb.gz", "exceeds the limit of 4096 bytes"]) { try Gzip.decompress(gz, file: "bomb.gz", maxOutput: 4096) }
        XCTAssertLessThanOrEqual(DataLimits.maxDecompressedBytes, 2 << 30)
    }

    func testZipEntryDeclaringHugeSizeIsRefusedBeforeInflating() throws {
        var z = try Zip.archiveStored([("a.npy", try NPY.encode(NDArray(uint8: [1, 2, 3], shape: [3])))])
        guard let cd = (0..<(z.count - 3)).first(where: { z[$0] == 0x50 && z[$0 + 1] == 0x4B && z[$0 + 2] == 1 && z[$0 + 3] == 2 }) else {
            return XCTFail("no central directory header")
        }
        // uncompressed size (central header offset 24) = 0x7FFFFFFF
        z[cd + 24] = 0xFF; z[cd + 25] = 0xFF; z[cd + 26] = 0xFF; z[cd + 27] = 0x7F
        assertDataError(["big.npz"]) { try NPZ.decode(z, file: "big.npz", maxEntryBytes: 1 << 20) }
    }

    func testNPYShapeClaimIsRefusedBeforeAllocating() throws {
        // A 3-byte .npy whose header claims 10^10 x 10^10 bytes (the product overflows the limit).
        var header = Array("{'descr': '|u1', 'fortran_order': False, 'shape': (10000000000, 10000000000), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        let npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + [1, 2, 3]
        assertDataError(["n.npy", "exceeds"]) { try NPY.decode(npy, file: "n.npy") }
        // A plausible claim larger than the data: refused as truncated, not allocated.
        var h2 = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }".utf8)
        while (10 + h2.count + 1) % 64 != 0 { h2.append(0x20) }
        h2.append(0x0A)
        let npy2: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h2.count & 0xFF), UInt8(h2.count >> 8)] + h2 + [1, 2, 3, 4]
        assertDataError(["m.npy"]) { try NPY.decode(npy2, file: "m.npy") }
    }
}
