// The size rules of a transposed convolution (Keras Conv2DTranspose, PyTorch ConvTranspose2d),
// shared by inference, the PyTorch chain and the emitter.
//
// A transposed convolution of an n-long dimension is the input gradient of a convolution whose
// input is `out` long and whose output is n long: input pixel i adds x[i] * W[t] into output
// pixel i * s + t - before. Keras (TensorFlow's conv2d_transpose) sizes the output as
// 'valid' n*s + max(k - s, 0) and 'same' n*s, and pads like the forward convolution on the
// output: before = max((n - 1)*s + k - out, 0) / 2 for 'same', 0 for 'valid'. PyTorch pads
// explicitly: out = (n - 1)*s - 2p + k + outputPadding, before = p. Keras's `output_padding`
// op (0 < op < s) sets out = (n - 1)*s + k - 2*pad + op with pad = k/2 for 'same', 0 for
// 'valid', and TF pads the forward convolution by its rule for that `out` (before as above);
// op = 0 here means Keras's default (output_padding=None).

public enum TransposedConv {
    /// Output length of one dimension.
    public static func outDim(_ n: Int, k: Int, s: Int, _ p: Padding, explicit: Int? = nil, outputPadding: Int = 0) -> Int {
        guard n > 0, k > 0, s > 0 else { return 0 }
        if let e = explicit { return (n - 1) * s - 2 * e + k + outputPadding }
        if outputPadding > 0 { return (n - 1) * s + k - (p == .valid ? 0 : 2 * (k / 2)) + outputPadding }
        switch p {
        case .valid: return n * s + max(k - s, 0)
        case .same, .causal: return n * s
        }
    }

    /// Output rows (columns) cut off before the first: the forward convolution's top (left) padding.
    public static func before(_ n: Int, out: Int, k: Int, s: Int, _ p: Padding, explicit: Int? = nil) -> Int {
        if let e = explicit { return e }
        return p != .valid ? max((n - 1) * s + k - out, 0) / 2 : 0
    }

    /// The output shape [OH, OW, filters] of `a` on an [H, W, C] input.
    public static func outputShape(_ a: Conv2DAttrs, input s: [Int], outputPadding: (h: Int, w: Int)) -> [Int] {
        guard s.count == 3 else { return [] }
        return [outDim(s[0], k: a.kernelH, s: a.strideH, a.padding, explicit: a.explicitPadH, outputPadding: outputPadding.h),
                outDim(s[1], k: a.kernelW, s: a.strideW, a.padding, explicit: a.explicitPadW, outputPadding: outputPadding.w),
                a.filters]
    }
}
