import XCTest
@testable import ModelcCore

/// Hyperparameter inference from shapes and counts: each case is a small Keras 2 table.
final class InferenceTests: XCTestCase {
    /// Builds a Keras 2 style table from (name, type, shape, count) rows.
    static func table(_ rows: [(String, String, String, Int)], footer: String = "") -> String {
        var s = "_________________________________________________________________\n"
        s += "Layer (type)                 Output Shape              Param #   \n"
        s += "=================================================================\n"
        for (n, t, shape, c) in rows {
            var col0 = "\(n) (\(t))"
            if col0.count > 28 { col0 = String(col0.prefix(28)) }
            s += col0.padding(toLength: 29, withPad: " ", startingAt: 0)
            s += "(None, \(shape))".padding(toLength: 26, withPad: " ", startingAt: 0) + "\(c)\n"
            s += "_________________________________________________________________\n"
        }
        return s + footer
    }

    func conv(_ r: CheckReport, _ name: String) -> Conv2DAttrs? {
        switch r.layer(name)?.op {
        case .conv2d(let a)?, .separableConv2d(let a, _)?, .depthwiseConv2d(let a, _)?: return a
        default: return nil
        }
    }

    func testNonSquareKernels4x1Then1x4() throws {
        // Seed 003 style: k x 1 then 1 x k (k = 4) on KMNIST.
        let t = Self.table([("input_1", "InputLayer", "28, 28, 1", 0),
                            ("conv2d_1", "Conv2D", "25, 28, 32", 160),      // 32*(4*1*1+1)
                            ("conv2d_2", "Conv2D", "25, 25, 32", 4128),     // 32*(1*4*32+1)
                            ("flatten_1", "Flatten", "20000", 0),
                            ("dense_1", "Dense", "10", 200010)])
        let r = try Frontend.check(text: t, path: "k4.md")
        XCTAssertTrue(r.ok)
        let a = try XCTUnwrap(conv(r, "conv2d_1")), b = try XCTUnwrap(conv(r, "conv2d_2"))
        XCTAssertEqual([a.kernelH, a.kernelW, a.strideH, a.strideW], [4, 1, 1, 1])
        XCTAssertEqual([b.kernelH, b.kernelW], [1, 4])
        XCTAssertEqual(a.padding, .valid)
        XCTAssertTrue(a.useBias && b.useBias)
    }

    func testStridesAndSamePaddingOddSizes() throws {
        // 28 -> 14 'same' stride 2; 14 -> 6 valid 3x3 stride 2; 7 -> 4 same stride 2 (ceil).
        let t = Self.table([("input_1", "InputLayer", "28, 28, 3", 0),
                            ("conv2d_1", "Conv2D", "14, 14, 8", 224),     // 8*(3*3*3+1)
                            ("conv2d_2", "Conv2D", "6, 6, 8", 584),       // 8*(9*8+1)
                            ("conv2d_3", "Conv2D", "3, 3, 4", 292)])      // 4*(9*8+1)
        let r = try Frontend.check(text: t, path: "s.md")
        let a = try XCTUnwrap(conv(r, "conv2d_1")), b = try XCTUnwrap(conv(r, "conv2d_2")), c = try XCTUnwrap(conv(r, "conv2d_3"))
        XCTAssertEqual([a.kernelH, a.strideH], [3, 2]); XCTAssertEqual(a.padding, .same)
        XCTAssertEqual([b.kernelH, b.strideH], [3, 2]); XCTAssertEqual(b.padding, .valid)
        // 6 -> 3: valid 3x3 s2 gives 2, same s2 gives 3 (TF: ceil(6/2)).
        XCTAssertEqual([c.kernelH, c.strideH], [3, 2]); XCTAssertEqual(c.padding, .same)
    }

    func testAsymmetricZeroPadding() throws {
        let t = Self.table([("input_1", "InputLayer", "28, 28, 1", 0),
                            ("zero_padding2d_1", "ZeroPadding2D", "29, 31, 1", 0)])
        let r = try Frontend.check(text: t, path: "z.md")
        XCTAssertEqual(r.layer("zero_padding2d_1")?.op, .zeroPadding(top: 0, bottom: 1, left: 1, right: 2))
        // Annotation picks the other side.
        let ann = t + "\n```modelc\nlayer zero_padding2d_1: pad=1,0,2,1\n```\n"
        let r2 = try Frontend.check(text: ann, path: "z.md")
        XCTAssertEqual(r2.layer("zero_padding2d_1")?.op, .zeroPadding(top: 1, bottom: 0, left: 2, right: 1))
    }

    func testDepthwiseMultiplierAndSeparable() throws {
        let t = Self.table([("input_1", "InputLayer", "28, 28, 3", 0),
                            ("depthwise_conv2d_1", "DepthwiseConv2D", "26, 26, 6", 60),   // 3*3*3*2 + 6
                            ("separable_conv2d_1", "SeparableConv2D", "24, 24, 16", 166),  // 3*3*6*1 + 6*16 + 16
                            ("depthwise_conv2d_2", "DepthwiseConv2D", "22, 22, 48", 432)]) // 3*3*16*3 no bias
        let r = try Frontend.check(text: t, path: "d.md")
        XCTAssertTrue(r.ok)
        guard case .depthwiseConv2d(let a, let m)? = r.layer("depthwise_conv2d_1")?.op else { return XCTFail() }
        XCTAssertEqual([a.kernelH, a.kernelW, m], [3, 3, 2]); XCTAssertTrue(a.useBias)
        XCTAssertEqual(r.layer("depthwise_conv2d_1")?.paramCount, 60)
        guard case .separableConv2d(let s, let sm)? = r.layer("separable_conv2d_1")?.op else { return XCTFail() }
        XCTAssertEqual([s.kernelH, s.kernelW, s.strideH, sm], [3, 3, 1, 1])
        XCTAssertTrue(s.useBias)
        XCTAssertEqual(r.layer("separable_conv2d_1")?.paramTensors.map(\.shape), [[3, 3, 6, 1], [1, 1, 6, 16], [16]])
        guard case .depthwiseConv2d(let d, let dm)? = r.layer("depthwise_conv2d_2")?.op else { return XCTFail() }
        XCTAssertEqual([d.kernelH, dm], [3, 3]); XCTAssertFalse(d.useBias)
    }

    func testBatchNormScaleCenterAndDenseBias() throws {
        let t = Self.table([("input_1", "InputLayer", "64", 0),
                            ("batch_normalization_1", "BatchNormalization", "64", 192),   // 3C: center only (choice)
                            ("dense_1", "Dense", "32", 2048),                             // no bias
                            ("batch_normalization_2", "BatchNormalization", "32", 64),    // 2C: neither
                            ("dense_2", "Dense", "10", 330)])
        let r = try Frontend.check(text: t, path: "bn.md")
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.layer("batch_normalization_1")?.op, .batchNorm(BatchNormAttrs(scale: false, center: true)))
        XCTAssertTrue(r.layer("batch_normalization_1")?.notes.joined().contains("choice") ?? false)
        XCTAssertEqual(r.layer("batch_normalization_2")?.op, .batchNorm(BatchNormAttrs(scale: false, center: false)))
        XCTAssertEqual(r.layer("dense_1")?.op, .dense(units: 32, useBias: false, activation: .relu))
        XCTAssertEqual(r.ir.nonTrainableParams, 2 * 64 + 2 * 32)
        // scale=true forces the other 3C reading.
        let ann = t + "\n<!-- modelc\nlayer batch_normalization_1: scale=true\n-->\n"
        XCTAssertEqual(try Frontend.check(text: ann, path: "bn.md").layer("batch_normalization_1")?.op,
                       .batchNorm(BatchNormAttrs(scale: true, center: false)))
    }

    func testPoolChoicesAndOverride() throws {
        let t = Self.table([("input_1", "InputLayer", "28, 28, 8", 0),
                            ("max_pooling2d_1", "MaxPooling2D", "14, 14, 8", 0),
                            ("average_pooling2d_1", "AveragePooling2D", "6, 6, 8", 0),
                            ("max_pooling2d_2", "MaxPooling2D", "5, 5, 8", 0)])
        let r = try Frontend.check(text: t, path: "pool.md")
        XCTAssertEqual(r.layer("max_pooling2d_1")?.op, .maxPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: .valid)))
        // 14 -> 6: 2x2/s2 gives 7, 3x3/s3 gives 4; stride = pool impossible → 4x4 s2 valid (6) is not = pool; smallest stride...
        guard case .avgPool(let a)? = r.layer("average_pooling2d_1")?.op else { return XCTFail() }
        XCTAssertEqual(Inference.outDim(14, k: a.poolH, s: a.strideH, a.padding), 6)
        // 6 -> 5: 2x2 stride 1 valid.
        XCTAssertEqual(r.layer("max_pooling2d_2")?.op, .maxPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 1, strideW: 1, padding: .valid)))
        let ann = t + "\n```modelc\nlayer max_pooling2d_1: pool=2 stride=2 padding=same\n```\n"
        XCTAssertEqual(try Frontend.check(text: ann, path: "pool.md").layer("max_pooling2d_1")?.op,
                       .maxPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: .same)))
    }

    func testNonSquarePoolSizesAndStrides() throws {
        // (1, 128, 16) -> (1, 32, 16): the height is kept (1x1 window, stride 1), the width pooled by 4.
        let t = Self.table([("input_1", "InputLayer", "1, 128, 1", 0),
                            ("conv2d_1", "Conv2D", "1, 128, 16", 64),          // 16*(1*3*1+1), 'same'
                            ("max_pooling2d_1", "MaxPooling2D", "1, 32, 16", 0),
                            ("average_pooling2d_1", "AveragePooling2D", "1, 8, 16", 0),
                            ("max_pooling2d_2", "MaxPooling2D", "1, 4, 16", 0)])
        let r = try Frontend.check(text: t, path: "p14.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("max_pooling2d_1")?.op, .maxPool(PoolAttrs(poolH: 1, poolW: 4, strideH: 1, strideW: 4, padding: .valid)))
        XCTAssertEqual(r.layer("average_pooling2d_1")?.op, .avgPool(PoolAttrs(poolH: 1, poolW: 4, strideH: 1, strideW: 4, padding: .valid)))
        XCTAssertEqual(r.layer("max_pooling2d_2")?.op, .maxPool(PoolAttrs(poolH: 1, poolW: 2, strideH: 1, strideW: 2, padding: .valid)))
        // Several fits: the conventional one is taken and the choice is reported, as for square pools.
        let note = r.layer("max_pooling2d_1")?.notes.joined() ?? ""
        XCTAssertTrue(note.hasPrefix("choice: 1x4 s1x4 valid is the conventional one of"), note)
        XCTAssertTrue(note.contains("1x4 s1x4 same"), note)
        // An annotation picks another fit.
        let ann = t + "\n```modelc\nlayer max_pooling2d_1: padding=same\n```\n"
        XCTAssertEqual(try Frontend.check(text: ann, path: "p14.md").layer("max_pooling2d_1")?.op,
                       .maxPool(PoolAttrs(poolH: 1, poolW: 4, strideH: 1, strideW: 4, padding: .same)))
        // Both dimensions pooled, differently: (28, 28) -> (14, 7) is 2x4 with strides 2x4.
        let t2 = Self.table([("input_1", "InputLayer", "28, 28, 8", 0), ("max_pooling2d_1", "MaxPooling2D", "14, 7, 8", 0)])
        XCTAssertEqual(try Frontend.check(text: t2, path: "p24.md").layer("max_pooling2d_1")?.op,
                       .maxPool(PoolAttrs(poolH: 2, poolW: 4, strideH: 2, strideW: 4, padding: .valid)))
        // A pool that changes nothing is still refused (it pools nothing), unless annotated.
        let t3 = Self.table([("input_1", "InputLayer", "1, 1, 1", 0), ("max_pooling2d_1", "MaxPooling2D", "1, 1, 1", 0)])
        checkError(t3, contains: "no pool size/stride/padding maps (1, 1, 1) to (1, 1, 1)")
        XCTAssertEqual(try Frontend.check(text: t3 + "\n```modelc\nlayer max_pooling2d_1: pool=1 stride=1\n```\n", path: "p11.md")
                        .layer("max_pooling2d_1")?.op, .maxPool(PoolAttrs(poolH: 1, poolW: 1, strideH: 1, strideW: 1, padding: .valid)))
    }

    func testKernelOverrideResolvesAmbiguity() throws {
        let t = Self.table([("input_1", "InputLayer", "28, 28, 1", 0), ("conv2d_1", "Conv2D", "28, 28, 32", 320)])
        let r = try Frontend.check(text: t, path: "a.md")
        XCTAssertEqual(conv(r, "conv2d_1")?.kernelH, 3)
        XCTAssertTrue(r.layer("conv2d_1")?.notes.contains { $0.hasPrefix("choice: 3x3 s1 same, bias") } ?? false)
        let r2 = try Frontend.check(text: t + "\n```modelc\nlayer conv2d_1: kernel=1x9\n```\n", path: "a.md")
        XCTAssertEqual(conv(r2, "conv2d_1").map { [$0.kernelH, $0.kernelW] }, [1, 9])
        XCTAssertTrue(r2.layer("conv2d_1")?.notes.isEmpty ?? false)
        // An override that contradicts the table is an error naming the layer.
        checkError(t + "\n```modelc\nlayer conv2d_1: kernel=5x5\n```\n", contains: "a.md:6: error: layer 'conv2d_1' (Conv2D): no kernel/stride/padding/bias maps (28, 28, 1) to (28, 28, 32) with 320 params", path: "a.md")
    }

    func testNoFitNamesLayerNumbersAndNearest() {
        let t = Self.table([("input_1", "InputLayer", "32, 32, 1", 0), ("conv2d_1", "Conv2D", "26, 26, 32", 1500)])
        checkError(t, contains: "n.md:6: error: layer 'conv2d_1' (Conv2D): no kernel/stride/padding/bias maps (32, 32, 1) to (26, 26, 32) with 1,500 params; nearest: 7x7 s1 valid, no bias = 1,568; 7x7 s1 valid, bias = 1,600", path: "n.md")
        let d = Self.table([("input_1", "InputLayer", "100", 0), ("dense_1", "Dense", "10", 1005)])
        checkError(d, contains: "n.md:6: error: layer 'dense_1' (Dense): 100 inputs x 10 units cannot make 1,005 params; nearest: 10 units with bias = 1,010; 10 units without bias = 1,000", path: "n.md")
        let bn = Self.table([("input_1", "InputLayer", "8, 8, 16", 0), ("batch_normalization_1", "BatchNormalization", "8, 8, 16", 100)])
        checkError(bn, contains: "BatchNormalization over 16 channels has 4x, 3x or 2x 16 params, not 100; nearest: scale+center = 64", path: "n.md")
        let fl = Self.table([("input_1", "InputLayer", "2, 2, 128", 0), ("flatten_1", "Flatten", "500", 0)])
        checkError(fl, contains: "flattening (2, 2, 128) gives (512), the table says (500)", path: "n.md")
    }

    func testDilatedConvolutionWhenNothingElseFits() throws {
        let t = Self.table([("input_1", "InputLayer", "28, 28, 32", 0), ("depthwise_conv2d_1", "DepthwiseConv2D", "24, 24, 32", 288)])
        let r = try Frontend.check(text: t, path: "dil.md")
        let a = try XCTUnwrap(conv(r, "depthwise_conv2d_1"))
        XCTAssertEqual([a.kernelH, a.dilationH, a.strideH], [3, 2, 1])
        XCTAssertTrue(r.json().contains("\"dilation_rate\": [2, 2]"))
        XCTAssertTrue(r.layer("depthwise_conv2d_1")?.notes.joined().contains("dilation rate 2x2 inferred") ?? false)
        // An annotated dilation is used as given (5x5 with rate 1 does not fit 288 params: error).
        checkError(t + "\n```modelc\nlayer depthwise_conv2d_1: dilation=1\n```\n", contains: "dil.md:6: error: layer 'depthwise_conv2d_1'", path: "dil.md")
    }

    func testTruncatedTypesResolvedByNameAndEvidence() throws {
        let t = Self.table([("input_1", "InputLayer", "8, 8, 4", 0),
                            ("global_max_pooling2d_1", "GlobalMaxPooling2D", "4", 0),   // prints "(Gl"
                            ("dense_1", "Dense", "2", 10)])
        XCTAssertTrue(t.contains("global_max_pooling2d_1 (Glob "))
        let r = try Frontend.check(text: t, path: "g.md")
        XCTAssertEqual(r.layer("global_max_pooling2d_1")?.kind, "GlobalMaxPooling2D")
        // A custom name with a cut type that two classes fit alike: an error, not the first of them
        // (CutLayerTypeTests has more).
        let custom = Self.table([("input_1", "InputLayer", "8, 8, 4", 0),
                                 ("pool_of_everything_xyzw", "GlobalMaxPooling2D", "4", 0),
                                 ("dense_1", "Dense", "2", 10)])
        XCTAssertTrue(custom.contains("pool_of_everything_xyzw (Glo "))
        checkError(custom, contains: "g.md:6: error: layer 'pool_of_everything_xyzw': the type (Glo… is cut short and several of its candidates", path: "g.md")
        // kind= annotation overrides.
        let r3 = try Frontend.check(text: custom + "\n```modelc\nlayer pool_of_everything_xyzw: kind=GlobalMaxPooling2D\n```\n", path: "g.md")
        XCTAssertEqual(r3.layer("pool_of_everything_xyzw")?.op, .globalMaxPool)
    }

    /// No input row: a first Conv2D printing 222x222 reads 'valid' padding from 224x224 (a common
    /// image size and Keras's default padding), not 'same' from 222x222; a size that is common
    /// already (28x28) stays as found.
    func testGuessedInputPrefersACommonImageSize() throws {
        let r = try Frontend.check(path: Fixtures.path("summaries/keras2_tinyvgg_no_input_row_valid_224.txt"))
        XCTAssertEqual(r.ir.inputShape, [224, 224, 3])
        guard case .conv2d(let a)? = r.layer("conv2d")?.op else { return XCTFail("no conv2d") }
        XCTAssertEqual(a.padding, .valid)
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("a common image size the first Conv2D reads with 'valid' padding (Keras's default), preferred to (222, 222, 3), which also fits") }, "\(r.ir.assumptions)")
        // A first guess that is a common size already says nothing of a preference.
        let mnist = try Frontend.check(text: """
            Layer (type)        Output Shape         Param #
            ==================================================
            conv2d (Conv2D)     (None, 26, 26, 8)    80
            flatten (Flatten)   (None, 5408)         0
            dense (Dense)       (None, 10)           54090
            ==================================================
            Total params: 54,170
            """, path: "m.md")
        XCTAssertEqual(mnist.ir.inputShape, [28, 28, 1])
        XCTAssertTrue(mnist.ir.assumptions.contains { $0.hasPrefix("input shape (28, 28, 1): not printed") }, "\(mnist.ir.assumptions)")
        XCTAssertFalse(mnist.ir.assumptions.contains { $0.contains("preferred") }, "\(mnist.ir.assumptions)")
    }

    /// A Flatten-first table without an input row reads a square grey or RGB image: 150,528 is
    /// 224x224x3 (mrdbourke/tensorflow-deep-learning, notebook 03), not 28x28x192.
    func testAFlattenFirstReadsASquareImage() throws {
        XCTAssertEqual(IRBuilder.flattenedImages(784), [[28, 28, 1], [784]])
        XCTAssertEqual(IRBuilder.flattenedImages(3072), [[32, 32, 3], [3072]])
        XCTAssertEqual(IRBuilder.flattenedImages(150_528), [[224, 224, 3], [28, 28, 192], [150_528]])
        XCTAssertEqual(IRBuilder.flattenedImages(2352), [[28, 28, 3], [2352]])
        XCTAssertEqual(IRBuilder.flattenedImages(4704), [[28, 28, 6], [4704]])
        XCTAssertEqual(IRBuilder.flattenedImages(48), [[48]])
        let r = try Frontend.check(text: """
            Layer (type)                 Output Shape              Param #
            =================================================================
            flatten_2 (Flatten)          (None, 150528)            0
            dense_4 (Dense)              (None, 100)               15052900
            dense_7 (Dense)              (None, 1)                 101
            =================================================================
            Total params: 15,053,001
            """, path: "mlp.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [224, 224, 3])
    }

    /// A first Conv2D with a large kernel and no input row reads a common size with a stride:
    /// AlexNet's 11x11 to 54x54 from 224x224 with stride 4 (not 64x64 with stride 1).
    func testALargeFirstKernelReadsAStridedCommonSize() throws {
        let r = try Frontend.check(path: Fixtures.path("summaries/keras2_alexnet_no_input_row_stride4.txt"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [224, 224, 3])
        guard case .conv2d(let a)? = r.layer("conv2d_1")?.op else { return XCTFail("no conv2d_1") }
        XCTAssertEqual(a.strideH, 4)
        XCTAssertEqual(a.padding, .valid)
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("an ImageNet-scale size the 11x11 first Conv2D reads with a stride, as published large first kernels do, preferred to (54, 54, 3)") })
        // A 7x7 on a dataset-sized input stays as found: Geron's Fashion-MNIST CNN (28x28 'same'),
        // an MNIST 7x7 'valid' (28 to 22).
        // ResNet's stem printing 112x112 (Conv2D(64, 7, strides=2, padding='same')) reads 224 with stride 2.
        for (out, params, input) in [(28, 3200, [28, 28, 1]), (22, 1600, [28, 28, 1]), (112, 9472, [224, 224, 3])] {
            let f = out == 22 ? 32 : 64
            let table = """
                Layer (type)                 Output Shape              Param #
                =================================================================
                conv2d (Conv2D)              (None, \(out), \(out), \(f))        \(params)
                flatten (Flatten)            (None, \(out * out * f))             0
                dense (Dense)                (None, 10)                \(out * out * f * 10 + 10)
                =================================================================
                """
            let g = try Frontend.check(text: table, path: "g.md")
            XCTAssertEqual(g.ir.inputShape, input, table)
        }
    }

    /// `layer *: recurrent_activation=hard_sigmoid` sets every LSTM and GRU of a table (and
    /// nothing else); naming another layer is an error; a Keras 2 table's slope is 0.2.
    func testRecurrentActivationAnnotation() throws {
        let fixture = try Fixtures.text("numerics/hard_sigmoid_gates/model.md")
        let glob = fixture.replacingOccurrences(of: "layer lstm: recurrent_activation=hard_sigmoid\nlayer gru: recurrent_activation=hard_sigmoid\nlayer gru_1: recurrent_activation=hard_sigmoid",
                                                with: "layer *: recurrent_activation=hard_sigmoid")
        XCTAssertNotEqual(glob, fixture)
        let r = try Frontend.check(text: glob, path: "g.md")
        XCTAssertEqual(r.ir.layers.compactMap { l -> Float?? in if case .recurrent(let a) = l.op { return a.hardGateSlope }; return nil }, [1 / 6, 1 / 6, 1 / 6])
        let named = glob.replacingOccurrences(of: "layer *: recurrent_activation=hard_sigmoid", with: "layer embedding: recurrent_activation=hard_sigmoid")
        XCTAssertThrowsError(try Frontend.check(text: named, path: "g.md")) {
            XCTAssertTrue("\($0)".contains("layer 'embedding' (Embedding): recurrent_activation applies to LSTM and GRU layers"), "\($0)")
        }
        let keras2 = """
            Layer (type)                 Output Shape              Param #
            =================================================================
            lstm_1 (LSTM)                (None, 8)                 384
            dense_1 (Dense)              (None, 2)                 18
            =================================================================
            Total params: 402

            ```modelc
            input: shape=5x3
            layer lstm_1: recurrent_activation=hard_sigmoid
            ```
            """
        let k2 = try Frontend.check(text: keras2, path: "k2.md")
        guard case .recurrent(let a)? = k2.layer("lstm_1")?.op else { return XCTFail("no lstm_1") }
        XCTAssertEqual(a.hardGateSlope, 0.2)
        XCTAssertFalse(k2.ir.assumptions.contains { $0.contains("recurrent_activation=sigmoid (Keras 2.3.0 and later") }, "\(k2.ir.assumptions)")
    }

    /// A TextVectorization after a string InputLayer (or first) starts the model at its token
    /// ids (TensorFlow's text tutorials); anywhere else, or with parameters, it is refused.
    func testTextVectorizationStartsTheModelAtTokenIds() throws {
        let r = try Frontend.check(path: Fixtures.path("summaries/tfkeras29_textvectorization_conv1d.txt"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [15])
        XCTAssertEqual(r.ir.layers.map(\.name).prefix(2), ["text_vectorization_1", "embedding_5"])
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("text_vectorization_1 (TextVectorization): the model starts at its output, 15 token ids per example") })
        // Before a Dense it is a multi_hot, count or tf_idf vector, said so.
        let multiHot = try Frontend.check(text: """
            Layer (type)                Output Shape              Param #
            =================================================================
            text_vectorization (TextVectorization)  (None, 1000)  0
            dense (Dense)               (None, 2)                 2002
            =================================================================
            """, path: "m.md")
        XCTAssertTrue(multiHot.ir.assumptions.contains { $0.contains("a vector of 1000 values (output_mode multi_hot, count or tf_idf) per example") }, "\(multiHot.ir.assumptions)")
        func table(_ rows: String) -> String {
            "Layer (type)                Output Shape              Param #\n=================================================================\n" + rows
                + "\n=================================================================\n"
        }
        let first = table("""
            text_vectorization (TextVectorization)  (None, 20)  0
            embedding (Embedding)       (None, 20, 8)             800
            flatten (Flatten)           (None, 160)               0
            dense (Dense)               (None, 2)                 322
            """)
        XCTAssertEqual(try Frontend.check(text: first, path: "t.md").ir.inputShape, [20])
        let later = table("""
            dense (Dense)               (None, 20)                420
            text_vectorization (TextVectorization)  (None, 20)  0
            """)
        XCTAssertThrowsError(try Frontend.check(text: later, path: "t.md")) {
            XCTAssertTrue("\($0)".contains("t.md:4: error: layer 'text_vectorization' (TextVectorization): modelc reads it only as the model's first layer"), "\($0)")
        }
    }

    /// An annotated stride on a first Conv2D without an input row: the input it reads with that
    /// stride (224x224, common, for a 3x3 'valid' to 111x111), never a dilation that drops the
    /// stride (Keras has no stride with a dilation).
    func testAnnotatedStrideOnTheFirstConvolution() throws {
        let table = """
        Layer (type)                Output Shape              Param #
        =================================================================
        conv2d (Conv2D)             (None, 111, 111, 32)         896
        max_pooling2d (MaxPooling2D) (None, 55, 55, 32)         0
        flatten (Flatten)           (None, 96800)              0
        dense (Dense)               (None, 10)                968010
        =================================================================
        ```modelc
        layer conv2d: strides=2
        ```
        """
        let r = try XCTUnwrap(checkOK(table))
        XCTAssertEqual(r.ir.inputShape, [224, 224, 3])
        guard case .conv2d(let a)? = r.layer("conv2d")?.op else { return XCTFail("no conv2d") }
        XCTAssertEqual([a.strideH, a.strideW, a.dilationH, a.dilationW], [2, 2, 1, 1])
        XCTAssertEqual(a.padding, .valid)
    }
}
