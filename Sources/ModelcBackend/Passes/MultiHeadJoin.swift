// MultiHeadJoin: a model with several output heads as one with a single output vector.
//
// Before: an IR whose `heads` lists several output layers (IR/ModelHeads.swift), each ending
//         in its own activation.
// After:  the same layers (same positions, same parameters), where a head ending in softmax
//         ends in its logits instead (a standalone Softmax becomes an identity Lambda, a
//         softmax folded into Dense/Conv becomes linear: the loss applies it, as for one head),
//         then a Flatten after each head of rank > 1 and one Concatenate of every head, in
//         head order: each example's output is [head 0's values, head 1's values, ...]. The
//         existing merge emitter splits the output gradient back into the heads in backward.
//         `JoinedHead` says where each head's values are and what the runtime's loss needs.
// A model without heads is returned unchanged.

import ModelcCore

/// One head of the joined output, as the emitted `OutputHeadSpec` literal states it.
struct JoinedHead {
    let name: String
    let offset: Int
    let width: Int
    /// "softmax" (logits in the output), "sigmoid" (probabilities) or "linear".
    let head: String
    let loss: String
    let weight: Float
}

enum MultiHeadJoin {
    static func join(_ layers: [Layer], heads: [ModelHead]?) -> (layers: [Layer], heads: [JoinedHead]) {
        guard let heads, heads.count > 1 else { return (layers, []) }
        var out = layers
        var joined: [JoinedHead] = []
        var inputs: [Int] = []
        var offset = 0
        for (k, h) in heads.enumerated() {
            let kind = stripSoftmax(&out[h.layer])
            let shape = out[h.layer].outputShape, width = shape.reduce(1, *)
            var p = h.layer
            if shape.count > 1 {
                var f = Layer(name: "head_flatten_\(k)", kind: "Flatten", op: .flatten, inputShape: shape, outputShape: [width],
                              line: out[h.layer].line, notes: ["modelc: head \(h.name) as one vector"])
                f.producers = [h.layer]
                out.append(f)
                p = out.count - 1
            }
            inputs.append(p)
            joined.append(JoinedHead(name: h.name, offset: offset, width: width, head: kind, loss: h.loss.rawValue, weight: h.weight))
            offset += width
        }
        var c = Layer(name: "heads", kind: "Concatenate", op: .merge(.concatenate(axis: -1)), inputShape: [out[inputs[0]].outputShape.reduce(1, *)],
                      outputShape: [offset], line: out[heads[0].layer].line, notes: ["modelc: the heads' values side by side"])
        c.producers = inputs
        out.append(c)
        return (out, joined)
    }

    /// Removes a final softmax from layer `l` (its logits become the output); returns the head kind.
    static func stripSoftmax(_ l: inout Layer) -> String {
        switch l.op {
        case .activation(.softmax):
            l.op = .lambda(.identity)
            return "softmax"
        case .dense(let u, let b, .softmax):
            l.op = .dense(units: u, useBias: b, activation: .linear)
            return "softmax"
        case .conv2d(var a) where a.activation == .softmax:
            a.activation = .linear
            l.op = .conv2d(a)
            return "softmax"
        case .conv2dTranspose(var a, let oph, let opw) where a.activation == .softmax:
            a.activation = .linear
            l.op = .conv2dTranspose(a, outputPaddingH: oph, outputPaddingW: opw)
            return "softmax"
        default:
            return [l].endsWithSigmoid ? "sigmoid" : "linear"
        }
    }

    /// `public static let heads: [OutputHeadSpec] = [...]`, one line each (nothing for one output).
    static func declaration(_ heads: [JoinedHead]) -> [String] {
        guard !heads.isEmpty else { return [] }
        let items = heads.map { h in
            "    OutputHeadSpec(name: \(swiftString(h.name)), offset: \(h.offset), width: \(h.width), head: .\(h.head), loss: \(swiftString(h.loss)), weight: \(floatLiteral(h.weight))),"
        }
        return ["public static let heads: [OutputHeadSpec] = ["] + items + ["]"]
    }
}
