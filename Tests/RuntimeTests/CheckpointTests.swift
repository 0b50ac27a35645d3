// Checkpoints: round trip, refusal of another model's checkpoint (naming what differs),
// corruption (CRC-32), truncation, wrong magic; weights-only files cannot be resumed.

import XCTest
import TinyModels
import ModelcData
@testable import ModelcRuntime

func temporaryDirectory() -> String {
    let d = NSTemporaryDirectory() + "modelc-runtime-tests-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

final class CheckpointTests: XCTestCase {
    func trainedTrainer(dir: String) throws -> Trainer<TinyModel> {
        var config = try TrainingConfig(defaults: TinyModel.info.defaults, dataset: "mnist")
        config.epochs = 2
        let data = syntheticImages(count: 100, seed: 1).splitForValidation(0.2)
        let model = TinyModel(maxBatch: 16)
        initializeParameters(model.parameters, tensors: TinyModel.info.tensors, seed: config.seed)
        let t = try Trainer(model: model, config: config, train: data.train, validation: data.validation)
        t.checkpointPath = dir + "/tiny.ckpt"
        try t.run()
        return t
    }

    func testRoundTrip() throws {
        let dir = temporaryDirectory()
        let t = try trainedTrainer(dir: dir)
        let c = try Checkpoint.read(path: dir + "/tiny.ckpt")
        try c.checkMatches(TinyModel.info, file: "x")
        XCTAssertEqual(c.parameters, Array(UnsafeBufferPointer(start: t.model.parameters, count: TinyModel.info.parameterCount)))
        XCTAssertEqual(c.training?.progress, t.progress)
        XCTAssertEqual(c.training?.progress.epochsDone, 2)
        XCTAssertEqual(c.training?.progress.history.count, 2)
        XCTAssertEqual(c.training?.optimizerSlots, t.optimizer.slotArrays())
        XCTAssertEqual(c.training?.optimizerIterations, t.optimizer.iterations)
        // moving statistics (non-trainable) are stored too and are not zero after training
        let mm = TinyModel.info.tensors[4]
        XCTAssertTrue(c.parameters[mm.offset..<(mm.offset + mm.count)].contains { $0 != 0 })
        XCTAssertTrue(FileIO.exists(dir + "/tiny.best.ckpt"))
        // re-encoding gives identical bytes
        XCTAssertEqual(c.encode(), try FileIO.read(path: dir + "/tiny.ckpt"))
    }

    /// A checkpoint's stored settings are held to the ranges a run can write: a crafted batch,
    /// epoch count or learning rate must never size the buffers or run.
    func testStoredSettingsOutsideTheFlagsRangesAreRefused() throws {
        var config = try TrainingConfig(defaults: TinyModel.info.defaults, dataset: "mnist")
        var again = config
        try again.apply(pairs: config.pairs(), file: "c.ckpt")
        XCTAssertEqual(again.pairs().map(\.1), config.pairs().map(\.1), "the stored settings read back")
        // what a model file's annotations allow, past train's flags, still reads back
        try again.apply(pairs: [("batch", "100000"), ("epochs", "2000000"), ("beta2", "1.0"), ("augment_rotate", "270"), ("threads", "4096")], file: "c.ckpt")
        XCTAssertEqual(again.batchSize, 100_000)
        for (k, v, expected) in [("batch", "4611686018427387904", "an integer in 1...1073741824"), ("batch", "0", "an integer in 1...1073741824"),
                                 ("epochs", "99999999999", "an integer in 0...1073741824"), ("lr", "nan", "a finite number >= 0.0"),
                                 ("lr", "-1", "a finite number >= 0.0"), ("momentum", "1", "a finite number >= 0.0 and < 1.0"),
                                 ("beta2", "inf", "a finite number"),
                                 ("augment_shift", "100000000", "an integer in 0...1048576"), ("augment_rotate", "inf", "a finite number >= 0.0"),
                                 ("threads", "-1", "an integer in 0...\(Int.max)"), ("target_columns", "0", "an integer in 1...1048576")] {
            XCTAssertThrowsError(try config.apply(pairs: [(k, v)], file: "c.ckpt"), k) {
                XCTAssertEqual("\($0)", "c.ckpt: stored setting \(k)=\(v) is not valid (expected \(expected))")
            }
        }
    }

    func testRefusesAnotherModel() throws {
        let dir = temporaryDirectory()
        _ = try trainedTrainer(dir: dir)
        let c = try Checkpoint.read(path: dir + "/tiny.ckpt")
        XCTAssertThrowsError(try c.checkMatches(OtherModel.info, file: "tiny.ckpt")) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("another model"), s)
            XCTAssertTrue(s.contains("'tiny_mlp' there, 'other_mlp' here"), s)
            XCTAssertTrue(s.contains("dense_2/bias has shape [10] there, [11] here"), s)
        }
    }

    func testDetectsCorruptionAndTruncation() throws {
        let dir = temporaryDirectory()
        _ = try trainedTrainer(dir: dir)
        let good = try FileIO.read(path: dir + "/tiny.ckpt")
        var flipped = good
        flipped[good.count / 2] ^= 0x40
        XCTAssertThrowsError(try Checkpoint.decode(flipped, file: "c.ckpt")) { e in
            XCTAssertTrue("\(e)".contains("corrupt: CRC-32"), "\(e)")
            XCTAssertTrue("\(e)".hasPrefix("c.ckpt: offset 20:"), "\(e)")
        }
        XCTAssertThrowsError(try Checkpoint.decode(Array(good.prefix(good.count - 7)), file: "c.ckpt")) { e in
            XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
        XCTAssertThrowsError(try Checkpoint.decode(Array(good.prefix(10)), file: "c.ckpt")) { e in
            XCTAssertTrue("\(e)".contains("24-byte header"), "\(e)")
        }
        var magic = good; magic[0] = UInt8(ascii: "X")
        XCTAssertThrowsError(try Checkpoint.decode(magic, file: "c.ckpt")) { e in
            XCTAssertTrue("\(e)".contains("expected magic"), "\(e)")
        }
        // every prefix and every single-byte change is refused, never a crash
        for cut in stride(from: 0, to: good.count, by: max(1, good.count / 97)) {
            XCTAssertThrowsError(try Checkpoint.decode(Array(good.prefix(cut)), file: "c"))
        }
    }

    func testHostilePayloadWithValidCRC() throws {
        // a payload claiming 2^40 parameters, with a correct CRC, must fail cleanly
        var w = BinaryWriter()
        w.string("m"); w.string("f"); w.u64(1 << 40)
        let bytes = Checkpoint.frame.encode(w.bytes)
        XCTAssertThrowsError(try Checkpoint.decode(bytes, file: "h.ckpt")) { e in
            XCTAssertTrue("\(e)".contains("parameter count"), "\(e)")
        }
    }

    /// u32 and u64 are little-endian, as BinaryWriter writes them; one past the end is an error
    /// naming what was expected, the bytes left and the offset, and reads nothing.
    func testBinaryReaderReadsLittleEndianIntegersAndRefusesTruncation() throws {
        var w = BinaryWriter()
        w.u32(0x0403_0201); w.u64(0x0C0B_0A09_0807_0605); w.u32(0xFFFF_FFFE)
        XCTAssertEqual(w.bytes.prefix(12), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        var r = BinaryReader(w.bytes, file: "b.bin", base: 100)
        XCTAssertEqual(try r.u32("a"), 0x0403_0201)
        XCTAssertEqual(try r.u64("b"), 0x0C0B_0A09_0807_0605)
        XCTAssertThrowsError(try r.u64("the count")) { e in
            XCTAssertTrue("\(e)".contains("the count (8 bytes), found only 4 bytes"), "\(e)")
            XCTAssertTrue("\(e)".contains("112"), "\(e)")
        }
        XCTAssertEqual(try r.u32("c"), 0xFFFF_FFFE)
        XCTAssertEqual(r.remaining, 0)
    }

    func testWeightsOnlyCheckpointCannotResume() throws {
        let model = TinyModel(maxBatch: 16)
        let c = Checkpoint(model: model, training: nil)
        let decoded = try Checkpoint.decode(c.encode(), file: "w.ckpt")
        XCTAssertNil(decoded.training)
        let config = try TrainingConfig(defaults: TinyModel.info.defaults, dataset: "mnist")
        let t = try Trainer(model: model, config: config, train: syntheticImages(count: 10, seed: 1), validation: syntheticImages(count: 5, seed: 2))
        XCTAssertThrowsError(try t.restore(decoded, file: "w.ckpt")) { e in
            XCTAssertTrue("\(e)".contains("weights only"), "\(e)")
        }
    }
}

final class WeightsFileTests: XCTestCase {
    func testExportImportRoundTrip() throws {
        let dir = temporaryDirectory()
        let a = TinyModel(maxBatch: 1)
        initializeParameters(a.parameters, tensors: TinyModel.info.tensors, seed: 3)
        a.parameters[TinyModel.info.parameterCount - 1] = 0.25       // a moving statistic
        try WeightsFile.export(a, to: dir + "/w.npz")
        let arrays = try NPZ.read(path: dir + "/w.npz")
        XCTAssertEqual(Set(arrays.keys), Set(TinyModel.info.tensors.map(\.key)))
        XCTAssertEqual(arrays["dense_1/kernel"]?.shape, [784, 8])
        XCTAssertEqual(arrays["dense_1/kernel"]?.dtype, "<f4")
        let b = TinyModel(maxBatch: 1)
        try WeightsFile.load(dir + "/w.npz", into: b)
        for i in 0..<TinyModel.info.parameterCount { XCTAssertEqual(a.parameters[i], b.parameters[i]) }
    }

    func arrays(of m: TinyModel) -> [(String, NDArray)] {
        TinyModel.info.tensors.map { t in (t.key, NDArray(float32: Array(UnsafeBufferPointer(start: m.parameters + t.offset, count: t.count)), shape: t.shape)) }
    }

    func assertRefused(_ arrays: [(String, NDArray)], mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = temporaryDirectory()
        try NPZ.write(arrays, to: dir + "/bad.npz")
        let m = TinyModel(maxBatch: 1)
        m.parameters[0] = 42
        XCTAssertThrowsError(try WeightsFile.load(dir + "/bad.npz", into: m), file: file, line: line) { e in
            for s in mentions { XCTAssertTrue("\(e)".contains(s), "\(e) should mention \(s)", file: file, line: line) }
        }
        XCTAssertEqual(m.parameters[0], 42, "nothing may change on a refused import", file: file, line: line)
    }

    func testMissingExtraAndWrongShape() throws {
        let m = TinyModel(maxBatch: 1)
        let good = arrays(of: m)
        try assertRefused(good.filter { $0.0 != "dense_2/bias" }, mentions: ["missing key 'dense_2/bias'", "bad.npz"])
        try assertRefused(good + [("dense_3/kernel", NDArray(float32: [1, 2], shape: [2]))], mentions: ["extra key 'dense_3/kernel'"])
        try assertRefused(good.map { $0.0 == "dense_1/kernel" ? ($0.0, NDArray(float32: [Float](repeating: 0, count: 784 * 8), shape: [8, 784])) : $0 },
                          mentions: ["key 'dense_1/kernel' has shape [8, 784], expected [784, 8]"])
        try assertRefused(good.map { $0.0 == "dense_2/bias" ? ($0.0, NDArray(float32: [Float](repeating: .nan, count: 10), shape: [10])) : $0 },
                          mentions: ["dense_2/bias", "non-finite"])
    }
}
