// The max pool's training kernels: the forward that records each output's winner (argmax)
// and the backward that routes dy to it. Both work on 16 channels at a time in registers
// (SIMD16: one zmm, two ymm or four NEON registers), then single channels.
//   forward:  y[o][c] = the window's max, argmax[o][c] = its offset in x; a lane moves on only
//             when a value is strictly greater, so the first of equal values wins and NaN never
//             wins (exactly `Pooling.pool(.max, ...)`'s comparisons), and the window's first pixel
//             is the winner when nothing beats -infinity.
//   backward: dx[argmax[o][c]] += dy[o][c], nothing elsewhere. When the windows tile the input
//             (stride = window, no padding, output x window = input, as a 2x2 pool of an even
//             image), every dx element is one window's: it gets 0 + dy where argmax names it and
//             0 otherwise (the same bits, -0 included, as zeroing then adding), in one pass of
//             stores with no zeroing pass and no scattered adds.
//             Other geometries zero dx, then add.

extension Pooling {
    /// The max pool's training forward: y as `pool(.max, ...)` computes it, and argmax (dense
    /// [outputHeight, outputWidth, C]) the offset in x of each output's winner.
    @_transparent
    public static func maxWithArgmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>,
                                     _ g: PoolGeometry) {
        #if MODELC_KERNELS_OUT_OF_LINE
        maxWithArgmaxOutOfLine(x, y, argmax, g)
        #else
        maxWithArgmaxInlined(x, y, argmax, g)
        #endif
    }

    @inline(never)
    public static func maxWithArgmaxOutOfLine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                              _ argmax: UnsafeMutablePointer<Int32>, _ g: PoolGeometry) {
        maxWithArgmaxInlined(x, y, argmax, g)
    }

    @_transparent
    public static func maxWithArgmaxInlined(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                            _ argmax: UnsafeMutablePointer<Int32>, _ g: PoolGeometry) {
        let ch = g.channels
        for oh in 0..<g.outputHeight {
            let r = g.rows(oh)
            for ow in 0..<g.outputWidth {
                let w = g.columns(ow)
                let yo = y + g.outputOffset + oh * g.outputRowStride + ow * ch
                let ag = argmax + (oh * g.outputWidth + ow) * ch
                var c = 0
                while ch - c >= 16 { argmaxWindow16(x, yo, ag, c, r, w, g); c += 16 }
                while c < ch { argmaxWindow1(x, yo, ag, c, r, w, g); c += 1 }
            }
        }
    }

    /// Channels c..<c + 16 of one output pixel.
    @_transparent @usableFromInline
    static func argmaxWindow16(_ x: UnsafePointer<Float>, _ yo: UnsafeMutablePointer<Float>, _ ag: UnsafeMutablePointer<Int32>, _ c: Int,
                               _ r: (start: Int, end: Int), _ w: (start: Int, end: Int), _ g: PoolGeometry) {
        var best = SIMD16<Float>(repeating: -.infinity)
        var arg = SIMD16<Int32>(repeating: Int32((r.start * g.inputWidth + w.start) * g.channels + c)) &+ laneOffsets
        for ih in r.start..<r.end {
            for iw in w.start..<w.end {
                let i = (ih * g.inputWidth + iw) * g.channels + c
                let v = SIMD16<Float>.load(x + i)
                let wins = unsafeBitCast(v .> best, to: SIMD16<Int32>.self)
                best = best.maxed(v)
                arg = (arg & ~wins) | ((SIMD16<Int32>(repeating: Int32(i)) &+ laneOffsets) & wins)
            }
        }
        best.store(yo + c)
        UnsafeMutableRawPointer(ag + c).storeBytes(of: arg, as: SIMD16<Int32>.self)
    }

    /// Channel c of one output pixel.
    @_transparent @usableFromInline
    static func argmaxWindow1(_ x: UnsafePointer<Float>, _ yo: UnsafeMutablePointer<Float>, _ ag: UnsafeMutablePointer<Int32>, _ c: Int,
                              _ r: (start: Int, end: Int), _ w: (start: Int, end: Int), _ g: PoolGeometry) {
        var best = -Float.infinity, arg = (r.start * g.inputWidth + w.start) * g.channels + c
        for ih in r.start..<r.end {
            for iw in w.start..<w.end {
                let i = (ih * g.inputWidth + iw) * g.channels + c
                if x[i] > best { best = x[i]; arg = i }
            }
        }
        yo[c] = best
        ag[c] = Int32(arg)
    }

    /// 0, 1, ..., 15: the lanes' channel offsets.
    @_transparent @usableFromInline
    static var laneOffsets: SIMD16<Int32> { SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) }

    /// The max pool's backward for one image: dx from dy and argmax (see the top of the file).
    @_transparent
    public static func maxBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ argmax: UnsafePointer<Int32>,
                                   _ g: PoolGeometry) {
        #if MODELC_KERNELS_OUT_OF_LINE
        maxBackwardOutOfLine(dx, dy, argmax, g)
        #else
        maxBackwardInlined(dx, dy, argmax, g)
        #endif
    }

    @inline(never)
    public static func maxBackwardOutOfLine(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ argmax: UnsafePointer<Int32>,
                                            _ g: PoolGeometry) {
        maxBackwardInlined(dx, dy, argmax, g)
    }

    @_transparent
    public static func maxBackwardInlined(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ argmax: UnsafePointer<Int32>,
                                          _ g: PoolGeometry) {
        let ch = g.channels
        guard g.windowsTile else {
            maxBackward(dx, dy, argmax, inputCount: g.inputHeight * g.inputWidth * ch, outputCount: g.outputHeight * g.outputWidth * ch)
            return
        }
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                let o = (oh * g.outputWidth + ow) * ch, r = g.rows(oh), w = g.columns(ow)
                for ih in r.start..<r.end {
                    for iw in w.start..<w.end {
                        let i = (ih * g.inputWidth + iw) * ch
                        var c = 0
                        while ch - c >= 16 {
                            let a = UnsafeRawPointer(argmax + o + c).loadUnaligned(as: SIMD16<Int32>.self)
                            let here = unsafeBitCast(a .== SIMD16<Int32>(repeating: Int32(i + c)) &+ laneOffsets, to: SIMD16<Int32>.self)
                            let d = unsafeBitCast(SIMD16<Float>.load(dy + o + c), to: SIMD16<Int32>.self)
                            (SIMD16<Float>() + unsafeBitCast(d & here, to: SIMD16<Float>.self)).store(dx + i + c)
                            c += 16
                        }
                        while c < ch { dx[i + c] = argmax[o + c] == Int32(i + c) ? 0 + dy[o + c] : 0; c += 1 }
                    }
                }
            }
        }
    }

    /// dx (inputCount floats) = 0, then dx[argmax[i]] += dy[i] for the outputCount outputs (any
    /// geometry; a global max pool).
    @_transparent
    public static func maxBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ argmax: UnsafePointer<Int32>,
                                   inputCount: Int, outputCount: Int) {
        dx.update(repeating: 0, count: inputCount)
        for i in 0..<outputCount { dx[Int(argmax[i])] += dy[i] }
    }
}

extension PoolGeometry {
    /// The windows cover the input exactly once: stride = window, no padding, output x window = input.
    @_transparent @usableFromInline
    var windowsTile: Bool {
        padTop == 0 && padLeft == 0 && strideHeight == windowHeight && strideWidth == windowWidth
            && outputHeight * windowHeight == inputHeight && outputWidth * windowWidth == inputWidth
    }
}
