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
            var m = l.renumbered(reading: { $0 < output.count ? output[$0] : $0 }, sharing: { position[$0] })
            guard carried[i].needsInput else { out.append(m); continue }
            m.op = l.op.withActivation(.linear)
            out.append(m)
            out.append(activationLayer(after: l, carried[i]))
        }
        return (out, slices.renumbered(position))
    }


    /// The activation of layer `l` as the layer that reads `l`'s output (sequential: no producers).
    static func activationLayer(after l: Layer, _ a: Activation) -> Layer {
        let name = "\(l.name)_\(a.name.filter { $0.isLetter || $0.isNumber || $0 == "_" })"
        return Layer(name: name, kind: "Activation", op: .activation(a), inputShape: l.outputShape, outputShape: l.outputShape,
                     line: l.line, notes: ["modelc: \(l.name)'s \(a.name) as its own layer (its backward reads the layer's output)"])
    }
}

extension Layer {
    /// The layer after a pass moved positions: producers through `reading` (the position of the
    /// output a reader now reads), a shared layer's first call through `sharing` (nil: shares nothing).
    func renumbered(reading: (Int) -> Int, sharing: (Int) -> Int?) -> Layer {
        var m = self
        m.producers = producers.map { $0.map { $0 >= 0 ? reading($0) : $0 } }
        m.sharesWeightsWith = sharesWeightsWith.flatMap(sharing)
        return m
    }
}

extension Dictionary where Key == Int {
    /// The same values under the new positions of their keys.
    func renumbered(_ position: [Int]) -> [Int: Value] { Dictionary(uniqueKeysWithValues: map { (position[$0.key], $0.value) }) }
}
