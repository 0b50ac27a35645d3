import XCTest
@testable import ModelcCore

/// PyTorch's 1-D and decoder modules (Conv1d, MaxPool1d, AvgPool1d, AdaptiveAvg/MaxPool1d,
/// ConvTranspose2d, Upsample, UpsamplingNearest2d) in `print(model)` reprs, torchsummary and
/// torchinfo tables: shapes [C, L] read as the IR's [L, C], the input length solved, and the
/// errors for what modelc cannot compute.
final class PyTorchSequenceTests: XCTestCase {
    static let conv1dRepr = """
    ECGNet(
      (conv1): Conv1d(1, 16, kernel_size=(5,), stride=(1,), padding=(2,))
      (bn1): BatchNorm1d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
      (pool1): MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
      (conv2): Conv1d(16, 32, kernel_size=(3,), stride=(2,), bias=False)
      (pool2): AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
      (fc): Linear(in_features=320, out_features=5, bias=True)
    )
    """

    func testConv1dReprWithLengthInferred() throws {
        let r = try XCTUnwrap(checkOK(Self.conv1dRepr, path: "ecg.md"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        // 320 = 32 channels x 10 steps: the smallest length that gives 10 after the pools is 82.
        XCTAssertEqual(r.ir.inputShape, [82, 1])
        XCTAssertTrue(r.ir.layers.first?.notes.contains { $0.hasPrefix("length 82 inferred") && $0.contains("in_features=320 is 32 channels x 10 steps") } ?? false,
                      "\(r.ir.layers.first?.notes ?? [])")
        XCTAssertEqual(r.layer("conv1")?.paramTensors.map(\.shape), [[5, 1, 16], [16]])
        XCTAssertEqual(r.layer("conv1")?.stateDictTensors.first?.shape, [16, 1, 5], "Conv1d weight [O, I, k]")
        XCTAssertEqual(r.layer("conv2")?.outputShape, [20, 32])
        XCTAssertEqual(r.layer("pool2")?.op, .avgPool(PoolAttrs(poolH: 1, poolW: 2, strideH: 1, strideW: 2, padding: .valid)))
        XCTAssertTrue(r.text().contains("[-1, 32, 20]"), r.text())
        let stated = Self.conv1dRepr + "\n```modelc\ninput: shape=1x82\n```\n"
        XCTAssertEqual(checkOK(stated)?.ir.inputShape, [82, 1])
        let wrong = Self.conv1dRepr + "\n```modelc\ninput: shape=1x100\n```\n"
        checkError(wrong, contains: "module 'fc' (Linear): in_features=320 but the input has")
    }

    func testLengthNotFixed() {
        let gap = """
        Net(
          (conv1): Conv1d(2, 8, kernel_size=(3,), stride=(2,))
          (gap): AdaptiveAvgPool1d(output_size=1)
        )
        """
        checkError(gap, contains: "the input length is not stated and every length from 3 fits (no Linear fixes it) (annotate `input: shape=2xL`)")
        let ok = gap + "\n```modelc\ninput: shape=2x20\n```\n"
        XCTAssertEqual(checkOK(ok)?.ir.layers.last?.outputShape, [8], "adaptive pooling to 1 = a pool of 9, then the final flatten")
    }

    func testConvTransposeAndUpsampleRepr() throws {
        let t = """
        Decoder(
          (fc): Linear(in_features=10, out_features=392, bias=True)
          (unflatten): Unflatten(dim=1, unflattened_size=(8, 7, 7))
        )
        """
        checkError(t, contains: "module class Unflatten is not supported")
        let d = """
        Decoder(
          (t1): ConvTranspose2d(8, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))
          (up): Upsample(scale_factor=2.0, mode='nearest')
          (t2): ConvTranspose2d(4, 1, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
          (up2): UpsamplingNearest2d(size=(112, 112), mode='nearest')
        )
        ```modelc
        input: shape=8x7x7
        forward: t1 relu up t2 sigmoid up2
        ```
        """
        let r = try XCTUnwrap(checkOK(d, path: "dec.md"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("t1")?.outputShape, [14, 14, 4])
        XCTAssertEqual(r.layer("up")?.outputShape, [28, 28, 4])
        XCTAssertEqual(r.layer("t2")?.outputShape, [56, 56, 1])
        XCTAssertEqual(r.layer("up2")?.op, .upSampling(sizeH: 2, sizeW: 2))
        XCTAssertEqual(r.layer("t1")?.stateDictTensors.first?.shape, [8, 4, 3, 3], "ConvTranspose2d weight [in, out, kh, kw]")
        XCTAssertEqual(r.ir.totalParams, 8 * 4 * 9 + 4 + 4 * 16)
    }

    func testUnsupportedArguments() {
        func repr(_ line: String) -> String { "Net(\n  (m): \(line)\n  (fc): Linear(in_features=10, out_features=2, bias=True)\n)\n" }
        checkError(repr("Upsample(scale_factor=2.0, mode='bicubic')"), contains: "module 'm' (Upsample): mode=bicubic: only nearest and bilinear upsampling are supported")
        checkError(repr("Upsample(scale_factor=1.5, mode='nearest')"), contains: "scale_factor=1.5: only whole factors from 1 to 64 are supported")
        checkError(repr("ConvTranspose2d(3, 4, kernel_size=(3, 3), stride=(2, 2), output_padding=(2, 2))"),
                   contains: "output_padding=(2, 2): must be smaller than the stride (2, 2)")
        checkError(repr("ConvTranspose2d(3, 4, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2))"),
                   contains: "dilation=(2, 2): dilated transposed convolutions are not supported")
        checkError(repr("Conv1d(3, 4, kernel_size=(3,), stride=(1,), groups=3)"), contains: "groups=3: grouped convolutions are not supported")
        checkError(repr("MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=2, ceil_mode=True)"), contains: "dilation=2: dilated pooling is not supported")
        checkError(repr("Conv1d(3, 4, kernel_size=(3, 5), stride=(1,))"), contains: "kernel_size=(3, 5): a 1-D module takes one size")
    }

    /// The denoiser of the corpus (one pool module called after each convolution) verifies
    /// once `forward:` says so.
    func testDenoiserWithForward() throws {
        let text = try Fixtures.text("pytorch/err_repr_hash_convtranspose_denoiser.txt")
            + "\n```modelc\nforward: conv1 relu pool conv2 relu pool conv3 relu pool t_conv1 relu t_conv2 relu t_conv3 relu conv_out sigmoid\n```\n"
        let r = try XCTUnwrap(checkOK(text))
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.layer("t_conv1")?.outputShape, [7, 7, 8])
        XCTAssertEqual(r.layer("conv_out")?.outputShape, [28, 28, 1])
    }

    func testTorchSummaryRows() throws {
        let t = """
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv1d-1              [-1, 16, 96]             176
               BatchNorm1d-2              [-1, 16, 96]              32
                      ReLU-3              [-1, 16, 96]               0
                 MaxPool1d-4              [-1, 16, 48]               0
                    Conv1d-5              [-1, 32, 46]           1,568
                      ReLU-6              [-1, 32, 46]               0
         AdaptiveAvgPool1d-7               [-1, 32, 1]               0
                    Linear-8                    [-1, 4]             132
        ================================================================
        Total params: 1,908
        Trainable params: 1,908
        Non-trainable params: 0
        ----------------------------------------------------------------
        """
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [105, 1], "176 = 16 x (10 x 1 + 1): kernel 10, unpadded, so 105 steps give 96")
        XCTAssertEqual(r.layer("Conv1d-5")?.outputShape, [46, 32])
        let d = """
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
           ConvTranspose2d-1            [-1, 16, 14, 14]           4,624
                      ReLU-2            [-1, 16, 14, 14]               0
                  Upsample-3            [-1, 16, 28, 28]               0
           ConvTranspose2d-4             [-1, 1, 28, 28]             145
        ================================================================
        Total params: 4,769
        """
        let dr = try XCTUnwrap(checkOK(d + "\n```modelc\ninput: shape=32x7x7\n```\n"))
        XCTAssertTrue(dr.ok, "\(dr.problems)")
        guard case .conv2dTranspose(let a, let oph, _)? = dr.layer("ConvTranspose2d-1")?.op else { return XCTFail("not a transposed conv") }
        XCTAssertEqual([a.kernelH, a.strideH, a.explicitPadH ?? -1, oph], [3, 2, 1, 1], "7 -> 14: 3x3 stride 2 padding 1 output padding 1")
        XCTAssertEqual(dr.layer("Upsample-3")?.op, .upSampling(sizeH: 2, sizeW: 2))
        let bilinear = try XCTUnwrap(checkOK(d + "\n```modelc\ninput: shape=32x7x7\nlayer Upsample-3: interpolation=bilinear align_corners=false\n```\n"))
        XCTAssertEqual(bilinear.layer("Upsample-3")?.op, .upSamplingBilinear(sizeH: 2, sizeW: 2), "the row does not say its mode: annotated")
    }

    /// A first Conv1d's count fixes only in_channels x kernel_size (21,536 = 32 x (672 + 1));
    /// torchsummary's `Input size (MB): 3.50` (C x L floats x 4 / 2^20) fixes the channels: 224
    /// (kernel 3). Verbatim README table: Fixtures/pytorch/ts_speech_onset_conv1d_224ch_input_mb.txt.
    func testTorchSummaryConv1dChannelsFromInputSize() throws {
        let text = try Fixtures.text("pytorch/ts_speech_onset_conv1d_224ch_input_mb.txt")
        let r = try XCTUnwrap(checkOK(text))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.frameworkParamCount, 2_121_153)
        // 224 x 4098 floats print 3.50 MB, as 224 x 4096 do: unpadded first (PyTorch's default padding 0).
        XCTAssertEqual(r.ir.inputShape, [4098, 224])
        XCTAssertTrue(r.ir.assumptions.contains("input shape [224, 4098] (C x L): the first that fits the first row and the table's "
                                                + "Input size (MB) (annotate `input: shape=CxL`)"), "\(r.ir.assumptions)")
        guard case .conv2d(let c)? = r.layer("Conv1d-1")?.op else { return XCTFail("Conv1d-1") }
        XCTAssertEqual([c.kernelW, c.strideW, c.explicitPadW ?? -1], [3, 1, 0])
        // Without the size line the channels are not found: the error says what to annotate.
        let cut = text.replacingOccurrences(of: "Input size (MB): 3.50\n", with: "")
        checkError(cut, contains: "test.md:6: error: Conv1d-1: no Conv1d hyperparameters map [1, 4767] to [32, 4096] with 21,536 params; "
                   + "the input shape is not stated and none tried fits: annotate `input: shape=CxL` (Conv1d-1's count gives in_channels x kernel_size = 672 with a bias)")
        XCTAssertTrue(PyTorchBuilder.fitsInputSize([4096, 224], megabytes: 3.5))
        XCTAssertFalse(PyTorchBuilder.fitsInputSize([4096, 225], megabytes: 3.5))
    }

    func testTorchInfoRows() throws {
        let t = """
        ==========================================================================================
        Layer (type:depth-idx)                   Output Shape              Param #
        ==========================================================================================
        Net                                      [1, 4]                    --
        ├─Conv1d: 1-1                            [1, 8, 30]                32
        ├─BatchNorm1d: 1-2                       [1, 8, 30]                16
        ├─MaxPool1d: 1-3                         [1, 8, 15]                --
        ├─Flatten: 1-4                           [1, 120]                  --
        ├─Linear: 1-5                            [1, 4]                    484
        ==========================================================================================
        Total params: 532
        Trainable params: 532
        Non-trainable params: 0
        """
        let r = try XCTUnwrap(checkOK(t + "\n```modelc\ninput: shape=1x32\n```\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("Conv1d-1-1")?.outputShape, [30, 8])
        XCTAssertEqual(r.layer("BatchNorm1d-1-2")?.paramTensors.first?.shape, [8])
    }
}
