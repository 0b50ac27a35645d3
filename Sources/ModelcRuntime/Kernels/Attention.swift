// Multi-head attention (Keras MultiHeadAttention) over a chunk of images, forward and backward
// side by side, llm.c style. Every product runs on Gemm.runtime (Kernels/GemmRuntime.swift:
// this file is compiled in the runtime, with run-time sizes): the four projections batched over
// the chunk's images, and per image and head the scores, the mix and their gradients, as small
// GEMMs; the rows of p are padded to Tp (Tv rounded up to 16), so that the GEMMs with Tp columns
// (the scores, dpd) fill whole vectors.
// The softmax's exponentials 16 at a time (Kernels/VectorMath.swift).
//
// Shapes (one image; Tq query steps, Tv value steps; Dq, Dk, Dv input features of the query,
// key and value inputs; H heads of key size K and value size V; O outputs):
//   query  [Tq, Dq]   Wq [Dq, H*K]  bq [H*K]       q = query Wq + bq          [Tq, H*K]
//   key    [Tv, Dk]   Wk [Dk, H*K]  bk [H*K]       k = key Wk + bk            [Tv, H*K]
//   value  [Tv, Dv]   Wv [Dv, H*V]  bv [H*V]       v = value Wv + bv          [Tv, H*V]
//   p[h, i, :] = softmax_j(q[i, h] . k[j, h] / sqrt(K))   (causal: only j <= i)   [H, Tq, Tp]
//   pd = dropout(p) in training (inverted; the mask kept)                        [H, Tq, Tp]
//   o[i, h] = sum_j pd[h, i, j] v[j, h]                                          [Tq, H*V]
//   y = o Wo + bo                    Wo [H*V, O]   bo [O]                        [Tq, O]
// Rows of p are Tp long, zero past the attended steps. The forward keeps q, k, v, p, (pd and
// the mask), o per image in `state`; the per-image scratch `work` holds do [Tq, H*V], dq
// [Tq, H*K], dk [Tv, H*K], dv [Tv, H*V], ds [Tq, Tp] (one head's) and one head's k or v
// transposed, [max(K, V), Tp] (the forward's scores use it too). Every gradient tensor is
// stored (not accumulated): one chunk's partial sums.
//   backward: dWo = o^T dy, dbo = sum dy, do = dy Wo^T; per head:
//             dpd = do_h v_h^T, dv_h = pd^T do_h,
//             ds = p * (dp - rowsum(dp * p)) / sqrt(K) with dp = dpd * mask,
//             dq_h = ds k_h, dk_h = ds^T q_h;
//             then dW = input^T d(projection), db = sum d(projection), dinput = d(projection) W^T.

/// The sizes of one attention layer.
public struct AttentionGeometry: Sendable {
    public let queryLength: Int, sourceLength: Int
    public let queryFeatures: Int, keyFeatures: Int, valueFeatures: Int
    public let heads: Int, keySize: Int, valueSize: Int, outputs: Int
    /// Dropout on the attention probabilities in training (0: none, and no pd or mask kept).
    public let dropout: Float
    /// Query step i attends to source steps j <= i only (Keras use_causal_mask).
    public let causal: Bool

    public init(queryLength: Int, sourceLength: Int, queryFeatures: Int, keyFeatures: Int, valueFeatures: Int,
                heads: Int, keySize: Int, valueSize: Int, outputs: Int, dropout: Float = 0, causal: Bool = false) {
        self.queryLength = queryLength; self.sourceLength = sourceLength
        self.queryFeatures = queryFeatures; self.keyFeatures = keyFeatures; self.valueFeatures = valueFeatures
        self.heads = heads; self.keySize = keySize; self.valueSize = valueSize; self.outputs = outputs
        self.dropout = dropout; self.causal = causal
    }

    var hk: Int { heads * keySize }
    var hv: Int { heads * valueSize }
    /// Tp: the length of a row of p, Tv rounded up to whole 16-float vectors.
    var paddedSources: Int { (sourceLength + 15) / 16 * 16 }
    var probabilities: Int { heads * queryLength * paddedSources }
    // state: q, k, v, p, (pd, mask), o
    var kOffset: Int { queryLength * hk }
    var vOffset: Int { kOffset + sourceLength * hk }
    var pOffset: Int { vOffset + sourceLength * hv }
    var pdOffset: Int { pOffset + probabilities }
    var maskOffset: Int { pdOffset + probabilities }
    var oOffset: Int { pOffset + probabilities * (dropout > 0 ? 3 : 1) }
    public var stateFloats: Int { oOffset + queryLength * hv }
    // work: do, dq, dk, dv, ds, one head's k or v transposed
    var dqOffset: Int { queryLength * hv }
    var dkOffset: Int { dqOffset + queryLength * hk }
    var dvOffset: Int { dkOffset + sourceLength * hk }
    var dsOffset: Int { dvOffset + sourceLength * hv }
    var transposedOffset: Int { dsOffset + queryLength * paddedSources }
    public var workFloats: Int { transposedOffset + max(keySize, valueSize) * paddedSources }
    /// Floats of the transposed kernels: Wo^T, then Wq^T, Wk^T, Wv^T with `inputGradient`.
    public func transposedFloats(inputGradient: Bool) -> Int {
        hv * outputs + (inputGradient ? queryFeatures * hk + keyFeatures * hk + valueFeatures * hv : 0)
    }
    /// The source steps query step i attends to.
    func attended(_ i: Int) -> Int { causal ? min(i + 1, sourceLength) : sourceLength }
}

/// Where a layer's tensors sit in the parameter vector (the same offsets in the gradients);
/// nil biases: use_bias=False.
public struct AttentionOffsets: Sendable {
    public let query: Int, key: Int, value: Int, output: Int
    public let queryBias: Int?, keyBias: Int?, valueBias: Int?, outputBias: Int?
    public init(query: Int, queryBias: Int?, key: Int, keyBias: Int?, value: Int, valueBias: Int?, output: Int, outputBias: Int?) {
        self.query = query; self.key = key; self.value = value; self.output = output
        self.queryBias = queryBias; self.keyBias = keyBias; self.valueBias = valueBias; self.outputBias = outputBias
    }
}

/// One attention layer of an emitted model: sizes, tensor offsets and buffers; images lo..<hi
/// of a batch.
public struct AttentionLayer {
    public let g: AttentionGeometry
    public let w: AttentionOffsets
    public let state: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>
    /// Wo^T [O, H*V], then Wq^T [H*K, Dq], Wk^T [H*K, Dk], Wv^T [H*V, Dv] when dx is wanted.
    public let transposed: UnsafeMutablePointer<Float>
    public let inputGradient: Bool

    /// `buffer`: maxBatch * (stateFloats + workFloats) floats; `transposed`:
    /// g.transposedFloats(inputGradient:) floats.
    public init(_ g: AttentionGeometry, _ w: AttentionOffsets, buffer: UnsafeMutablePointer<Float>, maxBatch: Int,
                transposed: UnsafeMutablePointer<Float>, inputGradient: Bool) {
        self.g = g; self.w = w; self.transposed = transposed; self.inputGradient = inputGradient
        state = buffer; work = buffer + maxBatch * g.stateFloats
    }

    /// y of images lo..<hi from the query, key and value inputs (self-attention passes the
    /// same buffer). `dropoutSeed` nil: no dropout (inference, or the model's dropout off).
    public func forward(_ parameters: UnsafeMutablePointer<Float>, query: UnsafeMutablePointer<Float>, key: UnsafeMutablePointer<Float>,
                        value: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int, dropoutSeed: UInt64? = nil) {
        let count = hi - lo, S = g.stateFloats, s = state + lo * S
        guard count > 0 else { return }
        let p = parameters
        project(query + lo * g.queryLength * g.queryFeatures, rows: g.queryLength, features: g.queryFeatures, p + w.query,
                w.queryBias.map { p + $0 }, n: g.hk, into: s, count: count)
        project(key + lo * g.sourceLength * g.keyFeatures, rows: g.sourceLength, features: g.keyFeatures, p + w.key,
                w.keyBias.map { p + $0 }, n: g.hk, into: s + g.kOffset, count: count)
        project(value + lo * g.sourceLength * g.valueFeatures, rows: g.sourceLength, features: g.valueFeatures, p + w.value,
                w.valueBias.map { p + $0 }, n: g.hv, into: s + g.vOffset, count: count)
        let dropped = dropoutSeed != nil && g.dropout > 0
        for n in 0..<count {
            let st = s + n * S
            Attention.probabilities(g, st, work + (lo + n) * g.workFloats)
            if dropped, let seed = dropoutSeed {
                Dropout.training(st + g.pOffset, st + g.pdOffset, mask: st + g.maskOffset, count: g.probabilities,
                                 first: (lo + n) * g.probabilities, seed: seed, rate: g.dropout)
            }
            Attention.combine(g, st, weights: st + (dropped ? g.pdOffset : g.pOffset))
        }
        let Tq = g.queryLength
        Gemm.runtime(count * Tq, a: { r in s + (r / Tq) * S + g.oOffset + (r % Tq) * g.hv }, b: p + w.output, n: g.outputs,
                     c: { r in y + (lo * Tq + r) * g.outputs }, GemmReduction(k: g.hv, ldb: g.outputs),
                     GemmEpilogue(bias: w.outputBias.map { UnsafePointer(p + $0) }))
    }

    /// rows x features inputs of `count` images -> their projections [rows, n] in each image's state.
    func project(_ x: UnsafeMutablePointer<Float>, rows: Int, features: Int, _ kernel: UnsafeMutablePointer<Float>,
                 _ bias: UnsafeMutablePointer<Float>?, n: Int, into out: UnsafeMutablePointer<Float>, count: Int) {
        let S = g.stateFloats
        Gemm.runtime(count * rows, a: { r in x + r * features }, b: kernel, n: n, c: { r in out + (r / rows) * S + (r % rows) * n },
                     GemmReduction(k: features, ldb: n), GemmEpilogue(bias: bias.map { UnsafePointer($0) }))
    }

    /// The backward's transposed kernels (once per backward, before the chunks).
    public func transpose(_ parameters: UnsafeMutablePointer<Float>) {
        Matrix.transpose(parameters + w.output, rows: g.hv, cols: g.outputs, into: transposed)
        guard inputGradient else { return }
        var t = transposed + g.hv * g.outputs
        for (offset, rows, cols) in [(w.query, g.queryFeatures, g.hk), (w.key, g.keyFeatures, g.hk), (w.value, g.valueFeatures, g.hv)] {
            Matrix.transpose(parameters + offset, rows: rows, cols: cols, into: t)
            t += rows * cols
        }
    }

    /// Images lo..<hi: the weight gradients into `gradients` (this chunk's partials, laid out
    /// like the parameters) and, for the inputs given, their gradients (stored; dKey and dValue
    /// may be one buffer, the key being the value, which then gets the sum).
    public func backward(_ gradients: UnsafeMutablePointer<Float>, query: UnsafeMutablePointer<Float>, key: UnsafeMutablePointer<Float>,
                         value: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>, dQuery: UnsafeMutablePointer<Float>?,
                         dKey: UnsafeMutablePointer<Float>?, dValue: UnsafeMutablePointer<Float>?, _ lo: Int, _ hi: Int, dropout: Bool) {
        let count = hi - lo, S = g.stateFloats, K = g.workFloats, Tq = g.queryLength, Tv = g.sourceLength
        guard count > 0 else { return }
        let s = state + lo * S, wk = work + lo * K, dy = dy + lo * Tq * g.outputs
        // dWo = o^T dy, dbo = sum dy, do = dy Wo^T
        Gemm.runtime(g.hv, a: { r in s + g.oOffset + r }, b: dy, n: g.outputs, c: { r in gradients + w.output + r * g.outputs },
                     GemmReduction(outer: count, inner: Tq, aOuter: S, aInner: g.hv, bOuter: Tq * g.outputs, bInner: g.outputs))
        if let b = w.outputBias { BiasGradient.sum(dy, rows: count * Tq, n: g.outputs, into: gradients + b) }
        Gemm.runtime(count * Tq, a: { r in dy + r * g.outputs }, b: transposed, n: g.hv, c: { r in wk + (r / Tq) * K + (r % Tq) * g.hv },
                     GemmReduction(k: g.outputs, ldb: g.hv))
        for n in 0..<count {
            Attention.backward(g, s + n * S, wk + n * K, dropout: dropout && g.dropout > 0)
        }
        // each projection's dW = x^T d, db = sum d and dx = d W^T (d: its gradient in each
        // image's work); a key passed as the value (dKey == dValue) gets the value projection's
        // share added
        let tk = transposed + g.hv * g.outputs + g.queryFeatures * g.hk, tv = tk + g.keyFeatures * g.hk
        projectionBackward(gradients, query + lo * Tq * g.queryFeatures, rows: Tq, features: g.queryFeatures, kernel: w.query, bias: w.queryBias,
                           offset: g.dqOffset, n: g.hk, wt: transposed + g.hv * g.outputs, dx: dQuery, add: false, lo, count)
        projectionBackward(gradients, key + lo * Tv * g.keyFeatures, rows: Tv, features: g.keyFeatures, kernel: w.key, bias: w.keyBias,
                           offset: g.dkOffset, n: g.hk, wt: tk, dx: dKey, add: false, lo, count)
        projectionBackward(gradients, value + lo * Tv * g.valueFeatures, rows: Tv, features: g.valueFeatures, kernel: w.value, bias: w.valueBias,
                           offset: g.dvOffset, n: g.hv, wt: tv, dx: dValue, add: dKey != nil && dKey == dValue, lo, count)
    }

    func projectionBackward(_ gradients: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, rows: Int, features: Int,
                            kernel: Int, bias: Int?, offset: Int, n: Int, wt: UnsafeMutablePointer<Float>,
                            dx: UnsafeMutablePointer<Float>?, add: Bool, _ lo: Int, _ count: Int) {
        let K = g.workFloats, wk = work + lo * K
        Gemm.runtime(features, a: { r in x + r }, b: wk + offset, n: n, c: { r in gradients + kernel + r * n },
                     GemmReduction(outer: count, inner: rows, aOuter: rows * features, aInner: features, bOuter: K, bInner: n))
        if let bias {
            (gradients + bias).update(repeating: 0, count: n)
            for i in 0..<count { Attention.addRows(wk + i * K + offset, rows: rows, n: n, into: gradients + bias) }
        }
        if let dx, inputGradient {
            Gemm.runtime(count * rows, a: { r in wk + (r / rows) * K + offset + (r % rows) * n }, b: wt, n: features,
                         c: { r in dx + (lo * rows + r) * features }, GemmReduction(k: n, ldb: features), add ? .add : .store)
        }
    }
}

public enum Attention {
    /// p[h, i, :] = softmax over the attended j of q[i, h] . k[j, h] / sqrt(K); zeros past them.
    static func probabilities(_ g: AttentionGeometry, _ st: UnsafeMutablePointer<Float>, _ wk: UnsafeMutablePointer<Float>) {
        let (Tq, Tp, Kd, hk) = (g.queryLength, g.paddedSources, g.keySize, g.hk)
        let scale = 1 / Float(Kd).squareRoot(), kt = wk + g.transposedOffset
        for h in 0..<g.heads {
            let p = st + g.pOffset + h * Tq * Tp
            transposeHead(st + g.kOffset + h * Kd, g, size: Kd, stride: hk, into: kt)
            Gemm.runtime(Tq, a: { i in st + i * hk + h * Kd }, b: kt, n: Tp, c: { i in p + i * Tp }, GemmReduction(k: Kd, ldb: Tp))
            for i in 0..<Tq { softmax(p + i * Tp, attended: g.attended(i), length: Tp, scale: scale) }
        }
    }

    /// row[0..<m] = softmax(row[0..<m] * scale); row[m..<length] = 0 (`length` a multiple of
    /// 16, so that the exponentials run on whole vectors; the lanes past m are cleared after).
    static func softmax(_ row: UnsafeMutablePointer<Float>, attended m: Int, length: Int, scale: Float) {
        typealias V = VectorMath.V
        var top = -Float.infinity
        for j in 0..<m { row[j] *= scale; top = max(top, row[j]) }
        VectorMath.exp(row, minus: top, count: (m + 15) / 16 * 16)
        (row + m).update(repeating: 0, count: length - m)
        var sum = V()
        for j in stride(from: 0, to: m, by: 16) { sum += UnsafeRawPointer(row + j).loadUnaligned(as: V.self) }
        let inv = 1 / sum.sum()
        for j in 0..<m { row[j] *= inv }
    }

    /// t[d, j] = x[j * stride + d] (`x` at a head's first column, rows `stride` apart) for j <
    /// Tv, d < size; zeros from Tv up to Tp.
    static func transposeHead(_ x: UnsafeMutablePointer<Float>, _ g: AttentionGeometry, size: Int, stride: Int,
                              into t: UnsafeMutablePointer<Float>) {
        let (Tv, Tp) = (g.sourceLength, g.paddedSources)
        for d in 0..<size {
            let row = t + d * Tp
            for j in 0..<Tv { row[j] = x[j * stride + d] }
            (row + Tv).update(repeating: 0, count: Tp - Tv)
        }
    }

    /// o[i, h] = sum_j weights[h, i, j] v[j, h].
    static func combine(_ g: AttentionGeometry, _ st: UnsafeMutablePointer<Float>, weights: UnsafeMutablePointer<Float>) {
        let (Tq, Tp, Vd, hv) = (g.queryLength, g.paddedSources, g.valueSize, g.hv)
        for h in 0..<g.heads {
            let w = weights + h * Tq * Tp
            Gemm.runtime(Tq, a: { i in w + i * Tp }, b: st + g.vOffset + h * Vd, n: Vd, c: { i in st + g.oOffset + i * hv + h * Vd },
                         GemmReduction(k: g.sourceLength, ldb: hv))
        }
    }

    /// From do (in work): dq, dk, dv of one image.
    static func backward(_ g: AttentionGeometry, _ st: UnsafeMutablePointer<Float>, _ wk: UnsafeMutablePointer<Float>, dropout: Bool) {
        let (Tq, Tv, Tp, Kd, Vd, hk, hv) = (g.queryLength, g.sourceLength, g.paddedSources, g.keySize, g.valueSize, g.hk, g.hv)
        let scale = 1 / Float(Kd).squareRoot(), ds = wk + g.dsOffset, vt = wk + g.transposedOffset
        for h in 0..<g.heads {
            let at = h * Tq * Tp
            let p = st + g.pOffset + at, pd = dropout ? st + g.pdOffset + at : p, mask = st + g.maskOffset + at
            // dpd = do_h v_h^T; dv_h = pd^T do_h
            transposeHead(st + g.vOffset + h * Vd, g, size: Vd, stride: hv, into: vt)
            Gemm.runtime(Tq, a: { i in wk + i * hv + h * Vd }, b: vt, n: Tp, c: { i in ds + i * Tp }, GemmReduction(k: Vd, ldb: Tp))
            Gemm.runtime(Tv, a: { j in pd + j }, b: wk + h * Vd, n: Vd, c: { j in wk + g.dvOffset + j * hv + h * Vd },
                         GemmReduction(outer: 1, inner: Tq, aOuter: 0, aInner: Tp, bOuter: 0, bInner: hv))
            for i in 0..<Tq {
                softmaxGradient(ds + i * Tp, p + i * Tp, mask: dropout ? mask + i * Tp : nil, attended: g.attended(i),
                                sources: Tv, scale: scale)
            }
            // dq_h = ds k_h; dk_h = ds^T q_h
            Gemm.runtime(Tq, a: { i in ds + i * Tp }, b: st + g.kOffset + h * Kd, n: Kd, c: { i in wk + g.dqOffset + i * hk + h * Kd },
                         GemmReduction(k: Tv, ldb: hk))
            Gemm.runtime(Tv, a: { j in ds + j }, b: st + h * Kd, n: Kd, c: { j in wk + g.dkOffset + j * hk + h * Kd },
                         GemmReduction(outer: 1, inner: Tq, aOuter: 0, aInner: Tp, bOuter: 0, bInner: hk))
        }
    }

    /// One row: dp = d * mask (dropout), then d[j] = p[j] (dp[j] - sum_j dp p) * scale for the
    /// attended j, zero for the others up to `sources`.
    static func softmaxGradient(_ d: UnsafeMutablePointer<Float>, _ p: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>?,
                                attended m: Int, sources: Int, scale: Float) {
        if let mask { for j in 0..<m { d[j] *= mask[j] } }
        var total: Float = 0
        for j in 0..<m { total += d[j] * p[j] }
        for j in 0..<m { d[j] = p[j] * (d[j] - total) * scale }
        (d + m).update(repeating: 0, count: sources - m)
    }

    /// into[c] += sum over the rows of x[r, c].
    static func addRows(_ x: UnsafePointer<Float>, rows: Int, n: Int, into: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r * n
            for c in 0..<n { into[c] += xr[c] }
        }
    }
}
