import XCTest
@testable import ModelcCore

/// What re-checking the refused corpus items (issue 17) showed the reader missing: a row printed
/// without its class, a class name in other letter case, a count followed by its working
/// ("= 7*7*256*100"), a first shape-keeping layer, an InputLayer cell cut at the column edge,
/// and the errors that must stay clear.
final class CorpusRecheckTests: XCTestCase {
    static func embeddingRNN(_ rnnRow: String) -> String {
        """
        # ┌─────────────────────┬───────────────────┬────────────┐
        # │ Layer (type)        │ Output Shape      │    Param # │
        # ├─────────────────────┼───────────────────┼────────────┤
        # │ input (InputLayer)  │ (None, 5)         │          0 │
        # │ embed (Embedding)   │ (None, 5, 16)     │     32,000 │
        # │ \(rnnRow)│ (None, 8)         │        200 │
        # │ output (Dense)      │ (None, 1)         │          9 │
        # └─────────────────────┴───────────────────┴────────────┘
        #  Total params: 32,209
        """
    }

    func testUntypedRowWithKerasDefaultNameTakesItsClass() throws {
        let r = try XCTUnwrap(checkOK(Self.embeddingRNN("simple_rnn          ")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.totalParams, 32_209)
        let rnn = try XCTUnwrap(r.ir.layers.first { $0.name == "simple_rnn" })
        XCTAssertEqual(rnn.kind, "SimpleRNN")
        XCTAssertTrue(rnn.notes.contains { $0.contains("Keras default name 'simple_rnn'") }, "\(rnn.notes)")
        // "lstm_3" is LSTM's default name too, but 200 params over 16 features fit no LSTM.
        checkError(Self.embeddingRNN("lstm_3              "), contains: "lstm_3")
        // Any other name tells nothing: the error names the line and says how to annotate.
        checkError(Self.embeddingRNN("my_rnn              "),
                   contains: "test.md:6: error: layer 'my_rnn' has no class name, and 'my_rnn' is not a Keras default layer name")
        checkError(Self.embeddingRNN("my_rnn              "), contains: "annotate `layer my_rnn: kind=TYPE`")
        let annotated = Self.embeddingRNN("my_rnn              ") + "\n<!-- modelc\nlayer my_rnn: kind=SimpleRNN\n-->\n"
        XCTAssertEqual(checkOK(annotated)?.ir.totalParams, 32_209)
    }

    static let conv1dAE = """
    Layer (type)                 Output Shape              Param #
    =================================================================
    input_1 (InputLayer)         [(None, 64, 1)]           0
    _________________________________________________________________
    conv1d (Conv1D)              (None, 64, 16)            64
    _________________________________________________________________
    maX_pooling1d (MaXPooling1D) (None, 32, 16)            0
    _________________________________________________________________
    maX_pooling1d_1 (MaXPooling1 (None, 16, 16)            0
    _________________________________________________________________
    flatten (Flatten)            (None, 256)               0
    _________________________________________________________________
    dense (Dense)                (None, 2)                 514
    =================================================================
    Total params: 578
    Trainable params: 578
    Non-trainable params: 0
    """

    func testClassNameInOtherLetterCase() throws {
        let r = try XCTUnwrap(checkOK(Self.conv1dAE))
        XCTAssertTrue(r.ok, "\(r.problems)")
        for name in ["maX_pooling1d", "maX_pooling1d_1"] {
            let l = try XCTUnwrap(r.ir.layers.first { $0.name == name })
            XCTAssertEqual(l.kind, "MaxPooling1D")
            XCTAssertTrue(l.notes.contains { $0.contains("only the letter case differs") }, "\(l.notes)")
        }
        // A class that matches no supported one in any case is still refused by name.
        checkError(Self.conv1dAE.replacingOccurrences(of: "(MaXPooling1D)", with: "(MaXPoolingXD)"),
                   contains: "layer 'maX_pooling1d' (MaXPoolingXD) is not supported")
    }

    static let dcgan = """
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    dense (Dense)                (None, 12544)             1254400 = 7*7*256*100
    _________________________________________________________________
    batch_normalization (BatchNo (None, 12544)             50176 = 12544*4????
    _________________________________________________________________
    reshape (Reshape)            (None, 7, 7, 256)         0
    _________________________________________________________________
    conv2d_transpose (Conv2DTran (None, 7, 7, 128)         819200 = (5*5*256+0)*128
    =================================================================
    Total params: 2,123,776
    Trainable params: 2,098,688
    Non-trainable params: 25,088
    _________________________________________________________________
    """

    func testCountFollowedByItsWorking() throws {
        let r = try XCTUnwrap(checkOK(Self.dcgan))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual([r.ir.totalParams, r.ir.trainableParams, r.ir.nonTrainableParams], [2_123_776, 2_098_688, 25_088])
        XCTAssertEqual(r.ir.layers.count, 5, "every row is read")
        // Other text after a count is still an error naming the line.
        checkError(Self.dcgan.replacingOccurrences(of: "819200 = (5*5*256+0)*128", with: "819200 conv_1[0][0]"),
                   contains: "test.md:10: error: unexpected text 'conv_1[0][0]' after the parameter count")
    }

    func testFirstShapeKeepingLayerGivesTheInput() throws {
        let text = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        normalization (Normalization) (None, 21)               43
        _________________________________________________________________
        dense (Dense)                (None, 128)               2816
        _________________________________________________________________
        dense_1 (Dense)              (None, 1)                 129
        =================================================================
        Total params: 2,988
        Trainable params: 2,945
        Non-trainable params: 43
        """
        let r = try XCTUnwrap(checkOK(text))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [21])
        XCTAssertEqual(r.ir.nonTrainableParams, 43)
    }

    func testCutInputCellCompletedThroughPermute() throws {
        let text = """
        __________________________________________________________________________________________________
        Layer (type)                    Output Shape         Param #     Connected to
        ==================================================================================================
        input_1 (InputLayer)            [(None, 12, 16, 256 0
        __________________________________________________________________________________________________
        permute (Permute)               (None, 16, 256, 12)  0           input_1[0][0]
        __________________________________________________________________________________________________
        conv2d (Conv2D)                 (None, 8, 128, 32)   3488        permute[0][0]
        ==================================================================================================
        Total params: 3,488
        Trainable params: 3,488
        Non-trainable params: 0
        """
        let r = try XCTUnwrap(checkOK(text))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [12, 16, 256])
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("cut at the column edge") }, "\(r.ir.assumptions)")
        // The last printed dimension may have lost digits: "25" completes to 256 through the Permute.
        let cut = text.replacingOccurrences(of: "[(None, 12, 16, 256 0", with: "[(None, 12, 16, 25  0")
        XCTAssertEqual(checkOK(cut)?.ir.inputShape, [12, 16, 256])
        XCTAssertEqual(CutInputCell.printedDims("[(None, 12, 16, 25"), [12, 16, 25])
        XCTAssertNil(CutInputCell.printedDims("[(None, 12), (None, 3)]"))
    }

    func testUnknownStepsErrorSaysWhatTheRowsAddUpTo() throws {
        let text = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        lstm_1 (LSTM)                (None, 64)                272640
        _________________________________________________________________
        dense_1 (Dense)              (None, 7)                 455
        =================================================================
        Total params: 273,095
        Trainable params: 273,095
        Non-trainable params: 0
        """
        checkError(text, contains: "test.md:3: error: layer 'lstm_1' (LSTM) is the first layer")
        checkError(text, contains: "annotate `input: shape=STEPSx1000` (the rows add up to 273,095 params, declared 273,095)")
        let r = try XCTUnwrap(checkOK(text + "\n<!-- modelc\ninput: shape=10x1000\n-->\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.totalParams, 273_095)
    }

    func testTorchinfoRecurrentRowsPointToTheRepr() {
        let text = """
        ==========================================================================================
        Layer (type:depth-idx)                   Output Shape              Param #
        ==========================================================================================
        LSTMModel                                [512, 5524]               --
        ├─Embedding: 1-1                         [512, 19, 256]            1,414,144
        ├─LSTM: 1-2                              [512, 19, 256]            1,579,008
        ├─Linear: 1-3                            [512, 5524]               1,419,668
        ==========================================================================================
        Total params: 4,412,820
        Trainable params: 4,412,820
        Non-trainable params: 0
        ==========================================================================================
        """
        checkError(text, contains: "test.md:5: error: Embedding-1-1 (Embedding): module class Embedding is not supported in a torchinfo table")
        checkError(text, contains: "give modelc the print(model) repr")
    }

    static func markdownGenerator(batchClass: String, footer: String) -> String {
        """
        | Layer (Type)               | Output Size           | Param #   |
        |----------------------------|-----------------------|-----------|
        | dense (Dense)               | (None, 3136)         | 316,736 |
        | batch_normalization \(batchClass)  | (None, 3136)         | 12,544   |
        | reshape (Reshape)           | (None, 7, 7, 64)    | 0         |
        | conv2d_transpose (Conv2DTranspose) | (None, 14, 14, 1) | 1,025 |
        \(footer)
        """
    }

    func testMarkdownFootersInBoldAndInRows() throws {
        let bold = "\n**Total Params**: 330,305 (1.26 MB)  \n**Trainable Params**: 324,033 (1.24 MB)  \n**Non-trainable Params**: 6,272 (24.50 KB)"
        let inRows = "| | **Total params:** | 330,305 |\n| | **Trainable params:** | 324,033 |\n| | **Non-trainable params:** | 6,272 |"
        for footer in [bold, inRows] {
            let r = try XCTUnwrap(checkOK(Self.markdownGenerator(batchClass: "(BatchNormalization)", footer: footer)))
            XCTAssertTrue(r.ok, "\(r.problems)")
            XCTAssertEqual(r.ir.declared.total, 330_305, "the footer is read, not left undeclared")
            XCTAssertEqual(r.ir.declared.nonTrainable, 6_272)
        }
        // A bold footer that disagrees is a mismatch, never an undeclared OK.
        let wrong = bold.replacingOccurrences(of: "330,305", with: "330,306")
        let r = try XCTUnwrap(checkOK(Self.markdownGenerator(batchClass: "(BatchNormalization)", footer: wrong)))
        XCTAssertFalse(r.ok)
    }

    /// Footer rows with the label in the Layer column (published READMEs): the figure in the
    /// Output Shape or the Param # column, or a hand-made table's bare `**Total**`.
    func testMarkdownFooterLabelInTheLayerColumn() throws {
        let forms = [
            "| **Total params:** | | **330,305** |\n| **Trainable params:** | | **324,033** |\n| **Non-trainable params:** | | **6,272** |",
            "| **Total params**: | **330,305** | |\n| **Trainable params**: | **324,033** | |\n| **Non-trainable params**: | **6,272** | |",
            "| **Total** | | **330,305** |\n| **Trainable** | | **324,033** |\n| **Non-trainable**| | **6,272** |",
        ]
        for footer in forms {
            let r = try XCTUnwrap(checkOK(Self.markdownGenerator(batchClass: "(BatchNormalization)", footer: footer)))
            XCTAssertTrue(r.ok, "\(r.problems)")
            XCTAssertEqual(r.ir.declared, DeclaredTotals(total: 330_305, trainable: 324_033, nonTrainable: 6_272), footer)
        }
        // Checked like any footer (one held whole in the Layer cell was once glued onto the last
        // row's name, its figure never read); a row under them, or totals under a line where
        // reading stopped, still end the table early.
        for wrong in [forms[0].replacingOccurrences(of: "330,305", with: "330,306"), "| Total params: 330,306 | | |"] {
            XCTAssertEqual(checkOK(Self.markdownGenerator(batchClass: "(BatchNormalization)", footer: wrong))?.ok, false, wrong)
        }
        checkError(Self.markdownGenerator(batchClass: "(BatchNormalization)", footer: forms[2] + "\n| dense_9 (Dense) | (None, 2) | 4 |"),
                   contains: "looks like a layer row but comes after the table's footer")
        checkError(Self.markdownGenerator(batchClass: "(BatchNormalization)", footer: "(see the notebook)\n" + forms[0]),
                   contains: "test.md:7: error: reading the table stopped here at '(see the notebook)'")
    }

    func testClassClosedByHandAfterACut() throws {
        let r = try XCTUnwrap(checkOK(Self.markdownGenerator(batchClass: "(Batch)", footer: "")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        let bn = try XCTUnwrap(r.ir.layers.first { $0.name == "batch_normalization" })
        XCTAssertEqual(bn.kind, "BatchNormalization")
        XCTAssertTrue(bn.notes.contains { $0.contains("is no class: read as cut short") }, "\(bn.notes)")
        // Three letters are too few to tell a cut from a custom class.
        checkError(Self.markdownGenerator(batchClass: "(Bat)", footer: ""), contains: "layer 'batch_normalization' (Bat) is not supported")
    }

    func testBatchNormOverAnotherAxisIsNamed() {
        let text = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        conv2d_1 (Conv2D)            (None, 26, 26, 32)        320
        _________________________________________________________________
        batch_normalization_1 (Batch (None, 26, 26, 32)        104
        _________________________________________________________________
        flatten_1 (Flatten)          (None, 21632)             0
        =================================================================
        Total params: 424
        """
        checkError(text, contains: "test.md:5: error: layer 'batch_normalization_1' (BatchNormalization)")
        checkError(text, contains: "104 = 4 x 26, the size of axis 1: a BatchNormalization(axis=1) over a non-channel axis is not supported")
    }
}

