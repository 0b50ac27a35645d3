// ONNXRecurrent: the sequence layers of an ONNX file. An LSTM, GRU or RNN node that
// ONNXRecurrentPattern (ModelcModelFiles) gave batch-first semantics becomes one PyTorch
// recurrent layer (IR/Recurrent.swift, state_dict names `<layer>.weight_ih_l0` and so on,
// which ONNXRecurrentWeights.swift fills from W, R and B); an Embedding's Gather
// (ONNXEmbeddingGather) becomes an Embedding. What modelc does not compute is refused:
// direction=reverse alone, activations other than the defaults (sigmoid gates, tanh) or relu in
// place of every tanh, clip,
// input_forget, and a GRU with linear_before_reset=0.
//
// The tensors after them are sequences [N, T, F], whose IR shape is [T, F] in the same order
// (not a 1-D convolution's [N, C, L]): ONNXLayout.sequences records them, and only the
// operators that read such a tensor as PyTorch does may read one. ReduceMean / ReduceMax pool a
// sequence over its steps, or an image over its pixels.

import ModelcData
import ModelcModelFiles

extension ONNXOperators {
    /// Operators that read a sequence tensor [N, T, F] element by element, flatten it in T, F
    /// order, pool it over the steps, apply a Linear (MatMul) or a LayerNorm to every step's
    /// features (the layer marked `readsSteps`: the backend reads other PyTorch 2-D shapes as a
    /// 1-D image's [L, C]), or are the next recurrent layer.
    static let sequenceReaders = Set(["MatMul", "LayerNormalization", "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Elu", "Clip", "Dropout", "Identity", "Flatten",
                                               "Reshape", "LSTM", "GRU", "RNN", "ReduceMean", "ReduceMax", "Add", "Sub", "Mul", "Max", "Min", "Mean", "Sum"] + smoothOperators)

    static let defaultActivations: [String: [String]] = ["LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"], "RNN": ["tanh"]]

    /// An LSTM, GRU or RNN node as one PyTorch recurrent layer.
    static func recurrent(_ st: Step, name: String, to c: inout PyTorchBuilder.Chain) throws {
        let n = st.node
        guard case .recurrent(let sequence) = n.rewrite else { throw st.err("expected the node's layout operators to be read first") }
        let direction = st.string("direction", "forward")
        guard direction == "forward" || direction == "bidirectional" else {
            throw st.err("direction=\(direction): only forward and bidirectional nodes are supported")
        }
        guard c.recurrentSequence != nil else {
            throw st.err("reads '\(st.s.inputs[0])' \(PyTorchBuilder.chw(c.shape)), which is not a sequence [batch, steps, features] (the graph input, an Embedding's or a recurrent layer's output)")
        }
        let d = n.directions
        var relu = false
        if let a = n.attributes["activations"], !a.strings.isEmpty {
            let want = Array(repeating: defaultActivations[n.opType] ?? [], count: d).flatMap { $0 }
            let given = a.strings.map { $0.lowercased() }
            relu = given == want.map { $0 == "tanh" ? "relu" : $0 }
            guard given == want || relu else {
                throw st.err("activations \(a.strings): modelc computes \(want.joined(separator: ", ")), or relu in place of every tanh (every direction's)")
            }
        }
        if let clip = n.attributes["clip"]?.f { throw st.err("clip=\(clip): clipped cell inputs are not supported") }
        if st.int("input_forget", 0) != 0 { throw st.err("input_forget=1 (coupled input and forget gates) is not supported") }
        if n.opType == "GRU", st.int("linear_before_reset", 0) != 1 {
            throw st.err("linear_before_reset=0 (the reset gate applied to the state before its projection) is not supported; PyTorch's GRU and Keras's reset_after=True export linear_before_reset=1")
        }
        let shapes = try ONNXChain.recurrentParameters(st.s, values: false, file: st.chain.file)
        let (gh, inputs) = (shapes[0].shape[0], shapes[0].shape[1])
        let hidden = gh / (ONNXChain.torchGateBlocks(n.opType).count)
        guard inputs <= 65536, hidden <= 65536 else { throw st.err("implausible sizes: input_size \(inputs), hidden_size \(hidden) (at most 65536 each)") }
        let cell: RecurrentCell = n.opType == "LSTM" ? .lstm : n.opType == "GRU" ? .gru : .simpleRNN
        let op = PTOp.recurrent(cell: cell, input: inputs, hidden: hidden, layers: 1, bias: st.constant(3) != nil, dropout: 0,
                                bidirectional: d == 2, output: sequence ? .sequence : .hidden)
        try PyTorchBuilder.append(PTStep(name: name, op: op, line: st.s.index), kind: n.opType, to: &c, doc: st.doc)
        if relu, case .recurrent(var a) = c.layers[c.layers.count - 1].op {
            a.activation = .relu
            c.layers[c.layers.count - 1].op = .recurrent(a)
        }
        let read = n.decomposed.count > 1 ? n.decomposed.joined(separator: ", ") + ": one layer; " : ""
        c.layers[c.layers.count - 1].notes = [read + (sequence ? "every step's output [steps, \(d * hidden)]" : "the final states [\(d * hidden)]" + (d == 2 ? " (forward, backward)" : ""))]
    }

    /// ReduceMean / ReduceMax of a sequence over its steps (axis 1: out.mean(1), torch.amax(out, 1)),
    /// or of an image [N, C, H, W] over H and W (a global pool): a pool over every step or pixel,
    /// then (keepdims=0) the [features] vector.
    static func reduce(_ st: Step, name: String, to c: inout PyTorchBuilder.Chain) throws {
        let isMax = st.node.opType == "ReduceMax", sequence = c.recurrentSequence != nil && c.shape.count == 2
        var given = st.node.attributes["axes"]?.ints ?? []
        if given.isEmpty, let t = st.constant(1) { given = try t.ints() }
        let rank = c.shape.count + 1
        let axes = given.map { $0 < 0 ? $0 + rank : $0 }.sorted()
        let op: PTOp, note: String
        if sequence {
            guard axes == [1] else { throw st.err("axes \(given) of a sequence [batch, steps, features]: only the steps (axis 1) are supported") }
            (op, note) = (.adaptivePool1d(max: isMax, out: 1), "\(isMax ? "max" : "mean") over the \(c.shape[0]) steps")
        } else if c.shape.count == 3 {
            guard axes == [2, 3] else { throw st.err("axes \(given) of an image [N, C, H, W]: only a global pool over H and W (axes [2, 3]) is supported") }
            (op, note) = (isMax ? .adaptiveMaxPool(oh: 1, ow: 1) : .adaptiveAvgPool(oh: 1, ow: 1), "\(isMax ? "max" : "mean") over the \(c.shape[0]) x \(c.shape[1]) pixels")
        } else {
            throw unsupported(st)   // of a vector: the near-miss of a decomposed LayerNorm, whose hint follows
        }
        try PyTorchBuilder.append(PTStep(name: name, op: op, line: st.s.index), kind: st.node.opType, to: &c, doc: st.doc)
        c.layers[c.layers.count - 1].notes = [note]
        if st.int("keepdims", 1) == 0 {
            try PyTorchBuilder.append(PTStep(name: name + "_flatten", op: .flatten, line: st.s.index), kind: "Flatten", to: &c, doc: st.doc,
                                      notes: ["keepdims=0: the pooled [1, features] as [features]"])
        }
    }

    /// An Embedding's Gather (ids first, then the table [vocab, dim]).
    static func embedding(_ st: Step, name: String, to c: inout PyTorchBuilder.Chain) throws {
        guard let t = st.constant(1), t.dims.count == 2, t.dims.allSatisfy({ $0 > 0 }) else { throw st.err("expected a table [vocab, dim] as its second input") }
        let op = PTOp.embedding(num: t.dims[0], dim: t.dims[1], padding: nil, bag: nil, sparse: false)
        try PyTorchBuilder.append(PTStep(name: name, op: op, line: st.s.index), kind: "Embedding", to: &c, doc: st.doc)
        let chain = st.node.decomposed.dropLast()
        c.layers[c.layers.count - 1].notes = [(chain.isEmpty ? "" : chain.joined(separator: ", ") + ": the ids made integers (each of 0..<\(t.dims[0]) kept), then ")
            + "Gather of the table '\(t.name)' by token ids: an Embedding (an ONNX file does not record padding_idx: every row trains)"]
    }
}
