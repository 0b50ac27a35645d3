import XCTest
@testable import ModelcCore

/// The 1-D layers (Conv1D, MaxPooling1D, AveragePooling1D, GlobalMax/AveragePooling1D) and the
/// decoder layers (UpSampling2D, Conv2DTranspose) in Keras tables: inference of what the table
/// omits, the report, and the errors.
final class SequenceDecoderTests: XCTestCase {
    func conv(_ r: CheckReport, _ name: String) throws -> Conv2DAttrs {
        switch r.layer(name)?.op {
        case .conv2d(let a)?, .conv2dTranspose(let a, _, _)?: return a
        default: throw ModelError(file: "test", line: nil, message: "\(name) is not a convolution")
        }
    }

    func pool(_ r: CheckReport, _ name: String) throws -> PoolAttrs {
        switch r.layer(name)?.op {
        case .maxPool(let a)?, .avgPool(let a)?: return a
        default: throw ModelError(file: "test", line: nil, message: "\(name) is not a pool")
        }
    }

    /// Conv1D valid/same/strided/dilated, no bias, 1-D pools and global pools, Flatten of a sequence.
    func testConv1DInference() throws {
        let t = InferenceTests.table([("input_1", "InputLayer", "178, 1", 0),
                                      ("conv1d", "Conv1D", "176, 32", 128),          // 32*(3*1+1): k3 valid
                                      ("conv1d_1", "Conv1D", "88, 16", 2560),        // 16*(5*32): k5 s2 same, no bias
                                      ("max_pooling1d", "MaxPooling1D", "44, 16", 0),
                                      ("conv1d_2", "Conv1D", "40, 8", 392),          // 8*(3*16+1): k3 dilation 2 valid
                                      ("average_pooling1d", "AveragePooling1D", "13, 8", 0),
                                      ("flatten", "Flatten", "104", 0),
                                      ("dense", "Dense", "5", 525)])
        let r = try Frontend.check(text: t, path: "ecg.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        let a = try conv(r, "conv1d"), b = try conv(r, "conv1d_1"), d = try conv(r, "conv1d_2")
        XCTAssertEqual([a.kernelH, a.kernelW, a.strideW, a.dilationW], [1, 3, 1, 1])
        XCTAssertEqual(a.padding, .valid)
        XCTAssertEqual([b.kernelW, b.strideW], [5, 2])
        XCTAssertEqual(b.padding, .same)
        XCTAssertFalse(b.useBias)
        XCTAssertEqual([d.kernelW, d.dilationW, d.dilationH], [3, 2, 1])
        let p = try pool(r, "max_pooling1d"), q = try pool(r, "average_pooling1d")
        XCTAssertEqual([p.poolH, p.poolW, p.strideH, p.strideW], [1, 2, 1, 2])
        XCTAssertEqual([q.poolW, q.strideW], [3, 3])
        XCTAssertEqual(r.layer("conv1d")?.paramTensors.first?.shape, [3, 1, 32], "Keras Conv1D kernel [k, CI, CO]")
        XCTAssertEqual(r.layer("conv1d")?.outputShape, [176, 32])
        XCTAssertTrue(r.text().contains("3 s1 valid, bias"), r.text())
        XCTAssertTrue(r.text().contains("3 d2 s1 valid"), r.text())
        XCTAssertTrue(r.json().contains("\"kernel\": [3], \"strides\": [1]"), r.json())
    }

    func testGlobalPooling1DAndInputGuess() throws {
        // No InputLayer row: the input (L, C) is guessed from the first Conv1D's count.
        let t = InferenceTests.table([("conv1d_1", "Conv1D", "100, 64", 256),           // 64*(3*1+1)
                                      ("global_max_pooling1d_1", "GlobalMaxPooling1D", "64", 0),
                                      ("dense_1", "Dense", "1", 65)])
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.ir.inputShape, [100, 1])
        XCTAssertEqual(r.layer("global_max_pooling1d_1")?.op, .globalMaxPool)
        let cut = t.replacingOccurrences(of: "global_max_pooling1d_1 (Glob", with: "global_max_pooling1d_1 (Glo")
        XCTAssertEqual(checkOK(cut)?.layer("global_max_pooling1d_1")?.kind, "GlobalMaxPooling1D", "a cut class completed from the layer name")
        let avg = t.replacingOccurrences(of: "global_max_pooling1d_1 (Glob", with: "global_average_pooling1d_1 (")
        XCTAssertEqual(checkOK(avg)?.layer("global_average_pooling1d_1")?.op, .globalAvgPool)
    }

    func testOneDErrors() {
        let image = InferenceTests.table([("input_1", "InputLayer", "28, 28, 1", 0), ("conv1d", "Conv1D", "26, 32", 128)])
        checkError(image, contains: "test.md:6: error: layer 'conv1d' (Conv1D): Conv1D needs a sequence input (steps, channels) but gets (28, 28, 1)")
        let seq = InferenceTests.table([("input_1", "InputLayer", "178, 1", 0), ("conv1d", "Conv1D", "176, 32", 130)])
        checkError(seq, contains: "layer 'conv1d' (Conv1D): no kernel/stride/padding/bias maps (178, 1) to (176, 32) with 130 params; nearest: 3 s1 valid, bias = 128")
        let ok = InferenceTests.table([("input_1", "InputLayer", "178, 1", 0), ("conv1d", "Conv1D", "176, 32", 128)])
        // Causal padding keeps the length (as 'same'): it cannot give 176 steps from 178.
        checkError(ok + "\n```modelc\nlayer conv1d: padding=causal\n```\n", contains: "no kernel/stride/padding/bias maps (178, 1) to (176, 32)")
        let causal = ok.replacingOccurrences(of: "(None, 176, 32)", with: "(None, 178, 32)")
        if case .conv2d(let a)? = checkOK(causal + "\n```modelc\nlayer conv1d: padding=causal\n```\n")?.layer("conv1d")?.op {
            XCTAssertEqual([a.kernelW, a.strideW], [3, 1])
            XCTAssertEqual(a.padding, .causal)
        } else { XCTFail("causal Conv1D") }
        checkError(ok + "\n```modelc\nlayer conv1d: kernel=3x5\n```\n", contains: "kernel=3x5: a Conv1D takes one size (e.g. kernel=5)")
        XCTAssertEqual(checkOK(ok + "\n```modelc\nlayer conv1d: kernel=3 stride=1 padding=valid\n```\n")?.ok, true)
        let pool = InferenceTests.table([("input_1", "InputLayer", "10, 4", 0), ("max_pooling1d", "MaxPooling1D", "5, 4", 8)])
        checkError(pool, contains: "has 8 params but MaxPooling1D has none")
    }

    func testUpSampling2D() throws {
        let t = InferenceTests.table([("input_1", "InputLayer", "7, 5, 3", 0),
                                      ("up_sampling2d", "UpSampling2D", "14, 15, 3", 0),
                                      ("conv2d", "Conv2D", "14, 15, 1", 28)])
        let r = try Frontend.check(text: t, path: "up.md")
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.layer("up_sampling2d")?.op, .upSampling(sizeH: 2, sizeW: 3))
        XCTAssertTrue(r.json().contains("\"size\": [2, 3], \"interpolation\": \"nearest\""), r.json())
        let odd = t.replacingOccurrences(of: "(None, 14, 15, 3)", with: "(None, 15, 15, 3)")
        checkError(odd, contains: "nearest upsampling by whole factors cannot map (7, 5, 3) to (15, 15, 3)")
        XCTAssertEqual(checkOK(t + "\n```modelc\nlayer up_sampling2d: interpolation=bilinear\n```\n")?.layer("up_sampling2d")?.op,
                       .upSamplingBilinear(sizeH: 2, sizeW: 3))
        checkError(t + "\n```modelc\nlayer up_sampling2d: interpolation=bicubic\n```\n",
                   contains: "interpolation=bicubic: expected nearest or bilinear")
        checkError(t + "\n```modelc\nlayer conv2d: size=2\n```\n", contains: "layer 'conv2d' (Conv2D) has no 'size' setting")
    }

    func testConv2DTransposeInference() throws {
        let t = InferenceTests.table([("input_1", "InputLayer", "7, 7, 64", 0),
                                      ("conv2d_transpose", "Conv2DTranspose", "14, 14, 32", 18464),   // 3*3*64*32 + 32: s2 same
                                      ("conv2d_transpose_1", "Conv2DTranspose", "30, 30, 16", 8208),  // 4*4*32*16 + 16: s2 valid
                                      ("conv2d_transpose_2", "Conv2DTranspose", "90, 90, 1", 64)])    // 2*2*16*1, no bias: s3 valid (k < s)
        let r = try Frontend.check(text: t, path: "dec.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        let a = try conv(r, "conv2d_transpose"), b = try conv(r, "conv2d_transpose_1"), c = try conv(r, "conv2d_transpose_2")
        XCTAssertEqual([a.kernelH, a.kernelW, a.strideH, a.filters], [3, 3, 2, 32])
        XCTAssertEqual(a.padding, .same)
        XCTAssertEqual([b.kernelH, b.strideH], [4, 2])
        XCTAssertEqual(b.padding, .valid)
        XCTAssertEqual([c.kernelH, c.strideH], [2, 3])
        XCTAssertFalse(c.useBias)
        XCTAssertEqual(r.layer("conv2d_transpose")?.paramTensors.map(\.shape), [[3, 3, 32, 64], [32]], "kernel [kh, kw, filters, in]")
        let bad = t.replacingOccurrences(of: "18464", with: "18465")
        checkError(bad, contains: "layer 'conv2d_transpose' (Conv2DTranspose): no kernel/stride/padding/bias maps (7, 7, 64) to (14, 14, 32) with 18,465 params; nearest: 3x3 s2 same, bias = 18,464")
    }

    /// The same layers in a Keras 3 box table and a markdown pipe table.
    func testLayouts() throws {
        let box = """
        ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
        ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
        │ input_layer (InputLayer)        │ (None, 20, 2)          │             0 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ conv1d (Conv1D)                 │ (None, 18, 8)          │            56 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ global_average_pooling1d        │ (None, 8)              │             0 │
        │ (GlobalAveragePooling1D)        │                        │               │
        └─────────────────────────────────┴────────────────────────┴───────────────┘
         Total params: 56 (224.00 B)
         Trainable params: 56 (224.00 B)
         Non-trainable params: 0 (0.00 B)
        """
        let r = try XCTUnwrap(checkOK(box))
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.layer("global_average_pooling1d")?.op, .globalAvgPool)
        let md = """
        | Layer (type) | Output Shape | Param # |
        |---|---|---|
        | input_1 (InputLayer) | (None, 4, 4, 8) | 0 |
        | conv2d_transpose_1 (Conv2DTranspose) | (None, 8, 8, 4) | 132 |
        | up_sampling2d_1 (UpSampling2D) | (None, 16, 16, 4) | 0 |

        Total params: 132
        """
        let m = try XCTUnwrap(checkOK(md))
        XCTAssertTrue(m.ok)
        XCTAssertEqual(try conv(m, "conv2d_transpose_1").kernelH, 2)
    }
}
