// Decoder inference: UpSampling2D (integer size per dimension, nearest or, annotated,
// bilinear) and Conv2DTranspose (kernel, stride, padding, bias, output padding).
//
//   UpSampling2D      out = (H*sh, W*sw, C), no params; size from the shapes, default 2x2;
//                     nearest and bilinear print the same (interpolation=bilinear annotates it)
//   Conv2DTranspose   params = kh*kw*C*F + b*F; out per dimension 'valid' n*s + max(k - s, 0),
//                     'same' n*s, or with Keras output_padding op (0 < op < s)
//                     (n - 1)*s + k - 2*pad + op (TransposedConv.swift); kernel factor pairs from
//                     the count, then the strides, paddings and output paddings (none preferred)
//                     that give the printed output.

enum DecoderInference {
    static func upSampling(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        if let why = PoolInference.parameterlessImage(q) { r.reason = why; return r }
        let (h, w, c) = (q.input[0], q.input[1], q.input[2])
        var size = q.o.size ?? Pair(h: 2, w: 2)   // Keras default size=(2, 2)
        if q.o.size == nil, let d = q.declaredOut {
            guard d.count == 3, d[2] == c, d[0] % h == 0, d[1] % w == 0, d[0] >= h, d[1] >= w else {
                r.reason = "nearest upsampling by whole factors cannot map \(Inference.shapeText(q.input)) to \(Inference.shapeText(d))"
                return r
            }
            size = Pair(h: d[0] / h, w: d[1] / w)
        }
        let out = [h * size.h, w * size.w, c]
        if let d = q.declaredOut, d != out {
            r.reason = "size=\(size.h)x\(size.w) gives \(Inference.shapeText(out)) but the table says \(Inference.shapeText(d))"
            return r
        }
        let op: Op = q.o.bilinear == true ? .upSamplingBilinear(sizeH: size.h, sizeW: size.w) : .upSampling(sizeH: size.h, sizeW: size.w)
        r.fits = [LayerCandidate(kind: q.kind, op: op, output: out)]
        return r
    }

    static func convTranspose(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.input.count == 3 else {
            r.reason = "Conv2DTranspose needs an image input (H, W, C) but gets \(Inference.shapeText(q.input))"; return r
        }
        if let d = q.declaredOut, d.count != 3 {
            r.reason = "Conv2DTranspose must output (H, W, C) but the table says \(Inference.shapeText(d))"; return r
        }
        var cands = candidates(q)
        cands.sort { ($0.2.h + $0.2.w, ConvInference.key($0.0, mult: 1)) < ($1.2.h + $1.2.w, ConvInference.key($1.0, mult: 1)) }
        r.fits = cands.map { LayerCandidate(kind: .conv2DTranspose, op: .conv2dTranspose($0.0, outputPaddingH: $0.2.h, outputPaddingW: $0.2.w), output: $0.1) }
        if r.fits.isEmpty {
            if let d = q.declaredOut {
                r.reason = "no kernel/stride/padding/bias maps \(Inference.shapeText(q.input)) to \(Inference.shapeText(d)) with \(formatCount(q.params)) params"
                r.detail = Fits.nearest { nearestMisses(q, out: d) }
            } else {
                r.reason = "output shape unknown and no square kernel up to 11x11 divides the \(formatCount(q.params)) params for \(q.input[2]) input channels; annotate kernel= and stride="
            }
        }
        return r
    }

    /// Every (attrs, output, output padding) fitting the query: with a printed output, each
    /// kernel factor pair of the count with each stride, padding and output padding giving it;
    /// without, a square kernel from the count with stride 1 (or annotated), valid padding (or
    /// annotated) and the annotated output padding (default none).
    static func candidates(_ q: InferenceQuery) -> [(Conv2DAttrs, [Int], Pair)] {
        let (h, w, c) = (q.input[0], q.input[1], q.input[2])
        var out: [(Conv2DAttrs, [Int], Pair)] = []
        let op0 = q.o.outputPadding ?? Pair(h: 0, w: 0)
        for bias in q.o.bias.map({ [$0] }) ?? [true, false] {
            let b = bias ? 1 : 0
            guard let d = q.declaredOut else {
                for k in ConvInference.unknownKernels {
                    let kernel = q.o.kernel ?? Pair(h: k, w: k)
                    guard c > 0, q.params > 0, q.params % (kernel.h * kernel.w * c + b) == 0 else { continue }
                    let s = q.o.stride ?? Pair(h: 1, w: 1), p = q.o.padding ?? .valid
                    let a = Conv2DAttrs(kernelH: kernel.h, kernelW: kernel.w, strideH: s.h, strideW: s.w, padding: p,
                                        filters: q.params / (kernel.h * kernel.w * c + b), useBias: bias)
                    out.append((a, TransposedConv.outputShape(a, input: q.input, outputPadding: (op0.h, op0.w)), op0))
                    if q.o.kernel != nil { break }
                }
                continue
            }
            let f = d[2]
            let rest = q.params - b * f
            guard f > 0, c > 0, rest > 0, rest % (c * f) == 0 else { continue }
            let area = rest / (c * f)
            for kh in 1...max(1, min(area, ConvInference.maxKernel)) where area % kh == 0 && area / kh <= ConvInference.maxKernel {
                let kw = area / kh
                if let k = q.o.kernel, k != Pair(h: kh, w: kw) { continue }
                for p in q.o.padding.map({ [$0] }) ?? [.valid, .same] {
                    for (sh, oph) in stridesPadded(h, out: d[0], k: kh, p, fixed: q.o.stride?.h, op: q.o.outputPadding?.h) {
                        for (sw, opw) in stridesPadded(w, out: d[1], k: kw, p, fixed: q.o.stride?.w, op: q.o.outputPadding?.w) {
                            out.append((Conv2DAttrs(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padding: p, filters: f, useBias: bias), d,
                                        Pair(h: oph, w: opw)))
                        }
                    }
                }
            }
        }
        return out
    }

    /// (stride, output padding) pairs with which a k-kernel maps n to `out` under padding p:
    /// output padding 0 (Keras's default) unless `op` is annotated, else 1 ..< stride when no
    /// stride fits without it (a table whose output is longer than the default's).
    static func stridesPadded(_ n: Int, out: Int, k: Int, _ p: Padding, fixed: Int?, op: Int?) -> [(Int, Int)] {
        if let op { return (fixed.map { [$0] } ?? Array(1...64)).filter { op < $0 && TransposedConv.outDim(n, k: k, s: $0, p, outputPadding: op) == out }.map { ($0, op) } }
        let plain = strides(n, out: out, k: k, p, fixed: fixed)
        if !plain.isEmpty { return plain.map { ($0, 0) } }
        var r: [(Int, Int)] = []
        for s in fixed.map({ [$0] }) ?? Array(2...64) {
            for o in 1..<max(s, 1) where TransposedConv.outDim(n, k: k, s: s, p, outputPadding: o) == out { r.append((s, o)) }
        }
        return r
    }

    /// Strides up to 64 with which a k-kernel maps n to `out` under padding p.
    static func strides(_ n: Int, out: Int, k: Int, _ p: Padding, fixed: Int?) -> [Int] {
        (fixed.map { [$0] } ?? Array(1...64)).filter { TransposedConv.outDim(n, k: k, s: $0, p) == out }
    }

    /// Square kernels up to 11x11 with a stride and padding giving `out`, nearest count first.
    static func nearestMisses(_ q: InferenceQuery, out d: [Int]) -> [String] {
        var near: [(Int, String)] = []
        for k in 1...11 {
            for p in [Padding.valid, .same] {
                guard let s = strides(q.input[0], out: d[0], k: k, p, fixed: nil).first,
                      strides(q.input[1], out: d[1], k: k, p, fixed: s) == [s] else { continue }
                for bias in [true, false] {
                    let n = k * k * q.input[2] * d[2] + (bias ? d[2] : 0)
                    near.append((abs(n - q.params), "\(k)x\(k) s\(s) \(p.rawValue), \(bias ? "bias" : "no bias") = \(formatCount(n))"))
                }
            }
        }
        return near.sorted { $0.0 < $1.0 }.prefix(3).map(\.1)
    }
}
