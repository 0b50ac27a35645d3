// PyTorchBuilder: from a `print(model)` repr and/or a torchsummary table to a ModelIR with
// PyTorch semantics.
//
// Before: a module tree (PyTorchRepr) and/or torchsummary rows (TorchSummary), annotations.
// After:  a ModelIR (semantics .pytorch, shapes [H, W, C] as everywhere in the IR) whose
//         layers are in call order, every hyperparameter set; the assumptions made (input
//         shape, call order, invisible functional ReLU / pooling / flatten calls) are listed.
//
// Call order: the `forward:` annotation when given; otherwise the declared module order, with
// Flatten inserted before the first Linear, ReLU after every Conv2d/Linear but the last when the
// model declares no activation module, and the fewest 2x2 max pools (or the model's own pool
// module) at the gaps before Conv2d/Linear that make the Linear in_features fit. A flat repr
// whose declared order does not fit is retried with its top-level parameterless modules
// (a ReLU or pool declared once, used several times) treated as functional calls.
// torchsummary tables: hidden functional calls are inferred from shape changes (a flatten where
// an image becomes a vector, a 2x2 max pool where a spatial drop needs one) and printed.

struct PTStep {
    var name: String
    var op: PTOp
    var line: Int
    var functional: Bool = false
}

enum PyTorchBuilder {
    static func chw(_ s: [Int]) -> String {
        s.count == 3 ? "[\(s[2]), \(s[0]), \(s[1])]" : "[" + s.map(String.init).joined(separator: ", ") + "]"
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
                ir.declared = t.declared
            } else {
                (ir.declared, footerLines) = publishedTotals(doc, skipping: ann.blockLines)
            }
        } else if let t = summary {
            ir = try fromSummary(t, ann: ann, doc: doc, assumptions: &assumptions)
            ir.declared = t.declared
            extraProblems = t.footerProblems
        } else {
            throw doc.error(nil, "no model description found")
        }
        for d in ann.layers where !ir.layers.contains(where: { d.matches($0.name) }) {
            throw doc.error(d.line, "layer pattern '\(d.pattern)' matches no layer (layers: \(ir.layers.prefix(8).map(\.name).joined(separator: ", "))\(ir.layers.count > 8 ? ", ..." : ""))")
        }
        ir.name = ann.name ?? IRBuilder.identifier(fromPath: doc.path)
        ir.assumptions = assumptions
        try applyOverrides(&ir, ann: ann, doc: doc)
        try SemanticDefaults.applyDataset(&ir, annotations: ann, document: doc)
        SemanticDefaults.applyTraining(&ir, annotations: ann)
        return (ir, extraProblems, footerLines)
    }

    /// Dropout rates / slopes / head activation from `layer NAME:` directives.
    static func applyOverrides(_ ir: inout ModelIR, ann: Annotations, doc: Document) throws {
        for i in ir.layers.indices {
            let o = ann.overrides(for: ir.layers[i].name)
            let line = ann.layers.first { $0.matches(ir.layers[i].name) }?.line
            switch ir.layers[i].op {
            case .dropout:
                if let r = o.rate { ir.layers[i].op = .dropout(rate: r) }
            case .activation(.leakyRelu):
                if let a = o.alpha { ir.layers[i].op = .activation(.leakyRelu(alpha: a)) }
            case .dense(let u, let b, _):
                if let a = o.activation { ir.layers[i].op = .dense(units: u, useBias: b, activation: a) }
            case .conv2d(var c):
                if let a = o.activation { c.activation = a; ir.layers[i].op = .conv2d(c) }
            default:
                if o.activation != nil || o.rate != nil {
                    throw doc.error(line, "layer '\(ir.layers[i].name)' (\(ir.layers[i].kind)) takes no activation=/rate= setting")
                }
            }
        }
    }

    /// "Total trainable parameters: 421,226", "Total number of parameters: 21,840", ... in the prose.
    static func publishedTotals(_ doc: Document, skipping: Set<Int>) -> (DeclaredTotals, [Int?]) {
        var d = DeclaredTotals()
        var lines: [Int?] = [nil, nil, nil]
        for (i, l) in doc.lines.enumerated() where !skipping.contains(i + 1) {
            let low = l.lowercased()
            guard low.has("param"), !low.has("(mb)"), !low.has("size") else { continue }
            guard let colon = l.lastIndex(of: ":") else { continue }
            let v = l[l.index(after: colon)...].trimmed
            guard let n = v.parsedCount else { continue }
            let head = low[..<(low.lastIndex(of: ":") ?? low.endIndex)]
            if head.contains("non-trainable") { d.nonTrainable = n; lines[2] = i + 1 }
            else if head.contains("total") { d.total = n; lines[0] = i + 1 }
            else if head.contains("trainable") { d.trainable = n; lines[1] = i + 1 }
        }
        return (d, lines)
    }

    // MARK: - Chain assembly

    struct Chain {
        var layers: [Layer] = []
        var shape: [Int]
        var used = Set<String>()

        mutating func unique(_ base: String) -> String {
            var n = base, k = 2
            while used.contains(n) { n = "\(base)_\(k)"; k += 1 }
            used.insert(n)
            return n
        }

        mutating func add(_ name: String, _ kind: String, _ op: Op, _ out: [Int], line: Int, declared: Int? = nil, notes: [String] = []) {
            let n = unique(name)
            layers.append(Layer(name: n, kind: kind, op: op, inputShape: shape, outputShape: out, line: line,
                                declaredParams: declared, notes: notes))
            shape = out
        }

        mutating func flatten(line: Int, note: String) {
            add("flatten", "Flatten", .flatten, [shape.reduce(1, *)], line: line, notes: [note])
        }
    }

    /// Appends one module's op to the chain (PyTorch shape rules). Throws on a shape mismatch.
    static func append(_ st: PTStep, kind: String, to c: inout Chain, doc: Document, declared: Int? = nil, notes: [String] = []) throws {
        func err(_ m: String) -> ModelError { doc.error(st.line, "module '\(st.name)' (\(kind)): \(m)") }
        let s = c.shape
        func image() throws -> (Int, Int, Int) {
            guard s.count == 3 else { throw err("needs an image input [C, H, W] but gets \(chw(s))") }
            return (s[0], s[1], s[2])
        }
        switch st.op {
        case .conv(let cin, let cout, let kh, let kw, let sh, let sw, let ph, let pw, let same, let dh, let dw, let bias):
            let (h, w, ch) = try image()
            guard ch == cin else { throw err("expects \(cin) input channels but gets \(chw(s))") }
            let oh = same ? h : convOut(h, k: kh, s: sh, p: ph, d: dh)
            let ow = same ? w : convOut(w, k: kw, s: sw, p: pw, d: dw)
            guard oh > 0, ow > 0 else { throw err("a \(kh)x\(kw) kernel does not fit the input \(chw(s))") }
            var a = Conv2DAttrs(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padding: same ? .same : .valid,
                                filters: cout, useBias: bias)
            if !same { a.explicitPadH = ph; a.explicitPadW = pw }
            a.dilationH = dh; a.dilationW = dw
            c.add(st.name, kind, .conv2d(a), [oh, ow, cout], line: st.line, declared: declared, notes: notes)
        case .linear(let inF, let outF, let bias):
            guard s.count == 1 else { throw err("needs a vector input but gets \(chw(s))") }
            guard s[0] == inF else { throw err("in_features=\(inF) but the input has \(s[0]) features") }
            c.add(st.name, kind, .dense(units: outF, useBias: bias, activation: .linear), [outF], line: st.line, declared: declared, notes: notes)
        case .batchNorm(let ch, let eps, let mom, let affine, let dims):
            if dims == 2 { _ = try image() } else if s.count != 1 { throw err("BatchNorm1d needs a vector input but gets \(chw(s))") }
            if let ch, ch != s.last { throw err("num_features=\(ch) but the input has \(s.last ?? 0) channels") }
            let a = BatchNormAttrs(scale: affine, center: affine, epsilon: eps, momentum: 1 - mom, unbiasedRunningVariance: true)
            c.add(st.name, kind, .batchNorm(a), s, line: st.line, declared: declared, notes: notes)
        case .maxPool(let kh, let kw, let sh, let sw, _, _), .avgPool(let kh, let kw, let sh, let sw, _, _):
            let (h, w, ch) = try image()
            let oh = convOut(h, k: kh, s: sh, p: 0, d: 1), ow = convOut(w, k: kw, s: sw, p: 0, d: 1)
            guard oh > 0, ow > 0 else { throw err("a \(kh)x\(kw) pool does not fit the input \(chw(s))") }
            let a = PoolAttrs(poolH: kh, poolW: kw, strideH: sh, strideW: sw, padding: .valid)
            if case .maxPool = st.op { c.add(st.name, kind, .maxPool(a), [oh, ow, ch], line: st.line, notes: notes) }
            else { c.add(st.name, kind, .avgPool(a), [oh, ow, ch], line: st.line, notes: notes) }
        case .adaptiveAvgPool(let oh, let ow), .adaptiveMaxPool(let oh, let ow):
            let (h, w, ch) = try image()
            guard h % oh == 0, w % ow == 0 else { throw err("adaptive pooling \(h)x\(w) to \(oh)x\(ow) is not a whole window; not supported") }
            let a = PoolAttrs(poolH: h / oh, poolW: w / ow, strideH: h / oh, strideW: w / ow, padding: .valid)
            let note = "adaptive pooling to \(oh)x\(ow) = a \(h / oh)x\(w / ow) pool on this input"
            if case .adaptiveAvgPool = st.op { c.add(st.name, kind, .avgPool(a), [oh, ow, ch], line: st.line, notes: notes + [note]) }
            else { c.add(st.name, kind, .maxPool(a), [oh, ow, ch], line: st.line, notes: notes + [note]) }
        case .relu: c.add(st.name, kind, .activation(.relu), s, line: st.line, notes: notes)
        case .sigmoid: c.add(st.name, kind, .activation(.sigmoid), s, line: st.line, notes: notes)
        case .tanh: c.add(st.name, kind, .activation(.tanh), s, line: st.line, notes: notes)
        case .leakyRelu(let a): c.add(st.name, kind, .activation(.leakyRelu(alpha: a)), s, line: st.line, notes: notes)
        case .elu(let a): c.add(st.name, kind, .activation(.elu(alpha: a)), s, line: st.line, notes: notes)
        case .softmax: c.add(st.name, kind, .activation(.softmax), s, line: st.line, notes: notes)
        case .logSoftmax:
            c.add(st.name, kind, .activation(.softmax), s, line: st.line,
                  notes: notes + ["log_softmax + NLL loss = softmax + cross-entropy; predictions report probabilities"])
        case .identity: break
        case .dropout(let p, let spatial):
            c.add(st.name, kind, .dropout(rate: p), s, line: st.line,
                  notes: notes + (spatial ? ["Dropout2d (whole channels) compiled as element-wise dropout with the same rate"] : []))
        case .flatten: c.add(st.name, kind, .flatten, [s.reduce(1, *)], line: st.line, notes: notes)
        case .zeroPad(let l, let r, let t, let b):
            let (h, w, ch) = try image()
            c.add(st.name, kind, .zeroPadding(top: t, bottom: b, left: l, right: r), [h + t + b, w + l + r, ch], line: st.line, notes: notes)
        }
    }

    static func kindName(_ op: PTOp, fallback: String) -> String {
        switch op {
        case .relu: return "ReLU"
        case .maxPool: return "MaxPool2d"
        case .avgPool: return "AvgPool2d"
        case .flatten: return "Flatten"
        case .logSoftmax: return "LogSoftmax"
        case .softmax: return "Softmax"
        case .leakyRelu: return "LeakyReLU"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .dropout: return "Dropout"
        default: return fallback
        }
    }

    /// Assembles steps; a Flatten is inserted before a Linear (or BatchNorm1d) that meets an image.
    static func assemble(_ steps: [PTStep], kinds: [String: String], input: [Int], doc: Document) throws -> [Layer] {
        var c = Chain(shape: input)
        for st in steps {
            var needsVector = false
            switch st.op { case .linear: needsVector = true; case .batchNorm(_, _, _, _, 1): needsVector = true; default: break }
            if needsVector && c.shape.count == 3 {
                c.flatten(line: st.line, note: "x.view(x.size(0), -1) before '\(st.name)' (NCHW order): not shown by the repr")
            }
            let kind = st.functional ? kindName(st.op, fallback: "functional") : (kinds[st.name] ?? "Module")
            try append(st, kind: kind, to: &c, doc: doc, notes: st.functional ? ["functional call (not a module)"] : [])
        }
        return c.layers
    }

    // MARK: - Repr

    static func fromRepr(_ root: PTModule, ann: Annotations, doc: Document, assumptions: inout [String]) throws -> ModelIR {
        func rejectWrappers(_ m: PTModule) throws {
            if m.isContainer, PyTorchRepr.wrappers.contains(m.type) {
                throw doc.error(m.line, "\(m.type) is a training wrapper, not a layer: print the wrapped module (model.module) instead")
            }
            for ch in m.children { try rejectWrappers(ch) }
        }
        try rejectWrappers(root)
        let leaves = root.leaves
        guard !leaves.isEmpty else { throw doc.error(root.line, "the repr lists no modules") }
        var kinds: [String: String] = [:]
        var ops: [String: PTOp] = [:]
        for m in leaves {
            ops[m.path] = try PyTorchModules.op(m, doc: doc)
            kinds[m.path] = m.type
        }
        let declared = leaves.map { PTStep(name: $0.path, op: ops[$0.path] ?? .identity, line: $0.line) }
        // Input shape: annotation (C x H x W or N), else from the first weighted module.
        var input: [Int]
        if let s = ann.inputShape {
            input = s.count == 3 ? [s[1], s[2], s[0]] : s
        } else {
            guard let first = declared.first(where: { $0.op.hasParams }) else {
                throw doc.error(root.line, "no Conv2d or Linear module; annotate `input: shape=CxHxW`")
            }
            switch first.op {
            case .conv(let cin, _, _, _, _, _, _, _, _, _, _, _):
                input = [28, 28, cin]
                assumptions.append("input shape [\(cin), 28, 28] (C x H x W): not stated by the repr (annotate `input: shape=CxHxW`)")
            case .linear(let inF, _, _):
                if inF % 784 == 0 {
                    input = [28, 28, inF / 784]
                    assumptions.append("input shape [\(inF / 784), 28, 28] flattened to \(inF) before '\(first.name)' (annotate `input: shape=CxHxW` or `shape=N`)")
                } else {
                    input = [inF]
                    assumptions.append("input shape [\(inF)]: the first Linear's in_features (annotate `input: shape=...`)")
                }
            default:
                input = [28, 28, 1]
            }
        }

        var layers: [Layer]
        if let fwd = ann.forward {
            let steps = try forwardSteps(fwd, root: root, ops: ops, line: ann.forwardLine ?? 1, doc: doc)
            layers = try assemble(steps, kinds: kinds, input: input, doc: doc)
        } else {
            assumptions.append("call order: the declared module order (annotate `forward: ...` for the order of forward())")
            let hasAct = declared.contains { $0.op.isActivation }
            var base = declared
            var notes: [String] = []
            if !hasAct {
                base = withActivations(base, op: .relu)
                notes.append("relu after every Conv2d/Linear but the last: no activation module is declared (functional F.relu assumed)")
            }
            do {
                layers = try withPools(base, pool: .maxPool(kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0), kinds: kinds, input: input, doc: doc, notes: &notes)
            } catch let first as ModelError {
                // Top-level parameterless modules declared once but called several times.
                let top = Set(root.children.filter { !$0.isContainer }.map(\.path))
                let fAct = declared.first { top.contains($0.name) && $0.op.isActivation }
                let fPool = declared.first { top.contains($0.name) && $0.op.isPool }
                guard fAct != nil || fPool != nil else { throw first }
                var rest = declared.filter { !(top.contains($0.name) && ($0.op.isActivation || $0.op.isPool)) }
                var n2: [String] = []
                if let a = fAct {
                    rest = withActivations(rest, op: a.op, name: a.name)
                    n2.append("'\(a.name)' applied after every Conv2d/Linear but the last (a module declared once, called in forward)")
                } else if !hasAct {
                    rest = withActivations(rest, op: .relu)
                    n2.append("relu after every Conv2d/Linear but the last: no activation module is declared (functional F.relu assumed)")
                }
                guard let l = try? withPools(rest, pool: fPool?.op ?? .maxPool(kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0),
                                             poolName: fPool?.name, kinds: kinds, input: input, doc: doc, notes: &n2) else { throw first }
                layers = l
                notes = n2
            }
            assumptions += notes
        }
        if layers.last?.outputShape.count == 3, let last = layers.last {
            var c = Chain(layers: layers, shape: last.outputShape, used: Set(layers.map(\.name)))
            c.flatten(line: last.line, note: "flatten of the final image output (classifier logits)")
            layers = c.layers
        }
        let inputLayer = Layer(name: uniqueInputName(layers), kind: "Input", op: .input, inputShape: input, outputShape: input,
                               line: root.line, notes: ["input [\(input.count == 3 ? "\(input[2]), \(input[0]), \(input[1])" : "\(input[0])")] (C, H, W)"])
        return ModelIR(name: "", sourcePath: doc.path, semantics: .pytorch, inputShape: input, layers: [inputLayer] + layers)
    }

    static func uniqueInputName(_ layers: [Layer]) -> String {
        var n = "input"
        while layers.contains(where: { $0.name == n }) { n += "_0" }
        return n
    }

    /// Inserts `op` after every Conv2d/Linear except the last (after a BatchNorm that follows it).
    static func withActivations(_ steps: [PTStep], op: PTOp, name: String = "relu") -> [PTStep] {
        let weighted = steps.indices.filter { if case .conv = steps[$0].op { return true }; if case .linear = steps[$0].op { return true }; return false }
        guard let lastW = weighted.last else { return steps }
        var out: [PTStep] = []
        var pending = false
        for (i, s) in steps.enumerated() {
            if pending {
                if case .batchNorm = s.op { out.append(s); continue }
                out.append(PTStep(name: name, op: op, line: s.line, functional: true)); pending = false
            }
            out.append(s)
            if weighted.contains(i) && i != lastW { pending = true }
        }
        if pending { out.append(PTStep(name: name, op: op, line: steps.last?.line ?? 0, functional: true)) }
        return out
    }

    /// Tries the steps as they are, then with the fewest pools at the gaps before Conv2d/Linear
    /// (image inputs only). Several minimal fits are an error asking for `forward:`.
    static func withPools(_ steps: [PTStep], pool: PTOp, poolName: String? = nil, kinds: [String: String], input: [Int],
                          doc: Document, notes: inout [String]) throws -> [Layer] {
        var firstError: ModelError?
        do { return try assemble(steps, kinds: kinds, input: input, doc: doc) } catch let e as ModelError { firstError = e }
        var gaps: [Int] = []
        var sawConv = false
        for (i, s) in steps.enumerated() {
            switch s.op {
            case .conv: if sawConv { gaps.append(i) }; sawConv = true
            case .linear: if sawConv { gaps.append(i) }; sawConv = false
            default: break
            }
        }
        guard !gaps.isEmpty, gaps.count <= 12 else { throw firstError ?? doc.error(nil, "no call order fits") }
        let pname = poolName ?? "max_pool2d"
        for size in 1...gaps.count {
            var fits: [([Int], [Layer])] = []
            for mask in 0..<(1 << gaps.count) where mask.nonzeroBitCount == size {
                let chosen = gaps.indices.filter { mask & (1 << $0) != 0 }.map { gaps[$0] }
                var s2: [PTStep] = []
                for (i, s) in steps.enumerated() {
                    if chosen.contains(i) { s2.append(PTStep(name: pname, op: pool, line: s.line, functional: true)) }
                    s2.append(s)
                }
                if let l = try? assemble(s2, kinds: kinds, input: input, doc: doc) { fits.append((chosen, l)) }
            }
            if fits.count == 1 {
                let before = fits[0].0.map { "'\(steps[$0].name)'" }.joined(separator: ", ")
                notes.append("\(poolName.map { "'\($0)'" } ?? "max_pool2d(2)") called before \(before): the only \(size)-pool placement that makes the shapes fit (functional pooling is not shown by the repr; annotate `forward:` to override)")
                return fits[0].1
            }
            if fits.count > 1 {
                let list = fits.prefix(3).map { $0.0.map { steps[$0].name }.joined(separator: "+") }.joined(separator: "; ")
                throw doc.error(steps.first?.line, "the call order is ambiguous: \(size) pool(s) fit before \(list); annotate `forward: ...`")
            }
        }
        throw firstError ?? doc.error(nil, "no call order fits")
    }

    /// Resolves `forward:` tokens to steps: module paths (containers expand to their leaves) and
    /// functional calls relu, leaky_relu(A), sigmoid, tanh, maxpool(K[,S]), avgpool(K[,S]),
    /// flatten, softmax, log_softmax, dropout(P).
    static func forwardSteps(_ tokens: [String], root: PTModule, ops: [String: PTOp], line: Int, doc: Document) throws -> [PTStep] {
        var out: [PTStep] = []
        var usedWeighted = Set<String>()
        for tok in tokens {
            if let m = root.find(tok), !tok.isEmpty {
                for leaf in m.leaves {
                    let op = ops[leaf.path] ?? .identity
                    if op.hasParams {
                        guard usedWeighted.insert(leaf.path).inserted else {
                            throw doc.error(line, "forward: module '\(leaf.path)' has parameters and is called twice: shared weights are not supported")
                        }
                    }
                    out.append(PTStep(name: leaf.path, op: op, line: leaf.line))
                }
                continue
            }
            var name = tok, args: [String] = []
            if let o = tok.firstIndex(of: "("), tok.hasSuffix(")") {
                name = String(tok[..<o])
                args = tok[tok.index(after: o)..<tok.index(before: tok.endIndex)].split(separator: ",").map { $0.trimmed }
            }
            func num(_ i: Int, _ def: Float?) throws -> Float {
                if i < args.count { guard let x = Float(args[i]), x.isFinite else { throw doc.error(line, "forward: '\(tok)': '\(args[i])' is not a number") }; return x }
                if let d = def { return d }
                throw doc.error(line, "forward: '\(tok)' needs an argument")
            }
            func int(_ i: Int, _ def: Int?) throws -> Int {
                let x = try num(i, def.map(Float.init))
                guard x >= 1, x <= 1024, x == x.rounded() else { throw doc.error(line, "forward: '\(tok)': expected a positive integer") }
                return Int(x)
            }
            let op: PTOp
            switch name.lowercased().replacingOccurrences(of: "f.", with: "") {
            case "relu": op = .relu
            case "leaky_relu": op = .leakyRelu(try num(0, 0.01))
            case "sigmoid": op = .sigmoid
            case "tanh": op = .tanh
            case "softmax": op = .softmax
            case "log_softmax": op = .logSoftmax
            case "flatten", "view": op = .flatten
            case "dropout":
                let p = try num(0, 0.5)
                guard p >= 0, p < 1 else { throw doc.error(line, "forward: '\(tok)': expected 0 <= p < 1") }
                op = .dropout(p, spatial: false)
            case "maxpool", "max_pool2d", "max_pool":
                let k = try int(0, nil); let s = try int(1, k)
                op = .maxPool(kh: k, kw: k, sh: s, sw: s, ph: 0, pw: 0)
            case "avgpool", "avg_pool2d", "avg_pool":
                let k = try int(0, nil); let s = try int(1, k)
                op = .avgPool(kh: k, kw: k, sh: s, sw: s, ph: 0, pw: 0)
            default:
                let mods = root.leaves.map(\.path).prefix(12).joined(separator: ", ")
                throw doc.error(line, "forward: '\(tok)' is neither a module (\(mods)) nor a call (relu, leaky_relu(A), sigmoid, tanh, maxpool(K[,S]), avgpool(K[,S]), flatten, dropout(P), softmax, log_softmax)")
            }
            out.append(PTStep(name: name.lowercased().replacingOccurrences(of: "f.", with: ""), op: op, line: line, functional: true))
        }
        let unused = root.leaves.filter { (ops[$0.path]?.hasParams ?? false) && !usedWeighted.contains($0.path) }
        if let u = unused.first {
            throw doc.error(line, "forward: module '\(u.path)' (\(u.type)) has parameters but is never called")
        }
        return out
    }

    // MARK: - torchsummary

    static func fromSummary(_ t: TSTable, ann: Annotations, doc: Document, assumptions: inout [String]) throws -> ModelIR {
        guard let first = t.rows.first else { throw doc.error(t.headerLine, "the torchsummary table has no rows") }
        var inputs: [[Int]] = []
        if let s = ann.inputShape { inputs = [s.count == 3 ? [s[1], s[2], s[0]] : s] }
        else {
            if first.type == "Linear", first.shape.count == 1 {
                let o = first.shape[0]
                for b in [1, 0] where first.params % o == 0 && first.params / o - b > 0 {
                    let n = first.params / o - b
                    inputs.append(n % 784 == 0 ? [28, 28, n / 784] : [n])
                }
            }
            inputs += [[28, 28, 1], [32, 32, 3], [32, 32, 1], [28, 28, 3]]
            if first.shape.count == 3 { inputs += [[first.shape[1], first.shape[2], 1], [first.shape[1], first.shape[2], 3]] }
        }
        var lastError: ModelError?
        for inp in inputs {
            do {
                let layers = try summaryLayers(t, input: inp, doc: doc)
                if ann.inputShape == nil {
                    assumptions.append("input shape [\(inp.count == 3 ? "\(inp[2]), \(inp[0]), \(inp[1])" : "\(inp[0])")] (C x H x W): the first that fits the first row (annotate `input: shape=CxHxW`)")
                }
                let hasAct = t.rows.contains { ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "ELU", "ReLU6"].contains($0.type) }
                var ls = layers
                if !hasAct {
                    ls = insertReLUs(ls)
                    assumptions.append("relu after every Conv2d/Linear but the last: torchsummary shows no activation rows (functional F.relu assumed)")
                }
                let inputLayer = Layer(name: uniqueInputName(ls), kind: "Input", op: .input, inputShape: inp, outputShape: inp, line: t.headerLine,
                                       notes: ["synthesized: torchsummary prints no input row"])
                let fnotes = ls.filter { $0.notes.contains { $0.hasPrefix("hidden") } }.map { "\($0.name): \($0.notes.first { $0.hasPrefix("hidden") } ?? "")" }
                assumptions += fnotes
                return ModelIR(name: "", sourcePath: doc.path, semantics: .pytorch, inputShape: inp, layers: [inputLayer] + ls)
            } catch let e as ModelError {
                if lastError == nil || (e.line ?? 0) > (lastError?.line ?? 0) { lastError = e }
                if ann.inputShape != nil { throw e }
            }
        }
        throw lastError ?? doc.error(t.headerLine, "no input shape fits the first row; annotate `input: shape=CxHxW`")
    }

    static func insertReLUs(_ layers: [Layer]) -> [Layer] {
        let weighted = layers.indices.filter { if case .conv2d = layers[$0].op { return true }; if case .dense = layers[$0].op { return true }; return false }
        guard let lastW = weighted.last else { return layers }
        var out: [Layer] = []
        var used = Set(layers.map(\.name))
        var pending: Layer?
        func relu(after l: Layer) -> Layer {
            var n = "relu", k = 2
            while used.contains(n) { n = "relu_\(k)"; k += 1 }
            used.insert(n)
            return Layer(name: n, kind: "ReLU", op: .activation(.relu), inputShape: l.outputShape, outputShape: l.outputShape,
                         line: l.line, notes: ["functional call (not shown by torchsummary)"])
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

    static let tsActivations: [String: PTOp] = ["ReLU": .relu, "ReLU6": .relu, "Sigmoid": .sigmoid, "Tanh": .tanh,
                                                "LeakyReLU": .leakyRelu(0.01), "ELU": .elu(1), "Softmax": .softmax,
                                                "LogSoftmax": .logSoftmax, "Identity": .identity]

    static func summaryLayers(_ t: TSTable, input: [Int], doc: Document) throws -> [Layer] {
        var c = Chain(shape: input)
        let pool2 = PTOp.maxPool(kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0)
        var prevDeclared: [Int]?
        for r in t.rows {
            let out = r.shape.count == 3 ? [r.shape[1], r.shape[2], r.shape[0]] : r.shape
            func err(_ m: String) -> ModelError { doc.error(r.line, "\(r.label): \(m)") }
            let step = { (op: PTOp) in PTStep(name: r.label, op: op, line: r.line) }
            func hiddenPool() throws {
                try append(PTStep(name: "max_pool2d", op: pool2, line: r.line, functional: true), kind: "MaxPool2d", to: &c, doc: doc,
                           notes: ["hidden max_pool2d(2) before \(r.label): the shapes drop by 2 between rows"])
            }
            func hiddenFlatten() {
                c.flatten(line: r.line, note: "hidden flatten before \(r.label): an image becomes a vector (NCHW order)")
            }
            switch r.type {
            case "Conv2d":
                guard out.count == 3 else { throw err("Conv2d must output [C, H, W], the table says \(r.shape)") }
                if let op = solveConv(c.shape, out: out, params: r.params) {
                    try append(step(op), kind: "Conv2d", to: &c, doc: doc, declared: r.params)
                } else if c.shape.count == 3, c.shape[0] / 2 > 0, let op = solveConv([c.shape[0] / 2, c.shape[1] / 2, c.shape[2]], out: out, params: r.params) {
                    try hiddenPool()
                    try append(step(op), kind: "Conv2d", to: &c, doc: doc, declared: r.params)
                } else {
                    throw err("no kernel/stride/padding/bias maps \(chw(c.shape)) to \(r.shape) with \(formatCount(r.params)) params (nor after a hidden 2x2 max pool)")
                }
            case "Linear":
                guard out.count == 1, let o = out.first else { throw err("Linear must output [N], the table says \(r.shape)") }
                var inF: [(Int, Bool)] = []
                if r.params % o == 0 { inF.append((r.params / o - 1, true)); inF.append((r.params / o, false)) }
                let n = c.shape.reduce(1, *)
                if let f = inF.first(where: { $0.0 == n }) {
                    if c.shape.count == 3 { hiddenFlatten() }
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
                guard let (kh, sh) = solvePool(c.shape[0], out[0]), let (kw, sw) = solvePool(c.shape[1], out[1]) else {
                    throw err("no pool size/stride maps \(chw(c.shape)) to \(r.shape)")
                }
                let isMax = r.type.contains("Max")
                try append(step(isMax ? .maxPool(kh: kh, kw: kw, sh: sh, sw: sw, ph: 0, pw: 0) : .avgPool(kh: kh, kw: kw, sh: sh, sw: sw, ph: 0, pw: 0)),
                           kind: r.type, to: &c, doc: doc, declared: 0)
            case "Flatten":
                guard r.params == 0, out == [c.shape.reduce(1, *)] else { throw err("flattening \(chw(c.shape)) cannot give \(r.shape)") }
                try append(step(.flatten), kind: "Flatten", to: &c, doc: doc, declared: 0)
            case "Dropout", "Dropout2d":
                guard r.params == 0 else { throw err("Dropout has no params") }
                if out.count == 1, c.shape.count == 3, out[0] == c.shape.reduce(1, *) { hiddenFlatten() }
                guard out == c.shape else { throw err("Dropout keeps the shape \(chw(c.shape)) but the table says \(r.shape)") }
                try append(step(.dropout(0.5, spatial: r.type == "Dropout2d")), kind: r.type, to: &c, doc: doc, declared: 0,
                           notes: ["rate not printed: 0.5 (PyTorch default; annotate `layer \(r.label): rate=...`)"])
            default:
                if let op = tsActivations[r.type] {
                    guard r.params == 0 else { throw err("\(r.type) has no params") }
                    if out.count == 1, c.shape.count == 3, out[0] == c.shape.reduce(1, *) { hiddenFlatten() }
                    guard out == c.shape else { throw err("\(r.type) keeps the shape \(chw(c.shape)) but the table says \(r.shape)") }
                    try append(step(op), kind: r.type, to: &c, doc: doc, declared: 0)
                } else if r.params == 0, let p = prevDeclared, p == r.shape {
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

    /// Conv2d hyperparameters from shapes and the count: bias, square kernel, stride 1, no padding first.
    static func solveConv(_ input: [Int], out: [Int], params: Int) -> PTOp? {
        guard input.count == 3, out.count == 3 else { return nil }
        let (h, w, c) = (input[0], input[1], input[2])
        let (oh, ow, f) = (out[0], out[1], out[2])
        guard c > 0, f > 0 else { return nil }
        var best: (PTOp, Int)?
        for bias in [true, false] {
            let r = params - (bias ? f : 0)
            guard r > 0, r % (f * c) == 0 else { continue }
            let area = r / (f * c)
            for kh in 1...min(area, 64) where area % kh == 0 {
                let kw = area / kh
                guard kw <= 64 else { continue }
                for s in 1...4 {
                    for ph in 0...(kh / 2) where convOut(h, k: kh, s: s, p: ph, d: 1) == oh {
                        for pw in 0...(kw / 2) where convOut(w, k: kw, s: s, p: pw, d: 1) == ow {
                            let key = (kh == kw ? 0 : 100000) + (bias ? 0 : 10000) + s * 1000 + (ph == pw ? 0 : 100) + ph + pw
                            if best == nil || key < best!.1 {
                                best = (.conv(cin: c, cout: f, kh: kh, kw: kw, sh: s, sw: s, ph: ph, pw: pw, same: false, dh: 1, dw: 1, bias: bias), key)
                            }
                        }
                    }
                }
            }
        }
        return best?.0
    }

    // MARK: - Reconciling a repr with a torchsummary table

    static func reconcile(_ repr: ModelIR, _ ts: ModelIR, table: TSTable, doc: Document) throws {
        func weighted(_ ir: ModelIR) -> [Layer] {
            ir.layers.filter { switch $0.op { case .conv2d, .dense, .batchNorm: return true; default: return false } }
        }
        let a = weighted(repr), b = weighted(ts)
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
