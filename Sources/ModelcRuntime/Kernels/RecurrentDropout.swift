// Keras's in-cell dropout for SimpleRNN, LSTM and GRU (`dropout`, `recurrent_dropout`), in
// training only; inference runs the plain cell. Each image draws, once per sequence, a mask over
// the input's D features (rate `inputDropout`) and one over the state's U units (rate
// `recurrentDropout`): inverted, each value 0 or 1 / (1 - rate). With `perGateMasks` (Keras's
// implementation=1, which tf.keras 2.4+ and Keras 3.8+ force whenever recurrent_dropout is set)
// it draws one of each per gate block. The masks multiply only what the projections read:
//   gate block q = (x[t] * mx_q) W_q + (h[t-1] * mh_q) U_q + b_q
//   GRU reset_before's candidate: (r * (h[t-1] * mh_h)) U_h
// while the cell's own carry (LSTM f c', GRU z h'), and the output, use the unmasked state.
// Per image (M masks: the gate count with perGateMasks, else 1; Mx = M with input dropout, else
// 0; Mh likewise), after the state's other parts:
//   mx [Mx, D]   mh [Mh, U]   xm [Mx, T, D] = x * mx_q (time order)   hm [Mh, T, U] = h[t] * mh_q
// and in the backward's work one scratch for dh's share of a mask [U] (with state masks) and,
// after the steps, dx's [T, D] (with input masks). The backward:
//   dW_q = sum xm_q^T dz_q     dU_q = sum hm_q[t-1]^T dz_q[t]
//   dx   = sum_q (dz_q W_q^T) * mx_q     dh[t-1] += sum_q (dz_q[t] U_q^T) * mh_q
// A mask value hashes (seed, image, mask, feature) with SplitMix64, as the Dropout layer's do,
// so masks do not depend on how images are split over threads; a Bidirectional layer's
// directions draw their own. With the model's dropout off every mask is ones.

extension RecurrentGeometry {
    /// Mx and Mh (see the file comment).
    var inputMasks: Int { inputDropout > 0 ? (perGateMasks ? gates : 1) : 0 }
    var recurrentMasks: Int { recurrentDropout > 0 ? (perGateMasks ? gates : 1) : 0 }
    /// Whether a training forward applies in-cell dropout.
    public var hasCellDropout: Bool { inputMasks + recurrentMasks > 0 }
    var dropoutStateFloats: Int { inputMasks * inputs * (1 + steps) + recurrentMasks * units * (1 + steps) }
    var dropoutWorkFloats: Int { max(inputMasks > 0 ? steps * inputs : 0, recurrentMasks > 0 ? units : 0) }

    func inputMaskOffset(_ q: Int) -> Int { dropoutOffset + q * inputs }
    func stateMaskOffset(_ q: Int) -> Int { dropoutOffset + inputMasks * inputs + q * units }
    func maskedInputOffset(_ q: Int) -> Int { dropoutOffset + inputMasks * inputs + recurrentMasks * units + q * steps * inputs }
    /// hm_q's row of step t.
    func maskedStateOffset(_ q: Int, _ t: Int) -> Int { maskedInputOffset(inputMasks) + (q * steps + t) * units }
    /// The mask serving gate block b.
    func maskIndex(_ block: Int) -> Int { perGateMasks ? block : 0 }
    /// The masks' column ranges within the `columns` first columns of a projection: one range per
    /// gate block, or one for all with a shared mask.
    func maskBlocks(_ columns: Int, masks: Int) -> [(mask: Int, columns: Range<Int>)] {
        masks > 1 ? (0..<(columns / units)).map { ($0, ($0 * units)..<(($0 + 1) * units)) } : [(0, 0..<columns)]
    }
    /// GRU reset_before: the state its candidate's r multiplies at step t (t >= 1) of the image
    /// whose state is s: hm of the candidate's mask in a training forward with recurrent
    /// dropout, else h[t-1].
    func candidateState(_ s: UnsafeMutablePointer<Float>, _ t: Int, _ rows: StepRows) -> UnsafeMutablePointer<Float> {
        rows.keep && recurrentMasks > 0 ? s + maskedStateOffset(maskIndex(2), t - 1) : s + hOffset + rows.state(t - 1) * units
    }
}

extension Recurrent {
    /// Draws the masks of `count` images (the first is image `first` of the batch) into their
    /// states; `seed` nil (the model's dropout off): masks of ones.
    static func drawMasks(_ g: RecurrentGeometry, state: UnsafeMutablePointer<Float>, first: Int, count: Int, seed: UInt64?) {
        let direction: UInt64 = g.reverse ? 0x5851_F42D_4C95_7F2D : 0
        for n in 0..<count {
            let s = state + n * g.stateFloats
            fillMasks(s + g.inputMaskOffset(0), masks: g.inputMasks, features: g.inputs, rate: g.inputDropout,
                      seed: seed.map { $0 ^ direction }, image: first + n)
            fillMasks(s + g.stateMaskOffset(0), masks: g.recurrentMasks, features: g.units, rate: g.recurrentDropout,
                      seed: seed.map { $0 ^ direction ^ 0xD1B5_4A32_D192_ED03 }, image: first + n)
        }
    }

    /// masks x features values: 0 or 1 / (1 - rate) from hash (seed, image, mask, feature).
    static func fillMasks(_ m: UnsafeMutablePointer<Float>, masks: Int, features: Int, rate: Float, seed: UInt64?, image: Int) {
        let keep: Float = 1 / (1 - rate)
        for i in 0..<(masks * features) {
            guard let seed else { m[i] = 1; continue }
            var hash = SplitMix64(seed: seed &+ UInt64(image * masks * features + i))
            m[i] = hash.nextFloat() >= rate ? keep : 0
        }
    }

    /// gates[n, t] = (x[n, t] * mx_q) W_q + b_q for every step of `count` images, xm kept.
    static func maskedInputProjection(_ g: RecurrentGeometry, _ w: RecurrentWeights, x: UnsafeMutablePointer<Float>,
                                      state: UnsafeMutablePointer<Float>, count: Int) {
        let (T, D, W, S) = (g.steps, g.inputs, g.width, g.stateFloats)
        for n in 0..<count {
            let s = state + n * S, xn = x + n * T * D
            for q in 0..<g.inputMasks {
                let m = s + g.inputMaskOffset(q), xm = s + g.maskedInputOffset(q)
                for t in 0..<T { for i in 0..<D { xm[t * D + i] = xn[t * D + i] * m[i] } }
            }
        }
        for (q, cols) in g.maskBlocks(W, masks: g.inputMasks) {
            let xm = g.maskedInputOffset(q)
            Gemm.runtime(count * T, a: { r in state + (r / T) * S + xm + g.time(r % T) * D }, b: w.kernel + cols.lowerBound,
                         n: cols.count, c: { r in state + (r / T) * S + (r % T) * W + cols.lowerBound }, GemmReduction(k: D, ldb: W),
                         GemmEpilogue(bias: w.bias.map { UnsafePointer($0 + cols.lowerBound) }))
        }
    }

    /// Step t >= 1 of `count` images: hm_q[t-1] = h[t-1] * mh_q, then rec = sum_q hm_q[t-1] U_q (+ b2).
    static func maskedRecurrentProduct(_ g: RecurrentGeometry, _ w: RecurrentWeights, state: UnsafeMutablePointer<Float>, count: Int,
                                       _ t: Int, packedU: UnsafePointer<Float>?) {
        let (U, W, S) = (g.units, g.width, g.stateFloats)
        for n in 0..<count {
            let s = state + n * S, h = s + g.hOffset + (t - 1) * U
            for q in 0..<g.recurrentMasks {
                let m = s + g.stateMaskOffset(q), hm = s + g.maskedStateOffset(q, t - 1)
                for j in 0..<U { hm[j] = h[j] * m[j] }
            }
        }
        for (q, cols) in g.maskBlocks(g.stepColumns, masks: g.recurrentMasks) {
            let (hm, rec) = (g.maskedStateOffset(q, t - 1), g.recOffset + cols.lowerBound)
            Gemm.runtime(count, a: { n in state + n * S + hm }, b: w.recurrent + cols.lowerBound, n: cols.count,
                         c: { n in state + n * S + rec }, GemmReduction(k: U, ldb: W),
                         GemmEpilogue(bias: w.recurrentBias.map { UnsafePointer($0 + cols.lowerBound) }),
                         packedB: g.recurrentMasks == 1 ? packedU : nil)
        }
    }

    /// Step t >= 1's dh[t-1] += sum_q (dz_q[t] U_q^T) * mh_q (GRU: the z and r blocks from dz,
    /// reset_after's candidate from dzh), each mask's share through the work's scratch.
    static func maskedStateGradient(_ g: RecurrentGeometry, state: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>,
                                    count: Int, ut: UnsafePointer<Float>, _ t: Int, packedUt: UnsafePointer<Float>?) {
        let (U, W, S, K, scratch) = (g.units, g.width, g.stateFloats, g.workFloats, g.dropoutWorkOffset)
        func addShare(_ a: (Int) -> UnsafeMutablePointer<Float>, _ rows: Range<Int>, mask q: Int, packed: UnsafePointer<Float>?) {
            Gemm.runtime(count, a: a, b: ut + rows.lowerBound * U, n: U, c: { n in work + n * K + scratch },
                         GemmReduction(k: rows.count, ldb: U), packedB: packed)
            for n in 0..<count {
                let dh = work + n * K + g.dhOffset, share = work + n * K + g.dropoutWorkOffset, m = state + n * S + g.stateMaskOffset(q)
                for j in 0..<U { dh[j] += share[j] * m[j] }
            }
        }
        for (q, rows) in g.maskBlocks(g.backColumns, masks: g.recurrentMasks) {
            addShare({ n in work + n * K + t * W + rows.lowerBound }, rows, mask: q, packed: g.recurrentMasks == 1 ? packedUt : nil)
        }
        if g.cell == .gruResetAfter {
            let dzh = g.dzhOffset + t * U
            addShare({ n in work + n * K + dzh }, (2 * U)..<(3 * U), mask: g.maskIndex(2), packed: nil)
        }
    }

    /// dx = sum_q (dz_q W_q^T) * mx_q (added to dx with `add`), each mask's share through the
    /// work's scratch [T, D] (time order).
    static func maskedInputGradient(_ g: RecurrentGeometry, state: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>,
                                    count: Int, wt: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, add: Bool) {
        let (T, D, W, S, K, scratch) = (g.steps, g.inputs, g.width, g.stateFloats, g.workFloats, g.dropoutWorkOffset)
        for (i, (q, cols)) in g.maskBlocks(W, masks: g.inputMasks).enumerated() {
            Gemm.runtime(count * T, a: { r in work + (r / T) * K + (r % T) * W + cols.lowerBound }, b: wt + cols.lowerBound * D, n: D,
                         c: { r in work + (r / T) * K + scratch + g.time(r % T) * D }, GemmReduction(k: cols.count, ldb: D))
            for n in 0..<count {
                let share = work + n * K + scratch, m = state + n * S + g.inputMaskOffset(q), d = dx + n * T * D
                for t in 0..<T {
                    for j in 0..<D {
                        let v = share[t * D + j] * m[j]
                        d[t * D + j] = add || i > 0 ? d[t * D + j] + v : v
                    }
                }
            }
        }
    }
}
