// PyTorchHead: a PyTorch model's head, where the declared order or the default loss would train
// another model than the published one.
//
// - A Dropout module declared after the last Conv/Linear module of a repr (`fc`, `sig`,
//   `dropout`): forward() calls it before that module. Dropout on the outputs would scale a
//   sigmoid's probabilities or the logits, and hide a sigmoid head. It is moved, and said.
// - One output and no activation after it (`Linear(..., 1)` last): a binary classifier's logit, as
//   PyTorch trains it with BCEWithLogitsLoss. `crossentropy` (the default: the cross-entropy that
//   fits the head) is binary_crossentropy there, said; a softmax over one value is 1 whatever the
//   input, so the categorical losses and margin train nothing there: an error.

extension PyTorchBuilder {
    /// Moves the top-level Dropout modules declared after the last Conv/Linear module before it
    /// (not in a Sequential root, whose order is the call order, nor into a Sequential child);
    /// the assumption to print.
    static func moveTrailingDropout(_ m: inout ReprModules) -> String? {
        guard m.root.type != "Sequential",
              let last = m.declared.lastIndex(where: { $0.op.isConvolution || $0.op.isLinear }) else { return nil }
        let top = m.topLeaves
        guard top.contains(m.declared[last].name) else { return nil }   // not into a Sequential child
        let moved = m.declared[(last + 1)...].filter { s in
            if case .dropout = s.op { return top.contains(s.name) }
            return false
        }
        guard !moved.isEmpty else { return nil }
        let names = Set(moved.map(\.name)), target = m.declared[last].name
        m.declared.removeAll { names.contains($0.name) }
        m.declared.insert(contentsOf: moved, at: m.declared.firstIndex { $0.name == target } ?? m.declared.endIndex)
        return "\(moved.map { "'\($0.name)'" }.joined(separator: ", ")) (declared after '\(target)', the last Conv/Linear module) "
            + "called before it: dropout on the model's outputs is not a head (annotate `forward: ...` for another place)"
    }

    /// One output of a Linear or convolution with no activation after it (a logit): `crossentropy`
    /// becomes binary_crossentropy on that logit and the classes binary (both said); a
    /// categorical loss or margin there is an error.
    static func applyLogitHead(_ ir: inout ModelIR, ann: Annotations, doc: Document) throws {
        guard ir.classCount == 1, ann.heads.isEmpty, !ir.training.targetIsInput,
              let head = ir.layers.last(where: { !passesValues($0.op) }), head.foldedActivation == .linear else { return }
        switch ir.training.loss {
        case .crossEntropy:
            ir.training.loss = .binaryCrossEntropy
            let why = "'\(head.name)' outputs one value and no sigmoid follows: a binary classifier's logit, as PyTorch's "
                + "BCEWithLogitsLoss reads it (a softmax over one value is constant and trains nothing; annotate `train: loss=mse` for a regression)"
            if ann.trainingKeys.contains("loss") {
                ir.assumptions.append("train: loss=crossentropy is binary_crossentropy here: " + why)
            } else {
                ir.assumptions = ir.assumptions.map {
                    $0.hasPrefix("train: ") ? $0.replacingOccurrences(of: "loss=crossentropy", with: "loss=binary_crossentropy") : $0
                }
                ir.assumptions.append("train: loss=binary_crossentropy: " + why)
            }
            if let i = ir.assumptions.firstIndex(where: { $0.hasPrefix("classes: ") }) {
                ir.assumptions[i] = "classes: binary (one logit: P(class 1) = sigmoid(output); annotate `classes:` to name it)"
            }
        case .sparseCategoricalCrossEntropy, .categoricalCrossEntropy, .multiMargin:
            throw doc.error(head.line, "'\(head.name)' outputs the model's one value: loss=\(ir.training.loss.rawValue) compares classes, "
                + "and one value is one class, so nothing trains; annotate `train: loss=binary_crossentropy` (a logit, BCEWithLogitsLoss) or `loss=mse`")
        default:
            return
        }
    }

    /// Flatten, Reshape and Dropout pass the values of the layer before them on (Dropout at inference).
    static func passesValues(_ op: Op) -> Bool {
        switch op { case .flatten, .reshape, .dropout: return true; default: return false }
    }
}
