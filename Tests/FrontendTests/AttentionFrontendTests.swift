// MultiHeadAttention in the front ends: a table row (its count fixes num_heads x key_dim only,
// so `heads=` is annotated; the error says what the count gives), a Keras 3 config (inputs as
// args or by name, use_causal_mask from the call, masks and other axes refused) and a Keras 2
// config (value= and key= in the first input's kwargs).

import XCTest
import ModelcCore
import ModelcFuzz

final class AttentionFrontendTests: XCTestCase {
    static let table = """
    Model: "encoder"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to               ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
    │ input (InputLayer)            │ (None, 10, 16)            │               0 │ -                          │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ multi_head_attention          │ (None, 10, 16)            │           1,088 │ input[0][0], input[0][0]   │
    │ (MultiHeadAttention)          │                           │                 │                            │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ add (Add)                     │ (None, 10, 16)            │               0 │ input[0][0],               │
    │                               │                           │                 │ multi_head_attention[0][0] │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ global_average_pooling1d      │ (None, 16)                │               0 │ add[0][0]                  │
    │ (GlobalAveragePooling1D)      │                           │                 │                            │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ dense (Dense)                 │ (None, 4)                 │              68 │ global_average_pooling1d[… │
    └───────────────────────────────┴───────────────────────────┴─────────────────┴────────────────────────────┘
     Total params: 1,156 (4.52 KB)
     Trainable params: 1,156 (4.52 KB)
     Non-trainable params: 0 (0.00 B)
    """

    func annotated(_ lines: String...) -> String { Self.table + "\n```modelc\n" + lines.joined(separator: "\n") + "\n```\n" }

    func testTableNeedsHeadsAndSaysWhatTheCountGives() throws {
        // 1,088 = 4 * H*K * 16 + 3 * H*K + 16 with H*K = 16
        checkError(Self.table, contains: "its 1,088 params give num_heads x key_dim = 16; annotate `layer multi_head_attention: heads=H key_dim=K` with H x K = 16 (e.g. heads=8 key_dim=2)")
        for (a, heads, key) in [("heads=4", 4, 4), ("heads=2 key_dim=8", 2, 8), ("num_heads=16", 16, 1)] {
            let r = try Frontend.check(text: annotated("layer multi_head_attention: \(a)"), path: "t.md")
            XCTAssertTrue(r.ok, a)
            guard case .multiHeadAttention(let m)? = r.ir.layers.first(where: { $0.name == "multi_head_attention" })?.op else { return XCTFail(a) }
            XCTAssertEqual([m.heads, m.keyDim, m.valueDim, m.outputDim], [heads, key, key, 16], a)
            XCTAssertEqual([m.keyFeatures, m.valueFeatures], [16, 16])
            XCTAssertEqual(r.ir.layers.first(where: { $0.name == "multi_head_attention" })?.producers, [0, 0])
            XCTAssertTrue(r.text().contains("MultiHeadAttention dropout 0, no causal mask"), "the unprinted defaults are said")
        }
        let causal = try Frontend.check(text: annotated("layer multi_head_attention: heads=4 rate=0.1 causal=true"), path: "t.md")
        guard case .multiHeadAttention(let m) = causal.ir.layers[1].op else { return XCTFail() }
        XCTAssertEqual(m.dropout, 0.1)
        XCTAssertTrue(m.causal)
    }

    /// 16 heads over 4,096 steps would keep 2^28 probabilities per image.
    func testAttentionBuffersAreBoundedByTheResourceLimits() {
        let long = annotated("layer multi_head_attention: heads=16").replacingOccurrences(of: "(None, 10, 16)  ", with: "(None, 4096, 16)")
        checkError(long, contains: "layer 'multi_head_attention': attention of 16 heads (key_dim 1, value_dim 1) over 4096 x 4096 steps keeps 268,435,456 values per image in one of its buffers; modelc accepts at most 67,108,864 (2^26) per layer")
    }

    /// Cross-attention of 300,000 query steps over one source step: 16 x 300,000 x 1 unpadded
    /// probabilities would fit, but the runtime keeps each row padded to 16 floats.
    func testAttentionBoundCountsThePaddedRows() throws {
        let table = """
        Model: "cross"
        __________________________________________________________________________________________________
         Layer (type)                   Output Shape         Param #     Connected to
        ==================================================================================================
         q (InputLayer)                 [(None, 300000, 16)]  0          []

         s (InputLayer)                 [(None, 1, 16)]      0           []

         mha (MultiHeadAttention)       (None, 300000, 16)   1088        ['q[0][0]',
                                                                          's[0][0]']

         gap (GlobalAveragePooling1D)   (None, 16)           0           ['mha[0][0]']

         dense (Dense)                  (None, 4)            68          ['gap[0][0]']

        ==================================================================================================
        Total params: 1,156
        Trainable params: 1,156
        Non-trainable params: 0
        __________________________________________________________________________________________________

        ```modelc
        layer mha: heads=16
        ```
        """
        checkError(table, contains: "layer 'mha': attention of 16 heads (key_dim 1, value_dim 1) over 300000 x 1 steps keeps 76,800,000 values per image in one of its buffers")
        XCTAssertTrue(try Frontend.check(text: table.replacingOccurrences(of: "300000", with: "3000"), path: "t.md").ok)
    }

    /// Only a recurrent or Embedding layer's [T, D] and a lifted [1, T, D] are one shape; a
    /// merge's [C] and [1, C] broadcast and stay apart.
    func testLiftedSequenceShapesOnlyBetweenKeptLayers() {
        let dense = Layer(name: "d", kind: "Dense", op: .dense(units: 4, useBias: true, activation: .linear), inputShape: [1, 3], outputShape: [1, 4], line: 1)
        let add = Layer(name: "a", kind: "Add", op: .merge(.add), inputShape: [4], outputShape: [1, 4], line: 2)
        XCTAssertEqual(MergeVerifier.shape(of: dense, seenBy: add), [1, 4])
        let lstm = Layer(name: "l", kind: "LSTM", op: .recurrent(RecurrentAttrs(cell: .lstm, units: 4, returnSequences: true, biasRows: 1, resetAfter: false)),
                         inputShape: [5, 2], outputShape: [5, 4], line: 1)
        let lifted = Layer(name: "m", kind: "Add", op: .merge(.add), inputShape: [1, 5, 4], outputShape: [1, 5, 4], line: 2)
        XCTAssertEqual(MergeVerifier.shape(of: lstm, seenBy: lifted), [1, 5, 4])
    }

    func testTableAnnotationsThatDoNotFitAreErrors() {
        checkError(annotated("layer multi_head_attention: heads=3"), contains: "MultiHeadAttention with 3 heads, any key_dim on inputs of 16, 16 and 16 features with 16 outputs does not have 1,088 params")
        checkError(annotated("layer multi_head_attention: heads=2 key_dim=4"), contains: "with 2 heads, key_dim 4")
        checkError(annotated("layer multi_head_attention: heads=4", "layer dense: heads=2"), contains: "layer 'dense' (Dense) has no 'heads' setting")
        checkError(annotated("layer multi_head_attention: heads=0"), contains: "heads=0: expected an integer >= 1")
    }

    // MARK: - Keras configs

    func config() throws -> String { try Fixtures.text("keras_config/attention.config.json") }

    func checkConfig(_ text: String) throws -> CheckReport {
        try KerasConfig.check(bytes: Array(text.utf8), file: "k.json", zip: false)
    }

    func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try checkConfig(text), file: file, line: line) { e in
            XCTAssertTrue("\(e)".contains(expected), "'\(e)' lacks '\(expected)'", file: file, line: line)
        }
        XCTAssertFalse(KerasConfigFuzzEntry.run(Array(text.utf8)), file: file, line: line)
    }

    /// The fixture's config with mha_1's call (query conv1d, value dense, key ln) replaced by `node`.
    func withCall(_ node: String) throws -> String {
        let text = try config()
        let start = try XCTUnwrap(text.range(of: "\"name\": \"mha_1\", \"inbound_nodes\": [")).upperBound
        let end = try XCTUnwrap(text[start...].range(of: "\"kwargs\": {}}")).upperBound
        return String(text[..<start]) + node + String(text[end...])
    }

    static func tensor(_ layer: String, _ shape: String) -> String {
        "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, \(shape)], \"dtype\": \"float32\", \"keras_history\": [\"\(layer)\", 0, 0]}}"
    }

    func testKeras3CallsByNameAndRefusals() throws {
        let (q, v, k) = (Self.tensor("conv1d", "2, 6"), Self.tensor("dense", "5, 4"), Self.tensor("ln", "5, 6"))
        let reference = try checkConfig(config()).ir
        // every tensor by name, in another order: read as query, value, key
        let named = try checkConfig(withCall("{\"args\": [], \"kwargs\": {\"key\": \(k), \"value\": \(v), \"query\": \(q)}}")).ir
        XCTAssertEqual(named.layers.map(\.producers), reference.layers.map(\.producers))
        let mixed = try checkConfig(withCall("{\"args\": [\(q), \(v)], \"kwargs\": {\"key\": \(k)}}")).ir
        XCTAssertEqual(mixed.layers.map(\.producers), reference.layers.map(\.producers))
        assertError(try withCall("{\"args\": [\(q), \(v), \(k)], \"kwargs\": {\"attention_mask\": \(q)}}"),
                    "layer 'mha_1' (MultiHeadAttention) is called with attention_mask; masked attention is not supported")
        assertError(try withCall("{\"args\": [\(q), \(v), \(k)], \"kwargs\": {\"return_attention_scores\": true}}"),
                    "return_attention_scores=True (two outputs); not supported")
        assertError(try withCall("{\"args\": [\(q), \(v), \(k), \(k)], \"kwargs\": {}}"),
                    "layer 'mha_1' (MultiHeadAttention): called with 4 input tensors; modelc reads a query and a value (and a key)")
        let text = try config(), axes = try XCTUnwrap(text.range(of: "\"attention_axes\": [1]"))
        assertError(text.replacingCharacters(in: axes, with: "\"attention_axes\": [1, 2]"), "attention_axes: expected null or the steps axis (1)")
        assertError(try withCall("{\"args\": [\(q), \(v), \(q)], \"kwargs\": {}}"), "its value has 5 steps and its key 2")
        // config keys modelc cannot compute
        for (from, to, expected) in [("\"use_gate\": false", "\"use_gate\": true", "use_gate=true is not supported"),
                                     ("\"sliding_window\": null", "\"sliding_window\": 4", "expected null (a sliding window is not supported)"),
                                     ("\"output_shape\": [3]", "\"output_shape\": [3, 2]", "expected one size (an output of several axes is not supported)")] {
            let text = try config(), at = try XCTUnwrap(text.range(of: from), from)
            assertError(text.replacingCharacters(in: at, with: to), expected)
        }
    }

    func testKeras2NodesCarryValueAndKeyInKwargs() throws {
        let json = """
        {"class_name": "Functional", "config": {"name": "model", "layers": [
         {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 6], "dtype": "float32", "name": "input_1"}, "name": "input_1", "inbound_nodes": []},
         {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "units": 5, "activation": "tanh", "use_bias": true}, "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
         {"class_name": "MultiHeadAttention", "config": {"name": "multi_head_attention", "trainable": true, "dtype": "float32", "num_heads": 2, "key_dim": 3, "value_dim": 3, "dropout": 0.1, "use_bias": true, "output_shape": null, "attention_axes": [1]},
          "name": "multi_head_attention", "inbound_nodes": [[["input_1", 0, 0, {"value": ["dense", 0, 0], "key": ["input_1", 0, 0], "use_causal_mask": true}]]]},
         {"class_name": "GlobalAveragePooling1D", "config": {"name": "global_average_pooling1d", "trainable": true, "data_format": "channels_last"}, "name": "global_average_pooling1d", "inbound_nodes": [[["multi_head_attention", 0, 0, {}]]]},
         {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "units": 3, "activation": "softmax", "use_bias": true}, "name": "dense_1", "inbound_nodes": [[["global_average_pooling1d", 0, 0, {}]]]}],
         "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}, "keras_version": "2.13.1", "backend": "tensorflow"}
        """
        let ir = try checkConfig(json).ir
        let mha = try XCTUnwrap(ir.layers.first { $0.name == "multi_head_attention" })
        XCTAssertEqual(mha.producers, [0, 1, 0], "query input_1, value dense, key input_1")
        guard case .multiHeadAttention(let a) = mha.op else { return XCTFail("\(mha.op)") }
        XCTAssertEqual([a.heads, a.keyDim, a.valueFeatures, a.keyFeatures, a.outputDim], [2, 3, 5, 6, 6])
        XCTAssertTrue(a.causal)
        XCTAssertEqual(a.dropout, 0.1)
        // 2*3*(6+1) * 2 + 2*3*(5+1) + 6*6 + 6
        XCTAssertEqual(mha.paramCount, 84 + 36 + 42)
        assertError(json.replacingOccurrences(of: "\"use_causal_mask\": true", with: "\"attention_mask\": [\"input_1\", 0, 0]"),
                    "is called with attention_mask")
    }
}
