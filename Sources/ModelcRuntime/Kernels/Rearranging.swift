// RepeatVector and Permute of one image (Keras), forward and backward side by side:
//
//   repeatVector          y[i][d] = x[d] for i < n
//   repeatVectorBackward  dx[d] = sum over i of dy[i][d]
//   permute               y[i0][i1][i2] = x at input offset i0*s0 + i1*s1 + i2*s2, where the
//                         output has the (up to 3, leading 1s added) sizes `output` and s are the
//                         input strides of the axes the output axes take
//   permuteBackward       dx at that offset = dy[i0][i1][i2] (a permutation: every dx set once)

public enum Rearranging {
    public static func repeatVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, features: Int, count: Int) {
        for i in 0..<count { (y + i * features).update(from: x, count: features) }
    }

    public static func repeatVectorBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, features: Int, count: Int) {
        dx.update(from: dy, count: features)
        for i in 1..<max(count, 1) {
            let g = dy + i * features
            for d in 0..<features { dx[d] += g[d] }
        }
    }

    public static func permute(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, output o: (Int, Int, Int),
                               strides s: (Int, Int, Int)) {
        var q = 0
        for i0 in 0..<o.0 { for i1 in 0..<o.1 { for i2 in 0..<o.2 {
            y[q] = x[i0 * s.0 + i1 * s.1 + i2 * s.2]; q += 1
        } } }
    }

    public static func permuteBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, output o: (Int, Int, Int),
                                       strides s: (Int, Int, Int)) {
        var q = 0
        for i0 in 0..<o.0 { for i1 in 0..<o.1 { for i2 in 0..<o.2 {
            dx[i0 * s.0 + i1 * s.1 + i2 * s.2] = dy[q]; q += 1
        } } }
    }
}
