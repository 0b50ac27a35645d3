// ONNXImporter: an ONNX model file (decoded by ModelcModelFiles' ONNXModel, its graph read by
// ONNXChain) to the same ModelIR a PyTorch description gives.
//
// Before: the bytes of a .onnx file.
// After:  a CheckReport whose IR has PyTorch semantics (ONNX from PyTorch is NCHW: channels-first
//         data, C, H, W flatten order, state_dict weight layouts), the layers in graph order,
//         every hyperparameter taken from the node attributes and the initializers' dims (nothing
//         inferred), and each layer's initializers checked against the shapes its tensors get.
//         A branching graph becomes layers with producers (a layer reading another than the
//         one above) and merge layers (ONNXMerge.swift).
//         The layers are named as ONNXChain names them, so `--weights model.onnx` finds every
//         tensor under `TensorSpec.key`.
//
// The operators map to PTOp steps appended by PyTorchChain (PyTorch's shape rules); see
// ONNXOperators.swift. Decoder errors (DataError: file, offset, expected, found) become
// ModelErrors "FILE: error: offset N: ...".

import ModelcData
import ModelcModelFiles

enum ONNXImporter {
    /// The model file at `path`, its external data read from beside it.
    static func check(path: String) throws -> CheckReport {
        do { return try check(model: ONNXModel.read(path: path), path: path) } catch let e as DataError { throw ModelError(e) }
    }

    /// A model file's bytes (external data is not read: a tensor whose values are needed then is an error).
    static func check(bytes: [UInt8], path: String) throws -> CheckReport {
        do { return try check(model: ONNXModel.decode(bytes, file: path), path: path) } catch let e as DataError { throw ModelError(e) }
    }

    static func check(model: ONNXModel, path: String) throws -> CheckReport {
        let sidecar = try sidecar(of: path)
        let chain: ONNXChain
        do {
            chain = try ONNXChain(model: model, file: path, inputSizes: ONNXSidecar.inputSizes(text: Array(sidecar.1.text.utf8)))
        } catch let e as DataError { throw ModelError(e) }
        let doc = Document(text: "", path: path)
        var ir = try build(chain, doc: doc, sidecar: sidecar)
        try ResourceLimits.check(ir, document: doc)
        let problems = Verifier.verify(&ir, totalLine: nil, trainableLine: nil, nonTrainableLine: nil)
        return CheckReport(ir: ir, ok: problems.isEmpty, problems: problems, layout: "ONNX file")
    }

    /// The weights of the ONNX file at `path` by the IR's keys (ONNXChain.stateDict), its graph
    /// input completed by `FILE.onnx.modelc` (`input: shape=`) as `check` completes it.
    static func stateDict(path: String) throws -> [String: NDArray] {
        let sizes = ONNXSidecar.inputSizes(text: Array(try sidecar(of: path).1.text.utf8))   // checked as `check` checks it
        do {
            return try ONNXChain(model: ONNXModel.read(path: path), file: path, inputSizes: sizes).stateDict()
        } catch let e as DataError { throw ModelError(e) }
    }

    static func build(_ chain: ONNXChain, doc: Document, sidecar: (Annotations, Document)) throws -> ModelIR {
        var layout = ONNXLayout()
        let nhwcInput = ONNXLayout.nhwcInput(chain)
        if nhwcInput { layout.nhwc.insert(chain.input.name) }
        let kind = inputKind(chain)
        let input = try inputShape(chain, nhwc: nhwcInput, kind: kind)
        if kind == .sequence { layout.sequences.insert(chain.input.name) }
        if chain.timeMajorInput { layout.timeMajor = chain.input.name }
        let paramNames = Set(chain.steps.filter(\.hasParameters).map(\.name))
        var c = PyTorchBuilder.Chain(shape: input)
        var shapes = chain.shapeComputation
        // Each computed tensor's layer by IR position (0: the input layer, k: c.layers[k - 1]).
        var at: [String: Int] = [chain.input.name: 0]
        func shape(_ p: Int) -> [Int] { p == 0 ? input : c.layers[p - 1].outputShape }
        // An error about a node that almost is a decomposed LayerNorm says why it is not one.
        var reading: Int?
        do {
            for step in chain.steps {
                reading = step.index - 1
                var s = step
                let before = c.layers.count
                let from = try s.inputs.map { name -> Int in
                    guard let p = at[name] else { throw ModelError(file: chain.file, line: nil, message: "node \(s.index) ('\(s.node.name)'): input '\(name)' is not computed before it") }
                    return p
                }
                do {
                    for (k, name) in s.shapeInputs {
                        s.constants[k] = try shapes.value(name) { t in at[t].map { layout.dims(t, shape: shape($0)) } }
                    }
                    try append(s, from: from, shapes: from.map(shape), to: &c, layout: &layout, chain: chain, avoiding: paramNames, doc: doc)
                } catch let e as DataError {
                    throw ModelError(e)
                } catch let e as ModelError where e.line != nil {
                    throw ModelError(file: e.file, line: nil, message: "node \(s.index) ('\(s.node.name)'): " + e.message)
                }
                guard ResourceLimits.elements(c.shape) != nil else {
                    throw ModelError(file: chain.file, line: nil, message: "layer '\(s.name)' (\(s.opType)): output \(PyTorchBuilder.chw(c.shape)) has "
                        + "\(ResourceLimits.productText(c.shape)) elements per image; modelc accepts at most \(formatCount(ResourceLimits.maxActivationElements)) (2^26) per layer")
                }
                for k in before..<c.layers.count { c.layers[k].line = s.index }
                if s.hasParameters, let layer = c.layers.last { try checkInitializers(s, layer, chain: chain) }
                at[s.output] = c.layers.count > before ? c.layers.count : from[0]
            }
        } catch let e as ModelError {
            throw ModelError(file: e.file, line: e.line, message: e.message + ONNXLayerNormPattern.hint(chain.layerNormMisses, failingNode: reading))
        }
        guard let out = at[chain.output.name], out == c.layers.count else {
            throw ModelError(file: chain.file, line: nil, message: "the graph output '\(chain.output.name)' is not computed by the last layer; models whose output is not the last node are not supported")
        }
        c.shape = shape(out)
        let flattened = c.shape.count >= 2 ? c.shape : nil
        if flattened != nil {
            layout.flattened("flatten", shape: c.shape, hwc: layout.nhwc.contains(chain.output.name))
            c.flatten(line: chain.steps.last?.index ?? 1, note: "flatten of the final image or sequence output (classifier logits)")
            if layout.sequences.contains(chain.output.name) { c.layers[c.layers.count - 1].readsSteps = true }
        }
        return try assemble(c.layers, input: input, chain: chain, layout: layout, nhwcInput: nhwcInput, kind: kind, doc: doc, sidecar: sidecar,
                            flattenedOutput: flattened)
    }

    /// The IR of the chain's layers: the input layer first, the file's facts as assumptions, the
    /// dataset and training defaults. `flattenedOutput`: the graph output's IR shape when the
    /// last layer flattens it (a map or a sequence).
    static func assemble(_ layers: [Layer], input: [Int], chain: ONNXChain, layout: ONNXLayout, nhwcInput: Bool, kind: InputKind,
                         doc: Document, sidecar: (Annotations, Document), flattenedOutput: [Int]?) throws -> ModelIR {
        let hwc = try layout.hwcOrder(file: chain.file)
        try PyTorchBuilder.checkLogSoftmaxLast(layers, doc: doc)
        let inputLayer = Layer(name: PyTorchBuilder.uniqueInputName(layers), kind: "Input", op: .input, inputShape: input, outputShape: input,
                               line: 1, notes: [nhwcInput ? "input \(input) (H, W, C) from the graph input '\(chain.input.name)' (NHWC, turned NCHW by the graph)"
                                                : (kind == .image ? "input \(PyTorchBuilder.chw(input)) (C, H, W)" : kind == .sequence ? "input \(input) (steps, features)" : "input \(input) (steps: token ids)") + " from the graph input '\(chain.input.name)'"])
        var ir = ModelIR(name: IRBuilder.identifier(fromPath: doc.path), sourcePath: doc.path, semantics: .pytorch, inputShape: input,
                         layers: [inputLayer] + layers)
        let (ann, annDoc) = sidecar
        if let n = ann.name { ir.name = n }
        ir.assumptions = ["ONNX model (ir_version \(chain.model.irVersion), opset \(chain.model.opset.map(String.init) ?? "none")"
            + (chain.model.producer.isEmpty ? "" : ", from \(chain.model.producer)") + "): every hyperparameter read from the file; NCHW (PyTorch) semantics"
            + (hwc ? ", but Flatten in H, W, C order (the graph flattens NHWC tensors, as Keras)" : "")]
        if !chain.ignoredOutputs.isEmpty {
            ir.assumptions.append("graph output\(chain.ignoredOutputs.count > 1 ? "s" : "") \(chain.ignoredOutputs.map { "'\($0)'" }.joined(separator: ", ")) not compiled as an output: later nodes read \(chain.ignoredOutputs.count > 1 ? "them" : "it"); modelc compiles the one final output '\(chain.output.name)'")
        }
        if let shape = flattenedOutput, let last = layers.last {
            let steps = last.readsSteps == true, count = shape.reduce(1, *)
            let training = ann.trainingKeys.contains("loss") ? "" : " and trained as \(count) classes; for values, `train: loss=mse` in \(sidecarName(chain.file))"
            ir.assumptions.append("graph output '\(chain.output.name)' is [N, " + PyTorchBuilder.chw(shape, sequence: steps).dropFirst() + ", \(steps ? "a value per step" : "a map"): computed flattened to "
                + "[N, \(count)] (the same values in order)" + training)
        }
        if chain.filledInputSizes, let s = ann.inputShape {
            ir.assumptions.append("graph input '\(chain.input.name)': its open sizes from \(sidecarName(chain.file)) (input: shape=\(s.map(String.init).joined(separator: "x")), the sizes besides the batch in the graph's order)")
        }
        if chain.timeMajorInput {
            ir.assumptions.append("graph input '\(chain.input.name)' is time-major, [steps, batch, features] (a recurrent node reads it with layout 0, batch_first=False): an example is \(input); the compiled model takes batch-first batches of them")
        }
        ir.nhwcFlatten = hwc
        try SemanticDefaults.applyDataset(&ir, annotations: ann, document: annDoc)
        SemanticDefaults.applyTraining(&ir, annotations: ann)
        return ir
    }

    /// `FILE.onnx.modelc` beside the model (KerasConfig.sidecar): what a graph cannot say, its
    /// name, dataset, classes, input scaling, the input's open sizes (`input: shape=200` for a
    /// sequence length the export left dynamic) and `train:` settings. The graph states every
    /// layer and the input's layout, so directives about them are errors.
    static func sidecar(of file: String) throws -> (Annotations, Document) {
        let (ann, doc) = try KerasConfig.sidecar(of: file)
        let stated: [(Int?, String)] = [(ann.layers.first?.line, "layer"), (ann.heads.first?.line, "head"), (ann.forwardLine, "forward"),
                                        (ann.nested.first?.line, "nested model"), (ann.dataFormat != nil ? ann.inputLine : nil, "input data format")]
        if let (line, what) = stated.first(where: { $0.0 != nil }) {
            throw doc.error(line, "\(what) directive: an ONNX graph states its layers, outputs and input layout exactly; \(sidecarName(file)) gives only what it cannot say (model: name=, dataset:, classes:, input: scale, offset and open sizes, train:)")
        }
        return (ann, doc)
    }

    /// The file name of the annotations beside model file `file`: "model.onnx.modelc".
    static func sidecarName(_ file: String) -> String { (file.split(separator: "/").last.map(String.init) ?? file) + ".modelc" }

    /// Appends the layers of one step: a merge layer reading `from`, or the operator's layers
    /// reading `from[0]` (producers set when that is not the layer above).
    static func append(_ s: ONNXStep, from: [Int], shapes: [[Int]], to c: inout PyTorchBuilder.Chain, layout: inout ONNXLayout,
                       chain: ONNXChain, avoiding paramNames: Set<String>, doc: Document) throws {
        let st = ONNXOperators.Step(s: s, chain: chain, doc: doc)
        try layout.checkSequenceRead(st, shape: shapes[0])
        c.recurrentSequence = s.inputs.contains(where: layout.sequences.contains) ? s.inputs[0] : nil
        defer { if c.recurrentSequence != nil && c.shape.count == 2 { layout.sequences.insert(s.output) } }
        if try !ONNXChain.mergeOps.contains(s.opType) && layout.layoutOnly(st, shape: shapes[0]) { return }
        if ONNXChain.mergeOps.contains(s.opType), let t = s.inputs.first(where: layout.nhwc.contains) {
            throw st.err("reads '\(t)', which the graph holds NHWC (Keras layout); merges of NHWC tensors are not supported")
        }
        let scalar = from.count == 1 ? try ONNXMerge.scalarMap(st, rank: shapes[0].count) : nil
        if scalar == nil, ONNXChain.mergeOps.contains(s.opType) {
            return try ONNXMerge.append(st, from: from, shapes: shapes, name: ONNXOperators.layerName(s, avoiding: paramNames), to: &c)
        }
        let before = c.layers.count
        c.shape = shapes[0]
        if let op = scalar {
            c.add(ONNXOperators.layerName(s, avoiding: paramNames), s.opType, op, shapes[0], line: s.index,
                  notes: ["\(s.opType) by the constant '\(s.node.inputs.first { !s.inputs.contains($0) } ?? "")': every value"])
        } else {
            try ONNXOperators.append(s, to: &c, chain: chain, avoiding: paramNames, doc: doc)
        }
        if c.layers.count > before, from[0] != before { c.layers[before].producers = [from[0]] }
        // Layers reading a batch-first sequence [steps, features]: a Linear applies to each
        // step's features and a flatten runs in steps, features order (Layer.readsSteps).
        if c.recurrentSequence != nil { for k in before..<c.layers.count { c.layers[k].readsSteps = true } }
    }

    /// The graph input's [N, C, H, W], [N, C, L] or [N, F] (or, `nhwc`, [N, H, W, C]) as the IR's [H, W, C], [L, C] or [F];
    /// read by an Embedding, token ids [N, T] as [T] (FLOAT when the graph casts them); read by a
    /// recurrent layer, a sequence [N, T, F] as [T, F].
    static func inputShape(_ chain: ONNXChain, nhwc: Bool = false, kind: InputKind = .image) throws -> [Int] {
        let v = chain.input
        func err(_ m: String) -> ModelError { ModelError(file: chain.file, line: nil, message: "graph input '\(v.name)': \(m)") }
        var ids = false, cast = false
        if case .ids(let c) = kind { (ids, cast) = (true, c) }
        if ids {
            guard [6, 7].contains(v.elemType) || (cast && v.elemType == 1) else {
                throw err("read by an Embedding: expected INT64 or INT32 token ids\(cast ? " (or FLOAT ids the graph casts)" : ""), found element type \(v.elemType)")
            }
        } else {
            guard v.elemType == 1 else { throw err("expected FLOAT elements, found element type \(v.elemType)") }
        }
        let ranks: ClosedRange<Int> = ids ? 2...2 : kind == .image ? 2...4 : 3...3
        guard let dims = v.dims, ranks.contains(dims.count) else {
            let want = ids ? "[N, steps] (token ids)" : kind == .image ? "[N, C, H, W], [N, C, L] or [N, F]" : "[N, steps, features] (a recurrent layer reads it)"
            throw err("expected a shape \(want), found \(v.dims.map { "\($0.count) dimensions" } ?? "no shape")")
        }
        var s: [Int] = []
        // A time-major input [T, N, F] holds examples [T, F] (ONNXChain.timeMajorInput).
        let perExample = chain.timeMajorInput && kind == .sequence ? [dims[0], dims[2]] : Array(dims.dropFirst())
        for d in perExample {
            guard case .value(let n) = d, n >= 1, n <= ResourceLimits.maxDimension else {
                let sizes = perExample.map { d -> String in if case .value(let n) = d { return "\(n)" }; return "?" }
                throw err("expected fixed sizes \(chain.timeMajorInput ? "for the steps and features of a time-major input" : "after the batch dimension"), found \(sizes); give the open ones in \(sidecarName(chain.file)) beside it: `input: shape=\(sizes.map { $0 == "?" ? "N" : $0 }.joined(separator: "x"))` (the sizes besides the batch, in the graph's order)")
            }
            s.append(n)
        }
        guard ResourceLimits.elements(s) != nil else {
            throw err("\(ResourceLimits.productText(s)) elements per image; modelc accepts at most \(formatCount(ResourceLimits.maxActivationElements)) (2^26)")
        }
        return nhwc || kind != .image ? s : PyTorchBuilder.irShape(chw: s)
    }

    enum InputKind: Equatable {
        case image
        /// Token ids an Embedding reads (FLOAT when the graph casts them first).
        case ids(cast: Bool)
        /// A sequence [N, T, F] that reaches a recurrent layer through operators reading sequences
        /// (a Linear on each step, an activation, ...).
        case sequence
    }

    /// What the graph input is, from the steps reading it (in order) and what they lead to.
    static func inputKind(_ chain: ONNXChain) -> InputKind {
        var reach: Set<String> = [chain.input.name]
        for s in chain.steps where s.inputs.contains(where: reach.contains) {
            switch s.node.rewrite {
            case .embedding?: return s.inputs[0] == chain.input.name ? .ids(cast: !s.node.decomposed.isEmpty) : .image
            case .recurrent?: return .sequence
            case nil:   // (a merge only when every input it merges is reached: x + Linear(x))
                if ONNXOperators.sequenceReaders.contains(s.opType) && (!ONNXChain.mergeOps.contains(s.opType) || s.inputs.allSatisfy(reach.contains)) {
                    reach.insert(s.output)
                }
            }
        }
        return .image
    }

    /// Each initializer of a layer has the state_dict shape of the tensor it becomes.
    static func checkInitializers(_ s: ONNXStep, _ layer: Layer, chain: ONNXChain) throws {
        if ONNXRecurrentPattern.operators.contains(s.opType) { return try checkRecurrentInitializers(s, layer, chain: chain) }
        let sd = try ONNXChain.parameters(s, file: chain.file)
        let tensors = layer.stateDictTensors
        for (suffix, t, transposed) in sd {
            guard let want = tensors.first(where: { $0.key == "\(layer.name).\(suffix)" }) else {
                throw ModelError(file: chain.file, line: nil, message: "layer '\(layer.name)' (\(s.opType)): initializer '\(t.name)' (\(suffix)) has no place in the layer")
            }
            var dims = transposed ? t.dims.reversed() : t.dims
            if suffix == "bias", dims.count == 2, dims[0] == 1 { dims = [dims[1]] }
            guard dims == want.shape else {
                throw ModelError(file: chain.file, line: nil, message: "layer '\(layer.name)' (\(s.opType)): initializer '\(t.name)' has dims \(t.dims), expected \(transposed ? Array(want.shape.reversed()) : want.shape)")
            }
        }
        let have = Set(sd.map { "\(layer.name).\($0.0)" })
        if let missing = tensors.first(where: { !have.contains($0.key) }) {
            throw ModelError(file: chain.file, line: nil, message: "layer '\(layer.name)' (\(s.opType)): no initializer for \(missing.key) \(missing.shape)")
        }
    }
}

extension ONNXImporter {
    /// A recurrent layer's state_dict tensors are those its node's W, R and B give (ONNXRecurrentWeights.swift).
    static func checkRecurrentInitializers(_ s: ONNXStep, _ layer: Layer, chain: ONNXChain) throws {
        let have = try ONNXChain.recurrentParameters(s, values: false, file: chain.file)
        let want = layer.stateDictTensors
        for t in want {
            guard let h = have.first(where: { "\(layer.name).\($0.suffix)" == t.key }) else {
                throw ModelError(file: chain.file, line: nil, message: "layer '\(layer.name)' (\(s.opType)): no initializer gives \(t.key) \(t.shape)")
            }
            guard h.shape == t.shape else {
                throw ModelError(file: chain.file, line: nil, message: "layer '\(layer.name)' (\(s.opType)): \(t.key) would be \(h.shape), expected \(t.shape)")
            }
        }
        guard have.count == want.count else {
            throw ModelError(file: chain.file, line: nil, message: "layer '\(layer.name)' (\(s.opType)): its initializers give \(have.count) tensors, the layer holds \(want.count)")
        }
    }
}

extension Frontend {
    /// Checks the bytes of an ONNX model file (what `check(path:)` does for a `.onnx` path);
    /// `path` is used for messages and the model name.
    public static func checkONNX(bytes: [UInt8], path: String) throws -> CheckReport {
        try ONNXImporter.check(bytes: bytes, path: path)
    }
}
