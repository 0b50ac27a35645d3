// The model's head as the losses and reports see it: a last layer ending in a sigmoid is a
// binary (one unit) or multi-label (several units) head, whose outputs are probabilities; one
// sigmoid unit is a binary classifier, the probability of class 1 (ModelcRuntime/TaskLosses.swift).

extension Array where Element == Layer {
    /// Whether the last layer applies a sigmoid (a standalone activation, or folded into a
    /// Dense or convolution); a final Flatten or Reshape keeps its values (a DCGAN
    /// discriminator's [1, 1, 1] probability, flattened).
    public var endsWithSigmoid: Bool {
        guard let last = last(where: { l in
            switch l.op { case .flatten, .reshape: return false; default: return true }
        }) else { return false }
        return last.op == .activation(.sigmoid) || last.foldedActivation == .sigmoid
    }
}

extension ModelIR {
    /// One sigmoid unit: a binary classifier (classes 0 and 1, the output is P(class 1)).
    public var isBinaryClassifier: Bool { classCount == 1 && layers.endsWithSigmoid }
}
