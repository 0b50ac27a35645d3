// Test models for the 1-D layers (Conv1D, MaxPooling1D, AveragePooling1D, the global 1-D pools,
// lifted onto the 2-D kernels) and the decoder layers (UpSampling2D, Conv2DTranspose), Keras
// and PyTorch semantics, and the resampling layers (causal convolutions, Permute, bilinear
// upsampling, Cropping2D); part of BackendTestModels.all.

import ModelcCore

extension BackendTestModels {
    static func conv1d(_ k: Int, _ s: Int, _ p: Padding, _ f: Int, bias: Bool = true, dilation: Int = 1, _ act: Activation = .linear) -> Op {
        var a = Conv2DAttrs(kernelH: 1, kernelW: k, strideH: 1, strideW: s, padding: p, filters: f, useBias: bias, activation: act)
        a.dilationW = dilation
        return .conv2d(a)
    }
    static func pool1d(_ k: Int, _ s: Int, _ p: Padding) -> PoolAttrs { PoolAttrs(poolH: 1, poolW: k, strideH: 1, strideW: s, padding: p) }
    static func transpose(_ k: (Int, Int), _ s: (Int, Int), _ p: Padding, _ f: Int, bias: Bool = true, _ act: Activation = .linear) -> Op {
        .conv2dTranspose(Conv2DAttrs(kernelH: k.0, kernelW: k.1, strideH: s.0, strideW: s.1, padding: p, filters: f, useBias: bias, activation: act),
                         outputPaddingH: 0, outputPaddingW: 0)
    }

    static var sequenceAndDecoderModels: [ModelIR] {
        var out: [ModelIR] = []
        var b = ChainBuilder(input: [19, 3])        // Conv1D valid/same/strided/dilated, fusable BN group, 1-D pools
        b.add("conv1d_1", "Conv1D", conv1d(3, 1, .valid, 6, .tanh))
        b.add("conv1d_2", "Conv1D", conv1d(4, 2, .same, 20, bias: false))
        b.add("batch_normalization_1", "BatchNormalization", .batchNorm(BatchNormAttrs()))
        b.add("re_lu_1", "ReLU", .activation(.relu))
        b.add("max_pooling1d_1", "MaxPooling1D", .maxPool(pool1d(2, 2, .same)))
        b.add("conv1d_3", "Conv1D", conv1d(3, 1, .same, 4, dilation: 2, .sigmoid))
        b.add("average_pooling1d_1", "AveragePooling1D", .avgPool(pool1d(2, 1, .valid)))
        b.add("global_average_pooling1d_1", "GlobalAveragePooling1D", .globalAvgPool)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_conv1d"))

        b = ChainBuilder(input: [11, 2])            // wide Conv1D (SIMD16 tails), Flatten of a sequence, global max
        b.add("conv1d_1", "Conv1D", conv1d(5, 1, .same, 17, .elu(alpha: 1)))
        b.add("conv1d_2", "Conv1D", conv1d(2, 3, .valid, 6))
        b.add("global_max_pooling1d_1", "GlobalMaxPooling1D", .globalMaxPool)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_conv1d_gmp"))

        b = ChainBuilder(input: [9, 2])             // PyTorch Conv1d (explicit padding), BatchNorm1d, flatten of [C, L]
        var pc = Conv2DAttrs(kernelH: 1, kernelW: 3, strideH: 1, strideW: 2, padding: .valid, filters: 4, useBias: true)
        pc.explicitPadH = 0; pc.explicitPadW = 1
        b.add("conv1", "Conv1d", .conv2d(pc))
        b.add("bn1", "BatchNorm1d", .batchNorm(BatchNormAttrs(epsilon: 1e-5, momentum: 0.9, unbiasedRunningVariance: true)))
        b.add("act1", "ReLU", .activation(.relu))
        b.add("pool1", "MaxPool1d", .maxPool(pool1d(2, 2, .valid)))
        b.add("flatten", "Flatten", .flatten)
        b.add("fc", "Linear", .dense(units: 3, useBias: true, activation: .linear))
        var pt = b.ir("gc_pytorch_conv1d")
        pt.semantics = .pytorch
        out.append(pt)

        b = ChainBuilder(input: [4, 3, 5])          // Conv2DTranspose same/valid (k < s, k > s), UpSampling2D (no relu: too many kinks for finite differences)
        b.add("conv2d_transpose_1", "Conv2DTranspose", transpose((3, 3), (2, 2), .same, 6, .silu))
        b.add("up_sampling2d_1", "UpSampling2D", .upSampling(sizeH: 2, sizeW: 1))
        b.add("conv2d_transpose_2", "Conv2DTranspose", transpose((2, 3), (3, 1), .valid, 4, bias: false))
        b.add("conv2d_transpose_3", "Conv2DTranspose", transpose((4, 4), (2, 1), .same, 17, .sigmoid))
        b.add("conv2d_1", "Conv2D", conv((3, 3), (4, 3), .valid, 3))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_decoder"))

        b = ChainBuilder(input: [3, 4, 2])          // PyTorch ConvTranspose2d: padding, output padding (more than the padding too)
        var t1 = Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padding: .valid, filters: 5, useBias: true)
        (t1.explicitPadH, t1.explicitPadW) = (1, 0)
        b.add("deconv1", "ConvTranspose2d", .conv2dTranspose(t1, outputPaddingH: 1, outputPaddingW: 1))
        b.add("act1", "Sigmoid", .activation(.sigmoid))
        b.add("up", "Upsample", .upSampling(sizeH: 2, sizeW: 2))
        var t2 = Conv2DAttrs(kernelH: 2, kernelW: 2, strideH: 3, strideW: 2, padding: .valid, filters: 3, useBias: true)
        (t2.explicitPadH, t2.explicitPadW) = (0, 1)
        b.add("deconv2", "ConvTranspose2d", .conv2dTranspose(t2, outputPaddingH: 2, outputPaddingW: 0))
        b.add("flatten", "Flatten", .flatten)
        b.add("fc", "Linear", .dense(units: 3, useBias: true, activation: .linear))
        var pd = b.ir("gc_pytorch_decoder")
        pd.semantics = .pytorch
        out.append(pd)

        b = ChainBuilder(input: [7, 3])             // causal Conv1D and SeparableConv1D, Permute 2-D and 3-D, bilinear 3x2, Cropping2D
        b.add("conv1d_1", "Conv1D", conv1d(2, 1, .causal, 4, .tanh))
        b.add("separable_conv1d_1", "SeparableConv1D",
              .separableConv2d(Conv2DAttrs(kernelH: 1, kernelW: 3, strideH: 1, strideW: 1, padding: .causal, filters: 3, useBias: true,
                                           activation: .tanh), depthMultiplier: 2))
        b.add("permute_1", "Permute", .permute([2, 1]))
        b.add("reshape_1", "Reshape", .reshape([3, 7, 1]))
        b.add("up_sampling2d_1", "UpSampling2D", .upSamplingBilinear(sizeH: 3, sizeW: 2))
        b.add("cropping2d_1", "Cropping2D", .cropping(top: 2, bottom: 1, left: 0, right: 3))
        b.add("permute_2", "Permute", .permute([2, 1, 3]))
        b.add("conv2d_1", "Conv2D", conv((3, 3), (1, 1), .valid, 2))
        b.add("flatten_1", "Flatten", .flatten)
        b.add("dense_1", "Dense", .dense(units: 3, useBias: true, activation: .linear))
        out.append(b.ir("gc_resampling"))
        return out
    }
}
