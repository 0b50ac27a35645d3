// Keras models whose math a file states but modelc would not compute as stated are errors or
// named assumptions, never a silently different network (found by a read-only review of the
// Keras importers): `training=` on a layer call, regularizers and constraints, a leading
// adapted Normalization, odd ZeroPadding splits, what classic tables cannot show about recurrent
// layers, and RMSprop with momentum.
import XCTest
@testable import ModelcCore

final class KerasImportSemanticsTests: XCTestCase {
    /// A Keras 3 functional config: input (16) -> Dropout (called with `kwargs`) -> Dense softmax.
    func keras3(dropoutKwargs: String) -> [UInt8] {
        func tensor(_ from: String) -> String {
            "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 16], \"dtype\": \"float32\", \"keras_history\": [\"\(from)\", 0, 0]}}"
        }
        return Array("""
        {"module": "keras", "class_name": "Functional", "config": {"name": "f", "layers": [
          {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 16], "name": "in"}, "name": "in", "inbound_nodes": []},
          {"module": "keras.layers", "class_name": "Dropout", "config": {"name": "drop", "rate": 0.5}, "name": "drop",
           "inbound_nodes": [{"args": [\(tensor("in"))], "kwargs": \(dropoutKwargs)}]},
          {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "softmax", "use_bias": true}, "name": "dense",
           "inbound_nodes": [{"args": [\(tensor("drop"))], "kwargs": {}}]}],
         "input_layers": [["in", 0, 0]], "output_layers": [["dense", 0, 0]]}}
        """.utf8)
    }

    /// A Keras 2 Sequential config: Dense 8 relu -> Dense 3 softmax, with each one's extra keys.
    func keras2(_ first: String, _ second: String = "") -> [UInt8] {
        Array("""
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
         {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 16]}},
         {"class_name": "Dense", "config": {"name": "dense", "units": 8, "activation": "relu", "use_bias": true\(first)}},
         {"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "softmax", "use_bias": true\(second)}}]}}
        """.utf8)
    }

    func error(_ bytes: [UInt8]) -> String {
        do { _ = try KerasConfig.check(bytes: bytes, file: "k.json", zip: false) } catch { return "\(error)" }
        return "no error"
    }

    func testTrainingArgumentsOfCallsAreRefused() throws {
        XCTAssertTrue(error(keras3(dropoutKwargs: "{\"training\": true}")).contains(
            "config.layers[1].inbound_nodes[0].kwargs.training: layer 'drop' (Dropout) is called with training=True, which fixes its mode"), error(keras3(dropoutKwargs: "{\"training\": true}")))
        // Keras 3 writes training=false on functional Dropout calls that never passed it
        XCTAssertEqual(error(keras3(dropoutKwargs: "{\"training\": false}")), "no error")
        XCTAssertEqual(error(keras3(dropoutKwargs: "{}")), "no error")
        // Keras 2 writes only what the call was given
        let k2 = Array("""
        {"class_name": "Functional", "config": {"name": "f", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 16], "name": "in"}, "name": "in", "inbound_nodes": []},
          {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true}, "name": "bn", "inbound_nodes": [[["in", 0, 0, {"training": false}]]]},
          {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "softmax", "use_bias": true}, "name": "dense", "inbound_nodes": [[["bn", 0, 0, {}]]]}],
          "input_layers": [["in", 0, 0]], "output_layers": [["dense", 0, 0]]}}
        """.utf8)
        XCTAssertTrue(error(k2).contains("layer 'bn' (BatchNormalization) is called with training=False, which fixes its mode (no dropout and moving statistics also in training)"), error(k2))
        let v1 = Array(String(decoding: k2, as: UTF8.self).replacingOccurrences(of: "\"BatchNormalization\"", with: "\"BatchNormalizationV1\"").utf8)
        XCTAssertTrue(error(v1).contains("layer 'bn' (BatchNormalization) is called with training=False"), error(v1))
        // a layer that computes the same in both modes may be called so
        let dense = Array(String(decoding: k2, as: UTF8.self).replacingOccurrences(of: "[[\"in\", 0, 0, {\"training\": false}]]", with: "[[\"in\", 0, 0, {}]]")
            .replacingOccurrences(of: "[[\"bn\", 0, 0, {}]]", with: "[[\"bn\", 0, 0, {\"training\": false}]]").utf8)
        XCTAssertEqual(error(dense), "no error")
    }

    func testGhostBatchNormIsRefused() {
        let bn = Array("""
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
         {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 16]}},
         {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "momentum": 0.99, "epsilon": 0.001,
          "center": true, "scale": true, "virtual_batch_size": 8}},
         {"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "softmax", "use_bias": true}}]}}
        """.utf8)
        XCTAssertTrue(error(bn).contains("virtual_batch_size: ghost batch normalization (virtual_batch_size) is not supported"), error(bn))
        XCTAssertEqual(error(Array(String(decoding: bn, as: UTF8.self).replacingOccurrences(of: "8}}", with: "null}}").utf8)), "no error")
    }

    func testRegularizersAreWeightDecayOrNamed() throws {
        let l2 = ", \"kernel_regularizer\": {\"class_name\": \"L2\", \"config\": {\"l2\": 0.01}}"
        let uniform = try KerasConfig.check(bytes: keras2(l2, l2), file: "k.json", zip: false)
        XCTAssertEqual(uniform.ir.training.weightDecay, 0.01)
        XCTAssertTrue(uniform.ir.assumptions.contains("train: weight_decay=0.01 (the L2 kernel_regularizer of every layer with a kernel)"), "\(uniform.ir.assumptions)")
        XCTAssertFalse(uniform.ir.assumptions.contains { $0.hasSuffix("(defaults; annotate `train:`)") && $0.contains("weight_decay") })
        // on one layer only, or with a constraint: not applied, and said
        for (first, second) in [(l2, ""), (l2, l2 + ", \"kernel_constraint\": {\"class_name\": \"MaxNorm\", \"config\": {\"max_value\": 3}}")] {
            let r = try KerasConfig.check(bytes: keras2(first, second), file: "k.json", zip: false)
            XCTAssertEqual(r.ir.training.weightDecay, 0)
            XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("regularizers and constraints not applied in training: dense L2(0.01)") }, "\(r.ir.assumptions)")
        }
    }

    /// A leading adapted Normalization may have been adapted on raw or on scaled images: the
    /// scale stays 1/255 (a fresh run adapts it to those inputs) and is said so.
    /// A SeparableConv2D has two kernels: an L2 on its depthwise kernel alone is not one factor
    /// on every kernel (the weight decay would also decay the pointwise kernel).
    func testRegularizersAreMatchedPerKernel() throws {
        func model(_ sep: String) -> [UInt8] {
            let l2 = "{\"class_name\": \"L2\", \"config\": {\"l2\": 0.01}}"
            return Array("""
            {"class_name": "Sequential", "config": {"name": "s", "layers": [
             {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 8, 8, 3]}},
             {"class_name": "SeparableConv2D", "config": {"name": "sep", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1],
              "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "depth_multiplier": 1, "activation": "relu",
              "use_bias": true\(sep.replacingOccurrences(of: "L2", with: l2))}},
             {"class_name": "Flatten", "config": {"name": "flatten", "data_format": "channels_last"}},
             {"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "softmax", "use_bias": true, "kernel_regularizer": \(l2)}}]}}
            """.utf8)
        }
        let both = try KerasConfig.check(bytes: model(", \"depthwise_regularizer\": L2, \"pointwise_regularizer\": L2"), file: "k.json", zip: false)
        XCTAssertEqual(both.ir.training.weightDecay, 0.01)
        let one = try KerasConfig.check(bytes: model(", \"depthwise_regularizer\": L2"), file: "k.json", zip: false)
        XCTAssertEqual(one.ir.training.weightDecay, 0)
        XCTAssertTrue(one.ir.assumptions.contains { $0.hasPrefix("regularizers and constraints not applied in training: sep L2(0.01), out L2(0.01)") },
                      "\(one.ir.assumptions)")
    }

    func testALeadingNormalizationSaysWhichPixelsItAssumes() throws {
        let t = """
        Model: "sequential"
        ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
        ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
        │ normalization (Normalization)   │ (None, 28, 28, 1)      │             3 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ flatten (Flatten)               │ (None, 784)            │             0 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ dense (Dense)                   │ (None, 10)             │         7,850 │
        └─────────────────────────────────┴────────────────────────┴───────────────┘
        """
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertEqual(r.ir.inputScale, 1.0 / 255, accuracy: 1e-9)
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("input: scale=1/255 offset=0 (pixels 0..255 mapped to 0..1) before the model's adapted Normalization: training from scratch adapts it to these inputs; for statistics loaded from a file, annotate `input: scale=1`") },
                      "\(r.ir.assumptions)")
        let annotated = try XCTUnwrap(checkOK("```modelc\ninput: scale=1\n```\n" + t))
        XCTAssertEqual(annotated.ir.inputScale, 1)
    }

    func testOddZeroPaddingNamesTheOtherSplits() throws {
        let t = """
        ```modelc
        input: shape=28x28x1
        ```
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #
        =================================================================
        zero_padding2d (ZeroPadding2 (None, 29, 30, 1)         0
        _________________________________________________________________
        flatten (Flatten)            (None, 870)               0
        _________________________________________________________________
        dense (Dense)                (None, 10)                8710
        =================================================================
        """
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertEqual(r.layer("zero_padding2d")?.op, .zeroPadding(top: 0, bottom: 1, left: 1, right: 1))
        XCTAssertTrue(r.layer("zero_padding2d")?.notes.contains("choice: pad ((0, 1), (1, 1)) is the conventional one of 2 fits (also: pad ((1, 0), (1, 1))); annotate to override") ?? false,
                      "\(r.layer("zero_padding2d")?.notes ?? [])")
    }

    func testClassicTablesSayWhatTheyCannotShowAboutRecurrentLayers() throws {
        let t = """
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #
        =================================================================
        embedding_1 (Embedding)      (None, 20, 8)             800
        _________________________________________________________________
        lstm_1 (LSTM)                (None, 16)                1600
        _________________________________________________________________
        dense_1 (Dense)              (None, 1)                 17
        =================================================================
        """
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("lstm_1: recurrent_activation=sigmoid (Keras 2.3.0 and later; Keras 2.2.5 and earlier defaulted to hard_sigmoid") })
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("embedding_1: mask_zero=false (the table does not show it") })
        let masked = try XCTUnwrap(checkOK("```modelc\nlayer embedding_1: mask_zero=true\n```\n" + t))
        XCTAssertFalse(masked.ir.assumptions.contains { $0.contains("mask_zero") }, "\(masked.ir.assumptions)")
    }

    /// reset_after came with Keras 2.1.x's GRU (default False until tf.keras 2): a config
    /// without the key is from before it, reset gate before the state's projection.
    func testAGRUConfigWithoutResetAfterResetsBefore() throws {
        func gru(_ extra: String) -> [UInt8] {
            Array("""
            {"class_name": "Sequential", "config": {"name": "s", "layers": [
             {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 5, 4]}},
             {"class_name": "GRU", "config": {"name": "gru", "units": 3, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true\(extra)}},
             {"class_name": "Dense", "config": {"name": "out", "units": 2, "activation": "softmax", "use_bias": true}}]}}
            """.utf8)
        }
        for (extra, after) in [("", false), (", \"reset_after\": true", true), (", \"reset_after\": false", false)] {
            let r = try KerasConfig.check(bytes: gru(extra), file: "g.json", zip: false)
            guard case .recurrent(let a)? = r.layer("gru")?.op else { return XCTFail("no GRU in \(r.ir.layers.map(\.name))") }
            XCTAssertEqual(a.resetAfter, after, extra)
        }
    }

    func testRMSpropMomentumIsRefusedAndNotReported() throws {
        let t = """
        ```modelc
        train: optimizer=rmsprop momentum=0.9
        ```
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #
        =================================================================
        dense_1 (Dense)              (None, 10)                7850
        =================================================================
        """
        checkError(t, contains: "momentum=0.9 with rmsprop: modelc's RMSprop has no momentum")
        let plain = try XCTUnwrap(checkOK(t.replacingOccurrences(of: " momentum=0.9", with: "")))
        XCTAssertFalse(plain.text().contains("optimizer=rmsprop rho=0.9 momentum"), plain.text())
        XCTAssertNotNil(checkOK(t.replacingOccurrences(of: "momentum=0.9", with: "momentum=0")))
    }
}
