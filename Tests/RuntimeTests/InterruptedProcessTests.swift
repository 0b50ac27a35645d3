// Kill-and-resume on a REAL training process: modelc-testtrainer (ModelcApp around TinyModel,
// built next to this test bundle) trains on a small IDX dataset; a second run is killed with
// SIGKILL, or stopped with SIGTERM/SIGINT, at a random moment; the checkpoint left behind must
// load, and `train --resume` must end with exported weights byte-identical to the uninterrupted
// run's. Also: output paths that cannot be written fail before the first training step.

import XCTest
import Foundation
import ModelcData
import TinyModels
@testable import ModelcRuntime

final class InterruptedProcessTests: XCTestCase {
    /// The modelc-testtrainer executable in the build products directory of this test bundle.
    func trainerPath() throws -> String {
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        candidates.append(Bundle(for: Self.self).bundleURL.deletingLastPathComponent())
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for dir in candidates {
            let p = dir.appendingPathComponent("modelc-testtrainer").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw XCTSkip("modelc-testtrainer not found next to the test bundle (looked in \(candidates.map(\.path)))")
    }

    struct Finished { var status: Int32; var signaled: Bool; var out: String; var err: String }

    /// Runs the trainer; with `signal`, sends it once `trigger` exists plus `delay` seconds.
    func runTrainer(_ args: [String], stepMilliseconds: Int = 0, signal: Int32? = nil, trigger: String? = nil, delay: Double = 0) throws -> Finished {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try trainerPath())
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["MODELC_TESTTRAINER_STEP_MS"] = "\(stepMilliseconds)"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        if let sig = signal {
            let start = Date()
            // wait for the run to be under way (its first checkpoint is written before training)
            while let t = trigger, !FileManager.default.fileExists(atPath: t), p.isRunning, Date().timeIntervalSince(start) < 60 {
                usleep(5_000)
            }
            usleep(UInt32(delay * 1_000_000))
            if p.isRunning { kill(p.processIdentifier, sig) }
        }
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Finished(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal,
                        out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func export(_ checkpoint: String, to npz: String) throws -> [UInt8] {
        let r = try runTrainer(["export", "--weights", npz, "--checkpoint", checkpoint])
        XCTAssertEqual(r.status, 0, r.err)
        return try FileIO.read(path: npz)
    }

    /// 768 training images, batch 16: 48 steps per epoch, 3 epochs.
    func settings(_ data: String, _ checkpoint: String) -> [String] {
        ["train", "--data", data, "--checkpoint", checkpoint, "--epochs", "3", "--batch", "16", "--lr", "0.01",
         "--seed", "11", "--val-split", "0.2", "--json"]
    }

    func reference(_ data: String) throws -> [UInt8] {
        let ckpt = data + "/reference.ckpt"
        let r = try runTrainer(settings(data, ckpt))
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out.split(separator: "\n").count, 3, r.out)
        return try export(ckpt, to: data + "/reference.npz")
    }

    func testKill9AtRandomMomentThenResumeIsBitExact() throws {
        let data = try writeSyntheticMNIST(train: 960, test: 50)
        let expected = try reference(data)
        for round in 0..<2 {
            let ckpt = data + "/killed\(round).ckpt"
            let delay = Double.random(in: 0.05...0.8)
            let r = try runTrainer(settings(data, ckpt), stepMilliseconds: 6, signal: SIGKILL, trigger: ckpt, delay: delay)
            // the last checkpoint is intact: it decodes (CRC-checked) and fits the model
            let c = try Checkpoint.read(path: ckpt)
            try c.checkMatches(TinyModel.info, file: ckpt)
            XCTAssertNotNil(c.training)
            let epochsBefore = c.training?.progress.epochsDone ?? -1
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: data).filter { $0.contains(".tmp-") }
            XCTAssertTrue(r.signaled || r.status == 0, "killed after \(delay) s: status \(r.status) \(r.err)")
            let resumed = try runTrainer(["train", "--resume", "--checkpoint", ckpt, "--data", data, "--json"])
            XCTAssertEqual(resumed.status, 0, resumed.err)
            XCTAssertEqual(resumed.out.split(separator: "\n").count, 3 - epochsBefore, "killed after \(delay) s at \(epochsBefore) epochs: \(resumed.out)")
            XCTAssertEqual(try export(ckpt, to: data + "/killed\(round).npz"), expected,
                           "kill -9 after \(delay) s (\(epochsBefore) epochs done, temp files left: \(leftovers)), then --resume: weights differ")
        }
    }

    func testSigtermAndSigintSaveFinishedStepAndResumeIsBitExact() throws {
        let data = try writeSyntheticMNIST(train: 960, test: 50)
        let expected = try reference(data)
        for (sig, name) in [(SIGTERM, "term"), (SIGINT, "int")] {
            let ckpt = data + "/\(name).ckpt"
            let delay = Double.random(in: 0.1...0.6)
            let r = try runTrainer(settings(data, ckpt), stepMilliseconds: 8, signal: sig, trigger: ckpt, delay: delay)
            XCTAssertFalse(r.signaled, "the signal is handled, not fatal: \(r.err)")
            let c = try Checkpoint.read(path: ckpt)
            let p = try XCTUnwrap(c.training?.progress)
            if r.status == 130 {
                XCTAssertTrue(r.err.contains("modelc-testtrainer: interrupted in epoch \(p.epochsDone + (p.stepInEpoch > 0 ? 1 : 0))"), r.err)
                XCTAssertTrue(r.err.contains("state saved to \(ckpt), continue with `modelc-testtrainer train --resume --checkpoint \(ckpt)`"), r.err)
                XCTAssertGreaterThan(p.globalStep, 0, "at least the step under way was finished")
            } else {
                XCTAssertEqual(r.status, 0, "signal \(name) after \(delay) s: \(r.err)")
                XCTAssertEqual(p.epochsDone, 3, "a run that exits 0 finished")
            }
            let resumed = try runTrainer(["train", "--resume", "--checkpoint", ckpt, "--data", data])
            XCTAssertEqual(resumed.status, 0, resumed.err)
            XCTAssertEqual(try export(ckpt, to: data + "/\(name).npz"), expected,
                           "SIG\(name.uppercased()) after \(delay) s at global step \(p.globalStep), then --resume: weights differ")
        }
    }

    func testUnwritableOutputsFailBeforeTraining() throws {
        let data = try writeSyntheticMNIST(train: 100, test: 20)
        // checkpoint in a directory that does not exist
        let r = try runTrainer(["train", "--data", data, "--checkpoint", data + "/no/such/dir/x.ckpt", "--epochs", "1"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("\(data)/no/such/dir/x.ckpt"), r.err)
        XCTAssertTrue(r.err.contains("does not exist"), r.err)
        XCTAssertFalse(r.out.contains("epoch 1/1"), "no training happened: \(r.out)")
        // report directory that is a file
        let file = data + "/plain-file"
        try AtomicFile.write([1], to: file)
        let r2 = try runTrainer(["train", "--data", data, "--checkpoint", data + "/y.ckpt", "--epochs", "1", "--report", file])
        XCTAssertEqual(r2.status, 1)
        XCTAssertTrue(r2.err.contains("\(file): error: exists and is not a directory"), r2.err)
        XCTAssertFalse(r2.out.contains("epoch 1/1"), r2.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/y.ckpt"), "nothing written before the report path was checked")
        // NaN loss in a real process: exit 1, names epoch and step, keeps the initial checkpoint
        let ckpt = data + "/nan.ckpt"
        let r3 = try runTrainer(["train", "--data", data, "--checkpoint", ckpt, "--epochs", "2", "--optimizer", "sgd", "--lr", "1e30"])
        XCTAssertEqual(r3.status, 1, r3.err)
        XCTAssertTrue(r3.err.range(of: #"NaN or infinite in epoch 1 at step \d+"#, options: .regularExpression) != nil, r3.err)
        let c = try Checkpoint.read(path: ckpt)
        XCTAssertEqual(c.training?.progress.globalStep, 0, "the last good (initial) state is kept")
        XCTAssertTrue(c.parameters.allSatisfy(\.isFinite))
    }

    func testForeignAndCorruptFilesAreRefusedByTheBinary() throws {
        let data = try writeSyntheticMNIST(train: 100, test: 20)
        // a checkpoint of another model
        let other = OtherModel(maxBatch: 1)
        let foreign = data + "/other.ckpt"
        try Checkpoint(model: other, training: nil).write(to: foreign)
        let r = try runTrainer(["eval", "--data", data, "--checkpoint", foreign])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("\(foreign): checkpoint is for another model: model name 'other_mlp' there, 'tiny_mlp' here"), r.err)
        XCTAssertTrue(r.err.contains("tensor dense_2/bias has shape [11] there, [10] here"), r.err)
        // a corrupted checkpoint of this model cannot be resumed
        let ckpt = data + "/c.ckpt"
        XCTAssertEqual(try runTrainer(["train", "--data", data, "--checkpoint", ckpt, "--epochs", "1"]).status, 0)
        var bytes = try FileIO.read(path: ckpt)
        bytes[bytes.count - 3] ^= 0x10
        try AtomicFile.write(bytes, to: ckpt)
        let r2 = try runTrainer(["train", "--resume", "--data", data, "--checkpoint", ckpt, "--epochs", "2"])
        XCTAssertEqual(r2.status, 1)
        XCTAssertTrue(r2.err.contains("\(ckpt): offset 20: checkpoint is corrupt: CRC-32"), r2.err)
        // weights of another model
        let npz = data + "/other.npz"
        try WeightsFile.export(other, to: npz)
        let r3 = try runTrainer(["eval", "--data", data, "--weights", npz])
        XCTAssertEqual(r3.status, 1)
        XCTAssertTrue(r3.err.contains("\(npz): weights do not fit model tiny_mlp: key 'dense_2/bias' has shape [11], expected [10]"), r3.err)
    }
}
