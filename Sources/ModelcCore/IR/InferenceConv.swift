// Convolution inference: Conv2D, SeparableConv2D and DepthwiseConv2D.
//
//   Conv2D            params = F*(kh*kw*C + b)
//   SeparableConv2D   params = kh*kw*C*m + C*m*F + b*F
//   DepthwiseConv2D   params = kh*kw*C*m + b*C*m           (output channels C*m)
// Kernel factor pairs (kh, kw) are enumerated (non-square included), then per dimension the
// strides that map the input to the printed output under valid or same padding (TF rules).

enum ConvInference {
    static let maxKernel = 64
    static let unknownKernels = [3, 5, 1, 7, 2, 4, 9, 11]

    struct Geometry { var kh: Int; var kw: Int; var sh: Int; var sw: Int; var padding: Padding; var dh = 1; var dw = 1 }

    /// All (stride, padding) combinations mapping H x W to OH x OW with kernel kh x kw.
    static func geometries(h: Int, w: Int, oh: Int, ow: Int, kh: Int, kw: Int, o: LayerOverrides,
                           dilation: Int = 1) -> [Geometry] {
        if let k = o.kernel, k != Pair(h: kh, w: kw) { return [] }
        var out: [Geometry] = []
        let pads: [Padding] = o.padding.map { [$0] } ?? [.valid, .same]
        // Effective extents; a dilation of 1 on a 1-wide kernel changes nothing.
        let dh = kh > 1 ? dilation : 1, dw = kw > 1 ? dilation : 1
        if dilation > 1 && dh == 1 && dw == 1 { return [] }
        // Keras refuses strides above 1 with a dilation: an annotated stride rules dilations out.
        if dilation > 1, let s = o.stride, s.h > 1 || s.w > 1 { return [] }
        let eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1
        for p in pads {
            // A 1x1 window never needs padding: 'same' computes exactly what 'valid' does.
            if p == .same && eh == 1 && ew == 1 && pads.count > 1 { continue }
            let fixedH = dilation > 1 ? 1 : o.stride?.h, fixedW = dilation > 1 ? 1 : o.stride?.w
            let shs = strides(n: h, out: oh, k: eh, p, fixed: fixedH)
            let sws = strides(n: w, out: ow, k: ew, p, fixed: fixedW)
            for sh in shs { for sw in sws { out.append(Geometry(kh: kh, kw: kw, sh: sh, sw: sw, padding: p, dh: dh, dw: dw)) } }
        }
        return out
    }

    static func strides(n: Int, out: Int, k: Int, _ p: Padding, fixed: Int?) -> [Int] {
        if let s = fixed { return Inference.outDim(n, k: k, s: s, p) == out ? [s] : [] }
        var r: [Int] = []
        var s = 1
        while s <= max(1, min(n, 64)) {
            if Inference.outDim(n, k: k, s: s, p) == out { r.append(s) }
            s += 1
        }
        return r
    }

    static func attrs(_ g: Geometry, filters: Int, bias: Bool) -> Conv2DAttrs {
        var a = Conv2DAttrs(kernelH: g.kh, kernelW: g.kw, strideH: g.sh, strideW: g.sw, padding: g.padding,
                            filters: filters, useBias: bias)
        a.dilationH = g.dh; a.dilationW = g.dw
        return a
    }

    static func op(_ kind: LayerKind, _ a: Conv2DAttrs, mult: Int) -> Op {
        switch kind {
        case .separableConv2D: return .separableConv2d(a, depthMultiplier: mult)
        case .depthwiseConv2D: return .depthwiseConv2d(a, depthMultiplier: mult)
        default: return .conv2d(a)
        }
    }

    static func count(_ kind: LayerKind, c: Int, f: Int, kh: Int, kw: Int, m: Int, bias: Bool) -> Int {
        let b = bias ? 1 : 0
        switch kind {
        case .separableConv2D: return kh * kw * c * m + c * m * f + b * f
        case .depthwiseConv2D: return kh * kw * c * m + b * c * m
        default: return f * (kh * kw * c + b)
        }
    }

    /// Preference: square kernel, bias on, multiplier 1, smallest stride, equal strides, valid, small kernel.
    static func key(_ a: Conv2DAttrs, mult: Int) -> Int {
        // Lexicographic order of (non-square, no bias, multiplier, stride sum, unequal strides,
        // same padding, dilation, kernel area, kernel height), packed into one integer.
        var k = a.kernelH == a.kernelW ? 0 : 1
        k = k * 2 + (a.useBias ? 0 : 1)
        k = k * 2048 + min(mult, 2047)
        k = k * 256 + min(a.strideH + a.strideW, 255)
        k = k * 2 + (a.strideH == a.strideW ? 0 : 1)
        k = k * 2 + (a.padding == .valid ? 0 : 1)
        k = k * 8 + min(a.dilationH + a.dilationW, 7)
        k = k * 8192 + min(a.kernelH * a.kernelW, 8191)
        return k * 128 + min(a.kernelH, 127)
    }

    static func solve(_ q: InferenceQuery) -> Fits {
        guard q.input.count == 3 else {
            var result = Fits()
            result.reason = "\(q.kind.rawValue) needs an image input (H, W, C) but gets \(Inference.shapeText(q.input))"
            return result
        }
        guard let out = q.declaredOut else { return solveUnknownOutput(q) }
        return solveDeclaredOutput(q, out: out)
    }

    /// Output shape unknown (`multiple`): conventional kernel, stride 1 (or annotated), valid
    /// padding; filters from the count.
    static func solveUnknownOutput(_ q: InferenceQuery) -> Fits {
        var result = Fits()
        let (h, w, c) = (q.input[0], q.input[1], q.input[2])
        let biases: [Bool] = q.o.bias.map { [$0] } ?? [true, false]
        var cands: [(Conv2DAttrs, Int)] = []
        let kernels = q.o.kernel.map { [$0] } ?? unknownKernels.map { Pair(h: q.unitHeight ? 1 : $0, w: $0) }
        let s = q.o.stride ?? Pair(h: 1, w: 1)
        let p = q.o.padding ?? .valid
        for k in kernels {
            for b in biases {
                guard let (f, m) = filtersFromCount(q, kernel: k, channels: c, bias: b) else { continue }
                let oh = Inference.outDim(h, k: k.h, s: s.h, p), ow = Inference.outDim(w, k: k.w, s: s.w, p)
                guard oh > 0, ow > 0, f > 0 else { continue }
                let a = attrs(Geometry(kh: k.h, kw: k.w, sh: s.h, sw: s.w, padding: p), filters: f, bias: b)
                cands.append((a, m))
            }
        }
        result.fits = cands.map { LayerCandidate(kind: q.kind, op: op(q.kind, $0.0, mult: $0.1),
                                                 output: [Inference.outDim(h, k: $0.0.kernelH, s: $0.0.strideH, $0.0.padding),
                                                          Inference.outDim(w, k: $0.0.kernelW, s: $0.0.strideW, $0.0.padding),
                                                          q.kind == .depthwiseConv2D ? c * $0.1 : $0.0.filters]) }
        if result.fits.isEmpty {
            result.reason = "output shape unknown and no \(unknownKernels.map { q.unitHeight ? "\($0)" : "\($0)x\($0)" }.joined(separator: "/")) kernel divides the \(formatCount(q.params)) params for \(c) input channels; annotate kernel="
        }
        return result
    }

    /// The filters and depth multiplier with which a `k` kernel over `c` input channels has
    /// exactly the query's parameter count, if any.
    static func filtersFromCount(_ q: InferenceQuery, kernel k: Pair, channels c: Int, bias b: Bool) -> (f: Int, m: Int)? {
        let bi = b ? 1 : 0
        var f = 0, m = q.o.depthMultiplier ?? 1
        switch q.kind {
        case .depthwiseConv2D:
            let per = k.h * k.w * c * m + bi * c * m
            guard per == q.params else { return nil }
            f = c * m
        case .separableConv2D:
            let rest = q.params - k.h * k.w * c * m
            guard rest > 0, c * m + bi > 0, rest % (c * m + bi) == 0 else { return nil }
            f = rest / (c * m + bi)
        default:
            let per = k.h * k.w * c + bi
            guard per > 0, q.params > 0, q.params % per == 0 else { return nil }
            f = q.params / per; m = 1
        }
        return (f, m)
    }

    /// Output shape declared: every kernel, stride, padding, bias and multiplier that maps the
    /// input to it with the count, in preference order; or why none does and the nearest misses.
    static func solveDeclaredOutput(_ q: InferenceQuery, out: [Int]) -> Fits {
        var result = Fits()
        guard out.count == 3 else {
            result.reason = "\(q.kind.rawValue) must output (H, W, C) but the table says \(q.shape(out))"
            return result
        }
        let c = q.input[2]
        let f = out[2]
        guard f > 0, c > 0 else { result.reason = "zero channels"; return result }
        var mults: [Int]
        switch q.kind {
        case .depthwiseConv2D:
            guard f % c == 0 else {
                result.reason = "output channels \(f) are not a multiple of the \(c) input channels"
                return result
            }
            mults = [f / c]
        case .separableConv2D: mults = Array(1...16)
        default: mults = [1]
        }
        if let m = q.o.depthMultiplier { mults = mults.filter { $0 == m } }
        var cands = declaredCandidates(q, out: out, mults: mults)
        cands.sort { key($0.0, mult: $0.1) < key($1.0, mult: $1.1) }
        result.fits = cands.map { LayerCandidate(kind: q.kind, op: op(q.kind, $0.0, mult: $0.1), output: out) }
        if result.fits.isEmpty {
            result.reason = "no kernel/stride/padding/bias maps \(q.shape(q.input)) to \(q.shape(out)) with \(formatCount(q.params)) params"
            result.detail = {
                let near = nearestMisses(q, out: out)
                if !near.isEmpty { return "; nearest: " + near.prefix(3).map(\.1).joined(separator: "; ") }
                return q.unitHeight ? " (no kernel up to 11 with any stride and padding gives that output length)"
                                    : " (no kernel up to 11x11, square or not, with any stride and padding gives that output size)"
            }
        }
        return result
    }

    /// The (attrs, multiplier) pairs mapping the (H, W, C) input to `out` (H, W, F) with the
    /// count, unsorted. Dilation is unconventional: tried only when no undilated kernel fits.
    static func declaredCandidates(_ q: InferenceQuery, out: [Int], mults: [Int]) -> [(Conv2DAttrs, Int)] {
        let (h, w, c) = (q.input[0], q.input[1], q.input[2])
        let (oh, ow, f) = (out[0], out[1], out[2])
        let biases: [Bool] = q.o.bias.map { [$0] } ?? [true, false]
        var cands: [(Conv2DAttrs, Int)] = []
        for dilation in q.o.dilation.map({ [$0] }) ?? [1, 2, 3, 4] where cands.isEmpty {
            for m in mults {
                for b in biases {
                    guard let area = kernelArea(q, channels: c, filters: f, mult: m, bias: b) else { continue }
                    for kh in 1...(q.unitHeight ? 1 : max(1, min(area, maxKernel))) where area % kh == 0 {
                        let kw = area / kh
                        guard kw <= maxKernel else { continue }
                        for g in geometries(h: h, w: w, oh: oh, ow: ow, kh: kh, kw: kw, o: q.o, dilation: dilation) {
                            cands.append((attrs(g, filters: f, bias: b), m))
                        }
                    }
                }
            }
        }
        return cands
    }

    /// The kernel area kh*kw for this (multiplier, bias), if the count leaves a whole one.
    static func kernelArea(_ q: InferenceQuery, channels c: Int, filters f: Int, mult m: Int, bias b: Bool) -> Int? {
        let bi = b ? 1 : 0
        switch q.kind {
        case .separableConv2D:
            let r = q.params - bi * f - c * m * f
            guard r > 0, r % (c * m) == 0 else { return nil }
            return r / (c * m)
        case .depthwiseConv2D:
            let r = q.params - bi * c * m
            guard r > 0, r % (c * m) == 0 else { return nil }
            return r / (c * m)
        default:
            let r = q.params - bi * f
            guard r > 0, r % (f * c) == 0 else { return nil }
            return r / (f * c)
        }
    }

    /// Nearest misses for `out`: square and non-square kernels (4x1, 1x4, ...) up to 11x11 whose
    /// geometry fits, ranked by how far their count is (ties keep the square one first).
    static func nearestMisses(_ q: InferenceQuery, out: [Int]) -> [(Int, String)] {
        let (h, w, c) = (q.input[0], q.input[1], q.input[2])
        let (oh, ow, f) = (out[0], out[1], out[2])
        var near: [(Int, String)] = []
        let m0 = q.kind == .depthwiseConv2D ? f / c : (q.o.depthMultiplier ?? 1)
        for kh in 1...(q.unitHeight ? 1 : 11) {
            for kw in 1...11 {
                for b in [true, false] {
                    var o2 = q.o; o2.kernel = nil
                    for g in geometries(h: h, w: w, oh: oh, ow: ow, kh: kh, kw: kw, o: o2).prefix(1) {
                        let n = count(q.kind, c: c, f: f, kh: kh, kw: kw, m: m0, bias: b)
                        near.append((abs(n - q.params) * 2 + (kh == kw ? 0 : 1),
                                     "\(Describe.conv(attrs(g, filters: f, bias: b), mult: q.kind == .conv2D ? nil : m0, oneD: q.unitHeight)) = \(formatCount(n))"))
                    }
                }
            }
        }
        near.sort { $0.0 < $1.0 }
        return near
    }
}
