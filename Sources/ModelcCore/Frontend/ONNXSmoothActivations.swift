// ONNXSmoothActivations: the element-wise activation operators beyond Relu, Sigmoid and Tanh,
// and those an exporter wrote as several nodes (ModelcModelFiles' ONNXActivationPatterns made
// them one node, `decomposed` listing what it stands for):
//
//   Swish (alpha 1; also Mul(x, Sigmoid(x)))   silu
//   Gelu (approximate "none" | "tanh")          gelu, gelu(tanh)
//   HardSigmoid (alpha, beta)                   hard_sigmoid(alpha x + beta); defaults 0.2, 0.5
//   HardSwish                                   hard_swish
//   Selu (alpha, gamma)                         selu: the standard constants only
//   Softplus, Softsign, Mish                    softplus, softsign, mish

extension ONNXOperators {
    static let smoothOperators = ["Swish", "Gelu", "HardSigmoid", "HardSwish", "Selu", "Softplus", "Softsign", "Mish"]

    /// The activation of an operator in `smoothOperators`.
    static func smooth(_ st: Step) throws -> PTOp {
        switch st.node.opType {
        case "Swish":
            guard st.float("alpha", 1) == 1 else { throw st.err("alpha \(st.float("alpha", 1)): only Swish with alpha 1 (SiLU) is supported") }
            return .smooth(.silu)
        case "Gelu":
            let a = st.node.attributes["approximate"]?.s ?? "none"
            guard a == "none" || a == "tanh" else { throw st.err("approximate '\(a)': expected 'none' or 'tanh'") }
            return .smooth(.gelu(tanh: a == "tanh"))
        case "HardSigmoid":
            let a = st.float("alpha", 0.2), b = st.float("beta", 0.5)
            guard a > 0, a.isFinite, b.isFinite else { throw st.err("alpha \(a), beta \(b): expected alpha > 0") }
            return .smooth(.hardSigmoid(slope: a, offset: b))
        case "HardSwish": return .smooth(.hardSwish)
        case "Selu":
            let a = st.float("alpha", 1.67326319217681884765625), g = st.float("gamma", 1.05070102214813232421875)
            guard abs(a - 1.6732632) < 1e-6, abs(g - 1.0507010) < 1e-6 else {
                throw st.err("alpha \(a), gamma \(g): only SELU's standard constants (1.6732632, 1.0507010) are supported")
            }
            return .smooth(.selu)
        case "Softplus": return .smooth(.softplus)
        case "Softsign": return .smooth(.softsign)
        default: return .smooth(.mish)
        }
    }

    /// "the SiLU written as 2 nodes (Sigmoid, Mul), read as one" (nil for an operator of the file).
    static func smoothNote(_ st: Step) -> String? {
        let d = st.node.decomposed
        guard !d.isEmpty else { return nil }
        let name = st.node.opType == "Swish" ? "SiLU" : st.node.opType
        return "the \(name) written as \(d.count) nodes (\(d.joined(separator: ", "))), read as one \(name)"
    }
}
