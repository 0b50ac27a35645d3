import XCTest
@testable import ModelcCore

/// Keras tables printed channels-first, (C, H, W) (Keras 1 with image_dim_ordering='th'; issue 17):
/// the order is read from the shapes and counts, never guessed, and said.
final class DataFormatTests: XCTestCase {
    static let kaggle = "summaries/keras2_hash_channels_first_kaggle_mnist.txt"

    func testChannelsFirstWhenThePrintedOrderFitsNoLayer() throws {
        guard let r = checkOK(try Fixtures.text(Self.kaggle)) else { return }
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertTrue(r.ir.channelsFirst)
        XCTAssertEqual(r.ir.flattenOrder, .chw)
        XCTAssertEqual(r.ir.inputShape, [28, 28, 1])
        XCTAssertEqual(r.layer("conv2d_1")?.outputShape, [26, 26, 32], "(None, 32, 26, 26) is 32 channels of 26x26")
        guard case .conv2d(let a)? = r.layer("conv2d_1")?.op else { return XCTFail("conv2d_1") }
        XCTAssertEqual([a.kernelH, a.kernelW, a.filters], [3, 3, 32])
        XCTAssertEqual(r.layer("max_pooling2d_1")?.op, .maxPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: .valid)))
        let why = r.ir.assumptions.first { $0.hasPrefix("shapes read as channels-first (C, H, W)") } ?? ""
        XCTAssertTrue(why.contains("read as printed (H, W, C) they fit no layer (line 5: layer 'conv2d_1'"), why)
        // The report shows the shapes as the table printed them, and the flatten order.
        XCTAssertTrue(r.text().contains("(None, 32, 26, 26)"))
        XCTAssertTrue(r.text().contains("CHW order (channels-first)"))
        XCTAssertTrue(r.json().contains("\"data_format\": \"channels_first\""))
        XCTAssertFalse(try Frontend.check(text: LayoutTests.keras2, path: "k.md").json().contains("data_format"))
    }

    static func mlp(_ input: String) -> String {
        InferenceTests.table([("input_1", "InputLayer", input, 0), ("flatten_1", "Flatten", "784", 0), ("dense_1", "Dense", "10", 7850)])
    }

    func testBothOrdersFit() throws {
        // Nothing tells the channel axis: the Keras default, with a word when the other input looks likelier.
        guard let th = checkOK(Self.mlp("1, 28, 28")) else { return }
        XCTAssertFalse(th.ir.channelsFirst)
        XCTAssertTrue(th.ir.assumptions.contains { $0.contains("no convolution or normalization tells the channel axis; if the model was built with image_dim_ordering='th' (input (1, 28, 28) as C, H, W)") },
                      "\(th.ir.assumptions)")
        guard let tf = checkOK(Self.mlp("28, 28, 1")) else { return }
        XCTAssertFalse(tf.ir.channelsFirst)
        XCTAssertEqual(tf.ir.flattenOrder, .hwc)
        XCTAssertFalse(tf.ir.assumptions.contains { $0.contains("channel") })
        // A convolution's count tells the axis: 40 = 4 x (3x3x1 + 1) only on one 5x5 channel.
        let conv = InferenceTests.table([("input_1", "InputLayer", "1, 5, 5", 0), ("conv2d_1", "Conv2D", "4, 5, 5", 40)])
        guard let c = checkOK(conv) else { return }
        XCTAssertTrue(c.ir.channelsFirst)
        XCTAssertEqual(c.ir.inputShape, [5, 5, 1])
        // A convolution that fits both ways with 3 input channels either way: refused unless annotated.
        let amb = InferenceTests.table([("input_1", "InputLayer", "3, 4, 3", 0), ("conv2d_1", "Conv2D", "3, 4, 3", 84)])   // 3 x (3x3x3 + 1)
        checkError(amb, contains: "the image shapes fit both channels-last (H, W, C) order, with input (3, 4, 3), and channels-first (C, H, W) order")
        checkError(amb, contains: "annotate `input: data_format=channels_last` or `input: data_format=channels_first`")
        XCTAssertEqual(checkOK(amb + "\n```modelc\ninput: data_format=channels_first\n```\n")?.ir.inputShape, [4, 3, 3])
        XCTAssertEqual(checkOK(amb + "\n```modelc\ninput: data_format=tf\n```\n")?.ir.channelsFirst, false)
    }

    func testForcedOrderErrorsAndReshape() throws {
        // Forcing channels-last on a channels-first table gives that reading's error.
        checkError(try Fixtures.text(Self.kaggle) + "\n```modelc\ninput: data_format=channels_last\n```\n",
                   contains: "layer 'conv2d_1' (Conv2D): no kernel/stride/padding/bias maps")
        checkError(Self.mlp("1, 28, 28") + "\n```modelc\ninput: data_format=sideways\n```\n",
                   contains: "input data_format=sideways: expected channels_first or channels_last (Keras 1: th or tf)")
        // A Reshape lays values out in the model's order: not supported channels-first.
        let reshape = try Fixtures.text(Self.kaggle).replacingOccurrences(of: "#flatten_1 (Flatten)          (None, 4608)              0",
                                                                         with: "#reshape_1 (Reshape)          (None, 32, 144, 1)        0\n#flatten_1 (Flatten)          (None, 4608)              0")
        checkError(reshape, contains: "layer 'reshape_1' (Reshape): a Reshape in a channels-first (C, H, W) table orders its elements differently")
        // data_format= means nothing to a PyTorch model.
        checkError(PyTorchTests.net + PyTorchTests.forward + "\n<!-- modelc\ninput: data_format=channels_first\n-->\n",
                   contains: "input: data_format= applies to Keras tables")
    }

    func testNeitherOrderFitsReportsTheFurtherOne() throws {
        // conv2d_2's count is wrong: as (C, H, W) the table reads up to it, as printed not past conv2d_1.
        let bad = try Fixtures.text(Self.kaggle).replacingOccurrences(of: "9248", with: "9249")
        checkError(bad, contains: "layer 'conv2d_2' (Conv2D): no kernel/stride/padding/bias maps (26, 26, 32) to (24, 24, 32)")
        checkError(bad, contains: "(shapes read as channels-first (C, H, W), which fit further down the table)")
    }
}
