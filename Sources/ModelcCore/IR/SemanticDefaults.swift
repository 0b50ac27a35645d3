// SemanticDefaults: what a table cannot show, from annotations or documented defaults.
//
// Before: a ModelIR with shapes and counts resolved; activations inside Conv2D/Dense linear,
//         Dropout 0.5, LeakyReLU 0.3, Lambda identity, as placeholders.
// After:  every activation, dropout rate, slope, Lambda function, BatchNorm constant, dataset,
//         class list, input scaling and training setting set; each default that no annotation
//         overrode is listed in `ir.assumptions` (printed by `modelc check`).
//
// Defaults (Keras semantics):
//   Conv2D/Dense activation: linear when an activation layer follows (before the next
//     weighted layer); softmax for the final Dense (sigmoid when it has one unit); relu otherwise.
//   Activation layer: softmax (sigmoid for one output) when it is the last layer, relu otherwise.
//   LeakyReLU alpha 0.3 (Keras default); Dropout rate 0.5; BatchNorm eps 1e-3, momentum 0.99.
//   Lambda: standardize with the dataset's pixel mean/std on the 1/255 scale.
//   Rescaling: scale=1/255 offset=0, and then the input is raw pixels (scale=1) unless annotated.
//   LayerNormalization / GroupNormalization epsilon 1e-3.
//   Dataset: guessed from the document's words (CIFAR-10, Kuzushiji/KMNIST, Kannada, Dig-MNIST, Fashion),
//     else mnist. Input: x/255. Training: TrainingConfig() defaults.

enum DatasetFacts {
    static func classNames(_ d: String) -> [String] {
        switch d {
        case "fashion-mnist":
            return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        case "kmnist": return ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
        case "cifar10": return ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        default: return (0..<10).map(String.init)
        }
    }

    static func nativeClassNames(_ d: String) -> [String]? {
        switch d {
        case "kmnist": return ["お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"]
        case "kannada-mnist", "dig-mnist": return ["೦", "೧", "೨", "೩", "೪", "೫", "೬", "೭", "೮", "೯"]
        default: return nil
        }
    }

    /// Pixel mean/std on the 1/255 scale (training sets).
    static func stats(_ d: String) -> (Float, Float, String) {
        switch d {
        case "fashion-mnist": return (0.2860, 0.3530, "Fashion-MNIST")
        case "kmnist": return (0.1918, 0.3483, "KMNIST")
        case "cifar10": return (0.4734, 0.2516, "CIFAR-10 (all channels)")
        default: return (0.1307, 0.3081, "MNIST")
        }
    }

    /// Guess the dataset from the document text.
    static func guess(_ text: String) -> (String, String)? {
        let t = text.lowercased()
        if (t.has("cifar-10") || t.has("cifar10")) && !(t.has("cifar-100") || t.has("cifar100")) {
            return ("cifar10", "the document mentions CIFAR-10")
        }
        if t.has("kuzushiji") || t.has("kmnist") { return ("kmnist", "the document mentions Kuzushiji/KMNIST") }
        if t.has("dig-mnist") || t.has("dig mnist") { return ("dig-mnist", "the document mentions Dig-MNIST") }
        if t.has("kannada") { return ("kannada-mnist", "the document mentions Kannada") }
        if t.has("fashion") { return ("fashion-mnist", "the document mentions Fashion") }
        if t.has("mnist") { return ("mnist", "the document mentions MNIST") }
        return nil
    }
}

enum SemanticDefaults {
    static func isWeighted(_ op: Op) -> Bool {
        switch op {
        case .conv2d, .separableConv2d, .depthwiseConv2d, .dense, .conv2dTranspose, .multiHeadAttention: return true
        default: return false
        }
    }

    static func apply(_ ir: inout ModelIR, annotations ann: Annotations, document doc: Document) throws {
        try applyDataset(&ir, annotations: ann, document: doc)
        let dataset = ir.dataset ?? "mnist"

        // Grouped per-layer defaults: message -> layer names.
        var grouped: [(String, [String])] = []
        func assume(_ layer: String, _ what: String) {
            if let i = grouped.firstIndex(where: { $0.0 == what }) { grouped[i].1.append(layer) }
            else { grouped.append((what, [layer])) }
        }
        let n = ir.layers.count
        // The layers that end a head (the last one that is not a Dropout; each head of a graph
        // with several outputs, ModelHeads.swift).
        var lastReal = n - 1
        while lastReal > 0, case .dropout = ir.layers[lastReal].op { lastReal -= 1 }
        let heads = ir.layers.isChain ? [lastReal] : ModelHeads.headLayers(ir.layers)
        for i in 0..<n where ir.layers[i].sharesWeightsWith == nil {   // a later call computes its first call's op (SharedLayers.syncOps)
            var L = ir.layers[i]
            let o = ann.overrides(for: L.name)
            let name = L.name
            defaultOp(&L, overrides: o, head: heads.contains(i), layers: ir.layers, position: i, dataset: dataset) { assume(name, $0) }
            // Overrides that make no sense for this layer are errors, not silently ignored.
            try checkApplicable(o, L, ann: ann, doc: doc)
            ir.layers[i] = L
        }
        for (what, names) in grouped {
            let list = names.count > 4 ? names.prefix(3).joined(separator: ", ") + ", ... (\(names.count) layers)" : names.joined(separator: ", ")
            ir.assumptions.append("\(list): \(what)")
        }
        AugmentationLayers.valueRanges(&ir, annotations: ann)
        applyTraining(&ir, annotations: ann)
        nameBinaryHead(&ir, annotations: ann)   // the final activation is known now
    }

    /// Layer L's op with the defaults its table row cannot show (activations, rates, epsilon,
    /// momentum, rescaling, standardization), unless annotated in `o`; each default is reported
    /// through `assume`. `head`: L ends a head of the model.
    static func defaultOp(_ L: inout Layer, overrides o: LayerOverrides, head: Bool, layers: [Layer], position i: Int,
                          dataset: String, assume: (String) -> Void) {
        switch L.op {
        case .conv2d(var a):
            a.activation = o.activation ?? defaultActivation(layers, i, head: head, assume: assume)
            L.op = .conv2d(a)
        case .separableConv2d(var a, let m):
            a.activation = o.activation ?? defaultActivation(layers, i, head: head, assume: assume)
            L.op = .separableConv2d(a, depthMultiplier: m)
        case .depthwiseConv2d(var a, let m):
            a.activation = o.activation ?? defaultActivation(layers, i, head: head, assume: assume)
            L.op = .depthwiseConv2d(a, depthMultiplier: m)
        case .conv2dTranspose(var a, let oph, let opw):
            a.activation = o.activation ?? defaultActivation(layers, i, head: head, assume: assume)
            L.op = .conv2dTranspose(a, outputPaddingH: oph, outputPaddingW: opw)
        case .dense(let u, let b, _):
            let act = o.activation ?? defaultActivation(layers, i, head: head, assume: assume)
            L.op = .dense(units: u, useBias: b, activation: act)
        case .activation:
            switch L.kind {
            case LayerKind.relu.rawValue:
                // A table does not print ReLU's max_value (keras.applications' MobileNetV2 has ReLU(6.)).
                if let m = o.maxValue { L.op = .activation(.cappedRelu(max: m)) }
                else if let a = o.activation, isReLU(a) { L.op = .activation(a) } else {
                    L.op = .activation(.relu)
                    assume("ReLU max_value none (a table does not print it; annotate `layer NAME: max_value=6` for ReLU(6.))")
                }
            case LayerKind.softmax.rawValue: L.op = .activation(.softmax)
            case LayerKind.leakyReLU.rawValue:
                if let a = o.alpha { L.op = .activation(.leakyRelu(alpha: a)) }
                else {
                    L.op = .activation(.leakyRelu(alpha: 0.3))
                    assume("LeakyReLU alpha=0.3 (Keras default; annotate `layer NAME: alpha=...`)")
                }
            default:
                if let a = o.activation { L.op = .activation(a) }
                else if head && L.outputShape.reduce(1, *) == 1 {
                    L.op = .activation(.sigmoid)
                    assume("Activation is sigmoid (last layer with one output; annotate `layer NAME: activation=...`)")
                } else if head {
                    L.op = .activation(.softmax)
                    assume("Activation is softmax (last layer; annotate `layer NAME: activation=...`)")
                } else {
                    L.op = .activation(.relu)
                    assume("Activation is relu (the table does not show the function; annotate `layer NAME: activation=...`)")
                }
            }
        case .dropout(_, let spatial):
            if let r = o.rate { L.op = .dropout(rate: r, spatial: spatial) }
            else {
                L.op = .dropout(rate: 0.5, spatial: spatial)
                assume("Dropout rate=0.5 (not printed; annotate `layer NAME: rate=...`)")
            }
        case .lambda where L.kind == LayerKind.rescaling.rawValue:
            L.op = .lambda(.affine(scale: o.rescaleScale ?? 1.0 / 255.0, offset: o.rescaleOffset ?? 0))
            if case .affine? = o.lambda, let f = o.lambda { L.op = .lambda(f) }   // `affine scale=A offset=B` says the same
            else if o.rescaleScale == nil && o.rescaleOffset == nil {
                assume("Rescaling scale=1/255 offset=0 (the table does not show it; annotate `layer NAME: scale=... offset=...`)")
            }
        case .normalization(var a) where a.form != .fixed:
            a.epsilon = o.epsilon ?? a.epsilon
            if o.epsilon == nil { assume("\(L.kind) epsilon=\(Describe.num(a.epsilon)) (Keras default; annotate `layer NAME: epsilon=...`)") }
            L.op = .normalization(a)
        case .lambda:
            if let f = o.lambda { L.op = .lambda(f) }
            else {
                let (m, s, label) = DatasetFacts.stats(dataset)
                L.op = .lambda(.standardize(mean: m, std: s))
                assume("Lambda standardizes pixels with the \(label) mean \(m) and std \(s) on the 1/255 scale (annotate `layer NAME: standardize mean=M std=S`, `affine scale=A offset=B` or `identity`)")
            }
        case .multiHeadAttention:
            if let ps = L.producers, Set(ps).count > 1 {
                assume("MultiHeadAttention reads its 'Connected to' entries as query, value\(ps.count > 2 ? ", key" : "") in call order (a call by keywords prints them in another order)")
            }
            if o.rate == nil || o.causal == nil {
                assume("MultiHeadAttention dropout \(Describe.num(o.rate ?? 0)), \(o.causal == true ? "causal" : "no causal mask") (a table prints neither; annotate `layer NAME: rate=R causal=true`)")
            }
        case .augment:
            AugmentationLayers.resolve(&L, o.augment, bilinear: o.bilinear, assume: assume)
        case .resize where o.bilinear == nil:
            assume("Resizing interpolation=bilinear, crop_to_aspect_ratio=False (Keras defaults; a table does not show them)")
        case .batchNorm(var a):
            a.epsilon = o.epsilon ?? 1e-3
            a.momentum = o.momentum ?? 0.99
            if o.epsilon == nil || o.momentum == nil {
                assume("BatchNormalization epsilon=0.001 momentum=0.99 (Keras defaults)")
            }
            L.op = .batchNorm(a)
        default:
            break
        }
    }

    /// One sigmoid unit is a binary classifier: its output, P(class 1), is named "1" unless
    /// `classes:` names it. Runs again after the activations are resolved (idempotent).
    static func nameBinaryHead(_ ir: inout ModelIR, annotations ann: Annotations) {
        guard ann.classes == nil, ir.isBinaryClassifier, !ann.training.targetIsInput else { return }
        ir.classNames = ["1"]
        ir.nativeClassNames = nil
        ir.assumptions.removeAll { $0.hasPrefix("classes: ") }
        ir.assumptions.append("classes: binary (one sigmoid unit: the probability of class 1; annotate `classes:` to name it)")
    }

    /// Dataset, class names and input scaling (both semantics).
    static func applyDataset(_ ir: inout ModelIR, annotations ann: Annotations, document doc: Document) throws {
        // Dataset first: Lambda defaults depend on it.
        let dataset: String
        if let d = ann.dataset {
            dataset = d
        } else if let (d, why) = DatasetFacts.guess(doc.text) {
            dataset = d
            ir.assumptions.append("dataset: \(d) (\(why); annotate `dataset:` to override)")
        } else if ir.inputShape == [32, 32, 3] && ir.classCount == 10 {
            dataset = "cifar10"
            ir.assumptions.append("dataset: cifar10 (the input is 32x32x3 and the output 10 classes; annotate `dataset:` to override)")
        } else {
            dataset = "mnist"
            let mnistLike = [[28, 28, 1], [28, 28], [784], [1, 28, 28]].contains(ir.inputShape)
            ir.assumptions.append("dataset: mnist (default; annotate `dataset:`)" + (mnistLike ? "" :
                "; the input \(ir.inputShape.map(String.init).joined(separator: "x")) is not MNIST's 28x28: train on your own data with --data"))
        }
        ir.dataset = dataset
        let classes = ir.classCount
        if let names = ann.classes {
            guard names.count == classes else {
                throw doc.error(ann.classesLine, "classes: \(names.count) names given but the model outputs \(classes) values")
            }
            ir.classNames = names
        } else {
            let names = DatasetFacts.classNames(dataset)
            if ann.training.targetIsInput {
                // An autoencoder: its outputs reconstruct the input; they are no classes to name.
                ir.classNames = []
                ir.assumptions.append("classes: none (train: target=input: the \(formatCount(classes)) outputs reconstruct the input)")
            } else if classes > ResourceLimits.maxClassNames {
                // Not a classifier head (e.g. a table cut short after a convolution): naming
                // every output value would make reports of megabytes (found by fuzzing, issue 6).
                ir.classNames = []
                ir.assumptions.append("classes: none named (the model outputs \(formatCount(classes)) values per image, more than the \(ResourceLimits.maxClassNames) classes modelc names)")
            } else if names.count == classes {
                ir.classNames = names
                ir.nativeClassNames = DatasetFacts.nativeClassNames(dataset)
            } else {
                ir.classNames = (0..<classes).map(String.init)
                ir.assumptions.append("classes: 0...\(max(0, classes - 1)) (the model outputs \(classes) values, \(dataset) has \(names.count) classes)")
            }
        }
        // A Rescaling layer before any weighted layer scales the pixels itself (Keras models
        // with one are trained on raw 0..255 images). An adapted Normalization there: a fresh
        // run adapts it to its own (scaled) inputs, but statistics loaded from a file may have
        // been adapted on raw images (Keras's own examples do): scale 1/255, said as a choice.
        let preprocessing = ir.layers.prefix { !isWeighted($0.op) }
        let rescales = preprocessing.contains { $0.kind == LayerKind.rescaling.rawValue }
        let normalizes = !rescales && preprocessing.contains {
            if case .normalization(let a) = $0.op, a.form == .fixed, $0.kind == LayerKind.normalization.rawValue { return true }
            return false
        }
        // Token ids (an Embedding or EmbeddingBag reads the input) are used as they are.
        let tokens = ir.layers.contains { $0.op.embeddingTable != nil }
        if tokens, (ann.inputScale ?? 1) != 1 || (ann.inputOffset ?? 0) != 0, ir.layers.dropFirst().first?.op.embeddingTable != nil {
            throw doc.error(ann.inputScaleLine ?? ann.inputLine, "input: scale=\(Describe.num(ann.inputScale ?? 1)) offset=\(Describe.num(ann.inputOffset ?? 0)): the model's input is token ids (an Embedding reads them), which are used as they are; remove scale= and offset=")
        }
        ir.inputScale = ann.inputScale ?? (rescales || tokens ? 1 : 1.0 / 255.0)
        ir.inputOffset = ann.inputOffset ?? 0
        if ann.inputScale == nil && ann.inputOffset == nil {
            ir.assumptions.append(tokens ? "input: scale=1 offset=0 (token ids, read as they are)"
                                  : rescales ? "input: scale=1 offset=0 (raw pixels 0..255: the model's Rescaling layer scales them)"
                                  : normalizes ? "input: scale=1/255 offset=0 (pixels 0..255 mapped to 0..1) before the model's adapted Normalization: "
                                                 + "training from scratch adapts it to these inputs; for statistics loaded from a file, annotate `input: scale=1` "
                                                 + "if they were adapted on raw 0..255 images (as in Keras's own examples)"
                                           : "input: scale=1/255 offset=0 (pixels 0..255 mapped to 0..1)")
        }
        nameBinaryHead(&ir, annotations: ann)
    }

    /// Training settings and the defaults assumed for the missing ones (both semantics).
    static func applyTraining(_ ir: inout ModelIR, annotations ann: Annotations) {
        ir.training = ann.training
        if ir.semantics == .pytorch {
            // torch.optim defaults where the model file does not say otherwise.
            var changed: [String] = []
            let k = ann.trainingKeys
            let lrGiven = k.contains("lr") || k.contains("learning_rate")
            switch ir.training.optimizer {
            case .adam, .adamw:
                if !k.contains("epsilon") { ir.training.epsilon = 1e-8; changed.append("epsilon=1e-08") }
                if ir.training.optimizer == .adamw && !k.contains("weight_decay") && !k.contains("wd") {
                    ir.training.weightDecay = 0.01; changed.append("weight_decay=0.01")
                }
            case .rmsprop:
                if !k.contains("epsilon") { ir.training.epsilon = 1e-8; changed.append("epsilon=1e-08") }
                if !k.contains("rho") { ir.training.rmsRho = 0.99; changed.append("rho(alpha)=0.99") }
                if !lrGiven { ir.training.learningRate = 0.01; changed.append("lr=0.01") }
            case .adadelta:
                if !k.contains("epsilon") { ir.training.epsilon = 1e-6; changed.append("epsilon=1e-06") }
                if !k.contains("rho") { ir.training.rho = 0.9; changed.append("rho=0.9") }
                if !lrGiven { ir.training.learningRate = 1.0; changed.append("lr=1") }
            default: break
            }
            if !changed.isEmpty {
                ir.assumptions.append("train: \(ir.training.optimizer.rawValue) \(changed.joined(separator: " ")) (torch.optim defaults for a PyTorch model)")
            }
        } else {
            // Keras's optimizer defaults that differ from modelc's (lr 0.001, no weight decay).
            var changed: [String] = []
            let k = ann.trainingKeys
            switch ir.training.optimizer {
            case .sgd, .momentum, .nesterov:
                if !k.contains("lr") && !k.contains("learning_rate") { ir.training.learningRate = 0.01; changed.append("lr=0.01") }
            case .adamw:
                if !k.contains("weight_decay") && !k.contains("wd") { ir.training.weightDecay = 0.004; changed.append("weight_decay=0.004") }
            default: break
            }
            if !changed.isEmpty {
                ir.assumptions.append("train: \(ir.training.optimizer.rawValue) \(changed.joined(separator: " ")) (Keras's defaults for \(ir.training.optimizer.rawValue))")
            }
        }
        let defaults = TrainingConfig()
        var missing: [String] = []
        let keys: [(String, String)] = [("optimizer", defaults.optimizer.rawValue), ("lr", Describe.num(ir.training.learningRate)),
                                         ("batch", "\(defaults.batchSize)"), ("epochs", "\(defaults.epochs)"),
                                         ("loss", defaults.loss.rawValue), ("weight_decay", Describe.num(ir.training.weightDecay)), ("schedule", "constant"),
                                         ("val_split", Describe.num(defaults.validationSplit)), ("early_stopping", "none"),
                                         ("seed", "\(defaults.seed)")]
        for (k, v) in keys where !ann.trainingKeys.contains(k) && !ann.trainingKeys.contains(alias(k)) {
            missing.append("\(k)=\(v)")
        }
        if !missing.isEmpty { ir.assumptions.append("train: " + missing.joined(separator: " ") + " (defaults; annotate `train:`)") }
    }

    static func alias(_ k: String) -> String {
        ["lr": "learning_rate", "batch": "batch_size", "weight_decay": "wd", "val_split": "validation_split"][k] ?? k
    }

    static func defaultActivation(_ layers: [Layer], _ i: Int, head: Bool, assume: (String) -> Void) -> Activation {
        if layers.isChain {
            var j = i + 1
            while j < layers.count {
                if isWeighted(layers[j].op) { break }
                if case .activation = layers[j].op { return .linear }
                j += 1
            }
        } else if activationFollows(layers, i) {
            return .linear
        }
        if case .dense(let units, _, _) = layers[i].op, head {
            if units == 1 {
                assume("activation=sigmoid (final Dense with one output; annotate `layer NAME: activation=...`)")
                return .sigmoid
            }
            assume("activation=softmax (final Dense of a classifier; annotate `layer NAME: activation=...`)")
            return .softmax
        }
        assume("activation=relu (no activation layer follows; annotate `layer NAME: activation=...`)")
        return .relu
    }

    /// In a graph: an activation layer on some path from layer i's output before the next weighted layer.
    static func activationFollows(_ layers: [Layer], _ i: Int) -> Bool {
        let consumers = layers.consumers
        var todo = consumers[i], seen = Set<Int>()
        while let j = todo.popLast() {
            guard seen.insert(j).inserted, !isWeighted(layers[j].op) else { continue }
            if case .activation = layers[j].op { return true }
            todo += consumers[j]
        }
        return false
    }

    /// An annotated `hard_sigmoid` (a table prints no activations) is the table's Keras version's:
    /// a Keras 2 or tf.keras table's is clip(0.2 x + 0.5, 0, 1); a Keras 3 table's is relu6(x + 3)
    /// / 6, as the annotation word means elsewhere; a table that shows no version (markdown) gets
    /// Keras 3's, noted.
    static func isKerasTwo(layout: String) -> Bool { layout.hasPrefix("keras2") || layout.hasPrefix("tf.keras") }

    /// The slope of Keras's hard_sigmoid, clip(slope x + 0.5, 0, 1): 1/6 in Keras 3 (relu6(x + 3) / 6), 0.2 in Keras 2.
    static func hardSigmoidSlope(kerasThree: Bool) -> Float { kerasThree ? 1 / 6 : 0.2 }

    static func hardSigmoid(_ ir: inout ModelIR, layout: String) {
        if isKerasTwo(layout: layout) { return kerasTwoHardSigmoid(&ir) }
        guard !layout.hasPrefix("keras3") else { return }
        let names = ir.layers.filter { l in
            if case .activation(.hardSigmoid) = l.op { return true }
            if case .hardSigmoid = l.foldedActivation { return true }
            return false
        }.map(\.name)
        if !names.isEmpty {
            ir.assumptions.append("\(names.joined(separator: ", ")): hard_sigmoid is Keras 3's relu6(x + 3) / 6 (the \(layout) table shows no Keras version; Keras 2's is clip(0.2 x + 0.5, 0, 1))")
        }
    }

    static func kerasTwoHardSigmoid(_ ir: inout ModelIR) {
        let keras3 = Activation.hardSigmoid(slope: hardSigmoidSlope(kerasThree: true), offset: 0.5)
        let keras2 = Activation.hardSigmoid(slope: hardSigmoidSlope(kerasThree: false), offset: 0.5)
        var names: [String] = []
        for i in ir.layers.indices {
            let l = ir.layers[i]
            if l.op == .activation(keras3) { ir.layers[i].op = .activation(keras2) }
            else if l.foldedActivation == keras3 { ir.layers[i].op = l.op.withActivation(keras2) }
            else { continue }
            names.append(l.name)
        }
        if !names.isEmpty {
            ir.assumptions.append("\(names.joined(separator: ", ")): hard_sigmoid is Keras 2's clip(0.2 x + 0.5, 0, 1) (a Keras 2 table; Keras 3's is relu6(x + 3) / 6)")
        }
    }

    /// relu or a capped relu (relu6): what a ReLU layer computes.
    static func isReLU(_ a: Activation) -> Bool {
        if case .cappedRelu = a { return true }
        return a == .relu
    }

    static func checkApplicable(_ o: LayerOverrides, _ L: Layer, ann: Annotations, doc: Document) throws {
        let line = ann.layers.first { $0.matches(L.name) }?.line
        func bad(_ key: String) -> ModelError {
            doc.error(line, "layer '\(L.name)' (\(L.kind)) has no '\(key)' setting")
        }
        let isConv: Bool
        switch L.op { case .conv2d, .separableConv2d, .depthwiseConv2d, .conv2dTranspose: isConv = true; default: isConv = false }
        let isPool: Bool
        switch L.op { case .maxPool, .avgPool: isPool = true; default: isPool = false }
        // Glob directives (e.g. `layer *: ...`) may touch many layers; only single-name patterns are strict.
        let strict = ann.layers.contains { $0.matches(L.name) && !$0.pattern.contains("*") }
        if case .augment(let a) = L.op, let why = AugmentationLayers.problem(a) {
            throw doc.error(line ?? L.line, "layer '\(L.name)' (\(L.kind)): \(why)")
        }
        guard strict else { return }
        if o.kernel != nil && !isConv { throw bad("kernel") }
        if o.pool != nil && !isPool { throw bad("pool") }
        if o.stride != nil && !isConv && !isPool { throw bad("stride") }
        let attention = L.kind == LayerKind.multiHeadAttention.rawValue
        let dropout = [LayerKind.dropout, .spatialDropout1D, .spatialDropout2D].map(\.rawValue).contains(L.kind)
        if o.rate != nil, !dropout, !attention { throw bad("rate") }
        for (key, set) in [("heads", o.heads != nil), ("key_dim", o.keyDim != nil), ("value_dim", o.valueDim != nil),
                           ("output_shape", o.outputDim != nil), ("causal", o.causal != nil)] where set && !attention { throw bad(key) }
        if o.size != nil, L.kind != LayerKind.upSampling2D.rawValue, L.kind != LayerKind.upSampling1D.rawValue { throw bad("size") }
        var augmentKeys: Set<String> = []
        if case .augment(let a) = L.op { augmentKeys = AugmentationLayers.keys(a) }
        if o.bilinear == false, L.kind == LayerKind.resizing.rawValue {
            throw doc.error(line, "layer '\(L.name)' (Resizing): interpolation=nearest is not supported (bilinear, Keras's default, is)")
        }
        if o.bilinear != nil, L.kind != LayerKind.upSampling2D.rawValue, L.kind != LayerKind.resizing.rawValue, !augmentKeys.contains("interpolation") {
            throw bad("interpolation")
        }
        if let k = o.augment.keys.first(where: { !augmentKeys.contains($0) }) { throw bad(k) }
        if o.crop != nil, L.kind != LayerKind.cropping2D.rawValue, L.kind != LayerKind.cropping1D.rawValue { throw bad("crop") }
        if o.outputPadding != nil, L.kind != LayerKind.conv2DTranspose.rawValue { throw bad("output_padding") }
        if o.dims != nil, L.kind != LayerKind.permute.rawValue { throw bad("dims") }
        if o.repeats != nil, L.kind != LayerKind.repeatVector.rawValue { throw bad("n") }
        if let f = o.lambda, L.kind != LayerKind.lambda.rawValue {
            guard L.kind == LayerKind.rescaling.rawValue, case .affine = f else { throw bad(L.kind == LayerKind.rescaling.rawValue ? "standardize/identity" : "standardize/affine/identity") }
        }
        if o.rescaleOffset != nil, L.kind != LayerKind.rescaling.rawValue { throw bad("offset") }
        if o.groups != nil, L.kind != LayerKind.groupNormalization.rawValue { throw bad("groups") }
        if o.ceilMode != nil { throw bad("ceil_mode") }               // PyTorch pools only
        if o.maxValue != nil, L.kind != LayerKind.relu.rawValue { throw bad("max_value") }
        if o.countIncludePad != nil { throw bad("count_include_pad") }
        if o.residual != nil { throw bad("residual") }             // PyTorch containers only
        if o.activation != nil {
            switch L.op {
            case .conv2d, .separableConv2d, .depthwiseConv2d, .dense, .conv2dTranspose: break
            case .activation where L.kind == LayerKind.activation.rawValue: break
            case .activation where L.kind == LayerKind.relu.rawValue && isReLU(o.activation!): break
            case .recurrent: break                                       // the cell's: RecurrentGates
            default: throw bad("activation")
            }
        }
    }
}
