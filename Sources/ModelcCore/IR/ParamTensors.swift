// Parameter tensors of each resolved layer: the single source of truth for parameter counts
// (checked against the table) and for weight layouts (used by the emitter and .npz files).

extension Layer {
    /// The layer's parameter tensors in Keras order and layout.
    public var paramTensors: [ParamTensor] {
        let cin = inputShape.last ?? 0
        switch op {
        case .conv2d(let a):
            var t = [ParamTensor(role: .kernel, shape: [a.kernelH, a.kernelW, cin, a.filters], trainable: true)]
            if a.useBias { t.append(ParamTensor(role: .bias, shape: [a.filters], trainable: true)) }
            return t
        case .separableConv2d(let a, let mult):
            var t = [ParamTensor(role: .depthwiseKernel, shape: [a.kernelH, a.kernelW, cin, mult], trainable: true),
                     ParamTensor(role: .pointwiseKernel, shape: [1, 1, cin * mult, a.filters], trainable: true)]
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
        case .input, .zeroPadding, .maxPool, .avgPool, .globalAvgPool, .globalMaxPool, .activation,
             .dropout, .flatten, .reshape, .lambda:
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
