// The vector operations of the pooling kernels (Kernels/Pooling.swift), on the same vector
// types as FloatVector (Kernels/Vectors.swift): a running maximum, a broadcast start value
// and a scalar scale.
//
// `maxed` is a select (`replacing(with:where:)` on the concrete SIMD type, `if o > v` on
// Float), not a max instruction: a lane changes only when the new value is strictly greater,
// so the first of equal values wins, NaN never wins, and -0 is not replaced by +0, exactly as
// the training forward's scalar comparison decides.

public protocol PoolingVector: FloatVector {
    /// Every lane `v`.
    init(broadcast v: Float)
    /// The lanes of `o` that are greater than self's replace them.
    func maxed(_ o: Self) -> Self
    /// self * s, lane by lane.
    func scaled(by s: Float) -> Self
}

extension Float: PoolingVector {
    @_transparent public init(broadcast v: Float) { self = v }
    @_transparent public func maxed(_ o: Float) -> Float { o > self ? o : self }
    @_transparent public func scaled(by s: Float) -> Float { self * s }
}

extension SIMD2: PoolingVector where Scalar == Float {}
extension SIMD4: PoolingVector where Scalar == Float {}
extension SIMD8: PoolingVector where Scalar == Float {}
extension SIMD16: PoolingVector where Scalar == Float {}

extension PoolingVector where Self: SIMD, Self.Scalar == Float {
    @_transparent public init(broadcast v: Float) { self.init(repeating: v) }
    @_transparent public func scaled(by s: Float) -> Self { self * s }
}

extension SIMD2 where Scalar == Float {
    @_transparent public func maxed(_ o: Self) -> Self { replacing(with: o, where: o .> self) }
}
extension SIMD4 where Scalar == Float {
    @_transparent public func maxed(_ o: Self) -> Self { replacing(with: o, where: o .> self) }
}
extension SIMD8 where Scalar == Float {
    @_transparent public func maxed(_ o: Self) -> Self { replacing(with: o, where: o .> self) }
}
extension SIMD16 where Scalar == Float {
    @_transparent public func maxed(_ o: Self) -> Self { replacing(with: o, where: o .> self) }
}

extension VectorPair: PoolingVector where V: PoolingVector {
    @_transparent public init(broadcast v: Float) { self.init(V(broadcast: v), V(broadcast: v)) }
    @_transparent public func maxed(_ o: Self) -> Self { Self(lo.maxed(o.lo), hi.maxed(o.hi)) }
    @_transparent public func scaled(by s: Float) -> Self { Self(lo.scaled(by: s), hi.scaled(by: s)) }
}
