// PyTorchSmoothActivations: the activation modules beyond ReLU, Sigmoid and Tanh that published
// models use (EfficientNet's SiLU, MobileNetV3's Hardswish and Hardsigmoid, GELU, Mish, SELU,
// Softplus, Softsign), as their repr, a torchsummary row or a `forward:` call names them. Each
// is an IR activation (Graph.swift); those whose backward reads x get a layer of their own in
// the emitter (Backend/Passes/ActivationSplit.swift).
//
//   SiLU(inplace=False)            silu                 F.silu
//   GELU(approximate='none')       gelu                 F.gelu; 'tanh': gelu(tanh)
//   Hardswish(), Hardsigmoid()     hard_swish, hard_sigmoid (relu6(x + 3) / 6)
//   SELU(), Softsign(), Mish()     selu, softsign, mish
//   Softplus(beta=1.0, threshold=20.0)  softplus; any other beta or threshold is refused

import Foundation

enum PyTorchSmoothActivations {
    static let modules = ["SiLU", "GELU", "Hardswish", "Hardsigmoid", "SELU", "Softplus", "Softsign", "Mish"]

    /// The activation of module class `type` with its repr arguments, or nil for another class.
    static func op(_ type: String, _ r: PTModuleArgs) throws -> PTOp? {
        switch type {
        case "SiLU": return .smooth(.silu)
        case "GELU":
            let v = (r.a.keyword["approximate"] ?? r.a.positional.first ?? "'none'").trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
            guard v == "none" || v == "tanh" else { throw r.err("approximate=\(v): expected 'none' or 'tanh'") }
            return .smooth(.gelu(tanh: v == "tanh"))
        case "Hardswish": return .smooth(.hardSwish)
        case "Hardsigmoid": return .smooth(.hardSigmoid(slope: 1 / 6, offset: 0.5))
        case "SELU": return .smooth(.selu)
        case "Softsign": return .smooth(.softsign)
        case "Mish": return .smooth(.mish)
        case "Softplus":
            let beta = try r.float("beta", 0, 1), threshold = try r.float("threshold", 1, 20)
            guard beta == 1, threshold == 20 else {
                throw r.err("beta=\(beta), threshold=\(threshold): only Softplus(beta=1.0, threshold=20.0) is supported")
            }
            return .smooth(.softplus)
        default: return nil
        }
    }

    /// The note of a table's GELU row, whose approximate argument is not printed.
    static let approximateNote = "approximate not printed: 'none'"

    /// A GELU layer's `activation=gelu|gelu_tanh` annotation: a table row takes either (its form
    /// is not printed, and its note then says the annotation's); a repr's module only the form it prints.
    static func annotated(_ l: inout Layer, printed tanh: Bool, _ a: Activation, line: Int?, doc: Document) throws {
        guard case .gelu(let want) = a else {
            throw doc.error(line, "layer '\(l.name)' (GELU): activation=\(a.name): a GELU takes activation=gelu or activation=gelu_tanh")
        }
        if want != tanh && !l.notes.contains(where: { $0.hasPrefix(approximateNote) }) {
            throw doc.error(line, "layer '\(l.name)' (GELU): the repr prints approximate='\(tanh ? "tanh" : "none")'; the annotation says \(a.name)")
        }
        l.op = .activation(a)
        l.notes = l.notes.map { $0.hasPrefix(approximateNote) ? "approximate not printed: '\(want ? "tanh" : "none")' (annotated)" : $0 }
    }

    /// A torchsummary / torchinfo row's class (their defaults: GELU exact, Softplus beta 1).
    static let tableRows: [String: PTOp] = ["SiLU": .smooth(.silu), "GELU": .smooth(.gelu(tanh: false)), "Hardswish": .smooth(.hardSwish),
                                            "Hardsigmoid": .smooth(.hardSigmoid(slope: 1 / 6, offset: 0.5)), "SELU": .smooth(.selu),
                                            "Softplus": .smooth(.softplus), "Softsign": .smooth(.softsign), "Mish": .smooth(.mish)]

    /// A `forward:` call's function (after `F.`), or nil.
    static func call(_ name: String) -> PTOp? {
        switch name {
        case "silu", "swish": return .smooth(.silu)
        case "gelu": return .smooth(.gelu(tanh: false))
        case "hardswish": return .smooth(.hardSwish)
        case "hardsigmoid": return .smooth(.hardSigmoid(slope: 1 / 6, offset: 0.5))
        case "selu": return .smooth(.selu)
        case "softplus": return .smooth(.softplus)
        case "softsign": return .smooth(.softsign)
        case "mish": return .smooth(.mish)
        default: return nil
        }
    }
}
