// Where every parameter tensor lives in the model's one parameter array.

import ModelcCore

/// Parameter offsets in Keras tensor order (the internal layout: HWIO conv kernels, [in, out]
/// dense kernels). Keys: Keras "<layer>/<role>", or the PyTorch state_dict name
/// "<module>.<suffix>" whose file layout (OIHW, [out, in]) is a permutation.
struct ParameterLayout {
    /// Per layer position: the offset of each of its tensors.
    var offsets: [[ParamTensor.Role: Int]] = []
    var specs: [ParamSpec] = []
    var count = 0
    /// The later calls of shared layers: their shadow tensors, after every real one (SharedWeights.swift).
    var shadows: [SharedShadow] = []

    init(_ layers: [Layer], semantics: Semantics) {
        for (i, l) in layers.enumerated() {
            if let o = l.sharesWeightsWith, o >= 0, o < i { offsets.append([:]); continue }   // addShadows
            var o: [ParamTensor.Role: Int] = [:]
            var kernelFanIn = l.paramTensors.first { $0.role == .kernel || $0.role == .depthwiseKernel }.map(ModelInfoEmitter.fanIn) ?? 1
            if case .recurrent(let a) = l.op, a.torch != nil { kernelFanIn = a.units }   // PyTorch: U(+-1/sqrt(hidden_size))
            for t in l.paramTensors {
                if o[t.role] == nil { o[t.role] = count }   // a Bidirectional layer: the forward direction's
                if semantics == .pytorch {
                    let v = t.stateDictView
                    specs.append(ParamSpec(key: l.stateDictKey(t), tensor: v, offset: count, fileShape: v.stateDictShape,
                                           filePermutation: v.stateDictPermutation, layerFanIn: kernelFanIn,
                                           kerasShape: v.shape == t.shape ? nil : t.shape))
                } else {
                    specs.append(ParamSpec(key: "\(l.name)/\(t.scope.map { $0 + "/" } ?? "")\(t.role.rawValue)", tensor: t, offset: count,
                                           fileShape: t.shape, filePermutation: Array(0..<t.shape.count), layerFanIn: kernelFanIn))
                }
                count += t.count
            }
            offsets.append(o)
        }
        addShadows(layers)
    }
}
