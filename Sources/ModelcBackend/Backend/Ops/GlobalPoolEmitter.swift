// GlobalAveragePooling2D / GlobalMaxPooling2D over all pixels, per channel.
//   forward [N, H, W, C] -> [N, C];  backward: dy / (H*W) everywhere, or dy to the max.

struct GlobalPoolEmitter: OpEmitter {
    let isMax: Bool

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let ch = c.outShape.last ?? 1
        let pix = c.inSize / max(ch, 1)
        let arg = "\(c.prefix)arg"
        if isMax { m.buffer(arg, perImage: ch, kind: .int32, "\(c.name) argmax (input offset)") }
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        m.chunkFunction(f, comment: "\(c.header): global \(isMax ? "max" : "average") pool over \(pix) pixels") { w in
            w.block("for n in lo..<hi") {
                w.line("let x = \(c.x) + n * \(c.inSize), y = \(c.y) + n * \(ch)")
                if isMax {
                    w.line("let ag = \(arg) + n * \(ch)")
                    w.line("for c in 0..<\(ch) { y[c] = x[c]; ag[c] = Int32(c) }")
                    w.line("for p in 1..<\(max(pix, 1)) { for c in 0..<\(ch) { let v = x[p * \(ch) + c]; if v > y[c] { y[c] = v; ag[c] = Int32(p * \(ch) + c) } } }")
                } else {
                    w.line("for c in 0..<\(ch) { y[c] = 0 }")
                    w.line("for p in 0..<\(pix) { for c in 0..<\(ch) { y[c] += x[p * \(ch) + c] } }")
                    w.line("for c in 0..<\(ch) { y[c] *= \(floatLiteral(1 / Float(max(pix, 1)))) }")
                }
            }
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward") { w in
                w.block("for n in lo..<hi") {
                    w.line("let dx = \(gx) + n * \(c.inSize), dy = \(c.gy) + n * \(ch)")
                    if isMax {
                        w.line("let ag = \(arg) + n * \(ch)")
                        w.line("dx.update(repeating: 0, count: \(c.inSize))")
                        w.line("for c in 0..<\(ch) { dx[Int(ag[c])] += dy[c] }")
                    } else {
                        w.line("for p in 0..<\(pix) { for c in 0..<\(ch) { dx[p * \(ch) + c] = dy[c] * \(floatLiteral(1 / Float(max(pix, 1)))) } }")
                    }
                }
            }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], back)
    }
}
