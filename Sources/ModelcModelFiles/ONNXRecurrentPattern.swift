// ONNXRecurrentPattern: the LSTM, GRU and RNN nodes of an ONNX graph, with the layout operators
// exporters wrap around them, read back as one node each with modelc's sequence semantics: a
// batch-first input [N, T, F] and a batch-first output, either every step [N, T, D*H] or the
// final states [N, D*H] (the D directions side by side).
//
// ONNX's recurrent nodes are time-major (layout 0): X [T, N, F] -> Y [T, D, N, H] and the final
// states Y_h, Y_c [D, N, H] (layout 1: X [N, T, F], Y [N, T, D, H], Y_h [N, D, H]). torch.onnx
// (both exporters) and tf2onnx write a batch-first model as
//   x [N, T, F] -> Transpose [1, 0, 2] -> LSTM
//   Y -> Squeeze(axis 1), or Transpose [0, 2, 1, 3] + Reshape [T, N, D*H]; then Transpose
//        [1, 0, 2] -> [N, T, D*H], the sequence; Gather(axis 1, index -1) of it is out[:, -1]
//   Y_h -> Gather(axis 0, k) (h_n[k]) or Squeeze(axis 0); two of them Concat along axis 1:
//        torch.cat((h_n[-2], h_n[-1]), 1)
//   a stacked module: one node per layer, each Y -> Squeeze(1) -> the next layer's X; its h_n
//        the Concat of every layer's Y_h along axis 0
// Every tensor downstream of a recurrent node is tracked symbolically (whose steps or final
// states it holds, and which axis is which) through Transpose, Squeeze, Reshape, Gather, Concat
// and Identity, up to a node that computes with it. What the tensor holds there is the node's
// output: the steps batch-first (or time-major into the next layer's X), or exactly the final
// states of one node's directions in order. Slice and Gather also take one direction of a
// bidirectional node's steps (tf2onnx splits them and concatenates them again), and that
// direction's final state (its last step forward, its first backward). Anything else is an
// error naming the node. The
// initial states must be zeros (PyTorch's and Keras's default): absent, a zero constant, or
// Expand / ConstantOfShape of zero and slices of those.
//
// Before: the graph's nodes (after the earlier patterns), the constants, the skipped nodes, the
//         graph input and output.
// After:  each recurrent node reads its batch-first input (the tensor before the input
//         Transpose, or the previous layer's output), keeps inputs X, W, R, B, writes the tensor
//         its output is read as, and is marked `.recurrent(sequence:)`; the layout nodes, the
//         input Transpose and the zero-state nodes are skipped. A graph input [T, N, F] read by a
//         time-major node (ONNX's layout 0, PyTorch's batch_first=False) is read as it is: its
//         examples are [T, F] (ONNXChain.timeMajorInput). A graph without recurrent nodes is unchanged.

import ModelcData

extension ONNXNode {
    /// A recurrent node's directions: 2 when bidirectional, else 1.
    public var directions: Int { attributes["direction"]?.s == "bidirectional" ? 2 : 1 }
}

public enum ONNXRecurrentPattern {
    public static let operators: Set<String> = ["LSTM", "GRU", "RNN"]

    /// What an axis of a tracked tensor is.
    enum Axis: Equatable { case batch, time, direction, hidden, features, slot, lastStep }

    /// One direction of one recurrent node (its index in the node list).
    struct Part: Equatable { let node: Int, direction: Int }

    /// What a tracked tensor holds: the steps of a node's Y, the steps of one direction of it,
    /// a stack of final states (Y_h, or a Concat of several along their first axis), or
    /// per-sample final states side by side.
    enum Content: Equatable {
        case steps(Int)
        case direction(Part)
        case states([Part])
        case final([Part])
    }

    struct Held: Equatable {
        var content: Content
        var axes: [Axis]
    }

    /// A recurrent node's output as a layer reads it.
    struct Use { let tensor: String; let sequence: Bool; let reader: Int? }

    struct State {
        let nodes: [ONNXNode]
        let constants: [String: ONNXTensor]
        let file: String
        let steps: Int?
        /// The graph input, and whether time-major nodes read it as it is ([T, N, F], batch_first=False).
        let graphInput: String?
        let timeMajorInput: Bool
        var held: [String: Held] = [:]
        var readers: [String: [Int]] = [:]
        var producer: [String: Int] = [:]
        var uses: [Int: Use] = [:]
        var layoutNodes = Set<Int>()
        var skipped = Set<Int>()
        /// The nodes computing zero initial states.
        var zeroNodes = Set<Int>()

        func err(_ i: Int, _ m: String) -> DataError {
            DataError(file: file, offset: nodes[i].offset, message: "node '\(nodes[i].name)' (\(nodes[i].opType)): \(m)")
        }
        func directions(_ i: Int) -> Int { nodes[i].directions }
        func hidden(_ i: Int) -> Int? { nodes[i].attributes["hidden_size"]?.i.flatMap { (1...65536).contains($0) ? $0 : nil } }
        func batchFirst(_ i: Int) -> Bool { (nodes[i].attributes["layout"]?.i ?? 0) == 1 }
    }

    /// `steps`: the sequence length when the graph input gives it (checks Gather and Reshape indices).
    static func rewrite(_ nodes: [ONNXNode], constants: [String: ONNXTensor], skipping skip: Set<Int>, output: String, steps: Int?,
                        graphInput: String? = nil, timeMajorInput: Bool = false,
                        file: String) throws -> (nodes: [ONNXNode], skipped: Set<Int>) {
        let recurrent = nodes.indices.filter { !skip.contains($0) && operators.contains(nodes[$0].opType) }
        guard !recurrent.isEmpty else { return (nodes, []) }
        var st = State(nodes: nodes, constants: constants, file: file, steps: steps, graphInput: graphInput, timeMajorInput: timeMajorInput)
        for (i, n) in nodes.enumerated() where !skip.contains(i) {
            for name in Set(n.inputs) where !name.isEmpty { st.readers[name, default: []].append(i) }
            for name in n.outputs where !name.isEmpty { st.producer[name] = i }
        }
        var out = nodes
        for i in nodes.indices where !skip.contains(i) {
            if operators.contains(nodes[i].opType) {
                try readInput(i, &st, &out)
                try track(i, &st, output: output)
            }
        }
        st.skipped.formUnion(st.zeroNodes.filter { v in
            st.nodes[v].outputs.allSatisfy { o in (st.readers[o] ?? []).allSatisfy { st.zeroNodes.contains($0) || recurrent.contains($0) } }
        })
        for r in recurrent {
            guard let use = st.uses[r] else {
                throw st.err(r, "no layer reads its output sequence or final states (Y_c, the LSTM's final cell state, is not an output modelc computes)")
            }
            out[r].outputs = [use.tensor]
            out[r].inputs = Array(out[r].inputs.prefix(4))
            out[r].rewrite = .recurrent(sequence: use.sequence)
            out[r].decomposed = [nodes[r].opType] + st.layoutNodes.sorted().filter { consumed($0, by: r, st) }.map { nodes[$0].opType }
        }
        return (out, st.skipped.union(st.layoutNodes))
    }

    /// Whether layout node k lies on node r's path to its use.
    static func consumed(_ k: Int, by r: Int, _ st: State) -> Bool {
        st.nodes[k].outputs.contains { o in st.held[o].map { parts($0.content).contains { $0.node == r } } ?? false }
    }

    static func parts(_ c: Content) -> [Part] {
        switch c {
        case .steps(let r): return [Part(node: r, direction: 0)]
        case .direction(let p): return [p]
        case .states(let p), .final(let p): return p
        }
    }

    // MARK: - The input side

    /// Node i's batch-first input: the tensor an input Transpose [1, 0, 2] reads, the previous
    /// layer's output, or (layout 1) X itself; checks the optional inputs.
    static func readInput(_ i: Int, _ st: inout State, _ out: inout [ONNXNode]) throws {
        let n = st.nodes[i]
        guard let x = n.inputs.first, !x.isEmpty else { throw st.err(i, "expected the sequence X as its first input") }
        if n.inputs.count > 4, !n.inputs[4].isEmpty {
            throw st.err(i, "sequence_lens '\(n.inputs[4])': sequences of different lengths are not supported (pad them, or mask them in Keras)")
        }
        if n.inputs.count > 7, !n.inputs[7].isEmpty { throw st.err(i, "peephole weights P '\(n.inputs[7])' are not supported") }
        for k in [5, 6] where k < n.inputs.count && !n.inputs[k].isEmpty {
            var visited: [Int: Bool] = [:]
            guard zeros(n.inputs[k], st, &visited) else {
                throw st.err(i, "\(k == 5 ? "initial_h" : "initial_c") '\(n.inputs[k])' is not zero: modelc starts every sequence from zero states")
            }
            st.zeroNodes.formUnion(visited.keys)
        }
        if st.held[x] != nil { return }    // the previous layer's output: checked where it is used
        if st.batchFirst(i) || (x == st.graphInput && st.timeMajorInput) { return }
        if x == st.graphInput {
            throw st.err(i, "reads the graph input '\(x)' time-major ([steps, batch, features]) with an open number of steps (axis 0); modelc compiles fixed sizes (export with a fixed sequence length, or batch_first=True)")
        }
        guard let p = st.producer[x], st.nodes[p].opType == "Transpose", st.nodes[p].attributes["perm"]?.ints == [1, 0, 2],
              let a = st.nodes[p].inputs.first, !a.isEmpty else {
            throw st.err(i, "reads '\(x)' time-major ([steps, batch, features]) without a Transpose [1, 0, 2] from a batch-first tensor; modelc reads batch-first sequences (batch_first=True)")
        }
        out[i].inputs[0] = a
        if (st.readers[x] ?? []).allSatisfy({ $0 == i || st.nodes[$0].opType == "Shape" }) { st.skipped.insert(p) }
    }

    /// Whether `t` is all zeros: absent, a zero constant, or Expand / ConstantOfShape of zero and
    /// slices, reshapes, casts and concatenations of those (their nodes and verdicts in `visited`;
    /// a node on a cycle is not zero).
    static func zeros(_ t: String, _ st: State, _ visited: inout [Int: Bool]) -> Bool {
        if let c = st.constants[t] { return (try? c.floats())?.allSatisfy { $0 == 0 } ?? false }
        guard let p = st.producer[t] else { return false }
        if let known = visited[p] { return known }
        visited[p] = false
        let zero = zeroNode(p, st, &visited)
        visited[p] = zero
        return zero
    }

    static func zeroNode(_ p: Int, _ st: State, _ visited: inout [Int: Bool]) -> Bool {
        let n = st.nodes[p]
        switch n.opType {
        case "Slice", "Squeeze", "Unsqueeze", "Reshape", "Identity", "Cast", "Transpose", "Expand":
            return n.inputs.first.map { zeros($0, st, &visited) } ?? false
        case "Concat":   // tf2onnx's bidirectional state: Concat(z, z)
            return !n.inputs.isEmpty && n.inputs.allSatisfy { zeros($0, st, &visited) }
        case "ConstantOfShape":
            guard let v = n.attributes["value"]?.t else { return true }
            return (try? v.floats())?.allSatisfy { $0 == 0 } ?? false
        default:
            return false
        }
    }

    // MARK: - The output side

    /// Tracks node r's outputs Y and Y_h through the layout operators that read them, recording
    /// the use of each tensor a computing node reads.
    static func track(_ r: Int, _ st: inout State, output: String) throws {
        let n = st.nodes[r], d = st.directions(r)
        let parts = (0..<d).map { Part(node: r, direction: $0) }
        var queue: [String] = []
        if let y = n.outputs.first, !y.isEmpty {
            st.held[y] = Held(content: .steps(r), axes: st.batchFirst(r) ? [.batch, .time, .direction, .hidden] : [.time, .direction, .batch, .hidden])
            queue.append(y)
        }
        if n.outputs.count > 1, !n.outputs[1].isEmpty {
            st.held[n.outputs[1]] = Held(content: .states(parts), axes: st.batchFirst(r) ? [.batch, .slot, .hidden] : [.slot, .batch, .hidden])
            queue.append(n.outputs[1])
        }
        if n.outputs.count > 2, !n.outputs[2].isEmpty, st.readers[n.outputs[2]] != nil || n.outputs[2] == output {
            throw st.err(r, "its final cell state Y_c '\(n.outputs[2])' is read; modelc computes the hidden states only")
        }
        while !queue.isEmpty {
            let t = queue.removeFirst()
            if t == output { try used(t, reader: nil, &st) }
            for k in st.readers[t] ?? [] where st.nodes[k].opType != "Shape" {
                if let o = st.nodes[k].outputs.first, !o.isEmpty, let h = try propagate(k, &st) {
                    if st.held[o] == nil { st.held[o] = h; st.layoutNodes.insert(k); queue.append(o) }
                } else if !(st.nodes[k].opType == "Concat" && pendingConcat(k, st)) {
                    try used(t, reader: k, &st)
                }
            }
        }
    }

    /// A Concat of final states not all tracked yet (a later layer's arrive when it is tracked).
    static func pendingConcat(_ k: Int, _ st: State) -> Bool {
        st.nodes[k].inputs.contains { i in st.held[i] == nil && (st.producer[i].map { operators.contains(st.nodes[$0].opType) } ?? false) }
    }

    /// Records that a computing node (or the graph output) reads tracked tensor t.
    static func used(_ t: String, reader k: Int?, _ st: inout State) throws {
        guard let h = st.held[t] else { return }
        let producer = st.producer[t] ?? 0
        func refuse(_ m: String) -> DataError { k.map { st.err($0, "reads '\(t)', \(m)") } ?? st.err(producer, "the graph output '\(t)' is \(m)") }
        var use: (Int, Bool)
        switch h.content {
        case .steps(let r):
            let single: [Axis] = st.directions(r) == 1 ? [.hidden] : []
            let timeMajorX = k.map { operators.contains(st.nodes[$0].opType) && st.nodes[$0].inputs.first == t && !st.batchFirst($0) } ?? false
            let order: [Axis] = timeMajorX ? [.time, .batch] : [.batch, .time]
            guard h.axes == order + [.features] || h.axes == order + single else {
                throw refuse("\(describe(h, st)); a layer reads the steps as [batch, steps, features]" + (timeMajorX ? " (the next layer's X: [steps, batch, features])" : ""))
            }
            use = (r, true)
        case .final(let p):
            guard let r = p.first?.node, p == (0..<st.directions(r)).map({ Part(node: r, direction: $0) }),
                  h.axes == [.batch, .features] || h.axes == [.batch, .hidden] else {
                throw refuse("\(describe(h, st)); modelc computes a recurrent layer's final states as [batch, directions x hidden], every direction in order")
            }
            use = (r, false)
        case .states:
            throw refuse("\(describe(h, st)); pick them with Gather (h_n[-1]) or Squeeze, and torch.cat the directions along axis 1")
        case .direction:
            throw refuse("\(describe(h, st)); modelc computes a bidirectional layer's steps with both directions side by side")
        }
        if let prior = st.uses[use.0], prior.tensor != t || prior.reader == nil || k == nil {
            throw st.err(use.0, "its output is read twice ('\(prior.tensor)' and '\(t)'); modelc computes one output per recurrent layer")
        }
        st.uses[use.0] = Use(tensor: t, sequence: use.1, reader: k)
    }

    /// "the steps of node 'X' as [time, batch, hidden]" and the like, for errors.
    static func describe(_ h: Held, _ st: State) -> String {
        let names = parts(h.content).map { "'\(st.nodes[$0.node].name)'" + (st.directions($0.node) > 1 ? " direction \($0.direction)" : "") }
        let what: String
        switch h.content {
        case .steps, .direction: what = "the steps of node \(names[0])"
        case .states: what = "the final states of \(names.joined(separator: ", ")) stacked"
        case .final: what = "the final states of \(names.joined(separator: ", "))"
        }
        return what + " as [" + h.axes.map { "\($0)" }.joined(separator: ", ") + "]"
    }

    /// What node k's output holds when it only rearranges tracked tensors; nil when k computes.
    static func propagate(_ k: Int, _ st: inout State) throws -> Held? {
        let n = st.nodes[k]
        guard let x = n.inputs.first, let h = st.held[x] else {
            return n.opType == "Concat" ? try concat(k, st) : nil
        }
        switch n.opType {
        case "Identity": return h
        case "Transpose":
            guard let perm = n.attributes["perm"]?.ints, perm.sorted() == Array(h.axes.indices) else { return nil }
            return Held(content: h.content, axes: perm.map { h.axes[$0] })
        case "Squeeze": return squeeze(h, axes: axes(n, st), st)
        case "Reshape":
            guard (n.attributes["allowzero"]?.i ?? 0) == 0, n.inputs.count > 1 else { return nil }
            if let target = try? st.constants[n.inputs[1]]?.ints() { return reshape(h, target: target, st) }
            guard let (target, shapeNodes) = computedTarget(n.inputs[1], of: h, tensor: x, reshape: k, st),
                  let held = reshape(h, target: target, st) else { return nil }
            st.skipped.formUnion(shapeNodes)
            return held
        case "Gather": return try gather(k, h, st)
        case "Slice": return try slice(k, h, st)
        case "Concat": return try concat(k, st)
        default: return nil
        }
    }

    /// The size of axis `a` of node r's steps (nil for the batch, or the steps when the graph
    /// input leaves them open).
    static func size(_ a: Axis, of r: Int, _ st: State) -> Int? {
        let d = st.directions(r)
        switch a {
        case .time: return st.steps
        case .direction: return d
        case .hidden: return st.hidden(r)
        case .features: return st.hidden(r).map { d * $0 }
        default: return nil
        }
    }

    /// The operators of a Reshape target computed from its input's shape.
    static let targetOperators: Set<String> = ["Shape", "Slice", "Gather", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Cast", "Mul"]

    /// A Reshape target computed from the shape of the steps it reshapes (torch.onnx's dynamo
    /// exporter with a dynamic batch writes Shape, Slice, Mul and Concat to merge the direction
    /// and hidden axes): evaluated with the held axes' sizes and the batch as -1 (inferred), with
    /// the nodes computing it, which nothing else reads. Nil when it reads any other tensor.
    static func computedTarget(_ target: String, of h: Held, tensor x: String, reshape k: Int, _ st: State) -> (target: [Int], nodes: Set<Int>)? {
        guard case .steps(let r) = h.content else { return nil }
        var nodes = Set<Int>(), pending = [target]
        while let t = pending.popLast() {
            if let c = st.constants[t] {   // sizes only: a few integers
                guard c.dataType == 6 || c.dataType == 7, let n = try? c.elementCount(), n <= ONNXConstantFolding.maxFoldedElements else { return nil }
                continue
            }
            guard let p = st.producer[t] else { return nil }
            if nodes.contains(p) { continue }
            let n = st.nodes[p]
            guard nodes.count < 64, targetOperators.contains(n.opType), n.opType != "Shape" || n.inputs.first == x else { return nil }
            nodes.insert(p)
            if n.opType != "Shape" { pending += n.inputs.filter { !$0.isEmpty } }
        }
        let readers = nodes.flatMap { st.nodes[$0].outputs }.flatMap { st.readers[$0] ?? [] }
        guard readers.allSatisfy({ nodes.contains($0) || $0 == k }) else { return nil }
        var sizes: [Int] = []
        for a in h.axes {
            guard let n = a == .batch ? ONNXShapeComputation.batch : size(a, of: r, st) else { return nil }
            sizes.append(n)
        }
        var values = ONNXShapeComputation(nodes: nodes.sorted().map { st.nodes[$0] }, constants: st.constants, file: st.file)
        guard let dims = try? values.value(target, dims: { $0 == x ? sizes : nil }).ints(),
              dims.filter({ $0 == ONNXShapeComputation.batch }).count == 1, !dims.contains(-1) else { return nil }
        return (dims.map { $0 == ONNXShapeComputation.batch ? -1 : $0 }, nodes)
    }

    static func axes(_ n: ONNXNode, _ st: State) -> [Int]? {
        if let a = n.attributes["axes"], !a.ints.isEmpty { return a.ints }
        guard n.inputs.count > 1, let t = st.constants[n.inputs[1]] else { return nil }
        return try? t.ints()
    }

    /// Squeeze of a single direction's axis, or of a stack of one final state.
    static func squeeze(_ h: Held, axes: [Int]?, _ st: State) -> Held? {
        guard let a = axes, a.count == 1 else { return nil }
        let axis = a[0] < 0 ? a[0] + h.axes.count : a[0]
        guard h.axes.indices.contains(axis) else { return nil }
        var rest = h.axes
        rest.remove(at: axis)
        switch (h.axes[axis], h.content) {
        case (.direction, .steps(let r)) where st.directions(r) == 1: return Held(content: h.content, axes: rest)
        case (.slot, .states(let p)) where p.count == 1: return Held(content: .final(p), axes: rest)
        case (.lastStep, .final), (.direction, .direction): return Held(content: h.content, axes: rest)
        default: return nil
        }
    }

    /// Slice of one step or one direction (tf2onnx's strided slices): a direction of a
    /// bidirectional node's steps ([k:k+1] along the direction axis), or along the time axis a
    /// direction's final state (the last step forward, [-1:]; the first step backward, [0:1]),
    /// whose size-1 axis a Squeeze then removes.
    static func slice(_ k: Int, _ h: Held, _ st: State) throws -> Held? {
        let n = st.nodes[k]
        func list(_ i: Int, _ attr: String) -> [Int]? {
            if let a = n.attributes[attr], !a.ints.isEmpty { return a.ints }
            guard i < n.inputs.count, !n.inputs[i].isEmpty, let t = st.constants[n.inputs[i]] else { return nil }
            return try? t.ints()
        }
        guard let starts = list(1, "starts"), let ends = list(2, "ends"), starts.count == 1, ends.count == 1,
              (list(4, "steps")?.first ?? 1) == 1 else { return nil }
        var axis = list(3, "axes")?.first ?? 0
        if axis < 0 { axis += h.axes.count }
        guard h.axes.indices.contains(axis) else { return nil }
        let (start, end) = (starts[0], ends[0])
        switch (h.axes[axis], h.content) {
        case (.direction, .steps(let r)) where st.directions(r) == 2 && (start == 0 || start == 1) && (end == start + 1 || (start == 1 && end >= 2)):
            return Held(content: .direction(Part(node: r, direction: start)), axes: h.axes)
        case (.time, .steps(let r)) where st.directions(r) == 1:
            return step(h, at: axis, Part(node: r, direction: 0), first: start == 0 && end == 1, last: isLast(start, st) && reachesEnd(end, st))
        case (.time, .steps(let r)):
            throw st.err(k, "takes one step of the bidirectional node '\(st.nodes[r].name)' with both directions; modelc computes a direction's final state (the last step forward, the first backward)")
        case (.time, .direction(let p)):
            return step(h, at: axis, p, first: start == 0 && end == 1, last: isLast(start, st) && reachesEnd(end, st))
        default:
            return nil
        }
    }

    /// A step index that is the last: -1 or T-1.
    static func isLast(_ i: Int, _ st: State) -> Bool { i == -1 || (st.steps.map { i == $0 - 1 } ?? false) }
    static func reachesEnd(_ i: Int, _ st: State) -> Bool { i >= Int(Int32.max) || (st.steps.map { i >= $0 } ?? false) }

    /// The step of direction `p` at the time axis `axis` (kept, size 1) when it is that
    /// direction's final state: the last step forward, the first step backward.
    static func step(_ h: Held, at axis: Int, _ p: Part, first: Bool, last: Bool) -> Held? {
        guard p.direction == 0 ? last : first else { return nil }
        var axes = h.axes
        axes[axis] = .lastStep
        return Held(content: .final([p]), axes: axes)
    }

    /// A Reshape that merges the direction axis into the hidden one ([.., D, H] -> [.., D*H]) or
    /// drops a single direction; the batch may be written 0, -1 or the exporter's example size.
    static func reshape(_ h: Held, target: [Int], _ st: State) -> Held? {
        guard case .steps(let r) = h.content, st.hidden(r) != nil else { return nil }
        let d = st.directions(r)
        var candidates: [[Axis]] = []
        if let i = h.axes.firstIndex(of: .direction), i + 1 < h.axes.count, h.axes[i + 1] == .hidden {
            var m = h.axes
            m.replaceSubrange(i...(i + 1), with: [.features])
            candidates.append(m)
        }
        if d == 1 { candidates.append(h.axes.filter { $0 != .direction }) }
        func size(_ a: Axis) -> Int? { Self.size(a, of: r, st) }
        for c in candidates where c.count == target.count && target.filter({ $0 == -1 }).count <= 1 {
            let fits = zip(c.indices, c).allSatisfy { j, a in
                let v = target[j]
                if v == -1 { return true }
                if v == 0 { return j < h.axes.count && h.axes[j] == a }
                if a == .batch { return v > 0 && !target.contains(-1) }   // the exporter's example batch, only with no -1 elsewhere
                return size(a) == v
            }
            if fits { return Held(content: h.content, axes: c) }
        }
        return nil
    }

    /// Gather of one index: the last step (axis time, index -1 or T-1) or one final state of a stack.
    static func gather(_ k: Int, _ h: Held, _ st: State) throws -> Held? {
        let n = st.nodes[k]
        guard n.inputs.count == 2, let t = st.constants[n.inputs[1]], t.dims.isEmpty, let index = (try? t.ints())?.first else { return nil }
        var axis = n.attributes["axis"]?.i ?? 0
        if axis < 0 { axis += h.axes.count }
        guard h.axes.indices.contains(axis) else { return nil }
        var rest = h.axes
        rest.remove(at: axis)
        switch (h.axes[axis], h.content) {
        case (.direction, .steps(let r)) where st.directions(r) == 2 && (0...1).contains(index < 0 ? index + 2 : index):
            return Held(content: .direction(Part(node: r, direction: index < 0 ? index + 2 : index)), axes: rest)
        case (.time, .direction(let p)):
            guard p.direction == 0 ? isLast(index, st) : index == 0 else { return nil }
            return Held(content: .final([p]), axes: rest)
        case (.time, .steps(let r)):
            guard isLast(index, st) else { return nil }
            guard st.directions(r) == 1 else {
                throw st.err(k, "takes the last step (out[:, -1]) of the bidirectional node '\(st.nodes[r].name)': its backward half is the state after one step, which modelc does not compute; use the final states (torch.cat((h_n[-2], h_n[-1]), 1))")
            }
            return Held(content: .final([Part(node: r, direction: 0)]), axes: rest)
        case (.slot, .states(let p)):
            let i = index < 0 ? index + p.count : index
            guard p.indices.contains(i) else { return nil }
            return Held(content: .final([p[i]]), axes: rest)
        default:
            return nil
        }
    }

    /// Concat of stacks of final states along the stack axis, or of final states along the features.
    static func concat(_ k: Int, _ st: State) throws -> Held? {
        let n = st.nodes[k]
        let held = n.inputs.map { st.held[$0] }
        guard let first = held.first ?? nil, held.allSatisfy({ $0?.axes == first.axes }), var axis = n.attributes["axis"]?.i else { return nil }
        if axis < 0 { axis += first.axes.count }
        guard first.axes.indices.contains(axis) else { return nil }
        let all = held.flatMap { parts($0!.content) }
        if case .direction(let p) = first.content, first.axes[axis] == .hidden,
           all == (0..<st.directions(p.node)).map({ Part(node: p.node, direction: $0) }),
           held.allSatisfy({ if case .direction = $0!.content { return true }; return false }) {
            return Held(content: .steps(p.node), axes: first.axes.map { $0 == .hidden ? .features : $0 })
        }
        switch (first.axes[axis], first.content) {
        case (.slot, .states): return Held(content: .states(all), axes: first.axes)
        case (.hidden, .final), (.features, .final):
            // One node's directions in order; final states of different nodes concatenate as a merge layer.
            guard held.allSatisfy({ if case .final = $0!.content { return true }; return false }), let r = all.first?.node,
                  all == (0..<st.directions(r)).map({ Part(node: r, direction: $0) }) else { return nil }
            return Held(content: .final(all), axes: first.axes.map { $0 == .hidden ? .features : $0 })
        default: return nil
        }
    }
}
