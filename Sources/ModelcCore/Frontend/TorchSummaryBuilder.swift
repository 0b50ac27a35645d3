// TorchSummaryBuilder: the layers of a torchsummary table (TorchSummary). Hidden functional
// calls are inferred from shape changes (a flatten where an image becomes a vector, a 2x2 max
// pool where a spatial drop needs one) and printed; Conv2d and pooling hyperparameters are
// solved from the printed shapes and parameter counts. The input candidates are tried twice:
// with Conv2d paddings up to k / 2, then, when none fits, up to k - 1 (fromSummary).

extension PyTorchBuilder {
    static func fromSummary(_ t: TSTable, ann: Annotations, doc: Document, assumptions: inout [String]) throws -> ModelIR {
        guard let first = t.rows.first else { throw doc.error(t.headerLine, "the \(t.layout) table has no rows") }
        var inputs: [[Int]] = []
        let stated = ann.inputShape.map(irShape(chw:)) ?? t.input
        if let s = stated { inputs = [s] }
        else {
            if first.type == "Linear", first.shape.count == 1 {
                let o = first.shape[0]
                for b in [1, 0] where first.params % o == 0 && first.params / o - b > 0 {
                    let n = first.params / o - b
                    inputs.append(n % 784 == 0 ? [28, 28, n / 784] : [n])
                }
            }
            inputs += firstConv1dInputs(first, inputMB: t.inputMB) + [[28, 28, 1], [32, 32, 3], [32, 32, 1], [28, 28, 3]] + firstConvInputs(first)
            if first.type == "Conv2d", let mb = t.inputMB {
                // The table's Input size (MB) is C x H x W floats: images of that size first (a common size
                // first), the others after them (two inputs of a model print their sum).
                let sized = squareInputs(megabytes: mb)
                inputs = sized + inputs.filter { !sized.contains($0) }
            }
        }
        var lastError: ModelError?
        // Every input with paddings up to k / 2 first; a wider one (up to k - 1, or 1 for a 1x1:
        // EVA's 3x3 with padding 2 and 1x1 with padding 1) only when no input fits without one.
        for (inp, wide) in [false, true].flatMap({ w in inputs.map { ($0, w) } }) {
            do {
                let layers = try summaryLayers(t, input: inp, doc: doc, ann: ann, widePadding: wide)
                if stated == nil { assumptions.append(chosenInputNote(inp, t)) }
                let hasAct = t.rows.contains { tsActivations[$0.type]?.isActivation ?? false }
                try checkLogSoftmaxLast(layers, doc: doc)
                var ls = layers
                markFrozen(&ls, t)
                if !hasAct {
                    ls = insertReLUs(ls)
                    assumptions.append("relu after every Conv2d/Linear but the last: \(t.layout) shows no activation rows (functional F.relu assumed)")
                }
                let inputLayer = Layer(name: uniqueInputName(ls), kind: "Input", op: .input, inputShape: inp, outputShape: inp, line: t.headerLine,
                                       notes: [t.input != nil && ann.inputShape == nil ? "synthesized: the shape from the table's Input Shape column" : "synthesized: \(t.layout) prints no input row"])
                assumptions += t.assumptions
                let fnotes = ls.filter { $0.notes.contains { $0.hasPrefix("hidden") } }.map { "\($0.name): \($0.notes.first { $0.hasPrefix("hidden") } ?? "")" }
                assumptions += fnotes
                return ModelIR(name: "", sourcePath: doc.path, semantics: .pytorch, inputShape: inp, layers: [inputLayer] + ls)
            } catch let e as ModelError {
                if lastError == nil || (e.line ?? 0) > (lastError?.line ?? 0) { lastError = e }
                if stated != nil { throw e }
            }
        }
        guard let e = lastError else { throw doc.error(t.headerLine, "no input shape fits the first row; annotate `input: shape=CxHxW`") }
        // No input fits a first Conv1d row: say what the count fixes and what to annotate.
        throw first.type == "Conv1d" && e.line == first.line ? doc.error(e.line, e.message + conv1dInputHint(first, inputMB: t.inputMB)) : e
    }

    /// The layers of rows torchinfo printed frozen (`(1,792)`: requires_grad=False) do not train.
    static func markFrozen(_ layers: inout [Layer], _ t: TSTable) {
        let lines = Set(t.rows.filter(\.frozen).map(\.line))
        for i in layers.indices where lines.contains(layers[i].line) && layers[i].paramCount > 0 {
            layers[i].frozen = true
            layers[i].notes.append(frozenRowNote(layers[i]))
        }
    }

    /// The note of a layer whose table row prints its count in parentheses (`(1,792)`).
    static func frozenRowNote(_ l: Layer) -> String {
        "frozen (requires_grad=False): its count is printed in parentheses; its \(formatCount(l.paramCount)) params do not train"
    }

    /// The assumption for an input the table does not state: the first that fits its first row.
    static func chosenInputNote(_ inp: [Int], _ t: TSTable) -> String {
        let sized = t.inputMB.map { fitsInputSize(inp, megabytes: $0) } == true
        let (form, annotation) = inp.count == 2 ? ("C x L", "CxL") : ("C x H x W", "CxHxW")
        return "input shape \(chw(inp)) (\(form)): the first that fits the first row" + (sized ? " and the table's Input size (MB)" : "")
            + " (annotate `input: shape=\(annotation)`)"
    }

    /// Square images of 1 or 3 channels whose floats make `mb` megabytes (to the table's two
    /// decimals), common image sizes (IRBuilder.commonSizes) first, then the nearest.
    static func squareInputs(megabytes mb: Double) -> [[Int]] {
        guard mb.isFinite, mb > 0, mb <= 1e6 else { return [] }   // a table's own figure: any text may stand there
        var out: [[Int]] = []
        for c in [3, 1] {
            let s0 = Int((mb * 1_048_576 / 4 / Double(c)).squareRoot().rounded())
            guard s0 >= 1, s0 <= 4096 else { continue }
            out += (max(1, s0 - 8)...(s0 + 8)).filter { fitsInputSize([$0, $0, c], megabytes: mb) }.map { [$0, $0, c] }
        }
        return out.filter(IRBuilder.isCommonSize) + out.filter { !IRBuilder.isCommonSize($0) }
    }

    /// Inputs a first Conv2d row implies: for 1 or 3 channels, the square odd kernel whose count
    /// it prints, unpadded (the PyTorch default), then the same size (padded); the padded one
    /// first when only it is a common image size (64x64 with padding 1, not 66x66 without).
    static func firstConvInputs(_ first: TSRow) -> [[Int]] {
        guard first.type == "Conv2d", first.shape.count == 3 else { return [] }
        let (f, h, w) = (first.shape[0], first.shape[1], first.shape[2])
        var out: [[Int]] = []
        for c in [1, 3] {
            for k in stride(from: 3, through: 11, by: 2) where first.params == f * (k * k * c + 1) || first.params == f * k * k * c {
                let (valid, same) = ([h + k - 1, w + k - 1, c], [h, w, c])
                out += IRBuilder.isCommonSize(same) && !IRBuilder.isCommonSize(valid) ? [same, valid] : [valid]
            }
        }
        return out + [[h, w, 1], [h, w, 3]].filter { !out.contains($0) }
    }

    static func insertReLUs(_ layers: [Layer]) -> [Layer] {
        let weighted = layers.indices.filter {
            switch layers[$0].op { case .conv2d, .depthwiseConv2d, .dense: return true; default: return false }
        }
        guard let lastW = weighted.last else { return layers }
        var out: [Layer] = []
        var used = Set(layers.map(\.name))
        var pending: Layer?
        func relu(after l: Layer) -> Layer {
            var n = "relu", k = 2
            while used.contains(n) { n = "relu_\(k)"; k += 1 }
            used.insert(n)
            return Layer(name: n, kind: "ReLU", op: .activation(.relu), inputShape: l.outputShape, outputShape: l.outputShape,
                         line: l.line, notes: ["functional call (not shown by the table)"])
        }
        for (i, l) in layers.enumerated() {
            if let p = pending {
                if case .batchNorm = l.op { out.append(l); pending = l; continue }
                out.append(relu(after: p)); pending = nil
            }
            out.append(l)
            if weighted.contains(i) && i != lastW { pending = l }
        }
        if let p = pending { out.append(relu(after: p)) }
        return out
    }

    static let tsActivations: [String: PTOp] = ["ReLU": .relu, "ReLU6": .cappedRelu(6), "Sigmoid": .sigmoid, "Tanh": .tanh,
                                                "LeakyReLU": .leakyRelu(0.01), "ELU": .elu(1), "Softmax": .softmax(dim: nil),
                                                "LogSoftmax": .logSoftmax(dim: nil), "Identity": .identity]
        .merging(PyTorchSmoothActivations.tableRows) { a, _ in a }

    /// torch.nn leaf modules without parameters that keep their input's shape, which modelc does
    /// not run: such a row is an error, never taken for a container's row (which torchsummary
    /// prints after its children, with their output shape).
    static let shapeKeepingLeaves: Set<String> = [
        "Hardtanh", "CELU",
        "Tanhshrink", "Threshold", "LogSigmoid", "Softmin", "Softmax2d", "RReLU", "Hardshrink", "Softshrink", "GLU",
        "AlphaDropout", "FeatureAlphaDropout", "Dropout3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
        "LocalResponseNorm", "CrossMapLRN2d", "ChannelShuffle"]

    static func summaryLayers(_ t: TSTable, input: [Int], doc: Document, ann: Annotations = Annotations(), widePadding: Bool = false) throws -> [Layer] {
        var c = Chain(shape: input)
        var prevDeclared: [Int]?
        for r in t.rows {
            let out = irShape(chw: r.shape)
            func err(_ m: String) -> ModelError { doc.error(r.line, "\(r.label): \(m)") }
            let step = { (op: PTOp) in PTStep(name: r.label, op: op, line: r.line) }
            func hiddenPool() throws {
                try append(Self.hiddenPool(before: r), kind: "MaxPool2d", to: &c, doc: doc, notes: [hiddenPoolNote(r)])
            }
            func hiddenFlatten() {
                c.flatten(line: r.line, note: "hidden flatten before \(r.label): an image becomes a vector (NCHW order)")
            }
            try reachPrintedInput(r, &c, doc: doc)
            switch r.type {
            case "Conv2d":
                guard out.count == 3 else { throw err("Conv2d must output [C, H, W], the table says \(r.shape)") }
                try conv2dRow(r, out: out, into: &c, ann: ann, doc: doc, widePadding: widePadding)
            case "Linear":
                guard out.count == 1, let o = out.first else { throw err("Linear must output [N], the table says \(r.shape)") }
                var inF: [(Int, Bool)] = []
                if r.params % o == 0 { inF.append((r.params / o - 1, true)); inF.append((r.params / o, false)) }
                let n = c.shape.reduce(1, *)
                if let f = inF.first(where: { $0.0 == n }) {
                    if c.shape.count >= 2 { hiddenFlatten() }
                    try append(step(.linear(inF: f.0, outF: o, bias: f.1)), kind: "Linear", to: &c, doc: doc, declared: r.params)
                } else if c.shape.count == 3, let f = inF.first(where: { $0.0 == (c.shape[0] / 2) * (c.shape[1] / 2) * c.shape[2] && $0.0 > 0 }) {
                    try hiddenPool(); hiddenFlatten()
                    try append(step(.linear(inF: f.0, outF: o, bias: f.1)), kind: "Linear", to: &c, doc: doc, declared: r.params)
                } else {
                    let implied = inF.map { "\($0.0) \($0.1 ? "with" : "without") bias" }.joined(separator: " or ")
                    throw err("\(formatCount(r.params)) params for \(o) outputs imply \(implied.isEmpty ? "no whole number of" : implied) inputs, but the previous output \(chw(c.shape)) has \(n) values (\(n) x \(o) + \(o) = \(formatCount(n * o + o)))")
                }
            case "BatchNorm2d", "BatchNorm1d":
                if r.type == "BatchNorm1d", c.shape.count == 3 { hiddenFlatten() }
                guard out == c.shape else { throw err("BatchNorm keeps the shape \(chw(c.shape)) but the table says \(r.shape)") }
                let ch = c.shape.last ?? 0
                guard r.params == 2 * ch || r.params == 0 else { throw err("BatchNorm over \(ch) channels has \(2 * ch) params (affine) or 0, not \(formatCount(r.params))") }
                try append(step(.batchNorm(channels: ch, eps: 1e-5, momentum: 0.1, affine: r.params > 0, dims: c.shape.count == 3 ? 2 : 1)),
                           kind: r.type, to: &c, doc: doc, declared: r.params)
            case "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d":
                guard r.params == 0 else { throw err("pooling has no params, the table says \(formatCount(r.params))") }
                guard c.shape.count == 3, out.count == 3, out[2] == c.shape[2] else { throw err("cannot pool \(chw(c.shape)) to \(r.shape)") }
                // An adaptive row takes no window settings: a glob (`layer *:`) does not reach it.
                let o = r.type.hasPrefix("Adaptive") ? ann.namedOverrides(for: r.label) : ann.overrides(for: r.label)
                let (pool, notes) = try rowPool(r, o, from: c.shape, to: out, err: err)
                try append(step(pool), kind: r.type, to: &c, doc: doc, declared: 0, notes: notes)
            case "LayerNorm", "GroupNorm":
                guard out == c.shape else { throw err("\(r.type) keeps the shape \(chw(c.shape)) but the table says \(r.shape)") }
                try append(step(try normalizationRow(r, input: c.shape, groups: ann.overrides(for: r.label).groups, err: err)), kind: r.type, to: &c, doc: doc, declared: r.params)
            case "MaxPool1d", "AvgPool1d":
                guard r.params == 0 else { throw err("pooling has no params, the table says \(formatCount(r.params))") }
                guard c.shape.count == 2, out.count == 2, out[1] == c.shape[1] else { throw err("cannot pool \(chw(c.shape)) to \(r.shape)") }
                let (pool, notes) = try rowPool(r, ann.overrides(for: r.label), from: c.shape, to: out, err: err)
                try append(step(pool), kind: r.type, to: &c, doc: doc, declared: 0, notes: notes)
            case "Conv1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "ConvTranspose2d", "Upsample", "UpsamplingNearest2d":
                try append(step(try sequenceOrDecoderOp(r, input: c.shape, out: out, err: err)), kind: r.type, to: &c, doc: doc, declared: r.params,
                           notes: unprintedArguments(r, ann))
            case "Flatten":
                guard r.params == 0, out == [c.shape.reduce(1, *)] else { throw err("flattening \(chw(c.shape)) cannot give \(r.shape)") }
                try append(step(.flatten), kind: "Flatten", to: &c, doc: doc, declared: 0)
            case "Dropout", "Dropout1d", "Dropout2d":
                guard r.params == 0 else { throw err("Dropout has no params") }
                if out.count == 1, c.shape.count >= 2, out[0] == c.shape.reduce(1, *) { hiddenFlatten() }
                guard out == c.shape else { throw err("Dropout keeps the shape \(chw(c.shape)) but the table says \(r.shape)") }
                try append(step(.dropout(0.5, spatial: r.type != "Dropout")), kind: r.type, to: &c, doc: doc, declared: 0,
                           notes: ["rate not printed: 0.5 (PyTorch default; annotate `layer \(r.label): rate=...`)"])
            case "Embedding", "EmbeddingBag":
                throw err("module class \(r.type) is not supported in a torchsummary table (its rows show neither padding_idx, nor an EmbeddingBag's mode, nor how many token ids it reads); give modelc the print(model) repr with `input: shape=STEPS`")
            default:
                if let op = tsActivations[r.type] {
                    guard r.params == 0 else { throw err("\(r.type) has no params") }
                    if out.count == 1, c.shape.count >= 2, out[0] == c.shape.reduce(1, *) { hiddenFlatten() }
                    guard out == c.shape else { throw err("\(r.type) keeps the shape \(chw(c.shape)) but the table says \(r.shape)") }
                    if r.type.hasSuffix("Softmax"), c.shape.count != 1, !(c.shape.count == 3 && c.shape[0] == 1 && c.shape[1] == 1) {
                        throw err("a table does not print \(r.type)'s dim: only one over a vector [K] or a 1x1 image's channels is read from a table (give modelc the print(model) repr)")
                    }
                    try append(step(op), kind: r.type, to: &c, doc: doc, declared: 0, notes: unprintedArguments(r, ann))
                } else if let why = PyTorchKnownBlocks.refusal(r.type, keepsShape: nil) {
                    // A library block's container row (printed after its children, its input shape,
                    // so whether it keeps it, not shown).
                    throw err(why)
                } else if r.params == 0, let p = prevDeclared, p == r.shape, !shapeKeepingLeaves.contains(r.type) {
                    // A container (custom block) row: torchsummary prints it after its children.
                    if let last = c.layers.indices.last { c.layers[last].notes.append("container row \(r.label) (0 params, same shape) skipped") }
                } else {
                    throw err("module class \(r.type) is not supported (supported: \(PyTorchModules.supportedList))")
                }
            }
            prevDeclared = r.shape
        }
        if c.shape.count == 3, c.shape[0] == 1, c.shape[1] == 1 {
            c.flatten(line: t.rows.last?.line ?? t.headerLine, note: "hidden flatten of the final [C, 1, 1] output (classifier logits)")
        }
        return c.layers
    }

    /// What a row's module takes as an argument that the table does not print, and the default
    /// modelc uses for it (an annotation overrides it: PyTorchBuilder.applyOverrides).
    static func unprintedArguments(_ r: TSRow, _ ann: Annotations) -> [String] {
        let o = ann.overrides(for: r.label)
        guard o.alpha == nil && o.bilinear == nil else { return [] }
        switch r.type {
        case "LeakyReLU": return ["negative_slope not printed: 0.01 (PyTorch default; annotate `layer \(r.label): alpha=...`)"]
        case "ELU": return ["alpha not printed: 1 (PyTorch default; annotate `layer \(r.label): alpha=...`)"]
        case "GELU":
            return [PyTorchSmoothActivations.approximateNote + " (PyTorch default; annotate `layer \(r.label): activation=gelu_tanh` for approximate='tanh')"]
        case "Softplus": return ["beta and threshold not printed: 1 and 20 (PyTorch defaults, the only ones modelc runs)"]
        case "Upsample": return ["mode not printed: nearest (PyTorch default; annotate `layer \(r.label): interpolation=bilinear align_corners=false` for bilinear)"]
        default: return []
        }
    }

    /// A pooling row's op, from its input and output sizes alone (a table prints no kernel):
    /// - Adaptive pools must divide exactly (kernel = stride = in / out), as in a repr; other
    ///   sizes give PyTorch windows that overlap or differ in size, which modelc does not run.
    /// - MaxPool2d/AvgPool2d (and their 1-D forms, on [L, C]) take the conventional unpadded fit
    ///   (solvePool), with a note naming the other common kernels, paddings and ceil modes that
    ///   print the same shapes; a pool that keeps the size is a padded one in PyTorch, never
    ///   taken as a 1x1 no-op: it needs an annotation (`layer ROW: pool=3 stride=1 pad=1`,
    ///   annotatedPool), as do the alternatives.
    static func tablePool(_ type: String, from input: [Int], to out: [Int], err: (String) -> ModelError) throws -> (PTOp, [String]) {
        let oneD = type.hasSuffix("1d")
        let (h, w) = oneD ? (1, input[0]) : (input[0], input[1]), (oh, ow) = oneD ? (1, out[0]) : (out[0], out[1])
        func sizes(_ a: Int, _ b: Int) -> String { oneD ? "\(b)" : "\(a)x\(b)" }
        if type.hasPrefix("Adaptive") {
            guard oh > 0, ow > 0, h % oh == 0, w % ow == 0 else {
                throw err("\(type) from \(h)x\(w) to \(oh)x\(ow): the sizes do not divide, so PyTorch's windows overlap or differ in size, which modelc does not run")
            }
            return (poolOp(type, h / oh, w / ow, h / oh, w / ow, pad: nil), [])
        }
        guard let (kh, sh) = solvePool(h, oh), let (kw, sw) = solvePool(w, ow), !(kh == 1 && kw == 1 && sh == 1 && sw == 1) else {
            let keeps = (h, w) == (oh, ow) ? " (a pool that keeps the size, such as \(type)(3, stride=1, padding=1), is padded)" : ""
            throw err("no unpadded pool maps \(sizes(h, w)) to \(sizes(oh, ow))\(keeps), and the table does not print the padding: "
                + "annotate the module's arguments, e.g. `layer \(type)-N: pool=3 stride=1 pad=1`")
        }
        let also = poolAlternatives(type, from: (h, w), to: (oh, ow), chosen: (kw, sw), square: oneD || (kh == kw && sh == sw))
        let chosen = oneD ? "\(kw) stride \(sw)" : kh == kw && sh == sw ? "\(kh)x\(kh) stride \(sh)" : "\(kh)x\(kw) stride \(sh)x\(sw)"
        let note = also.isEmpty ? [] : ["kernel not printed: \(chosen), the conventional fit; \(also.prefix(3).joined(separator: ", "))"
            + "\(also.count > 3 ? " and \(also.count - 3) more" : "") print\(also.count == 1 ? "s" : "") the same shapes "
            + "(annotate e.g. `layer ROW: pool=3 stride=2 pad=1` or `pool=2 ceil_mode=true` for another)"]
        return (poolOp(type, kh, kw, sh, sw, pad: nil), note)
    }

    /// The square kernels 2...7 with their strides and paddings, then in ceil mode, that also map
    /// (h, w) to (oh, ow) (a 1-D pool: h = 1), other than the chosen unpadded fit.
    static func poolAlternatives(_ type: String, from: (Int, Int), to: (Int, Int), chosen: (k: Int, s: Int), square: Bool) -> [String] {
        let oneD = type.hasSuffix("1d")
        var also: [String] = []
        for ceil in [false, true] { for k in 2...7 { for s in 1...k { for p in 0...(k / 2) {
            if !ceil && p == 0 && (k, s) == chosen && square { continue }
            func fits(_ c: Bool) -> Bool {
                let a = PoolAttrs(poolH: oneD ? 1 : k, poolW: k, strideH: oneD ? 1 : s, strideW: s, padding: .valid,
                                  explicit: PoolPadding(h: oneD ? 0 : p, w: p, ceilMode: c, countIncludePad: false))
                return a.outDim(from.0, axis: 0) == to.0 && a.outDim(from.1, axis: 1) == to.1
            }
            // A ceil mode is named only where it changes the size.
            guard fits(ceil), !(ceil && fits(false)) else { continue }
            also.append("\(type)(\(k)\(s == k ? "" : ", stride=\(s)")\(p == 0 ? "" : ", padding=\(p)")\(ceil ? ", ceil_mode=True" : ""))")
        } } } }
        return also
    }

    static func poolOp(_ type: String, _ kh: Int, _ kw: Int, _ sh: Int, _ sw: Int, pad: PoolPadding?) -> PTOp {
        let isMax = type.contains("Max")
        if type.hasSuffix("1d") { return .pool1d(max: isMax, k: kw, s: sw, pad: pad) }
        return isMax ? .maxPool(kh: kh, kw: kw, sh: sh, sw: sw, pad: pad) : .avgPool(kh: kh, kw: kw, sh: sh, sw: sw, pad: pad)
    }

    /// A pool row's op: annotated (annotatedPool) or inferred from the shapes (tablePool).
    static func rowPool(_ r: TSRow, _ o: LayerOverrides, from input: [Int], to out: [Int], err: (String) -> ModelError) throws -> (PTOp, [String]) {
        guard o.pool != nil || o.stride != nil || o.pad != nil || o.ceilMode != nil || o.countIncludePad != nil else {
            return try tablePool(r.type, from: input, to: out, err: err)
        }
        return (try annotatedPool(r.type, o, from: input, to: out, err: err), [])
    }

    /// A MaxPool/AvgPool row's module (2-D, or 1-D on [L, C]) from `layer ROW: pool=K stride=S
    /// pad=P ceil_mode=B count_include_pad=B` (stride defaults to the window, pad to 0, the modes
    /// to PyTorch's defaults), checked against the printed shapes.
    static func annotatedPool(_ type: String, _ o: LayerOverrides, from input: [Int], to out: [Int], err: (String) -> ModelError) throws -> PTOp {
        guard !type.hasPrefix("Adaptive") else { throw err("\(type) takes no pool=/stride=/pad= (its windows follow from the sizes)") }
        let oneD = type.hasSuffix("1d")
        guard let given = o.pool else { throw err("an annotated \(type) needs pool=K (the window)") }
        let st = o.stride ?? given, p = o.pad ?? [0, 0, 0, 0]
        if oneD, given.h != given.w || st.h != st.w || p[0] != p[1] || p[2] != p[3] {
            throw err("a 1-D pool takes one window, one stride and pad P (or LEFT,RIGHT)")
        }
        let k = oneD ? Pair(h: 1, w: given.w) : given, s = oneD ? Pair(h: 1, w: st.w) : st
        let (ph, pw) = oneD ? (0, p[0]) : (p[0], p[2])
        guard oneD ? p[0] == p[2] : p[0] == p[1] && p[2] == p[3], ph <= k.h / 2, pw <= k.w / 2 else {
            throw err("pad=\(p.map(String.init).joined(separator: ",")): PyTorch pads symmetrically, by at most half the window")
        }
        if o.countIncludePad != nil && !type.hasPrefix("AvgPool") { throw err("count_include_pad is an AvgPool argument") }
        let ceil = o.ceilMode ?? false
        let pad = PoolPadding(h: ph, w: pw, ceilMode: ceil, countIncludePad: type.hasPrefix("AvgPool") && o.countIncludePad != false).nilIfTrivial
        let a = PoolAttrs(poolH: k.h, poolW: k.w, strideH: s.h, strideW: s.w, padding: .valid, explicit: pad)
        let (h, w) = oneD ? (1, input[0]) : (input[0], input[1]), want = oneD ? (1, out[0]) : (out[0], out[1])
        let got = (a.outDim(h, axis: 0), a.outDim(w, axis: 1))
        guard got == want else {
            let what = oneD ? "\(k.w) stride \(s.w) pad \(pw)" : "\(k.h)x\(k.w) stride \(s.h)x\(s.w) pad \(ph)x\(pw)"
            let sizes = { (a: Int, b: Int) in oneD ? "\(b)" : "\(a)x\(b)" }
            throw err("the annotated pool \(what)\(ceil ? " ceil" : "") maps \(sizes(h, w)) to \(sizes(got.0, got.1)), but the table prints \(sizes(want.0, want.1))")
        }
        return poolOp(type, k.h, k.w, s.h, s.w, pad: pad)
    }

    /// (kernel, stride) with floor((n - k)/s) + 1 == out: stride = kernel first, 2x2 first.
    static func solvePool(_ n: Int, _ out: Int) -> (Int, Int)? {
        var best: ((Int, Int), Int)?
        for k in 1...max(1, min(n, 64)) {
            for s in 1...k where convOut(n, k: k, s: s, p: 0, d: 1) == out {
                // Stride = kernel, no input rows dropped (a 5x5 pool on 5x5, not 3x3), then near 2x2.
                let key = (s == k ? 0 : 100000) + ((n - k) % s == 0 ? 0 : 10000) + abs(k - 2) * 10 + s
                if best == nil || key < best!.1 { best = ((k, s), key) }
            }
        }
        return best?.0
    }

    /// The 2x2 max pool forward() calls before row r where the printed shapes halve (not a module, not printed).
    static func hiddenPool(before r: TSRow) -> PTStep {
        PTStep(name: "max_pool2d", op: .maxPool(kh: 2, kw: 2, sh: 2, sw: 2, pad: nil), line: r.line, functional: true)
    }

    static func hiddenPoolNote(_ r: TSRow) -> String { "hidden max_pool2d(2) before \(r.label): the shapes drop by 2 between rows" }

    /// A Conv2d row: ungrouped (annotated or inferred), after a hidden 2x2 max pool, or
    /// depthwise; the notes say what else prints the same row.
    static func conv2dRow(_ r: TSRow, out: [Int], into c: inout Chain, ann: Annotations, doc: Document, widePadding: Bool) throws {
        func err(_ m: String) -> ModelError { doc.error(r.line, "\(r.label): \(m)") }
        let step = { (op: PTOp) in PTStep(name: r.label, op: op, line: r.line) }
        let groups = ann.namedOverrides(for: r.label).groups   // a glob's groups= is a GroupNorm's
        let depthwise = groups == 1 ? nil : solveConv(c.shape, out: out, params: r.params, depthwise: true, widePadding: widePadding)
        if let g = groups, g != 1, g != c.shape.last {
            throw err("groups=\(g): only 1 or depthwise (groups = in_channels = \(c.shape.last ?? 0)) is supported")
        }
        if groups == nil || groups == 1, let op = solveConv(c.shape, out: out, params: r.params, widePadding: widePadding) {
            var also = groups == nil ? depthwise.map { _ in ["a depthwise Conv2d (groups=\(c.shape[2])) prints the same shapes and count: annotate `layer \(r.label): groups=\(c.shape[2])` for it"] } ?? [] : []
            if case .conv(_, _, let kh, let kw, let sh, let sw, _, _, _, _, _, _, _) = op, sh > kh || sw > kw {
                // A stride past the kernel skips pixels: far more often a hidden pooling before a stride-1 conv.
                also.append("stride \(sh)x\(sw) larger than the \(kh)x\(kw) kernel: the only Conv2d that fits, but an F.avg_pool2d or F.max_pool2d before a stride-1 convolution prints the same row; if forward() pools there, modelc cannot read this table: give the repr with `forward:`")
            }
            try append(step(op), kind: "Conv2d", to: &c, doc: doc, declared: r.params, notes: also)
        } else if groups == nil || groups == 1, c.shape.count == 3, c.shape[0] / 2 > 0, let op = solveConv([c.shape[0] / 2, c.shape[1] / 2, c.shape[2]], out: out, params: r.params, widePadding: widePadding) {
            try append(hiddenPool(before: r), kind: "MaxPool2d", to: &c, doc: doc, notes: [hiddenPoolNote(r)])
            try append(step(op), kind: "Conv2d", to: &c, doc: doc, declared: r.params)
        } else if groups != 1, let op = depthwise {
            try append(step(op), kind: "Conv2d", to: &c, doc: doc, declared: r.params,
                       notes: groups == nil ? ["groups=\(c.shape[2]) (depthwise) inferred: no ungrouped Conv2d has \(formatCount(r.params)) params here"] : [])
        } else {
            throw err("no kernel/stride/padding/bias maps \(chw(c.shape)) to \(r.shape) with \(formatCount(r.params)) params, ungrouped or depthwise (nor after a hidden 2x2 max pool)")
        }
    }

    /// Conv2d hyperparameters from shapes and the count: bias, square kernel, stride 1, no padding
    /// first; `widePadding`: also a padding past k / 2 (up to k - 1, or 1 for a 1x1), which
    /// fromSummary tries only when no input fits without one. `depthwise`: groups = C (each
    /// filter reads one channel), out channels a multiple of C,
    /// a square kernel of at most 7 (MobileNet's 3x3 to 7x7; a count fits odd shapes otherwise).
    static func solveConv(_ input: [Int], out: [Int], params: Int, depthwise: Bool = false, widePadding: Bool = false) -> PTOp? {
        guard input.count == 3, out.count == 3 else { return nil }
        let (h, w, c) = (input[0], input[1], input[2])
        let (oh, ow, f) = (out[0], out[1], out[2])
        guard c > 0, f > 0, !depthwise || (c > 1 && f % c == 0) else { return nil }
        let perFilter = depthwise ? 1 : c
        var best: (PTOp, Int)?
        for bias in [true, false] {
            let r = params - (bias ? f : 0)
            guard r > 0, r % (f * perFilter) == 0 else { continue }
            let area = r / (f * perFilter)
            for kh in 1...min(area, 64) where area % kh == 0 {
                let kw = area / kh
                guard kw <= 64, !depthwise || (kh == kw && kh <= 7) else { continue }
                for s in 1...4 {
                    // Padding up to k / 2 ('same' at most); with widePadding up to k - 1 (1 for a 1x1), ranked last.
                    for ph in 0...(widePadding ? max(1, kh - 1) : kh / 2) where convOut(h, k: kh, s: s, p: ph, d: 1) == oh {
                        for pw in 0...(widePadding ? max(1, kw - 1) : kw / 2) where convOut(w, k: kw, s: s, p: pw, d: 1) == ow {
                            let wide = ph > kh / 2 || pw > kw / 2 ? 1_000_000 : 0
                            let key = wide + (kh == kw ? 0 : 100000) + (bias ? 0 : 10000) + s * 1000 + (ph == pw ? 0 : 100) + ph + pw
                            if best == nil || key < best!.1 {
                                best = (.conv(cin: c, cout: f, kh: kh, kw: kw, sh: s, sw: s, ph: ph, pw: pw, same: false, dh: 1, dw: 1, bias: bias,
                                              groups: depthwise ? c : 1), key)
                            }
                        }
                    }
                }
            }
        }
        return best?.0
    }
}
