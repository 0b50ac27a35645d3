// IRBuilder: from table rows and annotations to a resolved ModelIR.
//
// Before: a SummaryTable (raw rows, declared totals) and parsed Annotations.
// After:  a ModelIR whose layers form one chain (or, from a `Connected to` column, a graph) with every hyperparameter set (by inference,
//         annotation, or a documented default recorded in `assumptions`), shapes and counts
//         equal to the printed ones.

enum IRBuilder {
    static func build(table read: SummaryTable, annotations: Annotations, document doc: Document) throws -> ModelIR {
        let (text, tokens) = try TextVectorizationInput.apply(read, doc: doc)
        let (table, ann) = try NestedBlocks.expand(text, annotations: annotations, doc: doc)
        let (srows, hows) = try classify(table, annotations: ann, document: doc)
        var ir = try DataFormat.resolve(table, rows: srows, hows: hows, annotations: ann, document: doc)
        if let t = tokens { ir.assumptions.append(t) }
        return ir
    }

    /// Each row's class candidates (unsupported classes are reported before any structural problem),
    /// after the checks that need no shapes: annotation patterns, duplicate names, the graph.
    static func classify(_ table: SummaryTable, annotations ann: Annotations, document doc: Document) throws -> ([SearchRow], [String?]) {
        for d in ann.layers where !table.rows.contains(where: { d.matches($0.name) }) {
            throw doc.error(d.line, "layer pattern '\(d.pattern)' matches no layer in the table (layers: \(table.rows.prefix(8).map(\.name).joined(separator: ", "))\(table.rows.count > 8 ? ", ..." : ""))")
        }
        var seen = Set<String>()
        for r in table.rows {
            guard seen.insert(r.name).inserted else {
                // Keras 3 cuts long names at the column's width ("batch_normalizatio…")
                let cut = r.line >= 1 && r.line <= doc.lines.count && doc.lines[r.line - 1].contains(r.name + "…")
                throw doc.error(r.line, "layer name '\(r.name)' appears twice in the table" + (cut
                    ? " (the names are cut at the column's width, '\(r.name)…': \(SummaryTable.printWider))" : ""))
            }
        }
        var srows: [SearchRow] = []
        var hows: [String?] = []
        for row in table.rows {
            let o = ann.overrides(for: row.name)
            let res = try KindResolver.resolve(row, override: o.kind, doc: doc)
            srows.append(SearchRow(row: row, kinds: res.kinds, o: o))
            hows.append(res.how)
        }
        // A layer called more than once: one row per call (IR/SharedLayers.swift).
        if table.hasConnectedColumn, let calls = try SharedLayers.expand(srows, hows: hows, layout: table.layout, doc: doc) {
            (srows, hows) = calls
        }
        if table.hasConnectedColumn, let ps = try GraphBuilder.producers(srows.map(\.row), kinds: srows.map(\.kinds), doc: doc) {
            for i in srows.indices { srows[i].producers = ps[i] }
        }
        for (i, r) in srows.enumerated() where i > 0 && r.kinds == [.inputLayer] && r.producers == nil {
            throw doc.error(r.row.line, "a second InputLayer '\(r.row.name)' in a table without a 'Connected to' column: a model with several inputs is read from a functional model's summary, which says what reads each input")
        }
        return (srows, hows)
    }

    /// The IR for rows whose image shapes are already [H, W, C]: the input shape, the inferred
    /// chain, and the semantic defaults.
    static func resolve(_ table: SummaryTable, rows srows: [SearchRow], hows: [String?], annotations ann: Annotations,
                        document doc: Document, channelsFirst: Bool) throws -> ModelIR {
        let hasInputRow = srows[0].kinds == [.inputLayer]
        let (input, guessed, search, preferred) = try searchInput(table, rows: srows, annotations: ann, document: doc)
        var layers: [Layer] = []
        var assumptions: [String] = []
        if !hasInputRow {
            var inputName = "input"
            while table.rows.contains(where: { $0.name == inputName }) { inputName += "_0" }
            layers.append(Layer(name: inputName, kind: LayerKind.inputLayer.rawValue, op: .input, inputShape: input,
                                outputShape: input, line: table.headerLine, declaredParams: nil,
                                notes: ["synthesized: the table has no InputLayer row"]))
        }
        if guessed, hasInputRow, case .unknown(let cell) = srows[0].row.shape, CutInputCell.printedDims(cell) != nil {
            assumptions.append("input shape \(Inference.shapeText(input)): the InputLayer's cell '\(cell)' is cut at the column edge; completed as the first shape for which every layer verifies")
        } else if guessed {
            assumptions.append("input shape \(Inference.shapeText(input)): not printed; "
                               + (preferred ?? "the first shape consistent with the first layer's count") + " (annotate `input: shape=HxWxC`)")
        }
        var prev = input
        for (i, (c, group)) in search.chosen.enumerated() {
            let row = srows[i].row
            if channelsFirst, case .reshape = c.op {
                throw doc.error(row.line, "layer '\(row.name)' (Reshape): a Reshape in a channels-first (C, H, W) table orders its elements differently; not supported")
            }
            if channelsFirst, case .permute = c.op {
                throw doc.error(row.line, "layer '\(row.name)' (Permute): a Permute in a channels-first (C, H, W) table permutes other axes; not supported")
            }
            if channelsFirst, c.kind.isOneD {
                throw doc.error(row.line, "layer '\(row.name)' (\(c.kind.rawValue)): 1-D layers in a channels-first (C, H, W) table are not supported")
            }
            if let p = srows[i].producers?.first { prev = search.chosen[p].0.output }
            if srows[i].producers == [] { prev = c.output }   // a further Input layer (IR/ModelInputs.swift)
            layers.append(Layer(name: row.name, kind: c.kind.rawValue, op: c.op, inputShape: prev, outputShape: c.output,
                                line: row.line, declaredParams: row.params, notes: notes(srows[i], how: hows[i], chosen: c, group: group)))
            layers[layers.count - 1].producers = srows[i].producers
            prev = c.output
        }
        SharedLayers.mark(&layers, rows: srows, offset: hasInputRow ? 0 : 1)
        var ir = ModelIR(name: ann.name ?? identifier(fromPath: doc.path), sourcePath: doc.path, semantics: .keras,
                         inputShape: input, layers: layers, declared: table.declared, assumptions: assumptions)
        ir.channelsFirst = channelsFirst
        try SemanticDefaults.apply(&ir, annotations: ann, document: doc)
        try AugmentationLayers.check(ir)
        SemanticDefaults.hardSigmoid(&ir, layout: table.layout)
        try RecurrentGates.apply(&ir, annotations: ann, layout: table.layout, document: doc)
        try RecurrentCellDropout.apply(&ir, annotations: ann, document: doc)
        AugmentationLayers.kerasTwo(&ir, layout: table.layout, annotations: ann)
        SharedLayers.syncOps(&ir)
        try ModelInputs.resolve(&ir, classesAnnotated: ann.classes != nil)
        try ModelHeads.resolve(&ir, annotations: ann, document: doc)
        return ir
    }

    /// Input shape: annotation, InputLayer row, or guessed candidates tried in order; the first
    /// for which the whole chain resolves, with the search that resolved it, and why another
    /// input was preferred to it when one fits too (commonSizeAlternative).
    static func searchInput(_ table: SummaryTable, rows srows: [SearchRow], annotations ann: Annotations,
                            document doc: Document) throws -> ([Int], Bool, InferenceSearch, preferred: String?) {
        let first = srows[0]
        let hasInputRow = first.kinds == [.inputLayer]
        if table.rows.allSatisfy({ $0.shape == .unknown("?") && $0.params == 0 }), table.layout.hasPrefix("keras3") {
            throw doc.error(table.rows.first?.line ?? table.headerLine, "the summary of an unbuilt Keras 3 model: every output shape is '?' and no weights exist yet (\(rowSum(table))); print model.summary() once the model is built: start it with keras.Input(shape=...) or call model.build((None, ...)) first")
        }
        var inputs: [[Int]]
        var guessed = false
        if let s = ann.inputShape {
            inputs = [s]
        } else if hasInputRow, let s = first.row.shape.known, !s.isEmpty {
            inputs = [s]
        } else {
            inputs = guessInputs(first: hasInputRow && srows.count > 1 ? srows[1] : first)
            if hasInputRow, srows.count > 1, case .unknown(let cell) = first.row.shape {
                inputs = CutInputCell.candidates(cell, next: srows[1].row.shape.known) + inputs
            }
            guessed = true
        }
        if guessed, let e = RecurrentInference.unknownSteps(first: hasInputRow && srows.count > 1 ? srows[1] : first, doc: doc) {
            // Counts do not depend on the steps: say what the rows add up to, for the user to compare.
            throw ModelError(file: e.file, line: e.line, message: e.message + " (the rows add up to \(rowSum(table)))")
        }
        let search = InferenceSearch(rows: srows, doc: doc)
        for inp in inputs where Inference.plausible(inp) {
            guard search.runAll(input: inp) else { continue }
            if guessed, let alt = commonSizeAlternative(to: inp, first: first, rows: srows, doc: doc) {
                return (alt.input, guessed, alt.search, alt.why + ", preferred to \(Inference.shapeText(inp)), which also fits")
            }
            return (inp, guessed, search, nil)
        }
        var e = search.failure?.error ?? doc.error(table.headerLine, "no input shape fits the first layer; annotate `input: shape=HxWxC`")
        if table.rows.allSatisfy({ $0.shape.known == nil || $0.typeText == "InputLayer" }) {
            // Subclassed models print `multiple`: rows are in attribute order and the input is unknown.
            e = ModelError(file: e.file, line: e.line, message: e.message + " (every output shape is printed as 'multiple', as for a subclassed model, whose rows follow attribute order rather than call order; the rows add up to \(rowSum(table)); annotate `input: shape=HxWxC` and the layers' kernel/stride, or print the summary of a Sequential/functional model)")
        }
        throw e
    }

    /// "4,100,898 params, declared 4,100,898": the rows' sum, and the footer's total if printed.
    static func rowSum(_ table: SummaryTable) -> String {
        let sum = table.rows.reduce(0) { $0 + $1.params }
        return formatCount(sum) + " params" + (table.declared.total.map { ", declared \(formatCount($0))" } ?? "")
    }

    /// What a layer's notes say about how its class and hyperparameters were chosen.
    static func notes(_ r: SearchRow, how: String?, chosen c: LayerCandidate, group: [LayerCandidate]) -> [String] {
        var notes: [String] = []
        if let how { notes.append(how) }
        if r.kinds.count > 1 { notes.append("class \(c.kind.rawValue) chosen: the candidate that fits the shapes and count (the layer name decides between classes that print alike)") }
        let distinct = group.prefix(8).map { Describe.op($0.op, oneD: $0.kind.isOneD) + ($0.kind == c.kind ? "" : " (\($0.kind.rawValue))") }
        if Set(distinct).count > 1 {
            let alts = distinct.dropFirst().filter { $0 != distinct[0] }
            var unique: [String] = []
            for a in alts where !unique.contains(a) { unique.append(a) }
            notes.append("choice: \(distinct[0]) is the conventional one of \(group.count) fits (also: \(unique.prefix(3).joined(separator: "; "))\(unique.count > 3 ? "; ..." : "")); annotate to override")
        }
        switch c.op {
        case .conv2d(let a), .separableConv2d(let a, _), .depthwiseConv2d(let a, _):
            if a.dilationH != 1 || a.dilationW != 1, r.o.dilation == nil {
                let rate = c.kind.isOneD ? "\(a.dilationW)" : "\(a.dilationH)x\(a.dilationW)"
                notes.append("dilation rate \(rate) inferred: no undilated kernel fits")
            }
            if c.kind == .conv1D || c.kind == .separableConv1D, a.padding == .same, a.kernelW > 1, r.o.padding == nil {
                notes.append("'same' padding: a causal \(c.kind.rawValue) prints the same shapes (annotate padding=causal or padding=same)")
            }
        case .upSampling where r.o.bilinear == nil && c.kind == .upSampling2D:
            notes.append("nearest interpolation: bilinear prints the same shapes (annotate interpolation=bilinear or interpolation=nearest)")
        case _ where c.kind == .timeDistributed && r.o.wrapped == nil && TimeDistributedInference.assumedPool(c.op) != nil:
            notes.append(TimeDistributedInference.assumedPool(c.op) ?? "")
        case .recurrent(let a) where a.bidirectional != nil && a.bidirectional != .concat && r.o.merge == nil:
            notes.append("merge_mode \(a.bidirectional?.rawValue ?? "") assumed: sum, mul and ave print the same shapes and counts (annotate merge=)")
        default: break
        }
        if r.row.shape.known == nil && c.kind != .inputLayer {
            notes.append("output shape not printed ('\(r.row.shape.display)'); inferred \(Inference.shapeText(c.output))")
        }
        return notes
    }

    /// Image sizes that published models take (ImageNet's 224 and 227, Inception's 299, ...).
    static let commonSizes: Set<Int> = [28, 32, 48, 64, 96, 100, 112, 128, 150, 160, 180, 200, 224, 227, 256, 299, 300, 384, 512]

    /// An image [H, W, C] whose height and width are both common sizes.
    static func isCommonSize(_ s: [Int]) -> Bool { s.count >= 2 && commonSizes.contains(s[0]) && commonSizes.contains(s[1]) }

    /// The side k of the square kernel a Conv2D with `params` parameters, `filters` outputs and
    /// `channels` inputs has (with a bias, else without; at most one fits), or nil.
    static func squareKernel(params: Int, filters f: Int, channels c: Int) -> Int? {
        for bias in [true, false] {
            let r = params - (bias ? f : 0)
            guard r > 0, r % (f * c) == 0 else { continue }
            let k = Int(Double(r / (f * c)).squareRoot().rounded())
            if k >= 1, k * k == r / (f * c) { return k }
        }
        return nil
    }

    /// A first Conv2D's input that a published model would take rather than the first guess that
    /// fits, with the search that resolved it (no stride annotated; Keras's default padding is 'valid'):
    /// - a large kernel (7x7 or more: AlexNet's 11x11, ResNet's 7x7) is strided: an ImageNet-scale
    ///   size (200 or more, 224 first) it reads with stride 2, 4 or 3 ('valid', then 'same'), e.g.
    ///   224x224 to 54x54 with stride 4, or to ResNet's 112x112 with stride 2; a guess of a
    ///   dataset's size (a common size under 100: Geron's 7x7 on Fashion-MNIST's 28x28) stays;
    /// - a guess that is its own output size ('same') on a size no published model takes
    ///   (222x222): 'valid' padding from a common size (224x224).
    static func commonSizeAlternative(to inp: [Int], first row: SearchRow, rows: [SearchRow], doc: Document)
        -> (input: [Int], search: InferenceSearch, why: String)? {
        guard row.kinds == [.conv2D], row.o.stride == nil, inp.count == 3,
              let out = row.row.shape.known, out.count == 3, out[2] > 0,
              let k = squareKernel(params: row.row.params, filters: out[2], channels: inp[2]), k > 1 else { return nil }
        var alts: [([Int], String)] = []
        if k >= 7, !(isCommonSize(inp) && inp[0] < 100), out[0] == out[1], out[0] > 0 {
            var sides: [Int] = []
            for s in [2, 4, 3] {
                let valid = ((out[0] - 1) * s + k)...((out[0] - 1) * s + k + s - 1), same = ((out[0] - 1) * s + 1)...(out[0] * s)
                sides += (Array(valid) + Array(same)).filter { $0 >= 200 }
            }
            let why = "an ImageNet-scale size the \(k)x\(k) first Conv2D reads with a stride, as published large first kernels do"
            alts += (sides.filter { $0 == 224 } + sides.filter { $0 != 224 }).map { ([$0, $0, inp[2]], why) }
        }
        if !isCommonSize(inp), out[0] == inp[0], out[1] == inp[1] {
            alts.append(([out[0] + k - 1, out[1] + k - 1, inp[2]], "a common image size the first Conv2D reads with 'valid' padding (Keras's default)"))
        }
        for (alt, why) in alts where alt != inp && isCommonSize(alt) {
            let search = InferenceSearch(rows: rows, doc: doc)
            if search.runAll(input: alt) { return (alt, search, why) }
        }
        return nil
    }

    /// The images a Flatten of n values may have read, most likely first: a square grey or RGB
    /// image of side 8 or more (784: 28x28x1, 3072: 32x32x3, 150528: 224x224x3), else 28x28 with
    /// n / 784 channels; then the vector itself.
    static func flattenedImages(_ n: Int) -> [[Int]] {
        func side(_ m: Int) -> Int? {
            let s = Int(Double(m).squareRoot().rounded())
            return s >= 8 && s * s == m ? s : nil
        }
        var out: [[Int]] = []
        if let s = side(n) { out.append([s, s, 1]) }
        if n % 3 == 0, let s = side(n / 3) { out.append([s, s, 3]) }
        if n % 784 == 0, !out.contains([28, 28, n / 784]) { out.append([28, 28, n / 784]) }
        return out + [[n]]
    }

    /// Input shapes to try when the table does not print one (all datasets here are 28x28x1).
    static func guessInputs(first: SearchRow) -> [[Int]] {
        var out: [[Int]] = []
        let known = first.row.shape.known
        // A first layer that keeps its input's shape printed it: (None, 21) after Normalization.
        let keepsShape: Set<LayerKind> = [.batchNormalization, .layerNormalization, .normalization, .rescaling, .dropout,
                                          .spatialDropout1D, .spatialDropout2D, .activation, .relu, .leakyReLU, .softmax, .masking, .groupNormalization]
        if let k = known, !k.isEmpty, first.kinds.allSatisfy(keepsShape.contains) { out.append(k) }
        if first.kinds.contains(.dense), let u = known?.last, u > 0, known?.count == 1 {
            let p = first.row.params
            if p % u == 0, p / u > 1 { out.append([p / u - 1]) }
            if p % u == 0, p / u > 0 { out.append([p / u]) }
        }
        if first.kinds.contains(.flatten) || first.kinds.contains(.reshape), let k = known {
            out += flattenedImages(k.reduce(1, *))
        }
        out += sequenceInputs(first)
        out += RecurrentInference.guessedInputs(first)
        out += [[28, 28, 1], [28, 28, 3], [32, 32, 1], [32, 32, 3]]
        if let k = known, k.count == 3 {
            for c in [1, 3] { out.append([k[0], k[1], c]) }
            out += stridedInputs(first, output: k)
        }
        var unique: [[Int]] = []
        for s in out where !unique.contains(s) { unique.append(s) }
        // Before a Conv2D, inputs whose channel count leaves a square kernel for its count come first
        // (3 channels with 3x3 for 896 = 32 x (3x3x3 + 1), not 1 channel with 3x9).
        guard first.kinds == [.conv2D], let f = known?.last, f > 0 else { return unique }
        func square(_ s: [Int]) -> Bool { s.count == 3 && squareKernel(params: first.row.params, filters: f, channels: s[2]) != nil }
        return unique.filter(square) + unique.filter { !square($0) }
    }

    /// Before a first Conv2D with an annotated stride s > 1: the inputs its square kernel k
    /// (from the count, 1 or 3 channels) reads with that stride, 'valid' ((out - 1) s + k up to
    /// s - 1 more) and 'same' (out s), common image sizes first.
    static func stridedInputs(_ first: SearchRow, output k: [Int]) -> [[Int]] {
        guard first.kinds == [.conv2D], let s = first.o.stride, s.h > 1 || s.w > 1, k[2] > 0 else { return [] }
        var out: [[Int]] = []
        for c in [1, 3] {
            guard let kk = squareKernel(params: first.row.params, filters: k[2], channels: c) else { continue }
            for extra in 0..<max(s.h, s.w) {
                out.append([(k[0] - 1) * s.h + kk + min(extra, s.h - 1), (k[1] - 1) * s.w + kk + min(extra, s.w - 1), c])
            }
            out.append([k[0] * s.h, k[1] * s.w, c])
        }
        return out.filter(isCommonSize) + out.filter { !isCommonSize($0) }
    }

    /// Before a first Conv1D printing (L, F): the inputs (L, C) ('same') and (L + k - 1, C)
    /// ('valid') for each channel count C up to 16 that leaves a whole kernel k for its count,
    /// fewest channels first.
    static func sequenceInputs(_ first: SearchRow) -> [[Int]] {
        guard first.kinds == [.conv1D], let k = first.row.shape.known, k.count == 2, k[1] > 0 else { return [] }
        var out: [[Int]] = []
        for c in 1...16 {
            for bias in [true, false] {
                let r = first.row.params - (bias ? k[1] : 0)
                guard r > 0, r % (k[1] * c) == 0 else { continue }
                out += [[k[0], c], [k[0] + r / (k[1] * c) - 1, c]]
            }
        }
        return out
    }

    /// "models/seed000_kmnist_cnn.md" → "seed000_kmnist_cnn"; "000_x.txt" → "model_000_x".
    static func identifier(fromPath path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        let stem = base.contains(".") ? String(base[..<(base.lastIndex(of: ".") ?? base.endIndex)]) : base
        var id = String(stem.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        if id.isEmpty { id = "model" }
        if let f = id.first, f.isNumber { id = "model_" + id }
        return id
    }
}
