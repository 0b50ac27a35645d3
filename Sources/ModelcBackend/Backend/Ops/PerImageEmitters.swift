// The layers whose forward and backward are one runtime kernel call per image
// (Sources/ModelcRuntime/Kernels/Resampling.swift, Rearranging.swift):
//   Cropping1D/2D           Resampling.crop / cropBackward: the window, and dy into a zeroed dx
//   UpSampling2D bilinear   Resampling.bilinear / bilinearBackward (TF half-pixel centres)
//   Resizing                Resampling.resize / resizeBackward (bilinear to any size, the same centres)
//   RepeatVector            Rearranging.repeatVector / repeatVectorBackward (sum of the copies)
//   Permute                 Rearranging.permute / permuteBackward (the inverse permutation)
// Training and inference run the same forward; the backward overwrites dx. 1-D layers arrive
// lifted (a 1 x L image); a lifted Permute's leading 1 is dropped before its dims apply.

/// Emits `<prefix>Forward`: kernel(x_n, y_n, args) per image, and `<prefix>Backward` with
/// kernelBackward(dx_n, dy_n, args) when the layer has an input gradient.
struct PerImageKernel {
    let kernel: String
    let args: String
    let what: String

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        m.chunkFunction(f, comment: "\(c.header): \(what)") { w in
            w.line("for n in lo..<hi { \(kernel)(\(c.x) + n * \(c.inSize), \(c.y) + n * \(c.outSize), \(args)) }")
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward") { w in
                w.line("for n in lo..<hi { \(kernel)Backward(\(gx) + n * \(c.inSize), \(c.gy) + n * \(c.outSize), \(args)) }")
            }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], back)
    }
}

struct CroppingEmitter: OpEmitter {
    let top, left: Int

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let i = c.inShape, o = c.outShape
        return PerImageKernel(kernel: "Resampling.crop",
                              args: "input: (\(i[0]), \(i[1]), \(i[2])), output: (\(o[0]), \(o[1])), top: \(top), left: \(left)",
                              what: "crop from row \(top), column \(left)").emit(c, m)
    }
}

struct BilinearUpSamplingEmitter: OpEmitter {
    let sizeH, sizeW: Int

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let i = c.inShape
        return PerImageKernel(kernel: "Resampling.bilinear", args: "input: (\(i[0]), \(i[1]), \(i[2])), size: (\(sizeH), \(sizeW))",
                              what: "bilinear upsampling \(sizeH)x\(sizeW), half-pixel centres").emit(c, m)
    }
}

struct ResizeEmitter: OpEmitter {
    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let i = c.inShape, o = c.outShape
        return PerImageKernel(kernel: "Resampling.resize", args: "input: (\(i[0]), \(i[1]), \(i[2])), output: (\(o[0]), \(o[1]))",
                              what: "resized to \(o[0])x\(o[1]), bilinear, half-pixel centres").emit(c, m)
    }
}

struct RepeatVectorEmitter: OpEmitter {
    let count: Int

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        PerImageKernel(kernel: "Rearranging.repeatVector", args: "features: \(c.inSize), count: \(count)",
                       what: "the vector repeated \(count) times").emit(c, m)
    }
}

struct PermuteEmitter: OpEmitter {
    /// Keras dims, 1-based over the unlifted input's axes.
    let dims: [Int]

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let (out, strides) = PermuteEmitter.geometry(dims, input: c.inShape)
        return PerImageKernel(kernel: "Rearranging.permute",
                              args: "output: (\(out[0]), \(out[1]), \(out[2])), strides: (\(strides[0]), \(strides[1]), \(strides[2]))",
                              what: "permute dims \(dims)").emit(c, m)
    }

    /// The output sizes and, per output axis, the input stride it walks, padded to 3 axes.
    static func geometry(_ dims: [Int], input: [Int]) -> (out: [Int], strides: [Int]) {
        let s = input.count > dims.count && input.first == 1 ? Array(input.dropFirst(input.count - dims.count)) : input
        var inStride = Array(repeating: 1, count: s.count)
        for i in stride(from: s.count - 2, through: 0, by: -1) { inStride[i] = inStride[i + 1] * s[i + 1] }
        let pad = 3 - dims.count
        return (Array(repeating: 1, count: pad) + dims.map { s[$0 - 1] }, Array(repeating: 0, count: pad) + dims.map { inStride[$0 - 1] })
    }
}
