import XCTest
@testable import ModelcCore

/// nn.LSTM, nn.GRU, nn.RNN and nn.Embedding in `print(model)` reprs (issue 17): one layer per
/// num_layers with PyTorch's state_dict names, `output=` for what forward keeps, and the errors
/// for what modelc cannot compute or the repr cannot say.
final class PyTorchRecurrentTests: XCTestCase {
    static let rowLSTM = """
    RNNClassifier(
      (lstm): LSTM(28, 64, num_layers=2, batch_first=True, dropout=0.2)
      (fc): Linear(in_features=64, out_features=10, bias=True)
    )
    """

    func annotated(_ repr: String, _ lines: String...) -> String {
        repr + "\n```modelc\n" + lines.joined(separator: "\n") + "\n```\n"
    }

    func testStackedLSTMWithDropoutAndLastStep() throws {
        let r = try XCTUnwrap(checkOK(annotated(Self.rowLSTM, "input: shape=28x28")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["input", "lstm", "lstm_dropout0", "lstm_l1", "fc"])
        XCTAssertEqual(r.layer("lstm_dropout0")?.op, .dropout(rate: 0.2, spatial: false))
        guard case .recurrent(let a0)? = r.layer("lstm")?.op, case .recurrent(let a1)? = r.layer("lstm_l1")?.op else {
            return XCTFail("not recurrent")
        }
        XCTAssertTrue(a0.returnSequences)
        XCTAssertFalse(a1.returnSequences, "out[:, -1] by default")
        XCTAssertEqual(a1.biasRows, 2)
        // 4·(64·(28+64) + 2·64) + 4·(64·(64+64) + 2·64) + 650
        XCTAssertEqual(r.ir.totalParams, 24064 + 33280 + 650)
        XCTAssertEqual(r.layer("lstm_l1")?.stateDictTensors.map(\.key),
                       ["lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1"])
        XCTAssertEqual(r.layer("lstm")?.stateDictTensors.map(\.shape), [[256, 28], [256, 64], [256], [256]])
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("forward keeps out[:, -1]") && $0.contains("output=sequence|last|hidden") },
                      "\(r.ir.assumptions)")
        XCTAssertTrue(r.text().contains("[-1, 28, 28]"), r.text())
    }

    func testGRUWithoutBiasAndBidirectionalHidden() throws {
        let t = """
        Net(
          (embedding): Embedding(5000, 32)
          (gru): GRU(32, 16, bias=False, bidirectional=True)
          (out): Linear(in_features=32, out_features=1, bias=True)
        )
        """
        checkError(annotated(t, "input: shape=100"), contains: "module 'gru' (GRU) is bidirectional, and the repr does not show what forward keeps")
        checkError(annotated(t, "input: shape=100", "layer gru: output=last"), contains: "output=last (out[:, -1]) of a bidirectional module is not supported")
        let r = try XCTUnwrap(checkOK(annotated(t, "input: shape=100", "layer gru: output=hidden")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("embedding")?.op, .embedding(vocab: 5000, dim: 32))
        guard case .recurrent(let a)? = r.layer("gru")?.op else { return XCTFail("not recurrent") }
        XCTAssertEqual(a.biasRows, 0)
        XCTAssertTrue(a.resetAfter)
        XCTAssertEqual(a.bidirectional, .concat)
        XCTAssertEqual(r.layer("gru")?.outputShape, [32])
        XCTAssertEqual(r.layer("gru")?.stateDictTensors.map(\.key),
                       ["gru.weight_ih_l0", "gru.weight_hh_l0", "gru.weight_ih_l0_reverse", "gru.weight_hh_l0_reverse"])
        XCTAssertEqual(r.ir.totalParams, 5000 * 32 + 2 * 3 * 16 * (32 + 16) + 33)
    }

    func testSequenceOutputAndErrors() {
        let two = """
        Net(
          (rnn1): RNN(8, 16, batch_first=True)
          (rnn2): GRU(16, 4, batch_first=True)
          (fc): Linear(in_features=4, out_features=2, bias=True)
        )
        """
        let r = checkOK(annotated(two, "input: shape=10x8"))
        XCTAssertEqual(r?.ok, true)
        XCTAssertTrue(r?.ir.assumptions.contains { $0.contains("forward passes its whole output sequence to 'rnn2'") } ?? false)
        XCTAssertTrue(r?.ir.assumptions.contains { $0.contains("nn.RNN nonlinearity tanh") } ?? false)
        checkError(two, contains: "module 'rnn1' (RNN) reads a sequence of 8 features per step, and the repr does not say how many steps: annotate `input: shape=STEPSx8`")
        checkError(annotated(two, "input: shape=8x10"), contains: "module 'rnn1' (RNN) reads STEPSx8")
        checkError(annotated(two, "input: shape=10x8", "layer rnn2: output=sequence"),
                   contains: "module 'fc' reads the whole output sequence of 'rnn2': only a recurrent module may")
        checkError(annotated(two, "input: shape=10x8", "layer rnn2: output=every"), contains: "output=every: expected last")
        func module(_ m: String, _ msg: String) {
            checkError(annotated("Net(\n  (m): \(m)\n  (fc): Linear(in_features=4, out_features=2, bias=True)\n)", "input: shape=10"), contains: msg)
        }
        module("LSTM(8, 4, proj_size=2)", "proj_size (an LSTM with projections) is not supported")
        module("RNN(8, 4, nonlinearity='relu')", "nonlinearity='relu': only tanh is supported")
        module("Embedding(10, 4, padding_idx=10)", "padding_idx=10: expected a row index from -10 to 9")
        module("Embedding(10, 4, max_norm=1.0)", "max_norm=1.0 (rows renormalized at lookup) is not supported")
        module("LSTM(8, 0)", "implausible sizes")
        checkError(annotated("Net(\n  (e): Embedding(10, 4)\n  (fc): Linear(in_features=4, out_features=2, bias=True)\n)", "input: shape=10"),
                   contains: "module 'fc' reads the whole output sequence of 'e'")
    }
}
