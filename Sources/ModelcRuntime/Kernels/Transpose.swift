// Row-major matrices transposed: the weight layouts the backward passes read (Dense and the
// pointwise half of SeparableConv2D: dx = dy * Wt, SIMD over the inputs; a convolution's kernel
// per kernel row for its input gradient; the recurrent kernels). Run once per backward, before
// the parallel regions.

public enum Matrix {
    /// For each of `blocks` consecutive [rows, cols] matrices b at src + b * rows * cols:
    /// dst[b * rows * cols + j * rows + i] = src[b * rows * cols + i * cols + j].
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, blocks: Int = 1, into dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let s = src + b * rows * cols, d = dst + b * rows * cols
            for i in 0..<rows { for j in 0..<cols { d[j * rows + i] = s[i * cols + j] } }
        }
    }
}
