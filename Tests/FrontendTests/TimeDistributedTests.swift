import XCTest
@testable import ModelcCore

/// TimeDistributed (issue 17): in tables the wrapped layer is inferred from shapes and counts
/// (Dense with parameters, Flatten when the axes after the steps merge) or annotated
/// (`layer=Dropout`), Conv2D and pooling on each image of a (steps, H, W, C) input; in Keras
/// configs it is read from the `layer` key.
final class TimeDistributedTests: XCTestCase {
    static let keras2 = """
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    lstm_1 (LSTM)                (None, 10, 64)            16896
    _________________________________________________________________
    time_distributed_1 (TimeDist (None, 10, 64)            4160
    _________________________________________________________________
    time_distributed_2 (TimeDist (None, 10, 64)            0
    _________________________________________________________________
    time_distributed_3 (TimeDist (None, 10, 5)             320
    _________________________________________________________________
    lstm_2 (LSTM)                (None, 8)                 448
    =================================================================
    Total params: 21,824
    Trainable params: 21,824
    Non-trainable params: 0
    _________________________________________________________________
    """

    func testKeras2TableDenseWithAndWithoutBias() throws {
        checkError(Self.keras2, contains: "annotate `layer time_distributed_2: layer=Dropout`")
        let ok = Self.keras2 + "\n```modelc\nlayer time_distributed_2: layer=Dropout\n```\n"
        let r = try XCTUnwrap(checkOK(ok))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [10, 1])
        XCTAssertEqual(r.layer("time_distributed_1")?.kind, "TimeDistributed")
        guard case .dense(64, true, _)? = r.layer("time_distributed_1")?.op else { return XCTFail("\(String(describing: r.layer("time_distributed_1")?.op))") }
        guard case .dense(5, false, _)? = r.layer("time_distributed_3")?.op else { return XCTFail("320 = 64 x 5 without bias") }
        XCTAssertEqual(r.layer("time_distributed_2")?.op, .dropout(rate: 0.5, spatial: false))
        XCTAssertEqual(r.layer("time_distributed_1")?.paramTensors.map(\.shape), [[64, 64], [64]])
    }

    static let images = """
    Model: "m"
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    input_1 (InputLayer)         [(None, 6, 4, 4, 2)]      0
    time_distributed (TimeDistri (None, 6, 32)             0
    time_distributed_1 (TimeDist (None, 6, 10)             330
    gru (GRU)                    (None, 3)                 135
    =================================================================
    Total params: 465
    """

    func testFlattenPerStep() throws {
        let r = try XCTUnwrap(checkOK(Self.images))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("time_distributed")?.op, .reshape([6, 32]))
    }

    /// TimeDistributed(Conv2D) -> TimeDistributed(pooling) -> TimeDistributed(Flatten or a
    /// global pool): the image layer solved on one step, counts as for the plain layer.
    func testConvolutionAndPoolingPerStep() throws {
        let conv = Self.images.replacingOccurrences(of: "(None, 6, 32)             0", with: "(None, 6, 2, 2, 8)        152")
            .replacingOccurrences(of: "(None, 6, 10)             330", with: "(None, 6, 32)             0")
            .replacingOccurrences(of: "(None, 3)                 135", with: "(None, 3)                 333")
            .replacingOccurrences(of: "Total params: 465", with: "Total params: 485")
        let r = try XCTUnwrap(checkOK(conv))
        XCTAssertTrue(r.ok, "\(r.problems)")
        let c = try XCTUnwrap(r.layer("time_distributed"))
        XCTAssertEqual(c.op, .conv2d(Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .valid, filters: 8, useBias: true, activation: .relu)), "relu assumed")
        XCTAssertEqual(c.kind, "TimeDistributed")
        XCTAssertTrue(c.isPerStep)
        XCTAssertEqual(c.paramTensors.map(\.shape), [[3, 3, 2, 8], [8]])
        XCTAssertEqual(r.layer("time_distributed_1")?.op, .reshape([6, 32]))

        let pool = Self.images.replacingOccurrences(of: "(None, 6, 32)             0", with: "(None, 6, 2, 2, 2)        0")
            .replacingOccurrences(of: "(None, 6, 10)             330", with: "(None, 6, 2)              0")
            .replacingOccurrences(of: "(None, 3)                 135", with: "(None, 3)                 63")
            .replacingOccurrences(of: "Total params: 465", with: "Total params: 63")
        let p = try XCTUnwrap(checkOK(pool))
        XCTAssertTrue(p.ok, "\(p.problems)")
        XCTAssertEqual(p.layer("time_distributed")?.op, .maxPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: .valid)))
        XCTAssertTrue(p.layer("time_distributed")?.notes.joined().contains("max pooling assumed: TimeDistributed(AveragePooling2D) prints the same shapes") ?? false, "\(p.layer("time_distributed")?.notes ?? [])")
        XCTAssertEqual(p.layer("time_distributed_1")?.op, .globalAvgPool)
        XCTAssertTrue(p.layer("time_distributed_1")?.notes.joined().contains("global average pooling assumed") ?? false)
        let annotated = try XCTUnwrap(checkOK(pool + "\n```modelc\nlayer time_distributed: layer=AveragePooling2D\nlayer time_distributed_1: layer=GlobalMaxPooling2D\n```\n"))
        XCTAssertEqual(annotated.layer("time_distributed")?.op, .avgPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: .valid)))
        XCTAssertEqual(annotated.layer("time_distributed_1")?.op, .globalMaxPool)
    }

    func testRefusedPerStepForms() throws {
        let dense = Self.images.replacingOccurrences(of: "(None, 6, 32)             0", with: "(None, 6, 8)              152")
        checkError(dense, contains: "is read as Dense on each step, which keeps (6, 4, 4) but the table says (6, 8) (a Conv2D on each step needs a (steps, H, W, C) input and output)")
        checkError(Self.images + "\n```modelc\nlayer time_distributed_1: layer=Conv2D\n```\n",
                   contains: "TimeDistributed(Conv2D) needs a sequence of images (steps, H, W, C) but gets (6, 32)")
        checkError(Self.images + "\n```modelc\nlayer time_distributed_1: layer=Conv1D\n```\n",
                   contains: "TimeDistributed(Conv1D) is not supported (Dense, Flatten, Dropout, activations, Conv2D, MaxPooling2D")
    }

    /// A published README's Keras 3 summary (a CNN-LSTM steering model, pasted as a markdown
    /// table): five TimeDistributed(Conv2D) layers (PilotNet's 5x5 stride 2 and 3x3 kernels).
    /// Its last row (Dense 1, 11 params) was left out of the README, and the footer says so.
    static let steering = """
    Model: "CNN_LSTM_Steering_Prediction"
    | Layer (type) | Output Shape | Param # |
    |-------------|--------------|---------|
    | sequence_input (InputLayer) | (None, 5, 66, 200, 3) | 0 |
    | time_distributed (TimeDistributed) | (None, 5, 31, 98, 24) | 1,824 |
    | time_distributed_1 (TimeDistributed) | (None, 5, 14, 47, 36) | 21,636 |
    | time_distributed_2 (TimeDistributed) | (None, 5, 5, 22, 48) | 43,248 |
    | time_distributed_3 (TimeDistributed) | (None, 5, 3, 20, 64) | 27,712 |
    | time_distributed_4 (TimeDistributed) | (None, 5, 1, 18, 64) | 36,928 |
    | td_flatten (TimeDistributed) | (None, 5, 1152) | 0 |
    | lstm1 (LSTM) | (None, 5, 64) | 311,552 |
    | lstm_dropout1 (Dropout) | (None, 5, 64) | 0 |
    | lstm2 (LSTM) | (None, 32) | 12,416 |
    | lstm_dropout2 (Dropout) | (None, 32) | 0 |
    | fc1 (Dense) | (None, 50) | 1,650 |
    | fc_dropout1 (Dropout) | (None, 50) | 0 |
    | fc2 (Dense) | (None, 10) | 510 |
    LAST
    Total params: 457,487 (1.75 MB)
    Trainable params: 457,487 (1.75 MB)
    Non-trainable params: 0 (0.00 B)
    """

    func testPublishedSteeringModel() throws {
        let cut = try XCTUnwrap(checkOK(Self.steering.replacingOccurrences(of: "LAST\n", with: "")))
        XCTAssertFalse(cut.ok)
        XCTAssertTrue(cut.problems.map(\.description).joined().contains("total params: computed 457,476, declared 457,487"), "\(cut.problems)")
        let r = try XCTUnwrap(checkOK(Self.steering.replacingOccurrences(of: "LAST", with: "| fc3 (Dense) | (None, 1) | 11 |")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [5, 66, 200, 3])
        XCTAssertEqual(r.layer("time_distributed")?.op, .conv2d(Conv2DAttrs(kernelH: 5, kernelW: 5, strideH: 2, strideW: 2, padding: .valid, filters: 24, useBias: true, activation: .relu)), "relu assumed")
        XCTAssertEqual(r.layer("time_distributed_4")?.op, .conv2d(Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .valid, filters: 64, useBias: true, activation: .relu)))
        XCTAssertEqual(r.layer("td_flatten")?.op, .reshape([5, 1152]))
        XCTAssertEqual(r.ir.totalParams, 457_487)
    }

    func testKerasConfig() throws {
        let path = Fixtures.path("keras_config/time_distributed.config.json")
        let r = try Frontend.check(path: path)
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("time_distributed")?.op, .reshape([5, 6]))
        XCTAssertEqual(r.layer("time_distributed_1")?.op, .dense(units: 4, useBias: true, activation: .tanh))
        XCTAssertEqual(r.layer("time_distributed_2")?.op, .dropout(rate: 0.25, spatial: false))
        XCTAssertEqual(r.layer("dense")?.outputShape, [5, 2], "a Dense on a sequence: the last axis")
        let text = try Fixtures.text("keras_config/time_distributed.config.json")
            .replacingOccurrences(of: "\"class_name\": \"Flatten\"", with: "\"class_name\": \"MaxPooling2D\"")
        XCTAssertThrowsError(try KerasConfig.model(fromJSON: text, file: "td.h5")) { e in
            XCTAssertTrue("\(e)".contains("TimeDistributed(MaxPooling2D) needs a sequence of images (steps, height, width, channels) but gets (5, 2, 3)"), "\(e)")
        }
        let conv1d = text.replacingOccurrences(of: "\"class_name\": \"MaxPooling2D\"", with: "\"class_name\": \"Conv1D\"")
        XCTAssertThrowsError(try KerasConfig.model(fromJSON: conv1d, file: "td.h5")) { e in
            XCTAssertTrue("\(e)".contains("TimeDistributed(Conv1D) is not supported"), "\(e)")
        }
    }

    /// Every hyperparameter of TimeDistributed image layers taken from the config.
    func testKerasConfigImageLayers() throws {
        let r = try Frontend.check(path: Fixtures.path("keras_config/time_distributed_conv.config.json"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("td_conv")?.op, .conv2d(Conv2DAttrs(kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, padding: .same, filters: 4, useBias: true, activation: .relu)))
        XCTAssertEqual(r.layer("td_max")?.op, .maxPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 1, strideW: 1, padding: .valid)))
        XCTAssertEqual(r.layer("td_avg")?.op, .avgPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: .same)))
        XCTAssertEqual(r.layer("td_conv_1")?.op, .conv2d(Conv2DAttrs(kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padding: .valid, filters: 3, useBias: false)))
        XCTAssertEqual(r.layer("td_gmp")?.op, .globalMaxPool)
        XCTAssertEqual(r.layer("td_gmp")?.outputShape, [4, 3])
    }
}

/// Masking and Embedding(mask_zero=True) (issue 17): the mask reaches the recurrent layers
/// through Dense, TimeDistributed, Dropout and activations, ends at the first recurrent layer
/// without return_sequences, and anything else that would read a masked sequence is refused.
final class SequenceMaskTests: XCTestCase {
    static let table = """
    Model: "m"
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    masking (Masking)            (None, 6, 3)              0
    _________________________________________________________________
    time_distributed (TimeDistri (None, 6, 4)              16
    _________________________________________________________________
    lstm (LSTM)                  (None, 6, 3)              96
    _________________________________________________________________
    gru (GRU)                    (None, 2)                 42
    _________________________________________________________________
    dense (Dense)                (None, 2)                 6
    =================================================================
    Total params: 160
    """

    func mask(_ r: CheckReport?, _ name: String) -> SequenceMask? {
        guard case .recurrent(let a)? = r?.layer(name)?.op else { return nil }
        return a.mask
    }

    func testMaskingTableReachesTheRecurrentLayers() throws {
        let r = try XCTUnwrap(checkOK(Self.table + "\n```modelc\nlayer masking: mask_value=-1\n```\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("masking")?.op, .masking(value: -1))
        XCTAssertEqual(mask(r, "lstm"), .value(-1, stepSize: 3))
        XCTAssertEqual(mask(r, "gru"), .value(-1, stepSize: 3))
        XCTAssertEqual(checkOK(Self.table).map { mask($0, "lstm") }, .value(0, stepSize: 3), "mask_value 0 by default")
        checkError(Self.table.replacingOccurrences(of: "(None, 2)                 42", with: "(None, 6, 2)              42")
                    .replacingOccurrences(of: "(None, 2)                 6", with: "(None, 6, 2)              6"),
                   contains: "layer 'dense': the model's output is still masked by 'masking' (Keras would mask the loss over the steps)")
        let conv = """
        Model: "m"
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #
        =================================================================
        masking (Masking)            (None, 6, 3)              0
        conv1d (Conv1D)              (None, 4, 2)              20
        lstm (LSTM)                  (None, 3)                 72
        =================================================================
        Total params: 92
        """
        checkError(conv, contains: "layer 'conv1d': Conv1D reads the masked sequence of 'masking': modelc applies a mask in recurrent layers only")
    }

    func testMaskZeroFromAnnotationAndConfig() throws {
        let t = """
        Model: "m"
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #
        =================================================================
        embedding (Embedding)        (None, 10, 4)             80
        lstm (LSTM)                  (None, 3)                 96
        =================================================================
        Total params: 176
        """
        XCTAssertNil(mask(checkOK(t), "lstm"))
        XCTAssertEqual(mask(checkOK(t + "\n```modelc\nlayer embedding: mask_zero=true\n```\n"), "lstm"), .tokenZero)
        let json = try Fixtures.text("keras_config/embedding_birnn.config.json")
            .replacingOccurrences(of: "\"mask_zero\": false", with: "\"mask_zero\": true")
        let r = try KerasConfig.model(fromJSON: json, file: "e.h5")
        XCTAssertEqual(mask(r, "bidirectional"), .tokenZero)
        XCTAssertEqual(mask(r, "bidirectional_1"), .tokenZero, "the last recurrent layer (no return_sequences) ends the mask")
    }
}
