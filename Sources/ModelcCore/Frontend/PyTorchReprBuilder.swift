// PyTorchReprBuilder: the layers of a `print(model)` repr (PyTorchRepr), in call order.
//
// Call order: the `forward:` annotation when given (PyTorchForward.swift); otherwise the
// declared module order, with Flatten inserted before the first Linear, ReLU after every
// Conv2d/Linear but the last when the model declares no activation module, and the fewest 2x2
// max pools (or the model's own pool module) at the gaps before Conv2d/Linear that make the
// Linear in_features fit. A flat repr whose declared order does not fit is retried with its
// top-level parameterless modules (a ReLU or pool declared once, used several times) treated
// as functional calls.

extension PyTorchBuilder {
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
}
