// Frozen layers: Keras `layer.trainable = False` (a pretrained Embedding, a transfer-learning
// base) moves a layer's whole count from "Trainable params" to "Non-trainable params"; the
// rows themselves look the same.
//
// Before: a resolved ModelIR whose computed trainable / non-trainable split may differ from the
//         declared one by exactly the counts of some layers.
// After:  those layers are marked `frozen` (with a note saying why) when the difference is the
//         count of exactly one weighted layer, or of the weighted layers up to some point (a
//         frozen base); anything else is left for Verification to report. BatchNormalization
//         is never frozen this way: a frozen Keras BatchNorm also normalizes with its moving
//         statistics in training, which modelc does not do.

enum FrozenLayers {
    static func infer(_ ir: inout ModelIR) {
        guard let dt = ir.declared.trainable, let dn = ir.declared.nonTrainable else { return }
        let diff = ir.trainableParams - dt
        guard diff > 0, dn - ir.frameworkNonTrainableCount == diff else { return }
        guard let set = frozenSet(ir.layers, count: diff) else { return }
        for i in set {
            ir.layers[i].frozen = true
            ir.layers[i].notes.append("frozen (trainable=False): the declared counts move its \(formatCount(ir.layers[i].paramCount)) params to non-trainable")
        }
    }

    /// The one layer whose trainable count is `count` (if exactly one), else the shortest
    /// run of weighted layers from the first whose counts sum to `count`.
    static func frozenSet(_ layers: [Layer], count: Int) -> [Int]? {
        let weighted = layers.indices.filter { layers[$0].trainableParamCount > 0 }
        let single = weighted.filter { layers[$0].trainableParamCount == count }
        if single.count == 1 { return isFreezable(layers[single[0]]) ? single : nil }
        var sum = 0
        for (k, i) in weighted.enumerated() {
            sum += layers[i].trainableParamCount
            if sum == count {
                let run = Array(weighted[0...k])
                return run.allSatisfy { isFreezable(layers[$0]) } ? run : nil
            }
            if sum > count { return nil }
        }
        return nil
    }

    /// Whether modelc computes `l` frozen as Keras does (also for a Keras file's `trainable: false`).
    static func isFreezable(_ l: Layer) -> Bool {
        if case .batchNorm = l.op { return false }
        return true
    }
}
