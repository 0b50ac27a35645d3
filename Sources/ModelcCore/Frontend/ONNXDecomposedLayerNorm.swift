// ONNXDecomposedLayerNorm: the checks of a LayerNorm that the file wrote as primitive operators
// (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, then Mul by gamma and Add of beta) and
// that ModelcModelFiles' ONNXLayerNormPattern made one LayerNormalization node (ONNXNode.decomposed),
// where the input's shape is known.
//
// Before: the recognized node (attributes axes, axis, epsilon; inputs x and, when the file has
//         them, gamma and beta, leading 1s dropped) and the IR shape of x.
// After:  the same PTOp a LayerNormalization node gives (PyTorch's nn.LayerNorm, with
//         elementwise_affine=False when there is no gamma and bias=False when there is no beta),
//         or an error naming the piece that does not fit: axes that are not the trailing ones of
//         the input, a gamma or beta whose dims are not the normalized shape.

extension ONNXOperators {
    static func decomposedLayerNorm(_ st: Step, input: [Int], sequence: Bool = false) throws -> PTOp {
        let rank = input.count + 1
        let given = st.node.attributes["axes"]?.ints ?? []
        let axes = given.map { $0 < 0 ? $0 + rank : $0 }
        guard let first = axes.first, first >= 1, first < rank, axes == Array(first..<rank) else {
            throw st.err("\(decomposedText(st)) reduces axes \(given) of a rank-\(rank) input \(PyTorchBuilder.chw(input)); a LayerNorm reduces the trailing axes after the batch one")
        }
        let torch = PyTorchBuilder.torchOrder(input, sequence: sequence)
        let shape = Array(torch[(first - 1)...])
        for (k, what) in [(1, "gamma (the Mul)"), (2, "beta (the Add)")] {
            if let t = st.constant(k), t.dims != shape {
                throw st.err("\(decomposedText(st)): \(what) '\(t.name)' has dims \(t.dims), expected the normalized shape \(shape)")
            }
        }
        let eps = st.float("epsilon", 0)
        guard eps > 0 else { throw st.err("epsilon \(eps): expected epsilon > 0") }
        return .layerNorm(shape: shape, eps: eps, scale: st.constant(1) != nil, center: st.constant(2) != nil)
    }

    /// "the LayerNorm written as N nodes (ReduceMean, Sub, ..., Add)".
    static func decomposedText(_ st: Step) -> String {
        "the LayerNorm written as \(st.node.decomposed.count) nodes (\(st.node.decomposed.joined(separator: ", ")))"
    }

    /// The layer note of a recognized LayerNorm (nil for a LayerNormalization node of the file).
    static func decomposedNote(_ st: Step) -> String? {
        st.node.decomposed.isEmpty ? nil : decomposedText(st) + ", read as one LayerNormalization"
    }
}
