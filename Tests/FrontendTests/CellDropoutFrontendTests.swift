// Keras's in-cell dropout (`dropout`, `recurrent_dropout`) read from model configs and from a
// table's annotations: one mask per gate where Keras draws one per gate (implementation=1, which
// Keras 3 and later tf.keras force with recurrent_dropout), else one; an older Keras's GRU
// implementation=2 with recurrent_dropout (its masked state carried on) refused. The numerics
// (training with the masks against Keras) are in KerasFixtureTests (cell_dropout).

import XCTest
@testable import ModelcCore

final class CellDropoutFrontendTests: XCTestCase {
    /// A Sequential config of `layer` (an LSTM, GRU or SimpleRNN config's extra keys) saved by `version`.
    func config(_ cls: String, _ extra: String, version: String) -> [UInt8] {
        Array("""
        {"class_name": "Sequential", "keras_version": "\(version)", "config": {"name": "s", "layers": [
         {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 5, 4]}},
         {"class_name": "\(cls)", "config": {"name": "rnn", "units": 3, "activation": "tanh", "use_bias": true\(extra)}},
         {"class_name": "Dense", "config": {"name": "out", "units": 2, "activation": "softmax", "use_bias": true}}]}}
        """.utf8)
    }

    func dropout(_ cls: String, _ extra: String, version: String) throws -> CellDropout? {
        let r = try KerasConfig.check(bytes: config(cls, extra, version: version), file: "m.json", zip: false)
        guard case .recurrent(let a)? = r.layer("rnn")?.op else { XCTFail("no recurrent layer"); return nil }
        return a.cellDropout
    }

    func testConfigsSayWhichMasks() throws {
        let cases: [(String, String, String, CellDropout?)] = [
            ("LSTM", #", "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2"#, "2.15.0", nil),
            // tf.keras saves the implementation it forced
            ("LSTM", #", "dropout": 0.2, "recurrent_dropout": 0.3, "implementation": 1"#, "2.15.0", CellDropout(input: 0.2, recurrent: 0.3, perGate: true)),
            ("LSTM", #", "dropout": 0.2, "recurrent_dropout": 0.0, "implementation": 2"#, "2.15.0", CellDropout(input: 0.2, recurrent: 0, perGate: false)),
            // an older Keras's LSTM with implementation=2 shared one state mask (its carry is c)
            ("LSTM", #", "dropout": 0.1, "recurrent_dropout": 0.3, "implementation": 2"#, "2.2.4", CellDropout(input: 0.1, recurrent: 0.3, perGate: false)),
            ("GRU", #", "dropout": 0.25, "implementation": 1, "reset_after": true"#, "2.2.4", CellDropout(input: 0.25, recurrent: 0, perGate: true)),
            // Keras 3 saves no implementation and forces 1 with recurrent_dropout
            ("GRU", #", "dropout": 0.2, "recurrent_dropout": 0.2, "reset_after": true"#, "3.5.0", CellDropout(input: 0.2, recurrent: 0.2, perGate: true)),
            ("LSTM", #", "dropout": 0.5"#, "3.5.0", CellDropout(input: 0.5, recurrent: 0, perGate: false)),
            ("SimpleRNN", #", "dropout": 0.5, "recurrent_dropout": 0.25"#, "3.5.0", CellDropout(input: 0.5, recurrent: 0.25, perGate: false)),
        ]
        for (cls, extra, version, want) in cases {
            XCTAssertEqual(try dropout(cls, extra, version: version), want, "\(cls)\(extra) from \(version)")
        }
    }

    func testConfigRefusals() {
        let refused: [(String, String, String, String)] = [
            ("GRU", #", "recurrent_dropout": 0.3, "implementation": 2, "reset_after": false"#, "2.2.4",
             "implementation=2 with recurrent_dropout=0.3 (an older Keras's GRU"),
            ("LSTM", #", "dropout": 1.0"#, "3.5.0", "a rate in [0, 1)"),
            ("LSTM", #", "recurrent_dropout": -0.1"#, "3.5.0", "a rate in [0, 1)"),
        ]
        for (cls, extra, version, message) in refused {
            XCTAssertThrowsError(try dropout(cls, extra, version: version)) { e in
                XCTAssertTrue("\(e)".contains(message), "\(cls)\(extra): \(e)")
            }
        }
    }

    static let table = """
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    embedding_1 (Embedding)      (None, 20, 8)             800
    _________________________________________________________________
    lstm_1 (LSTM)                (None, 20, 16)            1600
    _________________________________________________________________
    gru_1 (GRU)                  (None, 4)                 264
    _________________________________________________________________
    dense_1 (Dense)              (None, 1)                 5
    =================================================================
    """

    func cell(_ r: CheckReport, _ name: String) -> CellDropout? {
        guard case .recurrent(let a)? = r.layer(name)?.op else { return nil }
        return a.cellDropout
    }

    func testATableSaysItShowsNoCellDropoutAndAnnotationsSetIt() throws {
        let plain = try XCTUnwrap(checkOK(Self.table))
        XCTAssertTrue(plain.ir.assumptions.contains { $0.hasPrefix("lstm_1, gru_1: no dropout inside the cell in training") }, "\(plain.ir.assumptions)")
        let annotated = try XCTUnwrap(checkOK("""
        ```modelc
        layer lstm_1: dropout=0.2 recurrent_dropout=0.2
        layer gru_1: dropout=0.1 implementation=1
        ```
        """ + Self.table))
        XCTAssertEqual(cell(annotated, "lstm_1"), CellDropout(input: 0.2, recurrent: 0.2, perGate: true))
        XCTAssertEqual(cell(annotated, "gru_1"), CellDropout(input: 0.1, recurrent: 0, perGate: true))
        XCTAssertFalse(annotated.ir.assumptions.contains { $0.contains("no dropout inside the cell") }, "\(annotated.ir.assumptions)")
        XCTAssertTrue(annotated.layer("lstm_1")?.notes.contains("in-cell dropout 0.2, recurrent_dropout 0.2 (a mask per gate) (annotated), in training only") ?? false)
        // a glob sets it where it applies; the Dense and the Embedding keep none
        let glob = try XCTUnwrap(checkOK("```modelc\nlayer *: dropout=0.3\n```\n" + Self.table))
        XCTAssertEqual(cell(glob, "lstm_1"), CellDropout(input: 0.3, recurrent: 0, perGate: false))
        XCTAssertEqual(cell(glob, "gru_1"), CellDropout(input: 0.3, recurrent: 0, perGate: false))
    }

    func testTableAnnotationRefusals() {
        checkError("```modelc\nlayer dense_1: dropout=0.2\n```\n" + Self.table,
                   contains: "layer 'dense_1' (Dense): dropout=, recurrent_dropout= and implementation= apply to SimpleRNN, LSTM and GRU layers")
        checkError("```modelc\nlayer gru_1: recurrent_dropout=0.2 implementation=2\n```\n" + Self.table,
                   contains: "layer 'gru_1': implementation=2 with recurrent_dropout")
        checkError("```modelc\nlayer lstm_1: dropout=1\n```\n" + Self.table, contains: "dropout=1: expected a rate in [0, 1)")
        checkError("```modelc\nlayer lstm_1: implementation=3\n```\n" + Self.table, contains: "implementation=3: expected 1")
    }
}
