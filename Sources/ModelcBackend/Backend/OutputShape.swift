// The output shape of each operation on a given input, by the rules the emitted code follows
// (TF 'same' / 'valid' or explicit padding, dilated kernels by their effective extent; a 1-D
// layer's [L, C] as the 1 x L image's; transposed convolutions by TransposedConv).
// `Emitter.problems` refuses IRs whose shapes do not follow from these.

import ModelcCore

extension Emitter {
    public static func outputShape(of op: Op, input s: [Int]) -> [Int] {
        func conv(_ n: Int, _ k: Int, _ st: Int, _ p: Padding, _ explicit: Int?) -> Int {
            if let e = explicit { return (n + 2 * e - k) / st + 1 }
            return p != .valid ? (n + st - 1) / st : (n - k) / st + 1
        }
        if s.count == 2 {
            // A 1-D layer: the 2-D op on the 1 x L image.
            switch op {
            case .conv2d, .maxPool, .avgPool, .separableConv2d, .zeroPadding, .cropping, .upSampling:
                return Array(outputShape(of: op, input: [1] + s).dropFirst())
            default: break
            }
        }
        switch op {
        case .input, .batchNorm, .activation, .dropout, .lambda, .normalization: return s
        case .merge(let k): return (try? k.output([s, s]).get()) ?? s   // equal inputs; Emitter.problems checks merges by their inputs
        case .upSampling(let h, let w): return s.count == 3 ? [s[0] * h, s[1] * w, s[2]] : s
        case .conv2dTranspose(let a, let oph, let opw): return TransposedConv.outputShape(a, input: s, outputPadding: (oph, opw))
        case .zeroPadding(let t, let b, let l, let r): return s.count == 3 ? [s[0] + t + b, s[1] + l + r, s[2]] : s
        case .cropping(let t, let b, let l, let r): return s.count == 3 ? [s[0] - t - b, s[1] - l - r, s[2]] : s
        case .upSamplingBilinear(let h, let w): return s.count == 3 ? [s[0] * h, s[1] * w, s[2]] : s
        case .resize(let h, let w): return s.count == 3 ? [h, w, s[2]] : s
        case .repeatVector(let n): return [n] + s
        case .permute(let d):
            // A lifted sequence [1, L, C] keeps its leading 1.
            if s.count == d.count + 1, s.first == 1 { return [1] + outputShape(of: op, input: Array(s.dropFirst())) }
            return d.count == s.count && Set(d) == Set(1...s.count) ? d.map { s[$0 - 1] } : s
        case .conv2d(let a), .separableConv2d(let a, _):    // effective kernel extent (k - 1) * dilation + 1
            return [conv(s[0], (a.kernelH - 1) * a.dilationH + 1, a.strideH, a.padding, a.explicitPadH),
                    conv(s[1], (a.kernelW - 1) * a.dilationW + 1, a.strideW, a.padding, a.explicitPadW), a.filters]
        case .depthwiseConv2d(let a, let m):
            return [conv(s[0], (a.kernelH - 1) * a.dilationH + 1, a.strideH, a.padding, a.explicitPadH),
                    conv(s[1], (a.kernelW - 1) * a.dilationW + 1, a.strideW, a.padding, a.explicitPadW), s[2] * m]
        case .maxPool(let p), .avgPool(let p):
            return [p.outDim(s[0], axis: 0), p.outDim(s[1], axis: 1), s[2]]
        case .globalAvgPool, .globalMaxPool: return [s[s.count - 1]]
        case .flatten: return [s.reduce(1, *)]
        case .reshape(let t): return t
        case .dense(let u, _, _): return Array(s.dropLast()) + [u]
        case .recurrent(let a): return a.outputShape(steps: s.first ?? 0)
        case .embedding(_, let d, _): return s + [d]
        case .embeddingBag(let a): return [a.dim]
        case .masking, .augment: return s
        case .multiHeadAttention(let a): return a.outputShape(query: s)
        }
    }
}
