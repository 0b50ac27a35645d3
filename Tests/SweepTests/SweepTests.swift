// `modelc sweep` end to end with the built modelc binary: one tiny MLP compiled once, two
// configurations trained for one epoch on the MNIST sample shipped in the repository, the table
// printed as markdown and CSV, results.csv written, the best configuration's confusion matrix.
// Slow (it compiles a generated binary, and the runtime once per runtime-source change); spec
// errors are checked first, without compiling.

import XCTest
import Foundation

final class SweepTests: XCTestCase {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func modelc() throws -> String {
        var dirs: [URL] = []
        if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
        dirs.append(Bundle(for: Self.self).bundleURL.deletingLastPathComponent())
        for d in dirs where FileManager.default.isExecutableFile(atPath: d.appendingPathComponent("modelc").path) {
            return d.appendingPathComponent("modelc").path
        }
        throw XCTSkip("modelc binary not found next to the test bundle")
    }

    func run(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try modelc())
        p.arguments = args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        // stderr (compiler and training progress, long) goes to a file so that no pipe fills up
        let errPath = NSTemporaryDirectory() + "modelc-sweep-stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let o = Pipe()
        let e = try XCTUnwrap(FileHandle(forWritingAtPath: errPath))
        p.standardOutput = o; p.standardError = e
        try p.run()
        let outData = o.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try e.close()
        let errData = try Data(contentsOf: URL(fileURLWithPath: errPath))
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    func temp() -> String {
        let d = NSTemporaryDirectory() + "modelc-sweep-tests-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// `compile --isa` takes only the families the runtime has tiles for; anything else is a
    /// usage error (exit 2) naming what was expected and what was found, before any work.
    func testCompileRejectsUnknownISA() throws {
        for (args, expected) in [
            (["compile", "models/seed001_mlp_128_64_relu_adam.md", "--isa", "sse2"],
             "--isa: expected avx2, avx512, neon or native, found 'sse2'"),
            (["compile", "models/seed001_mlp_128_64_relu_adam.md", "--isa"], "--isa needs a value"),
        ] {
            let r = try run(args.map { $0.hasPrefix("models/") ? repo.appendingPathComponent($0).path : $0 })
            XCTAssertEqual(r.status, 2, r.err)
            XCTAssertTrue(r.err.contains(expected), "stderr: \(r.err)")
        }
    }

    /// `check --plan` prints the lowering plan; `--json` carries the same choices under "plan".
    func testCheckPrintsThePlan() throws {
        let model = repo.appendingPathComponent("models/seed002_mnist_cnn.md").path
        let text = try run(["check", model, "--plan"])
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.contains("\nPlan (batch: "), text.out)
        XCTAssertTrue(text.out.contains("  conv2d_2 (Conv2D)\n    forward          Winograd + Gemm, F(4x4, 3x3): "), text.out)
        XCTAssertTrue(text.out.contains("    one image        49 Winograd tiles in blocks of 6 over the threads (12 per Gemm block)\n"), text.out)
        let json = try run(["check", model, "--json"])
        XCTAssertEqual(json.status, 0, json.err)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let plan = try XCTUnwrap(root["plan"] as? [String: Any])
        let layers = try XCTUnwrap(plan["layers"] as? [[String: Any]])
        let conv1 = try XCTUnwrap(layers.first { $0["name"] as? String == "conv2d_1" })
        XCTAssertEqual((conv1["forward"] as? [String: String])?["form"], "direct")
        XCTAssertEqual((conv1["input_gradient"] as? [String: String])?["kernel"], "none")
        XCTAssertEqual(conv1["fusion"] as? String, "conv2d_1 + batch_normalization_1 + leaky_re_lu_1")
        XCTAssertTrue((conv1["buffers"] as? [[String: Any]])?.contains { $0["name"] as? String == "l2_conv2d_1xp" } ?? false)
    }

    /// `compile --sanitize` takes thread or address; anything else is a usage error (exit 2)
    /// naming what was expected and what was found, before any work.
    func testCompileRejectsUnknownSanitizer() throws {
        for (args, expected) in [
            (["compile", "models/seed001_mlp_128_64_relu_adam.md", "--sanitize", "memory"],
             "--sanitize: expected thread or address, found 'memory'"),
            (["compile", "models/seed001_mlp_128_64_relu_adam.md", "--sanitize", "thread,address"],
             "--sanitize: expected thread or address, found 'thread,address'"),
            (["compile", "models/seed001_mlp_128_64_relu_adam.md", "--sanitize"], "--sanitize needs a value"),
        ] {
            let r = try run(args.map { $0.hasPrefix("models/") ? repo.appendingPathComponent($0).path : $0 })
            XCTAssertEqual(r.status, 2, r.err)
            XCTAssertTrue(r.err.contains(expected), "stderr: \(r.err)")
            XCTAssertTrue(r.err.contains("[--sanitize thread|address]"), "usage line: \(r.err)")
        }
    }

    func testSpecErrorsNameFileAndLine() throws {
        let dir = temp()
        let cases: [(String, String)] = [
            ("dataset: mnist\nrun: m.md lr=0.1 bogus=1\n", "spec.txt:2: error: unknown setting 'bogus'"),
            ("dataset: cifar\n", "spec.txt:1: error: unknown dataset 'cifar'"),
            ("dataset: mnist\ncolumns: model accuracy\nrun: m.md\n", "spec.txt:2: error: unknown column 'accuracy'"),
            ("# empty\n", "spec.txt: error: no 'run:' line"),
            ("run m.md\n", "spec.txt:1: error: expected 'directive: value'"),
            ("run: m.md lr\n", "spec.txt:1: error: expected key=value, found 'lr'"),
        ]
        for (text, expected) in cases {
            try text.write(toFile: dir + "/spec.txt", atomically: true, encoding: .utf8)
            let r = try run(["sweep", dir + "/spec.txt", "--out", dir + "/out"])
            XCTAssertEqual(r.status, 1, text)
            XCTAssertTrue(r.err.contains(dir + "/" + expected), "\(text): \(r.err)")
        }
        let u = try run(["sweep", dir + "/spec.txt", "--epochs", "0"])
        XCTAssertEqual(u.status, 2)
        XCTAssertTrue(u.err.contains("--epochs expects a positive integer, found '0'"), u.err)
    }

    func testTinySweepOnShippedMNISTSample() throws {
        let dir = temp()
        try """
        # tiny MLP for the sweep test
        ```text
        Layer (type)                 Output Shape              Param #
        =================================================================
        flatten_1 (Flatten)          (None, 784)               0
        dense_1 (Dense)              (None, 16)                12560
        dense_2 (Dense)              (None, 10)                170
        =================================================================
        Total params: 12,730
        Trainable params: 12,730
        Non-trainable params: 0
        ```
        ```modelc
        model: name=sweep_test_mlp
        dataset: mnist
        layer dense_1: activation=relu
        layer dense_2: activation=softmax
        train: optimizer=adam lr=0.01 batch=64 epochs=3 val_split=0.1 seed=1
        ```
        """.write(toFile: dir + "/tiny.md", atomically: true, encoding: .utf8)
        try """
        dataset: mnist
        columns: model hidden activation optimizer lr batch epochs_run best_epoch best_val test
        run: tiny.md
        run: tiny.md optimizer=sgd lr=0.05 batch=32
        """.write(toFile: dir + "/spec.txt", atomically: true, encoding: .utf8)
        let samples = repo.appendingPathComponent("Sources/ModelcData/Samples/mnist").path
        let r = try run(["sweep", dir + "/spec.txt", "--data", samples, "--epochs", "1", "--limit", "1000", "--out", dir + "/out"])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "| model | hidden | activation | optimizer | lr | batch | epochs_run | best_epoch | best_val | test |")
        let csv = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/out/results.csv")), as: UTF8.self)
        let rows = csv.split(separator: "\n").map { $0.components(separatedBy: ",") }
        XCTAssertEqual(rows.count, 3, csv)
        XCTAssertEqual(rows[0], ["model", "hidden", "activation", "optimizer", "lr", "batch", "epochs_run", "best_epoch", "best_val", "test"])
        // "[16]" has no comma, so it is not quoted
        XCTAssertEqual(Array(rows[1].prefix(8)), ["sweep_test_mlp", "[16]", "relu", "adam", "0.01", "64", "1", "1"])
        XCTAssertEqual(Array(rows[2].prefix(8)), ["sweep_test_mlp", "[16]", "relu", "sgd", "0.05", "32", "1", "1"])
        for row in rows.dropFirst() {
            let val = try XCTUnwrap(Double(row[8])), test = try XCTUnwrap(Double(row[9]))
            XCTAssertTrue(val > 0.25 && val <= 1 && test > 0.25 && test <= 1, "one epoch on 900 images learns something: \(row)")
        }
        XCTAssertTrue(r.out.contains("```csv\n" + csv + "```"), "the CSV is printed too")
        // confusion matrix of the best configuration: 10 rows summing to the test images
        let best = rows.dropFirst().max { Double($0[8])! < Double($1[8])! }!
        let run = rows.firstIndex(of: best)!
        XCTAssertTrue(r.out.contains("Confusion matrix of the best configuration (run \(run), sweep_test_mlp"), r.out)
        let matrix = lines.filter { $0.hasPrefix("| ") && $0.split(separator: "|").count == 11 && Int($0.split(separator: "|")[0].trimmingCharacters(in: .whitespaces)) != nil }
        XCTAssertEqual(matrix.count, 10, r.out)
        let total = matrix.flatMap { $0.split(separator: "|").dropFirst().compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }.reduce(0, +)
        let test = Double(best[9])!
        let correct = matrix.enumerated().map { i, l in Int(l.split(separator: "|")[i + 1].trimmingCharacters(in: .whitespaces))! }.reduce(0, +)
        XCTAssertEqual(Double(correct) / Double(total), test, accuracy: 0.00005, "diagonal / total is the printed test accuracy")
    }
}
