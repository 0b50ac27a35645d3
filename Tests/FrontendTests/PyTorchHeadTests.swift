// The head of a PyTorch model (Frontend/PyTorchHead.swift): a Dropout declared after it is
// called before it, and one output without a sigmoid is a binary classifier's logit
// (BCEWithLogitsLoss), never a softmax over one value.

import XCTest
@testable import ModelcCore

final class PyTorchHeadTests: XCTestCase {
    /// fc -> sigmoid -> dropout, as declared (verbatim README: Fixtures/pytorch/repr_ffnn_sigmoid_dropout_declared_last.txt):
    /// forward() calls the dropout before fc, so the sigmoid is the head, a binary classifier.
    func testDropoutDeclaredAfterTheHeadIsCalledBeforeIt() throws {
        let r = try XCTUnwrap(checkOK(try Fixtures.text("pytorch/repr_ffnn_sigmoid_dropout_declared_last.txt")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.frameworkParamCount, 17_651)
        XCTAssertEqual(Array(r.ir.layers.map(\.name).suffix(3)), ["dropout", "fc", "sig"])
        XCTAssertTrue(r.ir.isBinaryClassifier)
        XCTAssertEqual(r.ir.classNames, ["1"])
        XCTAssertTrue(r.ir.assumptions.contains("'dropout' (declared after 'fc', the last Conv/Linear module) called before it: "
                                                + "dropout on the model's outputs is not a head (annotate `forward: ...` for another place)"), "\(r.ir.assumptions)")
        // `forward:` says the order: nothing moves.
        let fwd = try XCTUnwrap(checkOK(try Fixtures.text("pytorch/repr_ffnn_sigmoid_dropout_declared_last.txt")
                                        + "\n```modelc\nforward: input_layer relu hidden_layer relu fc sig dropout\n```\n"))
        XCTAssertEqual(fwd.ir.layers.last?.name, "dropout")
    }

    /// `Linear(512, 1)` last, no sigmoid (Fixtures/summaries/pytorch_repr_embedding_padding_bilstm2_imdb.txt, an IMDB
    /// SentimentLSTM): binary_crossentropy on the logit, not a softmax cross-entropy over one value (constant: nothing trains).
    func testOneOutputWithoutSigmoidIsABinaryLogit() throws {
        let repr = try Fixtures.text("summaries/pytorch_repr_embedding_padding_bilstm2_imdb.txt")
        func annotated(_ extra: String = "") -> String { repr + "\n```modelc\ninput: shape=256\nlayer lstm: output=hidden\n\(extra)```\n" }
        let r = try XCTUnwrap(checkOK(annotated()))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.training.loss, .binaryCrossEntropy)
        XCTAssertEqual(Array(r.ir.layers.map(\.name).suffix(2)), ["dropout", "fc"])
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("train: loss=binary_crossentropy: 'fc' outputs one value and no sigmoid follows") },
                      "\(r.ir.assumptions)")
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasSuffix("(defaults; annotate `train:`)") && $0.contains(" loss=binary_crossentropy ") },
                      "\(r.ir.assumptions)")
        XCTAssertFalse(r.ir.assumptions.contains { $0.contains("loss=crossentropy") }, "\(r.ir.assumptions)")
        XCTAssertTrue(r.ir.assumptions.contains("classes: binary (one logit: P(class 1) = sigmoid(output); annotate `classes:` to name it)"))
        XCTAssertTrue(r.text().contains("loss=binary_crossentropy"), r.text())
        // crossentropy annotated is the binary one here; a regression says so; a softmax loss is an error.
        XCTAssertEqual(checkOK(annotated("train: loss=crossentropy\n"))?.ir.training.loss, .binaryCrossEntropy)
        XCTAssertEqual(checkOK(annotated("train: loss=mse\n"))?.ir.training.loss, .meanSquaredError)
        checkError(annotated("train: loss=sparse_categorical_crossentropy\n"),
                   contains: "'fc' outputs the model's one value: loss=sparse_categorical_crossentropy compares classes, and one value is one class, so nothing trains")
        checkError(annotated("train: loss=margin\n"), contains: "loss=margin compares classes")
    }

    /// The same for a table (torchsummary's `Linear-3 [-1, 1]`), and a sigmoid flattened last (a
    /// DCGAN discriminator's [1, 1, 1] probability) is a sigmoid head, as without the flatten.
    func testTableLogitAndFlattenedSigmoidHeads() throws {
        let table = """
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Linear-1                   [-1, 16]          12,560
                      ReLU-2                   [-1, 16]               0
                    Linear-3                    [-1, 1]              17
        ================================================================
        Total params: 12,577
        """
        let t = try XCTUnwrap(checkOK(table))
        XCTAssertTrue(t.ok, "\(t.problems)")
        XCTAssertEqual(t.ir.training.loss, .binaryCrossEntropy)
        let d = try XCTUnwrap(checkOK(try Fixtures.text("pytorch/repr_dcgan_discriminator_notebook.txt")))
        XCTAssertEqual(d.ir.layers.last?.op, .flatten)
        XCTAssertTrue(d.ir.isBinaryClassifier)
        XCTAssertEqual(d.ir.training.loss, .crossEntropy)   // on a sigmoid head: binary cross-entropy on its probability
    }

    /// Review cases: a ReLU module declared beside a Sigmoid head is reused (not put on the logits);
    /// a Sequential's trailing Sigmoid gets no ReLU inserted; a Tanh head is no logit.
    func testReluBesideASigmoidHeadSequentialAndTanhHeads() throws {
        let flat = try XCTUnwrap(checkOK("""
        Net(
          (fc1): Linear(in_features=784, out_features=64, bias=True)
          (fc2): Linear(in_features=64, out_features=32, bias=True)
          (fc3): Linear(in_features=32, out_features=1, bias=True)
          (relu): ReLU()
          (sigmoid): Sigmoid()
        )
        """))
        let ops = flat.ir.layers.map(\.op)
        XCTAssertEqual(ops.last, .activation(.sigmoid))
        XCTAssertEqual(ops.filter { $0 == .activation(.relu) }.count, 2, "\(flat.ir.layers.map(\.name))")
        XCTAssertNotEqual(ops.dropLast().last, .activation(.relu), "relu on the logits: \(flat.ir.layers.map(\.name))")
        let seq = try XCTUnwrap(checkOK("""
        Sequential(
          (0): Linear(in_features=784, out_features=32, bias=True)
          (1): Linear(in_features=32, out_features=1, bias=True)
          (2): Sigmoid()
        )
        """))
        XCTAssertFalse(seq.ir.layers.contains { $0.op == .activation(.relu) }, "\(seq.ir.layers.map(\.name))")
        let tanh = try XCTUnwrap(checkOK("""
        Net(
          (fc1): Linear(in_features=784, out_features=32, bias=True)
          (fc2): Linear(in_features=32, out_features=1, bias=True)
          (tanh): Tanh()
        )
        """))
        XCTAssertNotEqual(tanh.ir.training.loss, .binaryCrossEntropy)
    }
}
