// Report rendering for `modelc check`: the normalized Keras-style table with an Inferred
// column, the three totals each marked against the declared figure, the assumed defaults
// and the inference notes (text), or one JSON object with stable key names (--json).

import ModelcData

enum ReportText {
    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

    static func render(_ r: CheckReport) -> String {
        let ir = r.ir
        var rows: [(String, String, String, String)] = []
        for (i, L) in ir.layers.enumerated() {
            if ir.semantics == .pytorch {
                // (steps, features) of a recurrent module, an Embedding or a layer reading a
                // sequence, batch_first as PyTorch prints it
                func sequence(_ l: Layer) -> Bool { PyTorchBuilder.isSequenceModule(l) || l.readsSteps == true }
                let steps = sequence(L) || (i + 1 < ir.layers.count && L.op == .input && sequence(ir.layers[i + 1]))
                let shape = PyTorchBuilder.chw(L.outputShape, sequence: steps)
                let order = L.op != .flatten ? nil : L.readsSteps == true ? "steps, features order" : ir.nhwcFlatten ? "HWC order (NHWC)" : nil
                rows.append(("\(L.name) (\(L.kind))", "[-1, " + shape.dropFirst(),
                             formatCount(L.paramCount - L.bufferCount), order ?? Describe.op(L.op, semantics: ir.semantics, oneD: L.isOneD)))
                continue
            }
            // A channels-first table's shapes are shown as it printed them, (C, H, W).
            let shown = ir.channelsFirst && L.outputShape.count == 3 ? [L.outputShape[2], L.outputShape[0], L.outputShape[1]] : L.outputShape
            var inferred = ir.channelsFirst && L.op == .flatten ? "CHW order (channels-first)" : Describe.op(L.op, oneD: L.isOneD)
            if let inner = L.perStepClass { inferred = inner + (inferred.isEmpty ? "" : " ") + inferred }
            if let ps = L.producers, !ps.isEmpty { inferred += (inferred.isEmpty ? "" : ", ") + "from " + ps.map { ir.layers[$0].name }.joined(separator: ", ") }
            rows.append(("\(L.name) (\(L.kind))", "(None, " + shown.map(String.init).joined(separator: ", ") + ")",
                         formatCount(L.paramCount), inferred))
        }
        let w0 = max(28, rows.map { $0.0.count }.max() ?? 0) + 2
        let w1 = max(22, rows.map { $0.1.count }.max() ?? 0) + 2
        let w2 = max(10, rows.map { $0.2.count }.max() ?? 0) + 2
        let w3 = max(8, rows.map { $0.3.count }.max() ?? 0)
        let width = w0 + w1 + w2 + w3
        // A model file's layout names itself ("ONNX file"); a table's is a table layout.
        let source = r.layout.hasSuffix(" file") ? r.layout : "\(r.layout) table"
        var out = "Model: \(ir.name)  (\(ir.sourcePath), \(source), \(ir.semantics.rawValue) semantics)\n"
        out += String(repeating: "_", count: width) + "\n"
        out += pad("Layer (type)", w0) + pad("Output Shape", w1) + pad("Param #", w2) + "Inferred\n"
        out += String(repeating: "=", count: width) + "\n"
        for (a, b, c, d) in rows {
            out += (pad(a, w0) + pad(b, w1) + pad(c, w2) + d).trimmedRight + "\n"
        }
        out += String(repeating: "=", count: width) + "\n"
        let d = ir.declared
        func mark(_ label: String, _ value: Int, _ declared: Int?, extra: Int = 0) -> String {
            let v = pad(label, 22) + pad(formatCount(value), 12)
            guard let dv = declared else { return v + "(not declared)\n" }
            let expected = value + extra
            let what = extra > 0 ? " (+ \(formatCount(extra)) optimizer params)" : ""
            return v + (dv == expected ? "matches declared \(formatCount(dv))\(what)\n" : "MISMATCH: declared \(formatCount(dv))\(what)\n")
        }
        out += mark("Total params:", ir.frameworkParamCount, d.total, extra: d.optimizer ?? 0)
        out += mark("Trainable params:", ir.trainableParams, d.trainable)
        out += mark("Non-trainable params:", ir.frameworkNonTrainableCount, d.nonTrainable)
        if ir.semantics == .pytorch && ir.bufferCount > 0 {
            out += pad("Buffers:", 22) + formatCount(ir.bufferCount) + " (BatchNorm running_mean/running_var: state, not parameters, in PyTorch)\n"
        }
        if let o = d.optimizer { out += pad("Optimizer params:", 22) + formatCount(o) + " (declared; not part of the model)\n" }
        out += String(repeating: "_", count: width) + "\n"
        let classes = ir.classNames.isEmpty ? "none" : ir.isBinaryClassifier ? "binary (0, 1; the output is P(\(ir.classNames.first ?? "1")))"
            : ir.classNames.joined(separator: ", ")
        out += "Dataset: \(ir.dataset ?? "none")   classes: \(classes)\n"
        out += "Input: pixels p (0..255) -> p * \(Describe.num(ir.inputScale)) + \(Describe.num(ir.inputOffset))\n"
        out += "Training:\n" + TrainingDescription.lines(ir.training).map { "  " + $0 + "\n" }.joined()
        let random = ir.layers.filter { if case .augment = $0.op { return true }; return false }.map(\.name)
        if !random.isEmpty { out += "  random image layers: \(random.joined(separator: ", ")) (training steps only; none at inference)\n" }
        out += ModelInputs.report(ir)
        out += ModelHeads.report(ir)
        let notes = ir.layers.flatMap { L in L.notes.map { "\(L.name): \($0)" } }
        if !notes.isEmpty {
            out += "Inference notes:\n" + notes.map { "  - " + $0 + "\n" }.joined()
        }
        if !ir.assumptions.isEmpty {
            out += "Assumed defaults:\n" + ir.assumptions.map { "  - " + $0 + "\n" }.joined()
        }
        out += r.ok ? "OK: every shape and parameter count matches\n" : "FAILED: \(r.problems.count) problem(s)\n"
        return out
    }
}

extension String {
    var trimmedRight: String {
        var s = Substring(self)
        while let l = s.last, l == " " { s = s.dropLast() }
        return String(s)
    }
}

/// A tiny JSON writer (no Foundation encoder: key order must be stable and exact).
public enum JSON {
    public static func string(_ s: String) -> String { JSONText.quoted(s) }

    static func number(_ x: Float) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded(), abs(x) < 1e9 { return String(Int(x)) }
        return "\(x)"
    }

    static func ints(_ a: [Int]) -> String { "[" + a.map(String.init).joined(separator: ", ") + "]" }
    static func opt(_ x: Int?) -> String { x.map(String.init) ?? "null" }
    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { string($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
    }
}

enum ReportJSON {
    static func activation(_ a: Activation) -> [(String, String)] {
        switch a {
        case .leakyRelu(let x): return [("activation", JSON.string("leaky_relu")), ("alpha", JSON.number(x))]
        case .elu(let x): return [("activation", JSON.string("elu")), ("alpha", JSON.number(x))]
        case .cappedRelu(let m): return [("activation", JSON.string("relu")), ("max_value", JSON.number(m))]
        case .gelu(let t): return [("activation", JSON.string("gelu")), ("approximate", JSON.string(t ? "tanh" : "none"))]
        case .hardSigmoid(let s, let o): return [("activation", JSON.string("hard_sigmoid")), ("slope", JSON.number(s)), ("offset", JSON.number(o))]
        default: return [("activation", JSON.string(a.name))]
        }
    }

    /// Keras's names and sizes; a 1-D layer's sizes have one element (kernel_size=(3,)).
    static func conv(_ a: Conv2DAttrs, oneD: Bool = false) -> [(String, String)] {
        func sizes(_ h: Int, _ w: Int) -> String { JSON.ints(oneD ? [w] : [h, w]) }
        return [("kernel", sizes(a.kernelH, a.kernelW)), ("strides", sizes(a.strideH, a.strideW)),
         ("padding", JSON.string(a.padding.rawValue)), ("use_bias", a.useBias ? "true" : "false"),
         ("filters", String(a.filters)), ("dilation_rate", sizes(a.dilationH, a.dilationW))]
            + (a.explicitPadH != nil || a.explicitPadW != nil
               ? [("explicit_padding", JSON.ints([a.explicitPadH ?? 0, a.explicitPadW ?? 0]))] : [])
            + activation(a.activation)
    }

    static func inferred(_ op: Op, oneD: Bool = false) -> String {
        var p: [(String, String)] = []
        switch op {
        case .input: break
        case .zeroPadding(let t, let b, let l, let r): p = [("padding", oneD ? JSON.ints([l, r]) : "[[\(t), \(b)], [\(l), \(r)]]")]
        case .conv2d(let a): p = conv(a, oneD: oneD)
        case .conv2dTranspose(let a, let oph, let opw):
            p = conv(a) + (oph != 0 || opw != 0 ? [("output_padding", JSON.ints([oph, opw]))] : [])
        case .upSampling(let h, let w): p = oneD ? [("size", String(w))] : [("size", JSON.ints([h, w])), ("interpolation", JSON.string("nearest"))]
        case .upSamplingBilinear(let h, let w): p = [("size", JSON.ints([h, w])), ("interpolation", JSON.string("bilinear"))]
        case .cropping(let t, let b, let l, let r): p = [("cropping", oneD ? JSON.ints([l, r]) : "[[\(t), \(b)], [\(l), \(r)]]")]
        case .repeatVector(let n): p = [("n", String(n))]
        case .permute(let d): p = [("dims", JSON.ints(d))]
        case .recurrent(let a):
            let activations: [(String, String)] = [("activation", JSON.string(a.activation?.rawValue ?? "tanh"))]
                + (a.hardGateSlope == nil ? [] : [("recurrent_activation", JSON.string("hard_sigmoid"))])
            p = [("units", String(a.units)), ("return_sequences", a.returnSequences ? "true" : "false"),
                 ("use_bias", a.biasRows > 0 ? "true" : "false")] + (a.cell == .gru ? [("reset_after", a.resetAfter ? "true" : "false")] : [])
                + (a.bidirectional.map { [("layer", JSON.string(a.cell.rawValue)), ("merge_mode", JSON.string($0.rawValue))] } ?? [])
                + activations
                + (a.cellDropout.map { [("dropout", JSON.number($0.input)), ("recurrent_dropout", JSON.number($0.recurrent))]
                    + (a.cell == .simpleRNN ? [] : [("implementation", $0.perGate ? "1" : "2")]) } ?? [])
        case .embedding(let v, let d, let pad): p = [("input_dim", String(v)), ("output_dim", String(d))] + (pad.map { [("padding_idx", String($0))] } ?? [])
        case .embeddingBag(let a):
            p = [("num_embeddings", String(a.vocab)), ("embedding_dim", String(a.dim)), ("mode", JSON.string(a.mode.rawValue))]
                + (a.paddingIdx.map { [("padding_idx", String($0))] } ?? [])
        case .merge(.concatenate(let a)): p = [("axis", String(a))]
        case .merge: break
        case .normalization(let a):
            switch a.form {
            case .fixed: p = [("axis", "-1"), ("epsilon", JSON.number(NormAttrs.fixedEpsilon))]
            case .groups(let g): p = [("groups", String(g))]
            case .lastAxis: p = [("axis", "-1")]
            case .wholeSample: p = [("axis", "\"all\"")]
            }
            if a.form != .fixed {
                p += [("scale", a.scale ? "true" : "false"), ("center", a.center ? "true" : "false"), ("epsilon", JSON.number(a.epsilon))]
            }
        case .masking(let v): p = [("mask_value", JSON.number(v))]
        case .augment(let a): p = a.arguments
        case .resize(let h, let w): p = [("height", String(h)), ("width", String(w)), ("interpolation", JSON.string("bilinear"))]
        case .multiHeadAttention(let a):
            p = [("num_heads", String(a.heads)), ("key_dim", String(a.keyDim)), ("value_dim", String(a.valueDim)),
                 ("use_bias", a.useBias ? "true" : "false"), ("output_shape", String(a.outputDim)),
                 ("dropout", JSON.number(a.dropout)), ("use_causal_mask", a.causal ? "true" : "false")]
        case .separableConv2d(let a, let m), .depthwiseConv2d(let a, let m):
            p = conv(a, oneD: oneD) + [("depth_multiplier", String(m))]
        case .batchNorm(let a):
            p = [("scale", a.scale ? "true" : "false"), ("center", a.center ? "true" : "false"),
                 ("epsilon", JSON.number(a.epsilon)), ("momentum", JSON.number(a.momentum))]
        case .maxPool(let a), .avgPool(let a):
            p = [("pool_size", JSON.ints(oneD ? [a.poolW] : [a.poolH, a.poolW])), ("strides", JSON.ints(oneD ? [a.strideW] : [a.strideH, a.strideW])),
                 ("padding", JSON.string(a.padding.rawValue))]
            if let e = a.explicit {
                p += [("explicit_padding", JSON.ints(oneD ? [e.left, e.right] : [e.top, e.left, e.bottom, e.right])),
                      ("ceil_mode", e.ceilMode ? "true" : "false"), ("count_include_pad", e.countIncludePad ? "true" : "false")]
            }
        case .globalAvgPool, .globalMaxPool, .flatten: break
        case .activation(let a): p = activation(a)
        case .dropout(let r, let spatial): p = [("rate", JSON.number(r))] + (spatial ? [("spatial", "true")] : [])
        case .reshape(let t): p = [("target_shape", JSON.ints(t))]
        case .dense(let u, let b, let a): p = [("units", String(u)), ("use_bias", b ? "true" : "false")] + activation(a)
        case .lambda(let f):
            switch f {
            case .standardize(let m, let s): p = [("function", JSON.string("standardize")), ("mean", JSON.number(m)), ("std", JSON.number(s))]
            case .affine(let s, let o): p = [("function", JSON.string("affine")), ("scale", JSON.number(s)), ("offset", JSON.number(o))]
            case .identity: p = [("function", JSON.string("identity"))]
            }
        }
        return JSON.object(p)
    }

    static func render(_ r: CheckReport) -> String {
        let ir = r.ir
        let layers = ir.layers.map { L in
            JSON.object([("name", JSON.string(L.name)), ("type", JSON.string(L.kind)),
                         ("output_shape", JSON.ints(L.outputShape)),
                         ("params", String(ir.semantics == .pytorch ? L.paramCount - L.bufferCount : L.paramCount)),
                         ("trainable_params", String(L.trainableParamCount)), ("inferred", inferred(L.op, oneD: L.isOneD))]
                        + (L.producers.map { [("inputs", "[" + $0.map { JSON.string(ir.layers[$0].name) }.joined(separator: ", ") + "]")] } ?? []))
        }
        let declared = JSON.object([("total", JSON.opt(ir.declared.total)), ("trainable", JSON.opt(ir.declared.trainable)),
                                    ("non_trainable", JSON.opt(ir.declared.nonTrainable))])
        var out = "{\n"
        out += "  \"name\": \(JSON.string(ir.name)),\n"
        out += "  \"input_shape\": \(JSON.ints(ir.inputShape)),\n"
        if let ins = ModelInputs.json(ir) { out += "  \"inputs\": \(ins),\n" }
        out += "  \"ok\": \(r.ok ? "true" : "false"),\n"
        out += "  \"layers\": [\n" + layers.map { "    " + $0 }.joined(separator: ",\n") + "\n  ],\n"
        out += "  \"total_params\": \(ir.frameworkParamCount),\n"
        out += "  \"trainable_params\": \(ir.trainableParams),\n"
        out += "  \"non_trainable_params\": \(ir.frameworkNonTrainableCount),\n"
        out += "  \"declared\": \(declared),\n"
        out += "  \"semantics\": \(JSON.string(ir.semantics.rawValue)),\n"
        if ir.channelsFirst { out += "  \"data_format\": \"channels_first\",\n" }
        if ir.semantics == .pytorch { out += "  \"buffers\": \(ir.bufferCount),\n" }
        out += "  \"dataset\": \(ir.dataset.map { JSON.string($0) } ?? "null"),\n"
        out += "  \"class_names\": [" + ir.classNames.map { JSON.string($0) }.joined(separator: ", ") + "],\n"
        out += "  \"input\": " + JSON.object([("scale", JSON.number(ir.inputScale)), ("offset", JSON.number(ir.inputOffset))]) + ",\n"
        out += "  \"training\": \(TrainingDescription.json(ir.training))\n"
        out += "}\n"
        return out
    }
}

/// Every training setting, as `check` prints it (text) and as the --json `training` object.
enum TrainingDescription {
    static func schedule(_ s: Schedule) -> String {
        switch s {
        case .constant: return "constant"
        case .step(let every, let gamma): return "step:\(every):\(Describe.num(gamma))"
        case .cosine: return "cosine"
        case .oneCycle: return "onecycle"
        }
    }

    static func earlyStopping(_ e: EarlyStopping) -> String {
        switch e {
        case .none: return "none"
        case .patience(let n): return "patience:\(n)"
        case .dropAfter(let n): return "drop-after:\(n)"
        }
    }

    /// The optimizer's own parameters (only those the chosen optimizer uses).
    static func optimizerParams(_ t: TrainingConfig) -> [(String, Float)] {
        switch t.optimizer {
        case .sgd: return []
        case .momentum, .nesterov: return [("momentum", t.momentum)]
        case .adam, .adamw: return [("beta1", t.beta1), ("beta2", t.beta2), ("epsilon", t.epsilon)]
        case .rmsprop: return [("rho", t.rmsRho), ("epsilon", t.epsilon)]   // plain RMSprop: momentum is refused
        case .adadelta: return [("rho", t.rho), ("epsilon", t.epsilon)]
        }
    }

    static func lines(_ t: TrainingConfig) -> [String] {
        let opt = ([t.optimizer.rawValue] + optimizerParams(t).map { "\($0.0)=\(Describe.num($0.1))" }).joined(separator: " ")
        return [
            "optimizer=\(opt)",
            "lr=\(Describe.num(t.learningRate)) schedule=\(schedule(t.schedule)) batch=\(t.batchSize) epochs=\(t.epochs)",
            "loss=\(t.loss.rawValue)\(t.targetIsInput ? " target=input" : "") weight_decay=\(Describe.num(t.weightDecay)) val_split=\(Describe.num(t.validationSplit)) early_stopping=\(earlyStopping(t.earlyStopping))",
            "augment_shift=\(t.augmentation.maxShiftPixels) augment_rotate=\(Describe.num(t.augmentation.maxRotationDegrees)) seed=\(t.seed)",
        ]
    }

    static func json(_ t: TrainingConfig) -> String {
        JSON.object([
            ("optimizer", JSON.string(t.optimizer.rawValue)),
            ("optimizer_params", JSON.object(optimizerParams(t).map { ($0.0, JSON.number($0.1)) })),
            ("lr", JSON.number(t.learningRate)), ("batch", String(t.batchSize)), ("epochs", String(t.epochs)),
            ("loss", JSON.string(t.loss.rawValue)), ("weight_decay", JSON.number(t.weightDecay)),
            ("schedule", JSON.string(schedule(t.schedule))), ("val_split", JSON.number(t.validationSplit)),
            ("early_stopping", JSON.string(earlyStopping(t.earlyStopping))),
            ("augmentation", JSON.object([("shift", String(t.augmentation.maxShiftPixels)),
                                          ("rotate", JSON.number(t.augmentation.maxRotationDegrees))])),
            ("seed", String(t.seed)),
        ])
    }
}
