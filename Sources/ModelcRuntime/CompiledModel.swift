// The contract between emitted model code and the runtime.
//
// modelc emits one `final class` per model conforming to `CompiledModel`. The class owns
// every buffer (parameters, gradients, activations for `maxBatch` images) and its forward and
// backward passes are plain fixed-size loops. Everything else (data, optimizers, training
// loop, checkpoints, metrics, reports, the command line) lives in this runtime and works on
// any `CompiledModel` through this protocol.

/// One parameter tensor in the model's flat parameter buffer, named as in Keras weight files
/// (`<layer>/<role>`), or PyTorch `state_dict` names for PyTorch-semantics models.
public struct TensorSpec: Sendable {
    public enum Initializer: Sendable, Equatable {
        /// U(-limit, limit), limit = sqrt(6 / (fanIn + fanOut)) (Keras default for kernels).
        case glorotUniform(fanIn: Int, fanOut: Int)
        /// U(-limit, limit), limit = 1 / sqrt(fanIn) (PyTorch default for weights and biases).
        case kaimingUniform(fanIn: Int)
        case zeros
        case ones
        /// A [rows, columns] matrix with orthonormal rows (or columns, when rows > columns), from
        /// a Gaussian matrix (Keras Orthogonal, gain 1: recurrent kernels).
        case orthogonal(rows: Int, columns: Int)
        /// An LSTM's bias [4 units], gates i, f, c, o: 1 on the forget gate, 0 elsewhere (Keras).
        case unitForgetBias(units: Int)
        /// N(0, 1) (PyTorch nn.Embedding and nn.EmbeddingBag tables).
        case standardNormal
        /// An Embedding's table [rows, columns] with a padding row (PyTorch padding_idx): N(0, 1),
        /// then row `row` zero.
        case standardNormalZeroRow(row: Int, columns: Int)
    }
    /// Key in .npz weight files, e.g. "conv2d_1/kernel".
    public let key: String
    /// Layout in the flat buffer (Keras: HWIO conv kernels, [in, out] dense kernels).
    public let shape: [Int]
    /// Offset (in floats) into `CompiledModel.parameters` / `gradients`.
    public let offset: Int
    public let trainable: Bool
    public let initializer: Initializer
    /// Whether L2 weight decay applies (kernels yes; biases, BatchNorm no).
    public let decays: Bool

    /// Layout of this tensor in .npz weight files (PyTorch state_dict: OIHW conv weights,
    /// [out, in] linear weights); equal to `shape` for Keras. fileShape[i] == shape[filePermutation[i]].
    public let fileShape: [Int]
    public let filePermutation: [Int]
    /// The same floats in Keras's layout: `shape`, except a PyTorch depthwise kernel, whose
    /// `shape` is the view [kh, kw, C * mult, 1] (so that [C * mult, 1, kh, kw] is a
    /// permutation of it) and whose Keras shape is [kh, kw, C, mult].
    public let kerasShape: [Int]

    public init(key: String, shape: [Int], offset: Int, trainable: Bool, initializer: Initializer, decays: Bool) {
        self.init(key: key, shape: shape, offset: offset, trainable: trainable, initializer: initializer, decays: decays,
                  fileShape: shape, filePermutation: Array(0..<shape.count))
    }
    /// `filePermutation` must be a permutation of 0..<shape.count with fileShape[i] == shape[filePermutation[i]]
    /// (the emitter guarantees it); otherwise the file layout falls back to `shape`.
    public init(key: String, shape: [Int], offset: Int, trainable: Bool, initializer: Initializer, decays: Bool,
                fileShape: [Int], filePermutation: [Int], kerasShape: [Int]? = nil) {
        self.key = key; self.shape = shape; self.offset = offset
        self.kerasShape = kerasShape.flatMap { $0.reduce(1, *) == shape.reduce(1, *) ? $0 : nil } ?? shape
        self.trainable = trainable; self.initializer = initializer; self.decays = decays
        let valid = filePermutation.count == shape.count && Set(filePermutation) == Set(0..<shape.count)
            && fileShape.count == shape.count && fileShape.indices.allSatisfy { fileShape[$0] == shape[filePermutation[$0]] }
        self.fileShape = valid ? fileShape : shape
        self.filePermutation = valid ? filePermutation : Array(0..<shape.count)
    }
    public var count: Int { shape.reduce(1, *) }

    /// For each element of the file layout (C order over `fileShape`), its index in the
    /// internal layout (C order over `shape`). Export: file[j] = internal[map[j]];
    /// import: internal[map[j]] = file[j].
    public func fileToInternalIndex() -> [Int] {
        let r = shape.count
        if filePermutation == Array(0..<r) { return Array(0..<count) }
        var strides = [Int](repeating: 1, count: r)
        if r > 1 { for i in stride(from: r - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] } }
        // Stride of file axis i in the internal buffer.
        let fs = filePermutation.map { strides[$0] }
        var out = [Int](repeating: 0, count: count)
        var idx = [Int](repeating: 0, count: r)
        var off = 0
        for j in 0..<count {
            out[j] = off
            var a = r - 1
            while a >= 0 {
                idx[a] += 1; off += fs[a]
                if idx[a] < fileShape[a] { break }
                off -= fs[a] * idx[a]; idx[a] = 0; a -= 1
            }
        }
        return out
    }
}

/// Training settings from the model file's annotations; command-line flags override them.
public struct TrainingDefaults: Sendable {
    public var optimizer: String = "adam"      // sgd momentum nesterov adam adamw rmsprop adadelta
    public var learningRate: Float = 1e-3
    public var momentum: Float = 0.9
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7
    public var rho: Float = 0.95               // Adadelta
    public var rmsRho: Float = 0.9             // RMSprop
    public var weightDecay: Float = 0
    public var batchSize: Int = 128
    public var epochs: Int = 10
    public var loss: String = "crossentropy"   // LossKind.namesList
    public var target: String = "labels"       // labels | input (an autoencoder)
    public var schedule: String = "constant"   // constant | step:EVERY:GAMMA | cosine | onecycle
    public var validationSplit: Float = 0.1
    public var earlyStopping: String = "none"  // none | patience:N | drop-after:MIN_EPOCHS
    public var augmentShift: Int = 0
    public var augmentRotate: Float = 0
    public var seed: UInt64 = 1
    public init() {}
    /// The defaults with a model's own settings: `TrainingDefaults { $0.epochs = 20 }`.
    public init(_ set: (inout TrainingDefaults) -> Void) {
        self.init()
        set(&self)
    }
}

/// Static description of a compiled model.
public struct ModelInfo: Sendable {
    public let name: String
    /// Hex digest of the canonical IR; checkpoints and weight files must match it.
    public let fingerprint: String
    public let inputHeight: Int
    public let inputWidth: Int
    public let inputChannels: Int
    public let classCount: Int
    public let classNames: [String]
    /// Names in the dataset's own script (KMNIST hiragana), if any.
    public let nativeClassNames: [String]?
    /// Default dataset (mnist, fashion-mnist, kmnist, kannada-mnist, dig-mnist, cifar10), if annotated.
    public let dataset: String?
    /// Raw pixel bytes p (0...255) enter the network as p * inputScale + inputOffset.
    public let inputScale: Float
    public let inputOffset: Float
    /// "keras" or "pytorch".
    public let semantics: String
    public let tensors: [TensorSpec]
    /// Total floats in the parameter buffer (trainable and non-trainable).
    public let parameterCount: Int
    public let trainableParameterCount: Int
    /// Multiply-adds x 2 for one image's forward pass.
    public let forwardFlops: Int
    /// The normalized summary table, as `modelc check` prints it.
    public let summary: String
    public let defaults: TrainingDefaults
    /// A model with several inputs: each one's name, shape and place in the flat input
    /// (ModelInputs.swift); empty for one input.
    public let inputs: [InputSpec]
    /// Keras Normalization layers that read the model's input: a run from fresh parameters
    /// adapts them to its training data first, as `layer.adapt(x_train)` (NormalizationAdapt).
    public let adaptOnInput: [String]

    public init(name: String, fingerprint: String, inputHeight: Int, inputWidth: Int, inputChannels: Int,
                classCount: Int, classNames: [String], nativeClassNames: [String]?, dataset: String?,
                inputScale: Float, inputOffset: Float, semantics: String, tensors: [TensorSpec],
                parameterCount: Int, trainableParameterCount: Int, forwardFlops: Int, summary: String,
                defaults: TrainingDefaults, inputs: [InputSpec] = [], adaptOnInput: [String] = []) {
        self.name = name; self.fingerprint = fingerprint
        self.inputHeight = inputHeight; self.inputWidth = inputWidth; self.inputChannels = inputChannels
        self.classCount = classCount; self.classNames = classNames; self.nativeClassNames = nativeClassNames
        self.dataset = dataset; self.inputScale = inputScale; self.inputOffset = inputOffset
        self.semantics = semantics; self.tensors = tensors; self.parameterCount = parameterCount
        self.trainableParameterCount = trainableParameterCount; self.forwardFlops = forwardFlops
        self.summary = summary; self.defaults = defaults; self.inputs = inputs; self.adaptOnInput = adaptOnInput
    }

    public var inputSize: Int { inputHeight * inputWidth * inputChannels }
}

public protocol CompiledModel: AnyObject {
    static var info: ModelInfo { get }

    /// Allocates every buffer for batches of up to `maxBatch` images. No allocation happens
    /// after this in forward or backward.
    init(maxBatch: Int)

    var maxBatch: Int { get }

    /// `info.parameterCount` floats laid out as `info.tensors` says. Moving statistics of
    /// BatchNorm layers live here too (non-trainable) and are updated by training forwards.
    var parameters: UnsafeMutablePointer<Float> { get }

    /// Same layout as `parameters`; `backward` overwrites the trainable entries.
    var gradients: UnsafeMutablePointer<Float> { get }

    /// Runs the network on `count` images laid out [count, H, W, C] (already scaled by
    /// inputScale/inputOffset). Returns `count x classCount` outputs *before* any final
    /// softmax (the loss and `predict` apply it). In training mode, BatchNorm uses batch
    /// statistics and updates its moving averages, and Dropout draws its masks from `seed`.
    func forward(_ input: UnsafePointer<Float>, count: Int, training: Bool, seed: UInt64) -> UnsafePointer<Float>

    /// Backpropagates d(loss)/d(outputs) (`count x classCount`, already divided by the batch
    /// size) through the last training-mode forward and writes every trainable gradient.
    func backward(_ outputGradient: UnsafePointer<Float>, count: Int)

    /// Whether the model's last layer applies softmax (so outputs are logits of a classifier).
    static var endsWithSoftmax: Bool { get }

    /// Whether the model's last layer applies a sigmoid (kept: outputs are probabilities; a
    /// binary or multi-label head). Emitted only when true.
    static var endsWithSigmoid: Bool { get }

    /// A model with several output heads: where each one's values are in the outputs, its
    /// loss and weight (OutputHeads.swift). Emitted only then; empty for one output.
    static var heads: [OutputHeadSpec] { get }
}

extension CompiledModel {
    public static var endsWithSigmoid: Bool { false }
}
