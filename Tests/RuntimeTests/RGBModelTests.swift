// An RGB model end to end: the emitted CIFAR-10 CNN of models/cifar10_small_cnn.md (32x32x3,
// 10 classes) trained and evaluated through the binary's command line on a copy of the RGB
// image-folder fixture (Tests/Fixtures/data/images/rgb: crops of ten photographs, train/val/test,
// some 48x36, 16-bit, RGBA, palette and PPM files) and on the CIFAR-10 fixture archive.

import XCTest
import GeneratedModels
import ModelcData
@testable import ModelcRuntime

final class RGBModelTests: XCTestCase {
    func run(_ args: [String]) -> (code: Int32, out: [String], err: String) { Captured.run(Cifar10SmallCnn.self, args, program: "cifar") }

    func testTrainAndEvaluateOnTheRGBFolder() throws {
        XCTAssertEqual([Cifar10SmallCnn.info.inputHeight, Cifar10SmallCnn.info.inputWidth, Cifar10SmallCnn.info.inputChannels], [32, 32, 3])
        let data = try fixtureCopy("images/rgb")
        let ckpt = temporaryDirectory() + "/rgb.ckpt"
        // (a debug build of the emitted model: a few images only)
        let t = run(["train", "--data", data, "--resize", "--crop", "--epochs", "2", "--limit", "24", "--lr", "0.0005", "--batch", "8",
                     "--checkpoint", ckpt, "--threads", "2", "--json"])
        XCTAssertEqual(t.code, 0, t.err)
        XCTAssertTrue(t.err.contains("\(data)/train: 80 images in 10 classes (astronaut 8, chelsea 8, china 8, coffee 8, flower 8, grace_hopper 8, hubble 8, ihc 8, retina 8, rocket 8); 32x32x3, resize + center crop; decoded 80 files"), t.err)
        XCTAssertTrue(t.err.contains("\(data)/val: 10 images in 10 classes"), t.err)
        let epochs = try t.out.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(epochs.count, 2)
        let losses = epochs.map { $0["loss"] as! Double }
        XCTAssertLessThan(losses[1], losses[0], "training loss should fall on 24 images: \(losses)")

        let e = run(["eval", "--data", data, "--checkpoint", ckpt, "--json", "--threads", "2", "--limit", "8"])
        XCTAssertEqual(e.code, 0, e.err)
        let m = try JSONSerialization.jsonObject(with: Data(e.out[0].utf8)) as! [String: Any]
        XCTAssertEqual(m["count"] as? Int, 8)
        XCTAssertTrue(e.err.contains("\(data)/test: 20 images in 10 classes (astronaut 2,"), e.err)
        // without --resize --crop stored in the checkpoint, the 48x36 files would be skipped; with them nothing is
        XCTAssertFalse(t.err.contains("could not be used"), t.err)
    }

    func testTrainAndEvaluateOnTheCIFAR10Archive() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/data/cifar10").path
        let ckpt = temporaryDirectory() + "/c.ckpt"
        let t = run(["train", "--data", dir, "--epochs", "1", "--checkpoint", ckpt, "--threads", "2"])
        XCTAssertEqual(t.code, 0, t.err)
        XCTAssertTrue(t.out[0].hasPrefix("training cifar10_small_cnn on cifar10: 10 images, 0 for validation"), t.out[0])
        let e = run(["eval", "--data", dir, "--checkpoint", ckpt, "--json"])
        XCTAssertEqual(e.code, 0, e.err)
        XCTAssertTrue(e.out[0].contains("\"count\": 4"), e.out[0])
    }
}
