// PyTorchReuse: the activation a repr's declared order would call once where forward() calls it
// after several modules, and the ReLU assumed where the repr declares only a head.
//
// A module declared once may be called many times (`self.relu = nn.ReLU()`, used after every
// layer). A repr lists it once, where the class declares it: first (`relu`, `dropout1`, `fc1`,
// `fc2`), last (`conv1`, `conv2`, `fc1`, `fc2`, `relu`) or between (`pool2`, `relu`, `fc1`,
// `fc2`). Called there once, it would act on the raw input or the logits, and leave the other
// layers linear. So the one activation module of a flat repr is applied after every Conv2d/
// Linear but the last, said; when other parameterless modules are declared before the first
// Conv2d/Linear with it, where forward() calls them is unknown: an error asking for `forward:`.
// A Sigmoid or Tanh declared after the last Conv2d/Linear is the model's head, and functional
// ReLU is assumed before it, as when no activation module is declared at all.

extension PyTorchBuilder {
    static func reuseNote(_ name: String) -> String {
        "'\(name)' applied after every Conv2d/Linear but the last (a module declared once, called in forward)"
    }

    static let headReluNote = "relu after every Conv2d/Linear but the last: the only activation modules follow the last one "
        + "(a head; functional F.relu assumed)"

    /// The indices of the Conv2d/Conv1d/Linear modules: those an activation follows.
    static func weightedIndices(_ steps: [PTStep]) -> [Int] {
        steps.indices.filter { steps[$0].op.isConvolution || steps[$0].op.isLinear }
    }

    /// A Sigmoid or Tanh declared after the last Conv2d/Linear: the model's output head.
    static func isHeadActivation(_ s: PTStep, _ m: ReprModules) -> Bool {
        guard s.op == .sigmoid || s.op == .tanh, let last = weightedIndices(m.declared).last,
              let i = m.declared.firstIndex(where: { $0.name == s.name }) else { return false }
        return i > last
    }

    /// The repr's one activation module besides a head, at the top level of a class that is not a
    /// Sequential whose Conv2d/Linear modules are top-level too, when the declared order cannot
    /// put it after every Conv2d/Linear but the last: there are more than two, or it is declared
    /// before the first or after the last.
    static func reusedActivation(_ m: ReprModules, doc: Document) throws -> PTStep? {
        let acts = m.declared.filter { $0.op.isActivation && !isHeadActivation($0, m) }, w = weightedIndices(m.declared)
        let top = m.topLeaves
        // only between top-level modules: a Sequential child runs its own modules in a row
        guard m.root.type != "Sequential", acts.count == 1, let a = acts.first, top.contains(a.name), w.count >= 2,
              w.allSatisfy({ top.contains(m.declared[$0].name) }), let i = m.declared.firstIndex(where: { $0.name == a.name }),
              w.count > 2 || i < w[0] || i > w[1] else { return nil }
        let early = m.declared[..<w[0]].filter { !$0.op.hasParams && $0.op != .flatten }
        if i < w[0], early.count > 1 {
            let names = early.map { "'\($0.name)' (\(m.kinds[$0.name] ?? "Module"))" }.joined(separator: ", ")
            throw doc.error(a.line, "the call order is ambiguous: \(names) are declared before the first Conv2d/Linear module "
                + "'\(m.declared[w[0]].name)': the declared order is not forward()'s, and a repr does not show where it calls them; annotate `forward: ...`")
        }
        return a
    }

    /// The note for ReLU assumed after every Conv2d/Linear but the last: no activation module is
    /// declared, or (two or more of them, in a class that is not a Sequential) only a Sigmoid or
    /// Tanh head after the last; nil otherwise.
    static func assumedReluNote(_ m: ReprModules) -> String? {
        let acts = m.declared.filter(\.op.isActivation)
        guard !acts.isEmpty else { return reluNote }
        // a Sequential runs as declared: its trailing Sigmoid is all it applies
        guard m.root.type != "Sequential", weightedIndices(m.declared).count >= 2,
              acts.allSatisfy({ isHeadActivation($0, m) }) else { return nil }
        return headReluNote
    }
}
