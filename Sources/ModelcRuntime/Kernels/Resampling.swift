// Cropping and bilinear upsampling of one NHWC image, forward and backward side by side. Plain
// loops called out of line: these layers move few values next to the convolutions around them.
//
//   crop              y[r][q][c] = x[r + top][q + left][c]            (Keras Cropping1D/2D)
//   cropBackward      dx = 0; dx[r + top][q + left][c] = dy[r][q][c]
//   bilinear          y[o][p] = the mix of the 4 input pixels around the source point, with TF's
//                     half-pixel centres (align_corners=False): per axis, source s = (o + 0.5) /
//                     size - 0.5, lower = max(floor(s), 0), upper = min(ceil(s), n - 1), weight
//                     of upper = s - floor(s) (Keras UpSampling2D(interpolation='bilinear'),
//                     tf.image.resize, PyTorch Upsample(mode='bilinear', align_corners=False))
//   bilinearBackward  dx = 0; each dy pixel adds its 4 weights' shares into dx
//   resize            the same mix to any output size (Keras Resizing, tf.image.resize bilinear
//                     without antialiasing): per axis, source s = (o + 0.5) * (n / m) - 0.5 with
//                     the scale n / m rounded to Float once, as TF computes it; resizeBackward
//                     likewise

public enum Resampling {
    /// y [oh, ow, c] from x [h, w, c]: the window starting at row `top`, column `left`.
    public static func crop(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, input: (h: Int, w: Int, c: Int),
                            output: (h: Int, w: Int), top: Int, left: Int) {
        let c = input.c
        for r in 0..<output.h {
            (y + r * output.w * c).update(from: x + ((r + top) * input.w + left) * c, count: output.w * c)
        }
    }

    /// dx [h, w, c] from dy [oh, ow, c]: dy in the window, zero outside it.
    public static func cropBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, input: (h: Int, w: Int, c: Int),
                                    output: (h: Int, w: Int), top: Int, left: Int) {
        let c = input.c
        dx.update(repeating: 0, count: input.h * input.w * c)
        for r in 0..<output.h {
            (dx + ((r + top) * input.w + left) * c).update(from: dy + r * output.w * c, count: output.w * c)
        }
    }

    /// One axis's source pixels and the weight of the upper one, per output position (TF half-pixel).
    public static func bilinearTaps(_ n: Int, size: Int) -> [(lower: Int, upper: Int, weight: Float)] {
        (0..<(n * size)).map { o in
            let s = (Float(o) + 0.5) / Float(size) - 0.5
            let f = s.rounded(.down)
            return (max(Int(f), 0), min(Int(s.rounded(.up)), n - 1), s - f)
        }
    }

    /// One axis's taps from n input to m output pixels (TF's half-pixel scaler, scale n / m).
    public static func resizeTaps(_ n: Int, to m: Int) -> [(lower: Int, upper: Int, weight: Float)] {
        let scale = Float(n) / Float(m)
        return (0..<m).map { o in
            let s = (Float(o) + 0.5) * scale - 0.5
            let f = s.rounded(.down)
            return (max(Int(f), 0), min(Int(s.rounded(.up)), n - 1), s - f)
        }
    }

    /// y [oh, ow, c] from x [h, w, c], bilinear (Keras Resizing).
    public static func resize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, input: (h: Int, w: Int, c: Int),
                              output: (h: Int, w: Int)) {
        mix(x, y, input: input, rows: resizeTaps(input.h, to: output.h), cols: resizeTaps(input.w, to: output.w))
    }

    /// dx [h, w, c] from dy [oh, ow, c].
    public static func resizeBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, input: (h: Int, w: Int, c: Int),
                                      output: (h: Int, w: Int)) {
        scatter(dx, dy, input: input, rows: resizeTaps(input.h, to: output.h), cols: resizeTaps(input.w, to: output.w))
    }

    /// y [h*sh, w*sw, c] from x [h, w, c].
    public static func bilinear(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, input: (h: Int, w: Int, c: Int),
                                size: (h: Int, w: Int)) {
        mix(x, y, input: input, rows: bilinearTaps(input.h, size: size.h), cols: bilinearTaps(input.w, size: size.w))
    }

    /// y[o][p] = the 4 input pixels of the taps, mixed.
    static func mix(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, input: (h: Int, w: Int, c: Int),
                    rows: [(lower: Int, upper: Int, weight: Float)], cols: [(lower: Int, upper: Int, weight: Float)]) {
        let c = input.c, ow = cols.count
        for (o, rt) in rows.enumerated() {
            let top = x + rt.lower * input.w * c, bottom = x + rt.upper * input.w * c
            for (p, ct) in cols.enumerated() {
                let out = y + (o * ow + p) * c
                let tl = top + ct.lower * c, tr = top + ct.upper * c, bl = bottom + ct.lower * c, br = bottom + ct.upper * c
                for k in 0..<c {
                    let t = tl[k] + (tr[k] - tl[k]) * ct.weight
                    let b = bl[k] + (br[k] - bl[k]) * ct.weight
                    out[k] = t + (b - t) * rt.weight
                }
            }
        }
    }

    /// dx [h, w, c] from dy [h*sh, w*sw, c].
    public static func bilinearBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, input: (h: Int, w: Int, c: Int),
                                        size: (h: Int, w: Int)) {
        scatter(dx, dy, input: input, rows: bilinearTaps(input.h, size: size.h), cols: bilinearTaps(input.w, size: size.w))
    }

    /// dx = 0; each dy pixel adds its 4 weights' shares into dx at the taps.
    static func scatter(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, input: (h: Int, w: Int, c: Int),
                        rows: [(lower: Int, upper: Int, weight: Float)], cols: [(lower: Int, upper: Int, weight: Float)]) {
        let c = input.c, ow = cols.count
        dx.update(repeating: 0, count: input.h * input.w * c)
        for (o, rt) in rows.enumerated() {
            let top = dx + rt.lower * input.w * c, bottom = dx + rt.upper * input.w * c
            for (p, ct) in cols.enumerated() {
                let g = dy + (o * ow + p) * c
                let tl = top + ct.lower * c, tr = top + ct.upper * c, bl = bottom + ct.lower * c, br = bottom + ct.upper * c
                let wt = 1 - rt.weight, wb = rt.weight, wl = 1 - ct.weight, wr = ct.weight
                for k in 0..<c {
                    tl[k] += g[k] * wt * wl; tr[k] += g[k] * wt * wr
                    bl[k] += g[k] * wb * wl; br[k] += g[k] * wb * wr
                }
            }
        }
    }
}
