// Finite-difference gradient checks for every layer kind (issue 3, Fidelity).
//
// For L = sum(outputs * r) with a fixed random r, `backward(r)` must give dL/dw for every
// trainable weight; each sampled weight is compared with the central difference
// (L(w + eps) - L(w - eps)) / 2 eps computed in training mode (BatchNorm batch statistics,
// Dropout with a fixed seed, so the function is the same one that was differentiated).
// The first layer of each test model is trainable and the layer kinds under test sit after
// it, so their input gradients are exercised through the first layer's weight gradients.

import XCTest
import GeneratedTestModels
import GeneratedModels
import ModelcRuntime

final class GradientCheckTests: XCTestCase {
    /// `tokens`: the input is token ids in 0..<tokens (an Embedding model), not U(-1, 1).
    func check(_ name: String, batch: Int = 3, eps: Float = 1e-3, samples: Int = 10, tokens: Int? = nil,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let type = try TestModels.type(name, file: file, line: line)
        try run(type, name: name, batch: batch, eps: eps, samples: samples, tokens: tokens, file: file, line: line)
    }

    private func run<M: CompiledModel>(_ type: M.Type, name: String, batch: Int, eps: Float, samples: Int, tokens: Int?,
                                       file: StaticString, line: UInt) throws {
        let m = M(maxBatch: batch)
        var rng = TestRNG(0xC0FFEE ^ UInt64(name.utf8.count))
        TestModels.randomize(m, &rng)
        var x = rng.array(batch * M.info.inputSize, -1, 1)
        if let v = tokens { x = x.map { min(Float(v - 1), ((($0 + 1) / 2) * Float(v)).rounded(.down)) } }
        let r = rng.array(batch * M.info.classCount, -1, 1)
        func loss() -> Double {
            let out = TestModels.forward(m, x, count: batch, training: true, seed: 42)
            var s = 0.0
            for i in 0..<out.count { s += Double(out[i]) * Double(r[i]) }
            return s
        }
        _ = loss()
        TestModels.backward(m, r, count: batch)
        let grads = Array(UnsafeBufferPointer(start: m.gradients, count: M.info.parameterCount))
        var maxGrad: Float = 0
        for s in M.info.tensors where s.trainable { for i in 0..<s.count { maxGrad = max(maxGrad, abs(grads[s.offset + i])) } }
        XCTAssertGreaterThan(maxGrad, 0, "\(name): all gradients are zero", file: file, line: line)
        var checked = 0, kinks = 0
        let l0 = loss()
        for s in M.info.tensors where s.trainable {
            for j in 0..<min(samples, s.count) {
                let i = s.offset + (j * 7919 + 13) % s.count
                let analytic = Double(grads[i])
                let old = m.parameters[i]
                m.parameters[i] = old + eps
                let lp = loss()
                m.parameters[i] = old - eps
                let lm = loss()
                m.parameters[i] = old
                let numeric = (lp - lm) / Double(2 * eps)
                let tol = 3e-3 * Double(max(1, maxGrad)) + 2e-2 * abs(analytic)
                // A kink (ReLU, max) inside [w - eps, w + eps] makes the one-sided slopes
                // disagree; the function is not differentiable there, so the sample is skipped.
                if abs((lp - l0) - (l0 - lm)) / Double(eps) > tol { kinks += 1; continue }
                XCTAssertLessThanOrEqual(abs(numeric - analytic), tol,
                                         "\(name) \(s.key)[\(i - s.offset)]: analytic \(analytic), numeric \(numeric)",
                                         file: file, line: line)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 0, file: file, line: line)
        XCTAssertLessThanOrEqual(kinks, max(1, (checked + kinks) / 5), "\(name): too many samples at kinks", file: file, line: line)
    }

    /// Embedding on token ids, LSTM (return_sequences and last state), GRU reset_after False and
    /// True, SimpleRNN: backpropagation through time, every recurrent layer's input gradient
    /// (through the Embedding table's gradient, by row).
    func testSequenceStack() throws { try check("fx_sequence_stack", samples: 16, tokens: 7) }
    /// LSTM and GRU (reset_before, reset_after) with hard sigmoid gates: their derivative is the
    /// slope inside (0, 1) and 0 where a gate is clipped.
    func testHardSigmoidGates() throws { try check("fx_hard_sigmoid_gates", samples: 16, tokens: 7) }
    /// LSTM, GRU (reset_before, reset_after) and SimpleRNN with activation=relu: the candidate's
    /// (and the LSTM's c's) derivative 1 where the output is positive, 0 elsewhere.
    func testReluCells() throws { try check("fx_relu_cells", samples: 16, tokens: 7) }
    /// Keras's in-cell dropout, masks drawn (training, seed 42): an LSTM with a mask per gate on
    /// its input and its state, a GRU reset_after with one input mask, a Bidirectional GRU
    /// reset_before with both per gate, a SimpleRNN with one of each; the TimeDistributed Dense
    /// first checks the masked input gradients.
    func testCellDropout() throws { try check("fx_cell_dropout", samples: 16) }
    /// The same masks on a masked sequence: masked steps keep the state and pass its gradient.
    func testCellDropoutMasking() throws { try check("fx_cell_dropout_masking", samples: 16) }
    /// Rescaling and Keras's fixed Normalization between two convolutions (their input gradients
    /// reach the first one's kernel), LayerNormalization over the last axis and over the whole
    /// image, and without center after a Dense.
    func testKerasNormalizationLayers() throws { try check("fx_normalization_layers", samples: 16) }
    /// PyTorch GroupNorm(2, 4), LayerNorm over a whole [C, H, W] and over a Linear's features.
    func testPyTorchGroupNormLayerNorm() throws { try check("fx_pytorch_norm", samples: 16) }
    /// TimeDistributed(Flatten) and TimeDistributed(Dense tanh) (rows = steps), an LSTM, a Dense
    /// straight on its sequence, a GRU: every weight (the first trainable layer takes no input gradient).
    func testTimeDistributed() throws { try check("fx_time_distributed", samples: 16) }
    /// TimeDistributed(Conv2D 'same' tanh, first layer: weights only), TimeDistributed(MaxPooling2D),
    /// TimeDistributed(AveragePooling2D 'same'), TimeDistributed(GlobalAveragePooling2D) into an
    /// LSTM: the shared kernel's gradient sums over every step's image.
    func testTimeDistributedConv() throws { try check("fx_time_distributed_conv", samples: 16) }
    /// Masking (-1): masked steps keep the state in an LSTM, a Bidirectional GRU (zero outputs)
    /// and a SimpleRNN; their gradients pass through the masked steps.
    func testMasking() throws { try check("fx_masking", samples: 16) }
    /// MultiHeadAttention: self-attention on the input (weights only), cross-attention of three
    /// different inputs without biases, causal self-attention whose key is its value (both
    /// projections' gradients into one input buffer), each through the Add, LayerNormalization,
    /// Conv1D and Dense around them.
    func testAttention() throws { try check("fx_graph_attention", samples: 16) }
    /// PyTorch nn.Embedding, a 2-layer bidirectional nn.LSTM (two bias vectors), nn.RNN and a
    /// bidirectional nn.GRU (gate blocks r, z, n) into a Linear.
    func testPyTorchRecurrent() throws { try check("fx_pytorch_recurrent", samples: 16, tokens: 9) }
    /// PyTorch nn.EmbeddingBag(mode='mean', padding_idx=0) into a Linear: the table's gradient
    /// through the bag mean, zero on the padding row (ids 0..<9, so some entries are padding).
    func testPyTorchEmbeddingBag() throws { try check("fx_pytorch_embedding_bag", samples: 36, tokens: 9) }
    /// The LSTM reading MNIST rows (generated/): an LSTM first (no input gradient), Dense after it.
    func testLSTMRowsExample() throws {
        try run(MnistLstmRows.self, name: "mnist_lstm_rows", batch: 2, eps: 1e-3, samples: 12, tokens: nil,
                file: #filePath, line: #line)
    }

    /// Conv2D: 'same' with stride 1 and 2 (odd extra at bottom/right), 'valid', tails of 17
    /// channels, no bias, tanh/sigmoid inside the layer; Flatten; Dense.
    func testConv2D() throws { try check("gc_conv") }
    /// Conv2D with 40/36/70 filters (SIMD16 blocks and tails), 1x5 and 4x1 kernels,
    /// 1x2 and 2x1 strides, hard_swish, elu and gelu (hard_swish and gelu as layers of their own,
    /// reading the Conv2D's output); GlobalAveragePooling2D; Dense with softmax (stripped).
    func testConv2DWide() throws { try check("gc_conv_wide") }
    /// Resizing up by 11/7 and down by 5/9 between convolutions, then to 4x4 (the Keras fixture);
    /// PyTorch's Upsample(size=(11, 5), mode='bilinear') from 7x9.
    func testResizing() throws { try check("fx_resizing"); try check("fx_pytorch_resize") }
    /// RandomFlip, RandomRotation, Rescaling, RandomContrast before the Conv2D: the gradients
    /// with a fixed step seed; a training forward transforms the images (seeded, the same for
    /// the same seed), one with the model's `dropout` off or an inference forward does not.
    func testRandomImageLayers() throws {
        try check("gc_augment")
        let type = try TestModels.type("gc_augment")
        let m = type.init(maxBatch: 4)
        var rng = TestRNG(7)
        TestModels.randomize(m, &rng)
        let x = rng.array(4 * type.info.inputSize, 0, 1)
        let inference = TestModels.forward(m, x, count: 4, training: false, seed: 0)
        let a = TestModels.forward(m, x, count: 4, training: true, seed: 5)
        XCTAssertEqual(a, TestModels.forward(m, x, count: 4, training: true, seed: 5))
        XCTAssertNotEqual(a, inference)
        XCTAssertNotEqual(a, TestModels.forward(m, x, count: 4, training: true, seed: 6))
        (m as? CompiledModelBase)?.dropout = false
        XCTAssertEqual(TestModels.forward(m, x, count: 4, training: true, seed: 5), inference)
    }
    /// Dense (tanh, sigmoid, no bias), BatchNormalization on vectors, Dropout, Softmax layer (stripped).
    func testDenseBatchNormDropout() throws { try check("gc_dense_bn") }
    /// BatchNormalization on images (with and without gamma), AveragePooling2D 'same', 1x1 Conv2D.
    func testBatchNormAveragePooling() throws { try check("gc_bn_pool") }
    /// MaxPooling2D 'same' and 'valid', ZeroPadding2D (asymmetric), GlobalMaxPooling2D.
    func testMaxPoolingZeroPadding() throws { try check("gc_maxpool") }
    /// DepthwiseConv2D (multiplier 2, bias, tanh), SeparableConv2D (stride 2 'same'; multiplier 2 'valid').
    func testDepthwiseSeparable() throws { try check("gc_separable") }
    /// LeakyReLU, selu, softsign, sigmoid, Keras 2's hard_sigmoid, softplus, tanh, softmax
    /// mid-network (full Jacobian), ELU, Lambda standardize and affine, Reshape, Dense on [3, 4]
    /// (per row), relu, mish and gelu (tanh form) inside Dense.
    func testActivationsLambdaReshape() throws { try check("gc_activations") }
    /// The fusion test network in training mode (conv + BN + LeakyReLU + pool, dense + BN).
    func testFusionNetworkTraining() throws { try check("fuse_cnn") }
    /// Training fusion: BatchNorm backward-data inside the Conv2D backward, activation inside BatchNorm.
    func testFusedNetworksTraining() throws {
        try check("fuse_cnn_fused")
        try check("fuse_pool_fused")
        try check("fuse_pool")
    }

    /// PyTorch semantics: explicit symmetric padding, BatchNorm eps 1e-5, NCHW flatten; padded
    /// and ceil-mode pools (the pytorch_conv_bn and pytorch_conv1d fixtures).
    func testPyTorchSemantics() throws {
        try check("gc_pytorch_fused")
        try check("fx_pytorch_conv_bn_fused")
        try check("fx_pytorch_conv1d_fused")
    }

    /// The PyTorch modules SiLU (after a fused Conv2d + BatchNorm2d), GELU (both forms), F.mish,
    /// Hardswish, Hardsigmoid, SELU, Softplus and Softsign (the pytorch_smooth fixture). The
    /// hand-built models carry them too: gc_conv_wide (hard_swish, gelu in Conv2D), gc_activations
    /// (mish, gelu tanh in Dense; standalone selu, softsign, Keras 2 hard_sigmoid, softplus) and
    /// gc_decoder (silu in Conv2DTranspose).
    func testSmoothActivations() throws { try check("fx_pytorch_smooth_fused") }

    /// Dilated Conv2D ('same' with dilation 2x3, 'valid' 2x2, into BatchNorm).
    func testDilatedConv2D() throws { try check("gc_dilated") }

    /// Conv1D (valid, 'same' stride 2, dilated 'same', 20 filters), BatchNorm and ReLU on a
    /// sequence, MaxPooling1D 'same', AveragePooling1D stride 1, GlobalAveragePooling1D; unfused
    /// and with the conv + BN + ReLU + pool group fused.
    func testConv1D() throws {
        try check("gc_conv1d")
        try check("gc_conv1d_fused")
    }
    /// Conv1D with 17 filters (SIMD16 tail), stride 3, ELU; GlobalMaxPooling1D.
    func testConv1DGlobalMax() throws { try check("gc_conv1d_gmp") }
    /// PyTorch Conv1d with explicit padding, BatchNorm1d (unbiased running variance), MaxPool1d,
    /// flatten of [C, L] in channel-major order.
    func testPyTorchConv1D() throws {
        try check("gc_pytorch_conv1d_fused")
    }
    /// Conv2DTranspose 'same' stride 2, 'valid' with a kernel below the stride (2 < 3) and above
    /// it, 17 filters, silu and sigmoid inside; UpSampling2D 2x1; then a strided Conv2D.
    func testConv2DTransposeUpSampling() throws { try check("gc_decoder") }
    /// PyTorch ConvTranspose2d with padding and output padding (also output padding above the
    /// padding: output rows no input reaches), Upsample 2x2.
    func testPyTorchConvTranspose() throws { try check("gc_pytorch_decoder") }

    /// Resampling (issue 17): causal Conv1D (dilated and strided) and SeparableConv1D,
    /// ZeroPadding1D, Cropping1D/2D, UpSampling1D, bilinear UpSampling2D (2x2 and 3x2),
    /// Permute (sequence and image), Conv2DTranspose with Keras output_padding, RepeatVector.
    func testResampling() throws {
        try check("fx_resampling")
        try check("gc_resampling")
    }

    /// Graphs (issue 17): a residual Add whose skip output feeds two layers (gradients summed),
    /// a Concatenate of a conv and a pool branch, unfused and fused; Subtract, Multiply,
    /// Average, Maximum, Minimum and a row-axis Concatenate over three Dense outputs; three
    /// output heads (softmax logits, a sigmoid unit, a 4x4 map) joined into one output.
    func testGraphs() throws {
        for name in ["fx_graph_residual_inception_fused", "fx_graph_merges", "fx_graph_heads"] { try check(name) }
    }

    /// Shared layers (issue 17): a Conv1D and a Dense each called on two branches; each one's
    /// weight gradient is the sum over its calls (SharedWeights.swift), and the input gradients
    /// of both calls reach the branches' own weights.
    func testSharedLayers() throws { try check("fx_graph_shared", samples: 16) }

    /// Two inputs (issue 17): token ids through an Embedding and features through a Dense, each
    /// an Input layer's slice of the flat input, concatenated (the whole input is whole numbers
    /// in 0..<7, valid ids; the Dense reads them as features).
    func testTwoInputs() throws { try check("fx_graph_inputs", tokens: 7) }

    /// A Siamese model (issue 17): two Input layers, one Dense called on each (shared weights:
    /// its gradient is the sum of both calls'), their difference and product, a Dense.
    func testSiamese() throws { try check("fx_graph_siamese") }

    /// A PyTorch module that `forward:` calls twice (shared weights, PyTorch semantics).
    func testPyTorchModuleCalledTwice() throws { try check("fx_pytorch_shared_call") }

    /// Winograd F(4x4, 3x3) and F(3x3, 5x5) in training: the forward of both convolutions and
    /// the input gradient of the 'same' one (partial last tiles), unfused and fused.
    func testWinogradTraining() throws {
        for name in ["wino_cnn_fused", "wino5_cnn_fused"] { try check(name) }
    }
}
