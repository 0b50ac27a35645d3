// Data augmentation: a random shift of up to `maxShift` pixels along each axis and a random
// rotation of up to `maxDegrees` about the image center, sampled bilinearly with zeros outside.
// Each image's transform comes from its own seeded stream, so runs are reproducible.

import Foundation

public struct Augmentation: Sendable, Equatable {
    public var maxShift: Int
    public var maxDegrees: Float
    public init(maxShift: Int, maxDegrees: Float) { self.maxShift = maxShift; self.maxDegrees = maxDegrees }
    public var isIdentity: Bool { maxShift == 0 && maxDegrees == 0 }

    /// Writes the transformed raw image (values 0...255 as Float) of `src` [h, w, c] to `dst`.
    public func apply(_ src: UnsafePointer<UInt8>, to dst: UnsafeMutablePointer<Float>, height h: Int, width w: Int, channels c: Int, seed: UInt64) {
        var g = SplitMix64(seed: seed)
        let dx = maxShift > 0 ? Float(g.next(below: 2 * maxShift + 1) - maxShift) : 0
        let dy = maxShift > 0 ? Float(g.next(below: 2 * maxShift + 1) - maxShift) : 0
        let angle = maxDegrees > 0 ? (g.nextFloat() * 2 - 1) * maxDegrees * Float.pi / 180 : 0
        let cosA = cosf(angle), sinA = sinf(angle)
        let cy = Float(h - 1) / 2, cx = Float(w - 1) / 2
        for y in 0..<h {
            for x in 0..<w {
                // inverse map: source = R(-angle) * (p - center - shift) + center
                let py = Float(y) - cy - dy, px = Float(x) - cx - dx
                let sy = cosA * py - sinA * px + cy
                let sx = sinA * py + cosA * px + cx
                let y0f = sy.rounded(.down), x0f = sx.rounded(.down)
                let fy = sy - y0f, fx = sx - x0f
                let y0 = Int(y0f), x0 = Int(x0f)
                for ch in 0..<c {
                    @inline(__always) func at(_ yy: Int, _ xx: Int) -> Float {
                        (yy >= 0 && yy < h && xx >= 0 && xx < w) ? Float(src[(yy * w + xx) * c + ch]) : 0
                    }
                    let v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
                          + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1))
                    dst[(y * w + x) * c + ch] = v
                }
            }
        }
    }
}
