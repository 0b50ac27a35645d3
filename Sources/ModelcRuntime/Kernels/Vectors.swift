// The vector types the kernels compute in, behind one small protocol.
//
// Each operation is implemented on the concrete SIMD type, where the compiler maps it to
// single instructions (a fused multiply-add, a masked select). Generic code over
// `FloatVector` is specialized to these types, so it compiles to the same instructions; the
// generic SIMD operators themselves would be lane loops. `VectorPair` puts two vectors in
// one tile row (KernelTarget; nested, four). `Float` is the one-lane case: the last odd
// column of a product.

public protocol FloatVector {
    static var lanes: Int { get }
    init()
    static func load(_ p: UnsafePointer<Float>) -> Self
    func store(_ p: UnsafeMutablePointer<Float>)
    /// self + a * b, fused.
    func fma(_ a: Float, _ b: Self) -> Self
    func plus(_ o: Self) -> Self
    /// self * scale + shift (lane by lane).
    func scaled(_ scale: Self, _ shift: Self) -> Self
    /// Lanes below zero times alpha; NaN passes through.
    func leaky(_ alpha: Float) -> Self
    /// Lanes below zero become +0; NaN passes through.
    func relu() -> Self
    func minus(_ o: Self) -> Self
    func times(_ o: Self) -> Self
    /// self (a gradient) times leaky'(out): lanes where out is not > 0 times alpha.
    func leakyGradient(_ out: Self, _ alpha: Float) -> Self
    /// self (a gradient) times relu'(out): lanes where out is not > 0 become 0.
    func reluGradient(_ out: Self) -> Self
    /// min(max(self, 0), m) lane by lane (ReLU6: m = 6); NaN passes through.
    func capped(_ m: Float) -> Self
    /// self (a gradient) where 0 < out < m (or out is NaN), else 0: PyTorch's hardtanh_backward.
    func cappedGradient(_ out: Self, _ m: Float) -> Self
    /// self * min(max(self + 3, 0), 6) / 6, as SmoothActivations.hardSwish.
    func hardSwish() -> Self
}

extension Float: FloatVector {
    @inlinable @inline(__always) public static var lanes: Int { 1 }
    @inlinable @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> Float { p.pointee }
    @inlinable @inline(__always) public func store(_ p: UnsafeMutablePointer<Float>) { p.pointee = self }
    @inlinable @inline(__always) public func fma(_ a: Float, _ b: Float) -> Float { addingProduct(a, b) }
    @inlinable @inline(__always) public func plus(_ o: Float) -> Float { self + o }
    @inlinable @inline(__always) public func scaled(_ scale: Float, _ shift: Float) -> Float { self * scale + shift }
    @inlinable @inline(__always) public func leaky(_ alpha: Float) -> Float { self < 0 ? self * alpha : self }
    @inlinable @inline(__always) public func relu() -> Float { Swift.max(self, 0) }
    @inlinable @inline(__always) public func minus(_ o: Float) -> Float { self - o }
    @inlinable @inline(__always) public func times(_ o: Float) -> Float { self * o }
    @inlinable @inline(__always) public func leakyGradient(_ out: Float, _ alpha: Float) -> Float { out > 0 ? self : self * alpha }
    @inlinable @inline(__always) public func reluGradient(_ out: Float) -> Float { out > 0 ? self : 0 }
    @inlinable @inline(__always) public func capped(_ m: Float) -> Float { Swift.min(Swift.max(self, 0), m) }
    @inlinable @inline(__always) public func cappedGradient(_ out: Float, _ m: Float) -> Float { out <= 0 || out >= m ? 0 : self }
    @inlinable @inline(__always) public func hardSwish() -> Float { self * Swift.min(Swift.max(self + 3, 0), 6) / 6 }
}


extension SIMD2: FloatVector where Scalar == Float {}
extension SIMD4: FloatVector where Scalar == Float {}
extension SIMD8: FloatVector where Scalar == Float {}
extension SIMD16: FloatVector where Scalar == Float {}

extension FloatVector where Self: SIMD, Self.Scalar == Float {
    @inlinable @inline(__always) public static var lanes: Int { Self.scalarCount }
    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inlinable @inline(__always)
    public func store(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
    @inlinable @inline(__always)
    public func fma(_ a: Float, _ b: Self) -> Self { addingProduct(b, a) }
    @inlinable @inline(__always)
    public func plus(_ o: Self) -> Self { self + o }
    @inlinable @inline(__always)
    public func scaled(_ scale: Self, _ shift: Self) -> Self { self * scale + shift }
    @inlinable @inline(__always)
    public func minus(_ o: Self) -> Self { self - o }
    @inlinable @inline(__always)
    public func times(_ o: Self) -> Self { self * o }
    /// relu's bit mask, then a select of m (a `replacing(with: 0, ...)` can become a lane loop in an epilogue).
    @inlinable @inline(__always)
    public func capped(_ m: Float) -> Self { let r = relu(), c = Self(repeating: m); return r.replacing(with: c, where: r .> c) }
    @inlinable @inline(__always)
    public func cappedGradient(_ out: Self, _ m: Float) -> Self { replacing(with: 0, where: out .<= Self() .| out .>= Self(repeating: m)) }
    @inlinable @inline(__always)
    public func hardSwish() -> Self { self * (self + 3).capped(6) / 6 }
}

// relu clears the negative lanes with a compare and a bit mask, because `replacing(with: 0,
// where:)` can compile to a lane loop in an epilogue; leaky selects with
// `replacing(with:where:)`, because a bit-cast select of the product leads LLVM to split the
// tile's accumulators into 64-bit pieces (Tests/Peers/RESULTS.md, ninth session).
extension SIMD2 where Scalar == Float {
    @_transparent public func leaky(_ alpha: Float) -> Self { replacing(with: self * alpha, where: self .< Self()) }
    @_transparent public func leakyGradient(_ out: Self, _ alpha: Float) -> Self { replacing(with: self * alpha, where: .!(out .> Self())) }
    @_transparent public func reluGradient(_ out: Self) -> Self { replacing(with: 0, where: .!(out .> Self())) }
    @_transparent public func relu() -> Self {
        let negative = unsafeBitCast(self .< Self(), to: SIMD2<Int32>.self)
        return unsafeBitCast(unsafeBitCast(self, to: SIMD2<Int32>.self) & ~negative, to: Self.self)
    }
}
extension SIMD4 where Scalar == Float {
    @_transparent public func leaky(_ alpha: Float) -> Self { replacing(with: self * alpha, where: self .< Self()) }
    @_transparent public func leakyGradient(_ out: Self, _ alpha: Float) -> Self { replacing(with: self * alpha, where: .!(out .> Self())) }
    @_transparent public func reluGradient(_ out: Self) -> Self { replacing(with: 0, where: .!(out .> Self())) }
    @_transparent public func relu() -> Self {
        let negative = unsafeBitCast(self .< Self(), to: SIMD4<Int32>.self)
        return unsafeBitCast(unsafeBitCast(self, to: SIMD4<Int32>.self) & ~negative, to: Self.self)
    }
}
extension SIMD8 where Scalar == Float {
    @_transparent public func leaky(_ alpha: Float) -> Self { replacing(with: self * alpha, where: self .< Self()) }
    @_transparent public func leakyGradient(_ out: Self, _ alpha: Float) -> Self { replacing(with: self * alpha, where: .!(out .> Self())) }
    @_transparent public func reluGradient(_ out: Self) -> Self { replacing(with: 0, where: .!(out .> Self())) }
    @_transparent public func relu() -> Self {
        let negative = unsafeBitCast(self .< Self(), to: SIMD8<Int32>.self)
        return unsafeBitCast(unsafeBitCast(self, to: SIMD8<Int32>.self) & ~negative, to: Self.self)
    }
}
extension SIMD16 where Scalar == Float {
    @_transparent public func leaky(_ alpha: Float) -> Self { replacing(with: self * alpha, where: self .< Self()) }
    @_transparent public func leakyGradient(_ out: Self, _ alpha: Float) -> Self { replacing(with: self * alpha, where: .!(out .> Self())) }
    @_transparent public func reluGradient(_ out: Self) -> Self { replacing(with: 0, where: .!(out .> Self())) }
    @_transparent public func relu() -> Self {
        let negative = unsafeBitCast(self .< Self(), to: SIMD16<Int32>.self)
        return unsafeBitCast(unsafeBitCast(self, to: SIMD16<Int32>.self) & ~negative, to: Self.self)
    }
}


/// Two vectors side by side: one tile row of 2 x V.lanes columns.
public struct VectorPair<V: FloatVector>: FloatVector {
    public var lo: V, hi: V
    @_transparent public static var lanes: Int { 2 * V.lanes }
    @_transparent public init() { lo = V(); hi = V() }
    @_transparent public init(_ lo: V, _ hi: V) { self.lo = lo; self.hi = hi }
    @_transparent
    public static func load(_ p: UnsafePointer<Float>) -> Self { Self(V.load(p), V.load(p + V.lanes)) }
    @_transparent
    public func store(_ p: UnsafeMutablePointer<Float>) { lo.store(p); hi.store(p + V.lanes) }
    @_transparent
    public func fma(_ a: Float, _ b: Self) -> Self { Self(lo.fma(a, b.lo), hi.fma(a, b.hi)) }
    @_transparent
    public func plus(_ o: Self) -> Self { Self(lo.plus(o.lo), hi.plus(o.hi)) }
    @_transparent
    public func scaled(_ scale: Self, _ shift: Self) -> Self { Self(lo.scaled(scale.lo, shift.lo), hi.scaled(scale.hi, shift.hi)) }
    @_transparent
    public func leaky(_ alpha: Float) -> Self { Self(lo.leaky(alpha), hi.leaky(alpha)) }
    @_transparent
    public func relu() -> Self { Self(lo.relu(), hi.relu()) }
    @_transparent
    public func minus(_ o: Self) -> Self { Self(lo.minus(o.lo), hi.minus(o.hi)) }
    @_transparent
    public func times(_ o: Self) -> Self { Self(lo.times(o.lo), hi.times(o.hi)) }
    @_transparent
    public func leakyGradient(_ out: Self, _ alpha: Float) -> Self { Self(lo.leakyGradient(out.lo, alpha), hi.leakyGradient(out.hi, alpha)) }
    @_transparent
    public func reluGradient(_ out: Self) -> Self { Self(lo.reluGradient(out.lo), hi.reluGradient(out.hi)) }
    @_transparent
    public func capped(_ m: Float) -> Self { Self(lo.capped(m), hi.capped(m)) }
    @_transparent
    public func cappedGradient(_ out: Self, _ m: Float) -> Self { Self(lo.cappedGradient(out.lo, m), hi.cappedGradient(out.hi, m)) }
    @_transparent
    public func hardSwish() -> Self { Self(lo.hardSwish(), hi.hardSwish()) }
}
