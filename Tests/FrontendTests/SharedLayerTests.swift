// A layer called more than once (shared weights, issue 17): the table forms tf.keras 2 and
// Keras 3 print (IR/SharedLayers.swift), the calls as IR layers that share the first call's
// weights (counted once, as the tables count them), the order of calls, and the errors.

import XCTest
@testable import ModelcCore

final class SharedLayerTests: XCTestCase {
    /// A tf.keras 2 functional row at the columns `print_row` uses (line length 98: 32, 53, 65).
    static func row(_ a: String, _ b: String = "", _ c: String = "", _ d: String = "") -> String {
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(1, n - s.count)) }
        return pad(a, 32) + pad(b, 21) + pad(c, 12) + d
    }

    static func tfKeras2(_ rows: [[String]], total: Int) -> String {
        var out = ["Model: \"model\"", String(repeating: "_", count: 98),
                   row("Layer (type)", "Output Shape", "Param #", "Connected to"), String(repeating: "=", count: 98)]
        for (i, r) in rows.enumerated() {
            out.append(row(r[0], r[1], r[2], r.count > 3 ? r[3] : ""))
            for more in r.dropFirst(4) { out.append(row("", "", "", more)) }
            out.append(String(repeating: i == rows.count - 1 ? "=" : "_", count: 98))
        }
        out += ["Total params: \(total)", "Trainable params: \(total)", "Non-trainable params: 0", String(repeating: "_", count: 98)]
        return out.joined(separator: "\n") + "\n"
    }

    /// x -> dense_a -> shared; x -> dense_b -> shared; Add; Dense. The shared row lists both
    /// calls' inputs, one per line, its shape is the one both give, its count is once.
    static let denseTable = tfKeras2([
        ["input_1 (InputLayer)", "[(None, 6)]", "0"],
        ["dense_a (Dense)", "(None, 4)", "28", "input_1[0][0]"],
        ["dense_b (Dense)", "(None, 4)", "28", "input_1[0][0]"],
        ["shared (Dense)", "(None, 3)", "15", "dense_a[0][0]", "dense_b[0][0]"],
        ["add (Add)", "(None, 3)", "0", "shared[0][0]", "shared[1][0]"],
        ["dense_out (Dense)", "(None, 2)", "8", "add[0][0]"],
    ], total: 79)

    func testTFKeras2SharedDense() throws {
        let r = try Frontend.check(text: Self.denseTable, path: "s.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        let ls = r.ir.layers
        XCTAssertEqual(ls.map(\.name), ["input_1", "dense_a", "dense_b", "shared", "shared[1]", "add", "dense_out"])
        XCTAssertEqual(ls.map(\.producers), [nil, [0], [0], [1], [2], [3, 4], [5]])
        XCTAssertEqual(ls.map(\.sharesWeightsWith), [nil, nil, nil, nil, 3, nil, nil])
        XCTAssertEqual(ls[4].op, ls[3].op)
        XCTAssertEqual(ls[4].outputShape, [3])
        XCTAssertEqual(ls[4].paramCount, 0)
        XCTAssertNil(ls[4].declaredParams)
        XCTAssertEqual(r.ir.totalParams, 79)
        XCTAssertTrue(ls[4].notes.contains { $0.contains("call 2 of 'shared'") }, "\(ls[4].notes)")
    }

    /// tf.keras 2 prints `multiple` when the calls' shapes differ. Keras lists a layer where its
    /// deepest call is: conv_s (call 1 reads conv_a, three layers from the output) comes above
    /// p0 and q0, which its call 0 reads; the calls are put in an order that computes.
    func testTFKeras2MultipleShapesAndCallsAboveTheirInputs() throws {
        let t = Self.tfKeras2([
            ["input_1 (InputLayer)", "[(None, 8, 8, 1)]", "0"],
            ["conv_a (Conv2D)", "(None, 6, 6, 2)", "20", "input_1[0][0]"],
            ["conv_s (Conv2D)", "multiple", "76", "q0[0][0]", "conv_a[0][0]"],
            ["p0 (Conv2D)", "(None, 8, 8, 2)", "20", "input_1[0][0]"],
            ["c (Activation)", "(None, 4, 4, 4)", "0", "conv_s[1][0]"],
            ["q0 (Activation)", "(None, 8, 8, 2)", "0", "p0[0][0]"],
            ["gap_1 (GlobalAveragePooling2D)", "(None, 4)", "0", "c[0][0]"],
            ["gap_0 (GlobalAveragePooling2D)", "(None, 4)", "0", "conv_s[0][0]"],
            ["add (Add)", "(None, 4)", "0", "gap_0[0][0]", "gap_1[0][0]"],
        ], total: 116)
        let text = t + "\n```modelc\nlayer p0: padding=same\n```\n"
        let r = try Frontend.check(text: text, path: "m.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        let ls = r.ir.layers
        XCTAssertEqual(ls.map(\.name), ["input_1", "conv_a", "p0", "q0", "conv_s", "conv_s[1]", "c", "gap_1", "gap_0", "add"])
        XCTAssertEqual(ls[4].inputShape, [8, 8, 2])
        XCTAssertEqual(ls[4].outputShape, [6, 6, 4])
        XCTAssertEqual(ls[5].inputShape, [6, 6, 2])
        XCTAssertEqual(ls[5].outputShape, [4, 4, 4])
        XCTAssertEqual(ls[5].sharesWeightsWith, 4)
        XCTAssertEqual(ls[5].producers, [1])
        XCTAssertEqual(ls[8].producers, [4])
    }

    /// The Keras 3 table of the numerics fixture (printed by Keras 3.15): one row per layer,
    /// the calls' inputs in one cell, the last call's shape, conv_s's call 1 needs the undilated
    /// kernel that the printed shape alone would not give call 0.
    func testKeras3FixtureTable() throws {
        let r = try Frontend.check(path: Fixtures.path("numerics/graph_shared/model.md"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        let ls = r.ir.layers
        let conv = try XCTUnwrap(ls.firstIndex { $0.name == "conv_s" })
        let conv1 = try XCTUnwrap(ls.firstIndex { $0.name == "conv_s[1]" })
        XCTAssertEqual(ls[conv1].sharesWeightsWith, conv)
        XCTAssertEqual(ls[conv].outputShape, [4, 4])
        XCTAssertEqual(ls[conv1].outputShape, [3, 4])
        guard case .conv2d(let a) = ls[conv].op else { return XCTFail("\(ls[conv].op)") }
        XCTAssertEqual([a.kernelW, a.dilationW, a.strideW], [2, 1, 1])
        let dense = try XCTUnwrap(ls.firstIndex { $0.name == "dense_s" })
        XCTAssertEqual(ls.first { $0.name == "dense_s[1]" }?.sharesWeightsWith, dense)
        XCTAssertEqual(r.ir.totalParams, r.ir.declared.total)
    }

    /// Keras 3.15's table of the same graph (its own row order): conv_s's row prints its last
    /// call's shape, (4, 4, 4), which a 3x3 stride-2 'same' kernel would also give call 0 on
    /// (8, 8, 2); call 1 on (6, 6, 2) then refutes that, and call 0 is the 3x3 stride-1 'valid' one.
    func testKeras3PrintsTheLastCallsShape() throws {
        let t = """
        Model: "functional"
        ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
        ┃ Layer (type)                      ┃ Output Shape                 ┃           Param # ┃ Connected to                  ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
        │ input_1 (InputLayer)              │ (None, 8, 8, 1)              │                 0 │ -                             │
        ├───────────────────────────────────┼──────────────────────────────┼───────────────────┼───────────────────────────────┤
        │ p0 (Conv2D)                       │ (None, 8, 8, 2)              │                20 │ input_1[0][0]                 │
        ├───────────────────────────────────┼──────────────────────────────┼───────────────────┼───────────────────────────────┤
        │ q0 (Activation)                   │ (None, 8, 8, 2)              │                 0 │ p0[0][0]                      │
        ├───────────────────────────────────┼──────────────────────────────┼───────────────────┼───────────────────────────────┤
        │ conv_a (Conv2D)                   │ (None, 6, 6, 2)              │                20 │ input_1[0][0]                 │
        ├───────────────────────────────────┼──────────────────────────────┼───────────────────┼───────────────────────────────┤
        │ conv_s (Conv2D)                   │ (None, 4, 4, 4)              │                76 │ q0[0][0], conv_a[0][0]        │
        ├───────────────────────────────────┼──────────────────────────────┼───────────────────┼───────────────────────────────┤
        │ c (Activation)                    │ (None, 4, 4, 4)              │                 0 │ conv_s[1][0]                  │
        ├───────────────────────────────────┼──────────────────────────────┼───────────────────┼───────────────────────────────┤
        │ gap_0 (GlobalAveragePooling2D)    │ (None, 4)                    │                 0 │ conv_s[0][0]                  │
        ├───────────────────────────────────┼──────────────────────────────┼───────────────────┼───────────────────────────────┤
        │ gap_1 (GlobalAveragePooling2D)    │ (None, 4)                    │                 0 │ c[0][0]                       │
        ├───────────────────────────────────┼──────────────────────────────┼───────────────────┼───────────────────────────────┤
        │ add (Add)                         │ (None, 4)                    │                 0 │ gap_0[0][0], gap_1[0][0]      │
        └───────────────────────────────────┴──────────────────────────────┴───────────────────┴───────────────────────────────┘
         Total params: 116 (464.00 B)
         Trainable params: 116 (464.00 B)
         Non-trainable params: 0 (0.00 B)
        """
        let r = try Frontend.check(text: t, path: "k3.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        let ls = r.ir.layers
        XCTAssertEqual(ls.map(\.name), ["input_1", "p0", "q0", "conv_a", "conv_s", "conv_s[1]", "c", "gap_0", "gap_1", "add"])
        XCTAssertEqual(ls[4].outputShape, [6, 6, 4])
        XCTAssertEqual(ls[5].outputShape, [4, 4, 4])
        guard case .conv2d(let a) = ls[4].op else { return XCTFail("\(ls[4].op)") }
        XCTAssertEqual([a.kernelH, a.strideH], [3, 1])
        XCTAssertEqual(a.padding, .valid)
        XCTAssertEqual(ls[5].sharesWeightsWith, 4)
        XCTAssertEqual(ls[7].producers, [4])
    }

    /// The fixture model's own Keras 3 config (model.to_json(): conv_s and dense_s with two
    /// inbound nodes each) gives the network its table gives.
    func testKeras3ConfigOfTheFixture() throws {
        let config = try KerasConfig.model(fromJSON: try Fixtures.text("keras_config/graph_shared.config.json"), file: "graph_shared.config.json")
        XCTAssertTrue(config.ok, "\(config.problems)")
        let table = try Frontend.check(path: Fixtures.path("numerics/graph_shared/model.md"))
        XCTAssertEqual(config.ir.layers.map(\.name), table.ir.layers.map(\.name))
        XCTAssertEqual(config.ir.layers.map(\.op), table.ir.layers.map(\.op))
        XCTAssertEqual(config.ir.layers.map(\.outputShape), table.ir.layers.map(\.outputShape))
        XCTAssertEqual(config.ir.layers.map(\.sharesWeightsWith), table.ir.layers.map(\.sharesWeightsWith))
        XCTAssertEqual(config.ir.layers.indices.map { config.ir.layers.producers(of: $0) }, table.ir.layers.indices.map { table.ir.layers.producers(of: $0) })
        XCTAssertEqual(config.ir.totalParams, 87)
    }

    func testErrors() throws {
        let t = Self.denseTable
        checkError(t.replacingOccurrences(of: "shared[1][0]", with: "shared[2][0]"),
                   contains: "s.md:14: error: layer 'add' reads shared[2], call 3 of 'shared', but the row of 'shared' lists 2 calls in its 'Connected to' column", path: "s.md")
        checkError(t.replacingOccurrences(of: "shared[1][0]", with: "dense_a[1][0]"),
                   contains: "layer 'add' reads dense_a[1], call 2 of 'dense_a', but the row of 'dense_a' lists 1 call", path: "s.md")
        checkError(t.replacingOccurrences(of: "add[0][0]", with: "add[1][0]"),
                   contains: "a merge layer used more than once is not supported", path: "s.md")
        // Keras 3 cuts a long name in a narrow column: the node index is lost with it.
        let fixture = try Fixtures.text("numerics/graph_shared/model.md")
        XCTAssertTrue(fixture.contains("│ conv_b[0][0]      │"))
        checkError(fixture.replacingOccurrences(of: "│ conv_b[0][0]      │", with: "│ conv_…            │"),
                   contains: "layer 'conv_s' reads 'conv_…', cut short by the table, in a model whose layers are called more than once; print the summary wider", path: "f.md")
        // The second call's input does not fit the weights (5 features, not 4).
        let wide = t.replacingOccurrences(of: "dense_b (Dense)                 (None, 4)            28",
                                          with: "dense_b (Dense)                 (None, 5)            35")
            .replacingOccurrences(of: "Total params: 79", with: "Total params: 86")
        checkError(wide, contains: "call 2 of layer 'shared' (Dense, shared weights) on (5): its weights were made for the input (4) of call 1", path: "s.md")
        // A shape the second call cannot give.
        let shape = Self.tfKeras2([
            ["input_1 (InputLayer)", "[(None, 6)]", "0"],
            ["dense_a (Dense)", "(None, 4)", "28", "input_1[0][0]"],
            ["shared (Dense)", "(None, 4)", "20", "dense_a[0][0]", "input_1[0][0]"],
            ["add (Add)", "(None, 4)", "0", "shared[0][0]", "shared[1][0]"],
        ], total: 48)
        checkError(shape, contains: "call 2 of layer 'shared' (Dense, shared weights) on (6): its weights were made for the input (4) of call 1", path: "s.md")
    }

    /// A Keras 3 config whose Dense is called twice: the calls' nodes become layers that share
    /// call 0's weights; references to call 1 (in nodes and in output_layers) read that layer.
    func testKeras3ConfigSharedDense() throws {
        func tensor(_ name: String, _ node: Int) -> String {
            "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 4], \"dtype\": \"float32\", \"keras_history\": [\"\(name)\", \(node), 0]}}"
        }
        func dense(_ name: String, _ units: Int, _ nodes: [String]) -> String {
            "{\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"config\": {\"name\": \"\(name)\", \"trainable\": true, \"units\": \(units), \"activation\": \"tanh\", \"use_bias\": true}, "
                + "\"inbound_nodes\": [\(nodes.map { "{\"args\": [\($0)], \"kwargs\": {}}" }.joined(separator: ", "))]}"
        }
        let json = """
        {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "m", "layers": [
          {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 6], "dtype": "float32", "name": "input_layer"}, "inbound_nodes": []},
          \(dense("dense_a", 4, [tensor("input_layer", 0)])),
          \(dense("dense_b", 4, [tensor("input_layer", 0)])),
          \(dense("shared", 3, [tensor("dense_a", 0), tensor("dense_b", 0)])),
          {"module": "keras.layers", "class_name": "Add", "config": {"name": "add", "trainable": true}, "inbound_nodes": [{"args": [[\(tensor("shared", 0)), \(tensor("shared", 1))]], "kwargs": {}}]}],
          "input_layers": [["input_layer", 0, 0]], "output_layers": [["add", 0, 0]]}}
        """
        let r = try KerasConfig.model(fromJSON: json, file: "s.json")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["input_layer", "dense_a", "dense_b", "shared", "shared[1]", "add"])
        XCTAssertEqual(r.ir.layers.map(\.sharesWeightsWith), [nil, nil, nil, nil, 3, nil])
        XCTAssertEqual(r.ir.layers[5].producers, [3, 4])
        XCTAssertEqual(r.ir.totalParams, 28 + 28 + 15)
        // A shared output: output_layers names call 1.
        let head = json.replacingOccurrences(of: "\"output_layers\": [[\"add\", 0, 0]]", with: "\"output_layers\": [[\"add\", 0, 0], [\"shared\", 1, 0]]")
            .replacingOccurrences(of: "\(tensor("shared", 1))]]", with: "\(tensor("shared", 0))]]")
        XCTAssertEqual(try KerasConfig.model(fromJSON: head, file: "s.json").ir.heads?.map(\.name).sorted(), ["add", "shared[1]"])
        // Keras 2's list nodes: [[name, node, tensor, kwargs], ...] per call.
        let keras2 = """
        {"class_name": "Model", "config": {"name": "m", "layers": [
          {"class_name": "InputLayer", "name": "input_1", "config": {"batch_input_shape": [null, 6], "dtype": "float32", "name": "input_1"}, "inbound_nodes": []},
          {"class_name": "Dense", "name": "dense_a", "config": {"name": "dense_a", "units": 4, "activation": "tanh", "use_bias": true}, "inbound_nodes": [[["input_1", 0, 0, {}]]]},
          {"class_name": "Dense", "name": "shared", "config": {"name": "shared", "units": 4, "activation": "tanh", "use_bias": true}, "inbound_nodes": [[["dense_a", 0, 0, {}]], [["shared", 0, 0, {}]]]},
          {"class_name": "Dense", "name": "out", "config": {"name": "out", "units": 2, "activation": "linear", "use_bias": true}, "inbound_nodes": [[["shared", 1, 0, {}]]]}],
          "input_layers": [["input_1", 0, 0]], "output_layers": [["out", 0, 0]]}}
        """
        let r2 = try KerasConfig.model(fromJSON: keras2, file: "s2.json")
        XCTAssertTrue(r2.ok, "\(r2.problems)")
        XCTAssertEqual(r2.ir.layers.map(\.name), ["input_1", "dense_a", "shared", "shared[1]", "out"])
        XCTAssertEqual(r2.ir.layers.map(\.producers), [nil, nil, nil, nil, nil])
        XCTAssertEqual(r2.ir.layers[3].sharesWeightsWith, 2)
        XCTAssertEqual(r2.ir.totalParams, 28 + 20 + 10)
        XCTAssertThrowsError(try KerasConfig.model(fromJSON: keras2.replacingOccurrences(of: "[[\"shared\", 1, 0, {}]]", with: "[[\"shared\", 2, 0, {}]]"), file: "s2.json")) { e in
            XCTAssertTrue("\(e)".contains("layer 'out' reads call 3 of 'shared', which is called 2 times"), "\(e)")
        }
    }
}
