// KerasConfigRegularizers: the regularizers and constraints of a Keras config's layers, which
// change training (never inference), taken or named, never dropped silently.
//
// Before: an IR built from the config, its training settings from the sidecar annotations.
// After:  one L2 factor on every kernel (the same on each layer that has one, and no other
//         regularizer or constraint; not with AdamW, whose decay is decoupled) is the model's weight decay: Keras adds l2 * sum(w^2) per
//         kernel, which is modelc's Keras weight decay (gradient 2 * wd * w on kernels only),
//         unless `train: weight_decay=` is annotated. Anything else (L1, bias, activity,
//         recurrent or BatchNorm regularizers, constraints, factors that differ between layers)
//         is listed in the assumptions as not applied.

enum KerasConfigRegularizers {
    /// Regularizers on the tensors modelc's Keras weight decay covers (ModelInfoEmitter.decays).
    static let kernelKeys = ["kernel_regularizer", "depthwise_regularizer", "pointwise_regularizer"]
    static let otherKeys = ["bias_regularizer", "activity_regularizer", "recurrent_regularizer", "embeddings_regularizer",
                            "beta_regularizer", "gamma_regularizer", "kernel_constraint", "bias_constraint",
                            "recurrent_constraint", "depthwise_constraint", "pointwise_constraint", "embeddings_constraint",
                            "beta_constraint", "gamma_constraint"]

    static func apply(_ ir: inout ModelIR, layers: [KLayer], weightDecayAnnotated: Bool) throws {
        var l2: [(layer: String, key: String, value: Float)] = []
        var other: [String] = []
        for l in layers {
            for config in try configs(of: l) {
                for k in kernelKeys {
                    guard let r = try config.present(k) else { continue }
                    if let v = try l2Factor(r) { l2.append((l.name, k, v)) } else { other.append("\(l.name) \(k) \(try describe(r))") }
                }
                for k in otherKeys { if let r = try config.present(k) { other.append("\(l.name) \(k) \(try describe(r))") } }
            }
        }
        // (AdamW's weight decay is its own, decoupled one: an L2 is not that)
        if let first = l2.first, other.isEmpty, l2.allSatisfy({ $0.value == first.value }), !weightDecayAnnotated, ir.training.optimizer != .adamw {
            // every tensor the weight decay covers (a SeparableConv2D's depthwise and pointwise
            // kernels each), and no other, has the L2
            let keyOfRole: [ParamTensor.Role: String] = [.kernel: "kernel_regularizer", .depthwiseKernel: "depthwise_regularizer",
                                                          .pointwiseKernel: "pointwise_regularizer"]
            let kernels = Set(ir.layers.flatMap { l in l.paramTensors.compactMap { keyOfRole[$0.role].map { "\(l.name)/\($0)" } } })
            if kernels == Set(l2.map { "\($0.layer)/\($0.key)" }) {
                // no longer a default: out of the defaults' line
                let stated = " weight_decay=\(Describe.num(ir.training.weightDecay))"
                ir.assumptions = ir.assumptions.map { $0.hasSuffix("(defaults; annotate `train:`)") ? $0.replacingOccurrences(of: stated, with: "") : $0 }
                ir.training.weightDecay = first.value
                ir.assumptions.append("train: weight_decay=\(Describe.num(first.value)) (the L2 kernel_regularizer of every layer with a kernel)")
                return
            }
        }
        let named = l2.map { "\($0.layer) L2(\(Describe.num($0.value)))" } + other
        guard !named.isEmpty else { return }
        ir.assumptions.append("regularizers and constraints not applied in training: \(named.prefix(6).joined(separator: ", "))"
            + "\(named.count > 6 ? " and \(named.count - 6) more" : "") (modelc's weight decay is one L2 factor on every kernel: annotate `train: weight_decay=...`)")
    }

    /// The layer's config, and a wrapper's (Bidirectional, TimeDistributed) inner layer's.
    static func configs(of l: KLayer) throws -> [JNode] {
        guard let inner = try l.config.present("layer"), case .object = inner.value, let c = try inner.present("config") else { return [l.config] }
        return [l.config, c]
    }

    /// The factor of an L2 (or an L1L2 without L1) regularizer; nil for any other.
    static func l2Factor(_ r: JNode) throws -> Float? {
        guard case .object = r.value, let cls = try r.present("class_name")?.string(), let c = try r.present("config") else { return nil }
        let l1 = try c.present("l1")?.float(min: 0) ?? 0
        guard ["L2", "L1L2", "l2", "l1_l2"].contains(cls), l1 == 0, let l2 = try c.present("l2")?.float(min: 0, max: 1e6), l2 > 0 else { return nil }
        return l2
    }

    static func describe(_ r: JNode) throws -> String {
        if case .object = r.value, let cls = try r.present("class_name")?.string() { return cls }
        if case .string(let s) = r.value { return s }
        return r.value.described
    }
}
