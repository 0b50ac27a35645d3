// PyTorchReprBuilder: the layers of a `print(model)` repr (PyTorchRepr), in call order.
//
// Call order: the `forward:` annotation when given (PyTorchForward.swift); otherwise the
// declared module order, with Flatten inserted before the first Linear, ReLU after every
// Conv2d/Linear but the last when the model declares no activation module (or only a head),
// its one activation module there instead (PyTorchReuse.swift), and the fewest 2x2 max pools
// (or the model's own pool module) at the gaps before Conv2d/Linear that make the Linear
// in_features fit. A flat repr whose declared order does not fit is retried with its top-level
// parameterless modules (a ReLU or pool declared once, used several times) treated as
// functional calls, each called at least once: a module no order calls is never dropped.

extension PyTorchBuilder {
    /// A repr's modules, read once: the leaves in declared order with their ops and class names.
    struct ReprModules {
        var root: PTModule
        var declared: [PTStep]
        var ops: [String: PTOp]
        var kinds: [String: String]
        /// AvgPool modules whose ceil_mode neither the repr nor an annotation says (PyTorchPoolModes).
        var unprintedCeil: Set<String> = []
        /// The paths of the root's own modules that hold no others (not inside a Sequential child).
        var topLeaves: Set<String> { Set(root.children.filter { !$0.isContainer }.map(\.path)) }
        /// The paths of its nn.Sequential containers (sequentialPaths).
        var sequential: Set<String> = []
    }

    static func fromRepr(_ root: PTModule, ann: Annotations, doc: Document, assumptions: inout [String]) throws -> ModelIR {
        try PyTorchKnownBlocks.check(root, ann: ann, doc: doc)
        try PyTorchKnownBlocks.checkResidualAnnotations(root, ann: ann, doc: doc)
        var m = try readModules(root, doc: doc)
        try applyRecurrentOutputs(&m, ann: ann, doc: doc, assumptions: &assumptions)
        try applyPoolModes(&m, ann: ann, doc: doc, assumptions: &assumptions)
        let movedDropout = ann.forward == nil ? moveTrailingDropout(&m) : nil
        var (input, inputNote) = try defaultInput(m, ann: ann, doc: doc)
        var notes: [String] = []
        var layers: [Layer]
        var inputNotes: [String] = []
        if ann.inputShape == nil, case .conv1d(let cin, _, _, _, _, _, _, _)? = m.declared.first(where: { $0.op.hasParams })?.op {
            // A sequence's length is never the default: solved from what the modules fix.
            let fit = try inferSequenceLength(m, ann: ann, channels: cin, doc: doc)
            (input, layers, notes, inputNote, inputNotes) = (fit.input, fit.layers, fit.notes, nil, [fit.note])
        } else {
            do {
                layers = try callOrder(m, ann: ann, input: input, doc: doc, notes: &notes)
            } catch let e as ModelError {
                guard ann.inputShape == nil else { throw e }
                let inferred: Result<InputFit?, Error> = Result { try inferInputSize(m, ann: ann, failure: e, doc: doc) }
                if case .success(let found?) = inferred {
                    // Said once, under the inference notes, instead of the default size's assumption.
                    (input, layers, notes, inputNote, inputNotes) = (found.input, found.layers, found.notes, nil, [found.note])
                } else if let hinted = datasetInput(m, ann: ann, doc: doc), let l = try? callOrder(m, ann: ann, input: hinted.0, doc: doc, notes: &notes) {
                    (input, layers, inputNote) = (hinted.0, l, hinted.1)
                } else {
                    if case .failure(let inferError) = inferred { throw inferError }
                    throw e
                }
            }
        }
        assumptions += inputNote.map { [$0] } ?? []
        assumptions += notes
        assumptions += movedDropout.map { [$0] } ?? []
        assumptions += ceilModeNotes(layers, unprinted: m.unprintedCeil)
        if case .embedding = layers.last?.op { throw doc.error(layers.last?.line, "the model ends with an Embedding's sequence; nothing reads it") }
        if case .recurrent(let a) = layers.last?.op, a.returnSequences, let last = layers.last {
            throw doc.error(last.line, "the model ends with the whole output sequence of '\(a.torch?.module ?? last.name)': flattening (steps, features) is not supported; annotate `output=last` or `output=hidden`")
        }
        if (layers.last?.outputShape.count ?? 0) >= 2, let last = layers.last {
            var c = Chain(layers: layers, shape: last.outputShape, used: Set(layers.map(\.name)))
            c.flatten(line: last.line, note: "flatten of the final image or sequence output (classifier logits)")
            layers = c.layers
        }
        try checkLogSoftmaxLast(layers, doc: doc)
        let inputLayer = Layer(name: uniqueInputName(layers), kind: "Input", op: .input, inputShape: input, outputShape: input,
                               line: root.line, notes: [PyTorchBuilder.inputNote(input, first: layers.first)] + inputNotes)
        // Shared weights point to chain positions; the input layer comes first.
        let shifted = layers.map { l -> Layer in var l = l; l.sharesWeightsWith = l.sharesWeightsWith.map { $0 + 1 }; return l }
        return ModelIR(name: "", sourcePath: doc.path, semantics: .pytorch, inputShape: input, layers: [inputLayer] + shifted)
    }

    /// The leaves and their ops; training wrappers are rejected.
    static func readModules(_ root: PTModule, doc: Document) throws -> ReprModules {
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
        return ReprModules(root: root, declared: declared, ops: ops, kinds: kinds, sequential: sequentialPaths(root))
    }

    /// Input shape: the annotation (C x H x W or N), else from the first weighted module (a
    /// [C, 28, 28] image before a Conv2d), with the assumption to print when it was not annotated.
    static func defaultInput(_ m: ReprModules, ann: Annotations, doc: Document) throws -> ([Int], String?) {
        if let s = try sequenceInput(m, ann: ann, doc: doc) { return (s, nil) }
        if let s = ann.inputShape { return (irShape(chw: s), nil) }
        guard let first = m.declared.first(where: { $0.op.hasParams }) else {
            throw doc.error(m.root.line, "no Conv2d or Linear module; annotate `input: shape=CxHxW`")
        }
        switch first.op {
        case .conv(let cin, _, _, _, _, _, _, _, _, _, _, _, _):
            return ([28, 28, cin], "input shape [\(cin), 28, 28] (C x H x W): not stated by the repr (annotate `input: shape=CxHxW`)")
        case .linear(let inF, _, _):
            if inF % 784 == 0 {
                return ([28, 28, inF / 784], "input shape [\(inF / 784), 28, 28] flattened to \(inF) before '\(first.name)' (annotate `input: shape=CxHxW` or `shape=N`)")
            }
            return ([inF], "input shape [\(inF)]: the first Linear's in_features (annotate `input: shape=...`)")
        default:
            return ([28, 28, 1], nil)
        }
    }

    /// When the sizes leave the input open: CIFAR-10's 3x32x32 before a first Conv2d of 3 channels
    /// in a document that names CIFAR-10 (the dataset modelc then trains on), with its note.
    static func datasetInput(_ m: ReprModules, ann: Annotations, doc: Document) -> ([Int], String)? {
        guard case .conv(3, _, _, _, _, _, _, _, _, _, _, _, _)? = m.declared.first(where: { $0.op.hasParams })?.op,
              ann.dataset ?? DatasetFacts.guess(doc.text)?.0 == "cifar10" else { return nil }
        return ([32, 32, 3], "input shape [3, 32, 32] (C x H x W): CIFAR-10's images, which the document names; the repr's sizes leave it open (annotate `input: shape=CxHxW`)")
    }

    /// The layers in call order for `input`: `forward:` when annotated, else the declared order
    /// with the assumed activations and pools (see the file comment).
    static func callOrder(_ m: ReprModules, ann: Annotations, input: [Int], doc: Document, notes: inout [String]) throws -> [Layer] {
        if let fwd = ann.forward {
            let steps = try forwardSteps(fwd, root: m.root, ops: m.ops, line: ann.forwardLine ?? 1, doc: doc)
            return try assemble(steps, kinds: m.kinds, input: input, doc: doc)
        }
        // Without a Linear nothing fixes the shapes: one pool module for several convolutions
        // may be called after each of them, and the declared order would read another network.
        let topPools = m.root.children.filter { !$0.isContainer && (m.ops[$0.path]?.isPool ?? false) }
        let convs = m.declared.filter(\.op.isConvolution).count
        if !m.declared.contains(where: \.op.isLinear), topPools.count == 1, convs >= 2 {
            throw doc.error(m.root.line, "the call order is ambiguous: the one pool module '\(topPools[0].path)' may be called after each of the "
                + "\(convs) convolutions, and no Linear fixes the shapes; annotate `forward: ...`")
        }
        var (base, baseNotes) = try declaredBase(m, doc: doc)
        do {
            let layers = try withPools(base, pool: .maxPool(kh: 2, kw: 2, sh: 2, sw: 2, pad: nil), kinds: m.kinds, input: input,
                                       inputAnnotated: ann.inputShape != nil, doc: doc, notes: &baseNotes)
            notes += baseNotes
            return layers
        } catch let first as ModelError {
            // Top-level parameterless modules declared once but called several times (a head stays).
            let top = m.topLeaves
            let reused = { (s: PTStep) in top.contains(s.name) && (s.op.isPool || (s.op.isActivation && !isHeadActivation(s, m))) }
            let fAct = m.declared.first { reused($0) && $0.op.isActivation }
            let fPool = m.declared.first { reused($0) && $0.op.isPool }
            guard fAct != nil || fPool != nil else { throw first }
            base = m.declared.filter { !reused($0) }
            var n2 = [baseNotes[0]]
            if let a = fAct {
                base = withActivations(base, op: a.op, name: a.name, sequential: m.sequential)
                n2.append(reuseNote(a.name))
            } else if let note = assumedReluNote(m) {
                base = withActivations(base, op: .relu, sequential: m.sequential)
                n2.append(note)
            }
            // The pool module is called at least once, and no module taken out is left out.
            guard let l = try? withPools(base, pool: fPool?.op ?? .maxPool(kh: 2, kw: 2, sh: 2, sw: 2, pad: nil), poolName: fPool?.name,
                                         minPools: fPool == nil ? 0 : 1, kinds: m.kinds, input: input, inputAnnotated: ann.inputShape != nil,
                                         doc: doc, notes: &n2),
                  Set(m.declared.filter(reused).map(\.name)).isSubset(of: l.map(\.name)) else { throw first }
            notes += n2
            return l
        }
    }

    static let reluNote = "relu after every Conv2d/Linear but the last: no activation module is declared (functional F.relu assumed)"

    /// The declared order, with ReLU after every Conv2d/Linear but the last when the model
    /// declares no activation module (or only a head), or its one activation module there when
    /// forward() must reuse it (PyTorchReuse.swift), and the notes that say so.
    static func declaredBase(_ m: ReprModules, doc: Document) throws -> ([PTStep], [String]) {
        var notes = ["call order: the declared module order (annotate `forward: ...` for the order of forward())"]
        let blocks = customBlocks(m.root)
        if !blocks.isEmpty {
            notes.append("custom blocks run as chains of their modules: \(blocks.prefix(4).joined(separator: ", "))\(blocks.count > 4 ? " and \(blocks.count - 4) more" : ""); "
                         + "a residual add or other logic in their forward() is not in a repr (annotate `forward: ...`)")
        }
        if let a = try reusedActivation(m, doc: doc) {
            notes.append(reuseNote(a.name))
            return (withActivations(m.declared.filter { $0.name != a.name }, op: a.op, name: a.name, sequential: m.sequential), notes)
        }
        guard let relu = assumedReluNote(m) else { return (m.declared, notes) }
        let steps = withActivations(m.declared, op: .relu, sequential: m.sequential)
        if steps.count == m.declared.count {
            notes.append("no activation: no activation module is declared, and forward() cannot call one between the children of an nn.Sequential, which runs them one after another")
        } else if steps.count < withActivations(m.declared, op: .relu).count {
            notes.append(relu.replacingOccurrences(of: "but the last:", with: "but the last and those followed by a module of the same nn.Sequential (nothing runs there):"))
        } else {
            notes.append(relu)
        }
        return (steps, notes)
    }

    /// Whether nothing can run between modules a and b: their nearest common container and every
    /// container below it on the way to each of them is an nn.Sequential (nested Sequentials run
    /// as one chain; a custom block's forward() may call anything after its modules).
    static func runBackToBack(_ a: String, _ b: String, sequential: Set<String>) -> Bool {
        let common = commonContainer(a, b)
        guard sequential.contains(common) else { return false }
        let depth = common.isEmpty ? 0 : common.split(separator: ".").count
        for path in [a, b] {
            let parents = path.split(separator: ".").dropLast()
            for k in stride(from: depth, to: parents.count, by: 1) where !sequential.contains(parents.prefix(k + 1).joined(separator: ".")) {
                return false
            }
        }
        return true
    }

    /// The path of the nearest container holding both modules ("features" for "features.0.2" and
    /// "features.1"; "" for the root).
    static func commonContainer(_ a: String, _ b: String) -> String {
        let (x, y) = (a.split(separator: ".").dropLast(), b.split(separator: ".").dropLast())
        return zip(x, y).prefix { $0 == $1 }.map { String($0.0) }.joined(separator: ".")
    }

    /// The paths of the nn.Sequential modules ("" for a Sequential root): nothing runs between their children.
    static func sequentialPaths(_ root: PTModule) -> Set<String> {
        var out: Set<String> = root.type == "Sequential" ? [""] : []
        func walk(_ m: PTModule) {
            for c in m.children where c.isContainer {
                if c.type == "Sequential" { out.insert(c.path) }
                walk(c)
            }
        }
        walk(root)
        return out
    }

    /// Containers below the root that are not Sequential, ModuleList or ModuleDict ("BasicBlock
    /// (layer1.0)"): their forward() may do more than call their modules in order.
    static func customBlocks(_ root: PTModule) -> [String] {
        var out: [String] = []
        func walk(_ m: PTModule) {
            for c in m.children where c.isContainer {
                if !["Sequential", "ModuleList", "ModuleDict"].contains(c.type) { out.append("\(c.type) (\(c.path))") }
                walk(c)
            }
        }
        walk(root)
        return out
    }

    /// Inserts `op` after every convolution/Linear except the last (after a BatchNorm that follows
    /// it), but never where nothing can run (runBackToBack; `sequential`: the Sequentials' paths).
    static func withActivations(_ steps: [PTStep], op: PTOp, name: String = "relu", sequential: Set<String> = []) -> [PTStep] {
        let weighted = steps.indices.filter { steps[$0].op.isConvolution || steps[$0].op.isLinear }
        guard let lastW = weighted.last else { return steps }
        var out: [PTStep] = []
        var pending: PTStep?
        for (i, s) in steps.enumerated() {
            if let p = pending {
                if case .batchNorm = s.op { out.append(s); continue }
                if !runBackToBack(p.name, s.name, sequential: sequential) {
                    out.append(PTStep(name: name, op: op, line: s.line, functional: true))
                }
                pending = nil
            }
            out.append(s)
            if weighted.contains(i) && i != lastW { pending = s }
        }
        if pending != nil { out.append(PTStep(name: name, op: op, line: steps.last?.line ?? 0, functional: true)) }
        return out
    }

    /// Tries the steps as they are (unless `minPools` is 1: a pool module that must be called),
    /// then with the fewest pools at the gaps before Conv2d/Linear (image inputs only). Several
    /// minimal fits are an error asking for `forward:`.
    static func withPools(_ steps: [PTStep], pool: PTOp, poolName: String? = nil, minPools: Int = 0, kinds: [String: String], input: [Int],
                          inputAnnotated: Bool = false, doc: Document, notes: inout [String]) throws -> [Layer] {
        var firstError: ModelError?
        if minPools == 0 {
            do { return try assemble(steps, kinds: kinds, input: input, doc: doc) } catch let e as ModelError { firstError = e }
        }
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
                let sized = input.count != 3 ? "" : inputAnnotated ? " for the annotated \(input[0])x\(input[1]) input"
                    : " for the \(input[0])x\(input[1]) input (another input size may fit another number of calls)"
                notes.append("\(poolName.map { "'\($0)'" } ?? "max_pool2d(2)") called before \(before): the only \(size)-pool placement that makes the shapes fit\(sized) (functional pooling is not shown by the repr; annotate `forward:` to override)")
                return fits[0].1
            }
            if fits.count > 1 {
                let list = fits.prefix(3).map { $0.0.map { steps[$0].name }.joined(separator: "+") }.joined(separator: "; ")
                throw doc.error(steps.first?.line, "the call order is ambiguous: \(size) pool(s) fit before \(list); annotate `forward: ...`")
            }
        }
        throw firstError ?? doc.error(nil, "no call order fits")
    }
}
