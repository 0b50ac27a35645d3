// UpSampling2D, nearest neighbour by whole factors: each image one call of the runtime's kernel
// (Sources/ModelcRuntime/Kernels/UpSampling.swift).
//   forward [N, H, W, C] -> [N, H*sh, W*sw, C]: y[h*sh + i][w*sw + j] = x[h][w]
//   backward: dx[h][w] = the sum of dy over the sh x sw block of (h, w)
// Training and inference run the same forward.

struct UpSamplingEmitter: OpEmitter {
    let sizeH: Int
    let sizeW: Int

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        let geometry = "let g = UpSamplingGeometry(input: (\(c.inShape[0]), \(c.inShape[1]), \(c.inShape[2])), size: (\(sizeH), \(sizeW)))"
        m.chunkFunction(f, comment: "\(c.header): nearest upsampling \(sizeH)x\(sizeW)") { w in
            w.line(geometry)
            w.line("for n in lo..<hi { UpSampling.nearest(\(c.x) + n * \(c.inSize), \(c.y) + n * \(c.outSize), g) }")
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward: dy summed over each \(sizeH)x\(sizeW) block") { w in
                w.line(geometry)
                w.line("for n in lo..<hi { UpSampling.nearestBackward(\(gx) + n * \(c.inSize), \(c.gy) + n * \(c.outSize), g) }")
            }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], back)
    }
}
