// Several inputs (issue 17): a functional graph with several Input layers (Keras
// `Model([in_a, in_b], out)`).
//
// Before: a resolved graph IR whose Input layers (op .input) are the first layer and any later
//         layer that reads nothing (`producers == []`, GraphBuilder / KerasConfig), and the
//         framework's input order when it states one (a Keras file's `input_layers`).
// After:  `ModelIR.inputs` lists the inputs in that order (else in table order), each with its
//         layer, name, shape and offset. A compiled model takes ONE flat vector per example:
//         every input's values (flattened in its own order, H, W, C for images), input after
//         input; each Input layer reads its slice (Backend/Passes/MultiInputSplit.swift), so
//         batching, shuffling and the training loop need no change. nil with one input.
//         `ModelIR.inputShape` stays the first layer's shape. A model with several inputs
//         names no dataset: it trains on an .npz with one array per input, `x_<name>`
//         (ModelcRuntime/ModelInputs.swift).
// Errors, naming the layer: an Input layer no layer reads, more than `maxInputs` inputs, and
// more values per example than one layer may hold.

public struct ModelInput: Equatable, Codable, Sendable {
    /// Position of the input's layer in `ModelIR.layers`.
    public var layer: Int
    public var name: String
    public var shape: [Int]
    /// The input's first value in each example's flat input vector.
    public var offset: Int
    public var size: Int { shape.reduce(1, *) }
    public init(layer: Int, name: String, shape: [Int], offset: Int) {
        self.layer = layer; self.name = name; self.shape = shape; self.offset = offset
    }
}

enum ModelInputs {
    /// Most Input layers of one model.
    static let maxInputs = 64

    /// Positions of the Input layers, in order.
    static func inputLayers(_ layers: [Layer]) -> [Int] {
        layers.indices.filter { layers[$0].op == .input }
    }

    /// Sets `ir.inputs` (see the top of the file). `order`: the inputs' names in the
    /// framework's order (a Keras file's `input_layers`); empty: table order.
    /// `classesAnnotated`: `classes:` named the outputs (else they are numbered, no dataset's).
    static func resolve(_ ir: inout ModelIR, order: [String] = [], classesAnnotated: Bool = false) throws {
        var ins = inputLayers(ir.layers)
        guard ins.count > 1 else { return }
        func fail(_ p: Int, _ m: String) -> ModelError { ModelError(file: ir.sourcePath, line: ir.layers[p].line, message: m) }
        guard ins.count <= maxInputs else {
            throw fail(ins[maxInputs], "the model has \(ins.count) Input layers; at most \(maxInputs) are supported")
        }
        let readers = ir.layers.consumers
        if let unread = ins.first(where: { readers[$0].isEmpty }) {
            throw fail(unread, "Input layer '\(ir.layers[unread].name)' feeds no layer of the model")
        }
        if !order.isEmpty { ins.sort { (order.firstIndex(of: ir.layers[$0].name) ?? .max) < (order.firstIndex(of: ir.layers[$1].name) ?? .max) } }
        var inputs: [ModelInput] = []
        var offset = 0
        for p in ins {
            let l = ir.layers[p]
            inputs.append(ModelInput(layer: p, name: l.name, shape: l.outputShape, offset: offset))
            offset += inputs[inputs.count - 1].size
            guard offset <= ResourceLimits.maxActivationElements else {
                throw fail(p, "the inputs up to '\(l.name)' hold \(formatCount(offset)) values per example; modelc accepts at most \(formatCount(ResourceLimits.maxActivationElements)) (2^26)")
            }
        }
        ir.inputs = inputs
        ir.dataset = nil
        ir.assumptions.removeAll { $0.hasPrefix("dataset:") }
        if !classesAnnotated && !ir.isBinaryClassifier && ir.classNames.count == ir.classCount {
            ir.classNames = (0..<ir.classCount).map(String.init)
            ir.nativeClassNames = nil
            ir.assumptions.removeAll { $0.hasPrefix("classes:") }
        }
        ir.assumptions.append("dataset: none (a model with \(inputs.count) inputs trains on an .npz holding one array per input: \(dataNames(inputs)))")
    }

    /// "x_a [N, 28, 28, 1], x_b [N, 10]": the arrays a run's .npz holds.
    static func dataNames(_ inputs: [ModelInput]) -> String {
        inputs.map { "x_\($0.name) [N, \($0.shape.map(String.init).joined(separator: ", "))]" }.joined(separator: ", ")
    }

    /// The report's lines on the inputs (nothing for one input).
    static func report(_ ir: ModelIR) -> String {
        guard let ins = ir.inputs else { return "" }
        return "Inputs (\(ins.count); one flat vector per example, in this order; data: an .npz with x_<name> per input):\n"
            + ins.map { "  \($0.name) \(Inference.shapeText($0.shape)): values \($0.offset)..<\($0.offset + $0.size)\n" }.joined()
    }

    /// The JSON array of the inputs (check --json).
    static func json(_ ir: ModelIR) -> String? {
        ir.inputs.map { ins in
            "[" + ins.map { JSON.object([("name", JSON.string($0.name)), ("shape", JSON.ints($0.shape)), ("offset", String($0.offset))]) }
                .joined(separator: ", ") + "]"
        }
    }
}
