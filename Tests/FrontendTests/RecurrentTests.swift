import XCTest
@testable import ModelcCore

/// SimpleRNN, LSTM, GRU and Embedding in Keras tables (Keras 2, tf.keras, Keras 3): units,
/// return_sequences, GRU reset_after, bias rows and the vocabulary inferred from shapes and
/// counts; the input guessed where the table allows it; the errors.
final class RecurrentTests: XCTestCase {
    func rnn(_ r: CheckReport, _ name: String) throws -> RecurrentAttrs {
        guard case .recurrent(let a)? = r.layer(name)?.op else {
            throw ModelError(file: "test", line: nil, message: "\(name) is not recurrent")
        }
        return a
    }

    /// Keras 2 layout: Embedding -> LSTM (sequences) -> GRU (reset_after) -> SimpleRNN -> Dense.
    func testKeras2TableInference() throws {
        let t = InferenceTests.table([("input_1", "InputLayer", "100", 0),
                                      ("embedding_1", "Embedding", "100, 32", 32000),   // 1000 x 32
                                      ("lstm_1", "LSTM", "100, 64", 24832),             // 4*(64*(32+64)+64)
                                      ("gru_1", "GRU", "100, 32", 9408),                // 3*(32*96+32) + 96
                                      ("gru_2", "GRU", "100, 16", 2352),                // 3*(16*48+16): reset_before
                                      ("simple_rnn_1", "SimpleRNN", "8", 200),          // 8*(16+8)+8
                                      ("dense_1", "Dense", "1", 9)],
                                     footer: "Total params: 68,801\nTrainable params: 68,801\nNon-trainable params: 0\n")
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("embedding_1")?.op, .embedding(vocab: 1000, dim: 32))
        XCTAssertEqual(r.layer("embedding_1")?.paramTensors.map(\.shape), [[1000, 32]])
        let l = try rnn(r, "lstm_1"), g = try rnn(r, "gru_1"), g2 = try rnn(r, "gru_2"), s = try rnn(r, "simple_rnn_1")
        XCTAssertEqual([l.units, l.biasRows], [64, 1])
        XCTAssertTrue(l.returnSequences)
        XCTAssertEqual(r.layer("lstm_1")?.paramTensors.map(\.shape), [[32, 256], [64, 256], [256]])
        XCTAssertEqual(r.layer("lstm_1")?.paramTensors.map(\.role), [.kernel, .recurrentKernel, .bias])
        XCTAssertTrue(g.resetAfter)
        XCTAssertEqual(r.layer("gru_1")?.paramTensors.last?.shape, [2, 96], "reset_after GRU bias [2, 3u]")
        XCTAssertFalse(g2.resetAfter)
        XCTAssertEqual(r.layer("gru_2")?.paramTensors.last?.shape, [48])
        XCTAssertEqual(s.cell, .simpleRNN)
        XCTAssertFalse(s.returnSequences)
        XCTAssertEqual(r.layer("simple_rnn_1")?.outputShape, [8])
        XCTAssertTrue(r.text().contains("32 units, return_sequences, reset_after"), r.text())
        XCTAssertTrue(r.json().contains("\"reset_after\": false"), r.json())
    }

    /// tf.keras prints no InputLayer row for a Sequential model: the ids (T) are guessed from the
    /// Embedding's (T, dim), and an LSTM's (T, D) from a first recurrent layer's (T, U) and count.
    func testInputGuessedFromFirstLayer() throws {
        let e = InferenceTests.table([("embedding", "Embedding", "20, 8", 400),
                                      ("gru", "GRU", "4", 168),                          // 3*(4*12+4) + 12
                                      ("dense", "Dense", "2", 10)])
        let r = try XCTUnwrap(checkOK(e))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [20])
        let s = InferenceTests.table([("lstm", "LSTM", "28, 128", 80384),               // D = 28
                                      ("lstm_1", "LSTM", "10", 5560),                    // 4*(10*138+10)
                                      ("dense", "Dense", "10", 110)])
        let q = try XCTUnwrap(checkOK(s))
        XCTAssertTrue(q.ok, "\(q.problems)")
        XCTAssertEqual(q.ir.inputShape, [28, 28])
        XCTAssertEqual(try rnn(q, "lstm_1").units, 10)
    }

    /// Keras 3 box table; units solved from the count when the shape reads `multiple`... and a
    /// last-state first layer without an input shape asks for one.
    func testKeras3TableAndStepsError() throws {
        let box = """
        ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
        ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
        │ lstm (LSTM)                     │ (None, 128)            │        80,384 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ dense (Dense)                   │ (None, 10)             │         1,290 │
        └─────────────────────────────────┴────────────────────────┴───────────────┘
         Total params: 81,674 (319.04 KB)
         Trainable params: 81,674 (319.04 KB)
         Non-trainable params: 0 (0.00 B)

        """
        XCTAssertThrowsError(try Frontend.check(text: box, path: "rows.md")) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("rows.md:4"), m)
            XCTAssertTrue(m.contains("28 features per step") && m.contains("annotate `input: shape=STEPSx28`"), m)
        }
        let r = try XCTUnwrap(checkOK(box + "```modelc\ninput: shape=28x28\n```\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(try rnn(r, "lstm").units, 128)
        XCTAssertEqual(r.layer("lstm")?.outputShape, [128])
    }

    /// A count no unit number gives, a wrong output shape, an Embedding on a sequence of vectors.
    func testErrors() throws {
        let bad = InferenceTests.table([("input_1", "InputLayer", "10, 3", 0),
                                        ("lstm_1", "LSTM", "8", 999),
                                        ("dense_1", "Dense", "1", 9)])
        XCTAssertThrowsError(try Frontend.check(text: bad, path: "bad.md")) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("no unit count fits 999 params with 3 input features") && m.contains("8 units, 1 bias row = 384"), m)
        }
        let steps = InferenceTests.table([("input_1", "InputLayer", "10, 3", 0),
                                          ("gru_1", "GRU", "9, 8", 312),
                                          ("dense_1", "Dense", "1", 9)])
        XCTAssertThrowsError(try Frontend.check(text: steps, path: "steps.md")) { e in
            XCTAssertTrue("\(e)".contains("outputs (units) or (10, units) but the table says (9, 8)"), "\(e)")
        }
        let emb = InferenceTests.table([("input_1", "InputLayer", "10, 3", 0),
                                        ("embedding_1", "Embedding", "10, 3, 4", 40)])
        XCTAssertThrowsError(try Frontend.check(text: emb, path: "emb.md")) { e in
            XCTAssertTrue("\(e)".contains("Embedding needs token ids (steps) but gets (10, 3)"), "\(e)")
        }
    }

    /// Bidirectional: the cell and the merge from shapes and counts (Keras 2 cuts the type to
    /// "(Bidirectional"), tensors under forward_<cell> / backward_<cell>; sum, mul and ave only
    /// by annotation, with a note when assumed.
    func testBidirectional() throws {
        let t = InferenceTests.table([("input_1", "InputLayer", "100, 32", 0),
                                      ("bidirectional_1", "Bidirectional", "100, 128", 49664),   // 2 * 4*(64*(32+64)+64)
                                      ("bidirectional_2", "Bidirectional", "100, 64", 31104),    // 2 * (3*(32*(128+32)+32) + 96)
                                      ("bidirectional_3", "Bidirectional", "5", 700),            // 2 * (5*(64+5)+5), not concat
                                      ("dense_1", "Dense", "1", 6)])
        XCTAssertFalse(t.contains("(Bidirectional)"), "Keras 2 cuts the type: \(t)")
        let r = try XCTUnwrap(checkOK(t + "```modelc\nlayer bidirectional_3: merge=ave\n```\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        let a = try rnn(r, "bidirectional_1"), b = try rnn(r, "bidirectional_2"), c = try rnn(r, "bidirectional_3")
        XCTAssertEqual([a.units, b.units, c.units], [64, 32, 5])
        XCTAssertEqual([a.cell, b.cell, c.cell], [.lstm, .gru, .simpleRNN])
        XCTAssertEqual([a.bidirectional, b.bidirectional, c.bidirectional], [.concat, .concat, .ave])
        XCTAssertTrue(b.resetAfter)
        let keys = (r.layer("bidirectional_1")?.paramTensors ?? []).map { "\($0.scope ?? "")/\($0.role.rawValue)" }
        XCTAssertEqual(keys, ["forward_lstm/kernel", "forward_lstm/recurrent_kernel", "forward_lstm/bias",
                              "backward_lstm/kernel", "backward_lstm/recurrent_kernel", "backward_lstm/bias"])
        XCTAssertTrue(r.text().contains("LSTM 64 units, return_sequences, bidirectional concat"), r.text())
        XCTAssertTrue(r.json().contains("\"merge_mode\": \"ave\""), r.json())
        let assumed = try XCTUnwrap(checkOK(t))
        XCTAssertTrue(assumed.layer("bidirectional_3")?.notes.contains { $0.contains("merge_mode sum assumed") } ?? false,
                      "\(assumed.layer("bidirectional_3")?.notes ?? [])")
        let odd = InferenceTests.table([("input_1", "InputLayer", "10, 3", 0), ("bidirectional", "Bidirectional", "8", 385)])
        XCTAssertThrowsError(try Frontend.check(text: odd, path: "odd.md")) { e in
            XCTAssertTrue("\(e)".contains("385 params is odd"), "\(e)")
        }
    }
}
