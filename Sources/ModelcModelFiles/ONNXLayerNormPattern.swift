// ONNXLayerNormPattern: a LayerNorm that an exporter wrote as primitive operators
// (torch.onnx.export at opset < 17, tf2onnx, keras2onnx) read back as one LayerNormalization
// node, the node opset 17 has. The subgraph, node by node:
//
//   mean = ReduceMean(x)                  axes an attribute (opset < 18) or a constant input 1 (18+),
//                                         consecutive and trailing (negative, ending at -1; or
//                                         non-negative: the importer checks they end at the last axis),
//                                         keepdims 1
//   d    = Sub(x, mean)                   the same x the ReduceMean reads
//   sq   = Pow(d, 2) | Mul(d, d)          the exponent a one-value constant, exactly 2
//   var  = ReduceMean(sq)                 the same axes, keepdims 1
//   ve   = Add(var, eps) | Add(eps, var)  eps a one-value constant > 0
//   s    = Sqrt(ve)
//   n    = Div(d, s) | Mul(d, Reciprocal(s)) | Mul(Reciprocal(s), d)
//   g    = Mul(n, gamma) | Mul(gamma, n)  optional: absent for LayerNorm(elementwise_affine=False)
//   y    = Add(g, beta) | Add(beta, g)    optional, only after the Mul: absent for LayerNorm(bias=False)
//
// or, in the scaled form Keras's layer_normalization takes through tf2onnx, after the same
// mean, d, sq, var, ve and s (d then read only by the square, the mean also by a Neg):
//   inv  = Reciprocal(s), times gamma when the layer has one (Mul, either order)
//   y    = Add(Mul(x, inv), Mul(Neg(mean), inv)), the second term plus beta when there is one
//
// gamma and beta are constants (initializers); a Mul or Add of a constant right after n or g
// is always taken as gamma or beta, so a wrong one is an error, never a layer left out.
// Every intermediate value (mean, d, sq, var, ve, s, 1/s, n, g, ...) is read by its pattern
// nodes only and is no graph output; d is read exactly twice (squared and normalized), or
// once in the scaled form.
//
// Before: the graph's nodes, the constants by name (initializers, Constant values, folded
//         outputs), the indices of the nodes folded away and the graph output.
// After:  each whole match rewritten: the slot of its first ReduceMean holds a
//         LayerNormalization node (inputs x, gamma, beta; attributes axis (the first reduced
//         axis), axes, epsilon; `decomposed` lists the operators it stands for), the other
//         nodes of the match are skipped, and gamma / beta are constants with their leading 1s
//         dropped (tf2onnx writes [1, C]) under a key of their own. The importer checks what
//         needs the shapes (ONNXDecomposedLayerNorm.swift): the axes end at the last one, gamma
//         and beta have the normalized shape. A ReduceMean whose output a Sub subtracts, but
//         that does not complete the pattern, is a near miss: nothing is rewritten (the
//         operators then get their usual errors) and `misses` says which piece did not match,
//         with the nodes the pattern would have covered: the hint goes only on an error about
//         one of those nodes (`hint(_:failingNode:)`).

import ModelcData

public enum ONNXLayerNormPattern {
    /// The rewritten nodes, the indices of the nodes now skipped, and the near misses.
    public struct Rewrite: Sendable {
        public var nodes: [ONNXNode]
        public var skipped: Set<Int>
        public var misses: [NearMiss]
    }

    /// A subgraph that almost is a decomposed LayerNorm: why not, and its nodes (indices into
    /// the graph's nodes): the anchor ReduceMean and the pattern's operators reachable from it
    /// within the longest pattern's depth.
    public struct NearMiss: Sendable {
        public var message: String
        public var nodes: Set<Int>
        public init(message: String, nodes: Set<Int>) { self.message = message; self.nodes = nodes }
    }

    /// Longest path from the first ReduceMean to the last node of a pattern, in nodes.
    static let maxDepth = 12
    static let operators: Set<String> = ["ReduceMean", "Sub", "Pow", "Mul", "Add", "Sqrt", "Div", "Reciprocal", "Neg"]

    /// Largest number of reduced axes looked at (a LayerNorm normalizes at most a few).
    static let maxAxes = 8

    static func rewrite(_ nodes: [ONNXNode], constants: inout [String: ONNXTensor], skipping folded: Set<Int>, output: String) -> Rewrite {
        let m = Matcher(nodes: nodes, constants: constants, folded: folded, output: output)
        var out = Rewrite(nodes: nodes, skipped: [], misses: [])
        for i in nodes.indices where !folded.contains(i) && !out.skipped.contains(i) && m.isAnchor(i) {
            do {
                let match = try m.match(i)
                guard match.nodes.allSatisfy({ !out.skipped.contains($0) }) else { continue }
                out.nodes[i] = m.node(match, constants: &constants)
                out.skipped.formUnion(match.nodes.filter { $0 != i })
            } catch {
                out.misses.append(NearMiss(message: "a decomposed LayerNorm starting at \(m.text(i)) was not recognized: " + ((error as? Miss)?.message ?? "\(error)"),
                                           nodes: m.region(i)))
            }
        }
        return out
    }

    /// The text appended to an error about node `failingNode` (an index into the graph's nodes):
    /// the near misses that node belongs to ("" when none, or when the error names no node).
    public static func hint(_ misses: [NearMiss], failingNode: Int?) -> String {
        guard let k = failingNode else { return "" }
        let hit = misses.filter { $0.nodes.contains(k) }.map(\.message)
        return hit.isEmpty ? "" : " (" + hit.prefix(3).joined(separator: "; ") + ")"
    }

    struct Miss: Error {
        let message: String
        init(_ m: String) { message = m }
    }

    struct Match {
        var nodes: [Int]
        var x: String
        var axes: [Int]
        var eps: Float
        var gamma: String?
        var beta: String?
        var output: String
    }

    struct Matcher {
        let nodes: [ONNXNode]
        let constants: [String: ONNXTensor]
        let output: String
        /// The nodes reading each tensor (each node once).
        var readers: [String: [Int]] = [:]

        init(nodes: [ONNXNode], constants: [String: ONNXTensor], folded: Set<Int>, output: String) {
            self.nodes = nodes; self.constants = constants; self.output = output
            for (i, n) in nodes.enumerated() where !folded.contains(i) {
                for name in Set(n.inputs) where !name.isEmpty { readers[name, default: []].append(i) }
            }
        }

        func text(_ i: Int) -> String { "node '\(nodes[i].name)' (\(nodes[i].opType))" }

        /// The anchor and the pattern's operators reachable from it in at most maxDepth steps.
        func region(_ anchor: Int) -> Set<Int> {
            var seen: Set<Int> = [anchor], frontier = [anchor]
            for _ in 1..<ONNXLayerNormPattern.maxDepth {
                frontier = frontier.flatMap { k in nodes[k].outputs.flatMap { readers[$0] ?? [] } }
                    .filter { ONNXLayerNormPattern.operators.contains(nodes[$0].opType) && seen.insert($0).inserted }
            }
            return seen
        }
        func out(_ i: Int) -> String { nodes[i].outputs.first ?? "" }

        /// A ReduceMean of a computed tensor whose output a Sub subtracts (its input 1).
        func isAnchor(_ i: Int) -> Bool {
            let n = nodes[i]
            guard n.opType == "ReduceMean", let x = n.inputs.first, constants[x] == nil, !out(i).isEmpty else { return false }
            return (readers[out(i)] ?? []).contains { nodes[$0].opType == "Sub" && nodes[$0].inputs.count == 2 && nodes[$0].inputs[1] == out(i) }
        }

        func match(_ m1: Int) throws -> Match {
            let x = nodes[m1].inputs[0], mean = out(m1)
            let axes = try reducedAxes(m1)
            // The mean is read by the Sub, and in the scaled form also by a Neg.
            let meanReaders = readers[mean] ?? []
            let neg = meanReaders.first { nodes[$0].opType == "Neg" }
            guard mean != output, let sub = meanReaders.first(where: { nodes[$0].opType == "Sub" }), meanReaders.count == (neg == nil ? 1 : 2) else {
                throw Miss("'\(mean)' (\(text(m1))) is read by \(list(meanReaders))\(mean == output ? " and is the graph output" : ""), expected only a Sub (and a Neg)")
            }
            guard nodes[sub].inputs == [x, mean] else {
                throw Miss("\(text(sub)) subtracts the mean of '\(x)' from '\(nodes[sub].inputs[0])'; a LayerNorm subtracts it from the same tensor")
            }
            let d = out(sub)
            let dReaders = readers[d] ?? []
            guard dReaders.count == (neg == nil ? 2 : 1), d != output else {
                throw Miss("'\(d)' (x - mean, \(text(sub))) is read by \(dReaders.count) node(s)\(d == output ? " and is the graph output" : ""); a LayerNorm reads it "
                    + (neg == nil ? "twice: squared and normalized" : "once, squared (x and the mean's Neg are scaled)"))
            }
            guard let sq = dReaders.first(where: { isSquare($0, d) }) else {
                throw Miss("'\(d)' is read by \(list(dReaders)), none of which squares it (expected Pow(d, 2) or Mul(d, d))")
            }
            try checkExponent(sq)
            let m2 = try only(out(sq), of: sq, op: ["ReduceMean"])
            let axes2 = try reducedAxes(m2)
            guard axes2 == axes else { throw Miss("\(text(m2)) reduces axes \(axes2), the mean \(text(m1)) axes \(axes)") }
            let addEps = try only(out(m2), of: m2, op: ["Add"])
            let eps = try epsilon(addEps, reading: out(m2))
            let sqrt = try only(out(addEps), of: addEps, op: ["Sqrt"])
            let tail: Tail
            if let neg {
                tail = try scaledTail(x: x, neg: neg, sqrt: sqrt)
            } else if let norm = dReaders.first(where: { $0 != sq }) {
                tail = try normalizedTail(d: d, norm: norm, sqrt: sqrt)
            } else {
                throw Miss("'\(d)' is squared but not normalized")
            }
            return Match(nodes: [m1, sub, sq, m2, addEps, sqrt] + tail.nodes, x: x, axes: axes, eps: eps, gamma: tail.gamma, beta: tail.beta, output: tail.output)
        }

        /// The nodes after Sqrt(var + eps), the affine constants and the LayerNorm's output.
        struct Tail {
            var nodes: [Int]
            var gamma: String?
            var beta: String?
            var output: String
        }

        /// Div(d, s) or Mul(d, Reciprocal(s)), then Mul by gamma, then Add of beta (both optional).
        func normalizedTail(d: String, norm: Int, sqrt: Int) throws -> Tail {
            var t = Tail(nodes: try normalization(norm, d: d, sqrt: sqrt), output: out(norm))
            if let k = affine(t.output, op: "Mul") {
                t.gamma = try operand(k, besides: t.output)
                t.nodes.append(k); t.output = out(k)
                if let k = affine(t.output, op: "Add") {
                    t.beta = try operand(k, besides: t.output)
                    t.nodes.append(k); t.output = out(k)
                }
            }
            return t
        }

        /// The scaled form (Keras's layer_normalization through tf2onnx): inv = Reciprocal(s)
        /// (times gamma), y = Add(Mul(x, inv), Mul(Neg(mean), inv) (plus beta)), operands in either order.
        func scaledTail(x: String, neg: Int, sqrt: Int) throws -> Tail {
            let r = try only(out(sqrt), of: sqrt, op: ["Reciprocal"])
            var t = Tail(nodes: [neg, r], output: "")
            var inv = out(r)
            if let k = affine(inv, op: "Mul") {
                t.gamma = try operand(k, besides: inv)
                t.nodes.append(k); inv = out(k)
            }
            let invReaders = readers[inv] ?? []
            guard inv != output, invReaders.count == 2, let a = invReaders.first(where: { isProduct($0, inv, x) }),
                  let b = invReaders.first(where: { isProduct($0, inv, out(neg)) }) else {
                throw Miss("'\(inv)' (1 / sqrt(var + eps)\(t.gamma == nil ? "" : " * gamma")) is read by \(list(invReaders)), expected Mul(x, it) and Mul(Neg(mean), it)")
            }
            _ = try only(out(neg), of: neg, op: ["Mul"])
            t.nodes += [a, b]
            var shift = out(b)
            if let k = affine(shift, op: "Add") {
                t.beta = try operand(k, besides: shift)
                t.nodes.append(k); shift = out(k)
            }
            let sum = try only(out(a), of: a, op: ["Add"])
            guard nodes[sum].inputs.count == 2, Set(nodes[sum].inputs) == [out(a), shift] else {
                throw Miss("\(text(sum)) adds \(nodes[sum].inputs), expected '\(out(a))' (x * inv) and '\(shift)' (-mean * inv\(t.beta == nil ? "" : " + beta"))")
            }
            _ = try only(shift, of: t.nodes.last ?? b, op: ["Add"])
            t.nodes.append(sum)
            t.output = out(sum)
            return t
        }

        /// Mul of the two different tensors p and q, in either order.
        func isProduct(_ k: Int, _ p: String, _ q: String) -> Bool {
            nodes[k].opType == "Mul" && p != q && nodes[k].inputs.count == 2 && Set(nodes[k].inputs) == [p, q]
        }

        func list(_ readers: [Int]) -> String { readers.isEmpty ? "no node" : readers.map(text).joined(separator: ", ") }

        /// The axes a ReduceMean reduces (attribute, or constant input 1), sorted; keepdims 1.
        func reducedAxes(_ k: Int) throws -> [Int] {
            let n = nodes[k]
            guard (n.attributes["keepdims"]?.i ?? 1) == 1 else { throw Miss("\(text(k)) has keepdims=0; a LayerNorm keeps the reduced axes") }
            var axes = n.attributes["axes"]?.ints ?? []
            if n.inputs.count > 1, !n.inputs[1].isEmpty {
                guard let t = constants[n.inputs[1]], let c = try? t.elementCount(), c <= maxAxes, let v = try? t.ints() else {
                    throw Miss("the axes '\(n.inputs[1])' of \(text(k)) are not a small constant INT64 list")
                }
                axes = v
            }
            let s = axes.sorted()
            guard !s.isEmpty, s.count <= maxAxes else { throw Miss("\(text(k)) reduces \(s.isEmpty ? "every axis (no axes given)" : "\(s.count) axes")") }
            let consecutive = zip(s, s.dropFirst()).allSatisfy { $1 == $0 + 1 }
            let trailing = s.allSatisfy({ $0 < 0 }) ? s.last == -1 : s.allSatisfy({ $0 >= 1 })
            guard consecutive, trailing else { throw Miss("\(text(k)) reduces axes \(axes); a LayerNorm reduces consecutive trailing axes") }
            return s
        }

        /// The one node reading `t` (the output of node `i`), of an operator in `op`.
        func only(_ t: String, of i: Int, op: Set<String>) throws -> Int {
            let r = readers[t] ?? []
            guard t != output else { throw Miss("'\(t)' (\(text(i))) is the graph output") }
            guard r.count == 1 else {
                throw Miss("'\(t)' (\(text(i))) is read by \(r.count) nodes\(r.isEmpty ? "" : " (" + r.map(text).joined(separator: ", ") + ")"), expected only a \(op.sorted().joined(separator: " or "))")
            }
            guard op.contains(nodes[r[0]].opType) else { throw Miss("'\(t)' (\(text(i))) is read by \(text(r[0])), expected a \(op.sorted().joined(separator: " or "))") }
            return r[0]
        }

        func isSquare(_ k: Int, _ d: String) -> Bool {
            let n = nodes[k]
            return (n.opType == "Pow" && n.inputs.count == 2 && n.inputs[0] == d) || (n.opType == "Mul" && n.inputs == [d, d])
        }

        func checkExponent(_ k: Int) throws {
            guard nodes[k].opType == "Pow" else { return }
            guard let e = scalar(nodes[k].inputs[1]) else { throw Miss("the exponent '\(nodes[k].inputs[1])' of \(text(k)) is not a one-value constant") }
            guard e == 2 else { throw Miss("the exponent of \(text(k)) is \(e), expected 2") }
        }

        /// Add(var, eps): eps a positive one-value constant.
        func epsilon(_ k: Int, reading v: String) throws -> Float {
            let name = try operand(k, besides: v)
            guard let eps = scalar(name), eps > 0, eps.isFinite else {
                throw Miss("the epsilon '\(name)' of \(text(k)) is not a one-value constant > 0")
            }
            return eps
        }

        /// Div(d, s), or Mul(d, Reciprocal(s)) in either order: the nodes it adds to the match.
        func normalization(_ k: Int, d: String, sqrt: Int) throws -> [Int] {
            let n = nodes[k], s = out(sqrt)
            switch n.opType {
            case "Div":
                guard n.inputs == [d, s] else { throw Miss("\(text(k)) divides \(n.inputs), expected '\(d)' by '\(s)' (\(text(sqrt)))") }
                _ = try only(s, of: sqrt, op: ["Div"])
                return [k]
            case "Mul":
                let r = try only(s, of: sqrt, op: ["Reciprocal"])
                guard n.inputs.count == 2, Set(n.inputs) == [d, out(r)] else {
                    throw Miss("\(text(k)) multiplies \(n.inputs), expected '\(d)' by '\(out(r))' (\(text(r)))")
                }
                _ = try only(out(r), of: r, op: ["Mul"])
                return [r, k]
            default:
                throw Miss("'\(d)' is read by \(text(k)), expected Div(d, Sqrt(var + eps)) or Mul(d, Reciprocal(Sqrt(var + eps)))")
            }
        }

        /// The node after `t` when it is an `op` of `t` and a constant (gamma's Mul, beta's Add).
        func affine(_ t: String, op: String) -> Int? {
            guard t != output, let r = readers[t], r.count == 1 else { return nil }
            let n = nodes[r[0]]
            guard n.opType == op, n.inputs.count == 2, n.inputs.contains(where: { $0 != t && constants[$0] != nil }) else { return nil }
            return r[0]
        }

        /// The input of binary node `k` that is not `t` (exactly one of the two is `t`).
        func operand(_ k: Int, besides t: String) throws -> String {
            let ins = nodes[k].inputs
            guard ins.count == 2, ins.filter({ $0 == t }).count == 1, let o = ins.first(where: { $0 != t }) else {
                throw Miss("\(text(k)) reads \(ins), expected '\(t)' and a constant")
            }
            return o
        }

        /// The value of a one-element float constant.
        func scalar(_ name: String) -> Float? {
            guard let t = constants[name], (try? t.elementCount()) == 1 else { return nil }
            return (try? t.floats())?.first ?? (try? t.ints())?.first.map(Float.init)
        }

        /// The LayerNormalization node standing for `m` (gamma and beta registered without leading 1s).
        func node(_ m: Match, constants: inout [String: ONNXTensor]) -> ONNXNode {
            let first = nodes[m.nodes[0]]
            var n = ONNXNode()
            n.name = first.name
            n.opType = "LayerNormalization"
            n.offset = first.offset
            n.inputs = [m.x] + [m.gamma, m.beta].map { $0.map { squeezed($0, constants: &constants) } ?? "" }
            while n.inputs.last == "" { n.inputs.removeLast() }   // no beta; no gamma: input 1 stays "" when there is a beta
            n.outputs = [m.output]
            n.attributes["axis"] = ONNXAttribute(name: "axis", i: m.axes[0])
            n.attributes["axes"] = ONNXAttribute(name: "axes", ints: m.axes)
            n.attributes["epsilon"] = ONNXAttribute(name: "epsilon", f: m.eps)
            n.decomposed = m.nodes.map { nodes[$0].opType }
            return n
        }

        /// The constant `name` under a key of its own with its leading 1s dropped (its name kept).
        func squeezed(_ name: String, constants: inout [String: ONNXTensor]) -> String {
            guard var t = constants[name], t.dims.count > 1, t.dims.first == 1 else { return name }
            while t.dims.count > 1, t.dims.first == 1 { t.dims.removeFirst() }
            let key = name + " (leading 1s dropped)"
            constants[key] = t
            return key
        }
    }
}
