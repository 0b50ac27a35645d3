import XCTest
@testable import ModelcCore

/// Keras 3 functional summaries print a sequence mask as rows (issue 17, Frontend/MaskRows.swift):
/// `not_equal (NotEqual)` for Embedding(mask_zero=True), `not_equal` then `any (Any)` for
/// Masking, and the layers that take the mask list it in `Connected to`. The rows are read as
/// the mask (mask_zero=True implied), checked, and left out of the layers.
final class MaskRowsTests: XCTestCase {
    /// Published (a GitHub script's printed summary): Embedding 2000 x 16, SimpleRNN 8.
    static let simpleRNN = """
    Model: "functional"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to               ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
    │ input (InputLayer)            │ (None, 5)                 │               0 │ -                          │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ embed (Embedding)             │ (None, 5, 16)             │          32,000 │ input[0][0]                │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ not_equal (NotEqual)          │ (None, 5)                 │               0 │ input[0][0]                │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ simple_rnn (SimpleRNN)        │ (None, 8)                 │             200 │ embed[0][0],               │
    │                               │                           │                 │ not_equal[0][0]            │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ out (Dense)                   │ (None, 1)                 │               9 │ simple_rnn[0][0]           │
    └───────────────────────────────┴───────────────────────────┴─────────────────┴────────────────────────────┘
     Total params: 32,209 (125.82 KB)
     Trainable params: 32,209 (125.82 KB)
     Non-trainable params: 0 (0.00 B)
    """

    /// Published (a Korean sentiment script's printed summary): variable-length token ids, a
    /// Bidirectional LSTM 32 taking the mask.
    static let bidirectional = """
    Model: "functional"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to               ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
    │ input_layer (InputLayer)      │ (None, None)              │               0 │ -                          │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ embedding (Embedding)         │ (None, None, 128)         │         566,784 │ input_layer[0][0]          │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ not_equal (NotEqual)          │ (None, None)              │               0 │ input_layer[0][0]          │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ bidirectional (Bidirectional) │ (None, 64)                │          41,216 │ embedding[0][0],           │
    │                               │                           │                 │ not_equal[0][0]            │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ dropout (Dropout)             │ (None, 64)                │               0 │ bidirectional[0][0]        │
    ├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
    │ dense (Dense)                 │ (None, 1)                 │              65 │ dropout[0][0]              │
    └───────────────────────────────┴───────────────────────────┴─────────────────┴────────────────────────────┘
     Total params: 608,065 (2.32 MB)
     Trainable params: 608,065 (2.32 MB)
     Non-trainable params: 0 (0.00 B)
    """

    /// Keras 3.15's summary of Masking -> TimeDistributed(Dense) -> LSTM -> GRU -> Dense.
    static let masking = """
    Model: "functional"
    ┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
    ┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
    ┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
    │ input_layer         │ (None, 6, 3)      │          0 │ -                 │
    │ (InputLayer)        │                   │            │                   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ not_equal           │ (None, 6, 3)      │          0 │ input_layer[0][0] │
    │ (NotEqual)          │                   │            │                   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ masking (Masking)   │ (None, 6, 3)      │          0 │ input_layer[0][0] │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ any (Any)           │ (None, 6)         │          0 │ not_equal[0][0]   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ time_distributed    │ (None, 6, 4)      │         16 │ masking[0][0],    │
    │ (TimeDistributed)   │                   │            │ any[0][0]         │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ lstm (LSTM)         │ (None, 6, 3)      │         96 │ time_distributed… │
    │                     │                   │            │ any[0][0]         │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ gru (GRU)           │ (None, 2)         │         42 │ lstm[0][0],       │
    │                     │                   │            │ any[0][0]         │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ dense_1 (Dense)     │ (None, 2)         │          6 │ gru[0][0]         │
    └─────────────────────┴───────────────────┴────────────┴───────────────────┘
     Total params: 160 (640.00 B)
     Trainable params: 160 (640.00 B)
     Non-trainable params: 0 (0.00 B)
    """

    /// Keras 3.15's summary of Embedding(mask_zero=True) -> Dense -> Dropout -> Bidirectional(LSTM,
    /// return_sequences) -> LSTM -> Dense: the NotEqual row comes late, Dense and Dropout pass the
    /// mask on without listing it.
    static let embedding = """
    Model: "functional"
    ┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
    ┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
    ┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
    │ input_layer         │ (None, 7)         │          0 │ -                 │
    │ (InputLayer)        │                   │            │                   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ embedding           │ (None, 7, 4)      │         40 │ input_layer[0][0] │
    │ (Embedding)         │                   │            │                   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ dense (Dense)       │ (None, 7, 5)      │         25 │ embedding[0][0]   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ dropout (Dropout)   │ (None, 7, 5)      │          0 │ dense[0][0]       │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ not_equal           │ (None, 7)         │          0 │ input_layer[0][0] │
    │ (NotEqual)          │                   │            │                   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ bidirectional       │ (None, 7, 6)      │        216 │ dropout[0][0],    │
    │ (Bidirectional)     │                   │            │ not_equal[0][0]   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ lstm_1 (LSTM)       │ (None, 2)         │         72 │ bidirectional[0]… │
    │                     │                   │            │ not_equal[0][0]   │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ dense_1 (Dense)     │ (None, 2)         │          6 │ lstm_1[0][0]      │
    └─────────────────────┴───────────────────┴────────────┴───────────────────┘
     Total params: 359 (1.40 KB)
     Trainable params: 359 (1.40 KB)
     Non-trainable params: 0 (0.00 B)
    """

    func mask(_ r: CheckReport?, _ name: String) -> SequenceMask? {
        guard case .recurrent(let a)? = r?.layer(name)?.op else { return nil }
        return a.mask
    }

    func testPublishedEmbeddingMasks() throws {
        let r = try XCTUnwrap(checkOK(Self.simpleRNN))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["input", "embed", "simple_rnn", "out"])
        XCTAssertEqual(mask(r, "simple_rnn"), .tokenZero)
        XCTAssertEqual(r.ir.totalParams, 32_209)
        checkError(Self.bidirectional, contains: "annotate `input: shape=STEPS`")
        let b = try XCTUnwrap(checkOK(Self.bidirectional + "\n```modelc\ninput: shape=100\n```\n"))
        XCTAssertTrue(b.ok, "\(b.problems)")
        XCTAssertEqual(mask(b, "bidirectional"), .tokenZero)
        XCTAssertNil(b.layer("not_equal"))
    }

    func testMaskingAndLateMaskRows() throws {
        let r = try XCTUnwrap(checkOK(Self.masking + "\n```modelc\nlayer masking: mask_value=-1\n```\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(mask(r, "lstm"), .value(-1, stepSize: 3))
        XCTAssertEqual(mask(r, "gru"), .value(-1, stepSize: 3))
        XCTAssertEqual(r.ir.layers.count, 6)
        let e = try XCTUnwrap(checkOK(Self.embedding))
        XCTAssertTrue(e.ok, "\(e.problems)")
        XCTAssertEqual(mask(e, "bidirectional"), .tokenZero)
        XCTAssertEqual(mask(e, "lstm_1"), .tokenZero)
    }

    func testUnsupportedMaskUses() throws {
        // the mask taken after the recurrent layer that ends it
        checkError(Self.simpleRNN.replacingOccurrences(of: "│ simple_rnn[0][0]           │", with: "│ simple_rnn[0][0],          │\n│                               │                           │                 │ not_equal[0][0]            │"),
                   contains: "layer 'out' takes the mask of 'embed' in the table, but the mask ends")
        // a pooling layer reading the masked sequence (Keras would average the kept steps only)
        let pooled = Self.simpleRNN.replacingOccurrences(of: "simple_rnn (SimpleRNN)        │ (None, 8)                 │             200",
                                                          with: "gap (GlobalAveragePooling1D)  │ (None, 16)                │               0")
            .replacingOccurrences(of: "simple_rnn[0][0]", with: "gap[0][0]       ")
            .replacingOccurrences(of: "│               9 │", with: "│              17 │")
            .replacingOccurrences(of: "32,209", with: "32,017")
        checkError(pooled, contains: "layer 'gap': GlobalAveragePooling1D reads the masked sequence of 'embed': modelc applies a mask in recurrent layers only")
        checkError(Self.simpleRNN.replacingOccurrences(of: "│ not_equal (NotEqual)          │ (None, 5)                 │               0 │ input[0][0]  ",
                                                       with: "│ not_equal (NotEqual)          │ (None, 5)                 │               0 │ embed[0][0]  "),
                   contains: "mask row 'not_equal' reads embed, not the model's input 'input'")
        checkError(Self.simpleRNN + "\n```modelc\nlayer embed: mask_zero=false\n```\n",
                   contains: "layer 'embed' is annotated mask_zero=false, but the table prints its mask (a NotEqual row)")
        checkError(Self.masking.replacingOccurrences(of: "│ not_equal           │ (None, 6, 3)      │          0 │", with: "│ not_equal           │ (None, 6, 3)      │          4 │"),
                   contains: "row 'not_equal' (NotEqual) has 4 params, but a mask op has none")
        checkError(Self.simpleRNN.replacingOccurrences(of: "not_equal (NotEqual)          │ (None, 5)                 │", with: "not_equal (NotEqual)          │ (None, 5, 16)             │"),
                   contains: "mask row 'not_equal' (NotEqual) has shape (None, 5, 16), not the input's (None, 5)")
    }
}
