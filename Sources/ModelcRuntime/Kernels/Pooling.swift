// Max and average pooling of one NHWC image, with TF padding: a window is clipped to the
// image, so padded positions never win a max and are not counted in an average ('same' pads
// so that out = ceil(in / stride), the odd extra row or column at the bottom or right).
// PyTorch's explicit padding clips the same way; its average pools count the padded positions
// (count_include_pad, the default), which `countedPadding` selects.
//
//   pool           y[oh][ow][c] = act(max or mean of x over the window of (oh, ow)), channels in
//                  SIMD registers, y in a strided layout (inference, a fused group's pool, and
//                  the average pool's training forward)
//   maxWithArgmax  the max pool's training forward: also the winning input offset per output
//   maxBackward    dx = 0, then dx[argmax[i]] += dy[i] (also GlobalPooling's max)
//   averageBackward dx = 0, then each window's pixels += dy * 1 / (pixels in the window)
//
// Every pooling visits a window's pixels row by row and keeps the first of equal maxima (a
// strictly greater value replaces the running one, which starts at -infinity), so `pool` and
// `maxWithArgmax` give the same maxima. Like the Gemm these functions are @_transparent: the
// emitted model passes its geometry as literals, so after inlining every bound is a constant;
// with MODELC_KERNELS_OUT_OF_LINE (debug builds) they call a copy compiled here instead.

/// One pooling layer's windows and where its output goes (a literal at every call).
public struct PoolGeometry {
    /// The input image: height, width, channels (C).
    public var inputHeight: Int, inputWidth: Int, channels: Int
    public var outputHeight: Int, outputWidth: Int
    public var windowHeight: Int, windowWidth: Int, strideHeight: Int, strideWidth: Int
    /// Padding above and left of the image (the window of output (0, 0) starts at (-top, -left)).
    public var padTop: Int, padLeft: Int
    /// Where output pixel (0, 0) is, and the floats from one output row to the next; pixels
    /// are C floats apart (the interior of a zero-padded buffer, or a dense image).
    public var outputOffset: Int, outputRowStride: Int
    /// Average pools: nil divides by the window's pixels in the image; else by its positions in
    /// the image padded by padTop/padLeft and these (PyTorch's count_include_pad).
    public var countedPadding: (bottom: Int, right: Int)?

    @_transparent
    public init(input: (height: Int, width: Int, channels: Int), output: (height: Int, width: Int),
                window: (height: Int, width: Int), stride: (height: Int, width: Int), padding: (top: Int, left: Int) = (0, 0),
                countedPadding: (bottom: Int, right: Int)? = nil, outputOffset: Int = 0, outputRowStride: Int? = nil) {
        inputHeight = input.height; inputWidth = input.width; channels = input.channels
        outputHeight = output.height; outputWidth = output.width
        windowHeight = window.height; windowWidth = window.width; strideHeight = stride.height; strideWidth = stride.width
        padTop = padding.top; padLeft = padding.left
        self.countedPadding = countedPadding
        self.outputOffset = outputOffset
        self.outputRowStride = outputRowStride ?? output.width * input.channels
    }

    /// 1 / the divisor of output (oh, ow)'s average, whose clipped window is r x w.
    @_transparent @usableFromInline
    func inverseCount(_ oh: Int, _ ow: Int, _ r: (start: Int, end: Int), _ w: (start: Int, end: Int)) -> Float {
        guard let p = countedPadding else { return 1 / Float((r.end - r.start) * (w.end - w.start)) }
        let top = oh * strideHeight - padTop, left = ow * strideWidth - padLeft
        let rows = min(top + windowHeight, inputHeight + p.bottom) - top
        let columns = min(left + windowWidth, inputWidth + p.right) - left
        return 1 / Float(rows * columns)
    }

    /// No window reaches past the image: the bounds need no clipping (a constant after inlining).
    @_transparent @usableFromInline
    var windowsFit: Bool {
        padTop == 0 && padLeft == 0 && (outputHeight - 1) * strideHeight + windowHeight <= inputHeight
            && (outputWidth - 1) * strideWidth + windowWidth <= inputWidth
    }

    /// Input rows of output row `oh`'s window, clipped to the image.
    @_transparent @usableFromInline
    func rows(_ oh: Int) -> (start: Int, end: Int) {
        Self.span(oh, strideHeight, padTop, windowHeight, inputHeight, fits: windowsFit)
    }

    /// Input columns of output column `ow`'s window, clipped to the image.
    @_transparent @usableFromInline
    func columns(_ ow: Int) -> (start: Int, end: Int) {
        Self.span(ow, strideWidth, padLeft, windowWidth, inputWidth, fits: windowsFit)
    }

    @_transparent @usableFromInline
    static func span(_ o: Int, _ stride: Int, _ pad: Int, _ size: Int, _ limit: Int, fits: Bool) -> (start: Int, end: Int) {
        if fits { return (o * stride, o * stride + size) }
        let s = o * stride - pad
        return (max(s, 0), min(s + size, limit))
    }
}

public enum Pooling {
    public enum Kind: Sendable { case max, average }

    /// Pools the image at x into y (in the geometry's output layout), then applies `act`.
    @_transparent
    public static func pool(_ kind: Kind, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: PoolGeometry,
                            _ act: GemmEpilogue.Activation = .none) {
        #if MODELC_KERNELS_OUT_OF_LINE
        poolOutOfLine(kind, x, y, g, act)
        #else
        poolInlined(kind, x, y, g, act)
        #endif
    }

    @inline(never)
    public static func poolOutOfLine(_ kind: Kind, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: PoolGeometry,
                                     _ act: GemmEpilogue.Activation) {
        switch kind {
        case .max: poolInlined(.max, x, y, g, act)
        case .average: poolInlined(.average, x, y, g, act)
        }
    }

    /// Per output pixel: groups of 64, 32, 16, 8 and 4 channels in registers, then single channels.
    @_transparent
    public static func poolInlined(_ kind: Kind, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: PoolGeometry,
                                   _ act: GemmEpilogue.Activation) {
        let ch = g.channels
        for oh in 0..<g.outputHeight {
            let r = g.rows(oh)
            for ow in 0..<g.outputWidth {
                let w = g.columns(ow)
                let yo = y + g.outputOffset + oh * g.outputRowStride + ow * ch
                let inv = kind == .average ? g.inverseCount(oh, ow, r, w) : 1
                var c = 0
                while ch - c >= 64 { window(VectorPair<VectorPair<SIMD16<Float>>>.self, kind, x, yo, c, r, w, inv, g, act); c += 64 }
                if ch - c >= 32 { window(VectorPair<SIMD16<Float>>.self, kind, x, yo, c, r, w, inv, g, act); c += 32 }
                if ch - c >= 16 { window(SIMD16<Float>.self, kind, x, yo, c, r, w, inv, g, act); c += 16 }
                if ch - c >= 8 { window(SIMD8<Float>.self, kind, x, yo, c, r, w, inv, g, act); c += 8 }
                if ch - c >= 4 { window(SIMD4<Float>.self, kind, x, yo, c, r, w, inv, g, act); c += 4 }
                while c < ch { window(Float.self, kind, x, yo, c, r, w, inv, g, act); c += 1 }
            }
        }
    }

    /// Channels c..<c + V.lanes of one output pixel: the window's max, or its sum times inv (1 / count).
    @_transparent @usableFromInline
    static func window<V: PoolingVector>(_: V.Type, _ kind: Kind, _ x: UnsafePointer<Float>, _ yo: UnsafeMutablePointer<Float>,
                                         _ c: Int, _ r: (start: Int, end: Int), _ w: (start: Int, end: Int), _ inv: Float,
                                         _ g: PoolGeometry, _ act: GemmEpilogue.Activation) {
        var v = kind == .max ? V(broadcast: -.infinity) : V()
        for ih in r.start..<r.end {
            for iw in w.start..<w.end {
                let e = V.load(x + (ih * g.inputWidth + iw) * g.channels + c)
                v = kind == .max ? v.maxed(e) : v.plus(e)
            }
        }
        if kind == .average { v = v.scaled(by: inv) }
        vactivate(v, act).store(yo + c)
    }

    /// dx = 0, then every pixel of the window of output (oh, ow) gets dy[oh][ow] / (the forward's
    /// divisor), windows in row-major order; dy is dense [outputHeight, outputWidth, C].
    @_transparent
    public static func averageBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ g: PoolGeometry) {
        #if MODELC_KERNELS_OUT_OF_LINE
        averageBackwardOutOfLine(dx, dy, g)
        #else
        averageBackwardInlined(dx, dy, g)
        #endif
    }

    @inline(never)
    public static func averageBackwardOutOfLine(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ g: PoolGeometry) {
        averageBackwardInlined(dx, dy, g)
    }

    @_transparent
    public static func averageBackwardInlined(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ g: PoolGeometry) {
        let ch = g.channels
        dx.update(repeating: 0, count: g.inputHeight * g.inputWidth * ch)
        for oh in 0..<g.outputHeight {
            let r = g.rows(oh)
            for ow in 0..<g.outputWidth {
                let w = g.columns(ow)
                let o = dy + (oh * g.outputWidth + ow) * ch
                let inv = g.inverseCount(oh, ow, r, w)
                for ih in r.start..<r.end {
                    for iw in w.start..<w.end {
                        let i = dx + (ih * g.inputWidth + iw) * ch
                        for c in 0..<ch { i[c] += o[c] * inv }
                    }
                }
            }
        }
    }
}

/// GlobalMaxPooling2D over the `pixels` pixels of one image (GlobalAveragePooling2D is
/// `Pooling.pool(.average, ...)` with one window covering the image).
public enum GlobalPooling {
    /// y[c] = max over pixels of x[p][c] (starting from pixel 0, so a NaN there is kept), and
    /// argmax[c] its offset in x; backward: `Pooling.maxBackward`.
    @_transparent
    public static func max(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>,
                           pixels: Int, channels: Int) {
        #if MODELC_KERNELS_OUT_OF_LINE
        maxOutOfLine(x, y, argmax, pixels: pixels, channels: channels)
        #else
        maxInlined(x, y, argmax, pixels: pixels, channels: channels)
        #endif
    }

    @inline(never)
    public static func maxOutOfLine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>,
                                    pixels: Int, channels: Int) {
        maxInlined(x, y, argmax, pixels: pixels, channels: channels)
    }

    @_transparent
    public static func maxInlined(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>,
                                  pixels: Int, channels: Int) {
        for c in 0..<channels { y[c] = x[c]; argmax[c] = Int32(c) }
        for p in 1..<Swift.max(pixels, 1) {
            for c in 0..<channels {
                let v = x[p * channels + c]
                if v > y[c] { y[c] = v; argmax[c] = Int32(p * channels + c) }
            }
        }
    }

    /// dx[p][c] = dy[c] / pixels for every pixel p.
    @_transparent
    public static func averageBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, pixels: Int, channels: Int) {
        #if MODELC_KERNELS_OUT_OF_LINE
        averageBackwardOutOfLine(dx, dy, pixels: pixels, channels: channels)
        #else
        averageBackwardInlined(dx, dy, pixels: pixels, channels: channels)
        #endif
    }

    @inline(never)
    public static func averageBackwardOutOfLine(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, pixels: Int, channels: Int) {
        averageBackwardInlined(dx, dy, pixels: pixels, channels: channels)
    }

    @_transparent
    public static func averageBackwardInlined(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, pixels: Int, channels: Int) {
        let inv = 1 / Float(Swift.max(pixels, 1))
        for p in 0..<pixels {
            for c in 0..<channels { dx[p * channels + c] = dy[c] * inv }
        }
    }
}
