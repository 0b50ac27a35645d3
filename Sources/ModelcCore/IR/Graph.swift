// The modelc IR: layers in topological order (a chain unless `Layer.producers` says otherwise) with every hyperparameter resolved.
//
// The frontend turns a summary table plus annotations into `ModelIR`; inference
// (IR/Inference*.swift) fills in what the table omits; verification checks shapes and
// counts. The backend consumes only this file's types, so keep the names stable.
//
// Shapes exclude the batch dimension: images are [H, W, C] (NHWC at run time, Keras
// semantics), 1-D signals (sequences) are [L, C], and vectors are [N]. A 1-D layer (Conv1D,
// MaxPooling1D, ...) is the 2-D op on an image of height 1: its attributes have kernelH,
// strideH, poolH = 1, its shapes are [L, C] (`Layer.isOneD`), and its kernel is stored
// [k, CI, CO], which is the [1, k, CI, CO] HWIO kernel.

import ModelcData

/// Which framework's semantics apply (flatten order, BatchNorm defaults, LeakyReLU slope,
/// weight layouts in .npz files, default initialization).
public enum Semantics: String, Codable, Sendable {
    case keras
    case pytorch
}

public enum Padding: String, Codable, Sendable {
    case valid
    case same
    /// Keras Conv1D / SeparableConv1D `causal`: (k - 1) * dilation zeros before the sequence and
    /// none after, so output step t sees inputs up to t only. Sizes as 'same'.
    case causal
}

public enum Activation: Equatable, Codable, Sendable {
    case linear
    case relu
    case leakyRelu(alpha: Float)
    case sigmoid
    case tanh
    case softmax
    case elu(alpha: Float)
    /// min(max(x, 0), max): PyTorch's ReLU6 and ONNX's Clip(0, 6), Keras's `relu6` and ReLU(max_value=...).
    case cappedRelu(max: Float)
    /// x * sigmoid(x): PyTorch SiLU, Keras swish / silu.
    case silu
    /// x * Phi(x), or with `tanh` its tanh approximation (PyTorch GELU(approximate='tanh')).
    case gelu(tanh: Bool)
    /// min(max(slope * x + offset, 0), 1): PyTorch Hardsigmoid and Keras 3 (slope 1/6), Keras 2
    /// and ONNX's default (0.2), offset 0.5.
    case hardSigmoid(slope: Float, offset: Float)
    /// x * min(max(x + 3, 0), 6) / 6: PyTorch Hardswish, Keras 3 hard_silu / hard_swish.
    case hardSwish
    case selu
    /// log(1 + exp(x)) (PyTorch's beta 1, threshold 20: x above 20).
    case softplus
    /// x / (1 + |x|).
    case softsign
    /// x * tanh(softplus(x)).
    case mish

    /// The backward needs the layer's input x, not only its output y (the emitter gives such an
    /// activation a layer of its own: Passes/ActivationSplit.swift).
    public var needsInput: Bool {
        switch self {
        case .silu, .gelu, .hardSwish, .mish: return true
        default: return false
        }
    }

    public var name: String {
        switch self {
        case .linear: return "linear"
        case .relu: return "relu"
        case .leakyRelu(let a): return "leaky_relu(\(a))"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softmax: return "softmax"
        case .elu(let a): return "elu(\(a))"
        case .cappedRelu(let m): return m == 6 ? "relu6" : "relu(max=\(m))"
        case .silu: return "silu"
        case .gelu(let t): return t ? "gelu(tanh)" : "gelu"
        case .hardSigmoid(let a, let b): return a == 1 / 6 && b == 0.5 ? "hard_sigmoid" : "hard_sigmoid(\(a)x+\(b))"
        case .hardSwish: return "hard_swish"
        case .selu: return "selu"
        case .softplus: return "softplus"
        case .softsign: return "softsign"
        case .mish: return "mish"
        }
    }
}

/// What a Lambda layer computes. The table cannot say; annotations do (default: standardize).
public enum LambdaFunction: Equatable, Codable, Sendable {
    /// y = (x - mean) / std, constants on the already-scaled input.
    case standardize(mean: Float, std: Float)
    /// y = x * scale + offset.
    case affine(scale: Float, offset: Float)
    case identity
}

public struct Conv2DAttrs: Equatable, Codable, Sendable {
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padding: Padding
    /// Explicit symmetric padding (PyTorch `padding=(ph, pw)`); when set, `padding` is ignored.
    public var explicitPadH: Int?
    public var explicitPadW: Int?
    public var filters: Int
    public var useBias: Bool
    public var activation: Activation
    /// Dilation rate (Keras `dilation_rate`); 1 = ordinary convolution. The effective kernel
    /// extent is (k - 1) * dilation + 1; Keras requires stride 1 when dilation > 1.
    /// (Added by the frontend; only inferred when no undilated kernel fits.)
    public var dilationH: Int = 1
    public var dilationW: Int = 1

    public init(kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padding: Padding,
                filters: Int, useBias: Bool, activation: Activation = .linear) {
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padding = padding; self.filters = filters
        self.useBias = useBias; self.activation = activation
    }
}

public struct PoolAttrs: Equatable, Codable, Sendable {
    public var poolH: Int
    public var poolW: Int
    public var strideH: Int
    public var strideW: Int
    public var padding: Padding
    /// PyTorch's and ONNX's padding; when set, `padding` is ignored.
    public var explicit: PoolPadding?
    public init(poolH: Int, poolW: Int, strideH: Int, strideW: Int, padding: Padding, explicit: PoolPadding? = nil) {
        self.poolH = poolH; self.poolW = poolW; self.strideH = strideH; self.strideW = strideW; self.padding = padding
        self.explicit = explicit
    }

    /// Output rows (axis 0) or columns (axis 1) of an input of n.
    public func outDim(_ n: Int, axis: Int) -> Int {
        let k = axis == 0 ? poolH : poolW, s = axis == 0 ? strideH : strideW
        guard let e = explicit else { return Inference.outDim(n, k: k, s: s, padding) }
        return e.outDim(n, k: k, s: s, axis: axis)
    }
}

/// Explicit pooling padding (PyTorch `padding=`, `ceil_mode=`, `count_include_pad=`; ONNX `pads`,
/// `ceil_mode`, `count_include_pad`). Windows are clipped to the image, so a padded position never
/// wins a max; an average divides by the window's pixels in the image, or, with
/// `countIncludePad`, by those inside the padded image (PyTorch's default).
public struct PoolPadding: Equatable, Codable, Sendable {
    public var top: Int, left: Int, bottom: Int, right: Int
    /// Output size rounded up: a last partial window, if it starts inside the image or its top/left padding.
    public var ceilMode: Bool
    public var countIncludePad: Bool

    public init(top: Int, left: Int, bottom: Int, right: Int, ceilMode: Bool = false, countIncludePad: Bool = false) {
        self.top = top; self.left = left; self.bottom = bottom; self.right = right
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad
    }

    /// PyTorch's symmetric padding.
    public init(h: Int, w: Int, ceilMode: Bool, countIncludePad: Bool) {
        self.init(top: h, left: w, bottom: h, right: w, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }

    public var isZero: Bool { top == 0 && left == 0 && bottom == 0 && right == 0 }

    /// nil for no padding and floor mode (an unpadded pool's `explicit`, so it compiles and
    /// fingerprints as one), else self.
    public var nilIfTrivial: PoolPadding? { isZero && !ceilMode ? nil : self }

    /// PyTorch's `pooling_output_shape`: (n + pads - k) / s + 1, rounded down or (ceil mode) up,
    /// less the last window if it would start in the bottom/right padding. 0 if no window fits
    /// (in ceil mode one window fits a padded input shorter than the window, clipped to it).
    public func outDim(_ n: Int, k: Int, s: Int, axis: Int) -> Int {
        let before = axis == 0 ? top : left, after = axis == 0 ? bottom : right
        let span = n + before + after - k
        guard n > 0, k > 0, s > 0, span >= (ceilMode ? 1 - s : 0) else { return 0 }
        var o = (ceilMode ? (span + s - 1) / s : span / s) + 1
        if ceilMode && (o - 1) * s >= n + before { o -= 1 }
        return o
    }
}

public struct BatchNormAttrs: Equatable, Codable, Sendable {
    public var scale: Bool      // gamma present
    public var center: Bool     // beta present
    public var epsilon: Float   // Keras 1e-3, PyTorch 1e-5
    public var momentum: Float  // Keras: moving = m*moving + (1-m)*batch, m = 0.99
    /// PyTorch keeps the unbiased batch variance in running_var; Keras the population one.
    public var unbiasedRunningVariance: Bool
    public init(scale: Bool = true, center: Bool = true, epsilon: Float = 1e-3, momentum: Float = 0.99,
                unbiasedRunningVariance: Bool = false) {
        self.scale = scale; self.center = center; self.epsilon = epsilon; self.momentum = momentum
        self.unbiasedRunningVariance = unbiasedRunningVariance
    }
}

/// One resolved operation. Standalone activation layers (Activation, ReLU, LeakyReLU,
/// Softmax) become `.activation`.
public enum Op: Equatable, Codable, Sendable {
    case input
    case zeroPadding(top: Int, bottom: Int, left: Int, right: Int)
    case conv2d(Conv2DAttrs)
    /// Depthwise (kh x kw, depth multiplier) then pointwise 1x1 to `filters`; bias after pointwise.
    case separableConv2d(Conv2DAttrs, depthMultiplier: Int)
    /// `filters` = input channels * depth multiplier.
    case depthwiseConv2d(Conv2DAttrs, depthMultiplier: Int)
    case batchNorm(BatchNormAttrs)
    case maxPool(PoolAttrs)
    case avgPool(PoolAttrs)
    case globalAvgPool
    case globalMaxPool
    case activation(Activation)
    /// Inverted dropout; spatial (Keras SpatialDropout1D/2D, PyTorch Dropout1d/2d): one draw per image and
    /// channel (the last axis), kept or dropped over every position.
    case dropout(rate: Float, spatial: Bool)
    case flatten
    case reshape([Int])
    case dense(units: Int, useBias: Bool, activation: Activation)
    case lambda(LambdaFunction)
    /// Nearest-neighbour upsampling by integer factors: y[h, w] = x[h / sizeH, w / sizeW]
    /// (Keras UpSampling2D, PyTorch Upsample/UpsamplingNearest2d).
    case upSampling(sizeH: Int, sizeW: Int)
    /// Transposed convolution (Keras Conv2DTranspose, PyTorch ConvTranspose2d): the input
    /// gradient of the Conv2D whose input has this layer's output shape. Kernel [kh, kw,
    /// filters, in] (Keras layout). Output size per dimension: Keras 'valid' n*s + max(k - s, 0),
    /// 'same' n*s; Keras with output_padding op > 0: (n - 1)*s + k - 2*(k/2 if 'same') + op;
    /// explicit padding p (PyTorch) (n - 1)*s - 2p + k + outputPadding (TransposedConv.swift).
    case conv2dTranspose(Conv2DAttrs, outputPaddingH: Int, outputPaddingW: Int)
    /// SimpleRNN, LSTM or GRU over a sequence [T, D] -> [units] or [T, units]
    /// (IR/Recurrent.swift has the cells, gate orders and weight layouts).
    case recurrent(RecurrentAttrs)
    /// Token ids [T] -> vectors [T, dim] from a [vocab, dim] table (ids read from the float input);
    /// PyTorch `padding_idx`: that row starts at zero and never trains (IR/EmbeddingBag.swift).
    case embedding(vocab: Int, dim: Int, paddingIdx: Int? = nil)
    /// PyTorch EmbeddingBag: token ids [T] -> one vector [dim], the ids' rows reduced by sum,
    /// mean or max, padding entries left out (IR/EmbeddingBag.swift).
    case embeddingBag(EmbeddingBagAttrs)
    /// A merge of several earlier outputs (Add, Concatenate, ...; IR/Merge.swift).
    case merge(MergeKind)
    /// Cropping2D (Cropping1D on [L, C]: left and right only): rows and columns removed per side.
    case cropping(top: Int, bottom: Int, left: Int, right: Int)
    /// UpSampling2D(interpolation='bilinear') by integer factors, TF half-pixel centres
    /// (align_corners=False): source coordinate (o + 0.5) / size - 0.5, clamped at the edges.
    case upSamplingBilinear(sizeH: Int, sizeW: Int)
    /// RepeatVector: a vector [D] repeated n times as the sequence [n, D].
    case repeatVector(Int)
    /// Permute: Keras `dims`, 1-based over the axes after the batch (e.g. [2, 1] swaps a
    /// sequence's steps and channels): output axis i is input axis dims[i] - 1.
    case permute([Int])
    /// LayerNormalization, GroupNorm, Keras Normalization (IR/Normalization.swift).
    case normalization(NormAttrs)
    /// Keras Masking on a sequence [T, ...]: a step whose values all equal `value` becomes zeros
    /// and is skipped by the recurrent layers after it (IR/SequenceMask.swift).
    case masking(value: Float)
    /// Keras MultiHeadAttention: reads a query, a value and a key (IR/Attention.swift).
    case multiHeadAttention(AttentionAttrs)
    /// Keras's random image layers (RandomFlip, RandomRotation, ...): the input unchanged at
    /// inference; a training forward transforms each image where the layer sits
    /// (ModelcData/ImageAugmentation.swift, IR/AugmentationLayers.swift).
    case augment(ImageAugmentation)
    /// Keras Resizing: the image resized bilinearly to height x width (TF half-pixel centres, no
    /// antialiasing; Kernels/Resampling.swift's `resize`), in training and at inference.
    case resize(height: Int, width: Int)
}

/// One parameter tensor of a layer, named as in Keras weight files.
public struct ParamTensor: Equatable, Codable, Sendable {
    public enum Role: String, Codable, Sendable {
        case kernel, bias, gamma, beta
        case movingMean = "moving_mean"
        case movingVariance = "moving_variance"
        case depthwiseKernel = "depthwise_kernel"
        case pointwiseKernel = "pointwise_kernel"
        case recurrentKernel = "recurrent_kernel"
        case embeddings
        /// Keras Normalization's statistics (not trained).
        case mean, variance, count
    }
    public var role: Role
    /// Keras layout: conv kernels HWIO, depthwise kernels [kh, kw, cin, mult], dense [in, out].
    public var shape: [Int]
    public var trainable: Bool
    /// A sub-layer's name within the layer (a Bidirectional layer's `forward_lstm`); the key is
    /// then `<layer>/<scope>/<role>`.
    public var scope: String? = nil
    /// An LSTM's bias: its units, whose forget-gate slice starts at 1 (Keras unit_forget_bias).
    public var unitForgetBias: Int? = nil
    /// An Embedding's padding row (PyTorch `padding_idx`): initialized to zeros.
    public var zeroRow: Int? = nil
    /// The full PyTorch state_dict key when it is not `<layer>.<suffix>` (the layers of one
    /// nn.LSTM module: `lstm.weight_ih_l1`).
    public var stateDictKey: String? = nil
    public init(role: Role, shape: [Int], trainable: Bool) {
        self.role = role; self.shape = shape; self.trainable = trainable
    }
    public var count: Int { shape.reduce(1, *) }
}

extension Layer {
    /// A 1-D layer (Conv1D, pooling over a sequence): a spatial op on [L, C] shapes, computed
    /// as the same op on a 1 x L image.
    public var isOneD: Bool {
        switch op {
        case .conv2d, .maxPool, .avgPool, .globalAvgPool, .globalMaxPool, .separableConv2d, .zeroPadding, .cropping, .upSampling:
            return inputShape.count == 2
        default: return false
        }
    }
}

public struct Layer: Equatable, Codable, Sendable {
    public var name: String
    /// The Keras/PyTorch class name as resolved (e.g. "BatchNormalization" from "(Batch").
    public var kind: String
    public var op: Op
    public var inputShape: [Int]
    public var outputShape: [Int]
    /// Line in the source document where the layer's row starts (1-based), for diagnostics.
    public var line: Int
    /// The count the table declared for this layer, if any.
    public var declaredParams: Int?
    /// Notes on what inference chose among several fits, or which default an annotation overrode.
    public var notes: [String]
    /// Positions (in `ModelIR.layers`) of the layers whose outputs this one reads, all earlier;
    /// nil is the chain, the layer above (IR/Merge.swift: `[Layer].producers(of:)`).
    public var producers: [Int]? = nil
    /// Keras `trainable=False` / PyTorch `requires_grad=False`: its tensors are counted as
    /// non-trainable and the optimizer leaves them (IR/FrozenLayers.swift). nil: trainable.
    public var frozen: Bool? = nil
    /// A later call of a layer called more than once (shared weights): the position of its first
    /// call, whose weights it reads and whose gradients it adds to; its own count is 0
    /// (IR/SharedLayers.swift). nil: the layer owns its weights.
    public var sharesWeightsWith: Int? = nil
    /// The layer reads a batch-first sequence [steps, features] (a recurrent layer's steps, the
    /// graph input a recurrent layer reads): a PyTorch Linear then applies to each step's
    /// features, the IR's last axis, as a Keras Dense does, and a flatten runs in steps,
    /// features order, the IR's (also when lifted to [1, steps, features]). nil: a PyTorch 2-D
    /// shape is a 1-D image [L, C], whose PyTorch last axis is L and whose flatten is C-major.
    public var readsSteps: Bool? = nil

    public init(name: String, kind: String, op: Op, inputShape: [Int], outputShape: [Int], line: Int,
                declaredParams: Int? = nil, notes: [String] = []) {
        self.name = name; self.kind = kind; self.op = op
        self.inputShape = inputShape; self.outputShape = outputShape
        self.line = line; self.declaredParams = declaredParams; self.notes = notes
    }
}

public enum LossKind: String, Codable, Sendable, CaseIterable {
    /// The cross-entropy that fits the head (softmax: categorical, sigmoid: binary).
    case crossEntropy = "crossentropy"
    /// PyTorch MultiMarginLoss (p = 1, margin = 1) on the raw outputs.
    case multiMargin = "margin"
    /// The Keras losses by name (ModelcRuntime/TaskLosses.swift says what each computes).
    case binaryCrossEntropy = "binary_crossentropy"
    case categoricalCrossEntropy = "categorical_crossentropy"
    case sparseCategoricalCrossEntropy = "sparse_categorical_crossentropy"
    case meanSquaredError = "mse"
    case meanAbsoluteError = "mae"

    /// The kind named `name`, also under its Keras aliases (bce, mean_squared_error, ...).
    public init?(name: String) {
        let aliases = ["bce": "binary_crossentropy", "mean_squared_error": "mse", "mean_absolute_error": "mae",
                       "sparse_crossentropy": "sparse_categorical_crossentropy", "categorical": "categorical_crossentropy"]
        self.init(rawValue: aliases[name] ?? name)
    }

    public static var namesList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

public enum OptimizerKind: String, Codable, Sendable {
    case sgd, momentum, nesterov, adam, adamw, rmsprop, adadelta
}

public enum Schedule: Equatable, Codable, Sendable {
    case constant
    /// lr * gamma^(epoch / every)
    case step(every: Int, gamma: Float)
    case cosine
    case oneCycle
}

public enum EarlyStopping: Equatable, Codable, Sendable {
    case none
    /// Keras-style: stop after `patience` epochs without a validation-accuracy improvement.
    case patience(Int)
    /// Seed 003: at least `minEpochs`; then stop when validation accuracy drops, continue when
    /// equal, save when it improves.
    case dropAfter(minEpochs: Int)
}

public struct Augmentation: Equatable, Codable, Sendable {
    public var maxShiftPixels: Int
    public var maxRotationDegrees: Float
    public init(maxShiftPixels: Int = 0, maxRotationDegrees: Float = 0) {
        self.maxShiftPixels = maxShiftPixels; self.maxRotationDegrees = maxRotationDegrees
    }
    public var enabled: Bool { maxShiftPixels > 0 || maxRotationDegrees > 0 }
}

public struct TrainingConfig: Equatable, Codable, Sendable {
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    public var momentum: Float = 0.9          // momentum / nesterov / rmsprop momentum
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7          // Keras default epsilon
    public var rho: Float = 0.95              // Adadelta rho; RMSprop uses `rmsRho`
    public var rmsRho: Float = 0.9
    /// L2 kernel regularization (Keras kernel_regularizer=l2(wd)): loss += wd * sum(w^2).
    /// For AdamW, the decoupled decay coefficient instead.
    public var weightDecay: Float = 0
    public var batchSize: Int = 128
    public var epochs: Int = 10
    public var loss: LossKind = .crossEntropy
    /// `train: target=input`: the targets are the inputs (an autoencoder), not the data's labels.
    public var targetIsInput = false
    public var schedule: Schedule = .constant
    public var validationSplit: Float = 0.1
    public var earlyStopping: EarlyStopping = .none
    public var augmentation = Augmentation()
    public var seed: UInt64 = 1
    public init() {}
}

/// Declared totals from the table's footer (nil where the line is missing).
public struct DeclaredTotals: Equatable, Codable, Sendable {
    public var total: Int?
    public var trainable: Int?
    public var nonTrainable: Int?
    /// Keras 3 "Optimizer params:" line; when present Total includes optimizer state.
    public var optimizer: Int?
    public init(total: Int? = nil, trainable: Int? = nil, nonTrainable: Int? = nil, optimizer: Int? = nil) {
        self.total = total; self.trainable = trainable; self.nonTrainable = nonTrainable; self.optimizer = optimizer
    }
}

extension Layer {
    /// The activation a Conv2D, SeparableConv2D, DepthwiseConv2D, Conv2DTranspose or Dense
    /// applies to its output (nil for the other ops).
    public var foldedActivation: Activation? {
        switch op {
        case .conv2d(let a), .separableConv2d(let a, _), .depthwiseConv2d(let a, _), .conv2dTranspose(let a, _, _): return a.activation
        case .dense(_, _, let act): return act
        default: return nil
        }
    }
}

extension Op {
    /// A Conv2D, SeparableConv2D, DepthwiseConv2D, Conv2DTranspose or Dense with activation `f`
    /// (the op that `Layer.foldedActivation` reads); any other op unchanged.
    public func withActivation(_ f: Activation) -> Op {
        switch self {
        case .conv2d(var a): a.activation = f; return .conv2d(a)
        case .separableConv2d(var a, let m): a.activation = f; return .separableConv2d(a, depthMultiplier: m)
        case .depthwiseConv2d(var a, let m): a.activation = f; return .depthwiseConv2d(a, depthMultiplier: m)
        case .conv2dTranspose(var a, let h, let w): a.activation = f; return .conv2dTranspose(a, outputPaddingH: h, outputPaddingW: w)
        case .dense(let u, let b, _): return .dense(units: u, useBias: b, activation: f)
        default: return self
        }
    }
}

public struct ModelIR: Equatable, Codable, Sendable {
    /// Identifier-safe model name (from the file name unless annotated).
    public var name: String
    public var sourcePath: String
    public var semantics: Semantics
    /// [H, W, C] for images.
    public var inputShape: [Int]
    /// The first layer is `.input` unless the table had no InputLayer row (then one is synthesized).
    public var layers: [Layer]
    public var declared: DeclaredTotals
    /// Dataset name: mnist, fashion-mnist, kmnist, kannada-mnist, dig-mnist (or nil).
    public var dataset: String?
    public var classNames: [String]
    /// Class names in the dataset's own script (KMNIST hiragana), if known.
    public var nativeClassNames: [String]?
    /// Raw pixels (0...255) are mapped to x * inputScale + inputOffset before the first layer.
    public var inputScale: Float
    public var inputOffset: Float
    public var training: TrainingConfig
    /// Every default that was assumed because no annotation said otherwise (printed by check).
    public var assumptions: [String]
    /// A Keras table printed channels-first, (C, H, W) (Keras 1, image_dim_ordering='th'): the
    /// shapes here are still [H, W, C], but Flatten orders the values C, H, W (`flattenOrder`).
    public var channelsFirst = false
    /// An ONNX graph converted from Keras (tf2onnx, Frontend/ONNXLayout.swift): PyTorch weight
    /// layouts, but Flatten orders the values H, W, C (the graph flattens NHWC tensors).
    public var nhwcFlatten = false
    /// A graph with several output layers (layers nothing reads): its heads, each with its loss
    /// and weight (IR/ModelHeads.swift). nil: one output, the last layer.
    public var heads: [ModelHead]? = nil
    /// A graph with several Input layers: each one's layer, name, shape and place in the flat
    /// input vector (IR/ModelInputs.swift). nil: one input.
    public var inputs: [ModelInput]? = nil

    public init(name: String, sourcePath: String, semantics: Semantics, inputShape: [Int], layers: [Layer],
                declared: DeclaredTotals = DeclaredTotals(), dataset: String? = nil, classNames: [String] = [],
                nativeClassNames: [String]? = nil, inputScale: Float = 1.0 / 255.0, inputOffset: Float = 0,
                training: TrainingConfig = TrainingConfig(), assumptions: [String] = []) {
        self.name = name; self.sourcePath = sourcePath; self.semantics = semantics
        self.inputShape = inputShape; self.layers = layers; self.declared = declared
        self.dataset = dataset; self.classNames = classNames; self.nativeClassNames = nativeClassNames
        self.inputScale = inputScale; self.inputOffset = inputOffset
        self.training = training; self.assumptions = assumptions
    }

    public var classCount: Int { layers.last?.outputShape.reduce(1, *) ?? 0 }
}
