// The generated binary's command line, driven through ModelcApp.run with captured output:
// flag errors (exit 2), data/model errors (exit 1), and train/eval/predict/export/summary on
// a small IDX dataset written by the test.

import XCTest
import TinyModels
import ModelcData
@testable import ModelcCommands
@testable import ModelcRuntime

final class Captured: @unchecked Sendable {
    var out: [String] = []
    var err: [String] = []
    var console: Console { Console(out: { self.out.append($0) }, err: { self.err.append($0) }, isTTY: false) }

    /// Runs the binary's command line of `model` on `args`: the exit code, stdout lines and stderr.
    static func run<M: CompiledModel>(_ model: M.Type, _ args: [String], program: String) -> (code: Int32, out: [String], err: String) {
        let c = Captured()
        let code = ModelcApp.run(model, arguments: args, console: c.console, program: program)
        return (code, c.out, c.err.joined(separator: "\n"))
    }
}

/// `eval --json`'s output without the training state of its checkpoint (its last field): what the
/// same weights give from a weights file.
func evalMetrics(_ out: [String]) -> [String] {
    out.map { line in line.range(of: ", \"checkpoint\": {").map { String(line[..<$0.lowerBound]) + "}" } ?? line }
}

/// Writes MNIST-named raw IDX files (train and t10k) of synthetic images into a new directory.
func writeSyntheticMNIST(train: Int, test: Int) throws -> String {
    let dir = temporaryDirectory()
    func idx(_ images: LabeledImages, _ prefix: String) throws {
        var img: [UInt8] = [0, 0, 8, 3]
        for d in [images.count, 28, 28] { img += [UInt8(d >> 24), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        img += images.pixels
        var lbl: [UInt8] = [0, 0, 8, 1, UInt8(images.count >> 24), UInt8(images.count >> 16 & 255), UInt8(images.count >> 8 & 255), UInt8(images.count & 255)]
        lbl += images.labels.map { UInt8($0) }
        try AtomicFile.write(img, to: dir + "/\(prefix)-images-idx3-ubyte")
        try AtomicFile.write(lbl, to: dir + "/\(prefix)-labels-idx1-ubyte")
    }
    try idx(syntheticImages(count: train, seed: 21), "train")
    try idx(syntheticImages(count: test, seed: 22), "t10k")
    return dir
}

final class CommandLineTests: XCTestCase {
    func run(_ args: [String]) -> (code: Int32, out: [String], err: String) {
        let c = Captured()
        let code = ModelcApp.run(TinyModel.self, arguments: args, console: c.console, program: "tiny")
        return (code, c.out, c.err.joined(separator: "\n"))
    }

    func testFlagErrorsExit2() {
        let cases: [([String], String)] = [
            ([], "usage: tiny"),
            (["fly"], "unknown command 'fly'"),
            (["train", "--epoch", "3"], "unknown flag '--epoch'"),
            (["train", "--epochs", "abc"], "--epochs expects an integer in 0...1000000, found 'abc'"),
            (["train", "--epochs"], "flag --epochs needs a value"),
            (["train", "--lr", "-1"], "--lr expects a number"),
            (["train", "--optimizer", "adagrad"], "--optimizer expects one of sgd, momentum"),
            (["train", "--schedule", "step:0:1"], "step:EVERY:GAMMA"),
            (["train", "--val-split", "1"], "--val-split expects a number in [0.0, 1.0)"),
            (["train", "--early-stopping", "sometimes"], "unknown early stopping 'sometimes'"),
            (["train", "--dataset", "cifar"], "unknown dataset 'cifar'"),
            (["train", "--resume", "--weights", "w.npz"], "cannot be combined"),
            (["train", "--json=yes"], "takes no value"),
            (["eval", "--split", "dev"], "--split expects test, train or val"),
            (["predict", "--top", "0", "x.png"], "--top expects an integer in 1...10"),
            (["predict", "--index", "3"], "--index N needs --idx FILE"),
            (["predict", "--bogus", "x.png"], "unknown flag '--bogus'"),
            (["predict", "--data", "x.npz", "--invert"], "--invert applies to images; --data FILE gives the model's inputs as they are"),
            (["predict", "--idx", "x", "--index", "0", "--resize"], "--resize applies to image files; an --idx image must already be the model's 28x28"),
            (["export"], "--weights OUT.npz is required"),
            (["export", "--weights", "never-written.npz"], "export needs trained weights: give --checkpoint PATH or --from W"),
            (["summary", "extra"], "unexpected argument 'extra'"),
        ]
        for (args, message) in cases {
            let r = run(args)
            XCTAssertEqual(r.code, 2, "\(args): \(r.err)")
            XCTAssertTrue(r.err.contains(message), "\(args): expected '\(message)' in: \(r.err)")
        }
    }

    /// A run stopped in the middle of an epoch resumes only with the settings that fix the
    /// epoch's order of images; another --batch would repeat or skip images, and is refused.
    func testResumingMidEpochWithAnotherBatchIsRefused() throws {
        let data = try writeSyntheticMNIST(train: 100, test: 20)
        let ckpt = data + "/mid.ckpt"
        let first = run(["train", "--data", data, "--epochs", "1", "--batch", "20", "--checkpoint", ckpt])
        XCTAssertEqual(first.code, 0, first.err)
        var c = try Checkpoint.read(path: ckpt)
        c.training?.progress.epochsDone = 0
        c.training?.progress.stepInEpoch = 2
        try c.write(to: ckpt)
        let other = run(["train", "--data", data, "--epochs", "1", "--batch", "10", "--checkpoint", ckpt, "--resume"])
        XCTAssertEqual(other.code, 2, other.err)
        XCTAssertTrue(other.err.contains("\(ckpt) stopped at step 2 of epoch 1, and the run's batch was '20', now '10'"), other.err)
        let same = run(["train", "--data", data, "--epochs", "1", "--checkpoint", ckpt, "--resume"])
        XCTAssertEqual(same.code, 0, same.err)
        // no split seed and seed 0 are the same order for an image folder, not for IDX files
        var progress = TrainingProgress()
        progress.stepInEpoch = 3
        var folder = try TrainingConfig(defaults: TinyModel.info.defaults, dataset: ImageFolderLoader.datasetName)
        let stored = folder.pairs()
        folder.splitSeed = 0
        XCTAssertNoThrow(try TrainCommand<TinyModel>.checkSameEpochOrder(stored: stored, now: folder, stoppedAt: progress, checkpoint: "c"))
        var idx = try TrainingConfig(defaults: TinyModel.info.defaults, dataset: "mnist")
        let storedIDX = idx.pairs()
        idx.splitSeed = 0
        XCTAssertThrowsError(try TrainCommand<TinyModel>.checkSameEpochOrder(stored: storedIDX, now: idx, stoppedAt: progress, checkpoint: "c"))
    }

    func testDataErrorsExit1() throws {
        let empty = temporaryDirectory()
        let r = run(["train", "--data", empty, "--checkpoint", empty + "/x.ckpt"])
        XCTAssertEqual(r.code, 1, r.err)
        XCTAssertTrue(r.err.contains("no mnist files in \(empty)"), r.err)
        let r2 = run(["train", "--resume", "--checkpoint", empty + "/none.ckpt"])
        XCTAssertEqual(r2.code, 1)
        XCTAssertTrue(r2.err.contains("no checkpoint to resume from"), r2.err)
        let r3 = run(["eval", "--weights", empty + "/none.npz"])
        XCTAssertEqual(r3.code, 1)
        XCTAssertTrue(r3.err.contains("none.npz"), r3.err)
    }

    func testTrainEvalPredictExportEndToEnd() throws {
        let data = try writeSyntheticMNIST(train: 400, test: 100)
        let ckpt = data + "/tiny.ckpt"
        // train 3 epochs with JSON lines
        let t = run(["train", "--data", data, "--epochs", "3", "--batch", "20", "--lr", "0.02", "--checkpoint", ckpt, "--json", "--seed", "3"])
        XCTAssertEqual(t.code, 0, t.err)
        XCTAssertEqual(t.out.count, 3)
        for (i, line) in t.out.enumerated() {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertEqual(Set(o.keys), ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "images_per_s"])
            XCTAssertEqual(o["epoch"] as? Int, i + 1)
        }
        let last = try JSONSerialization.jsonObject(with: Data(t.out[2].utf8)) as! [String: Any]
        XCTAssertGreaterThan(last["val_accuracy"] as! Double, 0.8)

        // resume with more epochs continues from epoch 4
        let t2 = run(["train", "--data", data, "--epochs", "4", "--checkpoint", ckpt, "--resume", "--json"])
        XCTAssertEqual(t2.code, 0, t2.err)
        XCTAssertEqual(t2.out.count, 1)
        XCTAssertTrue(t2.out[0].hasPrefix("{\"epoch\": 4,"), t2.out[0])
        // already finished: nothing to do
        let t3 = run(["train", "--data", data, "--checkpoint", ckpt, "--resume"])
        XCTAssertEqual(t3.code, 0)
        XCTAssertTrue(t3.err.contains("nothing to do"), t3.err)

        // eval JSON
        let e = run(["eval", "--data", data, "--checkpoint", ckpt, "--json"])
        XCTAssertEqual(e.code, 0, e.err)
        let ej = try JSONSerialization.jsonObject(with: Data(e.out[0].utf8)) as! [String: Any]
        for k in ["accuracy", "loss", "per_class", "macro_roc_auc", "confusion", "count"] { XCTAssertNotNil(ej[k], k) }
        XCTAssertEqual(ej["count"] as? Int, 100)
        let perClass = ej["per_class"] as! [[String: Any]]
        XCTAssertEqual(perClass.count, 10)
        XCTAssertEqual(Set(perClass[0].keys), ["precision", "recall", "f1", "roc_auc"])
        let confusion = ej["confusion"] as! [[Int]]
        XCTAssertEqual(confusion.flatMap { $0 }.reduce(0, +), 100)
        // ... with the checkpoint's training state: 4 epochs, the best of the 4 validation accuracies
        let stored = try XCTUnwrap(ej["checkpoint"] as? [String: Any], "\(ej.keys)")
        XCTAssertEqual(stored["epochs_done"] as? Int, 4)
        let valAccuracies = try (t.out + t2.out).map { try XCTUnwrap((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["val_accuracy"] as? Double) }
        let best = valAccuracies.max()!
        XCTAssertEqual(stored["best_epoch"] as? Int, valAccuracies.firstIndex(of: best)! + 1)
        XCTAssertEqual(try XCTUnwrap(stored["best_val_accuracy"] as? Double), best, accuracy: 1e-12)
        let settings = try XCTUnwrap(stored["config"] as? [String: String])
        XCTAssertEqual(settings["lr"].flatMap(Double.init), 0.02)
        XCTAssertEqual(settings["batch"], "20")
        // eval text, validation split (the last 20% of the training images)
        let ev = run(["eval", "--data", data, "--checkpoint", ckpt, "--split", "val"])
        XCTAssertEqual(ev.code, 0, ev.err)
        XCTAssertTrue(ev.out[0].contains("val (80 images"), ev.out[0])
        XCTAssertTrue(ev.out[0].contains("confusion matrix"))

        // predict from IDX and from a PGM file
        let p = run(["predict", "--checkpoint", ckpt, "--idx", data + "/t10k-images-idx3-ubyte", "--index", "5", "--top", "2", "--json"])
        XCTAssertEqual(p.code, 0, p.err)
        let pj = try JSONSerialization.jsonObject(with: Data(p.out[0].utf8)) as! [String: Any]
        XCTAssertEqual((pj["top"] as! [[String: Any]]).count, 2)
        XCTAssertEqual((pj["probabilities"] as! [Double]).reduce(0, +), 1, accuracy: 1e-4)
        let images = syntheticImages(count: 100, seed: 22)
        var pgm = Array("P5\n28 28\n255\n".utf8)
        pgm += images.pixels[(5 * 784)..<(6 * 784)]
        try AtomicFile.write(pgm, to: data + "/five.pgm")
        let pp = run(["predict", "--checkpoint", ckpt, data + "/five.pgm", "--json"])
        XCTAssertEqual(pp.code, 0, pp.err)
        let ppj = try JSONSerialization.jsonObject(with: Data(pp.out[0].utf8)) as! [String: Any]
        XCTAssertEqual(ppj["probabilities"] as! [Double], pj["probabilities"] as! [Double])
        // wrong image size: clear error, exit 1
        try AtomicFile.write(Array("P5\n5 4\n255\n".utf8) + [UInt8](repeating: 9, count: 20), to: data + "/small.pgm")
        let ps = run(["predict", "--checkpoint", ckpt, data + "/small.pgm"])
        XCTAssertEqual(ps.code, 1)
        XCTAssertTrue(ps.err.contains("image is 5x4 (width x height), the model expects 28x28; pass --resize"), ps.err)
        XCTAssertEqual(run(["predict", "--checkpoint", ckpt, data + "/small.pgm", "--resize"]).code, 0)
        // a file that is not an image: exit 1 naming it
        try AtomicFile.write(Array("hello".utf8), to: data + "/note.png")
        let pn = run(["predict", "--checkpoint", ckpt, data + "/note.png"])
        XCTAssertEqual(pn.code, 1)
        XCTAssertTrue(pn.err.contains("note.png"), pn.err)

        // export, then import the weights into a new run and evaluate with them: same numbers
        let x = run(["export", "--checkpoint", ckpt, "--weights", data + "/w.npz"])
        XCTAssertEqual(x.code, 0, x.err)
        let ew = run(["eval", "--data", data, "--weights", data + "/w.npz", "--json"])
        XCTAssertEqual(ew.code, 0, ew.err)
        XCTAssertEqual(ew.out, evalMetrics(e.out))
        // export --from converts a weights file (npz -> safetensors), the same numbers again
        let xf = run(["export", "--from", data + "/w.npz", "--weights", data + "/w.safetensors"])
        XCTAssertEqual(xf.code, 0, xf.err)
        XCTAssertTrue(xf.err.contains("from \(data)/w.npz"), xf.err)
        let es = run(["eval", "--data", data, "--weights", data + "/w.safetensors", "--json"])
        XCTAssertEqual(es.out, evalMetrics(e.out), es.err)
        let both = run(["export", "--from", data + "/w.npz", "--checkpoint", ckpt, "--weights", data + "/w2.npz"])
        XCTAssertEqual(both.code, 2)
        XCTAssertTrue(both.err.contains("either --checkpoint or --from"), both.err)
        let tw = run(["train", "--data", data, "--epochs", "1", "--weights", data + "/w.npz", "--checkpoint", data + "/t2.ckpt"])
        XCTAssertEqual(tw.code, 0, tw.err)

        // a checkpoint of another model is refused by name
        let other = Captured()
        let code = ModelcApp.run(OtherModel.self, arguments: ["eval", "--data", data, "--checkpoint", ckpt], console: other.console, program: "other")
        XCTAssertEqual(code, 1)
        XCTAssertTrue(other.err.joined().contains("checkpoint is for another model"), other.err.joined())
    }

    func testEvalValidationSplitMatchesTraining() throws {
        let data = try writeSyntheticMNIST(train: 300, test: 50)
        for extra in [[], ["--split-seed", "5"]] {
            let ckpt = data + "/v\(extra.count).ckpt"
            let t = run(["train", "--data", data, "--epochs", "2", "--checkpoint", ckpt, "--json"] + extra)
            XCTAssertEqual(t.code, 0, t.err)
            let last = try JSONSerialization.jsonObject(with: Data(t.out[1].utf8)) as! [String: Any]
            // eval rebuilds the same validation images from the settings stored in the checkpoint
            let e = run(["eval", "--data", data, "--checkpoint", ckpt, "--split", "val", "--json"])
            XCTAssertEqual(e.code, 0, e.err)
            let ej = try JSONSerialization.jsonObject(with: Data(e.out[0].utf8)) as! [String: Any]
            XCTAssertEqual(ej["count"] as? Int, 60)
            XCTAssertEqual(ej["accuracy"] as! Double, last["val_accuracy"] as! Double, "\(extra)")
            XCTAssertEqual(ej["loss"] as! Double, last["val_loss"] as! Double, accuracy: 1e-12)
        }
        // the seeded split holds out other images than the last 20%
        let c = try Checkpoint.read(path: data + "/v2.ckpt")
        XCTAssertTrue(c.training!.config.contains { $0 == ("split_seed", "5") })
    }

    func testClassNamesFollowTheTrainingDataset() {
        XCTAssertEqual(TinyModel.info.displayClassNames(dataset: "kmnist")[0], "o (お)")
        XCTAssertEqual(TinyModel.info.displayClassNames(dataset: "fashion-mnist")[7], "Sneaker")
        XCTAssertEqual(TinyModel.info.displayClassNames(dataset: nil)[3], "3")
        XCTAssertEqual(TinyModel.info.displayClassNames(dataset: "mnist")[9], "9")
    }

    func testSummary() {
        let r = run(["summary"])
        XCTAssertEqual(r.code, 0)
        XCTAssertTrue(r.out[0].contains("total params: 7154  trainable: 6370  non-trainable: 784"), r.out[0])
        let j = run(["summary", "--json"])
        XCTAssertEqual(j.code, 0)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(j.out[0].utf8)))
    }

    func testTestEachEpochReportsTestAccuracyThatEvalAgreesWith() throws {
        let data = try writeSyntheticMNIST(train: 300, test: 100)
        let ckpt = data + "/tiny.ckpt"
        let t = run(["train", "--data", data, "--epochs", "2", "--batch", "20", "--lr", "0.02", "--checkpoint", ckpt,
                     "--val-split", "0", "--test-each-epoch", "--json", "--seed", "3"])
        XCTAssertEqual(t.code, 0, t.err)
        XCTAssertEqual(t.out.count, 2)
        let last = try JSONSerialization.jsonObject(with: Data(t.out[1].utf8)) as! [String: Any]
        for k in ["test_accuracy", "test_loss", "train_seconds"] { XCTAssertNotNil(last[k], "\(k) missing in \(t.out[1])") }
        XCTAssertLessThanOrEqual(last["train_seconds"] as! Double, last["seconds"] as! Double + 1e-3)
        // the last epoch's test accuracy is what eval measures on the final weights
        let e = run(["eval", "--data", data, "--checkpoint", ckpt, "--json"])
        XCTAssertEqual(e.code, 0, e.err)
        let ev = try JSONSerialization.jsonObject(with: Data(e.out[0].utf8)) as! [String: Any]
        XCTAssertEqual(last["test_accuracy"] as! Double, ev["accuracy"] as! Double, accuracy: 1e-12)
    }

    func testBenchPrintsEveryFigure() throws {
        let r = run(["bench", "--seconds", "0.1", "--repeats", "3", "--json", "--batch", "16"])
        XCTAssertEqual(r.code, 0, r.err)
        let o = try JSONSerialization.jsonObject(with: Data(r.out[0].utf8)) as! [String: Any]
        for k in ["train_images_per_s", "infer_images_per_s_b256", "latency_ms_b1_median", "latency_ms_b1_p99", "train_gflops",
                  "infer_gflops_b256", "peak_gflops", "train_fraction_of_peak", "infer_fraction_of_peak", "peak_rss_mb"] {
            let v = try XCTUnwrap(o[k] as? Double, "\(k) missing in \(r.out[0])")
            XCTAssertGreaterThan(v, 0, k)
        }
        XCTAssertLessThanOrEqual(o["latency_ms_b1_median"] as! Double, o["latency_ms_b1_p99"] as! Double)
        XCTAssertEqual(o["kernels"] as? String, KernelTarget.family)
        // achieved rates follow from images/s and the model's FLOPs
        let flops = Double(TinyModel.info.forwardFlops)
        XCTAssertEqual(o["train_gflops"] as! Double, (o["train_images_per_s"] as! Double) * 3 * flops / 1e9, accuracy: 1e-9)
        XCTAssertEqual(o["train_fraction_of_peak"] as! Double, (o["train_gflops"] as! Double) / (o["peak_gflops"] as! Double), accuracy: 1e-12)
        let only = run(["bench", "--seconds", "0.1", "--only", "latency", "--no-peak", "--json"])
        XCTAssertEqual(only.code, 0, only.err)
        let oo = try JSONSerialization.jsonObject(with: Data(only.out[0].utf8)) as! [String: Any]
        XCTAssertNil(oo["train_images_per_s"]); XCTAssertNil(oo["peak_gflops"]); XCTAssertNotNil(oo["latency_ms_b1_median"])
        let fixed = run(["bench", "--iterations", "2", "--repeats", "1", "--only", "train", "--no-peak", "--json"])
        XCTAssertEqual(fixed.code, 0, fixed.err)
        XCTAssertNotNil((try JSONSerialization.jsonObject(with: Data(fixed.out[0].utf8)) as! [String: Any])["train_images_per_s"])
        let zero = run(["bench", "--iterations", "0"])
        XCTAssertEqual(zero.code, 2)
        XCTAssertTrue(zero.err.contains("--iterations"), zero.err)
        let bad = run(["bench", "--only", "everything"])
        XCTAssertEqual(bad.code, 2)
        XCTAssertTrue(bad.err.contains("--only expects train, infer or latency, found 'everything'"), bad.err)
    }
}
