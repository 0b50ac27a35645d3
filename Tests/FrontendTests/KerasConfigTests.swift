// Keras model files (issue 18): the architecture from a `.keras` file's config.json, a config
// JSON file and a Keras 2 `model_config` string. Fixtures: Tests/Fixtures/keras_config, made
// once by make_keras_configs.py with Keras 3 (the Keras 2 strings written there by hand in the
// Keras 2.x format); expected.json holds each layer's output shape and count as Keras computed them.
import XCTest
@testable import ModelcCore
import ModelcData
import ModelcFuzz

final class KerasConfigTests: XCTestCase {
    static func fixture(_ name: String) -> String { Fixtures.path("keras_config/" + name) }

    func check(_ name: String) throws -> CheckReport { try Frontend.check(path: Self.fixture(name)) }

    /// The part of `check`'s text that shows the network: the rows between the table's rules.
    static func tableRows(_ r: CheckReport) -> [String] {
        let lines = r.text().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let a = lines.firstIndex(where: { $0.hasPrefix("===") }),
              let b = lines[(a + 1)...].firstIndex(where: { $0.hasPrefix("===") }) else { return [] }
        return Array(lines[(a + 1)..<b])
    }

    /// What the fingerprint hashes (ModelcBackend's Fingerprint.canonicalText): semantics, input,
    /// and each layer's name, kind, op and shapes; the ops compared whole (dilation included).
    func assertSameNetwork(_ a: CheckReport, _ b: CheckReport, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.ir.semantics, b.ir.semantics, what, file: file, line: line)
        XCTAssertEqual(a.ir.inputShape, b.ir.inputShape, what, file: file, line: line)
        XCTAssertEqual(a.ir.channelsFirst, b.ir.channelsFirst, what, file: file, line: line)
        XCTAssertEqual(a.ir.layers.count, b.ir.layers.count, what, file: file, line: line)
        for (x, y) in zip(a.ir.layers, b.ir.layers) {
            XCTAssertEqual(x.name, y.name, what, file: file, line: line)
            XCTAssertEqual(x.kind, y.kind, "\(what): \(x.name)", file: file, line: line)
            XCTAssertEqual(x.op, y.op, "\(what): \(x.name)", file: file, line: line)
            XCTAssertEqual(x.inputShape, y.inputShape, "\(what): \(x.name)", file: file, line: line)
            XCTAssertEqual(x.outputShape, y.outputShape, "\(what): \(x.name)", file: file, line: line)
        }
        XCTAssertEqual(Self.tableRows(a), Self.tableRows(b), what, file: file, line: line)
        XCTAssertEqual(a.ir.totalParams, b.ir.totalParams, what, file: file, line: line)
        XCTAssertEqual(a.ir.trainableParams, b.ir.trainableParams, what, file: file, line: line)
    }

    static var modelsDir: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models").path
    }

    func seedTable(_ name: String, dropping: String? = nil) throws -> CheckReport {
        var r = try Frontend.check(path: Self.modelsDir + "/" + name + ".md")
        XCTAssertTrue(r.ok, name)
        if let d = dropping {
            XCTAssertEqual(r.ir.layers.filter { $0.name == d }.count, 1)
            r.ir.layers.removeAll { $0.name == d }
        }
        return r
    }

    // MARK: - The seed networks: the same IR as their summary tables

    func testSeedNetworksGiveTheirTablesIR() throws {
        let seeds = ["seed000_kmnist_cnn", "seed001_mlp_128_128_64_relu_sgd", "seed001_mlp_128_64_32_relu_nesterov",
                     "seed001_mlp_128_64_relu_adam", "seed001_mlp_256_128_64_sigmoid_rmsprop", "seed003_k4", "seed003_k5",
                     "seed003_k6", "seed004_kannada_cnn", "cifar10_small_cnn", "mnist_lstm_rows"]
        for s in seeds {
            let k = try check(s + ".config.json")
            XCTAssertTrue(k.ok, s)
            assertSameNetwork(k, try seedTable(s), s)
        }
    }

    /// A Lambda's function is Python bytecode in a config: seed 002 is compared without it.
    func testSeed002WithoutItsLambda() throws {
        let table = try seedTable("seed002_mnist_cnn", dropping: "lambda_1")
        assertSameNetwork(try check("seed002_mnist_cnn_nolambda.config.json"), table, "seed002 (Keras 3)")
        assertSameNetwork(try check("keras2_seed002_sequential.json"), table, "seed002 (Keras 2 Sequential)")
        // With its annotation file (seed002_mnist_cnn.config.json.modelc: the Lambda's function,
        // dataset, input scaling, training), the whole network is the table's.
        let whole = try check("seed002_mnist_cnn.config.json")
        assertSameNetwork(whole, try seedTable("seed002_mnist_cnn"), "seed002 with its .modelc")
        XCTAssertEqual(whole.ir.training, try seedTable("seed002_mnist_cnn").ir.training)
    }

    /// Without an annotation file a Lambda is refused, saying where its function goes; an
    /// annotation may not restate what the file says exactly.
    func testLambdaNeedsItsAnnotationFile() throws {
        let dir = NSTemporaryDirectory() + "modelc_kcfg_\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let json = dir + "/seed002.config.json"
        try FileManager.default.copyItem(atPath: Self.fixture("seed002_mnist_cnn.config.json"), toPath: json)
        XCTAssertThrowsError(try KerasConfig.check(path: json)) { e in
            XCTAssertTrue("\(e)".contains("config.layers[1]: layer 'lambda_1' (Lambda): its function is saved as Python bytecode"), "\(e)")
        }
        try "layer conv2d_1: kernel=5x5\n".write(toFile: json + ".modelc", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try KerasConfig.check(path: json)) { e in
            XCTAssertTrue("\(e)".contains("seed002.config.json.modelc:1: error: layer 'conv2d_1' (Conv2D): the model file states its settings exactly"), "\(e)")
        }
        try "layer lambda_9: identity\n".write(toFile: json + ".modelc", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try KerasConfig.check(path: json)) { e in
            XCTAssertTrue("\(e)".contains(".modelc:1: error: layer 'lambda_9': no layer of the model has that name"), "\(e)")
        }
    }

    func testKeras2FormatsGiveTheSeedTablesIR() throws {
        assertSameNetwork(try check("keras2_seed000_functional.json"), try seedTable("seed000_kmnist_cnn"), "Keras 2 functional")
        assertSameNetwork(try check("keras2_seed004_list.json"), try seedTable("seed004_kannada_cnn"), "Keras 2 list form")
        let k = try check("keras2_seed002_sequential.json")
        XCTAssertEqual(k.layout, "keras2 config")
        XCTAssertEqual(k.ir.layers[0].name, "input")
        XCTAssertTrue(k.ir.layers[0].notes.joined().contains("config.layers[0].config.batch_input_shape"), "\(k.ir.layers[0].notes)")
    }

    /// The `.h5` path: the `model_config` attribute's string, as the HDF5 reader will pass it.
    func testModelConfigString() throws {
        let text = try Fixtures.text("keras_config/keras2_seed000_functional.json")
        let r = try KerasConfig.model(fromJSON: text, file: "model.h5")
        XCTAssertEqual(r.ir.sourcePath, "model.h5")
        assertSameNetwork(r, try seedTable("seed000_kmnist_cnn"), "model_config")
        XCTAssertThrowsError(try KerasConfig.model(fromJSON: "{\"class_name\": \"Sequential\"}", file: "model.h5")) { e in
            XCTAssertEqual("\(e)", "model.h5: error: config: missing (expected in the top-level object)")
        }
    }

    // MARK: - Every layer kind against Keras's own shapes and counts

    struct Expected: Decodable {
        var layers: [[Value]]
        var total: Int
        var trainable: Int
        enum Value: Decodable {
            case s(String), i(Int), a([Int])
            init(from d: Decoder) throws {
                let c = try d.singleValueContainer()
                if let v = try? c.decode(Int.self) { self = .i(v) } else if let v = try? c.decode([Int].self) { self = .a(v) } else { self = .s(try c.decode(String.self)) }
            }
        }
    }

    func testShapesAndCountsMatchKeras() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("expected.json")))
        let expected = try JSONDecoder().decode([String: Expected].self, from: data)
        let files = ["tiny_mlp": "tiny_mlp.keras", "tiny_cnn": "tiny_cnn_noweights.keras"]
        var checked = 0
        for (name, e) in expected.sorted(by: { $0.key < $1.key }) where !["nested", "unsupported", "seed002_mnist_cnn"].contains(name) {
            let r = try check(files[name] ?? name + ".config.json")
            XCTAssertTrue(r.ok, name)
            XCTAssertEqual(r.ir.layers.count, e.layers.count, name)
            for (L, row) in zip(r.ir.layers, e.layers) {
                guard case .s(let n) = row[0], case .s(let cls) = row[1], case .a(let shape) = row[2], case .i(let count) = row[3] else {
                    XCTFail("bad expected.json row \(row)"); continue
                }
                XCTAssertEqual(L.name, n, name)
                XCTAssertEqual(L.kind, cls, "\(name): \(n)")
                XCTAssertEqual(L.outputShape, shape, "\(name): \(n)")
                XCTAssertEqual(L.paramCount, count, "\(name): \(n)")
            }
            XCTAssertEqual(r.ir.totalParams, e.total, name)
            XCTAssertEqual(r.ir.trainableParams, e.trainable, name)
            checked += 1
        }
        XCTAssertEqual(checked, 22)   // 17 image and 1-D models (one with the random image layers), four sequence models and a branching one
    }

    func testHyperparametersAreTakenExactly() throws {
        let r = try check("all_image_layers.config.json")
        func op(_ n: String) -> Op? { r.layer(n)?.op }
        var conv = Conv2DAttrs(kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, padding: .same, filters: 6, useBias: false, activation: .tanh)
        XCTAssertEqual(op("conv"), .conv2d(conv))
        XCTAssertEqual(op("pad"), .zeroPadding(top: 1, bottom: 2, left: 0, right: 3))
        XCTAssertEqual(op("bn_nocenter"), .batchNorm(BatchNormAttrs(scale: true, center: false, epsilon: 1e-5, momentum: 0.9)))
        XCTAssertEqual(op("bn_noscale"), .batchNorm(BatchNormAttrs(scale: false, center: true, epsilon: 1e-3, momentum: 0.99)))
        XCTAssertEqual(op("sep"), .separableConv2d(Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .valid, filters: 8, useBias: true, activation: .relu), depthMultiplier: 2))
        XCTAssertEqual(op("dw"), .depthwiseConv2d(Conv2DAttrs(kernelH: 2, kernelW: 3, strideH: 1, strideW: 1, padding: .same, filters: 24, useBias: true), depthMultiplier: 3))
        conv = Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .valid, filters: 5, useBias: true, activation: .sigmoid)
        conv.dilationH = 2
        XCTAssertEqual(op("dilated"), .conv2d(conv))
        XCTAssertEqual(op("avg"), .avgPool(PoolAttrs(poolH: 2, poolW: 3, strideH: 1, strideW: 2, padding: .same)))
        XCTAssertEqual(op("deconv_same"), .conv2dTranspose(Conv2DAttrs(kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, padding: .same, filters: 4, useBias: true, activation: .relu), outputPaddingH: 0, outputPaddingW: 0))
        XCTAssertEqual(op("up"), .upSampling(sizeH: 2, sizeW: 1))
        XCTAssertEqual(op("leaky"), .activation(.leakyRelu(alpha: 0.1)))
        XCTAssertEqual(op("elu"), .activation(.elu(alpha: 1)))
        XCTAssertEqual(op("gmp"), .globalMaxPool)
        XCTAssertEqual(op("dense"), .dense(units: 12, useBias: false, activation: .linear))
        XCTAssertEqual(op("reshape"), .reshape([3, 4]))
        let s = try check("all_sequence_layers.config.json")
        var c1 = Conv2DAttrs(kernelH: 1, kernelW: 5, strideH: 1, strideW: 1, padding: .valid, filters: 8, useBias: true, activation: .relu)
        c1.dilationW = 2
        XCTAssertEqual(s.layer("c1")?.op, .conv2d(c1))
        XCTAssertEqual(s.layer("c1")?.isOneD, true)
        XCTAssertEqual(s.layer("p1")?.op, .maxPool(PoolAttrs(poolH: 1, poolW: 3, strideH: 1, strideW: 2, padding: .same)))
        XCTAssertEqual(s.layer("drop")?.op, .dropout(rate: 0.125, spatial: false))
        XCTAssertEqual(s.layer("smax")?.op, .activation(.softmax))
        // Keras 2 LeakyReLU `alpha` (stored as float32 0.3 widened) and BatchNormalization axis=3.
        let k2 = try check("keras2_seed002_sequential.json")
        XCTAssertEqual(k2.layer("leaky_re_lu_1")?.op, .activation(.leakyRelu(alpha: 0.3)))
        XCTAssertEqual(try check("keras2_seed000_functional.json").layer("batch_normalization_1")?.op, .batchNorm(BatchNormAttrs()))
    }

    // MARK: - The .keras zip

    func testKerasFiles() throws {
        let whole = try check("tiny_mlp.keras")
        XCTAssertEqual(whole.layout, "keras3 config")
        XCTAssertEqual(whole.ir.layers.map(\.name), ["input_layer", "hidden", "probs"])
        XCTAssertTrue(whole.ir.assumptions[0].contains("(config.json)"))
        XCTAssertTrue(KerasConfig.carriesWeights(path: "m.keras"))
        XCTAssertTrue(try check("tiny_cnn_noweights.keras").ok)
        // A .keras written here with the zip writer: config.json from a fixture, no weights.
        let cfg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture("gap_cnn.config.json"))))
        let zip = try Zip.archiveStored([("metadata.json", Array("{}".utf8)), ("config.json", cfg)])
        let r = try KerasConfig.check(bytes: zip, file: "gap.keras", zip: true)
        XCTAssertEqual(r.ir.layers.map(\.op).last, .dense(units: 3, useBias: true, activation: .softmax))
        assertSameNetwork(r, try check("gap_cnn.config.json"), "zip vs json")
        assertError(try Zip.archiveStored([("model.weights.h5", [1, 2, 3])]), zip: true,
                    "k.keras: error: no config.json in the .keras archive (entries: model.weights.h5)")
        assertError(Array("not a zip at all, but long enough".utf8), zip: true, "k.keras: error: offset")
        var bad = zip
        bad[bad.count - 30] ^= 0xFF   // inside the central directory
        assertError(bad, zip: true, "k.keras: error:")
    }

    // MARK: - Structure errors

    func testStructureErrors() throws {
        // A Functional graph (two Dense branches into an Add) reads as one (issue 17's graphs).
        let branch = try check("branch.config.json")
        XCTAssertTrue(branch.ok)
        XCTAssertEqual(branch.ir.layers.map { $0.producers }, [nil, nil, [0], [1, 2], nil])
        XCTAssertThrowsError(try check("nested.config.json")) { e in
            XCTAssertTrue("\(e)".contains("config.layers[1]: layer 'inner_block' (Sequential) is a nested model; nested models are not supported"), "\(e)")
        }
        XCTAssertThrowsError(try check("unsupported.config.json")) { e in
            XCTAssertTrue("\(e)".contains("unsupported.config.json: error: config.layers[2]: layer 'un' (UnitNormalization) is not supported"), "\(e)")
        }
    }

    // MARK: - Hostile input

    func assertError(_ bytes: [UInt8], zip: Bool = false, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let r = try KerasConfig.check(bytes: bytes, file: zip ? "k.keras" : "k.json", zip: zip)
            XCTFail("expected '\(expected)', got a report:\n\(r.text())", file: file, line: line)
        } catch {
            XCTAssertTrue("\(error)".contains(expected), "'\(error)' lacks '\(expected)'", file: file, line: line)
        }
        XCTAssertFalse(KerasConfigFuzzEntry.run(bytes), file: file, line: line)
    }

    /// seed000's config with `old` replaced by `new` (which must occur exactly once).
    func mutated(_ old: String, _ new: String) throws -> [UInt8] {
        let text = try Fixtures.text("keras_config/seed000_kmnist_cnn.config.json")
        XCTAssertEqual(text.components(separatedBy: old).count, 2, old)
        return Array(text.replacingOccurrences(of: old, with: new).utf8)
    }

    /// seed000's config with layer `index`'s config (or whole entry) changed by `change`.
    func edited(_ index: Int, config change: ((inout [String: Any]) -> Void)? = nil, entry: ((inout [String: Any]) -> Void)? = nil) throws -> [UInt8] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("seed000_kmnist_cnn.config.json")))
        var root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var config = try XCTUnwrap(root["config"] as? [String: Any])
        var layers = try XCTUnwrap(config["layers"] as? [[String: Any]])
        var layer = layers[index]
        if let change {
            var c = try XCTUnwrap(layer["config"] as? [String: Any])
            change(&c)
            layer["config"] = c
        }
        entry?(&layer)
        layers[index] = layer
        config["layers"] = layers
        root["config"] = config
        return [UInt8](try JSONSerialization.data(withJSONObject: root))
    }

    func testHostileConfigs() throws {
        assertError(Array("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [".utf8), "k.json: error: JSON offset 51: expected a JSON value, found the end of the text")
        assertError(Array("{\"a\": tru}".utf8), "JSON offset 6: expected 'true'")
        assertError(Array("{} x".utf8), "JSON offset 3: expected the end of the JSON text, found 'x'")
        assertError(Array((String(repeating: "[", count: 100_000)).utf8), "JSON offset 64: JSON nests more than 64 levels deep")
        assertError(Array(("[" + String(repeating: "0,", count: 1 << 18) + "0]").utf8), "at most 262144 JSON values")
        assertError(Array("[1, 2]".utf8), "k.json: error: the top-level value: expected a Keras model config")
        // seed000's config with one text replaced: (old, new, the expected message).
        let replaced: [(String, String, String)] = [
            ("\"kernel_size\": [7, 7]", "\"kernel_size\": [7, -7]",
             "k.json: error: config.layers[2].config.kernel_size[1]: expected an integer from 1 to 4096, found the number -7"),
            ("\"kernel_size\": [7, 7]", "\"kernel_size\": \"7x7\"",
             "config.layers[2].config.kernel_size: expected a list, found the string \"7x7\""),
            ("\"kernel_size\": [7, 7]", "\"kernel_size\": [7, 70]",
             "config.layers[2]: layer 'conv2d_1' (Conv2D): a 7x70 (effective) kernel does not fit the input 32x32 with 'valid' padding"),
            ("\"units\": 512", "\"units\": 99999999999999999999999",
             "config.layers[14].config.units: expected an integer, found the number 99999999999999999999999"),
            ("\"units\": 512", "\"units\": 67108864",
             "config.layers[14]: layer 'dense_1': parameter tensor [512, 67108864] has 34,359,738,368 elements"),
            ("\"units\": 512", "\"units\": 5.12e2",
             "config.layers[14].config.units: expected an integer, found the number 5.12e2"),
            ("\"units\": 512, ", "",
             "config.layers[14].config.units: missing (expected in config.layers[14].config)"),
            ("\"rate\": 0.5", "\"rate\": 1.5",
             "config.layers[15].config.rate: expected a number from 0.0 to 0.999999, found the number 1.5"),
            ("\"activation\": \"softmax\"", "\"activation\": \"celu\"",
             "config.layers[16].config.activation: activation 'celu' is not supported"),
            ("\"batch_shape\": [null, 28, 28, 1]", "\"batch_shape\": [null, 28, null, 1]",
             "config.layers[0].config.batch_shape[2]: layer 'input_1': the input size is not fixed (None)"),
            ("\"batch_shape\": [null, 28, 28, 1]", "\"batch_shape\": [null, 28, 28, 1, 1, 1]",
             "config.layers[0].config.batch_shape: expected [batch, then 1 to 4 sizes]"),
            ("\"batch_shape\": [null, 28, 28, 1]", "\"batch_shape\": [null, 30000, 30000, 1]",
             "config.layers[1]: layer 'zero_padding2d_1' (ZeroPadding2D): output (30004, 30004, 1) has 900,240,016 elements per image; modelc accepts at most 67,108,864 (2^26) per layer"),
            ("\"keras_history\": [\"conv2d_1\", 0, 0]", "\"keras_history\": [\"conv2d_1\", 1, 0]",
             "config.layers[3].inbound_nodes[0].args[0]: an input from node 1 tensor 0 of 'conv2d_1': shared layers and multi-output layers are not supported"),
            ("\"name\": \"dropout_1\", \"trainable\"", "\"name\": \"dense_1\", \"trainable\"",
             "config.layers[15].config.name: layer name 'dense_1' appears twice"),
        ]
        for (old, new, expected) in replaced { assertError(try mutated(old, new), expected) }
        assertError(try edited(7, config: { $0["epsilon"] = "tiny" }),
                    "config.layers[7].config.epsilon: expected a finite number, found the string \"tiny\"")
        assertError(try edited(2, config: { $0["data_format"] = "channels_first" }),
                    "config.layers[2].config.data_format: layer 'conv2d_1' (Conv2D): data_format 'channels_first' is not supported (channels_last only)")
    }

    /// A layer input that differs from the one Keras recorded is a problem, not silently accepted.
    func testRecordedShapesAreChecked() throws {
        let bytes = try edited(14, entry: { $0["build_config"] = ["input_shape": [NSNull(), 511]] })
        let r = try KerasConfig.check(bytes: bytes, file: "k.json", zip: false)
        XCTAssertFalse(r.ok)
        XCTAssertEqual(r.problems.map(\.description), ["k.json: error: config.layers[14].build_config.input_shape: layer 'dense_1': Keras recorded the input (511), modelc computes (512)"])
    }

    func testFuzzSeedsAndRegressionsReplay() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz").path
        var reports = 0, total = 0
        for kind in ["seeds", "regressions"] {
            let d = dir + "/\(kind)/kerasconfig"
            for f in ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).sorted() where !f.hasPrefix(".") {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: d + "/" + f)))
                if KerasConfigFuzzEntry.run(bytes) { reports += 1 }
                total += 1
            }
        }
        XCTAssertGreaterThanOrEqual(total, 10)
        XCTAssertGreaterThanOrEqual(reports, 8)
    }
}
