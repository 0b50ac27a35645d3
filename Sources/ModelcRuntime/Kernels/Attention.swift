// Multi-head attention (Keras MultiHeadAttention) over a chunk of images, forward and backward
// side by side, llm.c style. The four projections run on Gemm.runtime (Kernels/GemmRuntime.swift:
// this file is compiled in the runtime, with run-time sizes), batched over the chunk's images;
// the attention of each head is plain loops over SIMD8 dot products and row updates.
// Foundation's exp.
//
// Shapes (one image; Tq query steps, Tv value steps; Dq, Dk, Dv input features of the query,
// key and value inputs; H heads of key size K and value size V; O outputs):
//   query  [Tq, Dq]   Wq [Dq, H*K]  bq [H*K]       q = query Wq + bq          [Tq, H*K]
//   key    [Tv, Dk]   Wk [Dk, H*K]  bk [H*K]       k = key Wk + bk            [Tv, H*K]
//   value  [Tv, Dv]   Wv [Dv, H*V]  bv [H*V]       v = value Wv + bv          [Tv, H*V]
//   p[h, i, :] = softmax_j(q[i, h] . k[j, h] / sqrt(K))   (causal: only j <= i)   [H, Tq, Tv]
//   pd = dropout(p) in training (inverted; the mask kept)                        [H, Tq, Tv]
//   o[i, h] = sum_j pd[h, i, j] v[j, h]                                          [Tq, H*V]
//   y = o Wo + bo                    Wo [H*V, O]   bo [O]                        [Tq, O]
// The forward keeps q, k, v, p, (pd and the mask), o per image in `state`; the backward's
// per-image scratch `work` holds do [Tq, H*V], dq [Tq, H*K], dk [Tv, H*K], dv [Tv, H*V] and one
// row [Tv]. Every gradient tensor is stored (not accumulated): one chunk's partial sums.
//   backward: dWo = o^T dy, dbo = sum dy, do = dy Wo^T; per head and query row i:
//             dpd[j] = do[i, h] . v[j, h], dv[j, h] += pd[h, i, j] do[i, h],
//             ds = p * (dp - sum_j dp p) with dp = dpd * mask,
//             dq[i, h] = sum_j ds[j] k[j, h] / sqrt(K), dk[j, h] += ds[j] q[i, h] / sqrt(K);
//             then dW = input^T d(projection), db = sum d(projection), dinput = d(projection) W^T.

import Foundation

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
    var probabilities: Int { heads * queryLength * sourceLength }
    // state: q, k, v, p, (pd, mask), o
    var kOffset: Int { queryLength * hk }
    var vOffset: Int { kOffset + sourceLength * hk }
    var pOffset: Int { vOffset + sourceLength * hv }
    var pdOffset: Int { pOffset + probabilities }
    var maskOffset: Int { pdOffset + probabilities }
    var oOffset: Int { pOffset + probabilities * (dropout > 0 ? 3 : 1) }
    public var stateFloats: Int { oOffset + queryLength * hv }
    // work: do, dq, dk, dv, row
    var dqOffset: Int { queryLength * hv }
    var dkOffset: Int { dqOffset + queryLength * hk }
    var dvOffset: Int { dkOffset + sourceLength * hk }
    var rowOffset: Int { dvOffset + sourceLength * hv }
    public var workFloats: Int { rowOffset + sourceLength }
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
            Attention.probabilities(g, st)
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
    static func probabilities(_ g: AttentionGeometry, _ st: UnsafeMutablePointer<Float>) {
        let (Tq, Tv, Kd, hk) = (g.queryLength, g.sourceLength, g.keySize, g.hk)
        let scale = 1 / Float(Kd).squareRoot()
        for h in 0..<g.heads {
            for i in 0..<Tq {
                let row = st + g.pOffset + (h * Tq + i) * Tv, q = st + i * hk + h * Kd, m = g.attended(i)
                var top = -Float.infinity
                for j in 0..<m {
                    row[j] = dot(q, st + g.kOffset + j * hk + h * Kd, Kd) * scale
                    top = max(top, row[j])
                }
                var sum: Float = 0
                for j in 0..<m { row[j] = exp(row[j] - top); sum += row[j] }
                let inv = 1 / sum
                for j in 0..<m { row[j] *= inv }
                for j in m..<Tv { row[j] = 0 }
            }
        }
    }

    /// o[i, h] = sum_j weights[h, i, j] v[j, h].
    static func combine(_ g: AttentionGeometry, _ st: UnsafeMutablePointer<Float>, weights: UnsafeMutablePointer<Float>) {
        let (Tq, Tv, Vd, hv) = (g.queryLength, g.sourceLength, g.valueSize, g.hv)
        for i in 0..<Tq {
            let o = st + g.oOffset + i * hv
            o.update(repeating: 0, count: hv)
            for h in 0..<g.heads {
                let row = weights + (h * Tq + i) * Tv
                for j in 0..<g.attended(i) { axpy(row[j], st + g.vOffset + j * hv + h * Vd, o + h * Vd, Vd) }
            }
        }
    }

    /// From do (in work): dq, dk, dv of one image.
    static func backward(_ g: AttentionGeometry, _ st: UnsafeMutablePointer<Float>, _ wk: UnsafeMutablePointer<Float>, dropout: Bool) {
        let (Tq, Tv, Kd, Vd, hk, hv) = (g.queryLength, g.sourceLength, g.keySize, g.valueSize, g.hk, g.hv)
        let scale = 1 / Float(Kd).squareRoot()
        (wk + g.dqOffset).update(repeating: 0, count: Tq * hk + Tv * hk + Tv * hv)
        let ds = wk + g.rowOffset
        for h in 0..<g.heads {
            for i in 0..<Tq {
                let at = (h * Tq + i) * Tv, m = g.attended(i)
                let p = st + g.pOffset + at, pd = dropout ? st + g.pdOffset + at : p, mask = st + g.maskOffset + at
                let dO = wk + i * hv + h * Vd, q = st + i * hk + h * Kd, dq = wk + g.dqOffset + i * hk + h * Kd
                var total: Float = 0
                for j in 0..<m {
                    var d = dot(dO, st + g.vOffset + j * hv + h * Vd, Vd)
                    axpy(pd[j], dO, wk + g.dvOffset + j * hv + h * Vd, Vd)
                    if dropout { d *= mask[j] }
                    ds[j] = d
                    total += d * p[j]
                }
                for j in 0..<m {
                    let d = p[j] * (ds[j] - total) * scale
                    axpy(d, st + g.kOffset + j * hk + h * Kd, dq, Kd)
                    axpy(d, q, wk + g.dkOffset + j * hk + h * Kd, Kd)
                }
            }
        }
    }

    /// into[c] += sum over the rows of x[r, c].
    static func addRows(_ x: UnsafePointer<Float>, rows: Int, n: Int, into: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { axpy(1, x + r * n, into, n) }
    }

    /// a . b over n floats, eight lanes at a time.
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0), j = 0
        while j + 8 <= n {
            acc.addProduct(UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self), UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self))
            j += 8
        }
        var s = acc.sum()
        while j < n { s += a[j] * b[j]; j += 1 }
        return s
    }

    /// y += a * x over n floats.
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for j in 0..<n { y[j] += a * x[j] }
    }
}
