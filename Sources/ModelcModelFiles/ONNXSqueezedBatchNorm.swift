// ONNXSqueezedBatchNorm: PyTorch's BatchNorm1d on a feature vector as torch.onnx 1.x wrote it,
// Squeeze(BatchNormalization(Unsqueeze(x))), read back as one BatchNormalization of x:
//
//   x [N, C] -> Unsqueeze(axes [2]) -> [N, C, 1] -> BatchNormalization -> Squeeze(axes [2]) -> [N, C]
//
// A BatchNormalization normalizes each channel (axis 1) over the batch and every axis after the
// channels, so a size-1 axis added after the channels and removed again changes nothing: the
// rewrite is exact whenever the added axes come after axis 1 (each axis >= 2, or -1: the last
// of an output of rank >= 3, since every tensor here has a batch and a feature axis) and the
// Squeeze removes exactly those axes. Axes come from the attribute (opset < 13) or the constant
// second input (opset 13 and later); a Squeeze without axes (every size-1 axis, the batch too
// when it is 1) is left alone.
//
// Before: the graph's nodes (after constant folding, the LayerNorm and activation patterns),
//         the constants, the nodes already skipped and the graph output.
// After:  each match rewritten: the BatchNormalization's slot holds it reading x (its other
//         inputs and attributes as they were) and writing the Squeeze's output, `decomposed`
//         naming the three operators; the Unsqueeze and the Squeeze are skipped. Anything else
//         is left as it is (Unsqueeze and Squeeze then stay unsupported operators).

import ModelcData

public enum ONNXSqueezedBatchNorm {
    static func rewrite(_ nodes: [ONNXNode], constants: [String: ONNXTensor], skipping skip: Set<Int>, output: String)
        -> (nodes: [ONNXNode], skipped: Set<Int>) {
        let m = ONNXActivationPatterns.Matcher(nodes: nodes, constants: constants, skip: skip, output: output)
        var out = nodes, skipped = Set<Int>()
        for u in nodes.indices where !skip.contains(u) && nodes[u].opType == "Unsqueeze" {
            guard let x = nodes[u].inputs.first, !x.isEmpty, constants[x] == nil,
                  let axes = axes(nodes[u], constants), !axes.isEmpty, axes.allSatisfy({ $0 >= 2 || $0 == -1 }),
                  let b = m.sole(u, "BatchNormalization"), nodes[b].inputs.first == m.out(u),
                  let q = m.sole(b, "Squeeze"), nodes[q].inputs.first == m.out(b), self.axes(nodes[q], constants) == axes
            else { continue }
            var n = nodes[b]
            n.inputs[0] = x
            n.outputs = [m.out(q)]
            n.decomposed = ["Unsqueeze", "BatchNormalization", "Squeeze"]
            out[b] = n
            skipped.formUnion([u, q])
        }
        return (out, skipped)
    }

    /// An Unsqueeze's or Squeeze's axes: the attribute, else the constant second input; nil when
    /// neither is given (or the input is not a constant).
    static func axes(_ n: ONNXNode, _ constants: [String: ONNXTensor]) -> [Int]? {
        if let a = n.attributes["axes"], !a.ints.isEmpty { return a.ints }
        guard n.inputs.count > 1, let t = constants[n.inputs[1]] else { return nil }
        return try? t.ints()
    }
}
