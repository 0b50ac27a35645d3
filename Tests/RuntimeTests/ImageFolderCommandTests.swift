// train, eval and predict on an image folder through the generated binary's command line
// (ModelcApp.run with the tiny 28x28x1, 10-class model) on a copy of the gray fixture folder:
// the folder is recognized from --data, the classes and the fit are stored in the checkpoint and
// reused by eval, predict and --resume, and the errors (class count, other classes, no --data,
// --strict-images, no test/ folder) are clear.

import XCTest
import TinyModels
import ModelcData
@testable import ModelcRuntime

final class ImageFolderCommandTests: XCTestCase {
    func run(_ args: [String]) -> (code: Int32, out: [String], err: String) { Captured.run(TinyModel.self, args, program: "tiny") }

    func testTrainEvalPredictAndResumeOnAnImageFolder() throws {
        let data = try fixtureCopy("images/gray")
        let ckpt = temporaryDirectory() + "/g.ckpt"
        let t = run(["train", "--data", data, "--resize", "--crop", "--epochs", "2", "--checkpoint", ckpt, "--threads", "1", "--seed", "3"])
        XCTAssertEqual(t.code, 0, t.err)
        XCTAssertTrue(t.out[0].hasPrefix("training tiny_mlp on image-folder: 64 images, 16 for validation"), t.out[0])
        XCTAssertTrue(t.err.contains("\(data)/train: 80 images in 10 classes (brick 8, camera 8,"), t.err)
        XCTAssertTrue(t.err.contains("warning: \(data)/train/coins/broken_crc.png: offset 29: CRC mismatch"), t.err)
        let stored = try XCTUnwrap(Checkpoint.read(path: ckpt).training?.config)
        XCTAssertEqual(stored.first { $0.0 == "dataset" }?.1, "image-folder")
        XCTAssertEqual(stored.first { $0.0 == "image_classes" }?.1, "brick/camera/cell/clock/coins/grass/gravel/moon/page/text")
        XCTAssertEqual(stored.first { $0.0 == "image_resize" }?.1, "true")

        // eval: the test/ folder, fitted as in training, classes named by their folders
        let e = run(["eval", "--data", data, "--checkpoint", ckpt, "--threads", "1"])
        XCTAssertEqual(e.code, 0, e.err)
        XCTAssertTrue(e.out[0].hasPrefix("tiny_mlp on image-folder test (20 images"), e.out[0])
        XCTAssertTrue(e.out[0].contains("\ngravel "), e.out[0])
        XCTAssertTrue(e.err.contains("\(data)/test: 20 images in 10 classes (brick 2,"), e.err)
        XCTAssertTrue(e.err.contains("cache written to \(data)/.modelc-cache/test-28x28x1-resize-crop.images"), e.err)
        let again = run(["eval", "--data", data, "--checkpoint", ckpt, "--threads", "1", "--json"])
        XCTAssertTrue(again.err.contains("read from the cache \(data)/.modelc-cache/test-28x28x1-resize-crop.images"), again.err)
        let v = run(["eval", "--data", data, "--checkpoint", ckpt, "--split", "val", "--json"])
        XCTAssertEqual(v.code, 0, v.err)
        XCTAssertTrue(v.out[0].contains("\"count\": 16"), v.out[0])

        // predict: a 56x56 file is fitted with the run's --resize --crop; names are the folders'
        let p = run(["predict", "--checkpoint", ckpt, data + "/train/grass/train_01_56.png", "--top", "10"])
        XCTAssertEqual(p.code, 0, p.err)
        XCTAssertEqual(Set(p.out.dropFirst().map { $0.split(separator: " ").last.map(String.init) ?? "" }),
                       ["brick", "camera", "cell", "clock", "coins", "grass", "gravel", "moon", "page", "text"])

        // resume with more epochs; the stored classes must match the folder
        let r = run(["train", "--resume", "--checkpoint", ckpt, "--data", data, "--epochs", "3", "--threads", "1"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(try Checkpoint.read(path: ckpt).training?.progress.epochsDone, 3)
        try FileManager.default.moveItem(atPath: data + "/train/text", toPath: data + "/train/texts")
        try FileManager.default.moveItem(atPath: data + "/test/text", toPath: data + "/test/texts")
        let other = run(["eval", "--data", data, "--checkpoint", ckpt])
        XCTAssertEqual(other.code, 1)
        XCTAssertTrue(other.err.contains("\(data): the class folders (brick, camera, cell, clock, coins, grass, gravel, moon, page, texts) are not the classes the weights were trained on"), other.err)
        let noData = run(["eval", "--checkpoint", ckpt])
        XCTAssertEqual(noData.code, 2)
        XCTAssertTrue(noData.err.contains("eval: the run used an image folder; give it with --data DIR"), noData.err)
    }

    func testImageFolderErrors() throws {
        let data = try fixtureCopy("images/gray")
        let ckpt = temporaryDirectory() + "/g.ckpt"
        let strict = run(["train", "--data", data, "--resize", "--crop", "--strict-images", "--epochs", "1", "--checkpoint", ckpt])
        XCTAssertEqual(strict.code, 1)
        XCTAssertTrue(strict.err.contains("error: \(data)/train/coins/broken_empty.pgm: offset 0: unknown image format"), strict.err)
        XCTAssertTrue(strict.err.contains("tiny: error: \(data)/train: 5 image files could not be used (listed above); --strict-images makes that an error"), strict.err)

        // RGB photographs of other sizes: every one is skipped for its size, so no class has images
        let rgb = try fixtureCopy("images/rgb")
        let sized = run(["train", "--data", rgb, "--epochs", "1", "--checkpoint", ckpt])
        XCTAssertEqual(sized.code, 1)
        XCTAssertTrue(sized.err.contains("warning: \(rgb)/train/astronaut/train_00.png: image is 32x32 (width x height), the model expects 28x28; pass --resize"), sized.err)
        XCTAssertTrue(sized.err.contains("80 files could not be used (80 for their size: see --resize and --crop)"), sized.err)
        // three class folders for a 10-class model
        let three = temporaryDirectory() + "/three"
        try FileManager.default.createDirectory(atPath: three, withIntermediateDirectories: true)
        for c in ["brick", "cell", "moon"] { try FileManager.default.copyItem(atPath: data + "/train/" + c, toPath: three + "/" + c) }
        let t3 = run(["train", "--data", three, "--epochs", "1", "--checkpoint", ckpt])
        XCTAssertEqual(t3.code, 1)
        XCTAssertTrue(t3.err.contains("\(three): 3 class folders (brick, cell, moon), but model tiny_mlp has 10 classes"), t3.err)

        // a folder without test/: train on it, then eval evaluates every image
        try FileManager.default.removeItem(atPath: data + "/test")
        let flat = data + "/train"
        XCTAssertEqual(run(["train", "--data", flat, "--resize", "--crop", "--epochs", "1", "--checkpoint", ckpt]).code, 0)
        let e = run(["eval", "--data", flat, "--checkpoint", ckpt, "--json"])
        XCTAssertEqual(e.code, 0, e.err)
        XCTAssertTrue(e.err.contains("note: \(flat) has no train/, val/ or test/ folders: its test split is every image in it"), e.err)
        XCTAssertTrue(e.out[0].contains("\"count\": 80"), e.out[0])
        // a split folder without test/: eval says so; a training report covers train and val
        let report = temporaryDirectory() + "/report"
        let r = run(["train", "--data", data, "--resize", "--crop", "--epochs", "1", "--checkpoint", ckpt, "--report", report])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.err.contains("note: the image folder has no test/ folder; the report covers train and val"), r.err)
        XCTAssertTrue(FileIO.exists(report + "/report.html"))
        let noTest = run(["eval", "--data", data, "--checkpoint", ckpt])
        XCTAssertEqual(noTest.code, 1)
        XCTAssertTrue(noTest.err.contains("\(data): has no test/ folder (it has train/); evaluate with --split val or --split train"), noTest.err)
        // an explicit named dataset stays one
        let named = run(["train", "--data", data, "--dataset", "mnist", "--checkpoint", ckpt])
        XCTAssertEqual(named.code, 1)
        XCTAssertTrue(named.err.contains("no mnist files in \(data)"), named.err)
    }
}
