// A batch whose buffers would not fit in the machine's memory is an error named by its setting,
// before anything is allocated (ModelBuffers.check), instead of a failed allocation's crash.

import XCTest
import Foundation
import GeneratedModels
import ModelcRuntime

final class ModelMemoryCheckTests: XCTestCase {
    func testABatchTooBigForMemoryIsRefusedBeforeAllocating() throws {
        let b = Seed002MnistCnn.buffers
        let need = try XCTUnwrap(b.bytes(maxBatch: 65536, threads: 2))
        XCTAssertGreaterThan(need, 100_000_000_000, "seed 002's buffers for 65,536 images")
        var text = ""
        XCTAssertThrowsError(try b.check(model: "m", maxBatch: 65536, threads: 2, what: "train: --batch 65536", memory: 16 << 30)) { text = "\($0)" }
        XCTAssertTrue(text.hasPrefix("train: --batch 65536: model m needs 1"), text)
        XCTAssertTrue(text.contains("for batches of 65536 images (2.2 MB an image); this machine has 17.2 GB: at most "), text)
        // the largest batch it names fits, one more does not
        let fit = Int(text.split(separator: " ").reversed().dropFirst(2).first ?? "") ?? -1
        XCTAssertNoThrow(try b.check(model: "m", maxBatch: fit, threads: 2, what: "x", memory: 16 << 30), text)
        XCTAssertThrowsError(try b.check(model: "m", maxBatch: fit + 1, threads: 2, what: "x", memory: 16 << 30), text)
        // when even one image does not fit, the threads' share is what to cut
        XCTAssertThrowsError(try b.check(model: "m", maxBatch: 1, threads: 2, what: "x", memory: 1 << 20)) {
            XCTAssertTrue("\($0)".hasSuffix("use fewer --threads (2 now)"), "\($0)")
        }
        XCTAssertNoThrow(try b.check(model: "m", maxBatch: 128, threads: 2, what: "train", memory: 16 << 30))
        XCTAssertNil(b.bytes(maxBatch: Int.max / 2, threads: 2), "a count past Int is nil, never wrapped")
        // a training run's optimizer state (Adam: two buffers the size of the parameters) counts too
        XCTAssertEqual(b.bytes(maxBatch: 128, threads: 2, optimizerSlots: 2), try XCTUnwrap(b.bytes(maxBatch: 128, threads: 2)) + 2 * 4 * b.parameterCount)
        let exact = UInt64(try XCTUnwrap(b.bytes(maxBatch: 128, threads: 2)))
        XCTAssertNoThrow(try b.check(model: "m", maxBatch: 128, threads: 2, what: "x", memory: exact))
        XCTAssertThrowsError(try b.check(model: "m", maxBatch: 128, threads: 2, optimizerSlots: 2, what: "x", memory: exact))
        XCTAssertThrowsError(try b.check(model: "m", maxBatch: Int.max / 2, threads: 2, what: "x", memory: .max))

        // The binary's command line, where this machine lacks the memory: exit 1 with the message.
        guard UInt64(need) > ProcessInfo.processInfo.physicalMemory else { throw XCTSkip("this machine holds seed 002 at batch 65,536") }
        let sample = GeneratedFilesTests.repo + "/Sources/ModelcData/Samples/mnist"
        let r = runCommandLine(Seed002MnistCnn.self, ["train", "--data", sample, "--batch", "65536", "--limit", "64", "--epochs", "1",
                                                      "--checkpoint", NSTemporaryDirectory() + "never-\(UUID()).ckpt"])
        XCTAssertEqual(r.code, 1, r.err)
        XCTAssertTrue(r.err.contains("train: batch 65536 (--batch): model seed002_mnist_cnn needs "), r.err)
    }
}
