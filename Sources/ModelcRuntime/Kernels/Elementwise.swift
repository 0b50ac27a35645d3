// Element-wise kernels: activation functions forward and backward (softmax per row of the last
// axis), and inverted dropout.
//
//   Activations.forward     y = f(x)                     x and y may be the same buffer
//   Activations.backward    dx = dy * f'(x), from y = f(x); dy and dx may be the same buffer
//                           softmax per row: y = exp(x - max) / sum, dx = y * (dy - sum(dy * y))
//   Activations.backwardFromInput
//                           dx = dy * f'(x), from x: the functions whose derivative y does not
//                           give (silu, gelu, hard_swish, mish; `needsInput`); their formulas are
//                           in VectorMath.swift
//   Dropout.training        keep element i when u_i >= rate, u_i uniform in [0, 1) from a hash of
//                           (seed, first + i); y = x * mask, mask = 1 / (1 - rate) or 0; spatial
//                           (`channels`, `size` floats per image): the hash of (seed, n * channels
//                           + c) for element g = first + i of image n = g / size, channel
//                           c = g mod channels
//   Dropout.backward        dx = dy * mask
//
// Each element's result is the same expression in either form, so results do not depend on how a
// batch is split (sigmoid, tanh and the smooth activations but hard_swish: VectorMath's, which
// gives every element its vector's value, the last few too). The functions are @_transparent (every
// count a literal times the chunk's image count after inlining); with MODELC_KERNELS_OUT_OF_LINE
// (debug builds) they call a copy compiled here instead, the activation's `switch` outside its
// loop.

import Foundation

/// An activation function: element-wise, or softmax over each row of `channels` values.
public enum ActivationFunction: Sendable {
    /// capped(m): min(max(x, 0), m) (ReLU6: m = 6).
    case linear, relu, leaky(Float), sigmoid, tanh, elu(Float), capped(Float), softmax(channels: Int)
    /// hardSigmoid(a, b): min(max(a * x + b, 0), 1) (PyTorch and Keras 3: a = 1/6; Keras 2: 0.2).
    case silu, gelu, geluTanh, hardSigmoid(Float, Float), hardSwish, selu, softplus, softsign, mish

    /// The backward needs the layer's input x (`Activations.backwardFromInput`), not only y.
    public var needsInput: Bool {
        switch self {
        case .silu, .gelu, .geluTanh, .hardSwish, .mish: return true
        default: return false
        }
    }
}

public enum Activations {
    /// y[i] = f(x[i]) for i in 0..<count (softmax: rows of `channels` elements).
    @_transparent
    public static func forward(_ f: ActivationFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        #if MODELC_KERNELS_OUT_OF_LINE
        forwardOutOfLine(f, x, y, count: count)
        #else
        forwardInlined(f, x, y, count: count)
        #endif
    }

    @inline(never)
    public static func forwardOutOfLine(_ f: ActivationFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        forwardInlined(f, x, y, count: count)
    }

    @_transparent
    public static func forwardInlined(_ f: ActivationFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .linear: for i in 0..<count { y[i] = x[i] }
        case .relu: for i in 0..<count { y[i] = max(x[i], 0) }
        case .leaky(let a): for i in 0..<count { let v = x[i]; y[i] = v < 0 ? v * a : v }
        case .sigmoid: VectorMath.sigmoid(x, into: y, count: count)
        case .tanh: VectorMath.tanh(x, into: y, count: count)
        case .capped(let m): for i in 0..<count { y[i] = min(max(x[i], 0), m) }
        case .softmax(let channels): softmax(x, y, rows: count / channels, channels: channels)
        case .silu, .gelu, .geluTanh, .elu, .selu, .softplus, .mish: VectorMath.smooth(f, x, y, count: count)
        case .hardSigmoid(let a, let b): for i in 0..<count { y[i] = min(max(x[i] * a + b, 0), 1) }
        case .hardSwish: for i in 0..<count { y[i] = SmoothActivations.hardSwish(x[i]) }
        case .softsign: for i in 0..<count { let v = x[i]; y[i] = v / (1 + abs(v)) }
        }
    }

    /// dx[i] = dy[i] * f'(x[i]) for i in 0..<count, given y = f(x) (softmax: its Jacobian per row).
    @_transparent
    public static func backward(_ f: ActivationFunction, dy: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>, count: Int) {
        #if MODELC_KERNELS_OUT_OF_LINE
        backwardOutOfLine(f, dy: dy, y: y, dx: dx, count: count)
        #else
        backwardInlined(f, dy: dy, y: y, dx: dx, count: count)
        #endif
    }

    @inline(never)
    public static func backwardOutOfLine(_ f: ActivationFunction, dy: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                         dx: UnsafeMutablePointer<Float>, count: Int) {
        backwardInlined(f, dy: dy, y: y, dx: dx, count: count)
    }

    @_transparent
    public static func backwardInlined(_ f: ActivationFunction, dy: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                       dx: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .linear: for i in 0..<count { dx[i] = dy[i] }
        case .relu: for i in 0..<count { let g = dy[i]; dx[i] = y[i] > 0 ? g : 0 }
        case .leaky(let a): for i in 0..<count { let g = dy[i]; dx[i] = y[i] > 0 ? g : g * a }
        case .sigmoid: for i in 0..<count { let v = y[i]; dx[i] = dy[i] * v * (1 - v) }
        case .tanh: for i in 0..<count { let v = y[i]; dx[i] = dy[i] * (1 - v * v) }
        case .elu(let a): for i in 0..<count { let g = dy[i], v = y[i]; dx[i] = v > 0 ? g : g * (v + a) }
        case .capped(let m): for i in 0..<count { let g = dy[i], v = y[i]; dx[i] = v <= 0 || v >= m ? 0 : g }   // PyTorch's hardtanh_backward (NaN passes dy)
        case .softmax(let channels): softmaxBackward(dy: dy, y: y, dx: dx, rows: count / channels, channels: channels)
        case .hardSigmoid(let a, _): for i in 0..<count { let g = dy[i], v = y[i]; dx[i] = v > 0 && v < 1 ? g * a : 0 }
        case .selu: for i in 0..<count { let g = dy[i], v = y[i]; dx[i] = v > 0 ? g * SmoothActivations.seluScale : g * (v + SmoothActivations.seluScaleAlpha) }
        case .softplus: VectorMath.softplusGradient(dy: dy, y: y, dx: dx, count: count)   // sigmoid(x) = 1 - exp(-y)
        // 1 / (1 + |x|)^2 as (1 - |y|)^2: exact to an absolute 6e-8 (1 - |y| cancels as |x| grows: 0 from |x| = 2^24 on)
        case .softsign: for i in 0..<count { let s = 1 - abs(y[i]); dx[i] = dy[i] * s * s }
        case .silu, .gelu, .geluTanh, .hardSwish, .mish: fatalError("\(f): its backward reads the input (Activations.backwardFromInput)")
        }
    }

    /// dx[i] = dy[i] * f'(x[i]) for i in 0..<count, from the input x (`f.needsInput`); dy and dx
    /// may be the same buffer.
    @_transparent
    public static func backwardFromInput(_ f: ActivationFunction, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                         dx: UnsafeMutablePointer<Float>, count: Int) {
        #if MODELC_KERNELS_OUT_OF_LINE
        backwardFromInputOutOfLine(f, dy: dy, x: x, dx: dx, count: count)
        #else
        backwardFromInputInlined(f, dy: dy, x: x, dx: dx, count: count)
        #endif
    }

    @inline(never)
    public static func backwardFromInputOutOfLine(_ f: ActivationFunction, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                                  dx: UnsafeMutablePointer<Float>, count: Int) {
        backwardFromInputInlined(f, dy: dy, x: x, dx: dx, count: count)
    }

    @_transparent
    public static func backwardFromInputInlined(_ f: ActivationFunction, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                                dx: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .silu, .gelu, .geluTanh, .mish: VectorMath.smoothGradient(f, dy: dy, x: x, dx: dx, count: count)
        case .hardSwish: for i in 0..<count { let v = x[i]; dx[i] = v < -3 ? 0 : v <= 3 ? dy[i] * (v / 3 + 0.5) : dy[i] }
        default: fatalError("\(f): its backward reads the output (Activations.backward)")
        }
    }

    /// Softmax over rows of `channels` values: y = exp(x - max) / sum.
    @_transparent @usableFromInline
    static func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, channels: Int) {
        for r in 0..<rows {
            let xr = x + r * channels, yr = y + r * channels
            var mx = -Float.infinity
            for c in 0..<channels { mx = max(mx, xr[c]) }
            var sum: Float = 0
            for c in 0..<channels { let e = exp(xr[c] - mx); yr[c] = e; sum += e }
            let inv = 1 / sum
            for c in 0..<channels { yr[c] *= inv }
        }
    }

    /// The softmax's full Jacobian per row: dx = y * (dy - sum(dy * y)).
    @_transparent @usableFromInline
    static func softmaxBackward(dy: UnsafePointer<Float>, y: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                rows: Int, channels: Int) {
        for r in 0..<rows {
            let o = r * channels
            var dot: Float = 0
            for c in 0..<channels { dot += dy[o + c] * y[o + c] }
            for c in 0..<channels { dx[o + c] = y[o + c] * (dy[o + c] - dot) }
        }
    }
}

public enum Dropout {
    /// Elements first..<first + count of a layer's batch (at x, y and mask): u = the top 24 bits
    /// of SplitMix64's output for state seed &+ (first + i), as a Float in [0, 1); mask[i] =
    /// u >= rate ? 1 / (1 - rate) : 0, y[i] = x[i] * mask[i].
    @_transparent
    public static func training(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                                count: Int, first: Int, seed: UInt64, rate: Float) {
        #if MODELC_KERNELS_OUT_OF_LINE
        trainingOutOfLine(x, y, mask: mask, count: count, first: first, seed: seed, rate: rate)
        #else
        trainingInlined(x, y, mask: mask, count: count, first: first, seed: seed, rate: rate)
        #endif
    }

    /// Spatial dropout: one draw per image and channel (the innermost axis of `size` floats per
    /// image), hashed as (seed, n * channels + c); `first` a multiple of `size`.
    public static func training(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                                count: Int, first: Int, seed: UInt64, rate: Float, channels: Int, size: Int) {
        precondition(first % size == 0 && count % size == 0 && size % channels == 0, "spatial dropout runs on whole images")
        let keep: Float = 1 / (1 - rate)
        var n = first / size
        for start in stride(from: 0, to: count, by: size) {
            for c in 0..<channels {
                var hash = SplitMix64(seed: seed &+ UInt64(n * channels + c))
                let s: Float = hash.nextFloat() >= rate ? keep : 0
                for i in stride(from: start + c, to: start + size, by: channels) {
                    mask[i] = s
                    y[i] = x[i] * s
                }
            }
            n += 1
        }
    }

    @inline(never)
    public static func trainingOutOfLine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                                         count: Int, first: Int, seed: UInt64, rate: Float) {
        trainingInlined(x, y, mask: mask, count: count, first: first, seed: seed, rate: rate)
    }

    @_transparent
    public static func trainingInlined(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                                       count: Int, first: Int, seed: UInt64, rate: Float) {
        let keep: Float = 1 / (1 - rate)
        for i in 0..<count {
            var hash = SplitMix64(seed: seed &+ UInt64(first + i))
            let s: Float = hash.nextFloat() >= rate ? keep : 0
            mask[i] = s
            y[i] = x[i] * s
        }
    }

    /// dx[i] = dy[i] * mask[i].
    @_transparent
    public static func backward(dy: UnsafePointer<Float>, mask: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        #if MODELC_KERNELS_OUT_OF_LINE
        backwardOutOfLine(dy: dy, mask: mask, dx: dx, count: count)
        #else
        backwardInlined(dy: dy, mask: mask, dx: dx, count: count)
        #endif
    }

    @inline(never)
    public static func backwardOutOfLine(dy: UnsafePointer<Float>, mask: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        backwardInlined(dy: dy, mask: mask, dx: dx, count: count)
    }

    @_transparent
    public static func backwardInlined(dy: UnsafePointer<Float>, mask: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dx[i] = dy[i] * mask[i] }
    }
}

/// A bias's gradient: the sum of the output gradient's rows.
public enum BiasGradient {
    /// gb[o] = sum over r < rows of dy[r * n + o], for o in 0..<n.
    @_transparent
    public static func sum(_ dy: UnsafePointer<Float>, rows: Int, n: Int, into gb: UnsafeMutablePointer<Float>) {
        #if MODELC_KERNELS_OUT_OF_LINE
        sumOutOfLine(dy, rows: rows, n: n, into: gb)
        #else
        sumInlined(dy, rows: rows, n: n, into: gb)
        #endif
    }

    @inline(never)
    public static func sumOutOfLine(_ dy: UnsafePointer<Float>, rows: Int, n: Int, into gb: UnsafeMutablePointer<Float>) {
        sumInlined(dy, rows: rows, n: n, into: gb)
    }

    @_transparent
    public static func sumInlined(_ dy: UnsafePointer<Float>, rows: Int, n: Int, into gb: UnsafeMutablePointer<Float>) {
        for o in 0..<n { gb[o] = 0 }
        for r in 0..<rows { for o in 0..<n { gb[o] += dy[r * n + o] } }
    }
}
