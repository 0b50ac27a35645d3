// Merge kernels: several equal-shaped inputs into one output (Keras Add, Subtract, Multiply,
// Average, Maximum, Minimum), Concatenate's block copies, and the gradient sum of an output
// read by several layers.
//
//   Merge.forward        y = x0 + x1 + ..., x0 - x1, x0 * x1 * ..., mean, max, min (element-wise)
//   Merge.backward       dx_k = dy (add), -dy for x1 (subtract), dy * prod_{j != k} x_j
//                        (multiply), dy / n (average), dy where x_k is the first input equal to
//                        y, else 0 (maximum, minimum: ties go to the first, as TensorFlow's
//                        pairwise maximum(maximum(x0, x1), x2) does); a nil dx_k is skipped
//   Merge.concatenate    per outer index o: y[o] = x0[o] ++ x1[o] ++ ... (inner_k values each)
//   Merge.split          the reverse: dx_k[o] = its inner_k values of dy[o]
//   Merge.accumulate     g += extra
// All pointers cover the same images; counts are per call (images x values per image).

public enum MergeOperation: Sendable {
    case add, subtract, multiply, average, maximum, minimum
}

public enum Merge {
    public static func forward(_ op: MergeOperation, _ xs: [UnsafeMutablePointer<Float>], _ y: UnsafeMutablePointer<Float>, count: Int) {
        y.update(from: xs[0], count: count)
        for x in xs.dropFirst() {
            switch op {
            case .add, .average: for i in 0..<count { y[i] += x[i] }
            case .subtract: for i in 0..<count { y[i] -= x[i] }
            case .multiply: for i in 0..<count { y[i] *= x[i] }
            case .maximum: for i in 0..<count { y[i] = max(y[i], x[i]) }
            case .minimum: for i in 0..<count { y[i] = min(y[i], x[i]) }
            }
        }
        if op == .average {
            let s = 1 / Float(xs.count)
            for i in 0..<count { y[i] *= s }
        }
    }

    public static func backward(_ op: MergeOperation, dy: UnsafeMutablePointer<Float>, xs: [UnsafeMutablePointer<Float>],
                                y: UnsafeMutablePointer<Float>, dxs: [UnsafeMutablePointer<Float>?], count: Int) {
        let n = xs.count
        for i in 0..<count {
            let g = dy[i]
            var taken = false
            for k in 0..<n {
                let v: Float
                switch op {
                case .add: v = g
                case .subtract: v = k == 0 ? g : -g
                case .average: v = g / Float(n)
                case .multiply:
                    var p = g
                    for j in 0..<n where j != k { p *= xs[j][i] }
                    v = p
                case .maximum, .minimum:
                    let hit = !taken && xs[k][i] == y[i]
                    if hit { taken = true }
                    v = hit ? g : 0
                }
                dxs[k]?[i] = v
            }
        }
    }

    public static func concatenate(_ xs: [UnsafeMutablePointer<Float>], inner: [Int], outer: Int, _ y: UnsafeMutablePointer<Float>) {
        var at = 0
        for o in 0..<outer {
            for (k, x) in xs.enumerated() {
                (y + at).update(from: x + o * inner[k], count: inner[k])
                at += inner[k]
            }
        }
    }

    public static func split(_ dy: UnsafeMutablePointer<Float>, inner: [Int], outer: Int, _ dxs: [UnsafeMutablePointer<Float>?]) {
        var at = 0
        for o in 0..<outer {
            for (k, dx) in dxs.enumerated() {
                dx.map { ($0 + o * inner[k]).update(from: dy + at, count: inner[k]) }
                at += inner[k]
            }
        }
    }

    public static func accumulate(_ g: UnsafeMutablePointer<Float>, _ extra: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { g[i] += extra[i] }
    }
}
