// Inference for layers with a closed-form answer: Dense (units, bias), BatchNormalization
// (scale/center from 2C/3C/4C), Flatten (HWC product), Reshape, InputLayer, and the
// shape-preserving layers (activations, Dropout, Lambda).

enum BasicInference {
    static func dense(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard let n = q.input.last, n > 0 else { r.reason = "Dense needs an input"; return r }
        let lead = Array(q.input.dropLast())
        let biases: [Bool] = q.o.bias.map { [$0] } ?? [true, false]
        if let out = q.declaredOut {
            guard let units = out.last, units > 0, Array(out.dropLast()) == lead else {
                r.reason = "Dense on \(Inference.shapeText(q.input)) cannot output \(Inference.shapeText(out))"
                return r
            }
            for b in biases where units * (n + (b ? 1 : 0)) == q.params {
                r.fits.append(LayerCandidate(kind: .dense, op: .dense(units: units, useBias: b, activation: .linear), output: out))
            }
            if r.fits.isEmpty {
                r.reason = "\(n) inputs x \(units) units cannot make \(formatCount(q.params)) params"
                var near = biases.map { "\(units) units \($0 ? "with" : "without") bias = \(formatCount(units * (n + ($0 ? 1 : 0))))" }
                if q.params > 0, q.params % units == 0 {
                    near.append("the count implies \(q.params / units - 1) inputs with bias (is a Flatten or pooling layer missing?)")
                }
                r.detail = Fits.nearest { near }
            }
            return r
        }
        for b in biases {
            let per = n + (b ? 1 : 0)
            if q.params > 0, q.params % per == 0 {
                let u = q.params / per
                r.fits.append(LayerCandidate(kind: .dense, op: .dense(units: u, useBias: b, activation: .linear), output: lead + [u]))
            }
        }
        if r.fits.isEmpty { r.reason = "\(formatCount(q.params)) params are not a multiple of \(n) or \(n + 1) inputs" }
        return r
    }

    /// The channels of a layer that keeps its input's shape (the normalizations), or nil with
    /// `r.reason` set when there is no input or the printed shape differs.
    static func keptChannels(_ q: InferenceQuery, _ r: inout Fits) -> Int? {
        guard let c = q.input.last, c > 0 else { r.reason = "\(q.kind.rawValue) needs an input"; return nil }
        if let d = q.declaredOut, d != q.input {
            r.reason = "\(q.kind.rawValue) keeps the shape \(Inference.shapeText(q.input)) but the table says \(Inference.shapeText(d))"
            return nil
        }
        return c
    }

    static func batchNorm(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard let c = keptChannels(q, &r) else { return r }
        // (scale, center) options in preference order for each count multiple.
        let options: [(Bool, Bool)] = [(true, true), (false, true), (true, false), (false, false)]
        for (s, ce) in options {
            if let os = q.o.scale, os != s { continue }
            if let oc = q.o.center, oc != ce { continue }
            if c * (2 + (s ? 1 : 0) + (ce ? 1 : 0)) == q.params {
                r.fits.append(LayerCandidate(kind: .batchNormalization,
                                             op: .batchNorm(BatchNormAttrs(scale: s, center: ce)), output: q.input))
            }
        }
        if r.fits.isEmpty {
            r.reason = "BatchNormalization over \(c) channels has 4x, 3x or 2x \(c) params, not \(formatCount(q.params))"
                + otherAxis(q.input, params: q.params)
            r.detail = Fits.nearest { ["scale+center = \(formatCount(4 * c))", "one of them = \(formatCount(3 * c))", "neither = \(formatCount(2 * c))"] }
        }
        return r
    }

    /// ", and 104 = 4 x 26, the size of axis 1: BatchNormalization(axis=1) ... is not supported" when
    /// the count fits an axis other than the channels (Keras numbers the batch axis 0).
    static func otherAxis(_ input: [Int], params: Int) -> String {
        for (i, a) in input.dropLast().enumerated() where a > 0 {
            for k in [4, 3, 2] where k * a == params {
                return ", but \(formatCount(params)) = \(k) x \(a), the size of axis \(i + 1): a BatchNormalization(axis=\(i + 1)) over a non-channel axis is not supported"
            }
        }
        return ""
    }

    static func flatten(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params == 0 else { r.reason = "has \(formatCount(q.params)) params but Flatten has none"; return r }
        let out = [q.input.reduce(1, *)]
        if let d = q.declaredOut, d != out {
            r.reason = "flattening \(Inference.shapeText(q.input)) gives \(Inference.shapeText(out)), the table says \(Inference.shapeText(d))"
            return r
        }
        r.fits = [LayerCandidate(kind: .flatten, op: .flatten, output: out)]
        return r
    }

    static func reshape(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params == 0 else { r.reason = "has \(formatCount(q.params)) params but Reshape has none"; return r }
        guard let target = q.o.target ?? q.declaredOut else {
            r.reason = "the target shape is not printed; annotate target=HxWxC"; return r
        }
        if let d = q.declaredOut, d != target {
            r.reason = "annotated target \(Inference.shapeText(target)) differs from the printed \(Inference.shapeText(d))"; return r
        }
        guard target.reduce(1, *) == q.input.reduce(1, *) else {
            r.reason = "cannot reshape \(Inference.shapeText(q.input)) (\(q.input.reduce(1, *)) values) to \(Inference.shapeText(target))"
            return r
        }
        r.fits = [LayerCandidate(kind: .reshape, op: .reshape(target), output: target)]
        return r
    }

    static func input(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params == 0 else { r.reason = "has \(formatCount(q.params)) params but InputLayer has none"; return r }
        guard !q.input.isEmpty else { r.reason = "a further InputLayer needs its whole shape printed (\(SummaryTable.printWider))"; return r }
        r.fits = [LayerCandidate(kind: .inputLayer, op: .input, output: q.input)]
        if let d = q.declaredOut, d != q.input {
            r.fits = []
            r.reason = "the input shape is \(Inference.shapeText(q.input)) but the table says \(Inference.shapeText(d))"
        }
        return r
    }

    static func elementwise(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params == 0 else { r.reason = "has \(formatCount(q.params)) params but \(q.kind.rawValue) has none"; return r }
        if let d = q.declaredOut, d != q.input {
            r.reason = q.kind == .lambda
                ? "this Lambda changes the shape \(Inference.shapeText(q.input)) to \(Inference.shapeText(d)); only elementwise Lambdas (standardize, affine, identity) are supported"
                : "\(q.kind.rawValue) keeps the shape \(Inference.shapeText(q.input)) but the table says \(Inference.shapeText(d))"
            return r
        }
        if let rank = [LayerKind.spatialDropout1D: 2, .spatialDropout2D: 3][q.kind], q.input.count != rank {
            r.reason = "\(q.kind.rawValue) drops whole channels of \(rank == 2 ? "a sequence (steps, channels)" : "an image (height, width, channels)"), not of \(Inference.shapeText(q.input))"
            return r
        }
        let op: Op
        switch q.kind {
        case .dropout: op = .dropout(rate: 0.5, spatial: false)
        case .spatialDropout1D, .spatialDropout2D: op = .dropout(rate: 0.5, spatial: true)
        case .lambda: op = .lambda(.identity)
        case .rescaling: op = .lambda(.affine(scale: 1.0 / 255.0, offset: 0))
        case .relu: op = .activation(.relu)
        case .leakyReLU: op = .activation(.leakyRelu(alpha: 0.3))
        case .softmax: op = .activation(.softmax)
        default: op = .activation(.relu)
        }
        r.fits = [LayerCandidate(kind: q.kind, op: op, output: q.input)]
        return r
    }
}
