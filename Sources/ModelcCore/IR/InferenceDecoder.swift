// Decoder inference: UpSampling2D (integer size per dimension, nearest) and Conv2DTranspose
// (kernel, stride, padding, bias).
//
//   UpSampling2D      out = (H*sh, W*sw, C), no params; size from the shapes, default 2x2
//   Conv2DTranspose   params = kh*kw*C*F + b*F; out per dimension 'valid' n*s + max(k - s, 0),
//                     'same' n*s (TransposedConv.swift); kernel factor pairs from the count,
//                     then the strides and paddings that give the printed output.

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
        r.fits = [LayerCandidate(kind: .upSampling2D, op: .upSampling(sizeH: size.h, sizeW: size.w), output: out)]
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
        cands.sort { ConvInference.key($0.0, mult: 1) < ConvInference.key($1.0, mult: 1) }
        r.fits = cands.map { LayerCandidate(kind: .conv2DTranspose, op: .conv2dTranspose($0.0, outputPaddingH: 0, outputPaddingW: 0), output: $0.1) }
        if r.fits.isEmpty {
            if let d = q.declaredOut {
                r.reason = "no kernel/stride/padding/bias maps \(Inference.shapeText(q.input)) to \(Inference.shapeText(d)) with \(formatCount(q.params)) params"
                r.nearest = nearestMisses(q, out: d)
            } else {
                r.reason = "output shape unknown and no square kernel up to 11x11 divides the \(formatCount(q.params)) params for \(q.input[2]) input channels; annotate kernel= and stride="
            }
        }
        return r
    }

    /// Every (attrs, output) fitting the query: with a printed output, each kernel factor pair
    /// of the count with each stride and padding giving it; without, a square kernel from the
    /// count with stride 1 (or annotated) and valid padding (or annotated).
    static func candidates(_ q: InferenceQuery) -> [(Conv2DAttrs, [Int])] {
        let (h, w, c) = (q.input[0], q.input[1], q.input[2])
        var out: [(Conv2DAttrs, [Int])] = []
        for bias in q.o.bias.map({ [$0] }) ?? [true, false] {
            let b = bias ? 1 : 0
            guard let d = q.declaredOut else {
                for k in ConvInference.unknownKernels {
                    let kernel = q.o.kernel ?? Pair(h: k, w: k)
                    guard c > 0, q.params > 0, q.params % (kernel.h * kernel.w * c + b) == 0 else { continue }
                    let s = q.o.stride ?? Pair(h: 1, w: 1), p = q.o.padding ?? .valid
                    let a = Conv2DAttrs(kernelH: kernel.h, kernelW: kernel.w, strideH: s.h, strideW: s.w, padding: p,
                                        filters: q.params / (kernel.h * kernel.w * c + b), useBias: bias)
                    out.append((a, TransposedConv.outputShape(a, input: q.input, outputPadding: (0, 0))))
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
                    for sh in strides(h, out: d[0], k: kh, p, fixed: q.o.stride?.h) {
                        for sw in strides(w, out: d[1], k: kw, p, fixed: q.o.stride?.w) {
                            out.append((Conv2DAttrs(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padding: p, filters: f, useBias: bias), d))
                        }
                    }
                }
            }
        }
        return out
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
