// SharedLayers: a layer called more than once (shared weights) in a functional table.
//
// How the tables print one (Keras sources): each call of a layer is a node of it, and a
// `Connected to` entry `dense[k][t]` reads output t of node (call) k of `dense`.
//   tf.keras 2 / Keras 2 (`print_layer_summary_with_connections`): the layer has ONE row, whose
//     `Connected to` lists every call's inputs, one per line, in call order; its Output Shape is
//     the shape all calls share, or `multiple` when they differ; its Param # counts the weights
//     once, and so do the footer totals.
//   Keras 3 (`summary_utils.print_summary`): the same one row, the calls' inputs joined by ", "
//     (wrapped inside the cell), the Output Shape of the LAST call, the weights counted once.
// A merge layer's (Add, Concatenate, ...) entries are the inputs of one call; for any other
// layer each entry is one call (for a Lambda or a recurrent layer, whose one call may take
// several inputs, only when a row reads its call 1 or later). A merge layer called twice is
// refused (its entries cannot be split into calls), as are names or node indices the table cut
// short.
//
// Before: classified rows (SearchRow) of a table with a `Connected to` column, in table order.
// After:  nil when no layer is called twice (the rows stay as they are); else one row per call
//         in an order where every call comes after the calls it reads (the table's order where
//         it already is; tf.keras 2 lists a layer by the depth of its deepest call, which can
//         put its row above rows another of its calls reads). Call k > 0 of `dense` is its own
//         row `dense[k]`, marked `shared` (the position of call 0, which owns the weights): the
//         search gives it call 0's op on its own input, and the IR layer points to call 0
//         (`Layer.sharesWeightsWith`), so its weights are counted once.

struct SharedCall: Equatable {
    /// Row position (in the expanded order) of the layer's first call, which owns the weights.
    var owner: Int
    /// Which call this is (1, 2, ...).
    var call: Int
    /// The printed Output Shape is this call's (tf.keras 2 prints the common shape; Keras 3 the last call's).
    var printedShape: Bool
}

enum SharedLayers {
    /// Calls of all layers together (the rows are at most TableScanner.maxRows).
    static let maxCalls = 8000

    /// One `Connected to` entry: the layer's name and the call (node) it reads (nil: cut short).
    struct Ref: Equatable { var name: String; var node: Int? }

    /// The rows, one per call, when some layer is called more than once; else nil.
    static func expand(_ srows: [SearchRow], hows: [String?], layout: String, doc: Document) throws -> ([SearchRow], [String?])? {
        // The entries the table scanner kept (MaskRows drops Keras 3's mask rows from them).
        let refs = srows.map { r in references(r.row.connectedText).filter { r.row.connectedTo.contains($0.name) } }
        guard zip(refs, srows).allSatisfy({ $0.count == $1.row.connectedTo.count }) else { return nil }
        let isMerge = srows.map { !$0.kinds.isEmpty && $0.kinds.allSatisfy(\.takesSeveralInputs) }
        let readLater = Set(refs.flatMap { $0.filter { ($0.node ?? 0) > 0 }.map(\.name) })
        // Several entries are several calls, unless one call of the layer may take several
        // inputs (a Lambda, a recurrent layer's initial states) and no row reads a later call.
        let calls = srows.indices.map { i -> Int in
            if isMerge[i] || i == 0 { return 1 }
            let several = srows[i].kinds.contains { [.lambda, .simpleRNN, .lstm, .gru, .bidirectional].contains($0) }
            return several && !readLater.contains(srows[i].row.name) ? 1 : max(1, refs[i].count)
        }
        guard !readLater.isEmpty || calls.contains(where: { $0 > 1 }) else { return nil }
        guard calls.reduce(0, +) <= maxCalls else {
            throw doc.error(srows[0].row.line, "the table's layers make more than \(maxCalls) calls; at most \(maxCalls) are supported")
        }
        var index: [String: Int] = [:]
        for (i, r) in srows.enumerated() { index[r.row.name] = index[r.row.name] ?? i }
        // Each call's inputs as (row, call) pairs.
        var inputs: [[[(Int, Int)]]] = srows.indices.map { Array(repeating: [], count: calls[$0]) }
        for (i, rs) in refs.enumerated() where i > 0 {
            for (k, ref) in rs.enumerated() {
                let target = try resolve(ref, in: srows[i], index: index, calls: calls, merges: isMerge, doc: doc)
                inputs[i][calls[i] == 1 ? 0 : k].append(target)
            }
        }
        let order = try callOrder(inputs) { i in doc.error(srows[i].row.line, "layer '\(srows[i].row.name)': its calls and the layers they read form a cycle") }
        var position: [Int: Int] = [:]   // row * maxCalls + call -> position
        for (p, c) in order.enumerated() { position[c.0 * maxCalls + c.1] = p }
        var rows: [SearchRow] = [], outHows: [String?] = []
        let keras3 = layout.hasPrefix("keras3")
        for (i, k) in order {
            var s = srows[i]
            s.row.name = callName(srows[i].row.name, k)
            s.row.connectedTo = inputs[i][k].map { callName(srows[$0.0].row.name, $0.1) }
            s.row.connectedText = s.row.connectedTo.joined(separator: ", ")
            let printed = !keras3 || k == calls[i] - 1
            if k > 0 {
                s.shared = SharedCall(owner: position[i * maxCalls] ?? 0, call: k, printedShape: printed)
            } else if !printed {
                s.lastCallShape = true
            }
            rows.append(s)
            outHows.append(hows[i])
        }
        return (rows, outHows)
    }

    /// `dense` for call 0, `dense[k]` for call k.
    static func callName(_ name: String, _ k: Int) -> String { k == 0 ? name : "\(name)[\(k)]" }

    /// The row and call a `Connected to` entry of row `r` reads, or a clear error.
    static func resolve(_ ref: Ref, in r: SearchRow, index: [String: Int], calls: [Int], merges: [Bool], doc: Document) throws -> (Int, Int) {
        let where_ = "layer '\(r.row.name)' reads '\(ref.name)'"
        guard !ref.name.hasSuffix("…"), let node = ref.node else {
            throw doc.error(r.row.line, "\(where_), cut short by the table, in a model whose layers are called more than once; \(SummaryTable.printWider) so that names and node indices are whole")
        }
        guard let t = index[ref.name] else {
            throw doc.error(r.row.line, "layer '\(r.row.name)' is connected to '\(ref.name)', which is not a layer of the table")
        }
        guard node < calls[t] else {
            let what = merges[t] ? "a merge layer used more than once is not supported; give each use its own layer"
                : "the row of '\(ref.name)' lists \(calls[t]) call\(calls[t] == 1 ? "" : "s") in its 'Connected to' column"
            throw doc.error(r.row.line, "layer '\(r.row.name)' reads \(ref.name)[\(node)], call \(node + 1) of '\(ref.name)', but \(what)")
        }
        return (t, node)
    }

    /// Every call after the calls it reads and after the layer's earlier calls (Keras made them
    /// in that order, so there is no cycle in a real table); among the ready ones the table's
    /// order first, so a table without shared layers keeps its order.
    static func callOrder(_ inputs: [[[(Int, Int)]]], cycle: (Int) -> ModelError) throws -> [(Int, Int)] {
        let stride = maxCalls
        var waiting: [Int: Int] = [:], readers: [Int: [Int]] = [:]
        var ready: [Int] = []   // keys row * stride + call, kept sorted (the table's order)
        for (i, cs) in inputs.enumerated() {
            for (k, ins) in cs.enumerated() {
                let key = i * stride + k
                let deps = ins.map { $0.0 * stride + $0.1 } + (k > 0 ? [key - 1] : [])
                waiting[key] = deps.count
                for d in deps { readers[d, default: []].append(key) }
                if deps.isEmpty { ready.append(key) }
            }
        }
        var order: [(Int, Int)] = []
        while !ready.isEmpty {
            let key = ready.removeFirst()
            order.append((key / stride, key % stride))
            for r in readers[key] ?? [] {
                waiting[r, default: 0] -= 1
                if waiting[r] == 0 {
                    let at = ready.firstIndex { $0 > r } ?? ready.endIndex
                    ready.insert(r, at: at)
                }
            }
        }
        guard order.count == waiting.count else {
            throw cycle((waiting.filter { $0.value > 0 }.keys.min() ?? 0) / stride)
        }
        return order
    }

    /// The entries of a `Connected to` cell with their node indices, tokenized as
    /// `CellParser.connections` does: `dense[1][0]` -> (dense, 1); `batch_normalizat…` -> (…, nil).
    static func references(_ text: String) -> [Ref] {
        let t = text.trimmed
        guard t != "-", t != "[]" else { return [] }
        var out: [Ref] = []
        var token = ""
        func flush() {
            defer { token = "" }
            if let b = token.firstIndex(of: "[") {
                let n = String(token[..<b])
                guard !n.isEmpty else { return }
                let digits = token[token.index(after: b)...].prefix { $0.isNumber }
                let closed = token[token.index(after: b)...].dropFirst(digits.count).first == "]"
                out.append(Ref(name: n, node: closed ? Int(digits.prefix(9)) : nil))
            } else if token.count > 1, token.hasSuffix("…") {
                out.append(Ref(name: token, node: nil))
            }
        }
        for ch in t {
            if ch == " " || ch == "," || ch == "'" || ch == "\"" || ch == "\t" { flush(); continue }
            if token.isEmpty && ch == "[" { continue }
            token.append(ch)
        }
        flush()
        return out
    }
}

// MARK: - The shared calls in the search and in the IR

extension InferenceSearch {
    /// Call k > 0 of a shared layer: call 0's op on this call's input, with the same weights.
    func runShared(_ index: Int, _ s: SharedCall, input: [Int]) -> Bool {
        let r = rows[index]
        let inputs = r.producers.map { $0.map { chosen[$0].0.output } } ?? [input]
        let owner = chosen[s.owner].0
        let ownerInput = rows[s.owner].producers?.first.map { chosen[$0].0.output } ?? (s.owner > 0 ? chosen[s.owner - 1].0.output : input)
        let name = rows[s.owner].row.name, doc = self.doc
        func fail(_ m: String) -> Bool {
            self.fail(index, doc.error(r.row.line, "call \(s.call + 1) of layer '\(name)' (\(owner.kind.rawValue), shared weights) on \(Inference.shapeText(inputs.first ?? input)): " + m))
            return false
        }
        guard inputs.count == 1, let x = inputs.first else { return fail("a shared layer takes one input per call") }
        guard let out = SharedLayers.output(owner.op, input: x) else {
            return fail("a \(owner.kind.rawValue) layer called more than once is not supported")
        }
        guard SharedLayers.weightShapes(owner.op, input: x) == SharedLayers.weightShapes(owner.op, input: ownerInput) else {
            return fail("its weights were made for the input \(Inference.shapeText(ownerInput)) of call 1")
        }
        guard Inference.plausible(out) else { return fail("the output \(Inference.shapeText(out)) is out of range") }
        if s.printedShape, let d = Inference.declared(r.row.shape, input: x, kind: owner.kind), d != out {
            return fail("gives \(Inference.shapeText(out)), the table says \(Inference.shapeText(d))")
        }
        let c = LayerCandidate(kind: owner.kind, op: owner.op, output: out)
        chosen.append((c, [c]))
        if run(from: index + 1, input: out) { return true }
        chosen.removeLast()
        return false
    }
}

extension SharedLayers {
    /// The output of `op` on `input` for the kinds a shared layer may be, else nil. A 1-D layer's
    /// [L, C] input is the 1 x L image.
    static func output(_ op: Op, input s: [Int]) -> [Int]? {
        func spatial(_ s: [Int], _ f: ([Int]) -> [Int]?) -> [Int]? {
            if s.count == 2 { return f([1] + s).map { Array($0.dropFirst()) } }
            return s.count == 3 ? f(s) : nil
        }
        func dim(_ n: Int, _ k: Int, _ d: Int, _ st: Int, _ p: Padding) -> Int { Inference.outDim(n, k: (k - 1) * d + 1, s: st, p) }
        switch op {
        case .dense(let u, _, _): return s.isEmpty ? nil : Array(s.dropLast()) + [u]
        case .conv2d(let a), .separableConv2d(let a, _), .depthwiseConv2d(let a, _):
            var channels = a.filters
            if case .depthwiseConv2d(_, let m) = op { channels = (s.last ?? 0) * m }
            return spatial(s) { i in
                let o = [dim(i[0], a.kernelH, a.dilationH, a.strideH, a.padding), dim(i[1], a.kernelW, a.dilationW, a.strideW, a.padding), channels]
                return o[0] > 0 && o[1] > 0 ? o : nil
            }
        case .conv2dTranspose(let a, let oh, let ow):
            return s.count == 3 ? TransposedConv.outputShape(a, input: s, outputPadding: (oh, ow)) : nil
        case .maxPool(let p), .avgPool(let p):
            return spatial(s) { i in
                let o = [p.outDim(i[0], axis: 0), p.outDim(i[1], axis: 1), i[2]]
                return o[0] > 0 && o[1] > 0 ? o : nil
            }
        case .globalAvgPool, .globalMaxPool: return s.count >= 2 ? [s[s.count - 1]] : nil
        case .recurrent(let a): return s.count == 2 ? a.outputShape(steps: s[0]) : nil
        case .embedding(_, let d, _): return s.count == 1 ? s + [d] : nil
        case .flatten: return [s.reduce(1, *)]
        case .batchNorm, .normalization, .activation, .dropout, .lambda: return s
        default: return nil
        }
    }

    /// The shapes of the weights `op` has on `input` (equal for every call of a shared layer).
    static func weightShapes(_ op: Op, input: [Int]) -> [[Int]] {
        Layer(name: "", kind: "", op: op, inputShape: input, outputShape: [], line: 0).paramTensors.map(\.shape)
    }

    /// Marks the IR layers of later calls (positions in `srows` plus `offset`): they point to
    /// call 0's layer, declare no count of their own, and say so.
    static func mark(_ layers: inout [Layer], rows srows: [SearchRow], offset: Int) {
        for (i, r) in srows.enumerated() {
            guard let s = r.shared else { continue }
            let owner = s.owner + offset
            layers[i + offset].sharesWeightsWith = owner
            layers[i + offset].declaredParams = nil
            layers[i + offset].notes.append("call \(s.call + 1) of '\(layers[owner].name)': shares its weights (counted once, on its row)")
        }
    }

    /// After the semantic defaults: every call computes what call 0 does (one activation per layer).
    static func syncOps(_ ir: inout ModelIR) {
        for i in ir.layers.indices {
            guard let o = ir.layers[i].sharesWeightsWith, o >= 0, o < i else { continue }
            ir.layers[i].op = ir.layers[o].op
            ir.layers[i].frozen = ir.layers[o].frozen
        }
    }

    /// Verification of the later calls of shared layers: each points to an earlier layer that
    /// is not itself a later call, computes the same op, and fits its weights.
    static func verify(_ ir: ModelIR) -> [ModelError] {
        var problems: [ModelError] = []
        for (i, l) in ir.layers.enumerated() {
            guard let o = l.sharesWeightsWith else { continue }
            func problem(_ m: String) { problems.append(ModelError(file: ir.sourcePath, line: l.line, message: "layer '\(l.name)': " + m)) }
            guard o >= 0, o < i, ir.layers[o].sharesWeightsWith == nil else { problem("shares the weights of position \(o), which is not an earlier layer that owns weights"); continue }
            let owner = ir.layers[o]
            if l.op != owner.op { problem("a call of '\(owner.name)' computes \(Describe.op(l.op, oneD: l.isOneD)), not what '\(owner.name)' computes") }
            if weightShapes(l.op, input: l.inputShape) != weightShapes(owner.op, input: owner.inputShape) {
                problem("input \(Inference.shapeText(l.inputShape)) does not fit the weights of '\(owner.name)' (made for \(Inference.shapeText(owner.inputShape)))")
            }
            if let out = output(l.op, input: l.inputShape), out != l.outputShape {
                problem("output \(Inference.shapeText(l.outputShape)) is not the \(Inference.shapeText(out)) its input gives")
            }
        }
        return problems
    }
}
