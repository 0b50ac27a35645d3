// The Gemm forms of a convolution with geometry g (input [H, W, C] zero-padded to [HP, WP, C],
// output [OH, OW, CO], HWIO kernel W), shared by Conv2D (Conv2DEmitter.swift,
// Conv2DBackwardEmitter.swift) and Conv2DTranspose, which is a Conv2D's input gradient run
// forward (Conv2DTransposeEmitter.swift):
//   forward   y[q] = sum over kernel rows of the KW*C contiguous inputs of q's window x W[kh]
//   weights   dW[kh][kw*C + c][:] += sum over output pixels of xp[window row kh][kw*C + c] * dy[q][:]
//   scatter   dxp[window row kh of q][kw*C + c] += sum_o dy[q][o] * Wt[kh][o][kw*C + c],
//             Wt[kh][o][kw*C + c] = W[kh][kw][c][o] (the transposed kernel)
// Each returns the RowGemm over `x` (input) and `y` (output), rows q0..<q1 in scope for the
// forward and scatter forms (the imageRowsFunction arguments), kh in scope for the scatter.

import ModelcCore

extension ConvGeometry {
    var kRow: Int { kw * c }

    /// Output pixels q0..<q1 of the image at `x` (padded) against `kernel`; `out` maps a pixel
    /// expression to its address.
    func forwardGemm(co: Int, kernel: String, out: @escaping (String) -> String) -> RowGemm {
        RowGemm(rows: "q1 - q0",
                aRow: { r in "x + ((q0 + \(r)) / \(ow) * \(sh * wp) + (q0 + \(r)) % \(ow) * \(sw)) * \(c)" },
                cRow: { r in out("(q0 + \(r))") },
                b: kernel, n: co, outer: "\(kh)", inner: "\(kRow)", aOuter: wp * c, aInner: 1,
                bOuter: kRow * co, bInner: co, accumulate: false)
    }

    /// gk += the padded input windows at `x` times the output gradient at `dy`.
    func weightGradientGemm(co: Int) -> RowGemm {
        let kRow = self.kRow
        return RowGemm(rows: "\(kh * kRow)", aRow: { r in "x + \(r) / \(kRow) * \(wp * c) + \(r) % \(kRow)" }, cRow: { r in "gk + \(r) * \(co)" },
                       b: "dy", n: co, outer: "\(oh)", inner: "\(ow)", aOuter: sh * wp * c, aInner: sw * c,
                       bOuter: ow * co, bInner: co, accumulate: true)
    }

    /// Kernel row kh of the scatter: output-gradient pixels q0..<q1 at `x` times Wt into the padded input gradient at `y`.
    func scatterGemm(co: Int, transposed wt: String) -> RowGemm {
        RowGemm(rows: "q1 - q0", aRow: { r in "x + (q0 + \(r)) * \(co)" },
                cRow: { r in "y + (((q0 + \(r)) / \(ow) * \(sh) + kh) * \(wp) + (q0 + \(r)) % \(ow) * \(sw)) * \(c)" },
                b: "\(wt) + kh * \(co * kRow)", n: kRow, outer: "1", inner: "\(co)", aOuter: 0, aInner: 1,
                bOuter: 0, bInner: kRow, accumulate: true)
    }

    /// Declares Wt ([KH, CO, KW*C], fixed) and emits `<prefix>Transpose()` filling it from the kernel.
    func emitKernelTranspose(_ m: ModelEmission, prefix p: String, name: String, kernel: String, co: Int) {
        let wt = "\(p)wt"
        m.buffer(wt, perImage: 0, fixed: kh * co * kRow, "\(name) transposed kernel [KH, CO, KW*CI]")
        m.serialFunction("\(p)Transpose", comment: "\(name): Wt[kh][co][kw*CI + ci] = W[kh][kw][ci][co]") { w in
            w.line("Matrix.transpose(\(kernel), rows: \(kRow), cols: \(co), blocks: \(kh), into: \(wt))")
        }
    }

    /// Emits `function(x, y, q0, q1, t)`: adds dy pixels q0..<q1 of one image (x) times Wt
    /// (`<prefix>wt`) into its padded dx (y).
    func emitScatter(_ m: ModelEmission, prefix p: String, function: String, comment: String, co: Int) {
        m.imageRowsFunction(function, comment: comment) { w in
            w.block("for kh in 0..<\(kh)") { scatterGemm(co: co, transposed: "\(p)wt").emit(w) }
        }
    }
}
