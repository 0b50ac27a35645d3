// Merge kernels: several equal-shaped inputs into one output (Keras Add, Subtract, Multiply,
// Average, Maximum, Minimum), Concatenate's block copies, and the gradient sum of an output
// read by several layers.
//
//   Merge.forward        y = x0 + x1 + ..., x0 - x1, x0 * x1 * ..., mean, max, min (element-wise)
//   Merge.backward       dx_k = dy (add), -dy for x1 (subtract), dy * prod_{j != k} x_j
//                        (multiply), dy / n (average), dy where x_k is the first input equal to
//                        y, else 0 (maximum, minimum: ties go to the first, as TensorFlow's
//                        pairwise maximum(maximum(x0, x1), x2) does); a nil dx_k is skipped
//   Merge.forwardBroadcast, Merge.backwardBroadcast
//                        the same with inputs whose sizes are the output's or 1 (shapes as
//                        [H, W, C]): input k's value at (h, w, c) is x_k at (h or 0, w or 0,
//                        c or 0); its gradient sums dx over the positions that read each value
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

    /// Broadcasting forward of `images` images: `shapes[k]` is input k's per-image [H, W, C],
    /// `out` the output's; every size of an input is the output's or 1.
    public static func forwardBroadcast(_ op: MergeOperation, _ xs: [UnsafeMutablePointer<Float>], shapes: [[Int]], out: [Int],
                                        _ y: UnsafeMutablePointer<Float>, images: Int) {
        let map = BroadcastMap(shapes: shapes, out: out)
        for n in 0..<images {
            let ys = y + n * map.outSize
            map.forEach { i, idx in
                var v = xs[0][n * map.sizes[0] + idx[0]]
                for k in 1..<xs.count {
                    let x = xs[k][n * map.sizes[k] + idx[k]]
                    switch op {
                    case .add, .average: v += x
                    case .subtract: v -= x
                    case .multiply: v *= x
                    case .maximum: v = max(v, x)
                    case .minimum: v = min(v, x)
                    }
                }
                ys[i] = op == .average ? v * (1 / Float(xs.count)) : v   // as Merge.forward: times 1/n
            }
        }
    }

    /// Broadcasting backward: dx_k (zeroed, then summed over the output positions reading each of
    /// its values) as `backward` gives it element by element; a nil dx_k is skipped.
    public static func backwardBroadcast(_ op: MergeOperation, dy: UnsafeMutablePointer<Float>, xs: [UnsafeMutablePointer<Float>],
                                         y: UnsafeMutablePointer<Float>, dxs: [UnsafeMutablePointer<Float>?], shapes: [[Int]], out: [Int], images: Int) {
        let map = BroadcastMap(shapes: shapes, out: out), n = xs.count
        for (k, dx) in dxs.enumerated() { dx?.update(repeating: 0, count: images * map.sizes[k]) }
        for im in 0..<images {
            map.forEach { i, idx in
                let g = dy[im * map.outSize + i]
                var taken = false
                for k in 0..<n {
                    guard let dx = dxs[k] else { continue }
                    let v: Float
                    switch op {
                    case .add: v = g
                    case .subtract: v = k == 0 ? g : -g
                    case .average: v = g / Float(n)
                    case .multiply:
                        var p = g
                        for j in 0..<n where j != k { p *= xs[j][im * map.sizes[j] + idx[j]] }
                        v = p
                    case .maximum, .minimum:
                        let hit = !taken && xs[k][im * map.sizes[k] + idx[k]] == y[im * map.outSize + i]
                        if hit { taken = true }
                        v = hit ? g : 0
                    }
                    dx[im * map.sizes[k] + idx[k]] += v
                }
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

/// Where each broadcast input's value for an output position of one image is.
struct BroadcastMap {
    let out: [Int]
    let strides: [[Int]]
    let sizes: [Int]
    let outSize: Int

    init(shapes: [[Int]], out: [Int]) {
        precondition(out.count == 3 && shapes.allSatisfy { $0.count == 3 }, "broadcast shapes are [H, W, C]")
        self.out = out
        outSize = out.reduce(1, *)
        sizes = shapes.map { $0.reduce(1, *) }
        // A broadcast axis (size 1 where the output's is larger) has stride 0.
        strides = shapes.map { s in [s[0] == 1 ? 0 : s[1] * s[2], s[1] == 1 ? 0 : s[2], s[2] == 1 ? 0 : 1] }
    }

    /// `body(i, idx)` for every output position i (h, w, c order), idx[k] = input k's offset.
    func forEach(_ body: (Int, [Int]) -> Void) {
        var idx = [Int](repeating: 0, count: strides.count)
        var i = 0
        for h in 0..<out[0] {
            for w in 0..<out[1] {
                for c in 0..<out[2] {
                    for k in strides.indices { idx[k] = h * strides[k][0] + w * strides[k][1] + c * strides[k][2] }
                    body(i, idx)
                    i += 1
                }
            }
        }
    }
}
