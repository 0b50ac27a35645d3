// Per-image normalizations (no batch statistics, the same in training and at inference):
// LayerNormalization / nn.LayerNorm and GroupNorm as one group-statistics kernel, and Keras's
// fixed Normalization. Plain loops, forward and backward side by side; sums in Double, each
// contiguous run of a group's channels as eight partial sums (GroupNorm.total), so that the
// additions do not wait on each other.
//
// GroupNorm over samples [S, P, C] (S samples, P positions, C channels in G groups of C/G):
//   forward   for each sample s and group g, over its m = P * C/G values:
//               mean = sum x / m, var = sum (x - mean)^2 / m (population), inv = 1 / sqrt(var + eps)
//               xhat = (x - mean) * inv,  y = xhat * gamma[c] + beta[c]
//             stats[s][g] = (mean, inv), kept for the backward
//   backward  d = dy * gamma[c];  dgamma[c] += dy * xhat,  dbeta[c] += dy
//             dx = inv * (d - sum(d) / m - xhat * sum(d * xhat) / m)
// The IR's forms map onto it (NormalizationEmitter):
//   LayerNorm over the last axis of [N, .., C]: S = N * positions, P = 1, G = 1
//   LayerNorm over the whole image of size E:   S = N, P = 1, C = E, G = 1 (gamma per element)
//   GroupNorm(G) on [N, P, C]:                   S = N, P, C, G
//
// Fixed (Keras Normalization) over rows [R, C]:
//   forward   y = (x - mean[c]) / max(sqrt(variance[c]), 1e-7)
//   backward  dx = dy / max(sqrt(variance[c]), 1e-7)   (mean and variance are not trained)

/// One group normalization's sizes (a literal at every call).
public struct GroupNormGeometry {
    /// P: positions per sample (pixels, steps; 1 for LayerNorm).
    public var positions: Int
    /// C: values per position, the channels gamma and beta index.
    public var channels: Int
    /// G: channel groups (C / G channels each).
    public var groups: Int
    public var epsilon: Float

    public init(positions: Int, channels: Int, groups: Int, epsilon: Float) {
        self.positions = positions; self.channels = channels; self.groups = groups; self.epsilon = epsilon
    }

    /// Floats per sample.
    public var sampleSize: Int { positions * channels }
    /// Values per group.
    public var groupSize: Int { positions * (channels / groups) }
}

public enum GroupNorm {
    /// y [S, P, C] from x; stats [S, G, 2] (mean, inv). gamma, beta [C] or nil (1 and 0).
    public static func forward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Int, _ g: GroupNormGeometry,
                               gamma: UnsafeMutablePointer<Float>?, beta: UnsafeMutablePointer<Float>?, stats: UnsafeMutablePointer<Float>) {
        let c = g.channels, cg = c / g.groups, m = Double(g.groupSize)
        for s in 0..<samples {
            let xs = x + s * g.sampleSize, ys = y + s * g.sampleSize
            for k in 0..<g.groups {
                // the group: at each position p, the cg channels from c0 (one contiguous run)
                let c0 = k * cg
                var sum = 0.0
                for p in 0..<g.positions { let r = xs + p * c + c0; sum += total(cg) { Double(r[$0]) } }
                let mean = sum / m
                var sq = 0.0
                for p in 0..<g.positions { let r = xs + p * c + c0; sq += total(cg) { let d = Double(r[$0]) - mean; return d * d } }
                let mf = Float(mean), inv = Float(1 / (sq / m + Double(g.epsilon)).squareRoot())
                stats[(s * g.groups + k) * 2] = mf
                stats[(s * g.groups + k) * 2 + 1] = inv
                for p in 0..<g.positions {
                    let r = xs + p * c + c0, out = ys + p * c + c0
                    for j in 0..<cg { out[j] = (r[j] - mf) * inv }
                    if let gamma { for j in 0..<cg { out[j] *= gamma[c0 + j] } }
                    if let beta { for j in 0..<cg { out[j] += beta[c0 + j] } }
                }
            }
        }
    }

    /// dx [S, P, C] (nil: none needed) from dy, x and the forward's stats; adds into dgamma,
    /// dbeta [C] (nil when the layer has none).
    public static func backward(_ dy: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                samples: Int, _ g: GroupNormGeometry, gamma: UnsafeMutablePointer<Float>?,
                                stats: UnsafeMutablePointer<Float>, dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?) {
        let c = g.channels, cg = c / g.groups, m = Float(g.groupSize)
        for s in 0..<samples {
            let base = s * g.sampleSize
            for k in 0..<g.groups {
                let c0 = k * cg, gm = gamma.map { $0 + c0 }
                let mean = stats[(s * g.groups + k) * 2], inv = stats[(s * g.groups + k) * 2 + 1]
                var sumD = 0.0, sumDX = 0.0
                for p in 0..<g.positions {
                    let r = x + base + p * c + c0, d = dy + base + p * c + c0
                    if let gm {
                        sumD += total(cg) { Double(d[$0] * gm[$0]) }
                        sumDX += total(cg) { Double(d[$0] * gm[$0] * ((r[$0] - mean) * inv)) }
                    } else {
                        sumD += total(cg) { Double(d[$0]) }
                        sumDX += total(cg) { Double(d[$0] * ((r[$0] - mean) * inv)) }
                    }
                    if let dGamma { for j in 0..<cg { dGamma[c0 + j] += d[j] * ((r[j] - mean) * inv) } }
                    if let dBeta { for j in 0..<cg { dBeta[c0 + j] += d[j] } }
                }
                guard let dx else { continue }
                let meanD = Float(sumD) / m, meanDX = Float(sumDX) / m
                for p in 0..<g.positions {
                    let r = x + base + p * c + c0, d = dy + base + p * c + c0, out = dx + base + p * c + c0
                    if let gm {
                        for j in 0..<cg { out[j] = inv * (d[j] * gm[j] - meanD - (r[j] - mean) * inv * meanDX) }
                    } else {
                        for j in 0..<cg { out[j] = inv * (d[j] - meanD - (r[j] - mean) * inv * meanDX) }
                    }
                }
            }
        }
    }

    /// sum of term(j) for j < n, as eight partial sums (independent additions, not one chain).
    @inline(__always)
    static func total(_ n: Int, _ term: (Int) -> Double) -> Double {
        var a = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0), j = 0
        while j + 8 <= n {
            a.0 += term(j); a.1 += term(j + 1); a.2 += term(j + 2); a.3 += term(j + 3)
            a.4 += term(j + 4); a.5 += term(j + 5); a.6 += term(j + 6); a.7 += term(j + 7)
            j += 8
        }
        while j < n { a.0 += term(j); j += 1 }
        return ((a.0 + a.1) + (a.2 + a.3)) + ((a.4 + a.5) + (a.6 + a.7))
    }
}

public enum FixedNormalization {
    /// y [R, C] = (x - mean[c]) / max(sqrt(variance[c]), 1e-7).
    public static func forward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
                               mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for ch in 0..<channels {
                y[r * channels + ch] = (x[r * channels + ch] - mean[ch]) / max(variance[ch].squareRoot(), 1e-7)
            }
        }
    }

    /// dx [R, C] = dy / max(sqrt(variance[c]), 1e-7).
    public static func backward(_ dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
                                variance: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for ch in 0..<channels { dx[r * channels + ch] = dy[r * channels + ch] / max(variance[ch].squareRoot(), 1e-7) }
        }
    }
}
