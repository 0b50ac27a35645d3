// Flatten in PyTorch (NCHW) order. Activations are NHWC in memory, so a PyTorch model's
// `x.view(N, -1)` / nn.Flatten must permute: the vector index is (c * H + h) * W + w.
//   forward:  y[n, c * HW + p] = x[n, p * C + c]      x [N, H, W, C] -> y [N, C*H*W]
//   backward: dx[n, p * C + c] = dy[n, c * HW + p]
// (Keras Flatten, and images with H*W == 1 or C == 1, keep the order and alias: ReshapeEmitter.)

struct FlattenCHWEmitter: OpEmitter {
    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let ch = c.inShape.last ?? 1
        let hw = c.inSize / max(ch, 1)
        let size = c.inSize
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        m.chunkFunction(f, comment: "\(c.header): flatten in NCHW order (\(hw) pixels x \(ch) channels)") { w in
            w.block("for n in lo..<hi") {
                w.line("let x = \(c.x) + n * \(size), y = \(c.y) + n * \(size)")
                w.line("for p in 0..<\(hw) { for ch in 0..<\(ch) { y[ch * \(hw) + p] = x[p * \(ch) + ch] } }")
            }
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward: un-permute NCHW to NHWC") { w in
                w.block("for n in lo..<hi") {
                    w.line("let dy = \(c.gy) + n * \(size), dx = \(gx) + n * \(size)")
                    w.line("for p in 0..<\(hw) { for ch in 0..<\(ch) { dx[p * \(ch) + ch] = dy[ch * \(hw) + p] } }")
                }
            }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], back)
    }
}
