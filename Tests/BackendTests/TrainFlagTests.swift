// Flags of the generated binary's `train` that would be silently ignored are refused.

import XCTest
import Foundation
import GeneratedModels
import ModelcRuntime

final class TrainFlagTests: XCTestCase {
    /// modelc's RMSprop has no momentum (Keras's default 0): --momentum with it is an error, not dropped.
    func testMomentumWithRMSpropIsRefused() {
        let sample = GeneratedFilesTests.repo + "/Sources/ModelcData/Samples/mnist"
        let ckpt = NSTemporaryDirectory() + "never-\(UUID()).ckpt"
        let r = runCommandLine(Seed001Mlp25612864SigmoidRmsprop.self, ["train", "--data", sample, "--momentum", "0.9", "--limit", "64",
                                                                        "--epochs", "1", "--checkpoint", ckpt])
        XCTAssertNotEqual(r.code, 0, r.err)
        XCTAssertTrue(r.err.contains("train: --momentum 0.9 with rmsprop: modelc's RMSprop has no momentum"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ckpt))
        let sgd = runCommandLine(Seed001Mlp25612864SigmoidRmsprop.self, ["train", "--data", sample, "--optimizer", "sgd", "--momentum", "0.9",
                                                                          "--limit", "64", "--epochs", "1", "--checkpoint", ckpt])
        XCTAssertFalse(sgd.err.contains("has no momentum"), sgd.err)
        // another optimizer than the file's runs with the file's numbers, and says so
        XCTAssertTrue(sgd.err.contains("note: --optimizer sgd runs with lr=0.001 weight_decay=0.0005 (the model file's settings for rmsprop"), sgd.err)
        try? FileManager.default.removeItem(atPath: ckpt)
        try? FileManager.default.removeItem(atPath: Trainer<Seed001Mlp25612864SigmoidRmsprop>.bestPath(for: ckpt))
    }
}
