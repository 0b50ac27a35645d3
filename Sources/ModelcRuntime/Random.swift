// Deterministic random numbers for initialization, shuffling, dropout seeds and augmentation.
//
// Every random stream is derived from (run seed, purpose, counters) by hashing, never from a
// generator that advanced through earlier epochs. So the data order of epoch e, the dropout
// seed of global step s and the augmentation of one image are all pure functions of the seed,
// which makes an interrupted run resumable bit for bit from (epoch, step) alone. The
// algorithms are written out here (not the stdlib's shuffle) so they never change underneath.
import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): used to mix seeds and as a small fast generator.
public struct SplitMix64 {
    public var state: UInt64
    @inlinable public init(seed: UInt64) { state = seed }
    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 24 random bits (exactly representable as Float).
    @inlinable @inline(__always)
    public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }
    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
    /// Standard normal N(0, 1) (Box-Muller on two uniforms, the first kept away from 0).
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextDouble(), 1e-300), u2 = nextDouble()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
    /// Uniform integer in 0..<bound (Lemire's multiply-shift with rejection; bound > 0).
    public mutating func next(below bound: Int) -> Int {
        let b = UInt64(bound)
        var x = next()
        var m = x.multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { x = next(); m = x.multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }
}

/// Purposes of derived streams (stable numbers: changing them changes every run).
public enum RandomStream: UInt64 {
    case initialization = 1
    case shuffle = 2
    case dropout = 3
    case augmentation = 4
    case validationSplit = 5
    case bench = 6
    case resplit = 7
}

/// Hashes a seed, a purpose and up to two counters into one 64-bit seed.
@inline(__always)
public func deriveSeed(_ seed: UInt64, _ stream: RandomStream, _ a: UInt64 = 0, _ b: UInt64 = 0) -> UInt64 {
    var g = SplitMix64(seed: seed ^ (stream.rawValue &* 0xD6E8_FEB8_6659_FD93))
    var h = g.next()
    g.state = h ^ (a &* 0x9E37_79B9_7F4A_7C15)
    h = g.next()
    g.state = h ^ (b &* 0xC2B2_AE3D_27D4_EB4F)
    return g.next()
}

/// Fisher-Yates permutation of 0..<count from `seed`.
public func seededPermutation(count: Int, seed: UInt64) -> [Int] {
    var p = Array(0..<count)
    var g = SplitMix64(seed: seed)
    var i = count - 1
    while i > 0 {
        let j = g.next(below: i + 1)
        p.swapAt(i, j)
        i -= 1
    }
    return p
}

/// Fills every tensor of the model as its initializer says. Tensor i draws from its own stream
/// (seed, i), so the result does not depend on the order tensors are visited.
public func initializeParameters(_ parameters: UnsafeMutablePointer<Float>, tensors: [TensorSpec], seed: UInt64) {
    for (index, t) in tensors.enumerated() {
        let p = parameters + t.offset
        let n = t.count
        var g = SplitMix64(seed: deriveSeed(seed, .initialization, UInt64(index)))
        switch t.initializer {
        case .zeros:
            for i in 0..<n { p[i] = 0 }
        case .ones:
            for i in 0..<n { p[i] = 1 }
        case .glorotUniform(let fanIn, let fanOut):
            let limit = Float((6.0 / Double(max(1, fanIn + fanOut))).squareRoot())
            for i in 0..<n { p[i] = (g.nextFloat() * 2 - 1) * limit }
        case .standardNormal, .standardNormalZeroRow:
            for i in 0..<n { p[i] = Float(g.nextGaussian()) }
            if case .standardNormalZeroRow(let row, let columns) = t.initializer {
                let start = min(n, row * columns)
                for i in start..<min(n, start + columns) { p[i] = 0 }
            }
        case .kaimingUniform(let fanIn):
            let limit = Float(1.0 / Double(max(1, fanIn)).squareRoot())
            for i in 0..<n { p[i] = (g.nextFloat() * 2 - 1) * limit }
        case .orthogonal(let rows, let columns):
            let m = orthonormal(rows: rows, columns: columns, &g)
            for i in 0..<min(n, m.count) { p[i] = Float(m[i]) }
        case .unitForgetBias(let units):
            for i in 0..<n { p[i] = (units..<(2 * units)).contains(i) ? 1 : 0 }
        }
    }
}

/// A row-major [rows, columns] Gaussian matrix made orthonormal along its shorter side by modified
/// Gram-Schmidt in Double (what Keras's QR gives, up to signs: the same distribution).
func orthonormal(rows: Int, columns: Int, _ g: inout SplitMix64) -> [Double] {
    let (k, len) = (min(rows, columns), max(rows, columns))   // k vectors of length len
    var v = [Double](repeating: 0, count: k * len)
    for i in 0..<v.count { v[i] = g.nextGaussian() }
    for a in 0..<k {
        for b in 0..<a {
            var dot = 0.0
            for j in 0..<len { dot += v[a * len + j] * v[b * len + j] }
            for j in 0..<len { v[a * len + j] -= dot * v[b * len + j] }
        }
        var norm = 0.0
        for j in 0..<len { norm += v[a * len + j] * v[a * len + j] }
        let s = 1 / max(norm.squareRoot(), 1e-300)
        for j in 0..<len { v[a * len + j] *= s }
    }
    if rows <= columns { return v }   // the k = rows vectors are the rows
    var t = [Double](repeating: 0, count: rows * columns)   // the k = columns vectors are the columns
    for c in 0..<columns { for r in 0..<rows { t[r * columns + c] = v[c * len + r] } }
    return t
}
