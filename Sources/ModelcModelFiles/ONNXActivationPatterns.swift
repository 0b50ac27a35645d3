// ONNXActivationPatterns: activations that exporters write as several primitive operators read
// back as one node, so that the importer sees one activation layer (never a Mul merge of two
// branches, or a Div it cannot take). The subgraphs, x a computed tensor:
//
//   SiLU       Mul(x, Sigmoid(x))                       torch.onnx (nn.SiLU, F.silu), tf2onnx swish
//   HardSwish  Mul(x, HardSigmoid(x)), alpha 1/6        torch.onnx below opset 14
//   Mish       Mul(x, Tanh(Softplus(x)))                torch.onnx below opset 18
//   Gelu       Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5), Mul(x, Mul(Add(...), 0.5)) or
//              Mul(Mul(x, 0.5), Add(...)); Div(x, sqrt 2) may be Mul(x, 1/sqrt 2)
//   Gelu tanh  the same tails around Add(Tanh(Mul(Add(x, Mul(x^3, 0.044715)), sqrt(2/pi))), 1),
//              x^3 as Pow(x, 3) or Mul(Mul(x, x), x)
//   Softsign   Div(x, Add(Abs(x), 1))                   torch.onnx (nn.Softsign)
//   Softplus   Where(Greater(x, 20), x, Softplus(x))    torch.onnx's dynamo exporter (threshold 20)
//   LogSoftmax Log(Softmax(x)), the Softmax's axis       torch.onnx of torch.log(F.softmax(x, 1))
//
// Mul and Add take their operands in either order; constants are one-value tensors within 1e-6
// of the value. Every intermediate tensor is read by the pattern's nodes only and is no graph
// output.
//
// The anchor of each match is its first node in pattern order (the Sigmoid, the Div, the cube);
// a match whose nodes another match took is left alone.
//
// Before: the graph's nodes (after constant folding and the LayerNorm patterns), the constants,
//         the nodes already skipped and the graph output.
// After:  each match rewritten: the slot of its first node holds one node of the pattern's
//         operator (SiLU is written "Swish" with alpha 1, ONNX's operator for it; LogSoftmax keeps
//         the Softmax's attributes; Gelu has approximate "none" or "tanh"; `decomposed` lists the
//         operators it stands for), reading x and
//         writing the pattern's output; the other nodes of the match are skipped. A subgraph
//         that does not match is left as it is (its operators then get their usual handling).

import ModelcData

public enum ONNXActivationPatterns {
    static func rewrite(_ nodes: [ONNXNode], constants: [String: ONNXTensor], skipping skip: Set<Int>, output: String)
        -> (nodes: [ONNXNode], skipped: Set<Int>) {
        var m = Matcher(nodes: nodes, constants: constants, skip: skip, output: output)
        var out = nodes
        for i in nodes.indices where !skip.contains(i) && !m.skipped.contains(i) {
            guard let match = m.match(i), match.nodes.allSatisfy({ !m.skipped.contains($0) }) else { continue }
            var n = ONNXNode()
            n.name = nodes[i].name; n.offset = nodes[i].offset
            n.opType = match.op; n.inputs = [match.x]; n.outputs = [match.output]
            n.decomposed = match.nodes.map { nodes[$0].opType }
            if match.op == "Swish" { n.attributes["alpha"] = ONNXAttribute(name: "alpha", f: 1) }
            if match.op == "Gelu" { n.attributes["approximate"] = ONNXAttribute(name: "approximate", s: match.approximate) }
            if match.op == "LogSoftmax" { n.attributes = nodes[i].attributes }
            out[i] = n
            m.skipped.formUnion(match.nodes.filter { $0 != i })
        }
        return (out, m.skipped)
    }

    struct Match {
        var op: String
        var x: String
        var nodes: [Int]
        var output: String
        /// Gelu's form: "none" (erf) or "tanh".
        var approximate = "none"
    }

    struct Matcher {
        let nodes: [ONNXNode]
        let constants: [String: ONNXTensor]
        let output: String
        var readers: [String: [Int]] = [:]
        var skipped: Set<Int> = []

        init(nodes: [ONNXNode], constants: [String: ONNXTensor], skip: Set<Int>, output: String) {
            self.nodes = nodes; self.constants = constants; self.output = output
            for (i, n) in nodes.enumerated() where !skip.contains(i) {
                for name in Set(n.inputs) where !name.isEmpty { readers[name, default: []].append(i) }
            }
        }

        func out(_ i: Int) -> String { nodes[i].outputs.first ?? "" }

        /// The one node reading node i's output, of operator `op`, when that output is nothing else's.
        func sole(_ i: Int, _ op: String) -> Int? {
            let t = out(i)
            guard !t.isEmpty, t != output, let r = readers[t], r.count == 1, nodes[r[0]].opType == op else { return nil }
            return r[0]
        }

        /// Node k's inputs are exactly {a, b}, in either order.
        func takes(_ k: Int, _ a: String, _ b: String) -> Bool {
            let i = nodes[k].inputs
            return i.count == 2 && (i == [a, b] || i == [b, a])
        }

        /// Node k's operand other than `t`, when it is a one-value constant within 1e-6 of `value`.
        func constant(_ k: Int, besides t: String, _ value: Float) -> Bool {
            let i = nodes[k].inputs
            guard i.count == 2, i.contains(t), let c = i.first(where: { $0 != t }), let tensor = constants[c],
                  (try? tensor.elementCount()) == 1, let v = (try? tensor.floats())?.first else { return false }
            return abs(v - value) <= 1e-6 * max(1, abs(value))
        }

        func match(_ i: Int) -> Match? {
            let n = nodes[i]
            guard let x = n.inputs.first(where: { !$0.isEmpty && constants[$0] == nil }) else { return nil }
            switch n.opType {
            case "Sigmoid": return product(i, x: x, op: "Swish")
            case "HardSigmoid":
                let alpha = n.attributes["alpha"]?.f ?? 0.2, beta = n.attributes["beta"]?.f ?? 0.5
                guard abs(alpha - 1 / 6) < 1e-6, beta == 0.5 else { return nil }
                return product(i, x: x, op: "HardSwish")
            case "Softplus":
                if let t = sole(i, "Tanh"), let m = sole(t, "Mul"), takes(m, x, out(t)) { return Match(op: "Mish", x: x, nodes: [i, t, m], output: out(m)) }
                return thresholdedSoftplus(i, x: x)
            case "Abs":
                guard let a = sole(i, "Add"), constant(a, besides: out(i), 1), let d = sole(a, "Div"), nodes[d].inputs == [x, out(a)] else { return nil }
                return Match(op: "Softsign", x: x, nodes: [i, a, d], output: out(d))
            case "Softmax":
                guard let l = sole(i, "Log") else { return nil }
                return Match(op: "LogSoftmax", x: x, nodes: [i, l], output: out(l))
            case "Div": return gelu(i, x: x)
            case "Mul": return gelu(i, x: x) ?? geluTanh(i, x: x)
            case "Pow": return geluTanh(i, x: x)
            default: return nil
            }
        }

        /// Mul(x, f(x)) after node i (f's output read only by that Mul).
        func product(_ i: Int, x: String, op: String) -> Match? {
            guard let m = sole(i, "Mul"), takes(m, x, out(i)) else { return nil }
            return Match(op: op, x: x, nodes: [i, m], output: out(m))
        }

        /// Where(Greater(x, 20), x, Softplus(x)): node i is the Softplus.
        func thresholdedSoftplus(_ i: Int, x: String) -> Match? {
            guard let w = sole(i, "Where"), nodes[w].inputs.count == 3, nodes[w].inputs[1] == x, nodes[w].inputs[2] == out(i),
                  let g = (readers[x] ?? []).first(where: { nodes[$0].opType == "Greater" && out($0) == nodes[w].inputs[0] }),
                  nodes[g].inputs.first == x, constant(g, besides: x, 20), sole(g, "Where") == w else { return nil }
            return Match(op: "Softplus", x: x, nodes: [i, g, w], output: out(w))
        }

        /// x * 0.5 * (1 + erf(x / sqrt 2)), node i the Div (or Mul by 1 / sqrt 2).
        func gelu(_ i: Int, x: String) -> Match? {
            let scaled = nodes[i].opType == "Div" ? nodes[i].inputs.first == x && constant(i, besides: x, Float(2).squareRoot())
                                                  : constant(i, besides: x, Float(0.5).squareRoot())
            guard scaled, let e = sole(i, "Erf"), let a = sole(e, "Add"), constant(a, besides: out(e), 1),
                  let tail = halfProduct(a, x: x) else { return nil }
            return Match(op: "Gelu", x: x, nodes: [i, e, a] + tail.nodes, output: tail.output)
        }

        /// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), node i the Pow(x, 3) or the Mul(x, x).
        func geluTanh(_ i: Int, x: String) -> Match? {
            var head = [i], cube = i
            if nodes[i].opType == "Pow" {
                guard nodes[i].inputs.first == x, constant(i, besides: x, 3) else { return nil }
            } else {
                guard nodes[i].inputs == [x, x], let k = sole(i, "Mul"), takes(k, x, out(i)) else { return nil }
                head.append(k); cube = k
            }
            guard let c = sole(cube, "Mul"), constant(c, besides: out(cube), 0.044715),
                  let inner = sole(c, "Add"), takes(inner, x, out(c)),
                  let s = sole(inner, "Mul"), constant(s, besides: out(inner), (2 / Float.pi).squareRoot()),
                  let t = sole(s, "Tanh"), let a = sole(t, "Add"), constant(a, besides: out(t), 1),
                  let tail = halfProduct(a, x: x) else { return nil }
            var m = Match(op: "Gelu", x: x, nodes: head + [c, inner, s, t, a] + tail.nodes, output: tail.output)
            m.approximate = "tanh"
            return m
        }

        /// The product x * 0.5 * a of node a's output: Mul(Mul(x, a), 0.5), Mul(x, Mul(a, 0.5)) or
        /// Mul(Mul(x, 0.5), a).
        func halfProduct(_ a: Int, x: String) -> (nodes: [Int], output: String)? {
            guard let k1 = sole(a, "Mul") else { return nil }
            if takes(k1, x, out(a)), let k2 = sole(k1, "Mul"), constant(k2, besides: out(k1), 0.5) { return ([k1, k2], out(k2)) }
            if constant(k1, besides: out(a), 0.5), let k2 = sole(k1, "Mul"), takes(k2, x, out(k1)) { return ([k1, k2], out(k2)) }
            // (x * 0.5) * a: the half is a Mul of x read only by k1.
            let half = nodes[k1].inputs.first { $0 != out(a) } ?? ""
            guard let h = (readers[x] ?? []).first(where: { out($0) == half && nodes[$0].opType == "Mul" }),
                  constant(h, besides: x, 0.5), sole(h, "Mul") == k1 else { return nil }
            return ([h, k1], out(k1))
        }
    }
}
