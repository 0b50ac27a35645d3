// Resizing and center-cropping decoded images.
//
// resized: bilinear resampling exactly as PIL's Image.resize(size, Image.BILINEAR) on 8-bit
// images (and so torchvision's Resize on PIL images): separable, the horizontal pass first into
// an 8-bit intermediate, then the vertical pass; pixel centers aligned; each output pixel is the
// triangle-filter-weighted mean of the input pixels around its center, the filter widened by the
// scale factor when shrinking (so every input pixel contributes: no aliasing), plain bilinear
// interpolation when enlarging; weights normalized and rounded to 22-bit fixed point as PIL does.
// centerCropped: torchvision's CenterCrop offsets, round((size - crop) / 2) half to even.

/// The weights of one axis: for output index i, input pixels start[i] ..< start[i] + count[i]
/// with fixed-point weights taps[i * stride ..< i * stride + count[i]].
struct ResampleAxis {
    static let precisionBits = 22
    var start: [Int] = []
    var count: [Int] = []
    var taps: [Int] = []
    var stride = 0

    /// PIL's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter (support 1).
    init(from inSize: Int, to outSize: Int) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filterScale, inverse = 1 / filterScale
        stride = Int(support.rounded(.up)) * 2 + 1
        taps = [Int](repeating: 0, count: outSize * stride)
        var weights = [Double](repeating: 0, count: stride)
        for o in 0..<outSize {
            let center = (Double(o) + 0.5) * scale
            let lo = max(0, Int(center - support + 0.5))
            let hi = min(inSize, Int(center + support + 0.5))
            var total = 0.0
            for k in 0..<max(0, hi - lo) {
                let x = abs((Double(k + lo) - center + 0.5) * inverse)
                weights[k] = x < 1 ? 1 - x : 0
                total += weights[k]
            }
            for k in 0..<max(0, hi - lo) {
                let w = total != 0 ? weights[k] / total : weights[k]
                let f = w * Double(1 << Self.precisionBits)
                taps[o * stride + k] = Int(w < 0 ? f - 0.5 : f + 0.5)
            }
            start.append(lo); count.append(max(0, hi - lo))
        }
    }

    /// The rounded, clipped 8-bit value of a fixed-point sum (PIL's clip8).
    @inline(__always) static func clip8(_ s: Int) -> UInt8 {
        s <= 0 ? 0 : s >= (256 << precisionBits) ? 255 : UInt8(s >> precisionBits)
    }
}

extension DecodedImage {
    /// Bilinear resize to `w` x `h` (see the top of this file), any channel count.
    public func resized(width w: Int, height h: Int) -> DecodedImage {
        var image = self
        if w != width { image = image.resampled(ResampleAxis(from: width, to: w), horizontal: true, outSize: w) }
        if h != height { image = image.resampled(ResampleAxis(from: height, to: h), horizontal: false, outSize: h) }
        return image
    }

    /// One separable pass along x (`horizontal`) or y.
    private func resampled(_ axis: ResampleAxis, horizontal: Bool, outSize: Int) -> DecodedImage {
        let (ow, oh) = horizontal ? (outSize, height) : (width, outSize)
        let c = channels
        // distance between neighbouring input pixels along the axis, and between lines across it
        let step = horizontal ? c : width * c
        let line = horizontal ? width * c : c
        var out = [UInt8](repeating: 0, count: ow * oh * c)
        let half = 1 << (ResampleAxis.precisionBits - 1)
        pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { q in
                for y in 0..<oh {
                    for x in 0..<ow {
                        let (o, across) = horizontal ? (x, y) : (y, x)
                        let base = across * line + axis.start[o] * step
                        let taps = o * axis.stride
                        for ch in 0..<c {
                            var s = half
                            for k in 0..<axis.count[o] { s += Int(p[base + k * step + ch]) * axis.taps[taps + k] }
                            q[(y * ow + x) * c + ch] = ResampleAxis.clip8(s)
                        }
                    }
                }
            }
        }
        return DecodedImage(width: ow, height: oh, channels: c, pixels: out)
    }

    /// The central `w` x `h` part (w <= width, h <= height), at torchvision's CenterCrop offsets.
    public func centerCropped(width w: Int, height h: Int) -> DecodedImage {
        precondition(w <= width && h <= height, "crop larger than the image")
        if w == width && h == height { return self }
        let top = Int((Double(height - h) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(width - w) / 2).rounded(.toNearestOrEven))
        var out = [UInt8](); out.reserveCapacity(w * h * channels)
        for y in top..<(top + h) {
            let row = (y * width + left) * channels
            out.append(contentsOf: pixels[row..<(row + w * channels)])
        }
        return DecodedImage(width: w, height: h, channels: channels, pixels: out)
    }
}
