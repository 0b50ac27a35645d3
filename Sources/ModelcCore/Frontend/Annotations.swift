// Annotations: what a summary table cannot show (activations inside Conv2D/Dense, dropout
// rates, LeakyReLU slopes, Lambda functions, input scaling, dataset, classes, training
// settings), plus overrides for hyperparameters inference would otherwise choose.
//
// Syntax (README "Model files"): a fenced code block with info string `modelc`, or an HTML
// comment `<!-- modelc ... -->`. One directive per line, `#` starts a comment:
//   model: name=ID          dataset: NAME          classes: a, b, c
//   input: scale=1/255 offset=0 shape=28x28x1 [data_format=channels_first]
//   layer GLOB: key=value ... [standardize|affine|identity]   (Rescaling: scale=1/255 offset=0)
//   train: optimizer=adam lr=0.001 batch=128 epochs=30 ...
//   head NAME: loss=mse weight=0.5      (a model with several outputs; IR/ModelHeads.swift)

struct Pair: Equatable { var h: Int; var w: Int }

struct LayerOverrides: Equatable {
    var kind: LayerKind?
    var kernel: Pair?
    var stride: Pair?
    var padding: Padding?
    var bias: Bool?
    var pool: Pair?
    /// UpSampling2D factors.
    var size: Pair?
    var depthMultiplier: Int?
    var dilation: Int?
    var scale: Bool?
    var center: Bool?
    var pad: [Int]?              // top, bottom, left, right
    var target: [Int]?
    var activation: Activation?
    var rate: Float?
    var alpha: Float?
    var lambda: LambdaFunction?
    var epsilon: Float?
    var momentum: Float?
    /// Bidirectional: the merge mode and the layer inside.
    var merge: BidirectionalMerge?
    var cell: LayerKind?
    /// Cropping1D/2D amounts (top, bottom, left, right), UpSampling2D bilinear interpolation,
    /// Conv2DTranspose output padding, Permute dims (1-based), RepeatVector n.
    var crop: [Int]?
    var bilinear: Bool?
    var outputPadding: Pair?
    var dims: [Int]?
    var repeats: Int?
    /// PyTorch bilinear Upsample: align_corners (false is the only one computed).
    var alignCorners: Bool?
    /// PyTorch pools: ceil_mode, and AvgPool's count_include_pad (its repr prints neither).
    var ceilMode: Bool?
    var countIncludePad: Bool?
    /// A Keras table's ReLU row: max_value (the table does not print it).
    var maxValue: Float?
    /// Rescaling: y = x * scale + offset (`scale=1/255 offset=0`).
    var rescaleScale: Float?
    var rescaleOffset: Float?
    /// GroupNormalization / GroupNorm: the number of groups (a table does not show it).
    var groups: Int?
    /// MultiHeadAttention: num_heads, key_dim, value_dim, output_shape, use_causal_mask and its
    /// attention dropout (`rate=`), none of which a table prints.
    var heads: Int?
    var keyDim: Int?
    var valueDim: Int?
    var outputDim: Int?
    var causal: Bool?
    /// A PyTorch recurrent module: what forward() keeps of its output.
    var output: TorchRecurrentOutput?
    /// TimeDistributed: the layer it wraps.
    var wrapped: LayerKind?
    /// Masking: mask_value; Embedding: mask_zero (neither is printed by a table).
    var maskValue: Float?
    var maskZero: Bool?
    /// LSTM and GRU: "sigmoid" or "hard_sigmoid" gates (a table does not print it; IR/RecurrentGates.swift).
    var recurrentActivation: String?
    /// SimpleRNN, LSTM and GRU: the in-cell dropout's rates and Keras's implementation (1: a mask
    /// per gate), which a table does not print (IR/RecurrentCellDropout.swift).
    var dropout: Float?
    var recurrentDropout: Float?
    var implementation: Int?
    /// The in-cell dropout's keys this sets, in the annotation's spelling.
    var cellDropoutKeys: [String] {
        [("dropout", dropout != nil), ("recurrent_dropout", recurrentDropout != nil), ("implementation", implementation != nil)].filter(\.1).map(\.0)
    }
    /// Keras's random image layers (Frontend/AugmentationKeys.swift).
    var augment = AugmentOverrides()
    /// A PyTorch container named like a residual block: `residual=false` says forward() runs it as
    /// a plain chain (PyTorchKnownBlocks.residualByName).
    var residual: Bool?

    mutating func merge(_ o: LayerOverrides) {
        kind = o.kind ?? kind; kernel = o.kernel ?? kernel; stride = o.stride ?? stride
        padding = o.padding ?? padding; bias = o.bias ?? bias; pool = o.pool ?? pool; size = o.size ?? size
        depthMultiplier = o.depthMultiplier ?? depthMultiplier; dilation = o.dilation ?? dilation; scale = o.scale ?? scale
        center = o.center ?? center; pad = o.pad ?? pad; target = o.target ?? target
        activation = o.activation ?? activation; rate = o.rate ?? rate; alpha = o.alpha ?? alpha
        lambda = o.lambda ?? lambda; epsilon = o.epsilon ?? epsilon; momentum = o.momentum ?? momentum
        merge = o.merge ?? merge; cell = o.cell ?? cell; output = o.output ?? output; wrapped = o.wrapped ?? wrapped
        maskValue = o.maskValue ?? maskValue; maskZero = o.maskZero ?? maskZero
        recurrentActivation = o.recurrentActivation ?? recurrentActivation
        dropout = o.dropout ?? dropout; recurrentDropout = o.recurrentDropout ?? recurrentDropout
        implementation = o.implementation ?? implementation
        crop = o.crop ?? crop; bilinear = o.bilinear ?? bilinear; outputPadding = o.outputPadding ?? outputPadding
        dims = o.dims ?? dims; repeats = o.repeats ?? repeats; alignCorners = o.alignCorners ?? alignCorners
        ceilMode = o.ceilMode ?? ceilMode; countIncludePad = o.countIncludePad ?? countIncludePad; maxValue = o.maxValue ?? maxValue
        rescaleScale = o.rescaleScale ?? rescaleScale; rescaleOffset = o.rescaleOffset ?? rescaleOffset; groups = o.groups ?? groups
        heads = o.heads ?? heads; keyDim = o.keyDim ?? keyDim; valueDim = o.valueDim ?? valueDim
        outputDim = o.outputDim ?? outputDim; causal = o.causal ?? causal
        augment.merge(o.augment)
        residual = o.residual ?? residual
    }
}

struct LayerDirective {
    var pattern: String
    var line: Int
    var overrides: LayerOverrides

    func matches(_ name: String) -> Bool { Glob.match(pattern, name) }
}

struct Annotations {
    var blockLines: Set<Int> = []
    var name: String?
    var nameLine: Int?
    var dataset: String?
    var datasetLine: Int?
    var classes: [String]?
    var classesLine: Int?
    var inputScale: Float?
    var inputOffset: Float?
    var inputShape: [Int]?
    var inputLine: Int?
    /// The line giving `input: scale=` or `offset=` (the last one).
    var inputScaleLine: Int?
    /// `input: data_format=channels_first|channels_last`: how a Keras table's image shapes are ordered.
    var dataFormat: DataFormat?
    var training = TrainingConfig()
    /// Training keys given explicitly.
    var trainingKeys: Set<String> = []
    var layers: [LayerDirective] = []
    /// `head NAME: loss=KIND weight=W` (IR/ModelHeads.swift).
    var heads: [HeadDirective] = []
    /// PyTorch `forward:` call order (module names and functional calls), one token each.
    var forward: [String]?
    var forwardLine: Int?
    /// `nested NAME: Class ...; Class ...`: a nested model's layers (Frontend/NestedBlocks.swift).
    var nested: [NestedDirective] = []

    func overrides(for layerName: String) -> LayerOverrides {
        var o = LayerOverrides()
        for d in layers where d.matches(layerName) { o.merge(d.overrides) }
        return o
    }

    /// The line of the first directive for the layer with a setting `sets` holds (nil: none).
    func line(of layerName: String, setting sets: (LayerOverrides) -> Bool) -> Int? {
        layers.first { $0.matches(layerName) && sets($0.overrides) }?.line
    }

    /// The settings of the directives that name the layer without a glob (`layer pool1:`, not
    /// `layer *:`), which must apply to it; a glob's may not.
    func namedOverrides(for layerName: String) -> LayerOverrides {
        var o = LayerOverrides()
        for d in layers where d.matches(layerName) && !d.pattern.contains("*") { o.merge(d.overrides) }
        return o
    }
}

enum Glob {
    /// '*' matches any run of characters; everything else literally.
    static func match(_ pattern: String, _ s: String) -> Bool {
        let p = Array(pattern), t = Array(s)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != "*", p[pi] == t[ti] { pi += 1; ti += 1; continue }
            if pi < p.count, p[pi] == "*" { star = pi; mark = ti; pi += 1; continue }
            if star >= 0 { pi = star + 1; mark += 1; ti = mark; continue }
            return false
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

enum AnnotationParser {
    static let datasets = ["mnist", "fashion-mnist", "kmnist", "kannada-mnist", "dig-mnist", "cifar10"]

    /// A sidecar annotation file (`model.keras.modelc`, beside a model file): every line is a
    /// directive, as inside a ```modelc block.
    static func parseSidecar(_ doc: Document) throws -> Annotations {
        var ann = Annotations()
        for (i, line) in doc.lines.enumerated() { try directive(line, line: i + 1, doc: doc, into: &ann) }
        return ann
    }

    static func parse(_ doc: Document) throws -> Annotations {
        var ann = Annotations()
        var i = 0
        while i < doc.lines.count {
            let t = doc.lines[i].trimmed
            var body: [(Int, String)] = []
            if t.hasPrefix("```modelc") || t.hasPrefix("~~~modelc") {
                let info = t.dropFirst(3).trimmed
                guard info == "modelc" || info.hasPrefix("modelc ") else { i += 1; continue }
                let fence = String(t.prefix(3))
                ann.blockLines.insert(i + 1)
                var j = i + 1
                var closed = false
                while j < doc.lines.count {
                    ann.blockLines.insert(j + 1)
                    if doc.lines[j].trimmed.hasPrefix(fence) { closed = true; break }
                    body.append((j + 1, doc.lines[j]))
                    j += 1
                }
                guard closed else { throw doc.error(i + 1, "the ```modelc block is not closed (expected a line \(fence))") }
                i = j + 1
            } else if t.hasPrefix("<!-- modelc") || t.hasPrefix("<!--modelc") {
                var first = String(t.dropFirst(t.hasPrefix("<!-- ") ? 11 : 10))
                var j = i
                var closed = false
                while j < doc.lines.count {
                    ann.blockLines.insert(j + 1)
                    var text = j == i ? first : doc.lines[j]
                    if let r = text.range(of: "-->") {
                        text = String(text[..<r.lowerBound]); closed = true
                    }
                    body.append((j + 1, text))
                    if closed { break }
                    j += 1
                }
                first = ""
                guard closed else { throw doc.error(i + 1, "the <!-- modelc comment is not closed (expected -->)") }
                i = j + 1
            } else {
                i += 1
                continue
            }
            for (line, text) in body { try directive(text, line: line, doc: doc, into: &ann) }
        }
        return ann
    }

    static func directive(_ raw: String, line: Int, doc: Document, into ann: inout Annotations) throws {
        var text = raw
        if let h = text.firstIndex(of: "#") { text = String(text[..<h]) }
        text = text.trimmed
        if text.isEmpty { return }
        guard let colon = text.firstIndex(of: ":") else {
            throw doc.error(line, "annotation '\(text)': expected 'KEY: VALUES' (model:, dataset:, classes:, input:, layer NAME:, train:)")
        }
        let head = text[..<colon].trimmed
        let rest = String(text[text.index(after: colon)...]).trimmed
        let words = head.split(separator: " ").map(String.init)
        func err(_ m: String) -> ModelError { doc.error(line, m) }
        switch words.first ?? "" {
        case "model":
            guard words.count == 1 else { throw err("expected 'model: name=ID'") }
            for (k, v) in try tokens(rest, line: line, doc: doc) {
                guard k == "name", let v else { throw err("unknown model key '\(k)' (expected name=ID)") }
                guard !v.isEmpty, v.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !(v.first?.isNumber ?? true) else {
                    throw err("model name '\(v)' must be an identifier (letters, digits, _; not starting with a digit)")
                }
                ann.name = v; ann.nameLine = line
            }
        case "dataset":
            guard words.count == 1, datasets.contains(rest) else {
                throw err("unknown dataset '\(rest)' (expected one of: \(datasets.joined(separator: ", ")))")
            }
            ann.dataset = rest; ann.datasetLine = line
        case "classes":
            let names = rest.split(separator: ",").map { String($0).trimmed }
            guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
                throw err("classes: expected a comma-separated list of names, found '\(rest)'")
            }
            ann.classes = names; ann.classesLine = line
        case "input":
            ann.inputLine = line
            for (k, v) in try tokens(rest, line: line, doc: doc) {
                guard let v else { throw err("input: expected key=value, found '\(k)'") }
                switch k {
                case "scale": ann.inputScale = try number(v, k, line, doc); ann.inputScaleLine = line
                case "offset": ann.inputOffset = try number(v, k, line, doc); ann.inputScaleLine = line
                case "shape":
                    let dims = v.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
                    guard !dims.isEmpty, dims.count <= 3, dims.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 4096 }) else {
                        throw err("input shape '\(v)': expected HxWxC (e.g. 28x28x1) or N")
                    }
                    ann.inputShape = dims.compactMap { $0 }
                case "data_format", "image_dim_ordering":
                    let aliases = ["th": "channels_first", "tf": "channels_last"]
                    guard let f = DataFormat(rawValue: aliases[v] ?? v) else {
                        throw err("input \(k)=\(v): expected channels_first or channels_last (Keras 1: th or tf)")
                    }
                    ann.dataFormat = f
                default: throw err("unknown input key '\(k)' (expected scale=, offset=, shape=, data_format=)")
                }
            }
        case "train":
            try trainDirective(rest, line: line, doc: doc, into: &ann)
        case "forward":
            guard words.count == 1 else { throw err("expected 'forward: STEP STEP ...' (module names and calls like relu, maxpool(2), flatten)") }
            var steps: [String] = []
            var cur = ""
            var depth = 0
            for ch in rest {
                if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
                if depth == 0 && (ch == " " || ch == "\t" || ch == ",") {
                    if !cur.isEmpty { steps.append(cur); cur = "" }
                    continue
                }
                if ch != " " { cur.append(ch) }
            }
            if !cur.isEmpty { steps.append(cur) }
            guard depth == 0, !steps.isEmpty else { throw err("forward: unbalanced parentheses or no steps in '\(rest)'") }
            if ann.forwardLine != nil { ann.forward = (ann.forward ?? []) + steps } else { ann.forward = steps }
            ann.forwardLine = ann.forwardLine ?? line
        case "head":
            ann.heads.append(try ModelHeads.directive(words, rest, line: line, doc: doc))
        case "nested":
            ann.nested.append(try NestedBlocks.directive(words, rest, line: line, doc: doc))
        case "layer":
            guard words.count == 2 else { throw err("expected 'layer NAME: key=value ...' (NAME may use * globs)") }
            let o = try layerOverrides(rest, line: line, doc: doc)
            ann.layers.append(LayerDirective(pattern: words[1], line: line, overrides: o))
        default:
            throw err("unknown annotation '\(head)' (expected model:, dataset:, classes:, input:, layer NAME:, nested NAME:, head NAME:, train:, forward:)")
        }
    }

    /// "a=1 b=2 word" → [(a, 1), (b, 2), (word, nil)].
    static func tokens(_ s: String, line: Int, doc: Document) throws -> [(String, String?)] {
        try s.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { tok in
            let t = String(tok)
            guard let eq = t.firstIndex(of: "=") else { return (t, nil) }
            let k = String(t[..<eq]), v = String(t[t.index(after: eq)...])
            guard !k.isEmpty, !v.isEmpty else { throw doc.error(line, "malformed token '\(t)': expected key=value") }
            return (k, v)
        }
    }

    static func number(_ v: String, _ key: String, _ line: Int, _ doc: Document) throws -> Float {
        if let slash = v.firstIndex(of: "/") {
            if let a = Double(v[..<slash]), let b = Double(v[v.index(after: slash)...]), b != 0, a.isFinite {
                return Float(a / b)
            }
        } else if let d = Double(v), d.isFinite {
            return Float(d)
        }
        throw doc.error(line, "\(key)=\(v): expected a number (e.g. 0.001, 1e-3, 1/255)")
    }

    static func integer(_ v: String, _ key: String, _ line: Int, _ doc: Document, min: Int = 0, max: Int = 1 << 30) throws -> Int {
        guard let n = Int(v), n >= min, n <= max else {
            throw doc.error(line, "\(key)=\(v): expected an integer >= \(min)" + (max < 1 << 30 ? " and <= \(max)" : ""))
        }
        return n
    }

    static func bool(_ v: String, _ key: String, _ line: Int, _ doc: Document) throws -> Bool {
        switch v.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw doc.error(line, "\(key)=\(v): expected true or false")
        }
    }

    static func pair(_ v: String, _ key: String, _ line: Int, _ doc: Document) throws -> Pair {
        let parts = v.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        let ok = { (x: Int) in x > 0 && x <= 1024 }
        if parts.count == 1, let a = parts[0], ok(a) { return Pair(h: a, w: a) }
        if parts.count == 2, let a = parts[0], let b = parts[1], ok(a), ok(b) { return Pair(h: a, w: b) }
        throw doc.error(line, "\(key)=\(v): expected N or HxW with integers from 1 to 1024 (e.g. 3x3, 4x1)")
    }

    /// `pad=` / `crop=` amounts: P, H,W or TOP,BOTTOM,LEFT,RIGHT as [top, bottom, left, right]
    /// (a 1-D layer reads P or LEFT,RIGHT: OneDInference).
    static func amounts(_ v: String, _ key: String, _ line: Int, _ doc: Document) throws -> [Int] {
        let parts = v.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.allSatisfy({ ($0 ?? -1) >= 0 && ($0 ?? 0) <= 4096 }), [1, 2, 4].contains(parts.count) else {
            throw doc.error(line, "\(key)=\(v): expected P, H,W or TOP,BOTTOM,LEFT,RIGHT (non-negative integers; 1-D layers: P or LEFT,RIGHT)")
        }
        let p = parts.compactMap { $0 }
        return p.count == 1 ? [p[0], p[0], p[0], p[0]] : p.count == 2 ? [p[0], p[0], p[1], p[1]] : p
    }

    static let activationNames = "linear, relu, relu6, leaky_relu, sigmoid, tanh, softmax, elu, silu (swish), gelu, gelu_tanh, "
        + "hard_sigmoid, hard_swish (hard_silu), selu, softplus, softsign, mish"

    static func activation(_ v: String, alpha: Float?, _ line: Int, _ doc: Document) throws -> Activation {
        switch v.lowercased() {
        case "linear", "none": return .linear
        case "relu": return .relu
        // Keras's activation function leaky_relu has slope 0.2 (its LeakyReLU layer 0.3, SemanticDefaults).
        case "leaky_relu", "leakyrelu": return .leakyRelu(alpha: alpha ?? 0.2)
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "softmax": return .softmax
        case "elu": return .elu(alpha: alpha ?? 1.0)
        case "relu6": return .cappedRelu(max: 6)
        case "silu", "swish": return .silu
        case "gelu": return .gelu(tanh: false)
        case "gelu_tanh": return .gelu(tanh: true)
        // relu6(x + 3) / 6, PyTorch's and Keras 3's; a Keras 2 table's is 0.2 x + 0.5 (IRBuilder).
        case "hard_sigmoid", "hardsigmoid": return .hardSigmoid(slope: 1 / 6, offset: 0.5)
        case "hard_swish", "hard_silu", "hardswish": return .hardSwish
        case "selu": return .selu
        case "softplus": return .softplus
        case "softsign": return .softsign
        case "mish": return .mish
        default:
            throw doc.error(line, "activation=\(v): expected one of \(activationNames)")
        }
    }

    /// A Lambda's function word and the numbers and activation collected with it.
    struct LambdaParts {
        var kind: String?, mean: Float?, std: Float?, scale: Float?, offset: Float?, activation: String?
    }

    static func layerOverrides(_ s: String, line: Int, doc: Document) throws -> LayerOverrides {
        var o = LayerOverrides()
        let toks = try tokens(s, line: line, doc: doc)
        var parts = LambdaParts()
        for (b, value) in toks where value == nil {
            guard ["standardize", "affine", "identity"].contains(b), parts.kind == nil else {
                throw doc.error(line, "unexpected word '\(b)' (Lambda functions: standardize mean= std= | affine scale= offset= | identity; everything else is key=value)")
            }
            parts.kind = b
        }
        for (k, value) in toks {
            guard let v = value else { continue }
            if try sequenceKey(k, v, &o, line, doc) { continue }
            if try shapeKey(k, v, &o, line, doc) { continue }
            if try valueKey(k, v, &o, &parts, line, doc) { continue }
            if try augmentKey(k, v, &o, line, doc) { continue }
            throw doc.error(line, "unknown layer key '\(k)' (expected kind, kernel, stride, padding, bias, dilation, pool, size, interpolation, depth_multiplier, scale, center, groups, pad, ceil_mode, count_include_pad, max_value, crop, output_padding, dims, n, align_corners, heads, key_dim, value_dim, output_shape, causal, target, activation, rate, alpha, epsilon, momentum, mean, std, offset, mode, factor, height_factor, width_factor, fill_mode, fill_value, value_range)")
        }
        if let a = parts.activation { o.activation = try activation(a, alpha: o.alpha, line, doc) }
        try finishLambda(parts, &o, line, doc)
        return o
    }

    /// Layer class, Bidirectional merge and cell, TimeDistributed's layer, masks, PyTorch outputs.
    static func sequenceKey(_ k: String, _ v: String, _ o: inout LayerOverrides, _ line: Int, _ doc: Document) throws -> Bool {
        switch k {
        case "kind":
            guard let kind = LayerKind.exact(v) else {
                throw doc.error(line, "kind=\(v): not a supported layer class (supported: \(LayerKind.supportedList))")
            }
            o.kind = kind
        case "merge", "merge_mode":
            guard let m = BidirectionalMerge(rawValue: v) else { throw doc.error(line, "merge=\(v): expected concat, sum, mul or ave") }
            o.merge = m
        case "mask_value": o.maskValue = try number(v, k, line, doc)
        case "mask_zero": o.maskZero = try bool(v, k, line, doc)
        case "recurrent_activation":
            guard ["sigmoid", "hard_sigmoid"].contains(v) else { throw doc.error(line, "recurrent_activation=\(v): expected sigmoid or hard_sigmoid") }
            o.recurrentActivation = v
        case "dropout", "recurrent_dropout":
            let r = try number(v, k, line, doc)
            guard r >= 0 && r < 1 else { throw doc.error(line, "\(k)=\(v): expected a rate in [0, 1)") }
            if k == "dropout" { o.dropout = r } else { o.recurrentDropout = r }
        case "implementation":
            guard v == "1" || v == "2" else { throw doc.error(line, "implementation=\(v): expected 1 (a dropout mask per gate) or 2 (one for all)") }
            o.implementation = Int(v)
        case "residual":
            guard try !bool(v, k, line, doc) else {
                throw doc.error(line, "residual=true: a residual block (forward adds its input) is not supported; residual=false says the module runs as a plain chain")
            }
            o.residual = false
        case "output":
            guard let r = TorchRecurrentOutput(rawValue: v) else {
                throw doc.error(line, "output=\(v): expected last (out[:, -1]), hidden (h_n, the final states) or sequence (out)")
            }
            o.output = r
        case "layer" where LayerKind.exact(v).map({ ![.lstm, .gru, .simpleRNN].contains($0) }) ?? false:
            o.wrapped = LayerKind.exact(v)   // inside a TimeDistributed
        case "cell", "layer":
            guard let c = LayerKind.exact(v), [.lstm, .gru, .simpleRNN].contains(c) else {
                throw doc.error(line, "cell=\(v): expected LSTM, GRU or SimpleRNN (the layer inside a Bidirectional)")
            }
            o.cell = c
        default: return false
        }
        return true
    }

    /// Kernels, strides, pools, paddings, crops, sizes and the like.
    static func shapeKey(_ k: String, _ v: String, _ o: inout LayerOverrides, _ line: Int, _ doc: Document) throws -> Bool {
        switch k {
        case "kernel": o.kernel = try pair(v, k, line, doc)
        case "stride", "strides": o.stride = try pair(v, k, line, doc)
        case "pool", "pool_size": o.pool = try pair(v, k, line, doc)
        case "padding":
            guard let p = Padding(rawValue: v) else { throw doc.error(line, "padding=\(v): expected same, valid or causal (Conv1D)") }
            o.padding = p
        case "size": o.size = try pair(v, k, line, doc)
        case "interpolation":
            guard v == "nearest" || v == "bilinear" else {
                throw doc.error(line, "interpolation=\(v): expected nearest or bilinear")
            }
            o.bilinear = v == "bilinear"
        case "crop", "cropping": o.crop = try amounts(v, k, line, doc)
        case "output_padding":
            let parts = v.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard [1, 2].contains(parts.count), let a = parts[0], let b = parts[parts.count - 1], a >= 0, b >= 0, a < 64, b < 64 else {
                throw doc.error(line, "output_padding=\(v): expected N or HxW with integers from 0 to 63 (below the stride)")
            }
            o.outputPadding = Pair(h: a, w: b)
        case "dims":
            let d = v.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...3).contains(d.count), d.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= d.count }), Set(d.compactMap { $0 }).count == d.count else {
                throw doc.error(line, "dims=\(v): expected a permutation of 1...N (Keras Permute dims, 1-based, without the batch axis), e.g. 2,1")
            }
            o.dims = d.compactMap { $0 }
        case "n", "repeats": o.repeats = try integer(v, k, line, doc, min: 1, max: 1 << 16)
        case "align_corners":
            guard try !bool(v, k, line, doc) else { throw doc.error(line, "align_corners=\(v): only align_corners=false (PyTorch's default) is supported") }
            o.alignCorners = false
        case "bias", "use_bias": o.bias = try bool(v, k, line, doc)
        case "ceil_mode": o.ceilMode = try bool(v, k, line, doc)
        case "max_value":
            let m = try number(v, k, line, doc)
            guard m > 0, m <= 1e6 else { throw doc.error(line, "max_value=\(v): expected a number above 0 (a ReLU's cap)") }
            o.maxValue = m
        case "count_include_pad": o.countIncludePad = try bool(v, k, line, doc)
        case "depth_multiplier", "multiplier": o.depthMultiplier = try integer(v, k, line, doc, min: 1, max: 1024)
        case "dilation", "dilation_rate": o.dilation = try integer(v, k, line, doc, min: 1, max: 64)
        case "pad": o.pad = try amounts(v, k, line, doc)
        case "target", "shape":
            let dims = v.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard dims.count <= 3, dims.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 4096 }) else { throw doc.error(line, "\(k)=\(v): expected e.g. 7x7x64") }
            o.target = dims.compactMap { $0 }
        default: return false
        }
        return true
    }

    /// Numbers and flags: normalization, dropout, activation, and a Lambda's numbers.
    static func valueKey(_ k: String, _ v: String, _ o: inout LayerOverrides, _ parts: inout LambdaParts,
                         _ line: Int, _ doc: Document) throws -> Bool {
        switch k {
        case "center": o.center = try bool(v, k, line, doc)
        case "scale":
            if parts.kind == "affine" { parts.scale = try number(v, k, line, doc) } else {
                // true/false: BatchNormalization's or LayerNormalization's gamma; a number: Rescaling's factor.
                o.scale = try? bool(v, k, line, doc)
                o.rescaleScale = try? number(v, k, line, doc)
                guard o.scale != nil || o.rescaleScale != nil else {
                    throw doc.error(line, "scale=\(v): expected true or false (gamma of a normalization layer) or a number such as 1/255 (Rescaling)")
                }
            }
        case "groups": o.groups = try integer(v, k, line, doc, min: 1, max: 65536)
        case "heads", "num_heads": o.heads = try integer(v, k, line, doc, min: 1, max: 4096)
        case "key_dim": o.keyDim = try integer(v, k, line, doc, min: 1, max: 65536)
        case "value_dim": o.valueDim = try integer(v, k, line, doc, min: 1, max: 65536)
        case "output_shape": o.outputDim = try integer(v, k, line, doc, min: 1, max: 1 << 20)
        case "causal", "use_causal_mask": o.causal = try bool(v, k, line, doc)
        case "offset": parts.offset = try number(v, k, line, doc)
        case "mean": parts.mean = try number(v, k, line, doc)
        case "std":
            let x = try number(v, k, line, doc)
            guard x > 0 else { throw doc.error(line, "std=\(v): must be > 0") }
            parts.std = x
        case "activation": parts.activation = v
        case "rate":
            let r = try number(v, k, line, doc)
            guard r >= 0, r < 1 else { throw doc.error(line, "rate=\(v): expected 0 <= rate < 1") }
            o.rate = r
        case "alpha", "negative_slope":
            let a = try number(v, k, line, doc)
            guard a >= 0 else { throw doc.error(line, "\(k)=\(v): must be >= 0 (a negative slope is not supported)") }
            o.alpha = a
        case "epsilon", "eps":
            let e = try number(v, k, line, doc)
            guard e > 0 else { throw doc.error(line, "epsilon=\(v): must be > 0") }
            o.epsilon = e
        case "momentum":
            let m = try number(v, k, line, doc)
            guard m >= 0, m < 1 else { throw doc.error(line, "momentum=\(v): expected 0 <= momentum < 1") }
            o.momentum = m
        default: return false
        }
        return true
    }

    static func finishLambda(_ parts: LambdaParts, _ o: inout LayerOverrides, _ line: Int, _ doc: Document) throws {
        switch parts.kind {
        case "standardize":
            guard let m = parts.mean, let s = parts.std else { throw doc.error(line, "standardize needs mean= and std=") }
            o.lambda = .standardize(mean: m, std: s)
        case "affine":
            o.lambda = .affine(scale: parts.scale ?? 1, offset: parts.offset ?? 0)
        case "identity":
            o.lambda = .identity
        default:
            if parts.mean != nil || parts.std != nil {
                throw doc.error(line, "mean=/std= belong to a Lambda function: write 'standardize mean=M std=S' or 'affine scale=A offset=B'")
            }
            o.rescaleOffset = parts.offset
        }
    }

    static func trainDirective(_ s: String, line: Int, doc: Document, into ann: inout Annotations) throws {
        var t = ann.training
        var rho: Float?
        for (k, value) in try tokens(s, line: line, doc: doc) {
            guard let v = value else { throw doc.error(line, "train: expected key=value, found '\(k)'") }
            ann.trainingKeys.insert(k)
            switch k {
            case "optimizer":
                guard let o = OptimizerKind(rawValue: v) else {
                    throw doc.error(line, "optimizer=\(v): expected one of sgd, momentum, nesterov, adam, adamw, rmsprop, adadelta")
                }
                t.optimizer = o
            case "lr", "learning_rate":
                let x = try number(v, k, line, doc)
                guard x > 0 else { throw doc.error(line, "lr=\(v): must be > 0") }
                t.learningRate = x
            case "batch", "batch_size": t.batchSize = try integer(v, k, line, doc, min: 1)
            case "epochs": t.epochs = try integer(v, k, line, doc, min: 1)
            case "loss":
                guard let l = LossKind(name: v) else { throw doc.error(line, "loss=\(v): expected one of \(LossKind.namesList)") }
                t.loss = l
            case "target":
                guard v == "input" || v == "labels" else {
                    throw doc.error(line, "target=\(v): expected input (an autoencoder: the targets are the inputs) or labels (the data's y)")
                }
                t.targetIsInput = v == "input"
            case "weight_decay", "wd":
                let x = try number(v, k, line, doc)
                guard x >= 0 else { throw doc.error(line, "weight_decay=\(v): must be >= 0") }
                t.weightDecay = x
            case "schedule": t.schedule = try schedule(v, line, doc)
            case "val_split", "validation_split":
                let x = try number(v, k, line, doc)
                guard x >= 0, x < 1 else { throw doc.error(line, "val_split=\(v): expected 0 <= val_split < 1") }
                t.validationSplit = x
            case "early_stopping":
                if v == "none" { t.earlyStopping = .none }
                else if v.hasPrefix("patience:"), let n = Int(v.dropFirst(9)), n >= 1 { t.earlyStopping = .patience(n) }
                else if v.hasPrefix("drop-after:"), let n = Int(v.dropFirst(11)), n >= 0 { t.earlyStopping = .dropAfter(minEpochs: n) }
                else { throw doc.error(line, "early_stopping=\(v): expected none, patience:N or drop-after:N") }
            case "augment_shift": t.augmentation.maxShiftPixels = try integer(v, k, line, doc, max: 27)
            case "augment_rotate":
                let x = try number(v, k, line, doc)
                guard x >= 0 else { throw doc.error(line, "augment_rotate=\(v): must be >= 0") }
                t.augmentation.maxRotationDegrees = x
            case "seed":
                guard let n = UInt64(v) else { throw doc.error(line, "seed=\(v): expected a non-negative integer") }
                t.seed = n
            case "momentum":
                let x = try number(v, k, line, doc)
                guard x >= 0, x < 1 else { throw doc.error(line, "momentum=\(v): expected 0 <= momentum < 1") }
                t.momentum = x
            case "beta1": t.beta1 = try number(v, k, line, doc)
            case "beta2": t.beta2 = try number(v, k, line, doc)
            case "epsilon":
                let x = try number(v, k, line, doc)
                guard x > 0 else { throw doc.error(line, "epsilon=\(v): must be > 0") }
                t.epsilon = x
            case "rho": rho = try number(v, k, line, doc)
            default:
                throw doc.error(line, "unknown train key '\(k)' (expected optimizer, lr, batch, epochs, loss, target, weight_decay, schedule, val_split, early_stopping, augment_shift, augment_rotate, seed, momentum, beta1, beta2, epsilon, rho)")
            }
        }
        if let r = rho {
            if t.optimizer == .rmsprop { t.rmsRho = r } else { t.rho = r }
        }
        if t.optimizer == .rmsprop, ann.trainingKeys.contains("momentum"), t.momentum != 0 {
            throw doc.error(line, "momentum=\(Describe.num(t.momentum)) with rmsprop: modelc's RMSprop has no momentum (Keras's default 0); use momentum=0 or another optimizer")
        }
        ann.training = t
    }

    static func schedule(_ v: String, _ line: Int, _ doc: Document) throws -> Schedule {
        switch v {
        case "constant": return .constant
        case "cosine": return .cosine
        case "onecycle": return .oneCycle
        default:
            let p = v.split(separator: ":", omittingEmptySubsequences: false)
            if p.count == 3, p[0] == "step", let every = Int(p[1]), every >= 1, let g = Double(p[2]), g > 0, g.isFinite {
                return .step(every: every, gamma: Float(g))
            }
            throw doc.error(line, "schedule=\(v): expected constant, step:EVERY:GAMMA, cosine or onecycle")
        }
    }
}
