// Small hand-built IRs covering every layer kind, emitted into Tests/GeneratedTestModels/
// (`swift run modelc-testmodels`, TestModelFiles.swift) and checked there by finite
// differences and semantics tests. Each is a ChainBuilder chain.

import ModelcCore
import ModelcData

public enum BackendTestModels {
    /// This file, as the emitted test models name their source.
    public static let sourcePath = "Tests/TestModelSpecs/TestModels.swift"

    static func conv(_ k: (Int, Int), _ s: (Int, Int), _ p: Padding, _ f: Int, bias: Bool = true, _ act: Activation = .linear) -> Op {
        .conv2d(Conv2DAttrs(kernelH: k.0, kernelW: k.1, strideH: s.0, strideW: s.1, padding: p, filters: f, useBias: bias, activation: act))
    }
    static func pool(_ k: Int, _ s: Int, _ p: Padding) -> PoolAttrs { PoolAttrs(poolH: k, poolW: k, strideH: s, strideW: s, padding: p) }

    /// Every test model, by name.
    public static var all: [ModelIR] {
        var out: [ModelIR] = []

        var b = ChainBuilder(input: [6, 6, 2])     // Conv2D: 'same' (odd extra bottom/right), strides, tails
        b.add("conv2d_1", "Conv2D", conv((3, 3), (1, 1), .same, 5, .tanh))
        b.add("conv2d_2", "Conv2D", conv((3, 3), (2, 2), .same, 17))
        b.add("conv2d_3", "Conv2D", conv((2, 2), (1, 1), .valid, 4, bias: false, .sigmoid))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_conv"))

        b = ChainBuilder(input: [7, 8, 3])         // wide conv: 16-blocks, 1xK kernels, KxL strides; hard_swish and gelu
        b.add("conv2d_1", "Conv2D", conv((1, 5), (1, 2), .same, 40, .hardSwish))   // (a layer of their own: ActivationSplit)
        b.add("conv2d_2", "Conv2D", conv((4, 1), (2, 1), .valid, 36, .elu(alpha: 1)))
        b.add("spatial_dropout2d_1", "SpatialDropout2D", .dropout(rate: 0.3, spatial: true))   // one draw per channel
        b.add("conv2d_3", "Conv2D", conv((3, 3), (1, 1), .same, 70, bias: false, .gelu(tanh: false)))
        b.add("global_average_pooling2d_1", "GlobalAveragePooling2D", .globalAvgPool)
        b.add("dense_1", "Dense", .dense(units: 5, useBias: true, activation: .softmax))
        out.append(b.ir("gc_conv_wide"))

        b = ChainBuilder(input: [6, 6, 2])         // random image layers: a copy at inference, a transform per image in training
        b.add("random_flip_1", "RandomFlip", .augment(ImageAugmentation(.flip(horizontal: true, vertical: false))))
        b.add("random_rotation_1", "RandomRotation", .augment(ImageAugmentation(.rotation(lower: -0.1, upper: 0.2), fillMode: .constant, fillValue: 3)))
        b.add("rescaling_1", "Rescaling", .lambda(.affine(scale: 0.5, offset: 1)))
        b.add("random_contrast_1", "RandomContrast", .augment(ImageAugmentation(.contrast(lower: 0, upper: 0.3))))
        b.add("conv2d_1", "Conv2D", conv((3, 3), (1, 1), .same, 4, .tanh))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_augment"))

        b = ChainBuilder(input: [12])               // Dense + vector BatchNorm + Dropout
        b.add("dense_1", "Dense", .dense(units: 20, useBias: true, activation: .tanh))
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("dense_2", "Dense", .dense(units: 33, useBias: false, activation: .sigmoid))
        b.add("dropout_1", "Dropout", .dropout(rate: 0.3, spatial: false))
        b.add("dense_3", "Dense", .dense(units: 4, useBias: true, activation: .linear))
        b.add("activation_1", "Activation", .activation(.softmax))
        out.append(b.ir("gc_dense_bn"))

        b = ChainBuilder(input: [5, 5, 3])          // BatchNorm on images, pooling
        b.add("conv2d_1", "Conv2D", conv((3, 3), (1, 1), .same, 8, bias: false))
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("activation_1", "Activation", .activation(.tanh))
        b.add("average_pooling2d_1", "AveragePooling2D", .avgPool(pool(2, 2, .same)))
        b.add("conv2d_2", "Conv2D", conv((1, 1), (1, 1), .valid, 6))
        b.add("batch_normalization_2", "BatchNormalization", .batchNorm(BatchNormAttrs(scale: false, center: true)))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_bn_pool"))

        b = ChainBuilder(input: [7, 7, 2])          // max pooling, zero padding, global max
        b.add("conv2d_1", "Conv2D", conv((2, 2), (1, 1), .valid, 4, .tanh))
        b.add("max_pooling2d_1", "MaxPooling2D", .maxPool(pool(2, 2, .same)))
        b.add("zero_padding2d_1", "ZeroPadding2D", .zeroPadding(top: 1, bottom: 2, left: 0, right: 1))
        b.add("max_pooling2d_2", "MaxPooling2D", .maxPool(pool(3, 1, .valid)))
        b.add("conv2d_2", "Conv2D", conv((1, 1), (1, 1), .valid, 5))
        b.add("global_max_pooling2d_1", "GlobalMaxPooling2D", .globalMaxPool)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_maxpool"))

        b = ChainBuilder(input: [6, 6, 3])          // DepthwiseConv2D, SeparableConv2D
        b.add("conv2d_1", "Conv2D", conv((1, 1), (1, 1), .valid, 3))
        b.add("depthwise_conv2d_1", "DepthwiseConv2D",
              .depthwiseConv2d(Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .same, filters: 6, useBias: true, activation: .tanh), depthMultiplier: 2))
        b.add("separable_conv2d_1", "SeparableConv2D",
              .separableConv2d(Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padding: .same, filters: 5, useBias: true, activation: .sigmoid), depthMultiplier: 1))
        b.add("separable_conv2d_2", "SeparableConv2D",
              .separableConv2d(Conv2DAttrs(kernelH: 2, kernelW: 2, strideH: 1, strideW: 1, padding: .valid, filters: 18, useBias: false, activation: .linear), depthMultiplier: 2))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_separable"))

        b = ChainBuilder(input: [10])               // standalone activations, Lambda, Reshape, per-pixel Dense
        b.add("dense_1", "Dense", .dense(units: 8, useBias: true, activation: .linear))
        b.add("leaky_re_lu_1", "LeakyReLU", .activation(.leakyRelu(alpha: 0.3)))
        b.add("activation_5", "Activation", .activation(.selu))
        b.add("activation_6", "Activation", .activation(.softsign))
        b.add("dense_2", "Dense", .dense(units: 8, useBias: true, activation: .mish))
        b.add("activation_1", "Activation", .activation(.sigmoid))
        b.add("activation_7", "Activation", .activation(.hardSigmoid(slope: 0.2, offset: 0.5)))
        b.add("lambda_1", "Lambda", .lambda(.standardize(mean: 0.25, std: 0.5)))
        b.add("activation_8", "Activation", .activation(.softplus))
        b.add("dense_3", "Dense", .dense(units: 12, useBias: true, activation: .gelu(tanh: true)))
        b.add("activation_2", "Activation", .activation(.tanh))
        b.add("reshape_1", "Reshape", .reshape([3, 4]))
        b.add("activation_3", "Softmax", .activation(.softmax))
        b.add("dense_4", "Dense", .dense(units: 6, useBias: true, activation: .relu))
        b.add("lambda_2", "Lambda", .lambda(.affine(scale: 2, offset: -1)))
        b.add("activation_4", "Activation", .activation(.elu(alpha: 0.7)))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_5", "Dense", .dense(units: 4, useBias: true, activation: .linear))
        out.append(b.ir("gc_activations"))

        b = ChainBuilder(input: [6, 6, 2])          // semantics: TF 'same', stride 2, odd extra at the bottom/right
        b.add("conv2d_1", "Conv2D", conv((3, 3), (2, 2), .same, 3))
        out.append(b.ir("sem_same_s2"))

        b = ChainBuilder(input: [5, 5, 2])          // semantics: TF 'same', even kernel (1 top, 2 bottom)
        b.add("conv2d_1", "Conv2D", conv((4, 4), (1, 1), .same, 3))
        out.append(b.ir("sem_same_k4"))

        b = ChainBuilder(input: [2, 2, 3])          // semantics: BatchNorm training/inference, moving statistics
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        out.append(b.ir("sem_batchnorm"))

        b = ChainBuilder(input: [1000])             // semantics: inverted dropout
        b.add("dropout_1", "Dropout", .dropout(rate: 0.25, spatial: false))
        out.append(b.ir("sem_dropout"))

        b = ChainBuilder(input: [8, 8, 3])          // fusion: conv + BN + activation, dense + BN + activation
        b.add("conv2d_1", "Conv2D", conv((3, 3), (1, 1), .same, 20))
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("leaky_re_lu_1", "LeakyReLU", .activation(.leakyRelu(alpha: 0.3)))
        b.add("max_pooling2d_1", "MaxPooling2D", .maxPool(pool(2, 2, .valid)))
        b.add("conv2d_2", "Conv2D", conv((3, 3), (2, 2), .valid, 16, bias: false))
        b.add("batch_normalization_2", "BatchNormalization", .batchNorm(BatchNormAttrs(scale: false, center: true)))
        b.add("re_lu_1", "ReLU", .activation(.cappedRelu(max: 0.7)))   // ReLU(max_value): fused in training too
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 24, useBias: true, activation: .linear))
        b.add("batch_normalization_3", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("dense_2", "Dense", .dense(units: 5, useBias: true, activation: .softmax))
        out.append(b.ir("fuse_cnn"))

        b = ChainBuilder(input: [9, 7, 3])          // fusion at inference: pools, their activation and dropouts
        b.add("conv2d_1", "Conv2D", conv((3, 3), (1, 1), .same, 20))    // folded pool (odd 'same'), dropout,
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))   // written into
        b.add("leaky_re_lu_1", "LeakyReLU", .activation(.leakyRelu(alpha: 0.3)))             // conv2d_2's padded input
        b.add("max_pooling2d_1", "MaxPooling2D", .maxPool(pool(2, 2, .same)))
        b.add("dropout_1", "Dropout", .dropout(rate: 0.3, spatial: false))
        b.add("conv2d_2", "Conv2D", conv((3, 3), (1, 1), .same, 18, bias: false))
        b.add("batch_normalization_2", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("average_pooling2d_1", "AveragePooling2D", .avgPool(pool(2, 2, .valid)))
        b.add("activation_1", "ReLU", .activation(.cappedRelu(max: 0.7)))
        b.add("dropout_2", "Dropout", .dropout(rate: 0.5, spatial: false))
        b.add("conv2d_3", "Conv2D", conv((2, 2), (1, 1), .same, 7))   // input written padded by the group above
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 9, useBias: true, activation: .linear))   // dense group + dropout
        b.add("batch_normalization_3", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("activation_2", "Activation", .activation(.hardSwish))   // folded at inference only
        b.add("dropout_3", "Dropout", .dropout(rate: 0.2, spatial: false))
        b.add("dense_2", "Dense", .dense(units: 5, useBias: true, activation: .softmax))
        out.append(b.ir("fuse_pool"))

        b = ChainBuilder(input: [9, 9, 16])         // Winograd F(4x4, 3x3) forward and input gradient: partial last tiles
        b.add("conv2d_1", "Conv2D", conv((3, 3), (1, 1), .valid, 32, .relu))         // 'valid' (7x7 out: 4 tiles), bias, relu epilogue
        // 'same' (Winograd dx), fused BN + pool; 4 tiles an image: 3 images share each call of the
        // pooled inference and of the input gradient (ConvLowering.winogradImages)
        b.add("conv2d_2", "Conv2D", conv((3, 3), (1, 1), .same, 16, bias: false))
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("leaky_re_lu_1", "LeakyReLU", .activation(.leakyRelu(alpha: 0.3)))
        b.add("max_pooling2d_1", "MaxPooling2D", .maxPool(pool(2, 2, .valid)))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 5, useBias: true, activation: .softmax))
        out.append(b.ir("wino_cnn"))

        b = ChainBuilder(input: [11, 12, 16])       // Winograd F(3x3, 5x5) forward and input gradient: partial last tiles
        b.add("conv2d_1", "Conv2D", conv((5, 5), (1, 1), .valid, 32, .relu))         // 'valid' (7x8 out), bias, relu epilogue
        b.add("conv2d_2", "Conv2D", conv((5, 5), (1, 1), .same, 16, bias: false))    // 'same' (Winograd dx), fused BN
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("activation_1", "Activation", .activation(.relu))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 5, useBias: true, activation: .softmax))
        out.append(b.ir("wino5_cnn"))

        b = ChainBuilder(input: [5, 6, 3])          // PyTorch semantics: explicit padding, unbiased BN, NCHW flatten
        var pc = Conv2DAttrs(kernelH: 3, kernelW: 2, strideH: 1, strideW: 2, padding: .valid, filters: 4, useBias: true)
        pc.explicitPadH = 1; pc.explicitPadW = 1
        b.add("conv1", "Conv2d", .conv2d(pc))
        b.add("bn1", "BatchNorm2d", .batchNorm(BatchNormAttrs(epsilon: 1e-5, momentum: 0.9, unbiasedRunningVariance: true)))
        b.add("act1", "LeakyReLU", .activation(.leakyRelu(alpha: 0.01)))
        b.add("flatten", "Flatten", .flatten)
        b.add("fc", "Linear", .dense(units: 3, useBias: true, activation: .linear))
        var pt = b.ir("gc_pytorch")
        pt.semantics = .pytorch
        out.append(pt)

        b = ChainBuilder(input: [9, 8, 2])          // dilated Conv2D ('same' and 'valid', dilation 2x3 / 2x2)
        var d1 = Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .same, filters: 3, useBias: true, activation: .tanh)
        d1.dilationH = 2; d1.dilationW = 3
        b.add("conv2d_1", "Conv2D", .conv2d(d1))
        var d2 = Conv2DAttrs(kernelH: 2, kernelW: 3, strideH: 1, strideW: 1, padding: .valid, filters: 4, useBias: false)
        d2.dilationH = 2; d2.dilationW = 2
        b.add("conv2d_2", "Conv2D", .conv2d(d2))
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_dilated"))

        b = ChainBuilder(input: [7, 6, 2])          // semantics: dilated 'same' (TF padding on the effective extent 5x5)
        var d3 = Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .same, filters: 3, useBias: true)
        d3.dilationH = 2; d3.dilationW = 2
        b.add("conv2d_1", "Conv2D", .conv2d(d3))
        out.append(b.ir("sem_dilated_same"))

        out += sequenceAndDecoderModels
        out.append(unsafeNames)
        return out
    }

    /// Layer, class and source names that would break naive code generation: quotes,
    /// backslashes, an attempted injection, newlines, comment terminators, Unicode line
    /// separators and Swift keywords. They must reach the Swift only escaped.
    public static let hostileNames = [
        "dense \"quoted\"", "back\\slash\\", "x\"); fatalError(\"injected", "new\nline(); fatalError()",
        "层😀\u{2028}fatalError()", "class", "*/ fatalError() /*", "self\r\t\u{0}",
    ]

    static var unsafeNames: ModelIR {
        var b = ChainBuilder(input: [6])
        let n = hostileNames
        b.add(n[0], "Dense\"); fatalError(\"", .dense(units: 5, useBias: true, activation: .tanh))
        b.add(n[1], "Activation", .activation(.relu))
        b.add(n[2], "Dense", .dense(units: 4, useBias: true, activation: .linear))
        b.add(n[3], "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add(n[4], "Dropout", .dropout(rate: 0.5, spatial: false))
        b.add(n[5], "Dense", .dense(units: 3, useBias: false, activation: .linear))
        b.add(n[6], "Activation", .activation(.sigmoid))
        b.add(n[7], "Dense", .dense(units: 3, useBias: true, activation: .softmax))
        var ir = b.ir("safe_names")
        ir.sourcePath = sourcePath + "\n fatalError()"
        ir.classNames = ["a\"); fatalError(\"", "b\\", "ひらがな\n"]
        ir.nativeClassNames = ["\u{2028}", "*/", "\\(fatalError())"]
        ir.dataset = "mnist\"); fatalError(\""
        return ir
    }
}
