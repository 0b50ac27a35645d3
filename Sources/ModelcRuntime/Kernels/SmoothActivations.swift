// The smooth activations' scalar formulas, as PyTorch's CPU kernels write them (so results agree
// to the last bits where the library functions do), and their derivatives:
//
//   silu(x)       = x / (1 + exp(-x))                      s = sigmoid(x): s * (1 + x * (1 - s))
//   gelu(x)       = x * 0.5 * (1 + erf(x / sqrt 2))        Phi(x) + x * phi(x)
//   geluTanh(x)   = 0.5 * x * (1 + tanh(u)),               0.5 * (1 + t) + 0.5 * x * (1 - t^2) * u'
//                   u = sqrt(2 / pi) * (x + 0.044715 x^3)  (t = tanh(u))
//   hardSwish(x)  = x * min(max(x + 3, 0), 6) / 6          0 (x < -3), x / 3 + 0.5 (x <= 3), 1
//   selu(x)       = scale * x (x > 0),                     from y: scale, or y + scale * alpha
//                   scale * alpha * (exp(x) - 1)
//   softplus(x)   = x (x > 20), log1p(exp(x))              from y: 1 - exp(-y)
//   mish(x)       = x * tanh(log1p(exp(x)))                t + x * sigmoid(x) * (1 - t^2)
//
// Each function is @_transparent so that the element loops in Elementwise.swift inline it.

import Foundation

public enum SmoothActivations {
    /// SELU's constants (Klambauer et al.; PyTorch's and Keras's values).
    /// (Constants as computed properties: literals after inlining, never a lazily initialized global.)
    @_transparent public static var seluScale: Float { 1.0507009873554804934193349852946 }
    @_transparent public static var seluAlpha: Float { 1.6732632423543772848170429916717 }
    @_transparent public static var seluScaleAlpha: Float { 1.7580993408473768599402175208123 }
    /// sqrt(2 / pi) and the cubic coefficient of GELU's tanh approximation.
    @_transparent public static var geluTanhBeta: Float { 0.7978845608028654 }
    @_transparent public static var geluTanhKappa: Float { 0.044715 }
    /// 1 / sqrt(2) and 1 / sqrt(2 pi).
    @_transparent public static var sqrtHalf: Float { 0.7071067811865476 }
    @_transparent public static var normalDensity: Float { 0.3989422804014327 }

    @_transparent public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    @_transparent public static func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }
    @_transparent public static func siluDerivative(_ x: Float) -> Float {
        let s = sigmoid(x)
        return s * (1 + x * (1 - s))
    }

    @_transparent public static func gelu(_ x: Float) -> Float { x * 0.5 * (1 + erf(x * sqrtHalf)) }
    @_transparent public static func geluDerivative(_ x: Float) -> Float {
        let cdf = 0.5 * (1 + erf(x * sqrtHalf))
        let pdf = exp(-0.5 * x * x) * normalDensity
        return cdf + x * pdf
    }

    @_transparent public static func geluTanh(_ x: Float) -> Float {
        let inner = geluTanhBeta * (x + geluTanhKappa * x * x * x)
        return 0.5 * x * (1 + tanh(inner))
    }
    @_transparent public static func geluTanhDerivative(_ x: Float) -> Float {
        let t = tanh(geluTanhBeta * (x + geluTanhKappa * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * geluTanhBeta * (1 + 3 * geluTanhKappa * x * x)
    }

    @_transparent public static func hardSwish(_ x: Float) -> Float { x * min(max(x + 3, 0), 6) / 6 }

    @_transparent public static func selu(_ x: Float) -> Float { x > 0 ? seluScale * x : seluScaleAlpha * expm1(x) }

    @_transparent public static func softplus(_ x: Float) -> Float { x > 20 ? x : log1p(exp(x)) }

    @_transparent public static func mish(_ x: Float) -> Float { x * tanh(log1p(exp(x))) }
    @_transparent public static func mishDerivative(_ x: Float) -> Float {
        let t = tanh(log1p(exp(x)))
        return t + x * sigmoid(x) * (1 - t * t)
    }
}
