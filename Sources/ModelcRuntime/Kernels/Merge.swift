// Merge kernels: several inputs into one output (Keras Add, Subtract, Multiply, Average,
// Maximum, Minimum; equal shapes, or broadcast), Concatenate's block copies, and the gradient
// sum of an output read by several layers.
//
//   Merge.forward        y = x0 + x1 + ..., x0 - x1, x0 * x1 * ..., mean, max, min (element-wise)
//   Merge.backward       dx_k = dy (add), -dy for x1 (subtract), dy * prod_{j != k} x_j
//                        (multiply), dy / n (average), dy where x_k is the first input equal to
//                        y, else 0 (maximum, minimum: ties go to the first, as TensorFlow's
//                        pairwise maximum(maximum(x0, x1), x2) does); a nil dx_k is skipped
//   Merge.forwardBroadcast, Merge.backwardBroadcast
//                        the same with inputs whose sizes are the output's or 1 (any rank):
//                        input k's value at (h, w, c) is x_k at (h or 0, w or 0, c or 0); its
//                        gradient sums dx over the positions that read each value
//   Merge.concatenate    per outer index o: y[o] = x0[o] ++ x1[o] ++ ... (inner_k values each)
//   Merge.split          the reverse: dx_k[o] = its inner_k values of dy[o]
//   Merge.accumulate     g += extra
// All pointers cover the same images; counts are per call (images x values per image).

public enum MergeOperation: Sendable {
    case add, subtract, multiply, average, maximum, minimum
}

public enum Merge {
    public static func forward(_ op: MergeOperation, _ xs: [UnsafeMutablePointer<Float>], _ y: UnsafeMutablePointer<Float>, count: Int) {
        combine(op, inputs: xs.count, y, count: count) { xs[$0] }
    }

    /// y[0..<count] = the merge of the `inputs` arrays `x(k)`, k in 0..<inputs (average: the sum times 1/n).
    @inline(__always)
    static func combine(_ op: MergeOperation, inputs n: Int, _ y: UnsafeMutablePointer<Float>, count: Int,
                        _ x: (Int) -> UnsafeMutablePointer<Float>) {
        y.update(from: x(0), count: count)
        for k in 1..<n {
            let xk = x(k)
            switch op {
            case .add, .average: for i in 0..<count { y[i] += xk[i] }
            case .subtract: for i in 0..<count { y[i] -= xk[i] }
            case .multiply: for i in 0..<count { y[i] *= xk[i] }
            case .maximum: for i in 0..<count { y[i] = max(y[i], xk[i]) }
            case .minimum: for i in 0..<count { y[i] = min(y[i], xk[i]) }
            }
        }
        if op == .average {
            let s = 1 / Float(n)
            for i in 0..<count { y[i] *= s }
        }
    }

    public static func backward(_ op: MergeOperation, dy: UnsafeMutablePointer<Float>, xs: [UnsafeMutablePointer<Float>],
                                y: UnsafeMutablePointer<Float>, dxs: [UnsafeMutablePointer<Float>?], count: Int) {
        let n = xs.count
        if op == .maximum || op == .minimum {
            // dy goes to the first input equal to y
            for i in 0..<count {
                let g = dy[i]
                var taken = false
                for k in 0..<n {
                    let hit = !taken && xs[k][i] == y[i]
                    if hit { taken = true }
                    dxs[k]?[i] = hit ? g : 0
                }
            }
            return
        }
        // one vector loop per input; a dx that is dy's own buffer last, as the others read dy
        for last in [false, true] {
            for (k, dx) in dxs.enumerated() {
                guard let dx, (dx == dy) == last else { continue }
                switch op {
                case .add: if dx != dy { dx.update(from: dy, count: count) }
                case .subtract:
                    if k > 0 { for i in 0..<count { dx[i] = -dy[i] } } else if dx != dy { dx.update(from: dy, count: count) }
                case .average: for i in 0..<count { dx[i] = dy[i] / Float(n) }
                case .multiply:
                    for i in 0..<count {
                        var p = dy[i]
                        for j in 0..<n where j != k { p *= xs[j][i] }
                        dx[i] = p
                    }
                case .maximum, .minimum: break
                }
            }
        }
    }

    /// Broadcasting forward of `images` images: `shapes[k]` is input k's per-image shape and
    /// `out` the output's, all of one rank; every size of an input is the output's or 1.
    public static func forwardBroadcast(_ op: MergeOperation, _ xs: [UnsafeMutablePointer<Float>], shapes: [[Int]], out: [Int],
                                        _ y: UnsafeMutablePointer<Float>, images: Int) {
        let map = BroadcastMap(shapes: shapes, out: out), n = xs.count
        let scale: Float = 1 / Float(n)   // average: times 1/n, as Merge.forward
        if let channelOnly = map.channelOnly {
            // Row by row (a squeeze-and-excitation scale): each input is the whole output or one channel vector.
            let c = map.out[map.out.count - 1], perImage = map.outSize / c
            for r in 0..<(images * perImage) {
                combine(op, inputs: n, y + r * c, count: c) { channelOnly[$0] ? xs[$0] + (r / perImage) * c : xs[$0] + r * c }
            }
            return
        }
        for im in 0..<images {
            let ys = y + im * map.outSize
            map.forEach { i, idx in
                var v = xs[0][im * map.sizes[0] + idx[0]]
                for k in 1..<n {
                    let x = xs[k][im * map.sizes[k] + idx[k]]
                    switch op {
                    case .add, .average: v += x
                    case .subtract: v -= x
                    case .multiply: v *= x
                    case .maximum: v = max(v, x)
                    case .minimum: v = min(v, x)
                    }
                }
                ys[i] = op == .average ? v * scale : v
            }
        }
    }

    /// Broadcasting backward: dx_k (zeroed, then summed over the output positions reading each of
    /// its values) as `backward` gives it element by element (a tie of maximum or minimum goes to
    /// the first input equal to y, whether or not it takes a gradient); a nil dx_k is skipped.
    public static func backwardBroadcast(_ op: MergeOperation, dy: UnsafeMutablePointer<Float>, xs: [UnsafeMutablePointer<Float>],
                                         y: UnsafeMutablePointer<Float>, dxs: [UnsafeMutablePointer<Float>?], shapes: [[Int]], out: [Int], images: Int) {
        let map = BroadcastMap(shapes: shapes, out: out), n = xs.count
        for (k, dx) in dxs.enumerated() { dx?.update(repeating: 0, count: images * map.sizes[k]) }
        if let channelOnly = map.channelOnly, op != .maximum, op != .minimum {
            return backwardRows(op, dy: dy, xs: xs, dxs: dxs, channelOnly: channelOnly, map: map, images: images)
        }
        for im in 0..<images {
            map.forEach { i, idx in
                let g = dy[im * map.outSize + i]
                var taken = false
                for k in 0..<n {
                    let v: Float
                    switch op {
                    case .add: v = g
                    case .subtract: v = k == 0 ? g : -g
                    case .average: v = g / Float(n)
                    case .multiply:
                        guard dxs[k] != nil else { continue }
                        var p = g
                        for j in 0..<n where j != k { p *= xs[j][im * map.sizes[j] + idx[j]] }
                        v = p
                    case .maximum, .minimum:
                        let hit = !taken && xs[k][im * map.sizes[k] + idx[k]] == y[im * map.outSize + i]
                        if hit { taken = true }
                        v = hit ? g : 0
                    }
                    dxs[k]?[im * map.sizes[k] + idx[k]] += v
                }
            }
        }
    }

    /// The backward of the row-by-row forward (add, subtract, average, multiply); dx already zeroed.
    static func backwardRows(_ op: MergeOperation, dy: UnsafeMutablePointer<Float>, xs: [UnsafeMutablePointer<Float>],
                             dxs: [UnsafeMutablePointer<Float>?], channelOnly: [Bool], map: BroadcastMap, images: Int) {
        let c = map.out[map.out.count - 1], rows = images * (map.outSize / c), perImage = map.outSize / c, n = xs.count
        for r in 0..<rows {
            let g = dy + r * c
            for k in 0..<n {
                guard let dxk = dxs[k] else { continue }
                let d = channelOnly[k] ? dxk + (r / perImage) * c : dxk + r * c
                switch op {
                case .add: for i in 0..<c { d[i] += g[i] }
                case .subtract: if k == 0 { for i in 0..<c { d[i] += g[i] } } else { for i in 0..<c { d[i] -= g[i] } }
                case .average: for i in 0..<c { d[i] += g[i] / Float(n) }
                case .multiply:
                    for i in 0..<c {
                        var p = g[i]
                        for j in 0..<n where j != k { p *= (channelOnly[j] ? xs[j] + (r / perImage) * c : xs[j] + r * c)[i] }
                        d[i] += p
                    }
                case .maximum, .minimum: break   // not taken here (ties need y)
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

/// Where each broadcast input's value for an output position of one image is: the output's
/// axes as an odometer, input k's offset moving by its stride on the axes it has (0 on a
/// broadcast one). The last axis is the inner loop.
struct BroadcastMap {
    let out: [Int]
    let strides: [[Int]]
    let sizes: [Int]
    let outSize: Int
    /// When every input is the whole output or one channel vector (all sizes 1 but the last):
    /// which inputs are the vector (the row-by-row path); else nil.
    let channelOnly: [Bool]?

    init(shapes: [[Int]], out: [Int]) {
        self.out = out.isEmpty ? [1] : out
        outSize = out.reduce(1, *)
        sizes = shapes.map { $0.reduce(1, *) }
        let rank = self.out.count
        strides = shapes.map { s0 in
            let s = Array(repeating: 1, count: max(0, rank - s0.count)) + s0
            var st = [Int](repeating: 0, count: rank), step = 1
            for a in stride(from: rank - 1, through: 0, by: -1) {
                st[a] = s[a] == 1 ? 0 : step
                step *= s[a]
            }
            return st
        }
        let total = out.reduce(1, *), last = out.last
        let full = shapes.map { $0.reduce(1, *) == total }
        let vector = shapes.map { s in s.last == last && s.dropLast().allSatisfy { $0 == 1 } }
        let rowWise = out.count >= 2 && zip(full, vector).allSatisfy { $0 || $1 }
        channelOnly = rowWise ? zip(vector, full).map { $0 && !$1 } : nil
    }

    /// `body(i, idx)` for every output position i (the output's element order), idx[k] = input k's offset.
    func forEach(_ body: (Int, [Int]) -> Void) {
        let rank = out.count, inner = out[rank - 1], count = strides.count
        var coord = [Int](repeating: 0, count: rank), base = [Int](repeating: 0, count: count), idx = base
        var i = 0
        while i < outSize {
            for c in 0..<inner {
                for k in 0..<count { idx[k] = base[k] + c * strides[k][rank - 1] }
                body(i, idx)
                i += 1
            }
            // Next position of the outer axes (the odometer), the offsets moved with it.
            var a = rank - 2
            while a >= 0 {
                coord[a] += 1
                for k in 0..<count { base[k] += strides[k][a] }
                if coord[a] < out[a] { break }
                for k in 0..<count { base[k] -= strides[k][a] * out[a] }
                coord[a] = 0
                a -= 1
            }
        }
    }
}
