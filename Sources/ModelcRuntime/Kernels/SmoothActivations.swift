// The smooth activations' constants, and hard_swish (a few lane-wise operations, which the element
// loops in Elementwise.swift vectorize as written). The others (silu, gelu and its tanh form,
// elu, selu, softplus, mish) and their derivatives are vector functions in VectorMath.swift,
// where their formulas are listed.

public enum SmoothActivations {
    /// SELU's constants (Klambauer et al.; PyTorch's and Keras's values).
    /// (Constants as computed properties: literals after inlining, never a lazily initialized global.)
    @_transparent public static var seluScale: Float { 1.0507009873554804934193349852946 }
    @_transparent public static var seluScaleAlpha: Float { 1.7580993408473768599402175208123 }
    /// sqrt(2 / pi) and the cubic coefficient of GELU's tanh approximation.
    @_transparent public static var geluTanhBeta: Float { 0.7978845608028654 }
    @_transparent public static var geluTanhKappa: Float { 0.044715 }
    /// 1 / sqrt(2) and 1 / sqrt(2 pi).
    @_transparent public static var sqrtHalf: Float { 0.7071067811865476 }
    @_transparent public static var normalDensity: Float { 0.3989422804014327 }

    @_transparent public static func hardSwish(_ x: Float) -> Float { x * min(max(x + 3, 0), 6) / 6 }
}
