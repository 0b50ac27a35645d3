// The normalization and preprocessing layers (issue 17) in every layout: Keras 2 tables (names
// cut by the column), the Keras 3 box table and the `.keras` config of the fixture
// normalization_layers, PyTorch reprs (the fixture pytorch_norm), torchsummary and torchinfo
// rows; what the counts tell (LayerNormalization's axis and affine, Normalization's 2C + 1),
// the annotations (Rescaling's scale, GroupNormalization's groups, epsilon) and the errors.

import XCTest
@testable import ModelcCore

final class NormalizationLayerTests: XCTestCase {
    func norm(_ r: CheckReport, _ name: String) -> NormAttrs? {
        if case .normalization(let a)? = r.layer(name)?.op { return a }
        return nil
    }

    func testKeras3FixtureTableAndItsKerasFile() throws {
        let table = try XCTUnwrap(checkOK(try Fixtures.text("numerics/normalization_layers/model.md")))
        XCTAssertTrue(table.ok, "\(table.problems)")
        XCTAssertEqual(table.layer("rescaling")?.op, .lambda(.affine(scale: 0.5, offset: 0.1)))
        XCTAssertEqual(norm(table, "normalization")?.form, .fixed)
        XCTAssertEqual(table.layer("normalization")?.paramTensors.map(\.role), [.mean, .variance, .count])
        XCTAssertEqual(table.layer("normalization")?.paramTensors.map(\.shape), [[2], [2], []])
        XCTAssertEqual(norm(table, "layer_normalization"), NormAttrs(form: .lastAxis, epsilon: 1e-3))
        XCTAssertEqual(norm(table, "layer_normalization_1"), NormAttrs(form: .wholeSample, epsilon: 1e-3))
        XCTAssertEqual(table.layer("layer_normalization_1")?.paramTensors.map(\.shape), [[3, 4, 3], [3, 4, 3]])
        XCTAssertEqual(norm(table, "layer_normalization_2"), NormAttrs(form: .lastAxis, epsilon: 1e-3, scale: true, center: false))
        XCTAssertEqual([table.ir.trainableParams, table.ir.nonTrainableParams], [278, 5])
        // The same network from the model file's config.json (every setting from the config).
        let file = try Frontend.check(path: Fixtures.path("numerics/normalization_layers/model.keras"))
        XCTAssertTrue(file.ok, "\(file.problems)")
        XCTAssertEqual(file.ir.layers.map(\.op), table.ir.layers.map(\.op))
        XCTAssertEqual(file.ir.layers.map(\.kind), table.ir.layers.map(\.kind))
        XCTAssertEqual(file.ir.inputScale, 1.0 / 255.0, "the Rescaling follows a Conv2D: the input is scaled as usual")
    }

    func testKeras2TableCutNamesDefaultsAndAnnotations() throws {
        let rows = [("input_1", "InputLayer", "8, 8, 3", 0),
                    ("rescaling", "Rescaling", "8, 8, 3", 0),
                    ("normalization", "Normalization", "8, 8, 3", 7),                 // 2 * 3 + 1
                    ("conv2d", "Conv2D", "6, 6, 8", 224),
                    ("layer_normalization", "LayerNormalization", "6, 6, 8", 16),
                    ("group_normalization", "GroupNormalization", "6, 6, 8", 16),
                    ("flatten", "Flatten", "288", 0),
                    ("dense", "Dense", "10", 2890)]
        let t = InferenceTests.table(rows, footer: "Total params: 3,153\nTrainable params: 3,146\nNon-trainable params: 7\n")
        checkError(t, contains: "the number of groups is not printed; annotate `layer group_normalization: groups=G`")
        let r = try XCTUnwrap(checkOK(t + "\n```modelc\nlayer group_normalization: groups=4 epsilon=1e-5\n```\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("layer_normalization")?.kind, "LayerNormalization", "from the cut '(LayerNo'")
        XCTAssertEqual(norm(r, "group_normalization"), NormAttrs(form: .groups(4), epsilon: 1e-5))
        // Rescaling's factor is not printed: 1/255, said so, and the input is then raw pixels.
        XCTAssertEqual(r.layer("rescaling")?.op, .lambda(.affine(scale: 1.0 / 255.0, offset: 0)))
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("rescaling: Rescaling scale=1/255 offset=0") }, "\(r.ir.assumptions)")
        XCTAssertEqual(r.ir.inputScale, 1)
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("raw pixels 0..255: the model's Rescaling layer scales them") })
        let annotated = try XCTUnwrap(checkOK(t + "\n```modelc\nlayer group_normalization: groups=2\nlayer rescaling: scale=1/127.5 offset=-1\n```\n"))
        XCTAssertEqual(annotated.layer("rescaling")?.op, .lambda(.affine(scale: Float(1 / 127.5), offset: -1)))
        XCTAssertFalse(annotated.ir.assumptions.contains { $0.contains("Rescaling scale=1/255") })
        let affine = try XCTUnwrap(checkOK(t + "\n```modelc\nlayer group_normalization: groups=2\nlayer rescaling: affine scale=2 offset=0.5\n```\n"))
        XCTAssertEqual(affine.layer("rescaling")?.op, .lambda(.affine(scale: 2, offset: 0.5)))
        checkError(t + "\n```modelc\nlayer group_normalization: groups=3\n```\n", contains: "8 channels do not split into 3 groups")
        checkError(t + "\n```modelc\nlayer group_normalization: groups=2\nlayer conv2d: offset=1\n```\n", contains: "layer 'conv2d' (Conv2D) has no 'offset' setting")
    }

    func testCountsThatFitNoForm() {
        let base = [("input_1", "InputLayer", "5, 6", 0)]
        checkError(InferenceTests.table(base + [("normalization", "Normalization", "5, 6", 12), ("dense", "Dense", "5, 3", 21)]),
                   contains: "an adapted Normalization over 6 channels has mean, variance (6 each) and count: 13 params, not 12")
        checkError(InferenceTests.table(base + [("normalization", "Normalization", "5, 6", 0), ("dense", "Dense", "5, 3", 21)]),
                   contains: "a Normalization without weights (mean= and variance= given in its config) cannot be read from a table")
        checkError(InferenceTests.table(base + [("layer_normalization", "LayerNormalization", "5, 6", 10)]),
                   contains: "LayerNormalization on (5, 6) has 12 params (gamma and beta over the last axis) or 60 (over the whole image), not 10")
        // On a sequence, 2 x 30 is the whole (5, 6); 2 x 6 the last axis.
        let whole = checkOK(InferenceTests.table(base + [("layer_normalization", "LayerNormalization", "5, 6", 60)]))
        XCTAssertEqual(whole.flatMap { norm($0, "layer_normalization") }?.form, .wholeSample)
    }

    func testPyTorchReprFixtureAndErrors() throws {
        let r = try XCTUnwrap(checkOK(try Fixtures.text("numerics/pytorch_norm/model.md")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(norm(r, "gn"), NormAttrs(form: .groups(2), epsilon: 1e-5))
        XCTAssertEqual(norm(r, "ln1"), NormAttrs(form: .wholeSample, epsilon: 1e-5))
        XCTAssertEqual(norm(r, "ln2"), NormAttrs(form: .lastAxis, epsilon: 1e-5))
        // state_dict keys and layouts: ln1.weight is [C, H, W] in the file, [H, W, C] inside.
        XCTAssertEqual(r.layer("ln1")?.stateDictTensors.map(\.key), ["ln1.weight", "ln1.bias"])
        XCTAssertEqual(r.layer("ln1")?.stateDictTensors.map(\.shape), [[3, 3, 4], [3, 3, 4]])
        XCTAssertEqual(r.layer("ln1")?.paramTensors.map(\.shape), [[3, 4, 3], [3, 4, 3]])
        XCTAssertEqual(r.layer("gn")?.stateDictTensors.map(\.shape), [[4], [4]])
        func repr(_ body: String) -> String {
            "```\nNet(\n  (conv): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))\n\(body)\n)\n```\n\n```modelc\ninput: shape=1x6x6\n```\n"
        }
        checkError(repr("  (ln): LayerNorm((4,), eps=1e-05, elementwise_affine=True)"),
                   contains: "normalized_shape [4] covers only the last axes of the input [4, 4, 4]")
        checkError(repr("  (gn): GroupNorm(2, 8, eps=1e-05, affine=True)"), contains: "num_channels=8 but the input [4, 4, 4] has 4 channels")
        checkError(repr("  (gn): GroupNorm(3, 4, eps=1e-05, affine=True)"), contains: "num_groups=3 must divide num_channels=4")
        let plain = try XCTUnwrap(checkOK(repr("  (ln): LayerNorm((4, 4, 4), eps=1e-06, elementwise_affine=False)")))
        XCTAssertEqual(norm(plain, "ln"), NormAttrs(form: .wholeSample, epsilon: 1e-6, scale: false, center: false))
    }

    static let summary = """
    ----------------------------------------------------------------
            Layer (type)               Output Shape         Param #
    ================================================================
                Conv2d-1            [-1, 4, 26, 26]              40
             LayerNorm-2            [-1, 4, 26, 26]           5,408
                  ReLU-3            [-1, 4, 26, 26]               0
               Flatten-4                 [-1, 2704]               0
                Linear-5                   [-1, 10]          27,050
             LayerNorm-6                   [-1, 10]              20
    ================================================================
    Total params: 32,518
    Trainable params: 32,518
    Non-trainable params: 0
    ----------------------------------------------------------------
    """

    func testTorchSummaryAndTorchInfoRows() throws {
        let r = try XCTUnwrap(checkOK(Self.summary))
        XCTAssertEqual(r.layout, "torchsummary")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(norm(r, "LayerNorm-2")?.form, .wholeSample)
        XCTAssertEqual(norm(r, "LayerNorm-6")?.form, .lastAxis)
        checkError(Self.summary.replacingOccurrences(of: "LayerNorm-2            [-1, 4, 26, 26]           5,408", with: "GroupNorm-2            [-1, 4, 26, 26]               8"),
                   contains: "GroupNorm-2: GroupNorm's num_groups is not printed in a summary table; annotate `layer GroupNorm-2: groups=G`")
        let grouped = Self.summary.replacingOccurrences(of: "LayerNorm-2            [-1, 4, 26, 26]           5,408", with: "GroupNorm-2            [-1, 4, 26, 26]               8")
            .replacingOccurrences(of: "32,518", with: "27,118") + "\n```modelc\nlayer GroupNorm-2: groups=2\n```\n"
        let g = try XCTUnwrap(checkOK(grouped))
        XCTAssertTrue(g.ok, "\(g.problems)")
        XCTAssertEqual(norm(g, "GroupNorm-2"), NormAttrs(form: .groups(2), epsilon: 1e-5))
        checkError(Self.summary.replacingOccurrences(of: "5,408", with: "   52"), contains: "LayerNorm over only the last axes of an image")
        let info = """
        ==========================================================================================
        Layer (type:depth-idx)                   Output Shape              Param #
        ==========================================================================================
        Net                                      [1, 10]                   --
        ├─Conv2d: 1-1                            [1, 4, 26, 26]            40
        ├─LayerNorm: 1-2                         [1, 4, 26, 26]            5,408
        ├─ReLU: 1-3                              [1, 4, 26, 26]            --
        ├─Flatten: 1-4                           [1, 2704]                 --
        ├─Linear: 1-5                            [1, 10]                   27,050
        ├─LayerNorm: 1-6                         [1, 10]                   20
        ==========================================================================================
        Total params: 32,518
        Trainable params: 32,518
        Non-trainable params: 0
        """
        let t = try XCTUnwrap(checkOK(info))
        XCTAssertEqual(t.layout, "torchinfo")
        XCTAssertTrue(t.ok, "\(t.problems)")
        let forms: [NormAttrs.Form] = t.ir.layers.compactMap { l in if case .normalization(let a) = l.op { return a.form } else { return nil } }
        XCTAssertEqual(forms, [.wholeSample, .lastAxis])
    }

    func testKerasConfigSettingsAndRefusals() throws {
        func config(_ layer: String) -> [UInt8] {
            Array("""
            {"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 6], "name": "input_layer"}},
              \(layer)]}}
            """.utf8)
        }
        func check(_ layer: String) throws -> CheckReport { try KerasConfig.check(json: config(layer), file: "c.json", container: nil) }
        let ln = try check(#"{"class_name": "LayerNormalization", "config": {"name": "ln", "axis": [-2, -1], "epsilon": 1e-5, "center": true, "scale": false}}"#)
        XCTAssertEqual(norm(ln, "ln"), NormAttrs(form: .wholeSample, epsilon: 1e-5, scale: false, center: true))
        let gn = try check(#"{"class_name": "GroupNormalization", "config": {"name": "gn", "groups": 3, "axis": -1, "epsilon": 0.001, "center": true, "scale": true}}"#)
        XCTAssertEqual(norm(gn, "gn"), NormAttrs(form: .groups(3), epsilon: 1e-3))
        let constant = try check(#"{"class_name": "Normalization", "config": {"name": "n", "axis": [-1], "mean": 0.5, "variance": 0.25, "invert": false}}"#)
        XCTAssertEqual(constant.layer("n")?.op, .lambda(.standardize(mean: 0.5, std: 0.5)))
        let errors = [(#"{"class_name": "LayerNormalization", "config": {"name": "ln", "axis": 1, "epsilon": 0.001, "center": true, "scale": true}}"#, "-1 (the last axis) or every axis"),
                      (#"{"class_name": "LayerNormalization", "config": {"name": "ln", "axis": -1, "epsilon": 0.001, "center": true, "scale": true, "rms_scaling": true}}"#, "rms_scaling=true is not supported"),
                      (#"{"class_name": "GroupNormalization", "config": {"name": "gn", "groups": 4, "axis": -1, "epsilon": 0.001, "center": true, "scale": true}}"#, "6 channels do not split into 4 groups"),
                      (#"{"class_name": "Rescaling", "config": {"name": "r", "scale": [1, 2, 3], "offset": 0}}"#, "per-channel scales are not supported"),
                      (#"{"class_name": "Normalization", "config": {"name": "n", "axis": [-1], "mean": null, "variance": null, "invert": true}}"#, "invert=true"),
                      (#"{"class_name": "Normalization", "config": {"name": "n", "axis": [-1], "mean": [1, 2], "variance": [1, 2], "invert": false}}"#, "per-channel mean= and variance= lists")]
        for (layer, message) in errors {
            XCTAssertThrowsError(try check(layer), message) { e in XCTAssertTrue("\(e)".contains(message), "\(e)") }
        }
    }
}
