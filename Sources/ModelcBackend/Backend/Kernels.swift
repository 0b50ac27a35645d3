// Emission helpers shared by the operator emitters.
//   * RowGemm: one call of the runtime's kernel library (Sources/ModelcRuntime/Kernels/Gemm.swift),
//     register-tiled for the target CPU: C[r][0..<N] (=|+=) sum_{i,j} A_r[i*aOuter + j*aInner] *
//     B[i*bOuter + j*bInner + 0..<N]. Every GEMM of an emitted model is one: Dense forward and backward, the convolution
//     forward, input and weight gradients, and the Winograd tiles' products.
//   * channel-vector loops (emitChannelLoops) for the BatchNorm passes, the convolution (and
//     pooling window) geometry, and the helpers every generated file starts with.

import ModelcCore

enum SIMDText {
    static func type(_ w: Int) -> String { w == 1 ? "Float" : "SIMD\(w)<Float>" }
    static func zero(_ w: Int) -> String { w == 1 ? "Float(0)" : "SIMD\(w)<Float>()" }
    static func load(_ w: Int, _ ptr: String) -> String { w == 1 ? "\(ptr).pointee" : "ld\(w)(\(ptr))" }
    static func store(_ w: Int, _ ptr: String, _ v: String) -> String {
        w == 1 ? "\(ptr).pointee = \(v)" : "st\(w)(\(ptr), \(v))"
    }
    /// `v = f(v)` for the activations that fit in a register epilogue.
    static func epilogue(_ w: Int, _ v: String, _ act: EpilogueActivation) -> String? {
        switch act {
        case .none: return nil
        case .relu:
            return w == 1 ? "\(v) = max(\(v), 0)" : "\(v) = \(v).replacing(with: 0, where: \(v) .< 0)"
        case .leaky(let a):
            return w == 1 ? "if \(v) < 0 { \(v) *= \(floatLiteral(a)) }"
                          : "\(v) = \(v).replacing(with: \(v) * \(floatLiteral(a)), where: \(v) .< 0)"
        }
    }
}

extension SIMDText {
    /// `g = g * f'(y)` for a register-epilogue activation, given its output y (exactly the
    /// scalar `y > 0 ? g : g * alpha` of the runtime's Activations.backward, NaN included).
    static func backward(_ w: Int, _ g: String, y: String, _ act: EpilogueActivation) -> String {
        switch act {
        case .none: return "_ = \(y)"
        case .relu:
            return w == 1 ? "if !(\(y) > 0) { \(g) = 0 }" : "\(g) = \(g).replacing(with: 0, where: .!(\(y) .> 0))"
        case .leaky(let a):
            return w == 1 ? "if !(\(y) > 0) { \(g) *= \(floatLiteral(a)) }"
                          : "\(g) = \(g).replacing(with: \(g) * \(floatLiteral(a)), where: .!(\(y) .> 0))"
        }
    }
}

enum EpilogueActivation: Equatable {
    case none
    case relu
    case leaky(Float)
}

/// Fileprivate SIMD load/store helpers every generated file starts with.
let simdHelpers = """
@inline(__always) fileprivate func ld16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
@inline(__always) fileprivate func ld8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
@inline(__always) fileprivate func ld4(_ p: UnsafePointer<Float>) -> SIMD4<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self) }
@inline(__always) fileprivate func st16(_ p: UnsafeMutablePointer<Float>, _ v: SIMD16<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }
@inline(__always) fileprivate func st8(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }
@inline(__always) fileprivate func st4(_ p: UnsafeMutablePointer<Float>, _ v: SIMD4<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self) }
"""

/// One call of the runtime's GEMM (Sources/ModelcRuntime/Kernels/Gemm.swift):
///   C[r][0..<n] (op)= sum_{i, j} A_r[i*aOuter + j*aInner] * B[i*bOuter + j*bInner + 0..<n]
/// for r in 0..<rows. `aRow`/`cRow` map a row-index expression to the row's address; the
/// call passes them as closures, which inline to address arithmetic on literals.
struct RowGemm {
    var rows: String                 // row count (an expression)
    var aRow: (String) -> String     // address of A_r for the row expression r
    var cRow: (String) -> String     // address of C_r (column 0)
    var b: String                    // address of B (term 0, column 0)
    var n: Int
    var outer = "1", inner: String    // term counts (expressions)
    var aOuter = 0, aInner = 1
    var bOuter = 0, bInner: Int
    var bias: String? = nil          // sums start from bias[c]
    var accumulate: Bool = false     // C += sums instead of C = sums
    /// Folded BatchNorm (inference fusion): sums become s * scale[c] + shift[c].
    var scale: String? = nil
    var shift: String? = nil
    var epilogue: EpilogueActivation = .none

    /// A plain k-term reduction over consecutive A elements and B rows ldb apart.
    init(rows: String, aRow: @escaping (String) -> String, cRow: @escaping (String) -> String,
         k: Int, b: String, ldb: Int, n: Int, bias: String? = nil, scale: String? = nil, shift: String? = nil,
         epilogue: EpilogueActivation = .none) {
        self.rows = rows; self.aRow = aRow; self.cRow = cRow; self.b = b; self.n = n
        inner = "\(k)"; bInner = ldb
        self.bias = bias; self.scale = scale; self.shift = shift; self.epilogue = epilogue
    }

    /// A general two-level reduction (weight gradients: A is read down its columns).
    init(rows: String, aRow: @escaping (String) -> String, cRow: @escaping (String) -> String, b: String, n: Int,
         outer: String, inner: String, aOuter: Int, aInner: Int, bOuter: Int, bInner: Int, accumulate: Bool) {
        self.rows = rows; self.aRow = aRow; self.cRow = cRow; self.b = b; self.n = n
        self.outer = outer; self.inner = inner; self.aOuter = aOuter; self.aInner = aInner
        self.bOuter = bOuter; self.bInner = bInner; self.accumulate = accumulate
    }

    var reductionText: String {
        if outer == "1" && aOuter == 0 && bOuter == 0 {
            return "GemmReduction(k: \(inner)\(aInner == 1 ? "" : ", aStride: \(aInner)"), ldb: \(bInner))"
        }
        return "GemmReduction(outer: \(outer), inner: \(inner), aOuter: \(aOuter), aInner: \(aInner), bOuter: \(bOuter), bInner: \(bInner))"
    }

    var epilogueText: String {
        RowGemm.epilogueText(bias: bias, scale: scale, shift: shift, epilogue: epilogue, accumulate: accumulate)
    }

    /// The `GemmEpilogue` argument (also the Winograd tiles').
    static func epilogueText(bias: String?, scale: String?, shift: String?, epilogue: EpilogueActivation,
                             accumulate: Bool = false) -> String {
        if accumulate { return ".add" }
        var parts: [String] = []
        if let b = bias { parts.append("bias: \(b)") }
        if let sc = scale, let sh = shift { parts.append("scale: \(sc), shift: \(sh)") }
        switch epilogue {
        case .none: break
        case .relu: parts.append("activation: .relu")
        case .leaky(let a): parts.append("activation: .leaky(\(floatLiteral(a)))")
        }
        return parts.isEmpty ? ".store" : "GemmEpilogue(\(parts.joined(separator: ", ")))"
    }

    func emit(_ w: CodeWriter) {
        w.line("Gemm.rows(\(rows), a: { row in \(aRow("row")) }, b: \(b), n: \(n), c: { row in \(cRow("row")) },")
        w.line("          \(reductionText), \(epilogueText))")
    }
}

/// One group of channels held in registers by `emitChannelLoops`: `count` vectors of `width`
/// lanes (1 = scalar) starting at channel `c0`.
struct ChannelLanes {
    let width: Int
    let count: Int
    let c0: Int
    var type: String { SIMDText.type(width) }
    var zero: String { SIMDText.zero(width) }
    /// Vector j of the group at `ptr` (a channel-indexed row pointer).
    func load(_ ptr: String, _ j: Int) -> String { SIMDText.load(width, "(\(ptr) + \(c0 + j * width))") }
    func store(_ ptr: String, _ j: Int, _ v: String) -> String { SIMDText.store(width, "(\(ptr) + \(c0 + j * width))", v) }
}

/// Channel-last loops with the channels in SIMD registers:
///   for each group of up to `maxVectors` SIMD16 vectors of channels (then SIMD8/4/scalar tails):
///     pre(lanes); for r in 0..<rows { body(lanes) }; post(lanes)
/// Each lane handles one channel and visits the rows in order, so sums come out exactly as
/// the scalar loop `for r { for c { s[c] += ... } }` computes them.
func emitChannelLoops(_ w: CodeWriter, rows: String, channels: Int, maxVectors: Int = 8,
                      pre: (ChannelLanes) -> Void, body: (ChannelLanes) -> Void, post: (ChannelLanes) -> Void) {
    var groups: [ChannelLanes] = []
    var c = 0
    while channels - c >= 16 {
        let n = min(maxVectors, (channels - c) / 16)
        groups.append(ChannelLanes(width: 16, count: n, c0: c)); c += 16 * n
    }
    if channels - c >= 8 { groups.append(ChannelLanes(width: 8, count: 1, c0: c)); c += 8 }
    if channels - c >= 4 { groups.append(ChannelLanes(width: 4, count: 1, c0: c)); c += 4 }
    if channels - c > 0 { groups.append(ChannelLanes(width: 1, count: channels - c, c0: c)) }
    for g in groups {
        w.block("do") {
            pre(g)
            w.block("for r in 0..<\(rows)") { body(g) }
            post(g)
        }
    }
}

/// Convolution geometry: padding per side (TF 'same' puts the odd extra at bottom/right; Keras
/// 'causal' pads kw - 1 on the left only).
struct ConvGeometry {
    var h, w, c: Int          // input
    var oh, ow: Int           // output
    var kh, kw, sh, sw: Int
    var top, bottom, left, right: Int
    var hp: Int { h + top + bottom }
    var wp: Int { w + left + right }
    var padded: Bool { top + bottom + left + right > 0 }

    /// A Conv2D's geometry.
    init(conv a: Conv2DAttrs, inShape: [Int], outShape: [Int]) {
        self.init(inShape: inShape, outShape: outShape, kh: a.kernelH, kw: a.kernelW, sh: a.strideH, sw: a.strideW,
                  padding: a.padding, explicitH: a.explicitPadH, explicitW: a.explicitPadW)
    }
    /// A pooling layer's window geometry.
    init(pool a: PoolAttrs, inShape: [Int], outShape: [Int]) {
        self.init(inShape: inShape, outShape: outShape, kh: a.poolH, kw: a.poolW, sh: a.strideH, sw: a.strideW, padding: a.padding)
    }

    init(inShape: [Int], outShape: [Int], kh: Int, kw: Int, sh: Int, sw: Int, padding: Padding,
         explicitH: Int? = nil, explicitW: Int? = nil) {
        h = inShape.count > 0 ? inShape[0] : 1
        w = inShape.count > 1 ? inShape[1] : 1
        c = inShape.last ?? 1
        oh = outShape.count > 0 ? outShape[0] : 1
        ow = outShape.count > 1 ? outShape[1] : 1
        self.kh = kh; self.kw = kw; self.sh = sh; self.sw = sw
        if let ph = explicitH, let pw = explicitW {
            top = ph; bottom = ph; left = pw; right = pw
        } else if padding == .same {
            let th = max((oh - 1) * sh + kh - h, 0)
            let tw = max((ow - 1) * sw + kw - w, 0)
            top = th / 2; bottom = th - top; left = tw / 2; right = tw - left
        } else if padding == .causal {
            // Keras causal (a lifted 1-D layer): the kernel's extent minus one before, none after.
            let th = max((oh - 1) * sh + kh - h, 0)
            top = th / 2; bottom = th - top; left = kw - 1; right = 0
        } else {
            top = 0; bottom = 0; left = 0; right = 0
        }
    }
}
