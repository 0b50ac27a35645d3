// MultiInputSplit: a model with several Input layers as one with a single input vector.
//
// Before: the emitter's layers (1-D layers lifted, heads joined) of an IR whose `inputs` lists
//         several Input layers (IR/ModelInputs.swift), at their table positions.
// After:  a new first layer, `inputs`, the flat input [total] (each example's values of every
//         input, input after input, as the runtime's batches hold them), then the same layers
//         one position later (producers and shared layers' first calls shifted), where each
//         original Input layer reads layer 0 and copies its own slice (`slices`: position ->
//         offset; InputSliceEmitter). Input layers need no gradient (GraphFlow), so the slices
//         have no backward. The mirror of MultiHeadJoin on the output side. A model with one
//         input is returned unchanged.

import ModelcCore

enum MultiInputSplit {
    static func split(_ layers: [Layer], inputs: [ModelInput]?) -> (layers: [Layer], slices: [Int: Int]) {
        guard let inputs, inputs.count > 1, let first = layers.first else { return (layers, [:]) }
        let total = inputs.reduce(0) { $0 + $1.size }
        var out = [Layer(name: "inputs", kind: "InputLayer", op: .input, inputShape: [total], outputShape: [total],
                         line: first.line, notes: ["modelc: the \(inputs.count) inputs side by side"])]
        // Every layer one position later, a shared layer's later calls too (SharedWeights.swift).
        out += layers.map { $0.renumbered(reading: { $0 + 1 }, sharing: { $0 + 1 }) }
        var slices: [Int: Int] = [:]
        for i in inputs {
            out[i.layer + 1].producers = [0]
            out[i.layer + 1].inputShape = [total]
            slices[i.layer + 1] = i.offset
        }
        return (out, slices)
    }

    /// The plan's words for the flat input and the slices (`check --plan`).
    static func describe(_ plan: inout LoweringPlan, slices: [Int: Int], layers: [Layer]) {
        guard !slices.isEmpty else { return }
        plan.layers[0].forward = KernelChoice(kernel: "copy", form: "none", reason: "the \(slices.count) inputs' values side by side, one vector per example")
        for (p, o) in slices {
            let n = layers[p].outputShape.reduce(1, *)
            plan.layers[p].forward = KernelChoice(kernel: "copy", form: "slice", reason: "values \(o)..<\(o + n) of each example's input vector")
        }
    }

    /// The flat input's shape ([total]) for a model with several inputs, else `shape`.
    static func inputShape(_ shape: [Int], inputs: [ModelInput]?) -> [Int] {
        guard let inputs, inputs.count > 1 else { return shape }
        return [inputs.reduce(0) { $0 + $1.size }]
    }

    /// `inputs: [InputSpec(...), ...]` for the ModelInfo literal (nil for one input).
    static func infoField(_ inputs: [ModelInput]?) -> String? {
        guard let inputs, inputs.count > 1 else { return nil }
        let items = inputs.map { "InputSpec(name: \(swiftString($0.name)), shape: \($0.shape), offset: \($0.offset))" }
        return "inputs: [" + items.joined(separator: ", ") + "]"
    }
}
