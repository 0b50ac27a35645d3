// Emits the `ModelInfo` literal of a model: name, fingerprint, input, classes, parameter
// tensors with their Keras keys and initializers, counts, FLOPs, summary, training defaults.

import ModelcCore

enum ModelInfoEmitter {
    static func infoLiteral(_ ir: ModelIR, layers: [Layer], specs: [ParamSpec],
                            parameterCount: Int, indent: String) -> String {
        let i1 = indent + "    "
        let i2 = i1 + "    "
        // Several inputs: one flat vector of their values (Passes/MultiInputSplit.swift), never an image.
        let (h, w, c) = ir.inputs != nil ? (1, ir.inputShape.reduce(1, *), 1)
            : readsRows(ir) ? (ir.inputShape[0], ir.inputShape[1], 1) : inputHWC(ir.inputShape)
        let classCount = (layers.last?.outputShape ?? ir.inputShape).reduce(1, *)
        var names = ir.classNames
        if names.count != classCount { names = (0..<classCount).map(String.init) }
        var s = "ModelInfo(\n"
        s += "\(i1)name: \(swiftString(ir.name)),\n"
        s += "\(i1)fingerprint: \(swiftString(Fingerprint.of(ir))),\n"
        s += "\(i1)inputHeight: \(h), inputWidth: \(w), inputChannels: \(c),\n"
        s += "\(i1)classCount: \(classCount),\n"
        s += "\(i1)classNames: [\(names.map(swiftString).joined(separator: ", "))],\n"
        if let n = ir.nativeClassNames {
            s += "\(i1)nativeClassNames: [\(n.map(swiftString).joined(separator: ", "))],\n"
        } else {
            s += "\(i1)nativeClassNames: nil,\n"
        }
        s += "\(i1)dataset: \(ir.dataset.map(swiftString) ?? "nil"),\n"
        s += "\(i1)inputScale: \(floatLiteral(ir.inputScale)), inputOffset: \(floatLiteral(ir.inputOffset)),\n"
        s += "\(i1)semantics: \(swiftString(ir.semantics.rawValue)),\n"
        s += "\(i1)tensors: [\n"
        for p in specs {
            let t = p.tensor
            s += "\(i2)TensorSpec(key: \(swiftString(p.key)), shape: \(t.shape), offset: \(p.offset), trainable: \(t.trainable), "
            s += "initializer: \(initializer(t, semantics: ir.semantics, layerFanIn: p.layerFanIn)), decays: \(decays(t, semantics: ir.semantics))"
            if p.filePermutation != Array(0..<t.shape.count) {
                s += ", fileShape: \(p.fileShape), filePermutation: \(p.filePermutation)"
                if let k = p.kerasShape { s += ", kerasShape: \(k)" }
            }
            s += "),\n"
        }
        s += "\(i1)],\n"
        s += "\(i1)parameterCount: \(parameterCount),\n"
        s += "\(i1)trainableParameterCount: \(specs.filter { $0.tensor.trainable }.reduce(0) { $0 + $1.tensor.count }),\n"
        s += "\(i1)forwardFlops: \(Emitter.forwardFlops(layers)),\n"
        s += "\(i1)summary: \(swiftString(summary(ir))),\n"
        let changed = defaultsSettings(ir.training).filter { !defaultsSettings(TrainingConfig()).contains($0) }
        if changed.isEmpty {
            s += "\(i1)defaults: TrainingDefaults()"
        } else {
            s += "\(i1)defaults: TrainingDefaults { \(changed.map { "$0.\($0)" }.joined(separator: "; ")) }"
        }
        if let f = MultiInputSplit.infoField(ir.inputs) { s += ",\n\(i1)\(f)" }
        let adapt = adaptOnInput(ir)
        if !adapt.isEmpty { s += ",\n\(i1)adaptOnInput: [\(adapt.map(swiftString).joined(separator: ", "))]" }
        s += "\n\(indent))"
        return s
    }

    /// Keras's adapted Normalization layers that read the (one) model input itself: the runtime
    /// adapts them to the training data on a fresh run (ModelcRuntime's NormalizationAdapt).
    static func adaptOnInput(_ ir: ModelIR) -> [String] {
        guard ir.inputs == nil, ir.semantics == .keras, let input = ir.layers.firstIndex(where: Emitter.isInput) else { return [] }
        return ir.layers.indices.filter { i in
            guard case .normalization(let a) = ir.layers[i].op, a.form == .fixed else { return false }
            return (ir.layers[i].producers ?? [i - 1]) == [input]
        }.map { ir.layers[$0].name }
    }

    /// A model whose first layer is recurrent reads a [T, D] input as a T x D x 1 image (the same
    /// floats): T rows of D pixels, one per step (an LSTM reading MNIST row by row).
    /// A model whose first layer reads a sequence [L, C] (a recurrent or a 1-D layer, a Dense or
    /// attention applied per step) takes it as the rows of an L x C x 1 image (the same values in
    /// the same order), so 28 steps of 28 features read MNIST's images row by row.
    static func readsRows(_ ir: ModelIR) -> Bool {
        guard ir.inputShape.count == 2, let l = ir.layers.first(where: { !Emitter.isInput($0) }) else { return false }
        switch l.op {
        case .recurrent, .multiHeadAttention, .dense: return true   // per step: a 28x28 image is 28 steps of 28
        default: return l.isOneD
        }
    }

    static func inputHWC(_ shape: [Int]) -> (Int, Int, Int) {
        switch shape.count {
        case 3: return (shape[0], shape[1], shape[2])
        case 2: return (1, shape[0], shape[1])   // a sequence [L, C]: one row of L pixels
        case 1: return shape[0] == 784 ? (28, 28, 1) : (1, shape[0], 1)
        default: return (1, shape.reduce(1, *), 1)
        }
    }

    /// Fan-in of a kernel: input channels (x receptive field); depthwise: the receptive field.
    static func fanIn(_ t: ParamTensor) -> Int {
        let receptive = t.shape.count > 2 ? t.shape.dropLast(2).reduce(1, *) : 1
        if t.role == .depthwiseKernel { return receptive }
        return (t.shape.count >= 2 ? t.shape[t.shape.count - 2] : 1) * receptive
    }

    /// Keras: Glorot-uniform kernels, zero biases. PyTorch (Conv2d/Linear reset_parameters):
    /// weight kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fanIn)), bias U(+-1/sqrt(fanIn)) with the
    /// weight's fan-in; nn.Embedding N(0, 1). BatchNorm and LayerNorm: gamma 1, beta 0, mean 0, var 1 in both.
    static func initializer(_ t: ParamTensor, semantics: Semantics, layerFanIn: Int) -> String {
        switch t.role {
        case .bias where semantics == .pytorch: return ".kaimingUniform(fanIn: \(max(layerFanIn, 1)))"
        // nn.LSTM / nn.GRU / nn.RNN: every tensor U(+-1/sqrt(hidden_size)).
        case .kernel where semantics == .pytorch && t.stateDictKey != nil, .recurrentKernel where semantics == .pytorch:
            return ".kaimingUniform(fanIn: \(max(layerFanIn, 1)))"
        case .kernel, .depthwiseKernel, .pointwiseKernel:
            let receptive = t.shape.count > 2 ? t.shape.dropLast(2).reduce(1, *) : 1
            let fanIn = (t.shape.count >= 2 ? t.shape[t.shape.count - 2] : 1) * receptive
            let fanOut = (t.shape.last ?? 1) * receptive
            if semantics == .pytorch {
                return ".kaimingUniform(fanIn: \(t.role == .depthwiseKernel ? receptive : fanIn))"
            }
            return ".glorotUniform(fanIn: \(fanIn), fanOut: \(fanOut))"
        // Keras: recurrent kernels orthogonal, an LSTM's forget-gate bias 1 (unit_forget_bias).
        case .recurrentKernel: return ".orthogonal(rows: \(t.shape.first ?? 1), columns: \(t.shape.last ?? 1))"
        case .bias where t.unitForgetBias != nil: return ".unitForgetBias(units: \(t.unitForgetBias ?? 0))"
        // PyTorch nn.Embedding / nn.EmbeddingBag: N(0, 1), the padding_idx row zero.
        case .embeddings where semantics == .pytorch:
            if let r = t.zeroRow { return ".standardNormalZeroRow(row: \(r), columns: \(t.shape.last ?? 1))" }
            return ".standardNormal"
        // Keras Embedding: uniform(-0.05, 0.05), which is Glorot's limit sqrt(6 / 2400).
        case .embeddings: return ".glorotUniform(fanIn: 1200, fanOut: 1200)"
        case .bias, .beta, .movingMean, .mean, .count: return ".zeros"
        case .gamma, .movingVariance, .variance: return ".ones"
        }
    }

    /// Keras kernel_regularizer: kernels only. PyTorch optimizers' `weight_decay` applies to
    /// every parameter handed to them (biases and BatchNorm weight/bias too; never buffers).
    static func decays(_ t: ParamTensor, semantics: Semantics = .keras) -> Bool {
        if semantics == .pytorch { return t.trainable }
        return t.role == .kernel || t.role == .depthwiseKernel || t.role == .pointwiseKernel
    }

    /// The training settings as `field = literal` assignments to a TrainingDefaults (the emitted
    /// model states only those that differ from TrainingConfig(), whose defaults are the
    /// runtime's: BackendTests.GeneratedFilesTests.testTrainingDefaultsAgree).
    static func defaultsSettings(_ t: TrainingConfig) -> [String] {
        var s: [String] = []
        func set(_ k: String, _ v: String) { s.append("\(k) = \(v)") }
        set("optimizer", swiftString(t.optimizer.rawValue))
        set("learningRate", floatLiteral(t.learningRate))
        set("momentum", floatLiteral(t.momentum))
        set("beta1", floatLiteral(t.beta1))
        set("beta2", floatLiteral(t.beta2))
        set("epsilon", floatLiteral(t.epsilon))
        set("rho", floatLiteral(t.rho))
        set("rmsRho", floatLiteral(t.rmsRho))
        set("weightDecay", floatLiteral(t.weightDecay))
        set("batchSize", "\(t.batchSize)")
        set("epochs", "\(t.epochs)")
        set("loss", swiftString(t.loss.rawValue))
        set("target", swiftString(t.targetIsInput ? "input" : "labels"))
        let sched: String
        switch t.schedule {
        case .constant: sched = "constant"
        case .step(let e, let g): sched = "step:\(e):\(g)"
        case .cosine: sched = "cosine"
        case .oneCycle: sched = "onecycle"
        }
        set("schedule", swiftString(sched))
        set("validationSplit", floatLiteral(t.validationSplit))
        let es: String
        switch t.earlyStopping {
        case .none: es = "none"
        case .patience(let n): es = "patience:\(n)"
        case .dropAfter(let n): es = "drop-after:\(n)"
        }
        set("earlyStopping", swiftString(es))
        set("augmentShift", "\(t.augmentation.maxShiftPixels)")
        set("augmentRotate", floatLiteral(t.augmentation.maxRotationDegrees))
        set("seed", "\(t.seed)")
        return s
    }

    /// A Keras-style summary table of the resolved IR.
    static func summary(_ ir: ModelIR) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        var lines: [String] = []
        lines.append("Model: \"\(ir.name)\"")
        lines.append(String(repeating: "_", count: 78))
        lines.append(pad("Layer (type)", 34) + pad("Output Shape", 24) + "Param #")
        lines.append(String(repeating: "=", count: 78))
        for l in ir.layers {
            let shape = "(None, " + l.outputShape.map(String.init).joined(separator: ", ") + ")"
            lines.append(pad("\(l.name) (\(l.kind))", 34) + pad(shape, 24) + grouped(l.paramCount))
            lines.append(String(repeating: "_", count: 78))
        }
        lines.append("Total params: \(grouped(ir.totalParams))")
        lines.append("Trainable params: \(grouped(ir.trainableParams))")
        lines.append("Non-trainable params: \(grouped(ir.nonTrainableParams))")
        return lines.joined(separator: "\n")
    }

    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return out
    }
}
