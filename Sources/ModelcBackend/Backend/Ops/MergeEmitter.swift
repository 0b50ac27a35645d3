// Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate): one call of
// the runtime's Merge kernels (Sources/ModelcRuntime/Kernels/Merge.swift) per chunk of images,
// reading every producer's output buffer (LayerContext.inputs).
//   forward:  y = x0 + x1 + ... (and the others element-wise); Concatenate copies each image's
//             blocks along its axis: outer = the product of the dimensions before the axis,
//             inner_k = input k's product from the axis on
//   backward: each input's gradient buffer (GraphFlow: its own, or an extra one summed later)
//             gets its share of dy; inputs that need no gradient are skipped
//   broadcasting (an input with sizes of 1, e.g. a squeeze-and-excitation scale [1, 1, C]):
//             Merge.forwardBroadcast / backwardBroadcast, the shapes as literals of the output's rank

import ModelcCore

struct MergeEmitter: OpEmitter {
    let kind: MergeKind

    static func formula(_ k: MergeKind) -> String {
        switch k {
        case .add: return "y = x0 + x1 + ..."
        case .subtract: return "y = x0 - x1"
        case .multiply: return "y = x0 * x1 * ..."
        case .average: return "y = (x0 + x1 + ...) / n"
        case .maximum: return "y = max(x0, x1, ...)"
        case .minimum: return "y = min(x0, x1, ...)"
        case .concatenate(let a): return "the inputs' blocks side by side along axis \(a)"
        }
    }

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        let sizes = c.inputs.map { $0.shape.reduce(1, *) }
        let xs = "[" + zip(c.inputs, sizes).map { "\($0.x) + lo * \($1)" }.joined(separator: ", ") + "]"
        let dxs = "[" + zip(c.inputs, sizes).map { i, s in i.gx.map { "\($0) + lo * \(s)" } ?? "nil" }.joined(separator: ", ") + "]"
        let y = "\(c.y) + lo * \(c.outSize)", dy = "\(c.gy) + lo * \(c.outSize)"
        var forward = "", backward = ""
        switch kind {
        case .concatenate(let axis):
            let a = c.outShape.count + axis
            let outer = c.outShape[..<a].reduce(1, *)
            let inner = "[" + c.inputs.map { String($0.shape[a...].reduce(1, *)) }.joined(separator: ", ") + "]"
            forward = "Merge.concatenate(\(xs), inner: \(inner), outer: (hi - lo) * \(outer), \(y))"
            backward = "Merge.split(\(dy), inner: \(inner), outer: (hi - lo) * \(outer), \(dxs))"
        case _ where c.inputs.contains(where: { $0.shape != c.outShape }):
            // Broadcasting (a squeeze-and-excitation scale [1, 1, C]): every shape at the output's rank.
            let shapes = "[" + c.inputs.map { "\(MergeKind.padded($0.shape, rank: c.outShape.count))" }.joined(separator: ", ") + "]"
            let out = "\(c.outShape)", op = "." + kind.name
            forward = "Merge.forwardBroadcast(\(op), \(xs), shapes: \(shapes), out: \(out), \(y), images: hi - lo)"
            backward = "Merge.backwardBroadcast(\(op), dy: \(dy), xs: \(xs), y: \(y), dxs: \(dxs), shapes: \(shapes), out: \(out), images: hi - lo)"
        default:
            let op = "." + kind.name
            forward = "Merge.forward(\(op), \(xs), \(y), count: (hi - lo) * \(c.outSize))"
            backward = "Merge.backward(\(op), dy: \(dy), xs: \(xs), y: \(y), dxs: \(dxs), count: (hi - lo) * \(c.outSize))"
        }
        m.chunkFunction(f, comment: "\(c.header): \(MergeEmitter.formula(kind))") { w in w.line(forward) }
        var back: [Step] = []
        if c.inputs.contains(where: { $0.gx != nil }) {
            m.chunkFunction(b, comment: "\(c.header) backward: each input's share of dy") { w in w.line(backward) }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], back)
    }
}
