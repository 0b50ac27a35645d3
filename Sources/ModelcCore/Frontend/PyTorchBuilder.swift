// PyTorchBuilder: from a `print(model)` repr and/or a torchsummary table to a ModelIR with
// PyTorch semantics.
//
// Before: a module tree (PyTorchRepr) and/or torchsummary rows (TorchSummary), annotations.
// After:  a ModelIR (semantics .pytorch, shapes [H, W, C] as everywhere in the IR) whose
//         layers are in call order, every hyperparameter set; the assumptions made (input
//         shape, call order, invisible functional ReLU / pooling / flatten calls) are listed.
//
// This file holds the entry point, the `layer NAME:` overrides, the published totals and the
// check that a repr and a table given together agree. The layers come from
// PyTorchReprBuilder.swift (a repr, with PyTorchForward.swift for `forward:`) or
// TorchSummaryBuilder.swift (a table), both assembled and shape-checked by PyTorchChain.swift.

enum PyTorchBuilder {
    /// An IR shape in PyTorch's order: [C, H, W] for an image [H, W, C], [C, L] for a 1-D image
    /// [L, C]; a batch-first sequence [steps, features] (`sequence`, ONNX) is in PyTorch's order.
    static func torchOrder(_ s: [Int], sequence: Bool = false) -> [Int] {
        if sequence { return s }
        switch s.count {
        case 3: return [s[2], s[0], s[1]]
        case 2: return [s[1], s[0]]
        default: return s
        }
    }

    /// An IR shape as PyTorch prints it (`torchOrder`): "[C, H, W]".
    static func chw(_ s: [Int], sequence: Bool = false) -> String { "[" + torchOrder(s, sequence: sequence).map(String.init).joined(separator: ", ") + "]" }

    /// A shape PyTorch states as [C, H, W] or [C, L] (`input: shape=`, torchsummary rows) as the IR's [H, W, C] or [L, C].
    static func irShape(chw s: [Int]) -> [Int] {
        switch s.count {
        case 3: return [s[1], s[2], s[0]]
        case 2: return [s[1], s[0]]
        default: return s
        }
    }

    static func convOut(_ n: Int, k: Int, s: Int, p: Int, d: Int) -> Int {
        let v = n + 2 * p - d * (k - 1) - 1
        return v < 0 ? 0 : v / s + 1
    }

    // MARK: - Entry

    /// Returns the IR, footer problems, and the lines of the declared total / trainable / non-trainable figures.
    static func build(repr: PTModule?, summary: TSTable?, annotations ann: Annotations, document doc: Document) throws -> (ModelIR, [ModelError], [Int?]) {
        var assumptions: [String] = []
        var footerLines: [Int?] = [summary?.totalLine, summary?.trainableLine, summary?.nonTrainableLine]
        var ir: ModelIR
        var extraProblems: [ModelError] = []
        if let r = repr {
            ir = try fromRepr(r, ann: ann, doc: doc, assumptions: &assumptions)
            if let t = summary {
                var a2: [String] = []
                let other = try fromSummary(t, ann: ann, doc: doc, assumptions: &a2)
                try reconcile(ir, other, table: t, doc: doc)
                markFrozen(&ir, like: other)
                ir.declared = t.declared
            } else {
                var partial: [Int] = []
                (ir.declared, footerLines) = publishedTotals(doc, skipping: ann.blockLines, partial: &partial)
                assumptions += partial.map { "line \($0): a parameter count that leaves modules out, not compared with the model's" }
            }
        } else if let t = summary {
            ir = try fromSummary(t, ann: ann, doc: doc, assumptions: &assumptions)
            ir.declared = t.declared
            extraProblems = t.footerProblems
        } else {
            throw doc.error(nil, "no model description found")
        }
        // `residual=false` names a container (its modules' paths start with its own).
        for d in ann.layers where !ir.layers.contains(where: { d.matches($0.name) || (d.overrides.residual != nil && $0.name.hasPrefix(d.pattern + ".")) }) {
            throw doc.error(d.line, "layer pattern '\(d.pattern)' matches no layer (layers: \(ir.layers.prefix(8).map(\.name).joined(separator: ", "))\(ir.layers.count > 8 ? ", ..." : ""))")
        }
        ir.name = ann.name ?? IRBuilder.identifier(fromPath: doc.path)
        ir.assumptions = assumptions
        try applyOverrides(&ir, ann: ann, doc: doc)
        try SemanticDefaults.applyDataset(&ir, annotations: ann, document: doc)
        SemanticDefaults.applyTraining(&ir, annotations: ann)
        try applyLogitHead(&ir, ann: ann, doc: doc)
        return (ir, extraProblems, footerLines)
    }

    /// Dropout rates / slopes / head activation from `layer NAME:` directives.
    /// `activation=leaky_relu` without alpha on a PyTorch model: F.leaky_relu's slope, 0.01
    /// (the annotation's own default, 0.2, is Keras's function's).
    static func torchSlope(_ a: Activation, _ o: LayerOverrides) -> Activation {
        if case .leakyRelu = a, o.alpha == nil { return .leakyRelu(alpha: 0.01) }
        return a
    }

    static func applyOverrides(_ ir: inout ModelIR, ann: Annotations, doc: Document) throws {
        for i in ir.layers.indices {
            let o = ann.overrides(for: ir.layers[i].name)
            let line = ann.layers.first { $0.matches(ir.layers[i].name) }?.line
            try checkPoolSettings(ir.layers[i], ann.namedOverrides(for: ir.layers[i].name), line, doc)
            try checkKerasCellSettings(ir.layers[i], ann.namedOverrides(for: ir.layers[i].name), line, doc)
            switch ir.layers[i].op {
            case .dropout(_, let spatial):
                if let r = o.rate { ir.layers[i].op = .dropout(rate: r, spatial: spatial) }
            case .activation(.leakyRelu):
                if let a = o.alpha { ir.layers[i].op = .activation(.leakyRelu(alpha: a)) }
            case .activation(.elu):
                if let a = o.alpha { ir.layers[i].op = .activation(.elu(alpha: a)) }
            case .activation(.gelu(let t)) where o.activation != nil:
                try PyTorchSmoothActivations.annotated(&ir.layers[i], printed: t, o.activation!, line: line, doc: doc)
            case .dense(let u, let b, _):
                if let a = o.activation { ir.layers[i].op = .dense(units: u, useBias: b, activation: torchSlope(a, o)) }
            case .conv2d(var c):
                if let a = o.activation { c.activation = torchSlope(a, o); ir.layers[i].op = .conv2d(c) }
            case .depthwiseConv2d(var c, let m):
                if let a = o.activation { c.activation = torchSlope(a, o); ir.layers[i].op = .depthwiseConv2d(c, depthMultiplier: m) }
            case .upSampling(let h, let w) where o.bilinear == true:
                // A torchsummary / torchinfo Upsample row does not say its mode.
                guard o.alignCorners == false else {
                    throw doc.error(line, "layer '\(ir.layers[i].name)': bilinear upsampling needs `align_corners=false` beside it (align_corners=True is not supported)")
                }
                ir.layers[i].op = .upSamplingBilinear(sizeH: h, sizeW: w)
            case .upSamplingBilinear where o.alignCorners != false:
                throw doc.error(line ?? ir.layers[i].line, "layer '\(ir.layers[i].name)' (Upsample, mode='bilinear'): the repr does not print align_corners; modelc computes align_corners=False (PyTorch's default): confirm with `layer \(ir.layers[i].name): align_corners=false` (align_corners=True is not supported)")
            default:
                if o.activation != nil || o.rate != nil || o.maxValue != nil {
                    throw doc.error(line, "layer '\(ir.layers[i].name)' (\(ir.layers[i].kind)) takes no activation=/rate=/max_value= setting")
                }
            }
        }
    }

    /// recurrent_activation=, dropout=, recurrent_dropout= and implementation= describe Keras's
    /// cells (IR/RecurrentGates.swift, IR/RecurrentCellDropout.swift): on a PyTorch model they
    /// would change nothing, so a directive naming a layer with them is an error (`o`: the named
    /// directives' settings; a glob's are not checked).
    static func checkKerasCellSettings(_ l: Layer, _ o: LayerOverrides, _ line: Int?, _ doc: Document) throws {
        guard let key = ((o.recurrentActivation != nil ? ["recurrent_activation"] : []) + o.cellDropoutKeys).first else { return }
        throw doc.error(line ?? l.line, "layer '\(l.name)' (\(l.kind)): \(key)= is a Keras recurrent layer's setting; a PyTorch recurrent module computes sigmoid gates, and its dropout (between stacked layers) is read from its repr")
    }

    /// pool=/stride=/pad=/ceil_mode=/count_include_pad= on a pool: consumed by a torchsummary row
    /// (annotatedPool) or an AvgPool's repr (applyPoolModes); otherwise they must agree with the
    /// model, which states them (a module, a forward: call, an ONNX node). A 1-D pool's sizes are
    /// single numbers and its pad P or LEFT,RIGHT. `o` holds the named directives' settings only
    /// (a glob, `layer *:`, is not checked).
    static func checkPoolSettings(_ l: Layer, _ o: LayerOverrides, _ line: Int?, _ doc: Document) throws {
        guard o.pool != nil || o.stride != nil || o.pad != nil || o.ceilMode != nil || o.countIncludePad != nil else { return }
        let a: PoolAttrs
        switch l.op {
        case .maxPool(let p), .avgPool(let p): a = p
        default:
            guard o.ceilMode == nil && o.countIncludePad == nil else {
                throw doc.error(line ?? l.line, "layer '\(l.name)' (\(l.kind)) has no '\(o.ceilMode != nil ? "ceil_mode" : "count_include_pad")' setting")
            }
            return
        }
        let oneD = l.isOneD, e = a.explicit ?? PoolPadding(h: 0, w: 0, ceilMode: false, countIncludePad: false)
        func same(_ p: Pair, _ h: Int, _ w: Int) -> Bool { oneD ? p.w == w : p == Pair(h: h, w: w) }
        var wrong: [String] = []
        if let k = o.pool, !same(k, a.poolH, a.poolW) { wrong.append("pool=\(oneD ? "\(k.w)" : "\(k.h)x\(k.w)")") }
        if let s = o.stride, !same(s, a.strideH, a.strideW) { wrong.append("stride=\(oneD ? "\(s.w)" : "\(s.h)x\(s.w)")") }
        if let p = o.pad, p != (oneD ? [e.left, e.left, e.right, e.right] : [e.top, e.bottom, e.left, e.right]) {
            wrong.append("pad=\(p.map(String.init).joined(separator: ","))")
        }
        if let c = o.ceilMode, c != e.ceilMode { wrong.append("ceil_mode=\(c)") }
        if let c = o.countIncludePad {
            guard case .avgPool = l.op else { throw doc.error(line ?? l.line, "layer '\(l.name)': count_include_pad is an average pool's setting") }
            if !e.isZero && c != e.countIncludePad { wrong.append("count_include_pad=\(c)") }
        }
        guard !wrong.isEmpty else { return }
        throw doc.error(line ?? l.line, "layer '\(l.name)': the annotation's \(wrong.joined(separator: " ")) differs from the model's pool "
            + "(\(Describe.pool(a, oneD: oneD))); an annotation cannot change what the model states")
    }

    /// Words that make a count in the prose a part of the model's count, not a total of it
    /// ("Total number of parameters (excluding the embedding layer): 165,378").
    static let partialCountWords = ["exclud", "without", "except", "not includ", "not count"]

    /// "Total trainable parameters: 421,226", "Total number of parameters: 21,840", ... in the prose;
    /// a count that leaves modules out (`partialCountWords`) is not read, and its line goes to `partial`.
    static func publishedTotals(_ doc: Document, skipping: Set<Int>, partial: inout [Int]) -> (DeclaredTotals, [Int?]) {
        var d = DeclaredTotals()
        var lines: [Int?] = [nil, nil, nil]
        for (i, l) in doc.lines.enumerated() where !skipping.contains(i + 1) {
            let low = l.lowercased()
            guard low.has("param"), !low.has("(mb)"), !low.has("size") else { continue }
            guard let colon = l.lastIndex(of: ":") else { continue }
            let v = l[l.index(after: colon)...].trimmed
            guard let n = v.parsedCount else { continue }
            let head = low[..<(low.lastIndex(of: ":") ?? low.endIndex)]
            guard !partialCountWords.contains(where: { head.contains($0) }) else { partial.append(i + 1); continue }
            if head.contains("non-trainable") { d.nonTrainable = n; lines[2] = i + 1 }
            else if head.contains("total") { d.total = n; lines[0] = i + 1 }
            else if head.contains("trainable") { d.trainable = n; lines[1] = i + 1 }
        }
        return (d, lines)
    }

    // MARK: - Reconciling a repr with a torchsummary table

    /// The positions of the Conv2d/Linear/BatchNorm layers, which a repr and its table pair in order.
    static func weightedPositions(_ ir: ModelIR) -> [Int] {
        ir.layers.indices.filter { switch ir.layers[$0].op { case .conv2d, .depthwiseConv2d, .dense, .batchNorm: return true; default: return false } }
    }

    /// The repr's layers whose table rows torchinfo printed frozen (`(1,792)`) are frozen too.
    static func markFrozen(_ repr: inout ModelIR, like table: ModelIR) {
        for (i, j) in zip(weightedPositions(repr), weightedPositions(table)) where table.layers[j].frozen == true {
            repr.layers[i].frozen = true
            repr.layers[i].notes.append(frozenRowNote(repr.layers[i]))
        }
    }

    static func reconcile(_ repr: ModelIR, _ ts: ModelIR, table: TSTable, doc: Document) throws {
        let a = weightedPositions(repr).map { repr.layers[$0] }, b = weightedPositions(ts).map { ts.layers[$0] }
        for (x, y) in zip(a, b) {
            let nx = x.paramCount - x.bufferCount, ny = y.paramCount - y.bufferCount
            if nx != ny || x.outputShape != y.outputShape {
                throw doc.error(y.line, "the repr and the torchsummary table disagree: module '\(x.name)' (\(x.kind)) gives \(chw(x.outputShape)) with \(formatCount(nx)) params, the table's \(y.name) \(chw(y.outputShape)) with \(formatCount(ny))")
            }
        }
        if a.count != b.count {
            throw doc.error(table.headerLine, "the repr has \(a.count) Conv2d/Linear/BatchNorm modules, the torchsummary table \(b.count)")
        }
    }
}
