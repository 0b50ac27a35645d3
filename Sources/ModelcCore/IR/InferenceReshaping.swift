// Inference for the layers that move values without weights: Cropping2D (Cropping1D through
// OneDInference), RepeatVector and Permute.
//
//   Cropping2D    out = (H - top - bottom, W - left - right, C); the table fixes only each
//                 dimension's total, so every split fits: the symmetric one (odd extra at the
//                 bottom/right) is chosen and the others are listed in the layer's notes
//                 (annotate crop=TOP,BOTTOM,LEFT,RIGHT). Without an output shape: crop= or
//                 Keras's default (nothing cropped).
//   RepeatVector  (D) -> (n, D); n from the output shape or n=.
//   Permute       Keras dims, 1-based after the batch axis: out[i] = in[dims[i] - 1]; every
//                 permutation giving the printed shape fits, a non-identity one is preferred
//                 (annotate dims= when the sizes repeat).

enum ReshapingInference {
    /// Splits of `total` cropped rows into (before, after): symmetric first (odd extra after), at most 8.
    static func splits(_ total: Int) -> [(Int, Int)] {
        guard total > 0 else { return [(0, 0)] }
        let all = (0...total).map { ($0, total - $0) }
        return Array(all.sorted { (abs($0.0 - $0.1), $0.1 < $0.0 ? 1 : 0, $0.0) < (abs($1.0 - $1.1), $1.1 < $1.0 ? 1 : 0, $1.0) }.prefix(8))
    }

    static func cropping(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        if let why = PoolInference.parameterlessImage(q) { r.reason = why; return r }
        let (h, w, c) = (q.input[0], q.input[1], q.input[2])
        var options: [[Int]] = []
        if let p = q.o.crop {
            options = [p]
        } else if let d = q.declaredOut {
            guard d.count == 3, d[2] == c, d[0] >= 1, d[1] >= 1, d[0] <= h, d[1] <= w else {
                r.reason = "cropping cannot map \(q.shape(q.input)) to \(q.shape(d))"; return r
            }
            for (t, b) in splits(h - d[0]) { for (l, rr) in splits(w - d[1]) { options.append([t, b, l, rr]) } }
        } else {
            options = [q.unitHeight ? [0, 0, 1, 1] : [0, 0, 0, 0]]   // Keras defaults: Cropping1D (1, 1), Cropping2D none
        }
        for p in options {
            let out = [h - p[0] - p[1], w - p[2] - p[3], c]
            guard out[0] >= 1, out[1] >= 1 else {
                r.reason = "cropping \(p) leaves nothing of \(q.shape(q.input))"; return r
            }
            if let d = q.declaredOut, d != out {
                r.reason = "crop=\(p.map(String.init).joined(separator: ",")) gives \(q.shape(out)) but the table says \(q.shape(d))"
                return r
            }
            r.fits.append(LayerCandidate(kind: q.kind, op: .cropping(top: p[0], bottom: p[1], left: p[2], right: p[3]), output: out))
        }
        return r
    }

    /// Keras Resizing: the output size is the table's (or `target=HxW`), the channels kept.
    static func resizing(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        let (t, why) = imageTarget(q)
        if let t { r.fits = [LayerCandidate(kind: .resizing, op: .resize(height: t[0], width: t[1]), output: t)] } else { r.reason = why }
        return r
    }

    /// Keras CenterCrop to the table's size (or `target=HxW`): a crop starting at row (H - h) / 2
    /// and column (W - w) / 2, rounded down (the odd row or column goes to the bottom/right). A
    /// size larger than the input (which Keras resizes to first) is refused.
    static func centerCrop(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        let (target, why) = imageTarget(q)
        guard let t = target else { r.reason = why; return r }
        guard t[0] <= q.input[0], t[1] <= q.input[1] else {
            r.reason = "CenterCrop to \(t[0])x\(t[1]), larger than its input \(q.input[0])x\(q.input[1]), resizes first (Keras's smart_resize); not supported"
            return r
        }
        r.fits = [LayerCandidate(kind: .centerCrop, op: centerCropOp(input: q.input, height: t[0], width: t[1]), output: t)]
        return r
    }

    /// The output image of a parameterless layer that sets height and width (Resizing,
    /// CenterCrop): the table's shape or `target=HxW` with the input's channels, or why not.
    static func imageTarget(_ q: InferenceQuery) -> (target: [Int]?, reason: String) {
        if let why = PoolInference.parameterlessImage(q) { return (nil, why) }
        guard let t = q.o.target.map({ $0.count >= 2 ? [$0[0], $0[1], q.input[2]] : [] }) ?? q.declaredOut else {
            return (nil, "the output size is not printed; annotate `target=HxW`")
        }
        guard t.count == 3, t[2] == q.input[2], t[0] >= 1, t[1] >= 1 else {
            return (nil, "\(q.kind.rawValue) keeps the \(q.input[2]) channels of \(q.shape(q.input)) and sets height and width, not \(q.shape(t))")
        }
        if let d = q.declaredOut, d != t { return (nil, "target=\(t[0])x\(t[1]) gives \(q.shape(t)) but the table says \(q.shape(d))") }
        return (t, "")
    }

    static func centerCropOp(input s: [Int], height: Int, width: Int) -> Op {
        let top = (s[0] - height) / 2, left = (s[1] - width) / 2
        return .cropping(top: top, bottom: s[0] - height - top, left: left, right: s[1] - width - left)
    }

    static func repeatVector(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params == 0 else { r.reason = "has \(formatCount(q.params)) params but RepeatVector has none"; return r }
        guard q.input.count == 1 else { r.reason = "RepeatVector needs a vector input (features) but gets \(Inference.shapeText(q.input))"; return r }
        guard let n = q.o.repeats ?? q.declaredOut?.first else {
            r.reason = "the repeat count is not printed; annotate n=N"; return r
        }
        let out = [n, q.input[0]]
        if let d = q.declaredOut, d != out {
            r.reason = "repeating \(Inference.shapeText(q.input)) \(n) times gives \(Inference.shapeText(out)) but the table says \(Inference.shapeText(d))"
            return r
        }
        r.fits = [LayerCandidate(kind: .repeatVector, op: .repeatVector(n), output: out)]
        return r
    }

    /// Every permutation of 1...n, in lexicographic order.
    static func permutations(_ n: Int) -> [[Int]] {
        guard n > 1 else { return [[1]] }
        var out: [[Int]] = []
        for p in permutations(n - 1) {
            for i in 0...p.count { var q = p; q.insert(n, at: i); out.append(q) }
        }
        return out.sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func permute(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params == 0 else { r.reason = "has \(formatCount(q.params)) params but Permute has none"; return r }
        let n = q.input.count
        guard (2...3).contains(n) else { r.reason = "Permute needs a sequence or an image input but gets \(Inference.shapeText(q.input))"; return r }
        var options = q.o.dims.map { [$0] } ?? permutations(n)
        if q.o.dims == nil {
            let identity = Array(1...n)
            options = options.filter { $0 != identity } + [identity]
            if q.declaredOut == nil { r.reason = "the output shape is not printed; annotate dims= (e.g. dims=2,1)"; return r }
        }
        for d in options {
            guard d.count == n else { r.reason = "dims=\(d) has \(d.count) axes but the input \(Inference.shapeText(q.input)) has \(n)"; return r }
            let out = d.map { q.input[$0 - 1] }
            if let decl = q.declaredOut, decl != out { continue }
            r.fits.append(LayerCandidate(kind: .permute, op: .permute(d), output: out))
        }
        if r.fits.isEmpty {
            r.reason = "no permutation of \(Inference.shapeText(q.input)) gives \(Inference.shapeText(q.declaredOut))"
        }
        return r
    }
}
