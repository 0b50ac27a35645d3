// The smooth activations (silu, gelu, hard_sigmoid, hard_swish, selu, softplus, softsign, mish)
// from every front end: PyTorch reprs, torchsummary rows and `forward:` calls; Keras configs
// (whose hard_sigmoid differs between Keras 2 and 3) and table annotations; ONNX operators and
// the subgraphs exporters write (ONNXActivationPatterns). The numerics are the pytorch_smooth
// fixture's (KerasFixtureTests) and the ONNX smooth fixtures' (ONNXCompileTests).

import XCTest
@testable import ModelcCore
@testable import ModelcModelFiles

final class SmoothActivationFrontendTests: XCTestCase {
    static let third: Float = 1 / 6

    func repr(_ module: String) -> String {
        "Net(\n  (fc1): Linear(in_features=4, out_features=3, bias=True)\n  (act): \(module)\n"
            + "  (fc2): Linear(in_features=3, out_features=2, bias=True)\n)\n```modelc\ninput: shape=4\n```\n"
    }

    func testPyTorchModules() throws {
        let cases: [(String, Activation)] = [
            ("SiLU(inplace=True)", .silu), ("GELU(approximate='none')", .gelu(tanh: false)), ("GELU(approximate='tanh')", .gelu(tanh: true)),
            ("Hardswish()", .hardSwish), ("Hardsigmoid()", .hardSigmoid(slope: Self.third, offset: 0.5)), ("SELU()", .selu),
            ("Softplus(beta=1.0, threshold=20.0)", .softplus), ("Softplus(beta=1, threshold=20)", .softplus), ("Softsign()", .softsign),
            ("Mish()", .mish),
        ]
        for (module, a) in cases {
            XCTAssertEqual(checkOK(repr(module))?.layer("act")?.op, .activation(a), module)
        }
        checkError(repr("Softplus(beta=2, threshold=10)"), contains: "beta=2.0, threshold=10.0: only Softplus(beta=1.0, threshold=20.0) is supported")
        checkError(repr("GELU(approximate='erf')"), contains: "approximate=erf: expected 'none' or 'tanh'")
        checkError(repr("Hardtanh(min_val=-1.0, max_val=1.0)"), contains: "module class Hardtanh is not supported")
    }

    func testForwardCallsAndTorchsummaryRows() throws {
        let net = "Net(\n  (fc1): Linear(in_features=4, out_features=3, bias=True)\n  (fc2): Linear(in_features=3, out_features=2, bias=True)\n)\n"
        for (call, a) in [("silu", Activation.silu), ("F.gelu", .gelu(tanh: false)), ("mish", .mish), ("hardswish", .hardSwish), ("softplus", .softplus)] {
            let r = checkOK(net + "```modelc\ninput: shape=4\nforward: fc1 \(call) fc2\n```\n")
            XCTAssertEqual(r?.ir.layers.first { $0.kind == "functional" }?.op, .activation(a), call)
        }
        checkError(net + "```modelc\ninput: shape=4\nforward: fc1 gelu(tanh) fc2\n```\n", contains: "gelu takes no arguments here")
        let table = """
        ```modelc
        input: shape=1x8x8
        ```
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv2d-1              [-1, 4, 6, 6]              40
                      SiLU-2              [-1, 4, 6, 6]               0
                    Linear-3                   [-1, 3]             435
                 Hardswish-4                   [-1, 3]               0
                      GELU-5                   [-1, 3]               0
                    Linear-6                   [-1, 2]               8
        ================================================================
        """
        let r = try XCTUnwrap(checkOK(table))
        XCTAssertEqual(r.layer("SiLU-2")?.op, .activation(.silu))
        XCTAssertEqual(r.layer("Hardswish-4")?.op, .activation(.hardSwish))
        XCTAssertEqual(r.layer("GELU-5")?.op, .activation(.gelu(tanh: false)))
        // The table has activation rows: no ReLU is assumed between them.
        XCTAssertFalse(r.ir.layers.contains { $0.op == .activation(.relu) }, "\(r.ir.layers.map(\.name))")
        XCTAssertFalse(r.ir.assumptions.contains { $0.contains("relu after every") }, "\(r.ir.assumptions)")
        // GELU's form is not printed: noted, and annotatable; a repr's printed form is not overridden.
        XCTAssertEqual(r.layer("GELU-5")?.notes, ["approximate not printed: 'none' (PyTorch default; annotate `layer GELU-5: activation=gelu_tanh` for approximate='tanh')"])
        let tanh = checkOK(table + "\n```modelc\nlayer GELU-5: activation=gelu_tanh\n```\n")
        XCTAssertEqual(tanh?.layer("GELU-5")?.op, .activation(.gelu(tanh: true)))
        XCTAssertEqual(tanh?.layer("GELU-5")?.notes, ["approximate not printed: 'tanh' (annotated)"])
        checkError(table + "\n```modelc\nlayer GELU-5: activation=silu\n```\n", contains: "activation=silu: a GELU takes activation=gelu or activation=gelu_tanh")
        checkError(repr("GELU(approximate='none')") + "```modelc\nlayer act: activation=gelu_tanh\n```\n",
                   contains: "layer 'act' (GELU): the repr prints approximate='none'; the annotation says gelu(tanh)")
    }

    func testKerasConfigNames() throws {
        func act(_ name: String, keras3: Bool) throws -> Activation {
            try KerasConfigLayers.activation(JNode(value: .string(name), path: "activation", file: "t.keras"), keras3: keras3)
        }
        XCTAssertEqual(try act("swish", keras3: false), .silu)
        XCTAssertEqual(try act("silu", keras3: true), .silu)
        XCTAssertEqual(try act("gelu", keras3: true), .gelu(tanh: false))
        XCTAssertEqual(try act("hard_sigmoid", keras3: false), .hardSigmoid(slope: 0.2, offset: 0.5))
        XCTAssertEqual(try act("hard_sigmoid", keras3: true), .hardSigmoid(slope: Self.third, offset: 0.5))
        XCTAssertEqual(try act("hard_silu", keras3: true), .hardSwish)
        XCTAssertEqual(try act("mish", keras3: true), .mish)
        // A Keras 3 file (make_keras_files.py): hard_silu, elu and gelu in Conv2D configs.
        let file = try Frontend.check(path: Fixtures.path("keras_files/gc_conv_wide.keras"))
        XCTAssertEqual(file.ir.layers.compactMap { l -> Activation? in if case .conv2d(let a) = l.op { return a.activation }; return nil },
                       [.hardSwish, .elu(alpha: 1), .gelu(tanh: false)])
        // Which Keras wrote a config: the file's record (.h5 root attribute, .keras metadata.json),
        // else the config's own keras_version (Keras 2's to_json), else Keras 3's "module" keys.
        func slope(_ json: String, version: String?) throws -> Activation? {
            try KerasConfig.check(json: Array(json.utf8), file: "m.json", container: nil, kerasVersion: version).ir.layers.last?.foldedActivation
        }
        let dense = "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_1\", \"units\": 3, \"use_bias\": true, \"activation\": \"hard_sigmoid\"}}"
        let input = "{\"class_name\": \"InputLayer\", \"config\": {\"name\": \"input_1\", \"batch_input_shape\": [null, 4]}}"
        let bare = "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": [\(input), \(dense)]}"
        let keras2 = Activation.hardSigmoid(slope: 0.2, offset: 0.5), keras3 = Activation.hardSigmoid(slope: Self.third, offset: 0.5)
        XCTAssertEqual(try slope(bare + "}", version: nil), keras2)
        XCTAssertEqual(try slope(bare + "}", version: "3.15.1"), keras3, "a Keras 3 .h5: no module keys, version 3")
        XCTAssertEqual(try slope(bare + ", \"module\": \"keras\"}", version: "2.15.0"), keras2, "tf.keras 2.15 .keras: module keys, version 2")
        XCTAssertEqual(try slope(bare + ", \"keras_version\": \"3.1.0\"}", version: nil), keras3)
        XCTAssertEqual(try slope(bare + ", \"module\": \"keras\"}", version: nil), keras3)
        XCTAssertThrowsError(try act("glu", keras3: true)) { XCTAssertTrue("\($0)".contains("activation 'glu' is not supported (supported: linear, relu"), "\($0)") }
    }

    /// A table prints no activations: `activation=hard_sigmoid` means the table's Keras version's.
    func testKerasTableAnnotations() throws {
        let rows = [("input_1", "InputLayer", "4", 0), ("dense_1", "Dense", "3", 15), ("activation_1", "Activation", "3", 0), ("dense_2", "Dense", "2", 8)]
        let note = "\n```modelc\nlayer dense_1: activation=swish\nlayer activation_1: activation=hard_sigmoid\nlayer dense_2: activation=linear\n```\n"
        let two = try XCTUnwrap(checkOK(InferenceTests.table(rows) + note))
        XCTAssertEqual(two.layer("dense_1")?.op, .dense(units: 3, useBias: true, activation: .silu))
        XCTAssertEqual(two.layer("activation_1")?.op, .activation(.hardSigmoid(slope: 0.2, offset: 0.5)))
        XCTAssertTrue(two.ir.assumptions.contains { $0.contains("activation_1: hard_sigmoid is Keras 2's clip(0.2 x + 0.5, 0, 1)") }, "\(two.ir.assumptions)")
        let keras3 = """
        Model: "sequential"
        ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
        ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
        │ dense_1 (Dense)                 │ (None, 3)              │            15 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ activation_1 (Activation)       │ (None, 3)              │             0 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ dense_2 (Dense)                 │ (None, 2)              │             8 │
        └─────────────────────────────────┴────────────────────────┴───────────────┘
         Total params: 23 (92.00 B)
        ```modelc
        input: shape=4
        ```
        """
        let three = try XCTUnwrap(checkOK(keras3 + note))
        XCTAssertEqual(three.layer("activation_1")?.op, .activation(.hardSigmoid(slope: Self.third, offset: 0.5)))
        XCTAssertFalse(three.ir.assumptions.contains { $0.contains("hard_sigmoid") }, "\(three.ir.assumptions)")
        checkError(InferenceTests.table(rows) + "\n```modelc\nlayer activation_1: activation=swishy\n```\n",
                   contains: "activation=swishy: expected one of linear, relu, relu6, leaky_relu, sigmoid, tanh, softmax, elu, silu (swish), gelu")
    }

    /// The operators, and the patterns: one node each, noted; a near miss is left as it was.
    func testONNXOperatorsAndPatterns() throws {
        func ops(_ nodes: [[UInt8]], _ inits: [[UInt8]] = [], opset: Int = 18) throws -> [Op] {
            try Frontend.checkONNX(bytes: PB.model(nodes: nodes, initializers: inits, input: [1, 4], opset: opset), path: "t.onnx").ir.layers.dropFirst().map(\.op)
        }
        XCTAssertEqual(try ops([PB.node("HardSigmoid", ["x"], ["y"])]), [.activation(.hardSigmoid(slope: 0.2, offset: 0.5))])
        XCTAssertEqual(try ops([PB.node("Gelu", ["x"], ["y"], attrs: [PB.attr("approximate", string: "tanh")])], opset: 20), [.activation(.gelu(tanh: true))])
        XCTAssertThrowsError(try ops([PB.node("Selu", ["x"], ["y"], attrs: [PB.attr("alpha", float: 2)])])) {
            XCTAssertTrue("\($0)".contains("only SELU's standard constants"), "\($0)")
        }
        XCTAssertThrowsError(try ops([PB.node("Swish", ["x"], ["y"], attrs: [PB.attr("alpha", float: 1.5)])])) {
            XCTAssertTrue("\($0)".contains("alpha 1.5: only Swish with alpha 1 (SiLU) is supported"), "\($0)")
        }
        XCTAssertThrowsError(try ops([PB.node("Gelu", ["x"], ["y"], attrs: [PB.attr("approximate", string: "erf")])], opset: 20)) {
            XCTAssertTrue("\($0)".contains("approximate 'erf': expected 'none' or 'tanh'"), "\($0)")
        }
        XCTAssertThrowsError(try ops([PB.node("HardSigmoid", ["x"], ["y"], attrs: [PB.attr("alpha", float: -1)])])) {
            XCTAssertTrue("\($0)".contains("alpha -1.0, beta 0.5: expected alpha > 0"), "\($0)")
        }
        // A merge of a [N, C, H, W] tensor and a [N, C] one: ONNX aligns them at W, the IR at C: refused.
        let ranks = PB.model(nodes: [PB.node("GlobalAveragePool", ["x"], ["p"]), PB.node("Flatten", ["p"], ["f"]),
                                     PB.node("Mul", ["x", "f"], ["y"])], initializers: [], input: [1, 4, 2, 4])
        XCTAssertThrowsError(try Frontend.checkONNX(bytes: ranks, path: "t.onnx")) {
            XCTAssertTrue("\($0)".contains("inputs of different ranks"), "\($0)")
            XCTAssertTrue("\($0)".contains("ONNX broadcasts them from the last NCHW axis; not supported"), "\($0)")
        }
        // SiLU as torch.onnx writes it, then a Softsign.
        let silu = [PB.node("Sigmoid", ["x"], ["s"]), PB.node("Mul", ["x", "s"], ["m"]), PB.node("Abs", ["m"], ["a"]),
                    PB.node("Add", ["a", "one"], ["d"]), PB.node("Div", ["m", "d"], ["y"])]
        XCTAssertEqual(try ops(silu, [PB.tensor("one", [], [1])]), [.activation(.silu), .activation(.softsign)])
        // GELU, the half taken first (Mul(Mul(x, 0.5), 1 + erf(x / sqrt 2))).
        let gelu = [PB.node("Mul", ["x", "half"], ["h"]), PB.node("Div", ["x", "r2"], ["q"]), PB.node("Erf", ["q"], ["e"]),
                    PB.node("Add", ["one", "e"], ["a"]), PB.node("Mul", ["h", "a"], ["y"])]
        let consts = [PB.tensor("half", [], [0.5]), PB.tensor("r2", [], [Float(2).squareRoot()]), PB.tensor("one", [], [1])]
        XCTAssertEqual(try ops(gelu, consts), [.activation(.gelu(tanh: false))])
        // 3^x is no cube: Pow(3, x) starts no GELU (and is refused).
        let pow = [PB.node("Pow", ["three", "x"], ["c"]), PB.node("Mul", ["c", "k"], ["ck"]), PB.node("Add", ["x", "ck"], ["i"]),
                   PB.node("Mul", ["i", "s"], ["si"]), PB.node("Tanh", ["si"], ["t"]), PB.node("Add", ["t", "one"], ["a"]),
                   PB.node("Mul", ["a", "half"], ["ha"]), PB.node("Mul", ["x", "ha"], ["y"])]
        let powConsts = [PB.tensor("three", [], [3]), PB.tensor("k", [], [0.044715]), PB.tensor("s", [], [(2 / Float.pi).squareRoot()]),
                         PB.tensor("one", [], [1]), PB.tensor("half", [], [0.5])]
        XCTAssertThrowsError(try ops(pow, powConsts)) { XCTAssertTrue("\($0)".contains("'/Pow' (Pow)"), "\($0)") }
        var cube = pow
        cube[0] = PB.node("Pow", ["x", "three"], ["c"])
        XCTAssertEqual(try ops(cube, powConsts), [.activation(.gelu(tanh: true))])
        // A near miss: the Sigmoid of another tensor is a branch, not a SiLU (a Mul merge of two paths).
        let branch = [PB.node("Relu", ["x"], ["r"]), PB.node("Sigmoid", ["r"], ["s"]), PB.node("Mul", ["x", "s"], ["y"])]
        XCTAssertEqual(try ops(branch).last, .merge(.multiply))
        // A wrong constant: 1 + erf(x / 2) is no GELU (the Erf is then refused).
        let off = [PB.tensor("half", [], [0.5]), PB.tensor("r2", [], [2]), PB.tensor("one", [], [1])]
        XCTAssertThrowsError(try ops(gelu, off)) { XCTAssertTrue("\($0)".contains("is not supported"), "\($0)") }
    }

    func testONNXFixturesReadTheirPatterns() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/onnx").path
        for (file, count) in [("smooth", 6), ("smooth_dynamo", 5)] {
            let r = try Frontend.check(path: "\(dir)/\(file).onnx")
            let acts = r.ir.layers.compactMap { l -> Activation? in if case .activation(let a) = l.op { return a }; return nil }
            XCTAssertEqual(acts, [.silu, .gelu(tanh: true), .mish, .hardSwish, .gelu(tanh: false), .hardSigmoid(slope: Self.third, offset: 0.5),
                                  .selu, .softplus, .softsign], file)
            XCTAssertEqual(r.ir.layers.filter { $0.notes.contains { $0.contains("nodes (") && $0.contains("read as one") } }.count, count, file)
        }
    }
}
