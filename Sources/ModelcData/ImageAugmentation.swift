// ImageAugmentation: Keras's random image layers (RandomFlip, RandomRotation, RandomZoom,
// RandomTranslation, RandomContrast, RandomBrightness), one type shared by the compiler's IR
// and the runtime's training forward (Kernels/RandomImageLayers.swift). At inference these
// layers pass their input through; in training each image gets its own random transform.
//
// Semantics of Keras 3 with the TensorFlow backend
// (keras/src/layers/preprocessing/image_preprocessing), ranges [lower, upper]:
//   flip         one draw u per image; u <= 0.5 flips every axis of the mode (so
//                horizontal_and_vertical flips both axes or neither); tf.keras 2 (`independent`)
//                draws once per axis
//   rotation     angle uniform in [lower, upper] * 360 degrees about ((W-1)/2, (H-1)/2):
//                source = c + R(angle) (p - c), counter-clockwise for a positive angle
//   zoom         zy = 1 + uniform(height range), zx = 1 + uniform(width range), or zx = zy when
//                no width range is given; source = c + z (p - c) (positive: zoom out)
//   translation  ty = uniform(height range) * H, tx = uniform(width range) * W; source = p - t
//   contrast     f uniform in [1 - lower, 1 + upper]; y = (x - mean) f + mean, mean per channel
//                over the image; clipped to the value range; tf.keras 2 (`perBatch`) draws one f
//                for the whole batch
//   brightness   d = uniform(lower, upper) * (hi - lo); y = clip(x + d, lo, hi)
// The geometric ones read the source point as TensorFlow's ImageProjectiveTransformV3 does:
// each coordinate is first mapped by the fill mode (reflect, wrap, nearest; constant keeps it),
// then read bilinearly (or at the nearest pixel, halves rounded away from zero), a neighbour
// outside the image reading fill_value. Tests/DataTests/ImageAugmentationTests.swift compares
// them with Keras on fixtures made by Tests/Fixtures/data/augmentation/make_augmentation_fixtures.py.

import Foundation

public struct ImageAugmentation: Equatable, Codable, Sendable {
    public enum Kind: Equatable, Codable, Sendable {
        case flip(horizontal: Bool, vertical: Bool, independent: Bool = false)
        /// Fractions of a full turn.
        case rotation(lower: Float, upper: Float)
        /// Zoom factors minus 1; `widthLower`/`widthUpper` nil: the width follows the height.
        case zoom(heightLower: Float, heightUpper: Float, widthLower: Float?, widthUpper: Float?)
        /// Fractions of the height and the width.
        case translation(heightLower: Float, heightUpper: Float, widthLower: Float, widthUpper: Float)
        case contrast(lower: Float, upper: Float, perBatch: Bool = false)
        /// Fractions of the value range's width.
        case brightness(lower: Float, upper: Float)
    }
    public enum FillMode: String, Equatable, Codable, Sendable, CaseIterable { case reflect, wrap, constant, nearest }

    public var kind: Kind
    public var fillMode: FillMode
    public var fillValue: Float
    /// false: nearest pixel.
    public var bilinear: Bool
    /// Contrast and brightness: the values are clipped to [low, high] (Keras `value_range`).
    public var valueLow: Float
    public var valueHigh: Float

    public init(_ kind: Kind, fillMode: FillMode = .reflect, fillValue: Float = 0, bilinear: Bool = true,
                valueLow: Float = 0, valueHigh: Float = 255) {
        self.kind = kind; self.fillMode = fillMode; self.fillValue = fillValue; self.bilinear = bilinear
        self.valueLow = valueLow; self.valueHigh = valueHigh
    }

    /// Keras's reading of a factor argument: one number f is [-|f|, |f|] (its lower end at least
    /// `lowest`: RandomContrast's is 0), two numbers are sorted. nil: not one or two numbers.
    public static func kerasRange(_ v: [Float], lowest: Float = -1) -> (lower: Float, upper: Float)? {
        switch v.count {
        case 1: return (max(-abs(v[0]), lowest), abs(v[0]))
        case 2: return (min(v[0], v[1]), max(v[0], v[1]))
        default: return nil
        }
    }

    /// Keras's arguments, each value as JSON text: "factor": "[-0.1, 0.1]", "fill_mode": "\"reflect\"".
    public var arguments: [(String, String)] {
        func num(_ x: Float) -> String { !x.isFinite ? "null" : x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : "\(x)" }
        func pair(_ a: Float, _ b: Float) -> String { "[\(num(a)), \(num(b))]" }
        var out: [(String, String)]
        switch kind {
        case .flip(let h, let v, let independent):
            return [("mode", "\"" + (h && v ? "horizontal_and_vertical" : h ? "horizontal" : "vertical") + "\"")]
                + (h && v && independent ? [("draws", "\"one per axis (tf.keras 2)\"")] : [])
        case .rotation(let l, let u): out = [("factor", pair(l, u))]
        case .zoom(let hl, let hu, let wl, let wu): out = [("height_factor", pair(hl, hu)), ("width_factor", wl.map { pair($0, wu ?? $0) } ?? "null")]
        case .translation(let hl, let hu, let wl, let wu): out = [("height_factor", pair(hl, hu)), ("width_factor", pair(wl, wu))]
        case .contrast(let l, let u, let perBatch):
            return [("factor", pair(l, u)), ("value_range", pair(valueLow, valueHigh))] + (perBatch ? [("draws", "\"one per batch (tf.keras 2)\"")] : [])
        case .brightness(let l, let u): return [("factor", pair(l, u)), ("value_range", pair(valueLow, valueHigh))]
        }
        return out + [("fill_mode", "\"\(fillMode.rawValue)\""), ("fill_value", num(fillValue)), ("interpolation", bilinear ? "\"bilinear\"" : "\"nearest\"")]
    }

    /// "factor [-0.1, 0.1], fill_mode reflect, ..." (the arguments without JSON quotes).
    public var description: String {
        arguments.map { "\($0.0) \($0.1.replacingOccurrences(of: "\"", with: ""))" }.joined(separator: ", ")
    }

    /// tf.keras 2's reading of RandomContrast's factor: one number f is (f, f), two are (lower,
    /// upper) as given, unsorted (sizes taken: tf.keras 2 refuses negative ones). nil: not one or two.
    public static func kerasTwoContrastRange(_ v: [Float]) -> (lower: Float, upper: Float)? {
        (1...2).contains(v.count) ? (abs(v[0]), abs(v[v.count - 1])) : nil
    }

    /// Whether one draw serves every image of a batch (tf.keras 2's RandomContrast).
    public var drawsPerBatch: Bool {
        if case .contrast(_, _, true) = kind { return true }
        return false
    }

    /// Whether the layer resamples the image (and so reads fill_mode, fill_value, interpolation).
    public var isGeometric: Bool {
        switch kind {
        case .rotation, .zoom, .translation: return true
        case .flip, .contrast, .brightness: return false
        }
    }

    /// Transforms image `x` [h, w, c] in place with a transform drawn from `uniform` (values in
    /// [0, 1)); `scratch` holds at least h * w * c floats.
    public func apply(_ x: UnsafeMutablePointer<Float>, height h: Int, width w: Int, channels c: Int,
                      scratch: UnsafeMutablePointer<Float>, uniform: () -> Float) {
        func draw(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * uniform() }
        let cx = Float(w - 1) / 2, cy = Float(h - 1) / 2
        switch kind {
        case .flip(let horizontal, let vertical, let independent) where independent:
            if horizontal, uniform() < 0.5 { flip(x, h, w, c, horizontal: true, vertical: false) }
            if vertical, uniform() < 0.5 { flip(x, h, w, c, horizontal: false, vertical: true) }
        case .flip(let horizontal, let vertical, _):
            if uniform() <= 0.5 { flip(x, h, w, c, horizontal: horizontal, vertical: vertical) }
        case .rotation(let lower, let upper):
            let a = draw(lower * 360, upper * 360) * Float.pi / 180
            let cosA = cosf(a), sinA = sinf(a)
            resample(x, h, w, c, scratch, Affine(a0: cosA, a1: -sinA, a2: cx - cx * cosA + cy * sinA,
                                                 b0: sinA, b1: cosA, b2: cy - cx * sinA - cy * cosA))
        case .zoom(let hl, let hu, let wl, let wu):
            let zy = 1 + draw(hl, hu)
            let zx = wl.map { 1 + draw($0, wu ?? $0) } ?? zy
            resample(x, h, w, c, scratch, Affine(a0: zx, a1: 0, a2: cx * (1 - zx), b0: 0, b1: zy, b2: cy * (1 - zy)))
        case .translation(let hl, let hu, let wl, let wu):
            let ty = draw(hl, hu) * Float(h), tx = draw(wl, wu) * Float(w)
            resample(x, h, w, c, scratch, Affine(a0: 1, a1: 0, a2: -tx, b0: 0, b1: 1, b2: -ty))
        case .contrast(let lower, let upper, _):
            contrast(x, h * w, c, factor: draw(1 - lower, 1 + upper))
        case .brightness(let lower, let upper):
            let d = draw(lower, upper) * (valueHigh - valueLow)
            for i in 0..<(h * w * c) { x[i] = min(max(x[i] + d, valueLow), valueHigh) }
        }
    }

    /// source x = a0 * col + a1 * row + a2, source y = b0 * col + b1 * row + b2.
    public struct Affine: Equatable, Sendable {
        public var a0, a1, a2, b0, b1, b2: Float
        public init(a0: Float, a1: Float, a2: Float, b0: Float, b1: Float, b2: Float) {
            self.a0 = a0; self.a1 = a1; self.a2 = a2; self.b0 = b0; self.b1 = b1; self.b2 = b2
        }
    }

    /// x <- x sampled at t(p) for every output pixel p (via `scratch`).
    public func resample(_ x: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int, _ c: Int,
                         _ scratch: UnsafeMutablePointer<Float>, _ t: Affine) {
        let n = h * w * c
        scratch.update(from: x, count: n)
        for row in 0..<h {
            for col in 0..<w {
                let sx = mapCoordinate(t.a0 * Float(col) + t.a1 * Float(row) + t.a2, w)
                let sy = mapCoordinate(t.b0 * Float(col) + t.b1 * Float(row) + t.b2, h)
                let out = x + (row * w + col) * c
                if bilinear { bilinearRead(scratch, h, w, c, sy, sx, into: out) } else { nearestRead(scratch, h, w, c, sy, sx, into: out) }
            }
        }
    }

    /// TensorFlow's MapCoordinate for the fill mode (image_ops.h), then clamped to [0, len - 1]
    /// (constant: unchanged). TF's integer casts truncate toward zero, as `rounded(.towardZero)`
    /// does here without leaving Float (no conversion can trap on a far coordinate).
    func mapCoordinate(_ v: Float, _ len: Int) -> Float {
        let n = Float(len)
        guard fillMode != .constant else { return v }
        guard v.isFinite else { return 0 }
        var p = v
        switch fillMode {
        case .constant, .nearest: break
        case .reflect:
            let sz2 = 2 * n
            if len <= 1 { p = 0 }
            else if p < 0 {
                if p < sz2 { p = sz2 * (-p / sz2).rounded(.towardZero) + p }
                p = p < -n ? p + sz2 : -p - 1
            } else if p > n - 1 {
                p -= sz2 * (p / sz2).rounded(.towardZero)
                if p >= n { p = sz2 - p - 1 }
            }
        case .wrap:
            if len <= 1 { p = 0 }
            else if p < 0 { p += n * ((-p / (n - 1)).rounded(.towardZero) + 1) }
            else if p > n - 1 { p -= n * (p / (n - 1)).rounded(.towardZero) }
        }
        return min(max(p, 0), n - 1)
    }

    private func bilinearRead(_ s: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int, _ c: Int, _ y: Float, _ x: Float,
                              into out: UnsafeMutablePointer<Float>) {
        let y0 = y.rounded(.down), x0 = x.rounded(.down)
        let y1 = y0 + 1, x1 = x0 + 1
        for ch in 0..<c {
            let top = (x1 - x) * read(s, h, w, c, y0, x0, ch) + (x - x0) * read(s, h, w, c, y0, x1, ch)
            let bottom = (x1 - x) * read(s, h, w, c, y1, x0, ch) + (x - x0) * read(s, h, w, c, y1, x1, ch)
            out[ch] = (y1 - y) * top + (y - y0) * bottom
        }
    }

    private func nearestRead(_ s: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int, _ c: Int, _ y: Float, _ x: Float,
                             into out: UnsafeMutablePointer<Float>) {
        let ry = y.rounded(.toNearestOrAwayFromZero), rx = x.rounded(.toNearestOrAwayFromZero)
        for ch in 0..<c { out[ch] = read(s, h, w, c, ry, rx, ch) }
    }

    @inline(__always)
    private func read(_ s: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int, _ c: Int, _ y: Float, _ x: Float, _ ch: Int) -> Float {
        guard y >= 0, y < Float(h), x >= 0, x < Float(w) else { return fillValue }
        return s[(Int(y) * w + Int(x)) * c + ch]
    }

    private func flip(_ x: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int, _ c: Int, horizontal: Bool, vertical: Bool) {
        func swapPixels(_ a: Int, _ b: Int) { for ch in 0..<c { x.swapAt(a * c + ch, b * c + ch) } }
        if horizontal { for r in 0..<h { for q in 0..<(w / 2) { swapPixels(r * w + q, r * w + w - 1 - q) } } }
        if vertical { for r in 0..<(h / 2) { for q in 0..<w { swapPixels(r * w + q, (h - 1 - r) * w + q) } } }
    }

    private func contrast(_ x: UnsafeMutablePointer<Float>, _ pixels: Int, _ c: Int, factor f: Float) {
        for ch in 0..<c {
            var sum = 0.0
            for p in 0..<pixels { sum += Double(x[p * c + ch]) }
            let mean = Float(sum / Double(pixels))
            for p in 0..<pixels { x[p * c + ch] = min(max((x[p * c + ch] - mean) * f + mean, valueLow), valueHigh) }
        }
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) fileprivate func swapAt(_ i: Int, _ j: Int) { let t = self[i]; self[i] = self[j]; self[j] = t }
}
