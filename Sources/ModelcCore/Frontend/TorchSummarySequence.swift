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
    /// unpadded (the PyTorch default), then the same length (padded). With the table's
    /// `Input size (MB)`: the inputs for every channel count whose size that is (a speech
    /// model's 21,536 = 32 x (672 + 1) and 3.50 MB = 224 x 4096 floats: 224 channels, kernel 3).
    static func firstConv1dInputs(_ first: TSRow, inputMB: Double? = nil) -> [[Int]] {
        guard first.type == "Conv1d", first.shape.count == 2 else { return [] }
        let (f, l) = (first.shape[0], first.shape[1])
        var out: [[Int]] = []
        for c in 1...3 {
            for b in [1, 0] where first.params > b * f && (first.params - b * f) % (f * c) == 0 {
                out.append([l + (first.params - b * f) / (f * c) - 1, c])
            }
        }
        out += [[l, 1], [l, 3]]
        guard let mb = inputMB else { return out }
        // A size no input gives (a batch_size other than 1, several inputs): the inputs above.
        let sized = conv1dInputs(first).filter { fitsInputSize($0, megabytes: mb) }
        return sized.isEmpty ? out : sized
    }

    /// [L, C] for every channel count C whose kernel (in_channels x kernel_size / C, at most 64)
    /// the first Conv1d's count leaves, bias first: unpadded, then the same length.
    static func conv1dInputs(_ first: TSRow) -> [[Int]] {
        let (f, l) = (first.shape[0], first.shape[1])
        var out: [[Int]] = []
        for b in [1, 0] where first.params > b * f && (first.params - b * f) % f == 0 {
            let ck = (first.params - b * f) / f
            for k in stride(from: min(64, ck), through: 1, by: -1) where ck % k == 0 {   // channels ascending
                out += k > 1 ? [[l + k - 1, ck / k], [l, ck / k]] : [[l, ck / k]]
            }
        }
        return out
    }

    /// Whether an input of shape `s` is what torchsummary prints as `Input size (MB)`: its
    /// floats x 4 / 2^20, to two decimals.
    static func fitsInputSize(_ s: [Int], megabytes mb: Double) -> Bool {
        abs(Double(s.reduce(1, *)) * 4 / 1_048_576 - mb) <= 0.005 + 1e-9
    }

    /// What to annotate when no input tried fits a table whose first row is a Conv1d.
    static func conv1dInputHint(_ first: TSRow, inputMB: Double?) -> String {
        let f = first.shape.first ?? 1
        let ck = first.params > f && (first.params - f) % f == 0
            ? " (\(first.label)'s count gives in_channels x kernel_size = \(formatCount((first.params - f) / f)) with a bias)" : ""
        return "; the input shape is not stated and none tried fits: annotate `input: shape=CxL`" + ck
            + (inputMB == nil ? "" : "; the table's Input size (MB) is C x L floats x 4 / 2^20")
    }
}
