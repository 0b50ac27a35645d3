// ZeroPadding2D: copies each input row into the interior of the (zero-bordered) output.
//   forward [N, H, W, C] -> [N, H+top+bottom, W+left+right, C];  backward crops dy.
// The border is zeroed once in init and never written.

struct ZeroPaddingEmitter: OpEmitter {
    let top, bottom, left, right: Int

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let h = c.inShape[0], w = c.inShape[1], ch = c.inShape[2]
        let ow = c.outShape[1]
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        m.chunkFunction(f, comment: "\(c.header): pad top \(top) bottom \(bottom) left \(left) right \(right)") { wr in
            wr.block("for n in lo..<hi") {
                wr.line("let x = \(c.x) + n * \(c.inSize), y = \(c.y) + n * \(c.outSize)")
                wr.line("for r in 0..<\(h) { (y + ((r + \(top)) * \(ow) + \(left)) * \(ch)).update(from: x + r * \(w * ch), count: \(w * ch)) }")
            }
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward: crop") { wr in
                wr.block("for n in lo..<hi") {
                    wr.line("let dx = \(gx) + n * \(c.inSize), dy = \(c.gy) + n * \(c.outSize)")
                    wr.line("for r in 0..<\(h) { (dx + r * \(w * ch)).update(from: dy + ((r + \(top)) * \(ow) + \(left)) * \(ch), count: \(w * ch)) }")
                }
            }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], back)
    }
}
