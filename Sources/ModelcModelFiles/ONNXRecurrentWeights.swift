// The initializers of an ONNX LSTM, GRU or RNN node as a PyTorch state_dict layer's tensors
// (the layout IR/Recurrent.swift names for a PyTorch recurrent layer, layer index 0):
//
//   W [D, G*H, I]  -> weight_ih_l0 [G*H, I]        R [D, G*H, H] -> weight_hh_l0 [G*H, H]
//   B [D, 2*G*H]   -> bias_ih_l0 [G*H] (its first half), bias_hh_l0 [G*H] (its second)
//   direction 1 of a bidirectional node -> the same names with `_reverse`
//
// ONNX orders the gate blocks LSTM i, o, f, c and GRU z, r, h; PyTorch i, f, g, o and r, z, n,
// so each block is moved. The equations agree (a GRU with linear_before_reset=1 is PyTorch's).

import ModelcData

extension ONNXChain {
    /// The source block of each PyTorch gate block.
    public static func torchGateBlocks(_ op: String) -> [Int] {
        switch op {
        case "LSTM": return [0, 2, 3, 1]
        case "GRU": return [1, 0, 2]
        default: return [0]
        }
    }

    /// A recurrent step's state_dict tensors (suffix, shape, values; values empty unless `values`).
    public static func recurrentParameters(_ s: ONNXStep, values: Bool, file: String) throws -> [(suffix: String, shape: [Int], values: [Float])] {
        let blocks = torchGateBlocks(s.opType), g = blocks.count
        func err(_ m: String) -> DataError { DataError(file: file, offset: s.node.offset, message: "node '\(s.node.name)' (\(s.opType)): \(m)") }
        guard let w = s.constants[1], let r = s.constants[2] else { throw err("expected the weights W and R as initializers (inputs 1 and 2)") }
        let d = s.node.directions
        guard w.dims.count == 3, w.dims[0] == d, w.dims[1] % g == 0, (1...(1 << 24)).contains(w.dims[1]), (1...(1 << 24)).contains(w.dims[2]) else {
            throw err("W '\(w.name)' has dims \(w.dims), expected [\(d), \(g) x hidden_size, input_size]")
        }
        let h = w.dims[1] / g, i = w.dims[2]
        if let hs = s.node.attributes["hidden_size"]?.i, hs != h { throw err("hidden_size \(hs), but W '\(w.name)' holds \(h) units per gate") }
        guard r.dims == [d, g * h, h] else { throw err("R '\(r.name)' has dims \(r.dims), expected [\(d), \(g * h), \(h)]") }
        let b = s.constants[3]
        if let b, b.dims != [d, 2 * g * h] { throw err("B '\(b.name)' has dims \(b.dims), expected [\(d), \(2 * g * h)]") }
        let (wv, rv, bv) = values ? (try w.floats(), try r.floats(), try b?.floats() ?? []) : ([], [], [])
        /// Rows [G*H, width] of direction `dir` from `v` ([D, G*H * width] per direction at `base`), gate blocks moved.
        func rows(_ v: [Float], dir: Int, width: Int, stride: Int, base: Int = 0) -> [Float] {
            guard values else { return [] }
            var out: [Float] = []
            out.reserveCapacity(g * h * width)
            for src in blocks {
                let start = dir * stride + base + src * h * width
                out.append(contentsOf: v[start..<(start + h * width)])
            }
            return out
        }
        var out: [(String, [Int], [Float])] = []
        for dir in 0..<d {
            let tail = "_l0" + (dir == 1 ? "_reverse" : "")
            out.append(("weight_ih" + tail, [g * h, i], rows(wv, dir: dir, width: i, stride: g * h * i)))
            out.append(("weight_hh" + tail, [g * h, h], rows(rv, dir: dir, width: h, stride: g * h * h)))
            if b != nil {
                out.append(("bias_ih" + tail, [g * h], rows(bv, dir: dir, width: 1, stride: 2 * g * h)))
                out.append(("bias_hh" + tail, [g * h], rows(bv, dir: dir, width: 1, stride: 2 * g * h, base: g * h)))
            }
        }
        return out
    }
}
