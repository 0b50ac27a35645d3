// ActivationSplit: an activation whose backward reads the layer's input as a layer of its own.
//
// Before: the emitter's layers (1-D layers lifted, heads joined, inputs split), where a Conv2D,
//         SeparableConv2D, DepthwiseConv2D, Conv2DTranspose or Dense may carry an activation
//         that `needsInput` (silu, gelu, hard_swish, mish: f'(x) does not follow from y = f(x)).
// After:  each such layer computes its linear output, and a new Activation layer right after
//         it (named `<layer>_<activation>`) applies the function. The activation's input is
//         then the layer's own output buffer, which training keeps, so its backward reads x
//         there (ActivationEmitter). Readers of the layer read the new layer; a shared layer's
//         later calls still name the layer itself, and `slices` (MultiInputSplit) follow their
//         Input layers. The new layers have no parameters, so offsets and tensor keys are the
//         model's. A model without such activations is returned unchanged.

import ModelcCore

enum ActivationSplit {
    static func split(_ layers: [Layer], slices: [Int: Int] = [:]) -> (layers: [Layer], slices: [Int: Int]) {
        let carried = layers.map { Emitter.folded($0) }
        guard carried.contains(where: \.needsInput) else { return (layers, slices) }
        // Old position -> new position of the layer, and of the output its readers read.
        var position: [Int] = [], output: [Int] = []
        var n = 0
        for a in carried {
            position.append(n)
            n += a.needsInput ? 2 : 1
            output.append(n - 1)
        }
        var out: [Layer] = []
        for (i, l) in layers.enumerated() {
            var m = l
            m.producers = l.producers.map { $0.map { $0 >= 0 && $0 < output.count ? output[$0] : $0 } }
            m.sharesWeightsWith = l.sharesWeightsWith.map { position[$0] }
            guard carried[i].needsInput else { out.append(m); continue }
            m.op = linear(l.op)
            out.append(m)
            out.append(activationLayer(after: l, carried[i]))
        }
        return (out, Dictionary(uniqueKeysWithValues: slices.map { (position[$0.key], $0.value) }))
    }

    /// `op` with its activation replaced by linear.
    static func linear(_ op: Op) -> Op { withActivation(op, .linear) }

    /// `op` (an activation carrier) with activation `f`.
    static func withActivation(_ op: Op, _ f: Activation) -> Op {
        switch op {
        case .conv2d(var a): a.activation = f; return .conv2d(a)
        case .separableConv2d(var a, let m): a.activation = f; return .separableConv2d(a, depthMultiplier: m)
        case .depthwiseConv2d(var a, let m): a.activation = f; return .depthwiseConv2d(a, depthMultiplier: m)
        case .conv2dTranspose(var a, let h, let w): a.activation = f; return .conv2dTranspose(a, outputPaddingH: h, outputPaddingW: w)
        case .dense(let u, let b, _): return .dense(units: u, useBias: b, activation: f)
        default: return op
        }
    }

    /// The activation of layer `l` as the layer that reads `l`'s output (sequential: no producers).
    static func activationLayer(after l: Layer, _ a: Activation) -> Layer {
        let name = "\(l.name)_\(a.name.filter { $0.isLetter || $0.isNumber || $0 == "_" })"
        return Layer(name: name, kind: "Activation", op: .activation(a), inputShape: l.outputShape, outputShape: l.outputShape,
                     line: l.line, notes: ["modelc: \(l.name)'s \(a.name) as its own layer (its backward reads the layer's output)"])
    }
}
