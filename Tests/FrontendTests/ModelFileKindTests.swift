// Model and weights files told by their first bytes (FileMagic), not their names: an HDF5 file
// named .keras (tf.keras 2.10 to 2.12) is read as .h5, a .keras zip named .h5 as .keras, and a
// PyTorch file given to `check` is refused saying what it holds. Also the sequence length a
// Keras file leaves open (None), given in FILE.modelc.

import XCTest
@testable import ModelcCore
import ModelcData
import ModelcModelFiles

final class ModelFileKindTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "modelc_kind_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func copy(_ fixture: String, as name: String) throws -> String {
        let to = "\(dir)/\(name)"
        try FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: to)
        return to
    }

    func refusal(_ path: String) -> String {
        do { _ = try Frontend.check(path: path); return "no error" } catch { return "\(error)" }
    }

    func testMisnamedKerasFilesAreReadByTheirContent() throws {
        let h5 = Fixtures.path("keras_files/gc_dense_bn.h5")
        let renamed = try copy("keras_files/gc_dense_bn.h5", as: "m.keras")
        let (a, b) = (try Frontend.check(path: h5), try Frontend.check(path: renamed))
        XCTAssertTrue(b.ok, "\(b.problems)")
        XCTAssertEqual(b.ir.totalParams, a.ir.totalParams)
        XCTAssertEqual(b.ir.layers.map(\.op), a.ir.layers.map(\.op))
        XCTAssertTrue(b.ir.assumptions.contains { $0.hasPrefix("an HDF5 file: read as a Keras .h5 model file whatever its name") }, "\(b.ir.assumptions)")
        XCTAssertEqual(try WeightsReader.read(path: renamed), try WeightsReader.read(path: h5))
        XCTAssertEqual(WeightsReader.format(of: renamed), .h5)
        // ModelCheckpoint's .hdf5 name: checked, and compile stores its weights (.h5 beside the binary).
        let checkpoint = try copy("keras_files/gc_dense_bn.h5", as: "weights.best.hdf5")
        XCTAssertTrue(try Frontend.check(path: checkpoint).ok)
        XCTAssertTrue(KerasConfig.carriesWeights(path: checkpoint))
        XCTAssertEqual(WeightsReader.format(of: checkpoint), .h5)
        XCTAssertEqual(WeightsReader.format(of: Fixtures.path("keras_files/gc_dense_bn.weights.h5")), .kerasWeightsH5)
        // Under a name no format has: a zip whose first entry is JSON is Keras's, else PyTorch's.
        XCTAssertEqual(WeightsReader.format(of: try copy("keras_files/gc_dense_bn.keras", as: "model.bundle")), .keras)
        XCTAssertEqual(WeightsReader.format(of: try copy("pytorch_files/conv_bn.pth", as: "pytorch_model.bin")), .pytorch)
        // A .keras zip named .h5.
        let zip = try copy("keras_files/gc_dense_bn.keras", as: "z.h5")
        let z = try Frontend.check(path: zip)
        XCTAssertTrue(z.ok, "\(z.problems)")
        XCTAssertEqual(z.ir.totalParams, a.ir.totalParams)
        XCTAssertEqual(try WeightsReader.read(path: zip), try WeightsReader.read(path: Fixtures.path("keras_files/gc_dense_bn.keras")))
    }

    func testPyTorchFilesAreRefusedSayingWhatTheyHold() throws {
        let weights = "it holds weights, not an architecture modelc reads; describe the network with print(model)'s output"
        let pth = Fixtures.path("pytorch_files/conv_bn.pth")
        XCTAssertTrue(refusal(pth).contains("a PyTorch zip archive (torch.save or torch.jit.save): " + weights), refusal(pth))
        // Under another name the archive is opened to tell what it is.
        let data = try copy("pytorch_files/conv_bn.pth", as: "conv_bn.data")
        XCTAssertTrue(refusal(data).contains("a torch.save archive (a state_dict or a pickled module): " + weights), refusal(data))
        let script = try Zip.archiveStored([("m/code/__torch__.py", Array("class M: pass\n".utf8)), ("m/data.pkl", [0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E])])
        try Data(script).write(to: URL(fileURLWithPath: "\(dir)/scripted.model"))
        XCTAssertTrue(refusal("\(dir)/scripted.model").contains("a TorchScript archive (torch.jit.save), whose code modelc does not run"), refusal("\(dir)/scripted.model"))
        try Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46]).write(to: URL(fileURLWithPath: "\(dir)/old.pt"))
        XCTAssertTrue(refusal("\(dir)/old.pt").contains("a pickle (torch.save before PyTorch 1.6"), refusal("\(dir)/old.pt"))
        let other = try Zip.archiveStored([("readme.txt", Array("hello".utf8))])
        try Data(other).write(to: URL(fileURLWithPath: "\(dir)/other.zip"))
        XCTAssertTrue(refusal("\(dir)/other.zip").contains("a zip archive with neither config.json (a .keras model) nor data.pkl"), refusal("\(dir)/other.zip"))
        // A safetensors file whose header length starts 0x80 0x02 is no pickle ('{' at offset 8).
        XCTAssertEqual(FileMagic.of(bytes: [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9]), .pickle)
        XCTAssertNil(FileMagic.of(bytes: [0x80, 0x02, 0, 0, 0, 0, 0, 0, UInt8(ascii: "{")]))
        XCTAssertNil(FileMagic.of(bytes: [0x80, 0x02, 0x41]))
        let npz = try copy("pytorch_files/conv_bn_probs.npz", as: "arrays.npz")
        XCTAssertTrue(refusal(npz).contains("a NumPy .npz archive (arrays: weights or data), not a model"), refusal(npz))
        // A text file keeps its usual reading (no magic).
        XCTAssertEqual(FileMagic.of(path: Fixtures.path("keras_config/embedding_birnn.config.json")), nil)
    }

    /// recurrent_activation="hard_sigmoid" (Keras 2.2.5 and earlier's default): hard sigmoid
    /// gates of the file's Keras version, Keras 3's relu6(x + 3) / 6 or Keras 2's 0.2 x + 0.5.
    func testHardSigmoidGatesByKerasVersion() throws {
        let keras3 = try Fixtures.text("keras_config/embedding_birnn.config.json")
            .replacingOccurrences(of: "\"recurrent_activation\": \"sigmoid\"", with: "\"recurrent_activation\": \"hard_sigmoid\"")
        let r = try KerasConfig.model(fromJSON: keras3, file: "m.json")
        let slopes = r.ir.layers.compactMap { l -> Float?? in if case .recurrent(let a) = l.op { return a.hardGateSlope }; return nil }
        XCTAssertEqual(slopes, [1 / 6, 1 / 6, nil, 1 / 6])     // Bidirectional GRU, GRU, SimpleRNN (no gates), Bidirectional LSTM
        let keras2 = """
            {"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "Embedding", "config": {"name": "embedding_1", "batch_input_shape": [null, 5], "input_dim": 7, "output_dim": 4}},
              {"class_name": "LSTM", "config": {"name": "lstm_1", "units": 3, "activation": "tanh", "recurrent_activation": "hard_sigmoid",
                                                  "use_bias": true, "return_sequences": false, "dropout": 0.0, "recurrent_dropout": 0.0}},
              {"class_name": "Dense", "config": {"name": "dense_1", "units": 2, "activation": "softmax", "use_bias": true}}]},
             "keras_version": "2.2.4", "backend": "tensorflow"}
            """
        let k2 = try KerasConfig.model(fromJSON: keras2, file: "old.h5")
        guard case .recurrent(let a)? = k2.ir.layers.first(where: { $0.name == "lstm_1" })?.op else { return XCTFail("no lstm_1") }
        XCTAssertEqual(a.hardGateSlope, 0.2)
        let relu = keras2.replacingOccurrences(of: "\"recurrent_activation\": \"hard_sigmoid\"", with: "\"recurrent_activation\": \"relu\"")
        XCTAssertThrowsError(try KerasConfig.model(fromJSON: relu, file: "old.h5")) {
            XCTAssertTrue("\($0)".contains("expected \"sigmoid\" or \"hard_sigmoid\" (the recurrent_activation modelc's cells compute)"), "\($0)")
        }
    }

    /// A cell's activation: tanh (the default), or relu; anything else is refused naming the key.
    func testReluCellActivation() throws {
        let config = try Fixtures.text("keras_config/embedding_birnn.config.json")
        let relu = config.replacingOccurrences(of: "\"activation\": \"tanh\"", with: "\"activation\": \"relu\"")
        XCTAssertNotEqual(relu, config)
        let r = try KerasConfig.model(fromJSON: relu, file: "m.json")
        let acts = r.ir.layers.compactMap { l -> RecurrentActivation?? in if case .recurrent(let a) = l.op { return a.activation }; return nil }
        XCTAssertEqual(acts, [.relu, .relu, .relu, .relu])
        XCTAssertTrue(r.ir.layers.contains { $0.kind == "GRU" && Describe.op($0.op).contains("activation relu") })
        let selu = config.replacingOccurrences(of: "\"activation\": \"tanh\"", with: "\"activation\": \"selu\"")
        XCTAssertThrowsError(try KerasConfig.model(fromJSON: selu, file: "m.json")) {
            XCTAssertTrue("\($0)".contains("expected \"tanh\" or \"relu\" (the activations modelc's cells compute)"), "\($0)")
        }
    }

    /// A Keras 3 text model's InputLayer batch_shape [None, None]: the length comes from
    /// FILE.modelc (`input: shape=12`), which must have the file's rank and agree with its fixed sizes.
    func testOpenSequenceLengthFromTheAnnotationFile() throws {
        let json = try Fixtures.text("keras_config/embedding_birnn.config.json")
        XCTAssertTrue(json.contains("\"batch_shape\": [null, 12]"))
        let file = "\(dir)/text.json"
        try json.replacingOccurrences(of: "\"batch_shape\": [null, 12]", with: "\"batch_shape\": [null, null]").write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertTrue(refusal(file).contains("the input size is not fixed (None); modelc needs every input dimension: give it in text.json.modelc beside the model file, e.g. `input: shape=200`"), refusal(file))
        try "input: shape=12\n".write(toFile: file + ".modelc", atomically: true, encoding: .utf8)
        let r = try Frontend.check(path: file)
        let fixed = try Frontend.check(path: Fixtures.path("keras_config/embedding_birnn.config.json"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [12])
        XCTAssertEqual(r.ir.totalParams, fixed.ir.totalParams)
        XCTAssertTrue(r.ir.layers[0].notes.contains("input size 12 from the annotated `input: shape=`: the file leaves it open (None)"), "\(r.ir.layers[0].notes)")
        try "input: shape=12x3\n".write(toFile: file + ".modelc", atomically: true, encoding: .utf8)
        XCTAssertTrue(refusal(file).contains("the annotated input shape=12x3 has 2 sizes, the file's input 1"), refusal(file))
        let pinned = "\(dir)/pinned.json"
        try json.write(toFile: pinned, atomically: true, encoding: .utf8)
        try "input: shape=10\n".write(toFile: pinned + ".modelc", atomically: true, encoding: .utf8)
        XCTAssertTrue(refusal(pinned).contains("the annotated input shape=10 gives 10 where the file fixes 12"), refusal(pinned))
        // An input of strings (a TextVectorization inside the model) is refused saying so.
        let strings = "\(dir)/strings.json"
        let stringInput = json.replacingOccurrences(of: "\"batch_shape\": [null, 12], \"dtype\": \"float32\"", with: "\"batch_shape\": [null], \"dtype\": \"string\"")
        XCTAssertNotEqual(stringInput, json)
        try stringInput.write(toFile: strings, atomically: true, encoding: .utf8)
        XCTAssertTrue(refusal(strings).contains("layer 'tokens': an input of strings (before a TextVectorization, which a model file keeps inside the model)"), refusal(strings))
    }
}
