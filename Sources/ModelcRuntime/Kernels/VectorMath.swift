// exp, sigmoid and tanh of 16 floats at once, for the softmax rows of the attention layer
// (Kernels/Attention.swift), the gates of the recurrent cells (Kernels/Recurrent.swift) and the
// sigmoid, tanh and smooth activations (Kernels/Elementwise.swift; the smooth ones are listed with
// their formulas further down), in place of Foundation's functions called per element. The array
// forms run the vector function on every element, the last few too (through one vector), so an
// element's value never depends on where it sits.
//
// exp, Cephes's expf: x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (ln2 split into a
// high part exact in float and a low part, so that n ln2 loses nothing); exp(r) by a degree-7
// polynomial (1 + r + r^2 p(r), each Horner step one fused multiply-add); 2^n built in the
// exponent bits. Within 2 ulp of exp from -103.9 (results subnormal below -87.3) to 88.7; 0
// below -103.98, +inf above 88.73; NaN gives NaN.
// sigmoid(x) = 1 / (1 + exp(-x)): within 4 ulp of that with Foundation's exp.
// tanh, Cephes's tanhf: for |x| < 0.625 the odd polynomial x + x^3 p(x^2); above it
// 1 - 2 / (exp(2|x|) + 1); both on |x|, x's sign put back. Within 3 ulp of Foundation's tanh.
// Only lane-wise arithmetic, fused multiply-adds (`addingProduct`), comparisons and bit casts,
// which LLVM turns into vector instructions in the runtime's own files (vmulps, vpslld, and
// vfmadd213ps with the -target-cpu of every runtime build; for a CPU without FMA, calls of fmaf
// with the same results); the standard library's `max()` of a vector becomes a lane loop, and
// so did `replacing(with:where:)` and `pointwiseMax` in the attention rows' loops. tanh picks
// its branch with a mask made from |x|'s bits. `select` is `replacing(with:where:)` of two
// vectors, one masked blend in the assembly of every use here; AND-ing a comparison mask and
// its complement into the two sides instead broke the mask into pieces (kshift on AVX-512, the
// arithmetic in 4-lane parts). The functions are inlined into the array forms' loops through a
// generic argument (`LaneFunction`; a closure argument or a function reference is not inlined
// once its body is large), whose iterations then overlap. The runtime's files are compiled one
// by one, and a file does not inline another file's functions, so a loop that needs these per
// vector lives here: the LSTM step's gate math and its backward (`lstmStep`,
// `lstmStepBackward`), called per vector from Recurrent.swift, would be 5 calls per 16 units.

public enum VectorMath {
    public typealias V = SIMD16<Float>

    @inline(__always)
    public static func exp(_ x: V) -> V {
        let (k, em1) = reduced(x)
        let (pa, pb) = powersOfTwo(k)
        let y = (em1 + 1) * pa * pb
        // below -103.98 (exp rounds to 0): 0; above 88.73 (exp overflows): +inf
        let low = unsafeBitCast(x .< V(repeating: -103.98), to: SIMD16<Int32>.self)
        let high = unsafeBitCast(x .> V(repeating: 88.73), to: SIMD16<Int32>.self)
        let kept = unsafeBitCast(y, to: SIMD16<Int32>.self) & ~(low | high)
        return unsafeBitCast(kept | (high & 0x7F80_0000), to: V.self)
    }

    /// x = n ln2 + r: k = 1.5 * 2^23 + n (n in its low mantissa bits), and e^r - 1 = r + r^2 p(r).
    @inline(__always)
    static func reduced(_ x: V) -> (k: V, em1: V) {
        let magic = V(repeating: 12_582_912)   // 1.5 * 2^23: adding it rounds to an integer
        let k = magic.addingProduct(x, 1.442_695_04)
        let n = k - magic
        let r = x.addingProduct(n, -0.693_359_375).addingProduct(n, 2.121_944_4e-4)
        var p = V(repeating: 1.987_569_15e-4)
        p = horner(p, r, 1.398_199_95e-3)
        p = horner(p, r, 8.333_451_9e-3)
        p = horner(p, r, 4.166_579_59e-2)
        p = horner(p, r, 0.166_666_655)
        p = horner(p, r, 0.500_000_01)
        return (k, r.addingProduct(p, r * r))
    }

    /// 2^n as 2^a and 2^b with a = n >> 1, b = n - a, each (m + 127) << 23 in the exponent bits:
    /// both normal for n in [-150, 128], where 2^n alone is not (n read from k's bits, k = 1.5 *
    /// 2^23 + n exactly).
    @inline(__always)
    static func powersOfTwo(_ k: V) -> (V, V) {
        let n32 = unsafeBitCast(k, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let a = n32 &>> 1, b = n32 &- a
        return (unsafeBitCast((a &+ 127) &<< 23, to: V.self), unsafeBitCast((b &+ 127) &<< 23, to: V.self))
    }

    /// One Horner step, fused: p * r + c.
    @inline(__always)
    static func horner(_ p: V, _ r: V, _ c: Float) -> V { V(repeating: c).addingProduct(p, r) }

    @inline(__always)
    public static func sigmoid(_ x: V) -> V { 1 / (1 + exp(-x)) }

    @inline(__always)
    public static func tanh(_ x: V) -> V {
        // on |x|, x's sign put back at the end (tanh is odd; tanh(-0) = -0)
        let bits = unsafeBitCast(x, to: SIMD16<Int32>.self)
        let sign = bits & Int32(bitPattern: 0x8000_0000)
        let a = unsafeBitCast(bits & 0x7FFF_FFFF, to: V.self)
        let z = a * a
        var p = V(repeating: -5.704_988_727_45e-3)
        p = horner(p, z, 2.063_908_879_54e-2)
        p = horner(p, z, -5.373_971_555_31e-2)
        p = horner(p, z, 0.133_314_422_036)
        p = horner(p, z, -0.333_332_819_422)
        let small = unsafeBitCast(a.addingProduct(p * z, a), to: SIMD16<Int32>.self)
        let large = unsafeBitCast(1 - 2 / (exp(a + a) + 1), to: SIMD16<Int32>.self)
        // |x| < 0.625 (all ones) from the bits: |x|'s order as Int32 is its order as Float, NaN
        // included (not small)
        let useSmall = ((bits & 0x7FFF_FFFF) &- 0x3F20_0000) &>> 31
        return unsafeBitCast((small & useSmall) | (large & ~useSmall) | sign, to: V.self)
    }

    /// y[i] = f(x[i]) for i < count (y may be x): whole vectors, then the rest through one
    /// vector padded with zeros.
    @inline(__always)
    static func map<F: LaneFunction>(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ f: F) {
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(UnsafeRawPointer(x + i).loadUnaligned(as: V.self)), as: V.self)
            i += 16
        }
        guard i < count else { return }
        var v = V()
        for l in 0..<(count - i) { v[l] = x[i + l] }
        let r = f(v)
        for l in 0..<(count - i) { y[i + l] = r[l] }
    }

    /// x[i] = exp(x[i] - shift) for i < count (a softmax row less its maximum).
    public static func exp(_ x: UnsafeMutablePointer<Float>, minus shift: Float, count: Int) {
        map(x, x, count: count, ExpMinus(shift: V(repeating: shift)))
    }
    public static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) { map(x, x, count: count, Sigmoid()) }
    public static func sigmoid(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) { map(x, y, count: count, Sigmoid()) }
    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) { map(x, x, count: count, Tanh()) }
    public static func tanh(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) { map(x, y, count: count, Tanh()) }

    struct ExpMinus: LaneFunction {
        let shift: V
        @inline(__always) func callAsFunction(_ x: V) -> V { exp(x - shift) }
    }
    struct Sigmoid: GateFunction {
        @inline(__always) func callAsFunction(_ x: V) -> V { sigmoid(x) }
        /// g y (1 - y), multiplied in that order (as before hard gates existed: the same bits).
        @inline(__always) func backward(_ g: V, _ y: V) -> V { g * y * (1 - y) }
    }
    /// clip(slope x + 0.5, 0, 1); its derivative, from the output, slope inside (0, 1) and 0 where clipped.
    struct HardSigmoid: GateFunction {
        let slope: V
        @inline(__always) func callAsFunction(_ x: V) -> V {
            (x * slope + 0.5).clamped(lowerBound: V(repeating: 0), upperBound: V(repeating: 1))
        }
        @inline(__always) func backward(_ g: V, _ y: V) -> V { V(repeating: 0).replacing(with: g * slope, where: (y .> 0) .& (y .< 1)) }
    }
    struct Tanh: GateFunction {
        @inline(__always) func callAsFunction(_ x: V) -> V { tanh(x) }
        /// g (1 - y^2)
        @inline(__always) func backward(_ g: V, _ y: V) -> V { g * (1 - y * y) }
    }
    /// A recurrent cell's relu activation (Keras `activation="relu"`, ONNX activations Relu):
    /// max(x, 0); its derivative, from the output, 1 where y > 0.
    struct ReLU: GateFunction {
        @inline(__always) func callAsFunction(_ x: V) -> V { x.replacing(with: 0, where: x .< 0) }
        @inline(__always) func backward(_ g: V, _ y: V) -> V { g.replacing(with: 0, where: y .<= 0) }
    }

    /// One LSTM step's gate math for `units` units, 16 at a time in one pass (so the gates'
    /// exponentials overlap): z [4, units] holds the pre-activations of i, f, cc, o less `rec`
    /// [4, units] and gets the gates; c = f * cPrev + i * cc (cPrev nil: 0); h = o * tanh(c).
    /// Lanes past `units` are computed on zeros and not stored. `stride` (default `units`): the
    /// floats from one gate's block to the next in z and rec (a range of a layer's units).
    /// `hardSlope`: 0 for sigmoid gates, else hard sigmoid gates clip(hardSlope x + 0.5, 0, 1)
    /// (Keras 2's hard_sigmoid: 0.2; Keras 3's: 1/6). `relu`: relu in place of tanh for cc and c.
    public static func lstmStep(_ z: UnsafeMutablePointer<Float>, plus rec: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?,
                                c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, units: Int, stride: Int? = nil,
                                hardSlope: Float = 0, relu: Bool = false) {
        let gs = stride ?? units
        switch (hardSlope == 0, relu) {
        case (true, false): lstmStep(z, plus: rec, cPrev: cPrev, c: c, h: h, units: units, stride: gs, gate: Sigmoid(), act: Tanh())
        case (true, true): lstmStep(z, plus: rec, cPrev: cPrev, c: c, h: h, units: units, stride: gs, gate: Sigmoid(), act: ReLU())
        case (false, false):
            lstmStep(z, plus: rec, cPrev: cPrev, c: c, h: h, units: units, stride: gs, gate: HardSigmoid(slope: V(repeating: hardSlope)), act: Tanh())
        case (false, true):
            lstmStep(z, plus: rec, cPrev: cPrev, c: c, h: h, units: units, stride: gs, gate: HardSigmoid(slope: V(repeating: hardSlope)), act: ReLU())
        }
    }

    @inline(__always)
    static func lstmStep<G: GateFunction, A: GateFunction>(_ z: UnsafeMutablePointer<Float>, plus rec: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?,
                                                           c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, units: Int, stride gs: Int,
                                                           gate: G, act: A) {
        var j = 0
        while j < units {
            let m = min(16, units - j)
            func pre(_ k: Int) -> V { load(z + k * gs + j, m) + load(rec + k * gs + j, m) }
            let (i, f, cc, o) = (gate(pre(0)), gate(pre(1)), act(pre(2)), gate(pre(3)))
            let cn = f * (cPrev.map { load($0 + j, m) } ?? V()) + i * cc
            store(i, z + j, m)
            store(f, z + gs + j, m)
            store(cc, z + 2 * gs + j, m)
            store(o, z + 3 * gs + j, m)
            store(cn, c + j, m)
            store(o * act(cn), h + j, m)
            j += 16
        }
    }

    /// The backward of `lstmStep` for one step: from the gates [4, units] (i, f, cc, o), c and
    /// cPrev (nil: 0), dh and dc (what flows into h and c), the gate gradients dz [4, units];
    /// dc becomes what flows to cPrev, dh zero (the recurrent kernel's share is added later).
    public static func lstmStepBackward(gates a: UnsafePointer<Float>, c: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?,
                                        dz: UnsafeMutablePointer<Float>, dh: UnsafeMutablePointer<Float>,
                                        dc: UnsafeMutablePointer<Float>, units: Int, hardSlope: Float = 0, relu: Bool = false) {
        switch (hardSlope == 0, relu) {
        case (true, false): lstmStepBackward(gates: a, c: c, cPrev: cPrev, dz: dz, dh: dh, dc: dc, units: units, gate: Sigmoid(), act: Tanh())
        case (true, true): lstmStepBackward(gates: a, c: c, cPrev: cPrev, dz: dz, dh: dh, dc: dc, units: units, gate: Sigmoid(), act: ReLU())
        case (false, false):
            lstmStepBackward(gates: a, c: c, cPrev: cPrev, dz: dz, dh: dh, dc: dc, units: units, gate: HardSigmoid(slope: V(repeating: hardSlope)), act: Tanh())
        case (false, true):
            lstmStepBackward(gates: a, c: c, cPrev: cPrev, dz: dz, dh: dh, dc: dc, units: units, gate: HardSigmoid(slope: V(repeating: hardSlope)), act: ReLU())
        }
    }

    @inline(__always)
    static func lstmStepBackward<G: GateFunction, A: GateFunction>(gates a: UnsafePointer<Float>, c: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?,
                                                                   dz: UnsafeMutablePointer<Float>, dh: UnsafeMutablePointer<Float>,
                                                                   dc: UnsafeMutablePointer<Float>, units: Int, gate: G, act: A) {
        var j = 0
        while j < units {
            let m = min(16, units - j)
            let (i, f) = (load(a + j, m), load(a + units + j, m))
            let (cc, o) = (load(a + 2 * units + j, m), load(a + 3 * units + j, m))
            let tc = act(load(c + j, m)), h = load(dh + j, m)
            let dct = load(dc + j, m) + act.backward(h * o, tc)
            let cp = cPrev.map { load($0 + j, m) } ?? V()
            store(gate.backward(dct * cc, i), dz + j, m)
            store(gate.backward(dct * cp, f), dz + units + j, m)
            store(act.backward(dct * i, cc), dz + 2 * units + j, m)
            store(gate.backward(h * tc, o), dz + 3 * units + j, m)
            store(dct * f, dc + j, m)
            store(V(), dh + j, m)
            j += 16
        }
    }

    /// A recurrent cell's gates in place (GRU's z and r blocks): sigmoid, or hard sigmoid with
    /// `hardSlope` (see lstmStep).
    public static func gates(_ x: UnsafeMutablePointer<Float>, count: Int, hardSlope: Float) {
        if hardSlope == 0 { map(x, x, count: count, Sigmoid()) } else { map(x, x, count: count, HardSigmoid(slope: V(repeating: hardSlope))) }
    }

    /// A recurrent cell's candidate (SimpleRNN's output, GRU's h~) in place: tanh, or relu.
    public static func candidate(_ x: UnsafeMutablePointer<Float>, count: Int, relu: Bool) {
        if relu { map(x, x, count: count, ReLU()) } else { map(x, x, count: count, Tanh()) }
    }

    /// dx[i] = dy[i] * g(x[i]) for i < count (dx may be dy): whole vectors, then the rest through
    /// one vector padded with zeros, as `map`.
    @inline(__always)
    static func mapGradient<G: LaneFunction>(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                             count: Int, _ g: G) {
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(dy + i).loadUnaligned(as: V.self) * g(UnsafeRawPointer(x + i).loadUnaligned(as: V.self))
            UnsafeMutableRawPointer(dx + i).storeBytes(of: v, as: V.self)
            i += 16
        }
        guard i < count else { return }
        store(load(dy + i, count - i) * g(load(x + i, count - i)), dx + i, count - i)
    }

    /// The first m (<= 16) floats at p, zeros after them.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ m: Int) -> V {
        if m == 16 { return UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var v = V()
        for l in 0..<m { v[l] = p[l] }
        return v
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ m: Int) {
        if m == 16 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self); return }
        for l in 0..<m { p[l] = v[l] }
    }
}

// The smooth activations 16 at a time, and their derivatives, as PyTorch's CPU kernels define them:
//
//   silu(x)      = x / (1 + exp(-x))                       s = sigmoid(x): s * (1 + x * (1 - s))
//   gelu(x)      = x * 0.5 * (1 + erf(x / sqrt 2))         Phi(x) + x * phi(x)
//                = x * 0.5 * erfc(-x / sqrt 2)
//   geluTanh(x)  = 0.5 * x * (1 + tanh(u)),                0.5 * (1 + t) + 0.5 * x * (1 - t^2) * u'
//                  u = sqrt(2 / pi) * (x + 0.044715 x^3)   (t = tanh(u))
//   elu(x)       = x (x > 0), alpha * expm1(x)             (from y: Elementwise.swift)
//   selu(x)      = scale * x (x > 0),                      (from y: Elementwise.swift)
//                  scale * alpha * expm1(x)
//   softplus(x)  = x (x > 20), log1p(exp(x))               from y: -expm1(-y)
//                = max(x, 0) + log1p(exp(-|x|))
//   mish(x)      = x * tanh(log1p(exp(x)))                 t + x * sigmoid(x) * (1 - t^2)
//                = x * n / (n + 2), n = e (e + 2), e = exp(min(x, 20))
//
// The second forms are the ones computed, equal in exact arithmetic. erfc(a) for a >= 0 is
// Numerical Recipes' erfcc (a Chebyshev fit, t = 1 / (1 + a/2), relative error below 1.2e-7 in
// exact arithmetic, in both tails); log1p(u) is log(1 + u) * u / ((1 + u) - 1) (Goldberg), with
// Cephes's logf on [1, 2]; expm1 is exp's reduction with 2^n e^r - 1 as 2^n (e^r - 1) + (2^n - 1).
// Each is checked against its Double definition in Tests/RuntimeTests (SmoothActivationTests,
// VectorMathTests).
extension VectorMath {
    typealias I = SIMD16<Int32>

    /// a where m, else b (one masked blend).
    @inline(__always)
    static func select(_ m: SIMDMask<I>, _ a: V, _ b: V) -> V {
        b.replacing(with: a, where: m)
    }

    /// exp(x) - 1, within a few ulp also near 0: x = n ln2 + r as in `exp`, e^r - 1 = r + r^2 p(r)
    /// without the 1, then 2^n (e^r - 1) + (2^n - 1) in one fused multiply-add (2^n - 1 exact for
    /// n in [-24, 24]). -1 below -103.98, +inf above 88.73, NaN for NaN, -0 for -0.
    @inline(__always)
    public static func expm1(_ x: V) -> V {
        let (k, em1) = reduced(x)
        let (pa, pb) = powersOfTwo(k)
        let s = pa * pb   // finite where n <= 24
        // n > 24: 2^n - 1 rounds to 2^n, and 2^n e^r is built as exp builds it (2^n alone overflows at n = 128)
        let large = (em1 + 1) * pa * pb
        let y = select(k .> V(repeating: 12_582_912 + 24), large, (s - 1).addingProduct(em1, s))
        let z = select(x .== V(), x, y)   // expm1(-0) = -0
        return select(x .> V(repeating: 88.73), V(repeating: .infinity), select(x .< V(repeating: -103.98), V(repeating: -1), z))
    }

    /// log(1 + u) for u in [0, 1] (or NaN): Goldberg's log(w) u / (w - 1), w = 1 + u (u itself
    /// where w rounds to 1), log(w) for w in [1, 2] as Cephes's logf: w = 2^e (1 + f), e in
    /// {0, 1}, f in [sqrt(1/2) - 1, sqrt 2 - 1), log(1 + f) = f - f^2 / 2 + f^3 p(f).
    @inline(__always)
    static func log1pUnit(_ u: V) -> V {
        let w = 1 + u
        let high = w .>= V(repeating: 1.414_213_5)
        let f = select(high, w * 0.5 - 1, w - 1)
        let e = select(high, V(repeating: 1), V())
        let z = f * f
        var p = V(repeating: 7.037_683_629_2e-2)
        p = horner(p, f, -1.151_461_031_0e-1)
        p = horner(p, f, 1.167_699_874_0e-1)
        p = horner(p, f, -1.242_014_084_6e-1)
        p = horner(p, f, 1.424_932_278_7e-1)
        p = horner(p, f, -1.666_805_766_5e-1)
        p = horner(p, f, 2.000_071_476_5e-1)
        p = horner(p, f, -2.499_999_399_3e-1)
        p = horner(p, f, 3.333_333_117_4e-1)
        let tail = (p * f * z).addingProduct(e, -2.121_944_40e-4).addingProduct(z, -0.5)
        let log = (f + tail).addingProduct(e, 0.693_359_375)
        return select(w .== V(repeating: 1), u, log * u / (w - 1))
    }

    /// erfc(a) for a >= 0 (Numerical Recipes' erfcc): t exp(-a^2 + P(t)), t = 1 / (1 + a / 2).
    @inline(__always)
    static func erfcNonNegative(_ a: V) -> V {
        let t = 1 / V(repeating: 1).addingProduct(a, 0.5)
        var p = V(repeating: 0.170_872_77)
        p = horner(p, t, -0.822_152_23)
        p = horner(p, t, 1.488_515_87)
        p = horner(p, t, -1.135_203_98)
        p = horner(p, t, 0.278_868_07)
        p = horner(p, t, -0.186_288_06)
        p = horner(p, t, 0.096_784_18)
        p = horner(p, t, 0.374_091_96)
        p = horner(p, t, 1.000_023_68)
        p = horner(p, t, -1.265_512_23)
        return t * exp(p.addingProduct(a, -a))
    }

    /// |x| (the sign bit cleared).
    @inline(__always)
    static func magnitude(_ x: V) -> V { unsafeBitCast(unsafeBitCast(x, to: I.self) & 0x7FFF_FFFF, to: V.self) }

    /// 1 + erf(x / sqrt 2) = 2 Phi(x), from erfc of |x| / sqrt 2 (no cancellation for x < 0).
    @inline(__always)
    static func twiceNormalCDF(_ x: V) -> V {
        let c = erfcNonNegative(magnitude(x) * SmoothActivations.sqrtHalf)
        return select(x .< V(), c, 2 - c)
    }

    @inline(__always)
    static func geluTanhInner(_ x: V) -> V {
        SmoothActivations.geluTanhBeta * x.addingProduct(x * x * x, SmoothActivations.geluTanhKappa)
    }

    /// e^min(x, 20) (NaN stays NaN): mish's exponential, kept finite.
    @inline(__always)
    static func mishExp(_ x: V) -> V { exp(select(x .> V(repeating: 20), V(repeating: 20), x)) }

    /// y[i] = f(x[i]) for i < count (y may be x), f one of the smooth activations above.
    public static func smooth(_ f: ActivationFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .silu: map(x, y, count: count, SiLU())
        case .gelu: map(x, y, count: count, GELU())
        case .geluTanh: map(x, y, count: count, GELUTanh())
        case .elu(let alpha): map(x, y, count: count, ELU(alpha: alpha, scale: 1))
        case .selu: map(x, y, count: count, ELU(alpha: SmoothActivations.seluScaleAlpha, scale: SmoothActivations.seluScale))
        case .softplus: map(x, y, count: count, Softplus())
        case .mish: map(x, y, count: count, Mish())
        default: preconditionFailure("\(f) is not one of VectorMath's smooth activations")
        }
    }

    /// dx[i] = dy[i] * f'(x[i]) for i < count (dx may be dy), f one of silu, gelu, geluTanh, mish.
    public static func smoothGradient(_ f: ActivationFunction, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                      dx: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .silu: mapGradient(dy: dy, x: x, dx: dx, count: count, SiLUGradient())
        case .gelu: mapGradient(dy: dy, x: x, dx: dx, count: count, GELUGradient())
        case .geluTanh: mapGradient(dy: dy, x: x, dx: dx, count: count, GELUTanhGradient())
        case .mish: mapGradient(dy: dy, x: x, dx: dx, count: count, MishGradient())
        default: preconditionFailure("\(f): its backward does not read the input")
        }
    }

    /// dx[i] = dy[i] * sigmoid(x[i]) from y = softplus(x): -expm1(-y) (dx may be dy).
    public static func softplusGradient(dy: UnsafePointer<Float>, y: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        mapGradient(dy: dy, x: y, dx: dx, count: count, SoftplusGradientFromOutput())
    }

    struct SiLU: LaneFunction { @inline(__always) func callAsFunction(_ x: V) -> V { x / (1 + exp(-x)) } }
    struct SiLUGradient: LaneFunction {
        @inline(__always) func callAsFunction(_ x: V) -> V {
            let s = sigmoid(x)
            return s * (1 + x * (1 - s))
        }
    }

    struct GELU: LaneFunction { @inline(__always) func callAsFunction(_ x: V) -> V { x * 0.5 * twiceNormalCDF(x) } }
    struct GELUGradient: LaneFunction {
        @inline(__always) func callAsFunction(_ x: V) -> V {
            let pdf = exp(-0.5 * x * x) * SmoothActivations.normalDensity
            return (0.5 * twiceNormalCDF(x)).addingProduct(x, pdf)
        }
    }

    struct GELUTanh: LaneFunction { @inline(__always) func callAsFunction(_ x: V) -> V { 0.5 * x * (1 + tanh(geluTanhInner(x))) } }
    struct GELUTanhGradient: LaneFunction {
        @inline(__always) func callAsFunction(_ x: V) -> V {
            let t = tanh(geluTanhInner(x))
            let du = SmoothActivations.geluTanhBeta * (1 + 3 * SmoothActivations.geluTanhKappa * x * x)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
        }
    }

    /// elu (scale 1) and selu: scale * x (x > 0), alpha * expm1(x) (alpha: selu's scale * alpha).
    struct ELU: LaneFunction {
        let alpha: Float, scale: Float
        @inline(__always) func callAsFunction(_ x: V) -> V { select(x .> V(), scale * x, alpha * expm1(x)) }
    }

    struct Softplus: LaneFunction {
        @inline(__always) func callAsFunction(_ x: V) -> V {
            let sp = select(x .> V(), x, V()) + log1pUnit(exp(-magnitude(x)))
            return select(x .> V(repeating: 20), x, sp)
        }
    }
    struct SoftplusGradientFromOutput: LaneFunction { @inline(__always) func callAsFunction(_ y: V) -> V { -expm1(-y) } }

    struct Mish: LaneFunction {
        @inline(__always) func callAsFunction(_ x: V) -> V {
            let e = mishExp(x), n = e * (e + 2)
            return x * n / (n + 2)
        }
    }
    struct MishGradient: LaneFunction {
        @inline(__always) func callAsFunction(_ x: V) -> V {
            let e = mishExp(x), n = e * (e + 2)
            let t = n / (n + 2)
            return t + x * (e / (1 + e)) * (1 - t * t)
        }
    }
}

/// A lane-wise function of one vector, for `VectorMath.map` and `mapGradient`: a generic
/// argument, so each use is specialized with the function's body inlined into the loop (a large
/// closure argument is not).
protocol LaneFunction {
    func callAsFunction(_ x: VectorMath.V) -> VectorMath.V
}

/// A recurrent cell's gate activation, and the gradient g reaching its input from g at its output y.
protocol GateFunction: LaneFunction {
    func backward(_ g: VectorMath.V, _ y: VectorMath.V) -> VectorMath.V
}
