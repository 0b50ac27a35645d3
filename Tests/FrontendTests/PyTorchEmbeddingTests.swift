import XCTest
@testable import ModelcCore

/// nn.Embedding(padding_idx=...) and nn.EmbeddingBag in `print(model)` reprs: the IR, the
/// counts, the padding row's zero start, and the errors for what changes the math, for a
/// missing token count, and for the tables that cannot show these modules' arguments.
final class PyTorchEmbeddingTests: XCTestCase {
    func annotated(_ repr: String, _ lines: String...) -> String {
        repr + "\n```modelc\n" + lines.joined(separator: "\n") + "\n```\n"
    }

    func net(_ module: String, _ next: String = "(fc): Linear(in_features=4, out_features=2, bias=True)") -> String {
        "Net(\n  (emb): \(module)\n  \(next)\n)"
    }

    static let gru = "(gru): GRU(4, 3, batch_first=True)"

    func testEmbeddingPaddingIdx() throws {
        let r = try XCTUnwrap(checkOK(annotated(net("Embedding(10, 4, padding_idx=0)", Self.gru), "input: shape=7")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("emb")?.op, .embedding(vocab: 10, dim: 4, paddingIdx: 0))
        XCTAssertEqual(r.layer("emb")?.outputShape, [7, 4])
        XCTAssertEqual(r.layer("emb")?.paramTensors.first?.zeroRow, 0)
        XCTAssertEqual(r.layer("emb")?.stateDictTensors.map(\.key), ["emb.weight"])
        XCTAssertEqual(r.ir.totalParams, 40 + 3 * (3 * (4 + 3) + 2 * 3))
        XCTAssertTrue(r.layer("emb")?.notes.contains { $0.contains("row 0 starts at zero and never trains") } ?? false)
        XCTAssertTrue(r.text().contains("padding_idx 0"), r.text())
        // Negative: counted from the end. None: no padding row.
        let neg = try XCTUnwrap(checkOK(annotated(net("Embedding(10, 4, padding_idx=-1)", Self.gru), "input: shape=7")))
        XCTAssertEqual(neg.layer("emb")?.op, .embedding(vocab: 10, dim: 4, paddingIdx: 9))
        let none = try XCTUnwrap(checkOK(annotated(net("Embedding(10, 4, padding_idx=None, sparse=True)", Self.gru), "input: shape=7")))
        XCTAssertEqual(none.layer("emb")?.op, .embedding(vocab: 10, dim: 4))
        XCTAssertNil(none.layer("emb")?.paramTensors.first?.zeroRow)
        XCTAssertTrue(none.layer("emb")?.notes.contains { $0.contains("sparse=True: the same gradient values, computed dense") } ?? false)
    }

    func testEmbeddingBagModes() throws {
        for mode in EmbeddingBagMode.allCases {
            for quoted in [true, false] {
                let m = quoted ? "'\(mode.rawValue)'" : mode.rawValue   // torch < 1.4 printed mode=mean
                let r = try XCTUnwrap(checkOK(annotated(net("EmbeddingBag(10, 4, mode=\(m), padding_idx=1)"), "input: shape=12")))
                XCTAssertTrue(r.ok, "\(r.problems)")
                XCTAssertEqual(r.layer("emb")?.op, .embeddingBag(EmbeddingBagAttrs(vocab: 10, dim: 4, mode: mode, paddingIdx: 1)))
                XCTAssertEqual(r.layer("emb")?.inputShape, [12])
                XCTAssertEqual(r.layer("emb")?.outputShape, [4])
                XCTAssertEqual(r.layer("emb")?.paramTensors.first?.zeroRow, 1)
                XCTAssertEqual(r.ir.totalParams, 40 + 10)
                XCTAssertEqual(r.ir.layers.map(\.name), ["input", "emb", "fc"], "no flatten between the bag and the Linear")
            }
        }
        let r = try XCTUnwrap(checkOK(annotated(net("EmbeddingBag(10, 4, mode='sum')"), "input: shape=12")))
        XCTAssertEqual(r.layer("emb")?.op, .embeddingBag(EmbeddingBagAttrs(vocab: 10, dim: 4, mode: .sum)))
        XCTAssertTrue(r.text().contains("mode sum"), r.text())
        XCTAssertTrue(r.text().contains("[-1, 12]"), r.text())
    }

    func testErrors() {
        func module(_ m: String, _ msg: String, line: UInt = #line) {
            checkError(annotated(net(m), "input: shape=10"), contains: msg, line: line)
        }
        module("Embedding(10, 4, padding_idx=10)", "module 'emb' (Embedding): padding_idx=10: expected a row index from -10 to 9")
        module("EmbeddingBag(10, 4, mode='mean', padding_idx=-11)", "padding_idx=-11: expected a row index from -10 to 9")
        module("Embedding(10, 4, max_norm=1.0)", "max_norm=1.0 (rows renormalized at lookup) is not supported")
        module("EmbeddingBag(10, 4, max_norm=2.0, mode='sum')", "max_norm=2.0 (rows renormalized at lookup) is not supported")
        module("EmbeddingBag(10, 4, scale_grad_by_freq=True, mode='mean')", "scale_grad_by_freq=True (gradients scaled by the ids' frequency in the batch) is not supported")
        module("EmbeddingBag(10, 4, mode='median')", "mode='median': expected 'sum', 'mean' or 'max'")
        module("EmbeddingBag(10, 4)", "missing mode")
        module("EmbeddingBag(10, 4, mode='sum', include_last_offset=True)", "include_last_offset=True (bags given by offsets) is not supported")
        module("Embedding(10, 4, padding=0)", "unknown argument padding=0")
        module("Embedding(10, 4, 0)", "expected num_embeddings, embedding_dim and keyword arguments")
        module("EmbeddingBag(0, 4, mode='sum')", "implausible sizes")
        // The line is named.
        checkError(annotated(net("Embedding(10, 4, max_norm=1.0)")), contains: "test.md:2:")
        // No token count: the annotation is named.
        checkError(net("EmbeddingBag(10, 4, mode='mean')"),
                   contains: "module 'emb' (EmbeddingBag) reads token ids (one bag per sample), and the repr does not say how many: annotate `input: shape=STEPS`")
        checkError(annotated(net("EmbeddingBag(10, 4, mode='mean')"), "input: shape=3x4"), contains: "annotate `input: shape=STEPS`")
        // An Embedding's sequence cannot go straight into a Linear; a bag can.
        checkError(annotated(net("Embedding(10, 4, padding_idx=0)"), "input: shape=10"), contains: "module 'fc' reads the whole output sequence of 'emb'")
    }

    func testTablesRefuseWithTheReprAdvice() {
        let ts = """
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
              EmbeddingBag-1                   [-1, 4]              40
                    Linear-2                   [-1, 2]              10
        ================================================================
        Total params: 50
        Trainable params: 50
        Non-trainable params: 0
        ----------------------------------------------------------------
        """
        checkError(ts, contains: "module class EmbeddingBag is not supported in a torchsummary table")
        let ti = """
        ==========================================================================================
        Layer (type:depth-idx)                   Output Shape              Param #
        ==========================================================================================
        Net                                      [1, 2]                    --
        ├─EmbeddingBag: 1-1                      [1, 4]                    40
        ├─Linear: 1-2                            [1, 2]                    10
        ==========================================================================================
        Total params: 50
        Trainable params: 50
        Non-trainable params: 0
        ==========================================================================================
        """
        checkError(ti, contains: "module class EmbeddingBag is not supported in a torchinfo table")
    }
}
