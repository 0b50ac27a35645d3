// LayerKinds: the supported Keras layer classes, and the resolution of printed (possibly
// truncated) class names like "(ZeroPaddin", "(Batch", "(Gl" or a bare "(" to candidates.

enum LayerKind: String, CaseIterable, Sendable {
    case inputLayer = "InputLayer"
    case zeroPadding2D = "ZeroPadding2D"
    case conv2D = "Conv2D"
    case separableConv2D = "SeparableConv2D"
    case depthwiseConv2D = "DepthwiseConv2D"
    case batchNormalization = "BatchNormalization"
    case maxPooling2D = "MaxPooling2D"
    case averagePooling2D = "AveragePooling2D"
    case globalAveragePooling2D = "GlobalAveragePooling2D"
    case globalMaxPooling2D = "GlobalMaxPooling2D"
    case activation = "Activation"
    case relu = "ReLU"
    case leakyReLU = "LeakyReLU"
    case softmax = "Softmax"
    case dropout = "Dropout"
    case spatialDropout1D = "SpatialDropout1D", spatialDropout2D = "SpatialDropout2D"
    case flatten = "Flatten"
    case reshape = "Reshape"
    case dense = "Dense"
    case lambda = "Lambda"
    case conv1D = "Conv1D"
    case maxPooling1D = "MaxPooling1D"
    case averagePooling1D = "AveragePooling1D"
    case globalAveragePooling1D = "GlobalAveragePooling1D"
    case globalMaxPooling1D = "GlobalMaxPooling1D"
    case upSampling2D = "UpSampling2D"
    case conv2DTranspose = "Conv2DTranspose"
    case simpleRNN = "SimpleRNN"
    case lstm = "LSTM"
    case gru = "GRU"
    case embedding = "Embedding"
    case bidirectional = "Bidirectional"
    case timeDistributed = "TimeDistributed"
    case masking = "Masking"
    case add = "Add", subtract = "Subtract", multiply = "Multiply", average = "Average"
    case maximum = "Maximum", minimum = "Minimum", concatenate = "Concatenate"
    case separableConv1D = "SeparableConv1D", zeroPadding1D = "ZeroPadding1D", cropping1D = "Cropping1D"
    case cropping2D = "Cropping2D", upSampling1D = "UpSampling1D", repeatVector = "RepeatVector", permute = "Permute"
    case layerNormalization = "LayerNormalization", groupNormalization = "GroupNormalization"
    case rescaling = "Rescaling", normalization = "Normalization"
    case multiHeadAttention = "MultiHeadAttention"
    case randomFlip = "RandomFlip", randomRotation = "RandomRotation", randomZoom = "RandomZoom"
    case randomTranslation = "RandomTranslation", randomContrast = "RandomContrast", randomBrightness = "RandomBrightness"
    case resizing = "Resizing", centerCrop = "CenterCrop"

    /// Other class names Keras versions print for the same layer.
    static let aliases: [String: LayerKind] = [
        "MaxPool2D": .maxPooling2D, "AvgPool2D": .averagePooling2D,
        "GlobalAvgPool2D": .globalAveragePooling2D, "GlobalMaxPool2D": .globalMaxPooling2D,
        "Convolution2D": .conv2D, "SeparableConvolution2D": .separableConv2D,
        "BatchNormalizationV1": .batchNormalization, "BatchNormalizationV2": .batchNormalization,
        "SeparableConv2DV1": .separableConv2D,
        "Convolution1D": .conv1D, "MaxPool1D": .maxPooling1D, "AvgPool1D": .averagePooling1D,
        "GlobalAvgPool1D": .globalAveragePooling1D, "GlobalMaxPool1D": .globalMaxPooling1D,
        "Deconvolution2D": .conv2DTranspose, "Deconv2D": .conv2DTranspose, "Convolution2DTranspose": .conv2DTranspose,
        "SeparableConvolution1D": .separableConv1D,
        "CuDNNLSTM": .lstm, "CuDNNGRU": .gru, "LSTMV1": .lstm, "GRUV1": .gru, "LSTMV2": .lstm, "GRUV2": .gru,
    ]

    /// Default layer-name stems (Keras snake_case of the class) used as evidence for cut type names.
    var nameStems: [String] {
        switch self {
        case .inputLayer: return ["input"]
        case .zeroPadding2D: return ["zero_padding2d", "zeropad"]
        case .conv2D: return ["conv2d", "convolution2d", "conv"]
        case .separableConv2D: return ["separable_conv2d", "sepconv", "separable"]
        case .depthwiseConv2D: return ["depthwise_conv2d", "depthwise", "dwconv"]
        case .batchNormalization: return ["batch_normalization", "batchnorm", "bn"]
        case .maxPooling2D: return ["max_pooling2d", "maxpool", "max_pool"]
        case .averagePooling2D: return ["average_pooling2d", "avg_pool", "avgpool"]
        case .globalAveragePooling2D: return ["global_average_pooling2d", "gap", "global_avg"]
        case .globalMaxPooling2D: return ["global_max_pooling2d", "gmp", "global_max"]
        case .activation: return ["activation"]
        case .relu: return ["re_lu", "relu"]
        case .leakyReLU: return ["leaky_re_lu", "leaky"]
        case .softmax: return ["softmax"]
        case .dropout: return ["dropout"]
        case .spatialDropout1D: return ["spatial_dropout1d"]
        case .spatialDropout2D: return ["spatial_dropout2d"]
        case .flatten: return ["flatten"]
        case .reshape: return ["reshape"]
        case .dense: return ["dense", "fc"]
        case .lambda: return ["lambda"]
        case .conv1D: return ["conv1d", "convolution1d"]
        case .maxPooling1D: return ["max_pooling1d", "max_pool1d", "maxpool1d"]
        case .averagePooling1D: return ["average_pooling1d", "avg_pool1d", "avgpool1d"]
        case .globalAveragePooling1D: return ["global_average_pooling1d", "global_avg_pool1d", "gap1d"]
        case .globalMaxPooling1D: return ["global_max_pooling1d", "global_max_pool1d", "gmp1d"]
        case .upSampling2D: return ["up_sampling2d", "upsampling", "upsample"]
        case .conv2DTranspose: return ["conv2d_transpose", "conv_transpose", "convtranspose", "deconvolution2d", "deconv"]
        case .simpleRNN: return ["simple_rnn", "rnn"]
        case .lstm: return ["lstm"]
        case .gru: return ["gru"]
        case .embedding: return ["embedding", "embed"]
        case .bidirectional: return ["bidirectional", "bi"]
        case .timeDistributed: return ["time_distributed", "td"]
        case .masking: return ["masking", "mask"]
        case .add, .subtract, .multiply, .average, .maximum, .minimum, .concatenate: return [rawValue.lowercased()]
        case .separableConv1D: return ["separable_conv1d", "sepconv1d"]
        case .zeroPadding1D: return ["zero_padding1d"]
        case .cropping1D: return ["cropping1d"]
        case .cropping2D: return ["cropping2d", "crop"]
        case .upSampling1D: return ["up_sampling1d", "upsampling1d"]
        case .repeatVector: return ["repeat_vector", "repeat"]
        case .permute: return ["permute"]
        case .layerNormalization: return ["layer_normalization", "layer_norm", "layernorm", "ln"]
        case .groupNormalization: return ["group_normalization", "group_norm", "groupnorm", "gn"]
        case .rescaling: return ["rescaling", "rescale"]
        case .normalization: return ["normalization", "normalize", "norm"]
        case .multiHeadAttention: return ["multi_head_attention", "mha"]
        case .randomFlip: return ["random_flip"]
        case .randomRotation: return ["random_rotation"]
        case .randomZoom: return ["random_zoom"]
        case .randomTranslation: return ["random_translation"]
        case .randomContrast: return ["random_contrast"]
        case .randomBrightness: return ["random_brightness"]
        case .resizing: return ["resizing", "resize"]
        case .centerCrop: return ["center_crop"]
        }
    }

    /// The order in which ambiguous candidates are tried (most common first).
    static let preference: [LayerKind] = [
        .conv2D, .dense, .batchNormalization, .maxPooling2D, .flatten, .dropout, .activation,
        .relu, .leakyReLU, .globalAveragePooling2D, .averagePooling2D, .globalMaxPooling2D,
        .zeroPadding2D, .separableConv2D, .depthwiseConv2D, .softmax, .reshape, .lambda, .conv1D, .maxPooling1D,
        .globalMaxPooling1D, .globalAveragePooling1D, .averagePooling1D, .upSampling2D, .conv2DTranspose,
        .lstm, .gru, .simpleRNN, .embedding, .bidirectional, .timeDistributed, .masking, .inputLayer,
        .add, .concatenate, .multiply, .average, .subtract, .maximum, .minimum,
        .separableConv1D, .zeroPadding1D, .cropping2D, .cropping1D, .upSampling1D, .repeatVector, .permute,
        .layerNormalization, .rescaling, .normalization, .groupNormalization, .multiHeadAttention,
        .spatialDropout1D, .spatialDropout2D,
        .randomFlip, .randomRotation, .randomZoom, .randomTranslation, .randomContrast, .randomBrightness, .resizing, .centerCrop,
    ]

    static var supportedList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    static func exact(_ name: String) -> LayerKind? { LayerKind(rawValue: name) ?? aliases[name] }

    /// The layers over a sequence [L, C] (computed as the 2-D layer on a 1 x L image).
    var isOneD: Bool {
        [.conv1D, .maxPooling1D, .averagePooling1D, .globalAveragePooling1D, .globalMaxPooling1D,
         .separableConv1D, .zeroPadding1D, .cropping1D, .upSampling1D].contains(self)
    }

    /// Keras's random image layers (ModelcData/ImageAugmentation.swift): identity at inference.
    var isAugmentation: Bool {
        [.randomFlip, .randomRotation, .randomZoom, .randomTranslation, .randomContrast, .randomBrightness].contains(self)
    }

    var isActivationLayer: Bool { self == .activation || self == .relu || self == .leakyReLU || self == .softmax }
}

enum KindResolver {
    struct Resolution {
        /// Candidates in the order to try; one element when the printed name was decisive.
        var kinds: [LayerKind]
        /// How the candidates were chosen (for notes), nil when the name was complete.
        var how: String?
    }

    /// Resolves a row's printed type. Throws the "not supported" error for unknown classes.
    static func resolve(_ row: RawRow, override: LayerKind?, doc: Document) throws -> Resolution {
        let printed = row.typeText
        if row.typeMissing {
            // A row printed without its class (a hand-edited table): Keras's default name for a class
            // ("simple_rnn", "lstm_2") still tells it; any other name does not.
            if let o = override { return Resolution(kinds: [o], how: "kind=\(o.rawValue) from the annotation (the row prints no class)") }
            guard let k = defaultNameKind(row.name) else {
                throw doc.error(row.line, "layer '\(row.name)' has no class name, and '\(row.name)' is not a Keras default layer name that would tell it: expected 'name (Type)' such as '\(row.name) (Dense)', or annotate `layer \(row.name): kind=TYPE`")
            }
            return Resolution(kinds: [k], how: "class \(k.rawValue) from the Keras default name '\(row.name)' (the row prints no class)")
        }
        if let k = tfOperator(row), override == nil || override == k {
            return Resolution(kinds: [k], how: "TFOpLambda '\(row.name)' read as \(k.rawValue) (tf.keras prints `x + y` of two tensors so)")
        }
        if row.typeComplete {
            if let k = LayerKind.exact(printed) {
                if let o = override, o != k {
                    throw doc.error(row.line, "layer '\(row.name)' is printed as \(printed) but annotated kind=\(o.rawValue)")
                }
                return Resolution(kinds: [k], how: nil)
            }
            if let k = caseInsensitive(printed, complete: true).first, override == nil || override == k {
                return Resolution(kinds: [k], how: "class '\(printed)' read as \(k.rawValue) (only the letter case differs)")
            }
            // "(Batch)": no class, but the start of supported ones, closed by hand after a cut.
            guard printed.count >= 4, LayerKind.preference.contains(where: { $0.rawValue.hasPrefix(printed) }) else {
                throw unsupported(row, shown: printed, doc: doc)
            }
        }
        var matches: [LayerKind] = []
        for k in LayerKind.preference where k.rawValue.hasPrefix(printed) {
            matches.append(k)
        }
        for (alias, k) in LayerKind.aliases where alias.hasPrefix(printed) && !matches.contains(k) {
            matches.append(k)
        }
        let folded = matches.isEmpty && printed.count >= 3
        if folded { matches = caseInsensitive(printed, complete: false) }
        if let o = override {
            guard matches.contains(o) else {
                throw doc.error(row.line, "layer '\(row.name)': annotated kind=\(o.rawValue) does not start with the printed '(\(printed)'")
            }
            return Resolution(kinds: [o], how: "kind=\(o.rawValue) from the annotation")
        }
        if matches.isEmpty { throw unsupported(row, shown: printed + "…", doc: doc) }
        let cut = "(\(printed)" + (printed.isEmpty ? "" : "…")
        if matches.count == 1 {
            if folded { return Resolution(kinds: matches, how: "type \(cut) read as \(matches[0].rawValue) (only the letter case differs)") }
            if row.typeComplete { return Resolution(kinds: matches, how: "type (\(printed)) is no class: read as cut short and completed to \(matches[0].rawValue)") }
            return Resolution(kinds: matches, how: printed.count >= 3 ? nil : "type \(cut) completed to \(matches[0].rawValue)")
        }
        // Several classes: the row's shapes and count choose (IR/CutLayerTypes.swift); the one the
        // layer's name names goes first.
        if let k = namedKind(row.name, among: matches) { matches = [k] + matches.filter { $0 != k } }
        return Resolution(kinds: matches, how: "type \(cut) is cut short; \(matches.count) classes start with it")
    }

    /// The class among `kinds` whose Keras default name `name` starts with; the longest matching
    /// stem wins ("global_average_pooling2d" over "global_avg", "conv2d" over "conv").
    static func namedKind(_ name: String, among kinds: [LayerKind]) -> LayerKind? {
        let lname = name.lowercased()
        var best: (LayerKind, Int)?
        for k in kinds {
            for stem in k.nameStems where lname.hasPrefix(stem) {
                if let b = best, b.1 >= stem.count { continue }
                best = (k, stem.count)
            }
        }
        return best?.0
    }

    /// Classes (or aliases) equal to `printed`, or starting with it when it was cut, ignoring
    /// letter case (a hand-edited "(MaXPooling1D)").
    static func caseInsensitive(_ printed: String, complete: Bool) -> [LayerKind] {
        let p = printed.lowercased()
        func fits(_ name: String) -> Bool { complete ? name.lowercased() == p : name.lowercased().hasPrefix(p) }
        var out = LayerKind.preference.filter { fits($0.rawValue) }
        for (alias, k) in LayerKind.aliases.sorted(by: { $0.key < $1.key }) where fits(alias) && !out.contains(k) { out.append(k) }
        return out
    }

    /// The class whose Keras default name `name` is: its snake_case stem, alone or with a `_N` suffix.
    static func defaultNameKind(_ name: String) -> LayerKind? {
        var stem = Substring(name)
        if let u = name.lastIndex(of: "_") {
            let suffix = name[name.index(after: u)...]
            if !suffix.isEmpty, suffix.allSatisfy({ $0.isASCII && $0.isNumber }) { stem = name[..<u] }
        }
        let kinds = LayerKind.allCases.filter { $0.nameStems.first == String(stem) }
        return kinds.count == 1 ? kinds[0] : nil
    }

    /// The merge a tf.keras 2 TFOpLambda row computes, from its name: `x + y` of two tensors
    /// prints as `tf.__operators__.add (TFOpLambda)` (`tf.math.add`, `_1`, `_2`... for later
    /// calls), likewise subtract and multiply. One input (a constant operand) leaves the merge
    /// with one input, refused where the graph is built; any other TFOpLambda stays unsupported.
    static func tfOperator(_ row: RawRow) -> LayerKind? {
        let cls = printedClass(row.typeText)
        guard cls.count >= 4, "TFOpLambda".hasPrefix(cls) || cls == "TFOpLambda" else { return nil }
        let ops: [(String, LayerKind)] = [("tf.__operators__.add", .add), ("tf.math.add", .add), ("tf.math.subtract", .subtract),
                                          ("tf.__operators__.sub", .subtract), ("tf.math.multiply", .multiply), ("tf.__operators__.mul", .multiply)]
        return ops.first { op in
            row.name == op.0 || (row.name.hasPrefix(op.0 + "_") && row.name.dropFirst(op.0.count + 1).allSatisfy(\.isNumber))
        }?.1
    }

    /// A printed class name without the `…` that marks it cut.
    static func printedClass(_ shown: String) -> String { shown.hasSuffix("…") ? String(shown.dropLast()) : shown }

    static func unsupported(_ row: RawRow, shown: String, doc: Document) -> ModelError {
        if NestedModels.isModelClass(printedClass(shown), complete: false) {
            return NestedModels.collapsedError(row, doc: doc)
        }
        return doc.error(row.line, "layer '\(row.name)' (\(shown)) is not supported (supported: \(LayerKind.supportedList))")
    }
}
