// PyTorchPoolModes: what a pooling module's repr does not print. MaxPool prints ceil_mode;
// AvgPool1d/AvgPool2d print only kernel_size, stride and padding, so their ceil_mode and
// count_include_pad come from annotations (`layer NAME: ceil_mode=true count_include_pad=false`)
// or PyTorch's defaults (False, True), with a note saying so where the choice can matter.
// An annotation that contradicts a printed argument is an error.

extension PyTorchBuilder {
    static func applyPoolModes(_ m: inout ReprModules, ann: Annotations, doc: Document, assumptions: inout [String]) throws {
        for leaf in m.root.leaves where ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"].contains(leaf.type) {
            guard let op = m.ops[leaf.path], let pool = PoolModule(op) else { continue }
            let o = ann.overrides(for: leaf.path)
            let r = PTModuleArgs(leaf, doc: doc)
            let isAvg = leaf.type.hasPrefix("Avg")
            let printed = (ceil: r.a.keyword["ceil_mode"] != nil || r.a.positional.count > (isAvg ? 3 : 5),
                           count: r.a.keyword["count_include_pad"] != nil || r.a.positional.count > 4)
            // A named directive must agree with what the repr prints; a glob's setting applies only where nothing is printed.
            let named = ann.namedOverrides(for: leaf.path)
            var ceil = pool.pad?.ceilMode ?? false
            var count = pool.pad?.countIncludePad ?? isAvg
            if let c = named.ceilMode, printed.ceil, c != ceil { throw r.err("the annotation's ceil_mode=\(c) contradicts the repr's ceil_mode=\(ceil)") }
            if named.countIncludePad != nil && !isAvg { throw r.err("count_include_pad is an AvgPool argument; a max pool never counts") }
            if let c = named.countIncludePad, printed.count, c != count { throw r.err("the annotation's count_include_pad=\(c) contradicts the repr's") }
            // A named directive wins over a glob, whichever comes first.
            if !printed.ceil, let c = named.ceilMode ?? o.ceilMode { ceil = c }
            if isAvg, !printed.count, let c = named.countIncludePad ?? o.countIncludePad { count = c }
            if isAvg && !printed.ceil && o.ceilMode == nil && pool.strided { m.unprintedCeil.insert(leaf.path) }   // ceilModeNotes
            if isAvg && !printed.count && o.countIncludePad == nil && pool.padded {
                assumptions.append("module '\(leaf.path)' (\(leaf.type)): its repr does not print count_include_pad (nor divisor_override, taken as "
                    + "none); PyTorch's default True taken (annotate `layer \(leaf.path): count_include_pad=false` if the model sets it)")
            }
            let new = pool.with(ceil: ceil, countIncludePad: count)
            m.ops[leaf.path] = new
            for i in m.declared.indices where m.declared[i].name == leaf.path { m.declared[i].op = new }
        }
    }

    /// For each AvgPool whose ceil_mode is not printed: a note where ceil_mode=True would give
    /// another output size on this input (elsewhere the choice changes nothing).
    static func ceilModeNotes(_ layers: [Layer], unprinted: Set<String>) -> [String] {
        layers.compactMap { l in
            guard unprinted.contains(l.name), case .avgPool(let a) = l.op else { return nil }
            var other = a
            var e = a.explicit ?? PoolPadding(h: 0, w: 0, ceilMode: false, countIncludePad: true)
            e.ceilMode.toggle()
            other.explicit = e
            let axes = l.isOneD ? [1] : [0, 1], input = l.isOneD ? [1] + l.inputShape : l.inputShape
            let sizes = axes.map { other.outDim(input[$0], axis: $0) }
            guard sizes != axes.map({ a.outDim(input[$0], axis: $0) }) else { return nil }
            return "module '\(l.name)' (\(l.kind)): its repr does not print ceil_mode; PyTorch's default False taken, and ceil_mode=True "
                + "would give \(sizes.map(String.init).joined(separator: "x")) here (annotate `layer \(l.name): ceil_mode=true` if the model sets it)"
        }
    }

    /// A MaxPool/AvgPool op's windows and padding, rebuilt with other modes.
    struct PoolModule {
        var op: PTOp
        var pad: PoolPadding?
        /// ceil_mode can change the output size only with a stride above 1.
        var strided: Bool
        var padded: Bool { pad.map { !$0.isZero } ?? false }

        init?(_ op: PTOp) {
            self.op = op
            switch op {
            case .maxPool(_, _, let sh, let sw, let p), .avgPool(_, _, let sh, let sw, let p):
                pad = p; strided = sh > 1 || sw > 1
            case .pool1d(_, _, let s, let p): pad = p; strided = s > 1
            default: return nil
            }
        }

        func with(ceil: Bool, countIncludePad: Bool) -> PTOp {
            let p = pad ?? PoolPadding(h: 0, w: 0, ceilMode: false, countIncludePad: false)
            let new = PoolPadding(top: p.top, left: p.left, bottom: p.bottom, right: p.right, ceilMode: ceil, countIncludePad: countIncludePad).nilIfTrivial
            switch op {
            case .maxPool(let kh, let kw, let sh, let sw, _): return .maxPool(kh: kh, kw: kw, sh: sh, sw: sw, pad: new)
            case .avgPool(let kh, let kw, let sh, let sw, _): return .avgPool(kh: kh, kw: kw, sh: sh, sw: sw, pad: new)
            case .pool1d(let isMax, let k, let s, _): return .pool1d(max: isMax, k: k, s: s, pad: new)
            default: return op
            }
        }
    }
}
