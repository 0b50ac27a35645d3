// An ONNX graph read as modelc's IR reads a graph: one graph input, one graph output, and
// the computed nodes between them in topological order, each reading the input or earlier
// nodes' outputs (several only for the merge operators Add, Sum, Sub, Mul, Max, Min, Mean,
// Concat) plus constants (initializers, Constant values, folded shape computations). Shared by
// the importer (ModelcCore/Frontend/ONNXImporter.swift), which turns the steps into layers
// (a merge step into a merge layer whose producers are the steps it reads), and by
// `--weights model.onnx` (WeightsReader), which returns the initializers under the names the
// layers' tensors get. Both name the layers here, so the keys always agree: a layer with
// parameters is named after its weight initializer ("fc1.weight" -> "fc1"), else after the
// exporter's node path ("/features/features.0/Conv" -> "features.0"), else "<op>_<index>";
// its tensors are "<layer>.weight", ".bias", ".running_mean", ".running_var" in PyTorch
// state_dict layouts (Conv OIHW, Linear [out, in]).
//
// Before: a decoded ONNXModel (constant shape computations folded first: ONNXConstantFolding;
//         then a LayerNorm written as primitive operators made one LayerNormalization node:
//         ONNXLayerNormPattern; activations written so made one node: ONNXActivationPatterns;
//         a BatchNorm1d between Unsqueeze and Squeeze made one node: ONNXSqueezedBatchNorm;
//         recurrent nodes given batch-first semantics: ONNXRecurrentPattern; an Embedding's
//         Gather given its ids first: ONNXEmbeddingGather).
// After:  the steps in topological order (a MatMul and the Add of its bias merged into one
//         step), or a DataError naming the node that breaks the rules: a second computed input
//         of a non-merge node, an input nothing produces (missing initializer?), a node off the
//         path from the input, an output nothing reads (several outputs), a cycle.

import ModelcData

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
    /// The computed tensors the node reads (the graph input or earlier steps' outputs), in input order.
    public var inputs: [String]
    /// The tensor the step computes (the bias Add's output when one is merged in).
    public var output: String
    /// Inputs computed from a tensor's shape at run time, by position (ONNXShapeComputation).
    public var shapeInputs: [Int: String] = [:]

    public var opType: String { node.opType }
    public var hasParameters: Bool { ONNXChain.parameterOps.contains(node.opType) || node.rewrite == .embedding }
}

public struct ONNXChain: Sendable {
    public static let parameterOps: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "LayerNormalization", "LSTM", "GRU", "RNN"]

    public var model: ONNXModel
    public var file: String
    public var input: ONNXValueInfo
    public var output: ONNXValueInfo
    public var steps: [ONNXStep] = []
    /// Evaluates the shape tensors the steps read (ONNXStep.shapeInputs).
    public var shapeComputation: ONNXShapeComputation
    /// Graph outputs that are intermediate tensors (read by later nodes), listed by the exporter
    /// besides the final one and not computed as outputs.
    public var ignoredOutputs: [String] = []
    /// Subgraphs that almost are a decomposed LayerNorm, and why not (ONNXLayerNormPattern), for errors.
    public var layerNormMisses: [ONNXLayerNormPattern.NearMiss] = []
    /// The graph input is [T, N, F], time-major (batch_first=False), and a recurrent node reads it
    /// (ONNXRecurrentPattern): an example is [T, F], and the compiled model takes batch-first batches.
    public var timeMajorInput = false
    /// Sizes of the graph input the file left open and `inputSizes` gave (ONNXSidecar).
    public var filledInputSizes = false

    /// `inputSizes`: the graph input's sizes after the batch, for the sizes the file leaves open
    /// (an annotation, `input: shape=`); a size the file fixes must agree.
    public init(model: ONNXModel, file: String, inputSizes: [Int]? = nil) throws {
        self.model = model; self.file = file
        var g = model.graph
        var constants: [String: ONNXTensor] = [:]
        for t in g.initializers { constants[t.name] = t }
        let folded = try ONNXConstantFolding.fold(g, constants: &constants, file: file)
        if let n = g.nodes.first(where: { ["Loop", "Scan", "If"].contains($0.opType) }) {
            throw DataError(file: file, offset: n.offset, message: "node '\(n.name)' (\(n.opType)): control flow (Loop, Scan, If) is not supported; a recurrence written as a Loop (tf2onnx's Keras GRU, a scripted PyTorch RNN) is read as an ONNX LSTM, GRU or RNN node instead (torch.onnx.export of nn.LSTM, nn.GRU, nn.RNN; tf2onnx of a Keras LSTM)")
        }
        let inputs = g.inputs.filter { constants[$0.name] == nil }
        guard inputs.count == 1, var input = inputs.first else {
            throw DataError(file: file, offset: g.offset, message: "expected one graph input (not an initializer), found \(inputs.count)\(inputs.isEmpty ? "" : ": " + inputs.map { "'\($0.name)'" }.joined(separator: ", ")); modelc reads single-input ONNX graphs (a model with several inputs is read from its Keras functional summary or .keras file)")
        }
        let (output, ignored) = try Self.finalOutput(g, file: file)
        self.input = input; self.output = output; ignoredOutputs = ignored
        let pattern = ONNXLayerNormPattern.rewrite(g.nodes, constants: &constants, skipping: folded, output: output.name)
        layerNormMisses = pattern.misses
        var skipped = folded.union(pattern.skipped)
        let activations = ONNXActivationPatterns.rewrite(pattern.nodes, constants: constants, skipping: skipped, output: output.name)
        skipped.formUnion(activations.skipped)
        let squeezed = ONNXSqueezedBatchNorm.rewrite(activations.nodes, constants: constants, skipping: skipped, output: output.name)
        skipped.formUnion(squeezed.skipped)
        if let sizes = inputSizes {
            let batchAxis = Self.readsTimeMajor(input, nodes: squeezed.nodes, skipping: skipped) ? 1 : 0
            let done = try ONNXSidecar.completed(input, sizes: sizes, batchAxis: batchAxis, file: file)
            filledInputSizes = done.dims != input.dims
            input = done
            self.input = input
        }
        let timeMajor = try Self.timeMajorSteps(input, nodes: squeezed.nodes, skipping: skipped, file: file)
        let recurrent = try ONNXRecurrentPattern.rewrite(squeezed.nodes, constants: constants, skipping: skipped, output: output.name,
                                                         steps: timeMajor ?? Self.sequenceLength(input), graphInput: input.name,
                                                         timeMajorInput: timeMajor != nil, file: file)
        timeMajorInput = timeMajor != nil && recurrent.nodes.contains { $0.rewrite != nil && $0.inputs.first == input.name }
        skipped.formUnion(recurrent.skipped)
        let embeddings = ONNXEmbeddingGather.rewrite(recurrent.nodes, constants: constants, skipping: skipped)
        skipped.formUnion(embeddings.skipped)
        g.nodes = embeddings.nodes
        let (shapeNodes, shapeTensors) = Self.shapeNodes(g, skipping: skipped, constants: constants)
        shapeComputation = ONNXShapeComputation(nodes: shapeNodes.sorted().map { g.nodes[$0] }, constants: constants, file: file)
        do {
            steps = try Self.walk(g, from: input.name, to: output.name, constants: constants, skipping: skipped.union(shapeNodes),
                                  shapeTensors: shapeTensors, file: file)
        } catch let e as DataError {
            let node = e.offset.flatMap { o in g.nodes.firstIndex { $0.offset == o } }
            throw DataError(file: e.file, offset: e.offset, message: e.message + ONNXLayerNormPattern.hint(pattern.misses, failingNode: node))
        }
        Self.name(&steps)
    }

    /// Whether node i is a recurrent node with layout 0 reading tensor x as its X (and only there).
    static func timeMajorX(_ i: Int, _ x: String, _ nodes: [ONNXNode]) -> Bool {
        ONNXRecurrentPattern.operators.contains(nodes[i].opType) && nodes[i].inputs.first == x
            && (nodes[i].attributes["layout"]?.i ?? 0) == 0 && nodes[i].inputs.dropFirst().allSatisfy { $0 != x }
    }

    /// Whether a rank-3 graph input is read time-major by a recurrent node (its batch is axis 1).
    static func readsTimeMajor(_ input: ONNXValueInfo, nodes: [ONNXNode], skipping skip: Set<Int>) -> Bool {
        input.dims?.count == 3 && nodes.indices.contains { !skip.contains($0) && timeMajorX($0, input.name, nodes) }
    }

    /// The steps T of a graph input [T, N, F] that a recurrent node with layout 0 reads as its X:
    /// ONNX's time-major layout (PyTorch's batch_first=False), whose batch is axis 1. Any other
    /// reader but a Shape (a mean over axis 1, a layout-1 node) would read it batch-first: refused.
    static func timeMajorSteps(_ input: ONNXValueInfo, nodes: [ONNXNode], skipping skip: Set<Int>, file: String) throws -> Int? {
        guard let d = input.dims, d.count == 3, case .value(let t) = d[0], t >= 1 else { return nil }
        guard readsTimeMajor(input, nodes: nodes, skipping: skip) else { return nil }
        let readers = nodes.indices.filter { !skip.contains($0) && nodes[$0].inputs.contains(input.name) }
        if let other = readers.first(where: { !timeMajorX($0, input.name, nodes) && nodes[$0].opType != "Shape" }) {
            let n = nodes[other]
            throw DataError(file: file, offset: n.offset, message: "node '\(n.name)' (\(n.opType)) reads the graph input '\(input.name)', which a recurrent node reads time-major ([steps, batch, features]); modelc reads a time-major input with recurrent nodes (layout 0) only")
        }
        return t
    }

    /// The sequence length of a graph input [N, T] or [N, T, F], when it is fixed.
    static func sequenceLength(_ input: ONNXValueInfo) -> Int? {
        guard let d = input.dims, d.count == 2 || d.count == 3, case .value(let t) = d[1] else { return nil }
        return t
    }

    /// The one graph output no node reads, and the others, which later nodes read (an exporter
    /// may list an intermediate tensor as an output too); several final outputs are an error.
    static func finalOutput(_ g: ONNXGraph, file: String) throws -> (ONNXValueInfo, [String]) {
        let read = Set(g.nodes.flatMap(\.inputs))
        let finals = g.outputs.count > 1 ? g.outputs.filter { !read.contains($0.name) } : g.outputs
        guard finals.count == 1, let output = finals.first else {
            throw DataError(file: file, offset: g.offset, message: "expected one graph output, found \(g.outputs.count)"
                + (g.outputs.count > 1 ? " (\(finals.count) of them read by no node)" : "") + "; modelc reads single-output graphs")
        }
        return (output, g.outputs.map(\.name).filter { $0 != output.name })
    }

    /// The nodes computing sizes from a computed tensor's shape (ONNXShapeComputation.swift):
    /// each Shape node, then every node of those operators that reads only their outputs and
    /// constants; with the tensors they compute.
    static func shapeNodes(_ g: ONNXGraph, skipping folded: Set<Int>, constants: [String: ONNXTensor]) -> (Set<Int>, Set<String>) {
        var nodes = Set<Int>(), tensors = Set<String>()
        for (i, n) in g.nodes.enumerated() where !folded.contains(i) && ONNXShapeComputation.operators.contains(n.opType) {
            let readsShape = n.inputs.contains { tensors.contains($0) }
            let onlyShapes = n.inputs.allSatisfy { $0.isEmpty || tensors.contains($0) || constants[$0] != nil }
            guard n.opType == "Shape" || (readsShape && onlyShapes) else { continue }
            nodes.insert(i)
            for o in n.outputs where !o.isEmpty { tensors.insert(o) }
        }
        return (nodes, tensors)
    }

    /// Operators that combine several computed tensors (merge layers); any other node takes one.
    public static let mergeOps: Set<String> = ["Add", "Sum", "Sub", "Mul", "Max", "Min", "Mean", "Concat"]

    /// The computed nodes in topological order (graph order among the ready ones): each reads
    /// the graph input or earlier nodes' outputs plus constants, and every output but the graph
    /// output is read by a later node.
    static func walk(_ g: ONNXGraph, from input: String, to output: String, constants: [String: ONNXTensor], skipping: Set<Int>,
                     shapeTensors: Set<String>, file: String) throws -> [ONNXStep] {
        let nodes = g.nodes.indices.filter { !skipping.contains($0) }
        var producer: [String: Int] = [:]
        for i in nodes {
            for name in g.nodes[i].outputs where !name.isEmpty {
                if producer[name] != nil || name == input || constants[name] != nil {
                    throw DataError(file: file, offset: g.nodes[i].offset, message: "\(nodeText(g, i)): output '\(name)' is already defined (each tensor has one producer)")
                }
                producer[name] = i
            }
        }
        var data: [Int: [String]] = [:]      // each node's computed inputs
        var consumers: [String: [Int]] = [:]
        for i in nodes {
            let n = g.nodes[i]
            var ins: [String] = []
            for (k, name) in n.inputs.enumerated() where !name.isEmpty && constants[name] == nil && !shapeTensors.contains(name) {
                guard producer[name] != nil || name == input else {
                    throw DataError(file: file, offset: n.offset, message: "\(nodeText(g, i)): input '\(name)' is neither an initializer, a Constant nor a node output (missing initializer?)")
                }
                if n.opType == "Gather", k == 1, let table = n.inputs.first, constants[table] != nil {
                    throw DataError(file: file, offset: n.offset, message: "\(nodeText(g, i)) looks up entries of the initializer '\(table)' by the computed indices '\(name)' along axis \(n.attributes["axis"]?.i ?? 0); modelc reads such a Gather as an Embedding: a table [vocab, dim] indexed along axis 0")
                }
                if !mergeOps.contains(n.opType) && k != 0 {
                    let shape = n.inputs.contains { producer[$0].map { g.nodes[$0].opType == "Shape" } ?? false }
                        || g.nodes.contains { $0.opType == "Shape" }
                    if constants[n.inputs[0]] != nil {
                        throw DataError(file: file, offset: n.offset, message: "\(nodeText(g, i)) reads the constant '\(n.inputs[0])' and then the computed tensor '\(name)' (input \(k)); modelc computes a \(n.opType) of its first input")
                    }
                    throw DataError(file: file, offset: n.offset, message: "\(nodeText(g, i)) takes the computed tensors '\(n.inputs[0])' and '\(name)'; only merge operators (\(mergeOps.sorted().joined(separator: ", "))) take several"
                        + (shape ? " (a Shape node computes sizes at run time: export with a fixed input size and torch.flatten / nn.Flatten)" : ""))
                }
                ins.append(name)
                consumers[name, default: []].append(i)
            }
            guard let out = n.outputs.first, !out.isEmpty else {
                throw DataError(file: file, offset: n.offset, message: "\(nodeText(g, i)): expected an output, found none")
            }
            guard !ins.isEmpty else {
                throw DataError(file: file, offset: n.offset, message: "\(nodeText(g, i)) reads no computed tensor: it is not on a path from the input '\(input)' (only constant-foldable operators may have constant inputs only)")
            }
            if !mergeOps.contains(n.opType), n.inputs.first.map({ constants[$0] != nil || shapeTensors.contains($0) }) ?? true {
                throw DataError(file: file, offset: n.offset, message: "\(nodeText(g, i)): expected the data tensor '\(ins[0])' as its first input")
            }
            data[i] = ins
        }
        guard producer[output] != nil else {
            throw DataError(file: file, offset: g.offset, message: "the graph output '\(output)' is \(output == input ? "the input itself" : "produced by no node")")
        }
        for i in nodes {
            for (k, name) in g.nodes[i].outputs.enumerated() where !name.isEmpty && consumers[name] == nil && name != output && k == 0 {
                throw DataError(file: file, offset: g.nodes[i].offset, message: "\(nodeText(g, i)): its output '\(name)' feeds no node and is not the graph output '\(output)' (models with several outputs are not supported)")
            }
            for name in g.nodes[i].outputs.dropFirst() where !name.isEmpty && (consumers[name] != nil || name == output) {
                throw DataError(file: file, offset: g.nodes[i].offset, message: "\(nodeText(g, i)): its output '\(name)' (not the first) is used; only a node's first output is supported")
            }
        }
        let order = try topological(g, nodes, data: data, producer: producer, file: file)
        var steps: [ONNXStep] = []
        var fusedAdds = Set<Int>()
        for i in order where !fusedAdds.contains(i) {
            let n = g.nodes[i]
            var consts: [Int: ONNXTensor] = [:]
            for (k, name) in n.inputs.enumerated() where !name.isEmpty { if let t = constants[name] { consts[k] = t } }
            // PyTorch's LayerNorm(bias=False) exports its B as a Constant node of zeros: no parameter.
            if n.opType == "LayerNormalization", n.decomposed.isEmpty, let b = consts[2], !g.initializers.contains(where: { $0.name == n.inputs[2] }),
               (try? b.floats())?.allSatisfy({ $0 == 0 }) == true {
                consts[2] = nil
            }
            var step = ONNXStep(node: n, index: i + 1, biasAdd: nil, name: "", constants: consts, addConstant: nil, inputs: data[i] ?? [],
                                output: n.outputs[0])
            for (k, name) in n.inputs.enumerated() where shapeTensors.contains(name) { step.shapeInputs[k] = name }
            // MatMul followed by the Add of a constant bias: one Linear layer.
            if n.opType == "MatMul", step.output != output, let u = consumers[step.output], u.count == 1, g.nodes[u[0]].opType == "Add" {
                let add = g.nodes[u[0]]
                if add.inputs.count == 2, let o = add.inputs.first(where: { $0 != step.output }), let t = constants[o] {
                    fusedAdds.insert(u[0])
                    step.biasAdd = add
                    step.addConstant = t
                    step.output = add.outputs[0]
                }
            }
            steps.append(step)
        }
        return steps
    }

    static func nodeText(_ g: ONNXGraph, _ i: Int) -> String { "node '\(g.nodes[i].name)' (\(g.nodes[i].opType))" }

    /// The file's own order when it is topological (as onnx.proto requires), else Kahn's
    /// algorithm (first in, first out); a cycle is an error.
    static func topological(_ g: ONNXGraph, _ nodes: [Int], data: [Int: [String]], producer: [String: Int], file: String) throws -> [Int] {
        var position: [Int: Int] = [:]
        for (k, i) in nodes.enumerated() { position[i] = k }
        let sorted = nodes.allSatisfy { i in (data[i] ?? []).allSatisfy { producer[$0].map { position[$0]! < position[i]! } ?? true } }
        if sorted { return nodes }
        var waiting: [Int: Int] = [:]
        var readers: [Int: [Int]] = [:]
        for i in nodes {
            let deps = Set((data[i] ?? []).compactMap { producer[$0] })
            waiting[i] = deps.count
            for d in deps { readers[d, default: []].append(i) }
        }
        var queue = nodes.filter { waiting[$0] == 0 }
        var head = 0
        while head < queue.count {
            let i = queue[head]
            head += 1
            for r in readers[i] ?? [] {
                waiting[r]! -= 1
                if waiting[r] == 0 { queue.append(r) }
            }
        }
        if queue.count < nodes.count, let i = nodes.first(where: { waiting[$0]! > 0 }) {
            throw DataError(file: file, offset: g.nodes[i].offset, message: "\(nodeText(g, i)) is on a cycle (the graph is not acyclic)")
        }
        return queue
    }

    /// Names every step (see the file comment); names of steps with parameters are unique.
    static func name(_ steps: inout [ONNXStep]) {
        var used = Set<String>()
        for i in steps.indices {
            let s = steps[i]
            var base = ""
            // The weight's input name, or the initializer's own name behind an Identity.
            if s.hasParameters, s.node.inputs.count > 1,
               let w = [s.node.inputs[1], s.constants[1]?.name ?? ""].first(where: { $0.hasSuffix(".weight") }) {
                base = sanitized(String(w.dropLast(".weight".count)))
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
            if s.node.rewrite != nil, ONNXRecurrentPattern.operators.contains(s.opType) {
                for p in try Self.recurrentParameters(s, values: true, file: file) { out["\(s.name).\(p.suffix)"] = NDArray(float32: p.values, shape: p.shape) }
                continue
            }
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
        case "Gather" where s.node.rewrite == .embedding:
            return [("weight", try need(1, "table"), false)]
        case "LayerNormalization":
            // A decomposed LayerNorm (ONNXLayerNormPattern) without its Mul has no scale.
            let scale: ONNXTensor? = try s.node.decomposed.isEmpty ? need(1, "scale") : s.constants[1]
            return (scale.map { [("weight", $0, false)] } ?? []) + (s.constants[2].map { [("bias", $0, false)] } ?? [])
        default:
            return []
        }
    }
}
