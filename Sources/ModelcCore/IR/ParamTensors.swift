// Parameter tensors of each resolved layer: the single source of truth for parameter counts
// (checked against the table) and for weight layouts (used by the emitter and .npz files).

extension Layer {
    /// The layer's parameter tensors in Keras order and layout (none trainable when frozen).
    public var paramTensors: [ParamTensor] {
        guard sharesWeightsWith == nil else { return [] }   // a later call of a shared layer: its first call's
        guard frozen == true else { return ownTensors }
        return ownTensors.map { var t = $0; t.trainable = false; return t }
    }

    private var ownTensors: [ParamTensor] {
        let cin = inputShape.last ?? 0
        switch op {
        case .conv2d(let a):
            // Conv1D: [k, CI, CO], the [1, k, CI, CO] kernel without its unit height.
            let kernel = isOneD ? [a.kernelW, cin, a.filters] : [a.kernelH, a.kernelW, cin, a.filters]
            var t = [ParamTensor(role: .kernel, shape: kernel, trainable: true)]
            if a.useBias { t.append(ParamTensor(role: .bias, shape: [a.filters], trainable: true)) }
            return t
        case .conv2dTranspose(let a, _, _):
            var t = [ParamTensor(role: .kernel, shape: [a.kernelH, a.kernelW, a.filters, cin], trainable: true)]
            if a.useBias { t.append(ParamTensor(role: .bias, shape: [a.filters], trainable: true)) }
            return t
        case .separableConv2d(let a, let mult):
            // SeparableConv1D: [k, CI, mult] and [1, CI * mult, CO], the 2-D ones without their unit height.
            let depthwise = isOneD ? [a.kernelW, cin, mult] : [a.kernelH, a.kernelW, cin, mult]
            var t = [ParamTensor(role: .depthwiseKernel, shape: depthwise, trainable: true),
                     ParamTensor(role: .pointwiseKernel, shape: (isOneD ? [1] : [1, 1]) + [cin * mult, a.filters], trainable: true)]
            if a.useBias { t.append(ParamTensor(role: .bias, shape: [a.filters], trainable: true)) }
            return t
        case .depthwiseConv2d(let a, let mult):
            var t = [ParamTensor(role: .depthwiseKernel, shape: [a.kernelH, a.kernelW, cin, mult], trainable: true)]
            if a.useBias { t.append(ParamTensor(role: .bias, shape: [cin * mult], trainable: true)) }
            return t
        case .batchNorm(let a):
            var t: [ParamTensor] = []
            if a.scale { t.append(ParamTensor(role: .gamma, shape: [cin], trainable: true)) }
            if a.center { t.append(ParamTensor(role: .beta, shape: [cin], trainable: true)) }
            t.append(ParamTensor(role: .movingMean, shape: [cin], trainable: false))
            t.append(ParamTensor(role: .movingVariance, shape: [cin], trainable: false))
            return t
        case .dense(let units, let useBias, _):
            var t = [ParamTensor(role: .kernel, shape: [cin, units], trainable: true)]
            if useBias { t.append(ParamTensor(role: .bias, shape: [units], trainable: true)) }
            return t
        case .recurrent(let a):
            return Layer.recurrentTensors(a, inputs: cin)
        case .embedding, .embeddingBag:
            let (vocab, dim, p) = op.embeddingTable ?? (0, 0, nil)
            return [ParamTensor.embeddings(vocab: vocab, dim: dim, paddingIdx: p)]
        case .normalization(let a):
            return a.tensors(input: inputShape)
        case .multiHeadAttention(let a):
            return a.tensors(queryFeatures: cin)
        case .input, .zeroPadding, .maxPool, .avgPool, .globalAvgPool, .globalMaxPool, .activation,
             .dropout, .flatten, .reshape, .lambda, .upSampling, .merge, .cropping, .upSamplingBilinear, .repeatVector, .permute, .masking, .augment, .resize:
            return []
        }
    }

    public var paramCount: Int { paramTensors.reduce(0) { $0 + $1.count } }
    public var trainableParamCount: Int { paramTensors.filter(\.trainable).reduce(0) { $0 + $1.count } }
    public var nonTrainableParamCount: Int { paramCount - trainableParamCount }
}

extension ModelIR {
    public var totalParams: Int { layers.reduce(0) { $0 + $1.paramCount } }
    public var trainableParams: Int { layers.reduce(0) { $0 + $1.trainableParamCount } }
    public var nonTrainableParams: Int { layers.reduce(0) { $0 + $1.nonTrainableParamCount } }
}

// MARK: - PyTorch semantics: state_dict names and layouts, parameters vs buffers
//
// A PyTorch-semantics layer is named after its module path in `print(model)` ("conv1",
// "features.0", "layer1.1"); its tensors in a `state_dict` (and in modelc's .npz files for
// such models) are "<layer name>.<suffix>":
//   Conv2d       weight [O, I, kh, kw] (OIHW)      = Keras kernel HWIO permuted (3, 2, 0, 1)
//                bias   [O]
//   Conv1d       weight [O, I, k]                  = Keras kernel [k, I, O] permuted (2, 1, 0)
//   ConvTranspose2d weight [I, O, kh, kw]          = Keras kernel [kh, kw, O, I] permuted (3, 2, 0, 1)
//   depthwise Conv2d (groups = C) weight [C * mult, 1, kh, kw] = the Keras depthwise kernel
//                [kh, kw, C, mult] viewed as [kh, kw, C * mult, 1] (stateDictView), permuted (2, 3, 0, 1)
//   Linear       weight [out, in]                  = Keras kernel [in, out] transposed;
//                                                   `in` follows the NCHW flatten order (C, H, W)
//                bias   [out]
//   BatchNorm    weight [C] (gamma), bias [C] (beta), running_mean [C], running_var [C] (buffers;
//                running_var holds the unbiased batch variance), plus the int64 scalar buffer
//                `num_batches_tracked` that is not a float tensor and is listed by no ParamTensor.

/// The order in which Flatten lays out an image (H, W, C in the IR) as a vector.
public enum FlattenOrder: String, Codable, Sendable {
    /// Keras / NHWC: index = (h * W + w) * C + c.
    case hwc
    /// PyTorch / NCHW: index = (c * H + h) * W + w.
    case chw
}

extension ParamTensor {
    /// The PyTorch `state_dict` suffix of this tensor ("weight", "bias", "running_mean", "running_var").
    public var stateDictSuffix: String {
        switch role {
        case .kernel, .gamma, .depthwiseKernel, .pointwiseKernel, .embeddings: return "weight"
        case .recurrentKernel: return "weight_hh_l0"
        case .bias, .beta: return "bias"
        case .movingMean: return "running_mean"
        case .movingVariance: return "running_var"
        case .mean, .variance, .count: return role.rawValue
        }
    }

    /// The tensor as a state_dict lays it out before permuting: a depthwise kernel [kh, kw, C, mult]
    /// as [kh, kw, C * mult, 1] (the same floats), so that PyTorch's [C * mult, 1, kh, kw] is a
    /// permutation of it. Every other tensor as it is.
    public var stateDictView: ParamTensor {
        guard role == .depthwiseKernel, shape.count == 4 else { return self }
        var v = self
        v.shape = [shape[0], shape[1], shape[2] * shape[3], 1]
        return v
    }

    /// Shape in the PyTorch layout: conv kernels [O, I, kh, kw] ([I, O, kh, kw] for a
    /// transposed one), 1-D conv kernels [O, I, k], dense [out, in], vectors unchanged.
    public var stateDictShape: [Int] { stateDictPermutation.map { shape[$0] } }

    /// Axis permutation from the Keras layout (`shape`) to the PyTorch layout (`stateDictShape`):
    /// stateDictShape[i] == shape[perm[i]]. Identity for vectors.
    public var stateDictPermutation: [Int] {
        switch role {
        case .kernel where shape.count == 4: return [3, 2, 0, 1]
        case .kernel where shape.count == 3: return [2, 1, 0]
        case .kernel where shape.count == 2, .recurrentKernel: return [1, 0]
        case .depthwiseKernel where shape.count == 4: return [2, 3, 0, 1]
        // nn.LayerNorm over a whole [C, H, W] or [C, L] image: the IR's [H, W, C] / [L, C].
        case .gamma where shape.count == 3, .beta where shape.count == 3: return [2, 0, 1]
        case .gamma where shape.count == 2, .beta where shape.count == 2: return [1, 0]
        default: return Array(0..<shape.count)
        }
    }

    /// A BatchNorm running statistic: a buffer in PyTorch (not a parameter, never trained).
    public var isBuffer: Bool { role == .movingMean || role == .movingVariance }
}

/// One entry of a PyTorch `state_dict`.
public struct StateDictTensor: Equatable, Sendable {
    /// e.g. "conv1.weight", "features.0.bias", "bn1.running_var".
    public var key: String
    public var tensor: ParamTensor
    /// PyTorch layout (== tensor.stateDictView.stateDictShape: a depthwise kernel [C * mult, 1, kh, kw]).
    public var shape: [Int]
}

extension Layer {
    /// The layer's tensors under their PyTorch `state_dict` keys, in `paramTensors` order.
    public var stateDictTensors: [StateDictTensor] {
        paramTensors.map { StateDictTensor(key: stateDictKey($0), tensor: $0, shape: $0.stateDictView.stateDictShape) }
    }

    /// One tensor's PyTorch state_dict key.
    public func stateDictKey(_ t: ParamTensor) -> String { t.stateDictKey ?? "\(name).\(t.stateDictSuffix)" }

    /// BatchNorm running statistics (buffers in PyTorch, non-trainable params in Keras).
    public var bufferCount: Int { paramTensors.filter(\.isBuffer).reduce(0) { $0 + $1.count } }
}

extension ModelIR {
    /// How Flatten orders an image: NCHW for PyTorch semantics and channels-first Keras tables,
    /// NHWC for Keras and for ONNX graphs that flatten NHWC tensors.
    public var flattenOrder: FlattenOrder { !nhwcFlatten && (semantics == .pytorch || channelsFirst) ? .chw : .hwc }

    /// Total BatchNorm running-statistic elements.
    public var bufferCount: Int { layers.reduce(0) { $0 + $1.bufferCount } }

    /// The count the framework itself prints: Keras counts running statistics as non-trainable
    /// params; PyTorch (`sum(p.numel() for p in model.parameters())`, torchsummary) does not.
    public var frameworkParamCount: Int { semantics == .pytorch ? totalParams - bufferCount : totalParams }
    public var frameworkNonTrainableCount: Int { semantics == .pytorch ? nonTrainableParams - bufferCount : nonTrainableParams }
}
