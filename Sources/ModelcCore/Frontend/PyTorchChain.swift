// PyTorchChain: the layer chain both PyTorch builders assemble. Each step (a module or a
// functional call) is appended with PyTorch's shape rules and throws on a shape mismatch; a
// Flatten is inserted where a Linear meets an image.

struct PTStep {
    var name: String
    var op: PTOp
    var line: Int
    var functional: Bool = false
    /// A module with parameters that `forward:` calls again: which call (1 for the second).
    var call: Int = 0
}

extension PyTorchBuilder {
    struct Chain {
        var layers: [Layer] = []
        var shape: [Int]
        var used = Set<String>()
        /// The module whose whole output sequence (a recurrent module's, an Embedding's) the
        /// shape is: (steps, features) in that order, which a flatten or Linear cannot read as [C, L].
        var recurrentSequence: String?

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
        case .conv(let cin, let cout, let kh, let kw, let sh, let sw, let ph, let pw, let same, let dh, let dw, let bias, let groups):
            let (h, w, ch) = try image()
            guard ch == cin else { throw err("expects \(cin) input channels but gets \(chw(s))") }
            let oh = same ? h : convOut(h, k: kh, s: sh, p: ph, d: dh)
            let ow = same ? w : convOut(w, k: kw, s: sw, p: pw, d: dw)
            guard oh > 0, ow > 0 else { throw err("a \(kh)x\(kw) kernel does not fit the input \(chw(s))") }
            var a = Conv2DAttrs(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padding: same ? .same : .valid,
                                filters: cout, useBias: bias)
            if !same { a.explicitPadH = ph; a.explicitPadW = pw }
            a.dilationH = dh; a.dilationW = dw
            let op: Op = groups == 1 ? .conv2d(a) : .depthwiseConv2d(a, depthMultiplier: cout / groups)
            c.add(st.name, kind, op, [oh, ow, cout], line: st.line, declared: declared, notes: notes)
        case .linear(let inF, let outF, let bias):
            // On a whole sequence [steps, features] (batch-first), every step's features.
            let steps = c.recurrentSequence != nil && s.count == 2
            guard s.count == 1 || steps else { throw err("needs a vector input but gets \(chw(s))") }
            guard s[s.count - 1] == inF else { throw err("in_features=\(inF) but the input has \(s[s.count - 1]) features") }
            c.add(st.name, kind, .dense(units: outF, useBias: bias, activation: .linear), steps ? [s[0], outF] : [outF], line: st.line, declared: declared,
                  notes: notes + (steps ? ["on every step of the sequence"] : []))
        case .batchNorm(let ch, let eps, let mom, let affine, let dims):
            if dims == 2 { _ = try image() } else if s.count != 1 && s.count != 2 {
                throw err("BatchNorm1d needs a vector [N] or sequence [C, L] input but gets \(chw(s))")
            }
            if let ch, ch != s.last { throw err("num_features=\(ch) but the input has \(s.last ?? 0) channels") }
            let a = BatchNormAttrs(scale: affine, center: affine, epsilon: eps, momentum: 1 - mom, unbiasedRunningVariance: true)
            c.add(st.name, kind, .batchNorm(a), s, line: st.line, declared: declared, notes: notes)
        case .maxPool(let kh, let kw, let sh, let sw, let pad), .avgPool(let kh, let kw, let sh, let sw, let pad):
            let (h, w, ch) = try image()
            let a = PoolAttrs(poolH: kh, poolW: kw, strideH: sh, strideW: sw, padding: .valid, explicit: pad)
            let oh = a.outDim(h, axis: 0), ow = a.outDim(w, axis: 1)
            guard oh > 0, ow > 0 else { throw err("a \(kh)x\(kw) pool does not fit the input \(chw(s))") }
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
        case .leakyRelu(let a):
            guard a >= 0 else { throw err("negative_slope=\(a): only a slope >= 0 is supported") }
            c.add(st.name, kind, .activation(.leakyRelu(alpha: a)), s, line: st.line, notes: notes)
        case .elu(let a): c.add(st.name, kind, .activation(.elu(alpha: a)), s, line: st.line, notes: notes)
        case .cappedRelu(let m): c.add(st.name, kind, .activation(.cappedRelu(max: m)), s, line: st.line, notes: notes)
        case .smooth(let a): c.add(st.name, kind, .activation(a), s, line: st.line, notes: notes)
        case .softmax(let dim), .logSoftmax(let dim):
            try checkSoftmaxDim(dim, shape: s, sequence: c.recurrentSequence != nil && s.count == 2, err: err)
            var n = notes
            if case .logSoftmax = st.op { n.append(logSoftmaxNote) }
            c.add(st.name, kind, .activation(.softmax), s, line: st.line, notes: n)
        case .identity: break
        case .dropout(let p, let spatial):
            if spatial { try checkSpatialDropout(kind, s, sequence: c.recurrentSequence != nil, err: err) }
            // Dropout2d on a vector: each value is a channel (element-wise, as PyTorch)
            c.add(st.name, kind, .dropout(rate: p, spatial: spatial && s.count > 1), s, line: st.line, notes: notes)
        case .flatten: c.add(st.name, kind, .flatten, [s.reduce(1, *)], line: st.line, notes: notes)
        case .zeroPad(let l, let r, let t, let b):
            let (h, w, ch) = try image()
            c.add(st.name, kind, .zeroPadding(top: t, bottom: b, left: l, right: r), [h + t + b, w + l + r, ch], line: st.line, notes: notes)
        case .recurrent, .embedding:
            try appendSequenceModule(st, kind: kind, to: &c, err: err)
        case .layerNorm, .groupNorm:
            c.add(st.name, kind, try normalizationOp(st.op, s, sequence: c.recurrentSequence != nil && s.count == 2, err: err), s, line: st.line,
                  declared: declared, notes: notes)
        case .conv1d, .pool1d, .adaptivePool1d, .convTranspose, .upsample, .upsampleBilinear, .zeroPad1d:
            let (op, out, note) = try sequenceOrDecoder(st.op, s, err: err)
            c.add(st.name, kind, op, out, line: st.line, declared: declared, notes: notes + (note.map { [$0] } ?? []))
        }
    }

    /// The op and output of a 1-D or decoder module on `s` (PyTorch's shape rules), and a note.
    static func sequenceOrDecoder(_ op: PTOp, _ s: [Int], err: (String) -> ModelError) throws -> (Op, [Int], String?) {
        func sequence() throws -> (Int, Int) {
            guard s.count == 2 else { throw err("needs a sequence input [C, L] but gets \(chw(s))") }
            return (s[0], s[1])
        }
        func image() throws -> (Int, Int, Int) {
            guard s.count == 3 else { throw err("needs an image input [C, H, W] but gets \(chw(s))") }
            return (s[0], s[1], s[2])
        }
        switch op {
        case .conv1d(let cin, let cout, let k, let st, let p, let same, let d, let bias):
            let (l, ch) = try sequence()
            guard ch == cin else { throw err("expects \(cin) input channels but gets \(chw(s))") }
            let ol = same ? l : convOut(l, k: k, s: st, p: p, d: d)
            guard ol > 0 else { throw err("a kernel of \(k) does not fit the input \(chw(s))") }
            var a = Conv2DAttrs(kernelH: 1, kernelW: k, strideH: 1, strideW: st, padding: same ? .same : .valid, filters: cout, useBias: bias)
            if !same { (a.explicitPadH, a.explicitPadW) = (0, p) }
            a.dilationW = d
            return (.conv2d(a), [ol, cout], nil)
        case .pool1d(let isMax, let k, let st, let pad):
            let (l, ch) = try sequence()
            let a = PoolAttrs(poolH: 1, poolW: k, strideH: 1, strideW: st, padding: .valid, explicit: pad)
            let ol = a.outDim(l, axis: 1)
            guard ol > 0 else { throw err("a pool of \(k) does not fit the input \(chw(s))") }
            return (isMax ? .maxPool(a) : .avgPool(a), [ol, ch], nil)
        case .adaptivePool1d(let isMax, let o):
            let (l, ch) = try sequence()
            guard l % o == 0 else { throw err("adaptive pooling of \(l) steps to \(o) is not a whole window; not supported") }
            let a = PoolAttrs(poolH: 1, poolW: l / o, strideH: 1, strideW: l / o, padding: .valid)
            return (isMax ? .maxPool(a) : .avgPool(a), [o, ch], "adaptive pooling to \(o) = a pool of \(l / o) on this input")
        case .convTranspose(let cin, let cout, let kh, let kw, let sh, let sw, let ph, let pw, let oph, let opw, let bias):
            let (h, w, ch) = try image()
            guard ch == cin else { throw err("expects \(cin) input channels but gets \(chw(s))") }
            var a = Conv2DAttrs(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padding: .valid, filters: cout, useBias: bias)
            (a.explicitPadH, a.explicitPadW) = (ph, pw)
            let out = TransposedConv.outputShape(a, input: [h, w, ch], outputPadding: (oph, opw))
            guard out[0] > 0, out[1] > 0 else { throw err("padding (\(ph), \(pw)) leaves no output for the input \(chw(s))") }
            return (.conv2dTranspose(a, outputPaddingH: oph, outputPaddingW: opw), out, nil)
        case .upsample(let fh, let fw, let toSize), .upsampleBilinear(let fh, let fw, let toSize):
            let (h, w, ch) = try image()
            var bilinear = false
            if case .upsampleBilinear = op { bilinear = true }
            func up(_ a: Int, _ b: Int) -> Op { bilinear ? .upSamplingBilinear(sizeH: a, sizeW: b) : .upSampling(sizeH: a, sizeW: b) }
            guard !toSize else {
                if bilinear, fh % h != 0 || fw % w != 0 {   // the same half-pixel source points as Keras Resizing
                    return (.resize(height: fh, width: fw), [fh, fw, ch], "size (\(fh), \(fw)): bilinear resize from \(h)x\(w) (align_corners=False)")
                }
                guard fh % h == 0, fw % w == 0 else { throw err("size (\(fh), \(fw)) is not a whole multiple of the input \(chw(s)); nearest upsampling by whole factors only") }
                return (up(fh / h, fw / w), [fh, fw, ch], "size (\(fh), \(fw)) = scale factor \(fh / h)x\(fw / w) on this input")
            }
            return (up(fh, fw), [h * fh, w * fw, ch], nil)
        case .zeroPad1d(let l, let r):
            let (n, ch) = try sequence()
            return (.zeroPadding(top: 0, bottom: 0, left: l, right: r), [n + l + r, ch], nil)
        default:
            throw err("not a 1-D or decoder module")
        }
    }

    static let logSoftmaxNote = "log_softmax + NLL loss = softmax + cross-entropy; predictions report probabilities"

    /// Dropout1d and Dropout2d zero PyTorch's dim 1 whole: the channels of [N, C, L] and
    /// [N, C, H, W] (the last axis here). On a recurrent module's [N, L, H] sequence dim 1 is the
    /// steps, and Dropout1d reads a vector [N, F] as one unbatched [C, L]: both refused, as is
    /// Dropout1d on an image (an error in PyTorch).
    static func checkSpatialDropout(_ kind: String, _ s: [Int], sequence: Bool, err: (String) -> ModelError) throws {
        if sequence && s.count == 2 {
            throw err("\(kind) on a recurrent module's [N, L, H] output drops whole steps (PyTorch's dim 1); modelc drops channels only: use Dropout")
        }
        if kind == "Dropout1d" && s.count != 2 {
            throw err("Dropout1d needs a sequence [C, L] (from Conv1d) but gets \(chw(s))")
        }
    }

    /// A softmax must run over the axis modelc's softmax takes, the features (the IR's last
    /// axis): PyTorch's dim 1 of [N, K], [N, C, H, W] and [N, C, L], or dim 2 (-1) of a
    /// recurrent module's [N, L, H] sequence. `dim` nil is PyTorch's implicit choice: 1, or 0
    /// (the batch) on a 3-D tensor.
    static func checkSoftmaxDim(_ dim: Int?, shape s: [Int], sequence: Bool, err: (String) -> ModelError) throws {
        let ndim = s.count + 1, features = sequence ? 2 : 1
        let d = dim.map { $0 < 0 ? $0 + ndim : $0 } ?? (ndim == 3 ? 0 : 1)
        guard d != features else { return }
        let what = dim.map { "dim=\($0)" } ?? "no dim (PyTorch then takes dim 0, the batch, of a 3-D tensor)"
        throw err("softmax with \(what) on [N, \(String(chw(s).dropFirst()))"
            + ": only the softmax over the features (dim=\(features)) is supported")
    }

    /// A LogSoftmax hands log-probabilities to what follows it; modelc computes it as a softmax,
    /// which is the same only for the last layer (with NLL loss). Throws for any other.
    static func checkLogSoftmaxLast(_ layers: [Layer], doc: Document) throws {
        guard let i = layers.firstIndex(where: { $0.notes.contains(logSoftmaxNote) }) else { return }
        if let next = layers[(i + 1)...].first(where: { if case .flatten = $0.op { return false }; return true }) {
            throw doc.error(layers[i].line, "'\(layers[i].name)' (log_softmax) is followed by '\(next.name)': only a final "
                + "log_softmax is supported (modelc computes it as a softmax, which is the same only at the end, with NLL loss); "
                + "if forward() calls it last, annotate `forward: ...` (a repr lists modules in declaration order)")
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
        var owners: [String: Int] = [:]   // a module with parameters -> its first call's layer
        for st in steps {
            var needsVector = false
            switch st.op { case .linear: needsVector = true; case .batchNorm(_, _, _, _, 1): needsVector = true; default: break }
            if let r = c.recurrentSequence, st.op.hasParams || st.op == .flatten {
                switch st.op {
                case .recurrent, .embedding: break
                default: throw doc.error(st.line, "module '\(st.name)' reads the whole output sequence of '\(r)': only a recurrent module may (annotate `layer \(r): output=last` or `output=hidden` if forward keeps one step)")
                }
            }
            // Linear meets an image or sequence (x.view(x.size(0), -1)); BatchNorm1d an image.
            if needsVector && (c.shape.count == 3 || (c.shape.count == 2 && st.op.isLinear)) {
                c.flatten(line: st.line, note: "x.view(x.size(0), -1) before '\(st.name)' (NCHW order): not shown by the repr")
            }
            let kind = st.functional ? kindName(st.op, fallback: "functional") : (kinds[st.name] ?? "Module")
            let before = c.layers.count
            try append(st, kind: kind, to: &c, doc: doc, notes: st.functional ? ["functional call (not a module)"] : [])
            guard st.op.hasParams && !st.functional else { continue }
            if st.call == 0 {
                if c.layers.count == before + 1 { owners[st.name] = before }
            } else {
                try shareWeights(st, layers: &c.layers, owner: c.layers.count == before + 1 ? owners[st.name] : nil, doc: doc)
            }
        }
        return c.layers
    }

    /// A later call of a module with parameters (`forward: ... fc ... fc`): its layer, named
    /// `fc[1]`, reads and trains the first call's weights (IR/SharedLayers.swift). Positions
    /// count from the chain's first layer; the builder shifts them past the input layer.
    static func shareWeights(_ st: PTStep, layers: inout [Layer], owner: Int?, doc: Document) throws {
        guard let o = owner, let last = layers.indices.last else {
            throw doc.error(st.line, "forward: module '\(st.name)' is called \(st.call + 1) times, but it is several layers "
                + "(a stacked or bidirectional recurrent module): only a module that is one layer can share its weights")
        }
        var name = SharedLayers.callName(st.name, st.call)
        while layers.contains(where: { $0.name == name }) { name += "_" }
        layers[last].name = name
        layers[last].sharesWeightsWith = o
        layers[last].notes.append("call \(st.call + 1) of '\(st.name)': shares its weights (counted once, on its first call)")
    }

    static func uniqueInputName(_ layers: [Layer]) -> String {
        var n = "input"
        while layers.contains(where: { $0.name == n }) { n += "_0" }
        return n
    }
}
