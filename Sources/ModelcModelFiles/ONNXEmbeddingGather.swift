// ONNXEmbeddingGather: an Embedding as exporters write it, Gather(table, ids) with the table an
// initializer [vocab, dim] and the ids computed (axis 0), read as one node whose data input
// comes first, as every other layer's: Gather(ids, table), marked `.embedding`.
//
// tf2onnx converts a Keras model's float ids first: a Cast to INT32 or INT64, and for Keras 3's
// negative-index wrap `where(i < 0, i + vocab, i)` a few element-wise nodes (Add, Less, Not,
// Cast, Mul). Such a chain, from one Cast of a computed tensor to the Gather, read by nothing
// else and with scalar constants only, is part of the node when evaluating it gives back every
// id 0..<vocab unchanged (what it does to other values does not matter: modelc reports an id
// outside 0..<vocab as bad input). The node then reads the float ids (`decomposed` lists the
// chain's operators, then Gather).
//
// Before: the graph's nodes (after the earlier patterns), the constants and the skipped nodes.
// After:  each such Gather's inputs swapped and marked, its id chain skipped; every other node unchanged.

import ModelcData

public enum ONNXEmbeddingGather {
    static func rewrite(_ nodes: [ONNXNode], constants: [String: ONNXTensor], skipping skip: Set<Int>) -> (nodes: [ONNXNode], skipped: Set<Int>) {
        var out = nodes, skipped = Set<Int>()
        var readers: [String: [Int]] = [:], producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() where !skip.contains(i) {
            for name in Set(n.inputs) where !name.isEmpty { readers[name, default: []].append(i) }
            for name in n.outputs where !name.isEmpty { producer[name] = i }
        }
        let g = Graph(nodes: nodes, constants: constants, readers: readers, producer: producer)
        for (i, n) in nodes.enumerated() where !skip.contains(i) && n.opType == "Gather" && n.inputs.count == 2 {
            guard let table = constants[n.inputs[0]], table.dims.count == 2, constants[n.inputs[1]] == nil, !n.inputs[1].isEmpty,
                  [0, -2].contains(n.attributes["axis"]?.i ?? 0) else { continue }
            out[i].inputs = [n.inputs[1], n.inputs[0]]
            out[i].rewrite = .embedding
            if let chain = g.idChain(to: n.inputs[1], reader: i, vocab: table.dims[0]) {
                out[i].inputs[0] = chain.source
                out[i].decomposed = chain.nodes.map { nodes[$0].opType } + ["Gather"]
                skipped.formUnion(chain.nodes)
            }
        }
        return (out, skipped)
    }

    struct Graph {
        let nodes: [ONNXNode]
        let constants: [String: ONNXTensor]
        let readers: [String: [Int]]
        let producer: [String: Int]
        static let operators: Set<String> = ["Cast", "Add", "Sub", "Mul", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Equal",
                                             "Not", "And", "Or", "Where"]

        /// The nodes computing `ids` from one Cast-to-integer of a computed tensor (in file order)
        /// and that tensor, when they are an id-preserving chain read by nothing else.
        func idChain(to ids: String, reader: Int, vocab: Int) -> (nodes: [Int], source: String)? {
            var members = Set<Int>(), stack = [ids], source: String?
            while let t = stack.popLast() {
                guard let p = producer[t], Self.operators.contains(nodes[p].opType) else { return nil }
                if members.contains(p) { continue }
                guard members.count < 32 else { return nil }
                members.insert(p)
                let n = nodes[p]
                let computed = n.inputs.filter { !$0.isEmpty && constants[$0] == nil }
                if n.opType == "Cast", [6, 7].contains(n.attributes["to"]?.i ?? 0), let x = computed.first, producer[x].map({ !Self.operators.contains(nodes[$0].opType) }) ?? true {
                    guard source == nil || source == x else { return nil }
                    source = x
                    continue
                }
                stack.append(contentsOf: computed)
            }
            guard let source, members.allSatisfy({ m in nodes[m].outputs.allSatisfy { o in (readers[o] ?? []).allSatisfy { members.contains($0) || $0 == reader } } }),
                  vocab <= 1 << 20 else { return nil }
            let order = members.sorted()
            for v in 0..<vocab {
                guard let y = evaluate(order, source: source, value: Double(v), output: ids), y == Double(v) else { return nil }
            }
            return (order, source)
        }

        /// The chain's output for one source value (every constant a scalar), or nil.
        func evaluate(_ order: [Int], source: String, value: Double, output: String) -> Double? {
            var values = [source: value]
            func read(_ t: String) -> Double? {
                if let v = values[t] { return v }
                guard let c = constants[t], (try? c.elementCount()) == 1 else { return nil }
                if c.dataType == 1 || c.dataType == 11 || c.dataType == 10 { return (try? c.floats())?.first.map(Double.init) }
                return (try? c.ints())?.first.map(Double.init)
            }
            for i in order {
                let n = nodes[i]
                let args = n.inputs.map(read)
                guard args.allSatisfy({ $0 != nil }), let a = args.first ?? nil, let out = n.outputs.first else { return nil }
                let b = args.count > 1 ? args[1]! : 0
                let y: Double
                switch n.opType {
                case "Cast": y = [6, 7].contains(n.attributes["to"]?.i ?? 0) ? a.rounded(.towardZero) : n.attributes["to"]?.i == 9 ? (a != 0 ? 1 : 0) : a
                case "Add": y = a + b
                case "Sub": y = a - b
                case "Mul": y = a * b
                case "Less": y = a < b ? 1 : 0
                case "Greater": y = a > b ? 1 : 0
                case "LessOrEqual": y = a <= b ? 1 : 0
                case "GreaterOrEqual": y = a >= b ? 1 : 0
                case "Equal": y = a == b ? 1 : 0
                case "Not": y = a == 0 ? 1 : 0
                case "And": y = a != 0 && b != 0 ? 1 : 0
                case "Or": y = a != 0 || b != 0 ? 1 : 0
                case "Where": guard args.count == 3 else { return nil }; y = a != 0 ? b : args[2]!
                default: return nil
                }
                values[out] = y
            }
            return values[output]
        }
    }
}
