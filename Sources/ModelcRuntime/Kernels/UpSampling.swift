// Nearest-neighbour upsampling of one NHWC image by whole factors (Keras UpSampling2D, PyTorch
// Upsample(mode='nearest') with an integer scale):
//
//   nearest           y[h*sh + i][w*sw + j][c] = x[h][w][c]   for i < sh, j < sw
//   nearestBackward   dx[h][w][c] = sum over i < sh, then j < sw, of dy[h*sh + i][w*sw + j][c]
//
// Each input row becomes one output row (each pixel's C floats copied sw times), which is then
// copied to the next sh - 1 rows. The backward adds the block's rows in order, so its sums are
// the plain scalar loop's. Like the other kernels these are @_transparent with the geometry as
// literals at the call; with MODELC_KERNELS_OUT_OF_LINE (debug builds) they call a copy compiled here.

/// One upsampling layer's input size and factors (a literal at every call).
public struct UpSamplingGeometry {
    public var height: Int, width: Int, channels: Int
    public var sizeHeight: Int, sizeWidth: Int

    @_transparent
    public init(input: (height: Int, width: Int, channels: Int), size: (height: Int, width: Int)) {
        height = input.height; width = input.width; channels = input.channels
        sizeHeight = size.height; sizeWidth = size.width
    }

    /// Floats in one output row.
    @_transparent @usableFromInline
    var outputRow: Int { width * sizeWidth * channels }
}

public enum UpSampling {
    /// y (the upsampled image) from x.
    @_transparent
    public static func nearest(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: UpSamplingGeometry) {
        #if MODELC_KERNELS_OUT_OF_LINE
        nearestOutOfLine(x, y, g)
        #else
        nearestInlined(x, y, g)
        #endif
    }

    @inline(never)
    public static func nearestOutOfLine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: UpSamplingGeometry) {
        nearestInlined(x, y, g)
    }

    @_transparent
    public static func nearestInlined(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: UpSamplingGeometry) {
        let c = g.channels, row = g.outputRow
        for h in 0..<g.height {
            let first = y + h * g.sizeHeight * row
            for w in 0..<g.width {
                let src = x + (h * g.width + w) * c
                for j in 0..<g.sizeWidth { (first + (w * g.sizeWidth + j) * c).update(from: src, count: c) }
            }
            for i in 1..<max(g.sizeHeight, 1) { (first + i * row).update(from: first, count: row) }
        }
    }

    /// dx (the input image's gradient) from dy (the output's).
    @_transparent
    public static func nearestBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ g: UpSamplingGeometry) {
        #if MODELC_KERNELS_OUT_OF_LINE
        nearestBackwardOutOfLine(dx, dy, g)
        #else
        nearestBackwardInlined(dx, dy, g)
        #endif
    }

    @inline(never)
    public static func nearestBackwardOutOfLine(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ g: UpSamplingGeometry) {
        nearestBackwardInlined(dx, dy, g)
    }

    @_transparent
    public static func nearestBackwardInlined(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ g: UpSamplingGeometry) {
        let c = g.channels, row = g.outputRow
        dx.update(repeating: 0, count: g.height * g.width * c)
        for h in 0..<g.height {
            let out = dx + h * g.width * c
            for i in 0..<g.sizeHeight {
                let src = dy + (h * g.sizeHeight + i) * row
                for w in 0..<g.width {
                    for j in 0..<g.sizeWidth {
                        let s = src + (w * g.sizeWidth + j) * c, d = out + w * c
                        for k in 0..<c { d[k] += s[k] }
                    }
                }
            }
        }
    }
}
