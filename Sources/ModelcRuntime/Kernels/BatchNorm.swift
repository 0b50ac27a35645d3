// BatchNormalization over the channels of NHWC rows, as the emitted model's passes call it.
//   training:  mean, var = batch statistics over all rows (population variance, one read of x:
//              each chunk's moments (`Moments`), merged between the parallel passes),
//              xhat = (x - mean) * inv, inv = 1 / sqrt(var + eps) (xhat is never stored: the
//              backward recomputes it from x with the same operations),
//              y = act(gamma * xhat + beta), act = a fused ReLU/LeakyReLU/ReLU6 or none,
//              moving = momentum * moving + (1 - momentum) * batch (unbiased variance for PyTorch)
//   inference: y = x * scale + shift, scale = gamma / sqrt(moving_var + eps),
//              shift = beta - moving_mean * scale
//   backward:  dy = dOut * act'(out), dbeta = sum dy, dgamma = sum dy * xhat,
//              dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat))
// Every sum over rows adds blocks of `rowBlock` rows first, then the blocks: float32 rounding of
// a sum of n terms grows as n, and blocks cut that to n / rowBlock + rowBlock (a channel whose
// values share a large offset, as after a conv bias on a flat background, loses its deviations
// from the mean to plain running sums over a batch; measured in Tests/Fixtures/numerics/README.md).
// The batch-wide sums are per-chunk partials (each chunk of images on its own thread), which
// the serial `reduce` steps add up between the parallel passes. The row passes are
// @_transparent: the emitted call's literal sizes reach the loops (ChannelPasses.swift).

/// One BatchNorm layer: its per-channel statistics buffer, parameters and constants.
public struct BatchNormLayer {
    public var channels: Int
    /// [mean, inv, mean(dy), mean(dy * xhat)], `channels` floats each.
    public var statistics: UnsafeMutablePointer<Float>
    /// Keras's scale and center (nil when switched off).
    public var gamma: UnsafeMutablePointer<Float>?, beta: UnsafeMutablePointer<Float>?
    public var movingMean: UnsafeMutablePointer<Float>, movingVariance: UnsafeMutablePointer<Float>
    public var epsilon: Float, momentum: Float
    /// The moving variance takes the unbiased batch variance (PyTorch).
    public var unbiased: Bool

    @_transparent
    public init(channels: Int, statistics: UnsafeMutablePointer<Float>, gamma: UnsafeMutablePointer<Float>?,
                beta: UnsafeMutablePointer<Float>?, movingMean: UnsafeMutablePointer<Float>,
                movingVariance: UnsafeMutablePointer<Float>, epsilon: Float, momentum: Float, unbiased: Bool = false) {
        self.channels = channels; self.statistics = statistics; self.gamma = gamma; self.beta = beta
        self.movingMean = movingMean; self.movingVariance = movingVariance
        self.epsilon = epsilon; self.momentum = momentum; self.unbiased = unbiased
    }

    @_transparent public var mean: UnsafeMutablePointer<Float> { statistics }
    @_transparent public var inv: UnsafeMutablePointer<Float> { statistics + channels }
    @_transparent public var meanDy: UnsafeMutablePointer<Float> { statistics + 2 * channels }
    @_transparent public var meanDyXhat: UnsafeMutablePointer<Float> { statistics + 3 * channels }
}

public enum BatchNorm {
    // MARK: training statistics

    /// Pass 1 over one chunk's rows, one read of x: part[c] = the chunk's mean of channel c,
    /// part[channels + c] = its sum of squared deviations from that mean (`Moments`).
    @_transparent
    public static func moments(_ x: UnsafePointer<Float>, rows: Int, _ l: BatchNormLayer, into part: UnsafeMutablePointer<Float>) {
        forEachChannelBlock(l.channels, Moments(x: x, rows: rows, channels: l.channels, part: part))
    }

    /// The batch mean and variance from the chunks' moments (`part`: chunks x 2 x channels;
    /// chunk k holds the images of `Parallel.chunk(k, ...)`, `pixels` rows each), merged in
    /// double precision as `Moments` merges blocks; then inv and the moving statistics.
    @inlinable
    public static func reduceMoments(_ part: UnsafePointer<Float>, count: Int, threads: Int, pixels: Int, _ l: BatchNormLayer) {
        let ch = l.channels, chunks = Parallel.chunkCount(count, threads: threads), rows = max(count * pixels, 1)
        let mom = l.momentum
        for c in 0..<ch {
            var n = 0.0, mean = 0.0, m2 = 0.0
            for k in 0..<chunks {
                let images = Parallel.chunk(k, of: chunks, count: count)
                let nb = Double((images.hi - images.lo) * pixels)
                if nb == 0 { continue }
                let d = Double(part[k * 2 * ch + c]) - mean, total = n + nb
                mean += d * nb / total
                m2 += Double(part[k * 2 * ch + ch + c]) + d * d * n * nb / total
                n = total
            }
            let v = Float(m2 / Double(rows))
            l.mean[c] = Float(mean)
            l.inv[c] = 1 / (v + l.epsilon).squareRoot()
            l.movingMean[c] = mom * l.movingMean[c] + (1 - mom) * l.mean[c]
            let batch = l.unbiased && rows > 1 ? Float(m2 / Double(rows - 1)) : v
            l.movingVariance[c] = mom * l.movingVariance[c] + (1 - mom) * batch
        }
    }

    // MARK: forward

    /// Pass 3: y = act(gamma * (x - mean) * inv + beta).
    @_transparent
    public static func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, _ l: BatchNormLayer,
                                 _ act: GemmEpilogue.Activation = .none) {
        forEachChannelBlock(l.channels, Normalize(x: x, y: y, rows: rows, l: l, act: act))
    }

    /// Inference: this chunk's scale and shift from the moving statistics into `fold`
    /// (2 x channels), then y = x * scale + shift.
    @_transparent
    public static func inference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, _ l: BatchNormLayer,
                                 fold: UnsafeMutablePointer<Float>) {
        let ch = l.channels
        for c in 0..<ch {
            let k = (l.gamma?[c] ?? 1) / (l.movingVariance[c] + l.epsilon).squareRoot()
            fold[c] = k
            fold[ch + c] = (l.beta?[c] ?? 0) - l.movingMean[c] * k
        }
        forEachChannelBlock(ch, Affine(x: x, y: y, rows: rows, channels: ch, scale: fold, shift: fold + ch))
    }

    /// Inference folding into a producer (conv or dense) whose sums s become s * scale + shift:
    /// scale = gamma / sqrt(moving_var + eps), shift = (bias - moving_mean) * scale + beta, with
    /// the producer's bias (nil: none). `fold` takes the channels' scales, then their shifts.
    @inlinable
    public static func fold(_ l: BatchNormLayer, bias: UnsafePointer<Float>?, into fold: UnsafeMutablePointer<Float>) {
        let ch = l.channels
        for c in 0..<ch {
            let k = (l.gamma?[c] ?? 1) / (l.movingVariance[c] + l.epsilon).squareRoot()
            fold[c] = k
            var shift = ((bias?[c] ?? 0) - l.movingMean[c]) * k
            if let beta = l.beta { shift += beta[c] }
            fold[ch + c] = shift
        }
    }

    // MARK: backward

    /// Backward pass 1 over one chunk's rows: part[c] = sum dy, part[ch + c] = sum dy * xhat,
    /// dy = dOut * act'(out) (`out` is read only with an activation); `accumulate`: added to part.
    /// The rows are summed image by image (`pixels` rows each; nil: all rows as one), each image's
    /// sums added to the running total in order, so a call over a chunk gives the same bits as one
    /// call per image with `accumulate` (the emitted model makes either, Emitter.emitRegion).
    @_transparent
    public static func backwardSums(_ dOut: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int,
                                    pixels: Int? = nil, _ l: BatchNormLayer, _ act: GemmEpilogue.Activation = .none,
                                    into part: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        forEachChannelBlock(l.channels, BackwardSums(dOut: dOut, out: out, x: x, rows: rows, image: pixels ?? rows, l: l, act: act,
                                                     part: part, accumulate: accumulate))
    }

    /// The backward's reduction: dgamma, dbeta (into the gradients, when the layer has them),
    /// mean(dy) and mean(dy * xhat).
    @inlinable
    public static func backwardReduce(_ part: UnsafePointer<Float>, chunks: Int, rows: Int, _ l: BatchNormLayer,
                                      dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?) {
        let ch = l.channels, scale = 1 / Float(max(rows, 1))
        for c in 0..<ch {
            var sdy: Float = 0, sdx: Float = 0
            for k in 0..<chunks { sdy += part[k * 2 * ch + c]; sdx += part[k * 2 * ch + ch + c] }
            dGamma?[c] = sdx
            dBeta?[c] = sdy
            l.meanDy[c] = sdy * scale
            l.meanDyXhat[c] = sdx * scale
        }
    }

    /// Backward pass 2: dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat)).
    @_transparent
    public static func backwardData(_ dOut: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                    _ dx: UnsafeMutablePointer<Float>, rows: Int, _ l: BatchNormLayer,
                                    _ act: GemmEpilogue.Activation = .none) {
        forEachChannelBlock(l.channels, BackwardData(dOut: dOut, out: out, x: x, dx: dx, rows: rows, l: l, act: act))
    }
}

// MARK: the passes on one channel block

/// Rows per block of a blocked sum (see the top of the file).
@usableFromInline let rowBlock = 64

/// body(r0, r1) for the blocks of `rowBlock` rows covering 0..<rows, in order.
@_transparent @usableFromInline
func forEachRowBlock(_ rows: Int, _ body: (Int, Int) -> Void) {
    var r0 = 0
    while r0 < rows {
        let r1 = min(rows, r0 + rowBlock)
        body(r0, r1)
        r0 = r1
    }
}

/// One chunk's mean and sum of squared deviations per channel, reading x once: each block of
/// `rowBlock` rows (in L1) gives its mean (a blocked sum) and its squared deviations from that
/// mean in a second sweep, and the blocks merge as Chan, Golub and LeVeque's update:
///   n = na + nb, d = mb - ma, mean = ma + d nb / n, M2 = M2a + M2b + d^2 na nb / n.
/// Deviations are always taken from a nearby mean, so a channel with a large common offset keeps
/// its variance (no sum of squares minus square of sums).
@usableFromInline
struct Moments: ChannelPass {
    @usableFromInline let x: UnsafePointer<Float>, rows: Int, channels: Int, part: UnsafeMutablePointer<Float>

    @_transparent @usableFromInline
    init(x: UnsafePointer<Float>, rows: Int, channels: Int, part: UnsafeMutablePointer<Float>) {
        self.x = x; self.rows = rows; self.channels = channels; self.part = part
    }

    @inlinable @inline(__always)
    func run<V: FloatVector>(_: V.Type, _ c0: Int) {
        var mean = V(), m2 = V(), n: Float = 0
        forEachRowBlock(rows) { r0, r1 in
            var s = V()
            for r in r0..<r1 { s = s.plus(V.load(x + r * channels + c0)) }
            let nb = Float(r1 - r0), mb = V().fma(1 / nb, s)
            var q = V()
            for r in r0..<r1 {
                let d = V.load(x + r * channels + c0).minus(mb)
                q = q.plus(d.times(d))
            }
            let total = n + nb, d = mb.minus(mean)
            mean = mean.fma(nb / total, d)
            m2 = m2.plus(q).fma(n * nb / total, d.times(d))
            n = total
        }
        mean.store(part + c0)
        m2.store(part + channels + c0)
    }
}

@usableFromInline
struct Normalize: ChannelPass {
    @usableFromInline let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, l: BatchNormLayer, act: GemmEpilogue.Activation

    @_transparent @usableFromInline
    init(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, l: BatchNormLayer, act: GemmEpilogue.Activation) {
        self.x = x; self.y = y; self.rows = rows; self.l = l; self.act = act
    }

    @inlinable @inline(__always)
    func run<V: FloatVector>(_: V.Type, _ c0: Int) {
        let ch = l.channels, m = V.load(l.mean + c0), k = V.load(l.inv + c0)
        let gamma = l.gamma.map { V.load($0 + c0) }, beta = l.beta.map { V.load($0 + c0) }
        for r in 0..<rows {
            let xhat = V.load(x + r * ch + c0).minus(m).times(k)
            var v = gamma.map { $0.times(xhat) } ?? xhat
            if let b = beta { v = v.plus(b) }
            vactivate(v, act).store(y + r * ch + c0)
        }
    }
}

/// y = x * scale + shift.
@usableFromInline
struct Affine: ChannelPass {
    @usableFromInline let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, channels: Int
    @usableFromInline let scale: UnsafePointer<Float>, shift: UnsafePointer<Float>

    @_transparent @usableFromInline
    init(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
         scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        self.x = x; self.y = y; self.rows = rows; self.channels = channels; self.scale = scale; self.shift = shift
    }

    @inlinable @inline(__always)
    func run<V: FloatVector>(_: V.Type, _ c0: Int) {
        let k = V.load(scale + c0), b = V.load(shift + c0)
        for r in 0..<rows { V.load(x + r * channels + c0).times(k).plus(b).store(y + r * channels + c0) }
    }
}

@usableFromInline
struct BackwardSums: ChannelPass {
    @usableFromInline let dOut: UnsafePointer<Float>, out: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, image: Int
    @usableFromInline let l: BatchNormLayer, act: GemmEpilogue.Activation, part: UnsafeMutablePointer<Float>
    @usableFromInline let accumulate: Bool

    @_transparent @usableFromInline
    init(dOut: UnsafePointer<Float>, out: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, image: Int, l: BatchNormLayer,
         act: GemmEpilogue.Activation, part: UnsafeMutablePointer<Float>, accumulate: Bool) {
        self.dOut = dOut; self.out = out; self.x = x; self.rows = rows; self.image = max(image, 1); self.l = l; self.act = act
        self.part = part; self.accumulate = accumulate
    }

    @inlinable @inline(__always)
    func run<V: FloatVector>(_: V.Type, _ c0: Int) {
        let ch = l.channels, m = V.load(l.mean + c0), k = V.load(l.inv + c0)
        var sy = accumulate ? V.load(part + c0) : V(), sx = accumulate ? V.load(part + ch + c0) : V()
        var i0 = 0
        while i0 < rows {   // one image's blocked sums, then into the total
            let i1 = min(rows, i0 + image)
            var iy = V(), ix = V()
            forEachRowBlock(i1 - i0) { r0, r1 in
                var by = V(), bx = V()
                for r in (i0 + r0)..<(i0 + r1) {
                    let o = r * ch + c0
                    let g = vgradient(V.load(dOut + o), through: V.load(out + o), act)
                    by = by.plus(g)
                    bx = bx.plus(g.times(V.load(x + o).minus(m).times(k)))
                }
                iy = iy.plus(by); ix = ix.plus(bx)
            }
            sy = sy.plus(iy); sx = sx.plus(ix)
            i0 = i1
        }
        sy.store(part + c0)
        sx.store(part + ch + c0)
    }
}

@usableFromInline
struct BackwardData: ChannelPass {
    @usableFromInline let dOut: UnsafePointer<Float>, out: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
    @usableFromInline let rows: Int, l: BatchNormLayer, act: GemmEpilogue.Activation

    @_transparent @usableFromInline
    init(dOut: UnsafePointer<Float>, out: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
         rows: Int, l: BatchNormLayer, act: GemmEpilogue.Activation) {
        self.dOut = dOut; self.out = out; self.x = x; self.dx = dx; self.rows = rows; self.l = l; self.act = act
    }

    @inlinable @inline(__always)
    func run<V: FloatVector>(_: V.Type, _ c0: Int) {
        let ch = l.channels, m = V.load(l.mean + c0), iv = V.load(l.inv + c0)
        let k = l.gamma.map { V.load($0 + c0).times(iv) } ?? iv
        let my = V.load(l.meanDy + c0), mx = V.load(l.meanDyXhat + c0)
        for r in 0..<rows {
            let o = r * ch + c0
            let g = vgradient(V.load(dOut + o), through: V.load(out + o), act)
            let xhat = V.load(x + o).minus(m).times(iv)
            k.times(g.minus(my).minus(xhat.times(mx))).store(dx + o)
        }
    }
}
