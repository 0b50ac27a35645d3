import XCTest
@testable import ModelcCore

/// What the second corpus of published summaries (issue 17) showed the reader missing:
/// R knitr `## ` and MATLAB `% ` prefixes, Keras 2.2-2.5 Output Shape cells cut at the column
/// edge, variable-length token inputs, and frozen layers.
final class PublishedQuirksTests: XCTestCase {
    static let mlp = """
    Layer (type)                 Output Shape              Param #
    =================================================================
    flatten (Flatten)            (None, 784)               0
    _________________________________________________________________
    dense (Dense)                (None, 64)                50240
    _________________________________________________________________
    dense_1 (Dense)              (None, 10)                650
    =================================================================
    Total params: 50,890
    Trainable params: 50,890
    Non-trainable params: 0
    """

    func prefixed(_ p: String) -> String {
        Self.mlp.split(separator: "\n", omittingEmptySubsequences: false).map { p + $0 }.joined(separator: "\n")
    }

    func testKnitrAndMatlabCommentPrefixes() throws {
        for p in ["## ", "% "] {
            let r = try XCTUnwrap(checkOK(prefixed(p)))
            XCTAssertTrue(r.ok, "prefix '\(p)': \(r.problems)")
            XCTAssertEqual(r.ir.totalParams, 50_890)
        }
        // A markdown heading run before the table is still not a prefix.
        checkError(prefixed("### "), contains: "the summary table has a header but no layer rows")
    }

    func testMatlabCommentedPyTorchRepr() throws {
        let text = """
        % Net(
        %   (fc1): Linear(in_features=784, out_features=64, bias=True)
        %   (fc2): Linear(in_features=64, out_features=10, bias=True)
        % )
        """
        let r = try XCTUnwrap(checkOK(text))
        XCTAssertEqual(r.ir.totalParams, 50_890)
    }

    static func cutInput(_ shape: String) -> String {
        """
        __________________________________________________________________________________________________
        Layer (type)                    Output Shape         Param #     Connected to
        ==================================================================================================
        img_in (InputLayer)             \(shape) 0
        __________________________________________________________________________________________________
        conv2d_1 (Conv2D)               (None, 110, 110, 24) 1824        img_in[0][0]
        __________________________________________________________________________________________________
        flatten (Flatten)               (None, 290400)       0           conv2d_1[0][0]
        __________________________________________________________________________________________________
        dense (Dense)                   (None, 2)            580802      flatten[0][0]
        ==================================================================================================
        Total params: 582,626
        Trainable params: 582,626
        Non-trainable params: 0
        """
    }

    func testKeras2InputShapeCutAtTheColumnEdge() throws {
        // "[(None, 224, 224, 3)]" lost its "]", one space before the count.
        let r = try XCTUnwrap(checkOK(Self.cutInput("[(None, 224, 224, 3)")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [224, 224, 3])
        guard case .conv2d(let a)? = r.layer("conv2d_1")?.op else { return XCTFail("no conv") }
        XCTAssertEqual([a.kernelH, a.strideH], [5, 2])
        // "[(None, 224, 224" lost its last dimension too: inferred from the layer it feeds.
        let cut = try XCTUnwrap(checkOK(Self.cutInput("[(None, 224, 224   ")))
        XCTAssertTrue(cut.ok, "\(cut.problems)")
        XCTAssertEqual(cut.ir.layers.last?.outputShape, [2])
    }

    static let imdb = """
    Layer (type)                 Output Shape              Param #
    =================================================================
    embedding (Embedding)        (None, None, 32)          320000
    _________________________________________________________________
    simple_rnn (SimpleRNN)       (None, 32)                2080
    _________________________________________________________________
    dense (Dense)                (None, 1)                 33
    =================================================================
    Total params: 322,113
    Trainable params: 322,113
    Non-trainable params: 0
    """

    func testVariableLengthTokensNeedTheSteps() throws {
        checkError(Self.imdb, contains: "reads a variable-length sequence (steps printed as None in (None, None, 32)); modelc compiles a fixed number of steps: annotate `input: shape=STEPS`")
        let r = try XCTUnwrap(checkOK(Self.imdb + "\n<!-- modelc\ninput: shape=200\n-->\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [200])
        XCTAssertEqual(r.layer("embedding")?.outputShape, [200, 32])
    }

    func testFrozenEmbeddingIsInferredFromTheDeclaredSplit() throws {
        let frozen = Self.imdb.replacingOccurrences(of: "Trainable params: 322,113", with: "Trainable params: 2,113")
            .replacingOccurrences(of: "Non-trainable params: 0", with: "Non-trainable params: 320,000")
        let r = try XCTUnwrap(checkOK(frozen + "\n<!-- modelc\ninput: shape=80\n-->\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        let e = try XCTUnwrap(r.layer("embedding"))
        XCTAssertEqual(e.frozen, true)
        XCTAssertTrue(e.paramTensors.allSatisfy { !$0.trainable })
        XCTAssertTrue(e.notes.contains { $0.contains("frozen (trainable=False)") }, "\(e.notes)")
        XCTAssertEqual([r.ir.trainableParams, r.ir.nonTrainableParams], [2_113, 320_000])
        XCTAssertNil(r.layer("simple_rnn")?.frozen)
        // A split no layer (or frozen base) explains stays an error.
        let odd = Self.imdb.replacingOccurrences(of: "Trainable params: 322,113", with: "Trainable params: 322,000")
            .replacingOccurrences(of: "Non-trainable params: 0", with: "Non-trainable params: 113")
        let bad = try XCTUnwrap(checkOK(odd + "\n<!-- modelc\ninput: shape=80\n-->\n"))
        XCTAssertFalse(bad.ok)
        XCTAssertTrue(bad.problems.contains { $0.description.contains("trainable params: computed 322,113, declared 322,000") }, "\(bad.problems)")
    }

    func testFrozenBaseRunFromTheFirstLayer() throws {
        let text = Self.mlp.replacingOccurrences(of: "Trainable params: 50,890", with: "Trainable params: 650")
            .replacingOccurrences(of: "Non-trainable params: 0", with: "Non-trainable params: 50,240")
        let r = try XCTUnwrap(checkOK(text))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("dense")?.frozen, true)
        XCTAssertNil(r.layer("dense_1")?.frozen)
        // Everything frozen: the run of both layers.
        let all = Self.mlp.replacingOccurrences(of: "Trainable params: 50,890", with: "Trainable params: 0")
            .replacingOccurrences(of: "Non-trainable params: 0", with: "Non-trainable params: 50,890")
        let a = try XCTUnwrap(checkOK(all))
        XCTAssertTrue(a.ok, "\(a.problems)")
        XCTAssertEqual(a.ir.layers.filter { $0.frozen == true }.map(\.name), ["dense", "dense_1"])
    }

    func testFirstBidirectionalLayerGetsItsInputFromItsCount() throws {
        let text = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        bidirectional (Bidirectional (None, 20, 256)           177152
        _________________________________________________________________
        bidirectional_1 (Bidirection (None, 128)               164352
        _________________________________________________________________
        dense (Dense)                (None, 5)                 645
        =================================================================
        Total params: 342,149
        """
        let r = try XCTUnwrap(checkOK(text))
        XCTAssertTrue(r.ok, "\(r.problems)")
        // 177,152 / 2 = 4 x 128 x (D + 128 + 1): D = 44 features per step.
        XCTAssertEqual(r.ir.inputShape, [20, 44])
    }
}
