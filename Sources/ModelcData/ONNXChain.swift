// An ONNX graph read as a chain: the nodes from the one graph input to the one graph output,
// each feeding the next, with every other node input a constant (an initializer or a Constant
// node's value). Shared by the importer (ModelcCore/Frontend/ONNXImporter.swift), which turns
// the steps into layers, and by `--weights model.onnx` (WeightsReader), which returns the
// initializers under the names the layers' tensors get. Both name the layers here, so the keys
// always agree: a layer with parameters is named after its weight initializer ("fc1.weight" ->
// "fc1"), else after the exporter's node path ("/features/features.0/Conv" -> "features.0"),
// else "<op>_<index>"; its tensors are "<layer>.weight", ".bias", ".running_mean",
// ".running_var" in PyTorch state_dict layouts (Conv OIHW, Linear [out, in]).
//
// Before: a decoded ONNXModel (constant shape computations folded first: ONNXConstantFolding).
// After:  the steps in order (a MatMul and the Add of its bias merged into one step), or a
//         DataError naming the node where the graph stops being a chain (a tensor feeding two
//         nodes, a node with two computed inputs, a node off the path, a missing initializer).

public struct ONNXStep: Sendable {
    public var node: ONNXNode
    /// The node's position in the graph (1-based), used as its "line" in diagnostics.
    public var index: Int
    /// The Add (bias) merged into a MatMul, if any.
    public var biasAdd: ONNXNode?
    /// The layer name (unique among the steps with parameters).
    public var name: String
    /// The constant inputs of `node` by input position (initializers or Constant values).
    public var constants: [Int: ONNXTensor]
    /// The constant operand of `biasAdd`.
    public var addConstant: ONNXTensor?

    public var opType: String { node.opType }
    public var hasParameters: Bool { ONNXChain.parameterOps.contains(node.opType) }
}

public struct ONNXChain: Sendable {
    public static let parameterOps: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization"]

    public var model: ONNXModel
    public var file: String
    public var input: ONNXValueInfo
    public var output: ONNXValueInfo
    public var steps: [ONNXStep] = []

    public init(model: ONNXModel, file: String) throws {
        self.model = model; self.file = file
        let g = model.graph
        var constants: [String: ONNXTensor] = [:]
        for t in g.initializers { constants[t.name] = t }
        let folded = try ONNXConstantFolding.fold(g, constants: &constants, file: file)
        let inputs = g.inputs.filter { constants[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw DataError(file: file, offset: g.offset, message: "expected one graph input (not an initializer), found \(inputs.count)\(inputs.isEmpty ? "" : ": " + inputs.map { "'\($0.name)'" }.joined(separator: ", ")); modelc reads single-input chains")
        }
        guard g.outputs.count == 1, let output = g.outputs.first else {
            throw DataError(file: file, offset: g.offset, message: "expected one graph output, found \(g.outputs.count); modelc reads single-output chains")
        }
        self.input = input; self.output = output
        steps = try Self.walk(g, from: input.name, to: output.name, constants: constants, folded: folded, file: file)
        Self.name(&steps)
    }

    static func chainsOnly(_ what: String) -> String {
        "\(what): modelc reads ONNX chains only (each node feeding the next); branching graphs (residual Add, Concat, shared tensors) are not supported yet"
    }

    /// Follows the data tensor from `input` to `output` through nodes with one consumer each.
    static func walk(_ g: ONNXGraph, from input: String, to output: String, constants: [String: ONNXTensor], folded: Set<Int>,
                     file: String) throws -> [ONNXStep] {
        let nodes = g.nodes.indices.filter { !folded.contains($0) }
        var consumers: [String: [Int]] = [:]
        var producer: [String: Int] = [:]
        for i in nodes {
            for name in g.nodes[i].inputs where !name.isEmpty && constants[name] == nil { consumers[name, default: []].append(i) }
            for name in g.nodes[i].outputs where !name.isEmpty { producer[name] = i }
        }
        func nodeText(_ i: Int) -> String { "node '\(g.nodes[i].name)' (\(g.nodes[i].opType))" }
        func constantInputs(_ i: Int, data: String) throws -> [Int: ONNXTensor] {
            var out: [Int: ONNXTensor] = [:]
            for (k, name) in g.nodes[i].inputs.enumerated() where !name.isEmpty && name != data {
                if let t = constants[name] { out[k] = t; continue }
                let n = g.nodes[i]
                if producer[name] != nil || name == input {
                    throw DataError(file: file, offset: n.offset, message: chainsOnly("\(nodeText(i)) takes the computed tensors '\(data)' and '\(name)'"))
                }
                throw DataError(file: file, offset: n.offset, message: "\(nodeText(i)): input '\(name)' is neither an initializer, a Constant nor a node output (missing initializer?)")
            }
            return out
        }
        var steps: [ONNXStep] = []
        var visited = Set<Int>()
        var cur = input
        while true {
            let users = consumers[cur] ?? []
            if users.isEmpty {
                guard cur == output else {
                    throw DataError(file: file, offset: g.offset, message: "tensor '\(cur)' is used by no node and is not the graph output '\(output)'")
                }
                break
            }
            guard users.count == 1, cur != output else {
                let shape = users.contains { g.nodes[$0].opType == "Shape" } ? " (a Shape node computes sizes at run time: export with a fixed input size and torch.flatten / nn.Flatten)" : ""
                throw DataError(file: file, offset: g.nodes[users[0]].offset, message: chainsOnly("tensor '\(cur)' feeds \(users.count + (cur == output ? 1 : 0)) consumers (\(users.map(nodeText).joined(separator: ", "))\(cur == output ? ", the graph output" : ""))\(shape)"))
            }
            let i = users[0]
            let n = g.nodes[i]
            guard !visited.contains(i) else { throw DataError(file: file, offset: n.offset, message: "\(nodeText(i)) is reached twice (a cycle)") }
            visited.insert(i)
            guard n.inputs.firstIndex(of: cur) == 0 || n.opType == "Add" else {
                throw DataError(file: file, offset: n.offset, message: "\(nodeText(i)): expected the data tensor '\(cur)' as its first input")
            }
            var step = ONNXStep(node: n, index: i + 1, biasAdd: nil, name: "", constants: try constantInputs(i, data: cur), addConstant: nil)
            guard let next = n.outputs.first, !next.isEmpty else { throw DataError(file: file, offset: n.offset, message: "\(nodeText(i)): expected an output, found none") }
            cur = next
            // MatMul followed by the Add of a constant bias: one Linear layer.
            if n.opType == "MatMul", cur != output, let u = consumers[cur], u.count == 1, g.nodes[u[0]].opType == "Add" {
                let add = g.nodes[u[0]]
                let other = add.inputs.first { $0 != cur }
                if add.inputs.count == 2, let o = other, let t = constants[o] {
                    visited.insert(u[0])
                    step.biasAdd = add
                    step.addConstant = t
                    cur = add.outputs.first ?? ""
                }
            }
            steps.append(step)
        }
        if let i = nodes.first(where: { !visited.contains($0) }) {
            throw DataError(file: file, offset: g.nodes[i].offset, message: chainsOnly("\(nodeText(i)) is not on the path from input '\(input)' to output '\(output)'"))
        }
        return steps
    }

    /// Names every step (see the file comment); names of steps with parameters are unique.
    static func name(_ steps: inout [ONNXStep]) {
        var used = Set<String>()
        for i in steps.indices {
            let s = steps[i]
            var base = ""
            if s.hasParameters, s.node.inputs.count > 1, s.node.inputs[1].hasSuffix(".weight") {
                base = sanitized(String(s.node.inputs[1].dropLast(".weight".count)))
            }
            if base.isEmpty { base = pathName(s.node.name) }
            if base.isEmpty { base = s.opType.lowercased() + (s.hasParameters ? "_\(i)" : "") }
            var n = base, k = 2
            if s.hasParameters {
                while used.contains(n) { n = "\(base)_\(k)"; k += 1 }
                used.insert(n)
            }
            steps[i].name = n
        }
    }

    /// "/features/features.0/Conv" -> "features.0"; "" when the name has no module path.
    static func pathName(_ nodeName: String) -> String {
        let parts = nodeName.split(separator: "/")
        guard parts.count >= 2 else { return "" }
        return sanitized(String(parts[parts.count - 2]))
    }

    /// Letters, digits, '_' and '.' kept (at most 64), everything else '_'.
    static func sanitized(_ s: String) -> String {
        String(s.unicodeScalars.prefix(64).map { c -> Character in
            (c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == ".")) ? Character(c) : "_"
        })
    }

    // MARK: - Initializers as a state_dict

    /// Every parameter of the chain's layers keyed "<layer>.<suffix>" in the PyTorch state_dict
    /// layout of the layer modelc compiles from the step.
    public func stateDict() throws -> [String: NDArray] {
        var out: [String: NDArray] = [:]
        for s in steps where s.hasParameters {
            for (suffix, t, transpose) in try Self.parameters(s, file: file) {
                var v = try t.floats()
                var shape = t.dims
                if transpose {
                    guard shape.count == 2 else { throw DataError(file: file, offset: t.offset, message: "tensor '\(t.name)': expected a matrix, found dims \(shape)") }
                    let (r, c) = (shape[0], shape[1])
                    var w = [Float](repeating: 0, count: v.count)
                    for i in 0..<r { for j in 0..<c { w[j * r + i] = v[i * c + j] } }
                    v = w; shape = [c, r]
                }
                if suffix == "bias", shape.count == 2, shape[0] == 1 { shape = [shape[1]] }
                if s.opType == "Conv", suffix == "weight", let g = s.node.attributes["group"]?.i, g > 1, shape.count == 4, shape[1] == 1, shape[0] % g == 0 {
                    shape = [g, shape[0] / g, shape[2], shape[3]]   // depthwise: [C, multiplier, kh, kw]
                }
                out["\(s.name).\(suffix)"] = NDArray(float32: v, shape: shape)
            }
        }
        return out
    }

    /// A step's parameter tensors: (state_dict suffix, tensor, whether it is stored [in, out]).
    public static func parameters(_ s: ONNXStep, file: String) throws -> [(String, ONNXTensor, Bool)] {
        func need(_ k: Int, _ what: String) throws -> ONNXTensor {
            guard let t = s.constants[k] else {
                throw DataError(file: file, offset: s.node.offset, message: "node '\(s.node.name)' (\(s.opType)): expected the \(what) as an initializer (input \(k)), found none")
            }
            return t
        }
        switch s.opType {
        case "Conv", "ConvTranspose":
            return [("weight", try need(1, "weight"), false)] + (s.constants[2].map { [("bias", $0, false)] } ?? [])
        case "Gemm":
            let transB = (s.node.attributes["transB"]?.i ?? 0) != 0
            return [("weight", try need(1, "weight B"), !transB)] + (s.constants[2].map { [("bias", $0, false)] } ?? [])
        case "MatMul":
            return [("weight", try need(1, "weight B"), true)] + (s.addConstant.map { [("bias", $0, false)] } ?? [])
        case "BatchNormalization":
            return [("weight", try need(1, "scale"), false), ("bias", try need(2, "bias B"), false),
                    ("running_mean", try need(3, "running mean"), false), ("running_var", try need(4, "running variance"), false)]
        default:
            return []
        }
    }
}
