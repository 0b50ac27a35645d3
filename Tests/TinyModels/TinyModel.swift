// A hand-written CompiledModel for the runtime tests: 28x28x1 -> Dense(8, relu) -> Dropout(0.5)
// -> Dense(10), plus a non-trainable running mean of the input (like BatchNorm's moving mean)
// updated by training forwards. Forward and backward are plain loops, deterministic.
// A library target so that the runtime tests and the modelc-testtrainer executable (a real
// training process the kill-and-resume tests signal) share the same model.

import ModelcRuntime

public final class TinyModel: CompiledModel {
    public static let inputs = 784, hidden = 8, classes = 10
    public static var defaultsForTests: TrainingDefaults {
        var d = TrainingDefaults()
        d.optimizer = "adam"; d.learningRate = 0.01; d.batchSize = 16; d.epochs = 3; d.validationSplit = 0.2; d.seed = 7
        return d
    }
    public static var info: ModelInfo {
        let i = inputs, h = hidden, c = classes
        let tensors = [
            TensorSpec(key: "dense_1/kernel", shape: [i, h], offset: 0, trainable: true, initializer: .glorotUniform(fanIn: i, fanOut: h), decays: true),
            TensorSpec(key: "dense_1/bias", shape: [h], offset: i * h, trainable: true, initializer: .zeros, decays: false),
            TensorSpec(key: "dense_2/kernel", shape: [h, c], offset: i * h + h, trainable: true, initializer: .glorotUniform(fanIn: h, fanOut: c), decays: true),
            TensorSpec(key: "dense_2/bias", shape: [c], offset: i * h + h + h * c, trainable: true, initializer: .zeros, decays: false),
            TensorSpec(key: "stats/moving_mean", shape: [i], offset: i * h + h + h * c + c, trainable: false, initializer: .zeros, decays: false),
        ]
        let total = i * h + h + h * c + c + i
        return ModelInfo(name: "tiny_mlp", fingerprint: "0123abcd", inputHeight: 28, inputWidth: 28, inputChannels: 1,
                         classCount: c, classNames: (0..<c).map(String.init), nativeClassNames: nil, dataset: "mnist",
                         inputScale: 1.0 / 255, inputOffset: 0, semantics: "keras", tensors: tensors,
                         parameterCount: total, trainableParameterCount: total - i, forwardFlops: 2 * (i * h + h * c),
                         summary: "Layer (type)  Output Shape  Param #\ndense_1 (Dense) (None, 8) 6280\ndense_2 (Dense) (None, 10) 90",
                         defaults: defaultsForTests)
    }
    public static var endsWithSoftmax: Bool { true }

    public let maxBatch: Int
    public let parameters: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    let x: UnsafeMutablePointer<Float>       // [maxBatch, 784] saved input
    let h: UnsafeMutablePointer<Float>       // [maxBatch, 8] after relu and dropout
    let mask: UnsafeMutablePointer<Float>    // [maxBatch, 8] dropout scale (0 or 2), relu folded in
    let out: UnsafeMutablePointer<Float>     // [maxBatch, 10]

    public init(maxBatch: Int) {
        self.maxBatch = maxBatch
        let n = Self.info.parameterCount
        parameters = .allocate(capacity: n); parameters.initialize(repeating: 0, count: n)
        gradients = .allocate(capacity: n); gradients.initialize(repeating: 0, count: n)
        x = .allocate(capacity: maxBatch * Self.inputs)
        h = .allocate(capacity: maxBatch * Self.hidden)
        mask = .allocate(capacity: maxBatch * Self.hidden)
        out = .allocate(capacity: maxBatch * Self.classes)
    }
    deinit { for p in [parameters, gradients, x, h, mask, out] { p.deallocate() } }

    var w1: UnsafeMutablePointer<Float> { parameters }
    var b1: UnsafeMutablePointer<Float> { parameters + Self.inputs * Self.hidden }
    var w2: UnsafeMutablePointer<Float> { b1 + Self.hidden }
    var b2: UnsafeMutablePointer<Float> { w2 + Self.hidden * Self.classes }
    var movingMean: UnsafeMutablePointer<Float> { b2 + Self.classes }

    public func forward(_ input: UnsafePointer<Float>, count: Int, training: Bool, seed: UInt64) -> UnsafePointer<Float> {
        let I = Self.inputs, H = Self.hidden, C = Self.classes
        var rng = SplitMix64(seed: seed)
        for n in 0..<count {
            for i in 0..<I { x[n * I + i] = input[n * I + i] }
            for j in 0..<H {                       // h = relu(x W1 + b1) * dropout
                var s = b1[j]
                for i in 0..<I { s += input[n * I + i] * w1[i * H + j] }
                var m: Float = s > 0 ? 1 : 0
                if training { m *= rng.nextFloat() < 0.5 ? 0 : 2 }
                mask[n * H + j] = m
                h[n * H + j] = s * m
            }
            for k in 0..<C {                       // out = h W2 + b2
                var s = b2[k]
                for j in 0..<H { s += h[n * H + j] * w2[j * C + k] }
                out[n * C + k] = s
            }
        }
        if training {                              // moving = 0.9 moving + 0.1 batch mean
            for i in 0..<I {
                var s: Float = 0
                for n in 0..<count { s += input[n * I + i] }
                movingMean[i] = 0.9 * movingMean[i] + 0.1 * s / Float(count)
            }
        }
        return UnsafePointer(out)
    }

    public func backward(_ dout: UnsafePointer<Float>, count: Int) {
        let I = Self.inputs, H = Self.hidden, C = Self.classes
        let gw1 = gradients, gb1 = gradients + I * H, gw2 = gb1 + H, gb2 = gw2 + H * C
        for i in 0..<(I * H + H + H * C + C) { gradients[i] = 0 }
        for n in 0..<count {
            for k in 0..<C {
                let d = dout[n * C + k]
                gb2[k] += d
                for j in 0..<H { gw2[j * C + k] += h[n * H + j] * d }
            }
            for j in 0..<H {
                var dh: Float = 0
                for k in 0..<C { dh += dout[n * C + k] * w2[j * C + k] }
                let ds = dh * mask[n * H + j]
                gb1[j] += ds
                for i in 0..<I { gw1[i * H + j] += x[n * I + i] * ds }
            }
        }
    }
}

/// A second model with a different tensor shape, for checkpoint/weights refusal tests.
public final class OtherModel: CompiledModel {
    public static var info: ModelInfo {
        let t = TinyModel.info
        var tensors = t.tensors
        tensors[3] = TensorSpec(key: "dense_2/bias", shape: [11], offset: tensors[3].offset, trainable: true, initializer: .zeros, decays: false)
        return ModelInfo(name: "other_mlp", fingerprint: "ffff0000", inputHeight: 28, inputWidth: 28, inputChannels: 1,
                         classCount: 10, classNames: t.classNames, nativeClassNames: nil, dataset: "mnist", inputScale: t.inputScale,
                         inputOffset: 0, semantics: "keras", tensors: tensors, parameterCount: t.parameterCount + 1,
                         trainableParameterCount: t.trainableParameterCount + 1, forwardFlops: t.forwardFlops, summary: "", defaults: t.defaults)
    }
    public static var endsWithSoftmax: Bool { true }
    public let inner: TinyModel
    public let maxBatch: Int
    public let parameters: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    public init(maxBatch: Int) {
        self.maxBatch = maxBatch; inner = TinyModel(maxBatch: maxBatch)
        parameters = .allocate(capacity: Self.info.parameterCount); parameters.initialize(repeating: 0, count: Self.info.parameterCount)
        gradients = .allocate(capacity: Self.info.parameterCount); gradients.initialize(repeating: 0, count: Self.info.parameterCount)
    }
    deinit { parameters.deallocate(); gradients.deallocate() }
    public func forward(_ input: UnsafePointer<Float>, count: Int, training: Bool, seed: UInt64) -> UnsafePointer<Float> { inner.forward(input, count: count, training: training, seed: seed) }
    public func backward(_ outputGradient: UnsafePointer<Float>, count: Int) { inner.backward(outputGradient, count: count) }
}

/// Synthetic 28x28 images whose class is drawn as a bright square at a class-dependent spot
/// (learnable by the tiny model), with seeded noise.
public func syntheticImages(count: Int, seed: UInt64) -> LabeledImages {
    var g = SplitMix64(seed: seed)
    var pixels = [UInt8](repeating: 0, count: count * 784)
    var labels = [Int32](repeating: 0, count: count)
    for n in 0..<count {
        let c = g.next(below: 10)
        labels[n] = Int32(c)
        let r0 = (c / 5) * 12 + 2, c0 = (c % 5) * 5 + 1
        for y in 0..<28 { for x in 0..<28 {
            var v = g.next(below: 60)
            if y >= r0 && y < r0 + 10 && x >= c0 && x < c0 + 4 { v += 180 }
            pixels[n * 784 + y * 28 + x] = UInt8(min(255, v))
        } }
    }
    return LabeledImages(height: 28, width: 28, channels: 1, pixels: pixels, labels: labels)
}

/// A model that runs TinyModel's passes on TinyModel's buffers under a ModelInfo of its own (the
/// test trainer's slowed model, the runtime tests' PyTorch-semantics one).
public protocol TinyModelWrapper: CompiledModel {
    var inner: TinyModel { get }
}

extension TinyModelWrapper {
    public var maxBatch: Int { inner.maxBatch }
    public var parameters: UnsafeMutablePointer<Float> { inner.parameters }
    public var gradients: UnsafeMutablePointer<Float> { inner.gradients }
    public func forward(_ input: UnsafePointer<Float>, count: Int, training: Bool, seed: UInt64) -> UnsafePointer<Float> {
        inner.forward(input, count: count, training: training, seed: seed)
    }
    public func backward(_ outputGradient: UnsafePointer<Float>, count: Int) { inner.backward(outputGradient, count: count) }
}
