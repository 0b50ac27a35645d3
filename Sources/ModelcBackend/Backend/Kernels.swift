// Emission helpers shared by the operator emitters.
//   * RowGemm: one call of the runtime's kernel library (Sources/ModelcRuntime/Kernels/Gemm.swift),
//     register-tiled for the target CPU: C[r][0..<N] (=|+=) sum_{i,j} A_r[i*aOuter + j*aInner] *
//     B[i*bOuter + j*bInner + 0..<N]. Every GEMM of an emitted model is one: Dense forward and backward, the convolution
//     forward, input and weight gradients, and the Winograd tiles' products.
//   * the convolution (and pooling window) geometry.

import ModelcCore

enum EpilogueActivation: Equatable {
    case none
    case relu
    case leaky(Float)
    /// min(max(x, 0), m): ReLU6.
    case capped(Float)
    /// Inference only (its gradient needs x): Fusion.inferenceEpilogue.
    case hardSwish
}

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
        if epilogue != .none { parts.append("activation: \(epilogue.argument)") }
        return parts.isEmpty ? ".store" : "GemmEpilogue(\(parts.joined(separator: ", ")))"
    }

    func emit(_ w: CodeWriter) {
        w.line("Gemm.rows(\(rows), a: { row in \(aRow("row")) }, b: \(b), n: \(n), c: { row in \(cRow("row")) },")
        w.line("          \(reductionText), \(epilogueText))")
    }
}

/// Convolution geometry: padding per side (TF 'same' puts the odd extra at bottom/right; Keras
/// 'causal' pads kw - 1 on the left only).
struct ConvGeometry {
    var h, w, c: Int          // input
    var oh, ow: Int           // output
    var kh, kw, sh, sw: Int
    var top, bottom, left, right: Int
    /// An average pool's divisor counts the padded positions inside top...bottom, left...right.
    var countsPadding = false
    var hp: Int { h + top + bottom }
    var wp: Int { w + left + right }
    var padded: Bool { top + bottom + left + right > 0 }
    /// One image's output pixels in blocks of ConvLowering.rowsPerBlock (the Gemm's tile height).
    var pixelBlocks: Int { (oh * ow + ConvLowering.rowsPerBlock - 1) / ConvLowering.rowsPerBlock }

    /// A Conv2D's geometry.
    init(conv a: Conv2DAttrs, inShape: [Int], outShape: [Int]) {
        self.init(inShape: inShape, outShape: outShape, kh: a.kernelH, kw: a.kernelW, sh: a.strideH, sw: a.strideW,
                  padding: a.padding, explicitH: a.explicitPadH, explicitW: a.explicitPadW)
    }
    /// A pooling layer's window geometry.
    init(pool a: PoolAttrs, inShape: [Int], outShape: [Int]) {
        self.init(inShape: inShape, outShape: outShape, kh: a.poolH, kw: a.poolW, sh: a.strideH, sw: a.strideW, padding: a.padding)
        if let e = a.explicit {
            top = e.top; left = e.left; bottom = e.bottom; right = e.right
            countsPadding = e.countIncludePad
        }
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
