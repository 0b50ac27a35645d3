// TorchSummarySequence: the 1-D and decoder rows of a torchsummary or torchinfo table (Conv1d,
// AdaptiveAvg/MaxPool1d, ConvTranspose2d, Upsample, UpsamplingNearest2d; MaxPool1d and AvgPool1d
// are TorchSummaryBuilder.tablePool's):
// each module's hyperparameters solved from its input, printed output and count, as the
// conventional choice among the fits (bias on, square kernel, smallest stride, least padding).
//
//   Conv1d           params = F*(k*C + b);  out = floor((L + 2p - k)/s) + 1
//   ConvTranspose2d  params = kh*kw*C*F + b*F;  out = (n - 1)*s - 2p + k + outputPadding
//   adaptive pools   whole windows
//   Upsample         out = n * whole factor

extension PyTorchBuilder {
    static func sequenceOrDecoderOp(_ r: TSRow, input s: [Int], out: [Int], err: (String) -> ModelError) throws -> PTOp {
        let message = "no \(r.type) hyperparameters map \(chw(s)) to \(r.shape) with \(formatCount(r.params)) params"
        func fail() -> ModelError { err(message) }
        switch r.type {
        case "Conv1d":
            guard s.count == 2, out.count == 2, let op = solveConv1d(s, out: out, params: r.params) else { throw fail() }
            return op
        case "ConvTranspose2d":
            guard s.count == 3, out.count == 3, let op = solveConvTranspose(s, out: out, params: r.params) else { throw fail() }
            return op
        case "Upsample", "UpsamplingNearest2d":
            guard r.params == 0, s.count == 3, out.count == 3, out[2] == s[2], out[0] % s[0] == 0, out[1] % s[1] == 0 else { throw fail() }
            return .upsample(h: out[0] / s[0], w: out[1] / s[1], toSize: false)
        default:
            guard r.params == 0, s.count == 2, out.count == 2, out[1] == s[1] else { throw fail() }
            return .adaptivePool1d(max: r.type.contains("Max"), out: out[0])   // MaxPool1d/AvgPool1d: tablePool
        }
    }

    /// Conv1d from [L, C] to [L', F]: bias first, then the smallest stride and padding.
    static func solveConv1d(_ s: [Int], out: [Int], params: Int) -> PTOp? {
        let (l, c, ol, f) = (s[0], s[1], out[0], out[1])
        guard c > 0, f > 0 else { return nil }
        for bias in [true, false] {
            let rest = params - (bias ? f : 0)
            guard rest > 0, rest % (f * c) == 0 else { continue }
            let k = rest / (f * c)
            guard k <= 64 else { continue }
            for st in 1...4 {
                for p in 0...(k / 2) where convOut(l, k: k, s: st, p: p, d: 1) == ol {
                    return .conv1d(cin: c, cout: f, k: k, s: st, p: p, same: false, d: 1, bias: bias)
                }
            }
        }
        return nil
    }

    /// ConvTranspose2d from [H, W, C] to [OH, OW, F]: bias first, square kernels, then the
    /// smallest stride, output padding and padding.
    static func solveConvTranspose(_ s: [Int], out: [Int], params: Int) -> PTOp? {
        let (c, f) = (s[2], out[2])
        guard c > 0, f > 0 else { return nil }
        var best: (PTOp, Int)?
        for bias in [true, false] {
            let rest = params - (bias ? f : 0)
            guard rest > 0, rest % (f * c) == 0 else { continue }
            let area = rest / (f * c)
            for kh in 1...min(area, 64) where area % kh == 0 && area / kh <= 64 {
                let kw = area / kh
                guard let (sh, ph, oh) = transposedDim(s[0], out[0], k: kh), let (sw, pw, ow) = transposedDim(s[1], out[1], k: kw) else { continue }
                let key = (bias ? 0 : 1_000_000) + (kh == kw ? 0 : 100_000) + (sh + sw) * 1000 + (oh + ow) * 100 + ph + pw
                if best == nil || key < best!.1 {
                    best = (.convTranspose(cin: c, cout: f, kh: kh, kw: kw, sh: sh, sw: sw, ph: ph, pw: pw, oph: oh, opw: ow, bias: bias), key)
                }
            }
        }
        return best?.0
    }

    /// (stride, padding, output padding) with which a k-kernel maps n to out, smallest first.
    static func transposedDim(_ n: Int, _ out: Int, k: Int) -> (Int, Int, Int)? {
        for st in 1...4 {
            for op in 0..<st {
                for p in 0..<k where TransposedConv.outDim(n, k: k, s: st, .valid, explicit: p, outputPadding: op) == out {
                    return (st, p, op)
                }
            }
        }
        return nil
    }

    /// Inputs a first Conv1d row implies: for 1 to 3 channels, the kernel its count leaves,
    /// unpadded (the PyTorch default), then the same length (padded).
    static func firstConv1dInputs(_ first: TSRow) -> [[Int]] {
        guard first.type == "Conv1d", first.shape.count == 2 else { return [] }
        let (f, l) = (first.shape[0], first.shape[1])
        var out: [[Int]] = []
        for c in 1...3 {
            for b in [1, 0] where first.params > b * f && (first.params - b * f) % (f * c) == 0 {
                out.append([l + (first.params - b * f) / (f * c) - 1, c])
            }
        }
        return out + [[l, 1], [l, 3]]
    }
}
