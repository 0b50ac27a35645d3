// ChainBuilder: a layer chain built by hand, each layer's output shape computed by the rules
// the emitted code follows (`Emitter.outputShape`), so that the test IRs stay short.

import ModelcCore
import ModelcBackend

public struct ChainBuilder {
    public private(set) var layers: [Layer]
    private var shape: [Int]

    public init(input: [Int]) {
        shape = input
        layers = [Layer(name: "input_1", kind: "InputLayer", op: .input, inputShape: input, outputShape: input, line: 1)]
    }

    public mutating func add(_ name: String, _ kind: String, _ op: Op) {
        let out = Emitter.outputShape(of: op, input: shape)
        layers.append(Layer(name: name, kind: kind, op: op, inputShape: shape, outputShape: out, line: layers.count + 1))
        shape = out
    }

    public func ir(_ name: String) -> ModelIR {
        ModelIR(name: name, sourcePath: BackendTestModels.sourcePath, semantics: .keras,
                inputShape: layers[0].inputShape, layers: layers)
    }
}
