// KerasConfigLayers: each Keras layer config to a resolved IR layer, with Keras's shape rules.
//
// Before: a KerasModel (layers in chain order, structure checked).
// After:  a ModelIR (semantics .keras, shapes [H, W, C] / [L, C] / [N]) whose every op is set
//         from the layer's own config keys, exactly: kernel, strides, padding, dilation,
//         use_bias, activation, units, rates, slopes, BatchNormalization epsilon / momentum /
//         center / scale. A key that is missing or of the wrong type, a value modelc cannot
//         compile (channels_first, groups, a dilated transposed convolution, ...) and a class
//         modelc does not support are errors naming the layer and the JSON path. A layer's
//         `line` is its 1-based position in config.layers (0 for a synthesized input).
// Also returns, as problems, every layer whose input shape differs from the one Keras 3
// recorded in its build_config.

import Foundation

enum KerasConfigLayers {
    static func build(_ m: KerasModel, file: String, annotations: Annotations = Annotations()) throws -> (ModelIR, [ModelError]) {
        var layers: [Layer] = []
        var problems: [ModelError] = []
        var body = m.layers
        let input: [Int]
        let fill = annotations.inputShape
        if body[0].className == "InputLayer" {
            layers.append(try inputLayer(body.removeFirst(), fill: fill))
            input = layers[0].outputShape
        } else {
            let (shape, source) = try impliedInput(m, fill: fill)
            input = shape
            var name = "input"
            while m.layers.contains(where: { $0.name == name }) { name += "_0" }
            layers.append(Layer(name: name, kind: LayerKind.inputLayer.rawValue, op: .input, inputShape: input, outputShape: input,
                                line: 0, notes: ["synthesized: the config has no InputLayer; the input shape is \(source)"]))
        }
        for l in body {
            let i = layers.count
            if l.className == "InputLayer", m.sources != nil {   // a further input (IR/ModelInputs.swift)
                layers.append(try inputLayer(l))
                layers[i].producers = []
                continue
            }
            let from = m.sources?[i] ?? [i - 1]   // a Functional model's graph; else the layer above
            let shape = layers[from[0]].outputShape
            if from.count == 1, l.call == 0, let built = try l.entry.present("build_config")?.present("input_shape"),
               let recorded = try? batchShape(built, layer: l.name), recorded != shape {
                problems.append(built.error("layer '\(l.name)': Keras recorded the input \(Inference.shapeText(recorded)), modelc computes \(Inference.shapeText(shape))"))
            }
            let shapes = from.map { layers[$0].outputShape }
            let (kind, op, out) = try l.className == LayerKind.multiHeadAttention.rawValue ? attention(l, inputs: shapes)
                : LayerKind.exact(l.className).flatMap(MergeKind.init(layer:)).map { try merge(l, $0, shapes) }
                ?? convert(l, input: shape, lambda: annotations.overrides(for: l.name).lambda)
            switch op {
            case .merge, .multiHeadAttention: break
            default:
                if from.count != 1 {
                    throw l.entry.error("layer '\(l.name)' (\(l.className)) has \(from.count) inputs; only merge layers (Add, Concatenate, ...) and MultiHeadAttention take several")
                }
            }
            try checkSize(out, l)
            var layer = Layer(name: l.name, kind: kind.rawValue, op: op, inputShape: shape, outputShape: out, line: l.index + 1)
            if from != [i - 1] { layer.producers = from }
            if let o = l.owner { layer.sharesWeightsWith = o; layer.notes.append("call \(l.call + 1) of '\(layers[o].name)': shares its weights") }
            if case .recurrent(let a) = op, let note = try cellDropoutNote(a.cellDropout, l) { layer.notes.append(note) }
            if try l.config.present("trainable")?.bool() == false, !layer.paramTensors.isEmpty {
                guard FrozenLayers.isFreezable(layer) else {
                    throw l.entry.error("layer '\(l.name)' (BatchNormalization) is frozen (trainable: false): a frozen Keras BatchNorm normalizes with its moving statistics in training, which modelc does not do")
                }
                layer.frozen = true
                layer.notes.append("frozen (trainable: false in the file): its tensors are not trained")
            }
            layers.append(layer)
        }
        let ir = ModelIR(name: IRBuilder.identifier(fromPath: file), sourcePath: file, semantics: .keras,
                         inputShape: input, layers: layers)
        return (ir, problems)
    }

    /// The note on a recurrent layer's in-cell dropout as its Keras version drew it, if any.
    static func cellDropoutNote(_ d: CellDropout?, _ l: KLayer) throws -> String? {
        let inner = l.className == LayerKind.bidirectional.rawValue ? try l.config.required("layer").required("config") : l.config
        let rates = (try KerasCellDropoutRules.rate(inner, "dropout"), try KerasCellDropoutRules.rate(inner, "recurrent_dropout"))
        return KerasCellDropoutRules.note(d, saver: .init(keras3: l.keras3, version: l.kerasVersion), config: rates)
    }

    /// An InputLayer with its shape (`batch_shape`, Keras 2 `batch_input_shape`); `fill`: the
    /// annotated input shape (`input: shape=...` in FILE.modelc), for sizes the file leaves open.
    static func inputLayer(_ l: KLayer, fill: [Int]? = nil) throws -> Layer {
        if let d = try l.config.present("dtype"), case .string("string") = d.value {
            throw d.error("layer '\(l.name)': an input of strings (before a TextVectorization, which a model file keeps inside the model); modelc reads numbers only: give it the model's summary table, whose TextVectorization row starts the model at its token ids")
        }
        let key = try l.config.optional("batch_shape") != nil ? "batch_shape" : "batch_input_shape"
        let node = try l.config.required(key)
        let shape = try batchShape(node, layer: l.name, fill: fill)
        var layer = Layer(name: l.name, kind: LayerKind.inputLayer.rawValue, op: .input, inputShape: shape, outputShape: shape, line: l.index + 1)
        if let note = try openSizesNote(node, shape) { layer.notes.append(note) }
        return layer
    }

    /// [None, d1, ...]: the batch dimension (null or an integer) then 1 to 4 sizes, each fixed or
    /// (None, a text model's sequence length) given by `fill` (which must agree with every fixed one).
    static func batchShape(_ n: JNode, layer: String, fill: [Int]? = nil) throws -> [Int] {
        let dims = try n.list()
        guard dims.count >= 2, dims.count <= 5 else {
            throw n.fail("[batch, then 1 to 4 sizes] (a vector, a sequence (steps, channels), an image (height, width, channels) or a sequence of images (steps, height, width, channels))")
        }
        let sizes = Array(dims.dropFirst())
        if let f = fill, f.count != sizes.count {
            throw n.error("layer '\(layer)': the annotated input shape=\(f.map(String.init).joined(separator: "x")) has \(f.count) sizes, the file's input \(sizes.count)")
        }
        return try sizes.enumerated().map { i, d in
            if d.isNull {
                guard let f = fill else { throw d.error("layer '\(layer)': the input size is not fixed (None); " + openSizeHint(sizes, file: d.file)) }
                return f[i]
            }
            let v = try d.int(min: 1, max: ResourceLimits.maxDimension)
            if let f = fill, f[i] != v { throw d.error("layer '\(layer)': the annotated input shape=\(f.map(String.init).joined(separator: "x")) gives \(f[i]) where the file fixes \(v)") }
            return v
        }
    }

    /// What to write in FILE.modelc for sizes the file leaves open: a text model's length
    /// (`input: shape=200`), or the whole shape with each open size to fill in.
    static func openSizeHint(_ sizes: [JNode], file: String) -> String {
        let name = (file as NSString).lastPathComponent + ".modelc"
        guard sizes.count <= 3 else { return "modelc needs every input dimension, and an input of \(sizes.count) sizes cannot be annotated" }
        let text = sizes.map { $0.isNull ? (sizes.count == 1 ? "200" : "N") : "\((try? $0.int(min: 1, max: ResourceLimits.maxDimension)) ?? 1)" }.joined(separator: "x")
        return "modelc needs every input dimension: give it in \(name) beside the model file, e.g. `input: shape=\(text)`"
            + (sizes.count == 1 ? " (a sequence length of 200)" : " with each N the size your data has")
    }

    /// "sizes the file leaves open (None) taken from the annotated input shape", when it has some.
    static func openSizesNote(_ n: JNode, _ shape: [Int]) throws -> String? {
        let open = try n.list().dropFirst().enumerated().filter { $0.element.isNull }.map(\.offset)
        guard !open.isEmpty else { return nil }
        return "input size\(open.count > 1 ? "s" : "") \(open.map { "\(shape[$0])" }.joined(separator: ", ")) from the annotated `input: shape=`: the file leaves \(open.count > 1 ? "them" : "it") open (None)"
    }

    /// Without an InputLayer: Keras 2's `batch_input_shape` on the first layer, else the shape
    /// Keras 3 built the first layer or the model with.
    static func impliedInput(_ m: KerasModel, fill: [Int]? = nil) throws -> ([Int], String) {
        let first = m.layers[0]
        let candidates: [JNode?] = [try first.config.present("batch_input_shape"),
                                    try first.entry.present("build_config")?.present("input_shape"), m.builtInput]
        for case let n? in candidates {
            let shape = try batchShape(n, layer: first.name, fill: fill)
            return (shape, "from \(n.path)" + (try openSizesNote(n, shape).map { "; " + $0 } ?? ""))
        }
        throw first.entry.error("the model has no InputLayer and its first layer '\(first.name)' records no input shape (batch_input_shape or build_config.input_shape); modelc needs the input shape")
    }

    /// A merge layer over its inputs' shapes (Concatenate's `axis` counts the batch axis in Keras;
    /// the IR counts from the end of one image's shape).
    static func merge(_ l: KLayer, _ kind: MergeKind, _ inputs: [[Int]]) throws -> (LayerKind, Op, [Int]) {
        var k = kind
        if case .concatenate = kind, let a = try l.config.present("axis") {
            let axis = try a.int(min: -8, max: 8), rank = inputs[0].count
            guard axis != 0, axis <= rank, axis >= -rank else { throw a.fail("an axis of the rank-\(rank) inputs other than the batch axis") }
            k = .concatenate(axis: axis < 0 ? axis : axis - rank - 1)
        }
        switch k.output(inputs) {
        case .success(let out): return (LayerKind.exact(l.className) ?? .add, .merge(k), out)
        case .failure(let e): throw l.entry.error("layer '\(l.name)' (\(l.className)): \(e.message)")
        }
    }

    static func checkSize(_ out: [Int], _ l: KLayer) throws {
        guard ResourceLimits.elements(out) != nil else {
            throw l.entry.error("layer '\(l.name)' (\(l.className)): output \(Inference.shapeText(out)) has \(ResourceLimits.productText(out)) elements per image; modelc accepts at most \(formatCount(ResourceLimits.maxActivationElements)) (2^26) per layer")
        }
    }

    // MARK: - One layer

    /// `lambda`: the function annotated for a Lambda layer (its Python bytecode is never run).
    static func convert(_ l: KLayer, input s: [Int], lambda: LambdaFunction? = nil) throws -> (LayerKind, Op, [Int]) {
        guard let kind = LayerKind.exact(l.className), kind != .inputLayer else {
            if l.className == "InputLayer" {
                throw l.entry.error("layer '\(l.name)' (InputLayer) is not the first layer of a Sequential model (several inputs need a Functional model)")
            }
            throw l.entry.error("layer '\(l.name)' (\(l.className)) is not supported (supported: \(LayerKind.allCases.filter { $0 != .lambda }.map(\.rawValue).joined(separator: ", ")))")
        }
        let c = l.config
        func fail(_ m: String) -> ModelError { l.entry.error("layer '\(l.name)' (\(l.className)): \(m)") }
        try channelsLast(c, l)
        switch kind {
        case .inputLayer: throw fail("unexpected InputLayer")
        case .conv2D, .separableConv2D, .depthwiseConv2D, .conv2DTranspose:
            return try KerasConfigConv.image(kind, l, input: s, fail: fail)
        case .conv1D, .separableConv1D:
            return try KerasConfigConv.sequence(kind, l, input: s, fail: fail)
        case .maxPooling2D, .averagePooling2D, .maxPooling1D, .averagePooling1D:
            return try pool(kind, l, input: s, fail: fail)
        case .globalAveragePooling2D, .globalMaxPooling2D, .globalAveragePooling1D, .globalMaxPooling1D:
            guard s.count == (kind.isOneD ? 2 : 3) else { throw fail("needs \(kind.isOneD ? "a sequence (steps, channels)" : "an image (height, width, channels)") input but gets \(Inference.shapeText(s))") }
            if let k = try c.present("keepdims"), try k.bool() { throw k.error("keepdims=true is not supported") }
            let avg = kind == .globalAveragePooling2D || kind == .globalAveragePooling1D
            return (kind, avg ? .globalAvgPool : .globalMaxPool, [s[s.count - 1]])
        case .batchNormalization:
            return (kind, .batchNorm(try batchNorm(c, rank: s.count)), s)
        case .activation:
            return (kind, .activation(try activation(c.required("activation"), keras3: l.keras3)), s)
        case .relu:
            try expectZero(c, ["negative_slope", "threshold"], fail: fail)
            guard let m = try c.present("max_value") else { return (kind, .activation(.relu), s) }
            return (kind, .activation(.cappedRelu(max: try m.float(min: 1e-6, max: 1e6))), s)   // ReLU(6.): MobileNetV2's
        case .leakyReLU:
            let key = try c.optional("negative_slope") != nil ? "negative_slope" : "alpha"
            return (kind, .activation(.leakyRelu(alpha: try c.required(key).float(min: 0, max: 1e6))), s)
        case .softmax:
            if let a = try c.present("axis"), try a.int(min: -8, max: 8) != -1, try a.int(min: -8, max: 8) != s.count {
                throw a.fail("-1 (softmax over the last axis)")
            }
            return (kind, .activation(.softmax), s)
        case .dropout, .spatialDropout1D, .spatialDropout2D:
            if let n = try c.present("noise_shape") { throw n.error("noise_shape is not supported") }
            return (kind, .dropout(rate: try c.required("rate").float(min: 0, max: 0.999_999), spatial: kind != .dropout), s)
        case .flatten:
            return (kind, .flatten, [s.reduce(1, *)])
        case .reshape:
            let target = try reshape(c.required("target_shape"), input: s)
            return (kind, .reshape(target), target)
        case .dense:
            guard s.count == 1 || s.count == 2 else { throw fail("needs a vector or sequence input but gets \(Inference.shapeText(s)); a Dense on an image (applied to the last axis) is not supported: flatten first") }
            let units = try c.required("units").int(min: 1, max: ResourceLimits.maxDimension)
            if let r = try c.present("lora_rank") { throw r.error("LoRA layers are not supported") }
            let bias = try c.required("use_bias").bool()
            // on a sequence, every step gets the same Dense (the last axis), as TimeDistributed(Dense)
            return (kind, .dense(units: units, useBias: bias, activation: try activation(c.required("activation"), keras3: l.keras3)), s.dropLast() + [units])
        case .zeroPadding2D:
            guard s.count == 3 else { throw fail("needs an image input but gets \(Inference.shapeText(s))") }
            let p = try padding(c.required("padding"))
            return (kind, .zeroPadding(top: p[0], bottom: p[1], left: p[2], right: p[3]), [s[0] + p[0] + p[1], s[1] + p[2] + p[3], s[2]])
        case .upSampling2D, .upSampling1D, .zeroPadding1D, .cropping1D, .cropping2D, .repeatVector, .permute:
            return try resampling(kind, l, input: s, fail: fail)
        case .simpleRNN, .lstm, .gru, .bidirectional:
            return try recurrent(kind, l, input: s, fail: fail)
        case .embedding:
            return try embedding(l, input: s, fail: fail)
        case .layerNormalization, .groupNormalization, .rescaling, .normalization:
            return try normalization(kind, l, input: s, fail: fail)
        case .timeDistributed:
            return try timeDistributed(l, input: s, fail: fail)
        case .masking:
            return try masking(l, input: s, fail: fail)
        case .randomFlip, .randomRotation, .randomZoom, .randomTranslation, .randomContrast, .randomBrightness:
            return try augmentation(kind, l, input: s, fail: fail)
        case .resizing, .centerCrop:
            return try resizing(kind, l, input: s, fail: fail)
        case .add, .subtract, .multiply, .average, .maximum, .minimum, .concatenate, .multiHeadAttention:
            throw fail("\(kind == .multiHeadAttention ? "MultiHeadAttention" : "a merge layer") needs the layers feeding it (a Functional model's inbound_nodes); a Sequential model cannot hold one")
        case .lambda:
            if let f = lambda { return (kind, .lambda(f), s) }
            throw l.entry.error("layer '\(l.name)' (Lambda): its function is saved as Python bytecode, which modelc never runs; state it in an annotation file \(l.entry.file.split(separator: "/").last.map(String.init) ?? "MODEL").modelc beside the model file, e.g. `layer \(l.name): standardize mean=0.1307 std=0.3081` (or `affine scale=A offset=B`, `identity`)")
        }
    }

    static func channelsLast(_ c: JNode, _ l: KLayer) throws {
        if let f = try c.present("data_format"), try f.string() != "channels_last" {
            throw f.error("layer '\(l.name)' (\(l.className)): data_format '\(try f.string())' is not supported (channels_last only)")
        }
    }

    static func expectZero(_ c: JNode, _ keys: [String], fail: (String) -> ModelError) throws {
        for k in keys {
            if let n = try c.present(k), try n.float() != 0 { throw n.error("\(k)=\(try n.float()) is not supported (0 only)") }
        }
    }

    static func pool(_ kind: LayerKind, _ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        let c = l.config
        let oneD = kind.isOneD
        guard s.count == (oneD ? 2 : 3) else { throw fail("needs \(oneD ? "a sequence (steps, channels)" : "an image (height, width, channels)") input but gets \(Inference.shapeText(s))") }
        let n = oneD ? 1 : 2
        var p = try c.required("pool_size").ints(n, max: ResourceLimits.maxDimension)
        var st = try c.present("strides")?.ints(n, max: ResourceLimits.maxDimension) ?? p
        let pad = try paddingMode(c.required("padding"), causal: false)
        if oneD { p = [1] + p; st = [1] + st }
        let img = oneD ? [1] + s : s
        let oh = Inference.outDim(img[0], k: p[0], s: st[0], pad), ow = Inference.outDim(img[1], k: p[1], s: st[1], pad)
        guard oh > 0, ow > 0 else { throw fail("a \(oneD ? "\(p[1])" : "\(p[0])x\(p[1])") pool does not fit the input \(Inference.shapeText(s))") }
        let a = PoolAttrs(poolH: p[0], poolW: p[1], strideH: st[0], strideW: st[1], padding: pad)
        let op: Op = kind == .maxPooling2D || kind == .maxPooling1D ? .maxPool(a) : .avgPool(a)
        return (kind, op, oneD ? [ow, s[1]] : [oh, ow, s[2]])
    }

    static func paddingMode(_ n: JNode, causal: Bool) throws -> Padding {
        let v = try n.string()
        switch v {
        case "valid": return .valid
        case "same": return .same
        case "causal" where causal: return .causal
        case "causal": throw n.error("causal padding applies to Conv1D and SeparableConv1D only")
        default: throw n.fail("\"valid\" or \"same\"")
        }
    }

    static func batchNorm(_ c: JNode, rank: Int) throws -> BatchNormAttrs {
        let axis = try c.required("axis")
        let axes: [Int] = try axis.value.isArray ? axis.list().map { try $0.int(min: -8, max: 8) } : [axis.int(min: -8, max: 8)]
        guard axes.count == 1, axes[0] == -1 || axes[0] == rank else {
            throw axis.fail("-1 or \(rank) (normalizing the channels, the last axis)")
        }
        if let n = try c.present("renorm"), try n.bool() { throw n.error("batch renormalization is not supported") }
        if let n = try c.present("virtual_batch_size") { throw n.error("ghost batch normalization (virtual_batch_size) is not supported") }
        return BatchNormAttrs(scale: try c.required("scale").bool(), center: try c.required("center").bool(),
                              epsilon: try c.required("epsilon").float(min: 0, max: 1e6),
                              momentum: try c.required("momentum").float(min: 0, max: 1),
                              unbiasedRunningVariance: false)
    }

    static let activations = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "elu", "leaky_relu", "silu", "swish", "gelu",
                              "hard_sigmoid", "hard_silu", "hard_swish", "selu", "softplus", "softsign", "mish"]

    /// A Keras activation name. `leaky_relu` is Keras 3's function (negative_slope 0.2);
    /// `hard_sigmoid` is relu6(x + 3) / 6 in Keras 3 and clip(0.2 x + 0.5, 0, 1) in Keras 2.
    static func activation(_ n: JNode, keras3: Bool) throws -> Activation {
        guard case .string(let v) = n.value else {
            throw n.fail("an activation name (\(activations.joined(separator: ", "))); custom activation objects are not supported")
        }
        switch v {
        case "linear": return .linear
        case "relu": return .relu
        case "relu6": return .cappedRelu(max: 6)
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "softmax": return .softmax
        case "elu": return .elu(alpha: 1)
        case "leaky_relu": return .leakyRelu(alpha: 0.2)
        case "silu", "swish": return .silu
        case "gelu": return .gelu(tanh: false)   // Keras 2 and 3: approximate=False
        case "hard_sigmoid": return .hardSigmoid(slope: SemanticDefaults.hardSigmoidSlope(kerasThree: keras3), offset: 0.5)
        case "hard_silu", "hard_swish": return .hardSwish
        case "selu": return .selu
        case "softplus": return .softplus
        case "softsign": return .softsign
        case "mish": return .mish
        default: throw n.error("activation '\(v)' is not supported (supported: \(activations.joined(separator: ", ")))")
        }
    }

    /// ZeroPadding2D `padding`: n, [h, w] or [[top, bottom], [left, right]] as [top, bottom, left, right].
    static func padding(_ n: JNode) throws -> [Int] {
        let limit = 1 << 16
        if case .number = n.value { let p = try n.int(max: limit); return [p, p, p, p] }
        let items = try n.list()
        guard items.count == 2 else { throw n.fail("[[top, bottom], [left, right]]") }
        if case .number = items[0].value {
            let h = try items[0].int(max: limit), w = try items[1].int(max: limit)
            return [h, h, w, w]
        }
        let hw = try items.map { try $0.ints(2, min: 0, max: limit) }
        return [hw[0][0], hw[0][1], hw[1][0], hw[1][1]]
    }

    /// Reshape `target_shape` (one entry may be -1) for an input of `s`.
    static func reshape(_ n: JNode, input s: [Int]) throws -> [Int] {
        let dims = try n.list().map { try $0.int(min: -1, max: ResourceLimits.maxDimension) }
        let total = s.reduce(1, *)
        guard !dims.isEmpty, dims.count <= 3, !dims.contains(0), dims.filter({ $0 == -1 }).count <= 1 else {
            throw n.fail("1 to 3 positive sizes, at most one of them -1")
        }
        let known = dims.filter { $0 > 0 }
        guard let k = ResourceLimits.elements(known), total % k == 0, dims.contains(-1) || k == total else {
            throw n.error("cannot reshape \(Inference.shapeText(s)) (\(total) values) to \(Inference.shapeText(dims))")
        }
        return dims.map { $0 == -1 ? total / k : $0 }
    }
}

