// PyTorchInputSize: the square input size of a `print(model)` repr whose modules do not fit the
// default [C, 28, 28] (issue 17): LeNet-5 (32x32: its first Linear has in_features=400 =
// 16 x 5 x 5), DCGAN discriminators (64x64: four stride-2 4x4 convolutions, then a 4x4 one).
//
// Before: the repr's modules, the failure at 28x28, no `input: shape=` annotation.
// After:  the layers for the smallest square input (28 first, then 1...512) for which every
//         module fits and the first Linear's in_features equals the flattened size, with a note
//         that says the size was inferred and which other sizes fit; or an error naming why the
//         size cannot be inferred safely.
//
// The structure must be fixed before the size is solved: the `forward:` order, or the declared
// order with the declared pools. When the repr shows no downsampling at all (no pool module, no
// strided Conv2d) forward() may pool where the repr does not show it, and when one top-level
// pool module serves several convolutions it may be called after each; then a smaller or a larger
// input fits equally well, and the error asks for `input: shape=` or `forward:`.

extension PyTorchBuilder {
    static let maxInferredInput = 512

    struct InputFit {
        var input: [Int]
        var layers: [Layer]
        var notes: [String]
        var note: String
    }

    /// The square input the repr fits after `failure` at the default size; nil when the first
    /// weighted module is not a Conv2d (the size is then not the question).
    static func inferInputSize(_ m: ReprModules, ann: Annotations, failure e: ModelError, doc: Document) throws -> InputFit? {
        guard case .conv(let cin, _, _, _, _, _, _, _, _, _, _, _, _)? = m.declared.first(where: { $0.op.hasParams })?.op else { return nil }
        let (steps, notes) = try structure(m, ann: ann, doc: doc)
        let (sizes, layers) = squareSizes(steps, kinds: m.kinds, channels: cin, doc: doc)
        func fail(_ why: String) -> ModelError {
            doc.error(e.line, e.message + "; the input size is not stated and \(why) (annotate `input: shape=\(cin)xHxW`"
                + (ann.forward == nil ? " or `forward: ...`)" : ")"))
        }
        guard let size = sizes.first, let layers else {
            throw fail("no square input from 1x1 to \(maxInferredInput)x\(maxInferredInput) fits the modules either")
        }
        if ann.forward == nil, let why = hiddenPooling(m) {
            throw fail("cannot be inferred: \(why); a [\(cin), \(size), \(size)] input fits the declared order alone")
        }
        let others = sizes.dropFirst().map { "\($0)x\($0)" }
        let note = "size \(size)x\(size) inferred (the repr does not state it): the smallest square input that fits, "
            + "\(constraint(layers))" + (others.isEmpty ? "" : "; \(others.joined(separator: ", ")) fit too")
            + " (annotate `input: shape=CxHxW`)"
        return InputFit(input: [size, size, cin], layers: layers, notes: notes, note: note)
    }

    /// The steps whose sizes are solved: the `forward:` order, or the declared order (with its
    /// notes).
    static func structure(_ m: ReprModules, ann: Annotations, doc: Document) throws -> ([PTStep], [String]) {
        if let fwd = ann.forward { return (try forwardSteps(fwd, root: m.root, ops: m.ops, line: ann.forwardLine ?? 1, doc: doc), []) }
        return try declaredBase(m, doc: doc)
    }

    /// The first four square sizes (28 first, then ascending) for which `steps` assemble, and the
    /// layers for the first. Bounded by `maxInferredInput` and the activation limit.
    static func squareSizes(_ steps: [PTStep], kinds: [String: String], channels c: Int, doc: Document) -> ([Int], [Layer]?) {
        var sizes: [Int] = []
        var first: [Layer]?
        for s in [28] + (1...maxInferredInput).filter({ $0 != 28 }) where ResourceLimits.elements([s, s, c]) != nil {
            guard let l = try? assemble(steps, kinds: kinds, input: [s, s, c], doc: doc) else { continue }
            sizes.append(s)
            if first == nil { first = l }
            if sizes.count == 4 { break }
        }
        return (sizes, first)
    }

    /// Why pooling the repr does not show may change the size, if it may.
    static func hiddenPooling(_ m: ReprModules) -> String? {
        let downsamples = m.declared.contains {
            switch $0.op {
            case .maxPool, .avgPool, .adaptiveAvgPool, .adaptiveMaxPool: return true
            case .conv(_, _, _, _, let sh, let sw, _, _, _, _, _, _, _): return sh > 1 || sw > 1
            default: return false
            }
        }
        if !downsamples {
            return "the repr declares no pooling module and no strided Conv2d, so forward() may call max_pool2d where the repr does not show it"
        }
        let topPools = m.root.children.filter { !$0.isContainer && (m.ops[$0.path]?.isPool ?? false) }
        let convs = m.declared.filter { if case .conv = $0.op { return true }; return false }.count
        if topPools.count == 1, convs >= 2 {
            return "the one pool module '\(topPools[0].path)' may be called after each of the \(convs) Conv2d modules"
        }
        return nil
    }

    /// What fixed the size: the first Linear's in_features after the flatten, or the last kernel.
    static func constraint(_ layers: [Layer]) -> String {
        if let i = layers.firstIndex(where: { if case .dense = $0.op { return true }; return false }), i > 0,
           case .flatten = layers[i - 1].op, layers[i - 1].inputShape.count >= 2 {
            let s = layers[i - 1].inputShape
            let what = s.count == 3 ? "\(s[2]) channels x \(s[0]) x \(s[1])" : "\(s[1]) channels x \(s[0]) steps"
            return "where '\(layers[i].name)' in_features=\(s.reduce(1, *)) is \(what)"
        }
        return "where every kernel fits (output \(chw(layers.last?.outputShape ?? [])))"
    }

    static let maxInferredLength = 4096

    /// The input length of a repr whose first weighted module is a Conv1d: the smallest length
    /// (up to 4096) for which every module fits and the first Linear's in_features equals the
    /// flattened size. Refused when a much longer input fits too (nothing fixes the length), or
    /// when pooling the repr does not show could change it.
    static func inferSequenceLength(_ m: ReprModules, ann: Annotations, channels c: Int, doc: Document) throws -> InputFit {
        let (steps, notes) = try structure(m, ann: ann, doc: doc)
        var fits: [Int] = []
        var first: [Layer]?
        for l in 1...maxInferredLength where ResourceLimits.elements([l, c]) != nil {
            guard let ls = try? assemble(steps, kinds: m.kinds, input: [l, c], doc: doc) else { continue }
            fits.append(l)
            if first == nil { first = ls }
            if fits.count == 4 { break }
        }
        func fail(_ why: String) -> ModelError {
            doc.error(m.root.line, "the input length is not stated and \(why) (annotate `input: shape=\(c)xL`)")
        }
        guard let l = fits.first, let layers = first else { throw fail("no length from 1 to \(maxInferredLength) fits the modules") }
        let far = min(4 * l + 64, maxInferredLength)
        if far > fits.last ?? l, (try? assemble(steps, kinds: m.kinds, input: [far, c], doc: doc)) != nil {
            throw fail("every length from \(l) fits (no Linear fixes it)")
        }
        if ann.forward == nil, !m.declared.contains(where: {
            switch $0.op {
            case .pool1d, .adaptivePool1d: return true
            case .conv1d(_, _, _, let s, _, _, _, _): return s > 1
            default: return false
            } }) {
            throw fail("cannot be inferred: the repr declares no pooling module and no strided Conv1d, so forward() may call max_pool1d where the repr does not show it; a [\(c), \(l)] input fits the declared order alone")
        }
        let others = fits.dropFirst().map(String.init)
        let note = "length \(l) inferred (the repr does not state it): the smallest input length that fits, \(constraint(layers))"
            + (others.isEmpty ? "" : "; \(others.joined(separator: ", ")) fit too") + " (annotate `input: shape=CxL`)"
        return InputFit(input: [l, c], layers: layers, notes: notes, note: note)
    }
}
