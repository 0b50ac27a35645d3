// Keras's in-cell dropout (`dropout`, `recurrent_dropout`) read from model configs and from a
// table's annotations: one mask per gate where Keras draws one per gate (implementation=1, which
// Keras 3.8+ and tf.keras 2.4+ force with recurrent_dropout), else one; an older Keras's GRU
// implementation=2 with recurrent_dropout (its masked state carried on) refused. The numerics
// (training with the masks against Keras) are in KerasFixtureTests (cell_dropout).

import XCTest
import Foundation
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
        let per = { (i: Float, r: Float) in CellDropout(input: i, recurrent: r, perGate: true) }
        let one = { (i: Float, r: Float) in CellDropout(input: i, recurrent: r, perGate: false) }
        let cases: [(String, String, String, CellDropout?)] = [
            ("LSTM", #", "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2"#, "2.15.0", nil),
            // tf.keras saves the implementation it forced with recurrent_dropout
            ("LSTM", #", "dropout": 0.2, "recurrent_dropout": 0.3, "implementation": 1"#, "2.15.0", per(0.2, 0.3)),
            ("LSTM", #", "dropout": 0.2, "recurrent_dropout": 0.0, "implementation": 2"#, "2.15.0", one(0.2, 0)),
            // without recurrent_dropout tf.keras's fused kernel takes one input mask whatever the
            // implementation, where it can run (not with hard_sigmoid gates)
            ("LSTM", #", "dropout": 0.2, "implementation": 1"#, "2.15.0", one(0.2, 0)),
            ("LSTM", #", "dropout": 0.2, "implementation": 1"#, "2.2.4-tf", one(0.2, 0)),
            ("LSTM", #", "dropout": 0.2, "implementation": 1, "recurrent_activation": "hard_sigmoid""#, "2.15.0", per(0.2, 0)),
            // standalone Keras 2: the implementation saved (an LSTM's shared state mask stands)
            ("LSTM", #", "dropout": 0.1, "recurrent_dropout": 0.3, "implementation": 2"#, "2.2.4", one(0.1, 0.3)),
            ("LSTM", #", "dropout": 0.2, "implementation": 1"#, "2.2.4", per(0.2, 0)),
            ("GRU", #", "dropout": 0.25, "implementation": 1, "reset_after": true"#, "2.2.4", per(0.25, 0)),
            // Keras 3.8 and later save no implementation and force 1 with recurrent_dropout
            ("GRU", #", "dropout": 0.2, "recurrent_dropout": 0.2, "reset_after": true"#, "3.8.0", per(0.2, 0.2)),
            ("LSTM", #", "dropout": 0.5"#, "3.15.1", one(0.5, 0)),
            ("SimpleRNN", #", "dropout": 0.5, "recurrent_dropout": 0.25"#, "3.15.1", one(0.5, 0.25)),
            // Keras 3.0 to 3.7: one mask each; 3.0 and 3.1 drew the state's at the dropout rate
            ("LSTM", #", "dropout": 0.2, "recurrent_dropout": 0.3"#, "3.7.0", one(0.2, 0.3)),
            ("LSTM", #", "dropout": 0.2, "recurrent_dropout": 0.3"#, "3.1.1", one(0.2, 0.2)),
            ("LSTM", #", "recurrent_dropout": 0.3"#, "3.0.5", nil),
            // standalone Keras 2.0.9 to 2.1.2 drew the state's mask at the dropout rate too
            ("LSTM", #", "dropout": 0.1, "recurrent_dropout": 0.5, "implementation": 1"#, "2.1.2", per(0.1, 0.1)),
            ("GRU", #", "recurrent_dropout": 0.2, "implementation": 1"#, "2.0.9", nil),
            ("LSTM", #", "dropout": 0.1, "recurrent_dropout": 0.5, "implementation": 1"#, "2.1.3", per(0.1, 0.5)),
            ("LSTM", #", "dropout": 0.1, "recurrent_dropout": 0.5, "implementation": 1"#, "2.0.8", per(0.1, 0.5)),
            // Keras 2.0's deprecated implementation=0 ran as 1
            ("LSTM", #", "dropout": 0.2, "recurrent_dropout": 0.2, "implementation": 0"#, "2.0.4", per(0.2, 0.2)),
            // a 3.0 GRU's recurrent_dropout without dropout masked with ones: nothing to carry
            ("GRU", #", "recurrent_dropout": 0.3, "reset_after": true"#, "3.0.5", nil),
            // a Keras 2 config without its implementation: as tf.keras 2.4+ ran it
            ("GRU", #", "dropout": 0.1, "recurrent_dropout": 0.3, "reset_after": true"#, "2.15.0", per(0.1, 0.3)),
            ("LSTM", #", "dropout": 0.1"#, "2.15.0", one(0.1, 0)),
        ]
        for (cls, extra, version, want) in cases {
            XCTAssertEqual(try dropout(cls, extra, version: version), want, "\(cls)\(extra) from \(version)")
        }
    }

    func testConfigRefusals() {
        let refused: [(String, String, String, String)] = [
            ("GRU", #", "recurrent_dropout": 0.3, "implementation": 2, "reset_after": false"#, "2.2.4",
             "implementation=2 with recurrent_dropout=0.3 (an older Keras's GRU"),
            ("GRU", #", "recurrent_dropout": 0.3, "reset_after": true"#, "3.7.0",
             "recurrent_dropout in a GRU saved by Keras 3.7 (before 3.8, Keras 3 multiplied the state itself"),
            ("LSTM", #", "dropout": 1.0"#, "3.5.0", "a rate in [0, 1)"),
            ("LSTM", #", "recurrent_dropout": -0.1"#, "3.5.0", "a rate in [0, 1)"),
        ]
        for (cls, extra, version, message) in refused {
            XCTAssertThrowsError(try dropout(cls, extra, version: version)) { e in
                XCTAssertTrue("\(e)".contains(message), "\(cls)\(extra): \(e)")
            }
        }
    }

    /// A Keras 3.0 to 3.7 file's masks are noted as that version drew them, and a Keras 3
    /// config that records no version says which Keras's masks it gets.
    func testOlderKeras3MasksAreNoted() throws {
        let r = try KerasConfig.check(bytes: config("LSTM", #", "dropout": 0.2, "recurrent_dropout": 0.3"#, version: "3.1.0"), file: "m.json", zip: false)
        XCTAssertTrue(r.layer("rnn")?.notes.contains("recurrent_dropout=0.3 trained as Keras 3.1 did: its state mask drawn at the dropout rate, 0.2") ?? false,
                      "\(r.layer("rnn")?.notes ?? [])")
        let none = try KerasConfig.check(bytes: config("GRU", #", "recurrent_dropout": 0.2, "implementation": 1"#, version: "2.0.9"), file: "m.json", zip: false)
        XCTAssertTrue(none.layer("rnn")?.notes.contains("recurrent_dropout=0.2 trained as Keras 2.0 did: its state mask drawn at the dropout rate, 0.0, so none") ?? false,
                      "\(none.layer("rnn")?.notes ?? [])")
        let shared = try KerasConfig.check(bytes: config("LSTM", #", "recurrent_dropout": 0.25"#, version: "3.6.0"), file: "m.json", zip: false)
        XCTAssertTrue(shared.layer("rnn")?.notes.contains("in-cell dropout as Keras 3.6 drew it: one mask for the state (Keras 3.8 and later draw one per gate with recurrent_dropout)") ?? false,
                      "\(shared.layer("rnn")?.notes ?? [])")
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/keras_config")
        let json = try String(contentsOfFile: fixtures.appendingPathComponent("cell_dropout.config.json").path, encoding: .utf8)
        let bare = try KerasConfig.check(bytes: Array(json.utf8), file: "m.json", zip: false)
        XCTAssertTrue(bare.layer("lstm")?.notes.contains { $0.hasPrefix("in-cell dropout as Keras 3.8 and later draw it (the file records no Keras version") } ?? false,
                      "\(bare.layer("lstm")?.notes ?? [])")
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
        XCTAssertTrue(annotated.layer("lstm_1")?.notes.contains("in-cell dropout 0.2, recurrent_dropout 0.2 (a mask per gate) (annotated), in training only; a mask per gate, as Keras 3.8+ and tf.keras 2.4+ (Keras 3.0-3.7 and 2.3 shared one: annotate implementation=2)") ?? false,
                      "\(annotated.layer("lstm_1")?.notes ?? [])")
        XCTAssertEqual(annotated.layer("gru_1")?.notes.filter { $0.contains("annotate implementation") }, [], "gru_1's implementation is annotated")
        // a glob sets it where it applies; the Dense and the Embedding keep none
        let glob = try XCTUnwrap(checkOK("```modelc\nlayer *: dropout=0.3\n```\n" + Self.table))
        XCTAssertEqual(cell(glob, "lstm_1"), CellDropout(input: 0.3, recurrent: 0, perGate: false))
        XCTAssertEqual(cell(glob, "gru_1"), CellDropout(input: 0.3, recurrent: 0, perGate: false))
    }

    func testTableAnnotationRefusals() {
        checkError("```modelc\nlayer dense_1: dropout=0.2\n```\n" + Self.table,
                   contains: "test.md:2: error: layer 'dense_1' (Dense): dropout=, recurrent_dropout= and implementation= apply to SimpleRNN, LSTM and GRU layers")
        checkError("```modelc\nlayer gru_1: recurrent_dropout=0.2 implementation=2\n```\n" + Self.table,
                   contains: "test.md:2: error: layer 'gru_1': implementation=2 with recurrent_dropout")
        checkError("```modelc\nlayer lstm_1: dropout=1\n```\n" + Self.table, contains: "dropout=1: expected a rate in [0, 1)")
        checkError("```modelc\nlayer lstm_1: implementation=3\n```\n" + Self.table, contains: "implementation=3: expected 1")
    }

    /// Keras's cell settings named on a PyTorch module would change nothing: refused, not ignored.
    func testKerasCellSettingsOnAPyTorchModuleAreRefused() {
        let repr = "```\nNet(\n  (lstm): LSTM(28, 64, batch_first=True)\n  (fc): Linear(in_features=64, out_features=10, bias=True)\n)\n```\n"
        for (key, value) in [("dropout", "0.2"), ("recurrent_dropout", "0.2"), ("recurrent_activation", "hard_sigmoid"), ("implementation", "1")] {
            checkError("```modelc\ninput: shape=28x28\nlayer lstm: \(key)=\(value)\n```\n" + repr,
                       contains: "layer 'lstm' (LSTM): \(key)= is a Keras recurrent layer's setting")
        }
    }
}
