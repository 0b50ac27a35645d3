// exp, sigmoid and tanh of 16 floats at once, for the softmax rows of the attention layer
// (Kernels/Attention.swift), the gates of the recurrent cells (Kernels/Recurrent.swift) and the
// sigmoid and tanh activations (Kernels/Elementwise.swift), in place of Foundation's exp and tanh
// called per element. The array forms run the vector function on every element, the last few
// too (through one vector), so an element's value never depends on where it sits.
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
// with the same results); the standard library's generic `replacing(with:where:)`, `pointwiseMax` and `max()`
// become lane loops there that LLVM vectorizes again 4 lanes wide at best, or not at all. tanh
// picks its branch with a mask made from |x|'s bits (a comparison mask used for the blend
// becomes such pieces too). The functions are inlined into the array forms' loops (through closures: a
// function reference passed as the argument is not inlined in Swift 6 mode), whose iterations
// then overlap. The runtime's files are compiled one by one, and a file does not inline another
// file's functions, so a loop that needs these per vector lives here: the LSTM step's gate math
// and its backward (`lstmStep`, `lstmStepBackward`), called per vector from Recurrent.swift,
// would be 5 calls per 16 units.

public enum VectorMath {
    public typealias V = SIMD16<Float>

    @inline(__always)
    public static func exp(_ x: V) -> V {
        let magic = V(repeating: 12_582_912)   // 1.5 * 2^23: adding it rounds to an integer
        let k = magic.addingProduct(x, 1.442_695_04)   // n in the low mantissa bits of k
        let n = k - magic
        let r = x.addingProduct(n, -0.693_359_375).addingProduct(n, 2.121_944_4e-4)
        var p = V(repeating: 1.987_569_15e-4)
        p = horner(p, r, 1.398_199_95e-3)
        p = horner(p, r, 8.333_451_9e-3)
        p = horner(p, r, 4.166_579_59e-2)
        p = horner(p, r, 0.166_666_655)
        p = horner(p, r, 0.500_000_01)
        let e = r.addingProduct(p, r * r) + 1
        // 2^n as 2^a 2^b with a = n >> 1, b = n - a, each (m + 127) << 23 in the exponent bits:
        // both normal for n in [-150, 128], where 2^n alone is not (n read from k's bits,
        // k = 1.5 * 2^23 + n exactly)
        let n32 = unsafeBitCast(k, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let a = n32 &>> 1, b = n32 &- a
        let y = e * unsafeBitCast((a &+ 127) &<< 23, to: V.self) * unsafeBitCast((b &+ 127) &<< 23, to: V.self)
        // below -103.98 (exp rounds to 0): 0; above 88.73 (exp overflows): +inf
        let low = unsafeBitCast(x .< V(repeating: -103.98), to: SIMD16<Int32>.self)
        let high = unsafeBitCast(x .> V(repeating: 88.73), to: SIMD16<Int32>.self)
        let kept = unsafeBitCast(y, to: SIMD16<Int32>.self) & ~(low | high)
        return unsafeBitCast(kept | (high & 0x7F80_0000), to: V.self)
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
    public static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ f: (V) -> V) {
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
        map(x, x, count: count) { exp($0 - V(repeating: shift)) }
    }
    public static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) { map(x, x, count: count) { sigmoid($0) } }
    public static func sigmoid(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count: count) { sigmoid($0) }
    }
    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) { map(x, x, count: count) { tanh($0) } }
    public static func tanh(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) { map(x, y, count: count) { tanh($0) } }

    /// One LSTM step's gate math for `units` units, 16 at a time in one pass (so the gates'
    /// exponentials overlap): z [4, units] holds the pre-activations of i, f, cc, o less `rec`
    /// [4, units] and gets the gates; c = f * cPrev + i * cc (cPrev nil: 0); h = o * tanh(c).
    /// Lanes past `units` are computed on zeros and not stored. `stride` (default `units`): the
    /// floats from one gate's block to the next in z and rec (a range of a layer's units).
    public static func lstmStep(_ z: UnsafeMutablePointer<Float>, plus rec: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?,
                                c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, units: Int, stride: Int? = nil) {
        let gs = stride ?? units
        var j = 0
        while j < units {
            let m = min(16, units - j)
            func gate(_ k: Int) -> V { load(z + k * gs + j, m) + load(rec + k * gs + j, m) }
            let (i, f, cc, o) = (sigmoid(gate(0)), sigmoid(gate(1)), tanh(gate(2)), sigmoid(gate(3)))
            let cn = f * (cPrev.map { load($0 + j, m) } ?? V()) + i * cc
            store(i, z + j, m)
            store(f, z + gs + j, m)
            store(cc, z + 2 * gs + j, m)
            store(o, z + 3 * gs + j, m)
            store(cn, c + j, m)
            store(o * tanh(cn), h + j, m)
            j += 16
        }
    }

    /// The backward of `lstmStep` for one step: from the gates [4, units] (i, f, cc, o), c and
    /// cPrev (nil: 0), dh and dc (what flows into h and c), the gate gradients dz [4, units];
    /// dc becomes what flows to cPrev, dh zero (the recurrent kernel's share is added later).
    public static func lstmStepBackward(gates a: UnsafePointer<Float>, c: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?,
                                        dz: UnsafeMutablePointer<Float>, dh: UnsafeMutablePointer<Float>,
                                        dc: UnsafeMutablePointer<Float>, units: Int) {
        var j = 0
        while j < units {
            let m = min(16, units - j)
            let (i, f) = (load(a + j, m), load(a + units + j, m))
            let (cc, o) = (load(a + 2 * units + j, m), load(a + 3 * units + j, m))
            let tc = tanh(load(c + j, m)), h = load(dh + j, m)
            let dct = load(dc + j, m) + h * o * (1 - tc * tc)
            let cp = cPrev.map { load($0 + j, m) } ?? V()
            store(dct * cc * i * (1 - i), dz + j, m)
            store(dct * cp * f * (1 - f), dz + units + j, m)
            store(dct * i * (1 - cc * cc), dz + 2 * units + j, m)
            store(h * tc * o * (1 - o), dz + 3 * units + j, m)
            store(dct * f, dc + j, m)
            store(V(), dh + j, m)
            j += 16
        }
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
