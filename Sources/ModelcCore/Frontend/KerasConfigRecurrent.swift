// KerasConfigRecurrent: a Keras config's Embedding, SimpleRNN, LSTM, GRU and Bidirectional
// layers to IR ops (IR/Recurrent.swift), every setting taken from the config. What modelc's
// cells do not compute (an activation other than tanh or relu, gates other than sigmoid or hard_sigmoid,
// states carried between batches, reversed or returned states) is refused naming the key; the
// in-cell dropout's masks are the saving Keras's (KerasCellDropoutRules.swift).

extension KerasConfigLayers {
    /// SimpleRNN, LSTM or GRU over a sequence input (steps, features); `bidirectional` wraps it.
    static func recurrent(_ kind: LayerKind, _ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        guard s.count == 2 else { throw fail("needs a sequence input (steps, features) but gets \(Inference.shapeText(s))") }
        if kind == .bidirectional { return try bidirectional(l.config, input: s, keras3: l.keras3, version: l.kerasVersion, fail: fail) }
        let a = try recurrentAttrs(kind, l.config, keras3: l.keras3, version: l.kerasVersion)
        return (kind, .recurrent(a), a.outputShape(steps: s[0]))
    }

    /// Embedding: token ids (steps) -> vectors (steps, output_dim).
    static func embedding(_ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        let c = l.config
        guard s.count == 1 else { throw fail("needs a sequence of token ids (steps) but gets \(Inference.shapeText(s))") }
        // mask_zero=true: read by SequenceMasking (IR/SequenceMask.swift) once the chain is built
        let vocab = try c.required("input_dim").int(min: 1, max: ResourceLimits.maxDimension)
        let dim = try c.required("output_dim").int(min: 1, max: ResourceLimits.maxDimension)
        return (.embedding, .embedding(vocab: vocab, dim: dim), [s[0], dim])
    }

    /// TimeDistributed(layer): the inner layer's config read on one step (IR/TimeDistributed.swift
    /// says which layers and as what op); a Flatten inside is a reshape to (steps, features).
    static func timeDistributed(_ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        guard s.count >= 2 else { throw fail("needs a sequence input (steps, ...) but gets \(Inference.shapeText(s))") }
        let node = try l.config.required("layer")
        var inner = KLayer(name: l.name, className: try node.required("class_name").string(), config: try node.required("config"),
                           entry: l.entry, index: l.index)
        inner.keras3 = l.keras3
        let allowed: [LayerKind] = [.dense, .flatten, .dropout, .activation, .relu, .leakyReLU, .softmax] + TimeDistributedInference.perStepKinds
        guard let kind = LayerKind.exact(inner.className), allowed.contains(kind) else {
            throw try node.required("class_name").error("TimeDistributed(\(inner.className)) is not supported (\(TimeDistributedInference.supportedText) are)")
        }
        if TimeDistributedInference.perStepKinds.contains(kind), s.count != 4 {
            throw fail("TimeDistributed(\(inner.className)) needs a sequence of images (steps, height, width, channels) but gets \(Inference.shapeText(s))")
        }
        let (_, op, out) = try convert(inner, input: Array(s.dropFirst()))
        if op == .flatten { return (.timeDistributed, .reshape([s[0]] + out), [s[0]] + out) }
        return (.timeDistributed, op, [s[0]] + out)
    }

    /// Masking(mask_value): the shape kept (IR/SequenceMask.swift has what the mask does).
    static func masking(_ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        guard s.count >= 2 else { throw fail("needs a sequence input (steps, ...) but gets \(Inference.shapeText(s))") }
        let v = try l.config.present("mask_value")?.float(min: -1e30, max: 1e30) ?? 0
        return (.masking, .masking(value: v), s)
    }

    static func bidirectional(_ c: JNode, input s: [Int], keras3: Bool, version: String?, fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        let inner = try c.required("layer")
        let cls = try inner.required("class_name").string()
        guard let kind = LayerKind(rawValue: cls), [.simpleRNN, .lstm, .gru].contains(kind) else {
            throw try inner.required("class_name").fail("SimpleRNN, LSTM or GRU inside Bidirectional")
        }
        var a = try recurrentAttrs(kind, inner.required("config"), keras3: keras3, version: version)
        if let b = try c.present("backward_layer") {    // Keras 3 saves the mirror it builds
            let mirror = try recurrentAttrs(kind, b.required("config"), backward: true, keras3: keras3, version: version)
            guard try b.required("class_name").string() == cls, mirror == a else {
                throw b.error("a backward_layer that is not the forward layer reading backwards is not supported")
            }
        }
        let mode = try c.present("merge_mode")
        let merge = try mode.map { n -> BidirectionalMerge in
            guard let m = BidirectionalMerge(rawValue: try n.string()) else { throw n.fail("\"concat\", \"sum\", \"mul\" or \"ave\"") }
            return m
        }
        guard let m = merge else { throw fail("merge_mode=None (two outputs) is not supported") }
        a.bidirectional = m
        return (.bidirectional, .recurrent(a), a.outputShape(steps: s[0]))
    }

    /// `backward`: the reversed copy a Bidirectional layer holds (go_backwards must be true).
    static func recurrentAttrs(_ kind: LayerKind, _ c: JNode, backward: Bool = false, keras3: Bool, version: String?) throws -> RecurrentAttrs {
        let cell: RecurrentCell = kind == .lstm ? .lstm : kind == .gru ? .gru : .simpleRNN
        for key in ["return_state", "stateful"] {
            if let n = try c.present(key), try n.bool() { throw n.error("\(key)=true is not supported") }
        }
        if try c.present("go_backwards")?.bool() ?? false != backward {
            throw try c.required("go_backwards").error("go_backwards=\(!backward) is not supported" + (backward ? " in a backward_layer" : ""))
        }
        if let n = try c.present("time_major"), try n.bool() { throw n.error("time_major=true is not supported") }
        let relu = try cellActivation(c)
        let hardGates = cell == .simpleRNN ? nil : try gateSlope(c, keras3: keras3)
        let units = try c.required("units").int(min: 1, max: ResourceLimits.maxDimension)
        let bias = try c.present("use_bias")?.bool() ?? true
        // A GRU config without reset_after comes from a Keras before the key existed (2.1.x and
        // earlier), which applied the reset gate before the state's projection.
        let resetAfter = cell == .gru ? try c.present("reset_after")?.bool() ?? false : false
        var a = RecurrentAttrs(cell: cell, units: units, returnSequences: try c.present("return_sequences")?.bool() ?? false,
                               biasRows: bias ? (resetAfter ? 2 : 1) : 0, resetAfter: resetAfter)
        a.hardGateSlope = hardGates
        a.activation = relu ? .relu : nil
        let unroll = try c.present("unroll")?.bool() ?? false
        let fused = hardGates == nil && !relu && bias && !unroll && (cell != .gru || resetAfter)
        a.cellDropout = try KerasCellDropoutRules.masks(cell, c, saver: .init(keras3: keras3, version: version), fused: fused)
        return a
    }

    /// recurrent_activation: sigmoid (nil), or hard_sigmoid's slope (Keras 2's 0.2, the default of
    /// Keras 2.2.5 and earlier, which write it; Keras 3's 1/6: KerasConfigLayers.activation).
    static func gateSlope(_ c: JNode, keras3: Bool) throws -> Float? {
        guard let n = try c.present("recurrent_activation") else { return nil }
        guard case .string(let v) = n.value, v == "sigmoid" || v == "hard_sigmoid" else {
            throw n.fail("\"sigmoid\" or \"hard_sigmoid\" (the recurrent_activation modelc's cells compute)")
        }
        return v == "hard_sigmoid" ? SemanticDefaults.hardSigmoidSlope(kerasThree: keras3) : nil
    }

    /// The cell's `activation`: tanh (false, also when absent) or relu (true); others refused.
    static func cellActivation(_ c: JNode) throws -> Bool {
        guard let n = try c.present("activation") else { return false }
        guard case .string(let v) = n.value, v == "tanh" || v == "relu" else { throw n.fail("\"tanh\" or \"relu\" (the activations modelc's cells compute)") }
        return v == "relu"
    }
}
