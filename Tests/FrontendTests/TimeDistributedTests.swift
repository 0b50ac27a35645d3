import XCTest
@testable import ModelcCore

/// TimeDistributed (issue 17): in tables the wrapped layer is inferred from shapes and counts
/// (Dense with parameters, Flatten when the axes after the steps merge) or annotated
/// (`layer=Dropout`); in Keras configs it is read from the `layer` key. Convolutions and
/// pooling per step are refused.
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
        XCTAssertEqual(r.layer("time_distributed_2")?.op, .dropout(rate: 0.5))
        XCTAssertEqual(r.layer("time_distributed_1")?.paramTensors.map(\.shape), [[64, 64], [64]])
    }

    func testFlattenPerStepAndRefusedConvolutions() throws {
        let flat = """
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
        let r = try XCTUnwrap(checkOK(flat))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("time_distributed")?.op, .reshape([6, 32]))
        let conv = flat.replacingOccurrences(of: "(None, 6, 32)             0", with: "(None, 6, 2, 2, 8)        152")
            .replacingOccurrences(of: "(None, 6, 10)             330", with: "(None, 6, 32)             0")
        checkError(conv, contains: "TimeDistributed around a Conv2D or pooling layer is not supported")
        let pool = flat.replacingOccurrences(of: "(None, 6, 32)             0", with: "(None, 6, 2, 2, 2)        0")
        checkError(pool, contains: "only Flatten (to (6, 32)) is supported (per-step pooling is not)")
        checkError(flat + "\n```modelc\nlayer time_distributed_1: layer=Conv2D\n```\n", contains: "TimeDistributed(Conv2D) is not supported")
    }

    func testKerasConfig() throws {
        let path = Fixtures.path("keras_config/time_distributed.config.json")
        let r = try Frontend.check(path: path)
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("time_distributed")?.op, .reshape([5, 6]))
        XCTAssertEqual(r.layer("time_distributed_1")?.op, .dense(units: 4, useBias: true, activation: .tanh))
        XCTAssertEqual(r.layer("time_distributed_2")?.op, .dropout(rate: 0.25))
        XCTAssertEqual(r.layer("dense")?.outputShape, [5, 2], "a Dense on a sequence: the last axis")
        let text = try Fixtures.text("keras_config/time_distributed.config.json")
            .replacingOccurrences(of: "\"class_name\": \"Flatten\"", with: "\"class_name\": \"MaxPooling2D\"")
        XCTAssertThrowsError(try KerasConfig.model(fromJSON: text, file: "td.h5")) { e in
            XCTAssertTrue("\(e)".contains("TimeDistributed(MaxPooling2D) is not supported (Dense, Flatten, Dropout and activations are)"), "\(e)")
        }
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
