// ActivationFold: an activation layer right after a Conv2D or Dense without BatchNorm (PyTorch's
// and ONNX's Conv -> ReLU, which a Keras layer writes as Conv2D(activation='relu')) becomes the
// producer's own activation, so that it runs on the accumulators instead of as a pass of its own.
//
// Before: the emitter's layers (after ActivationSplit).
// After:  each linear Conv2D, SeparableConv2D, DepthwiseConv2D, Conv2DTranspose or Dense whose
//         output only the next layer reads, an Activation that reads only it and whose function
//         is a training epilogue (relu, leaky relu, relu6: the gradient follows from the output,
//         Fusion.epilogue), carries that activation, and the activation layer is gone. Readers
//         of the activation read the producer; shared layers' calls and the inputs' slices follow.
//         TimeDistributed layers and a producer followed by BatchNorm (Fusion's groups) are left
//         as they are. Like Fusion, it runs only for fused builds (`--no-fuse` keeps every layer).
//         A model without such pairs is returned unchanged.

import ModelcCore

enum ActivationFold {
    /// The plan says which producer runs which activation layer (`check --plan`: "fused").
    static func describe(_ plan: inout LoweringPlan, _ notes: [Int: String]) {
        for (p, name) in notes where p < plan.layers.count {
            plan.layers[p].fusion = (plan.layers[p].fusion.map { $0 + "; " } ?? "") + "the activation layer \(name), applied by this layer"
        }
    }

    /// Positions of the activation layers that fold into the layer before them.
    static func foldable(_ layers: [Layer]) -> Set<Int> {
        let consumers = layers.consumers
        return Set(layers.indices.filter { i in
            guard i > 0, case .activation(let a) = layers[i].op, let e = Fusion.epilogue(a), e != .none,
                  layers.producers(of: i) == [i - 1], consumers[i - 1] == [i], !layers[i - 1].isPerStep,
                  layers[i - 1].foldedActivation == .linear else { return false }
            return true
        })
    }

    /// The folded layers, the slices at their new positions, and `notes`: the new position of
    /// each producer that took an activation -> that activation layer's name.
    static func fold(_ layers: [Layer], slices: [Int: Int] = [:]) -> (layers: [Layer], slices: [Int: Int], notes: [Int: String]) {
        let folded = foldable(layers)
        guard !folded.isEmpty else { return (layers, slices, [:]) }
        // Old position -> new position (an activation maps to its producer).
        var position: [Int] = [], n = 0
        for i in layers.indices {
            if folded.contains(i) { position.append(n - 1) } else { position.append(n); n += 1 }
        }
        var out: [Layer] = [], notes: [Int: String] = [:]
        for (i, l) in layers.enumerated() {
            if folded.contains(i), case .activation(let a) = l.op {
                out[out.count - 1].op = out[out.count - 1].op.withActivation(a)
                out[out.count - 1].outputShape = l.outputShape
                notes[out.count - 1] = l.name
                continue
            }
            // A later call of an activation whose first call folded shares nothing (an activation has no weights).
            out.append(l.renumbered(reading: { $0 < position.count ? position[$0] : $0 }, sharing: { folded.contains($0) ? nil : position[$0] }))
        }
        return (out, slices.renumbered(position), notes)
    }
}
