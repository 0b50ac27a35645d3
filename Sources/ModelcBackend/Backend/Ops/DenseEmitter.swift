// Dense on the last axis, kernel [IN, OUT] (Keras layout); rows = images x leading pixels.
//   forward:  y[r, :] = act(b + x[r, :] * W)        RowGemm over blocks of rows, SIMD over OUT
//   backward: dy *= act'(y);  db = sum_r dy[r, :];  dW = x^T * dy  (RowGemm down the columns of x);
//             dx = dy * Wt  (Wt = [OUT, IN] transposed once per backward, SIMD over IN)

import ModelcCore

struct DenseEmitter: OpEmitter {
    let fold: FusedGroup?
    /// Below this many multiply-adds per image one thread is faster than a split.
    static let splitMinimumMACs = 65_536

    /// Whether one image's outputs are split over the threads in blocks of 64: one row per
    /// image, enough work, and an activation the epilogue applies (or a fused group).
    static func splitsSingleImage(nIn: Int, nOut: Int, rowsPerImage: Int, fused: Bool, activation: Activation) -> Bool {
        rowsPerImage == 1 && nOut % 64 == 0 && nOut >= 128 && nIn * nOut >= splitMinimumMACs
            && (fused || Fusion.epilogue(activation) != nil)
    }

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let nIn = c.inShape.last ?? 1
        let nOut = c.outShape.last ?? 1
        let rowsPerImage = c.inSize / max(nIn, 1)
        let p = c.prefix
        let hasBias = c.has(.bias)
        let epi = Fusion.epilogue(c.activation)
        let post = epi == nil ? c.activation : nil

        func forward(_ name: String, _ fused: FusedOutput?) {
            let what = fused.map { "inference, fused with \($0.names)" } ?? "x [\(nIn)] * W [\(nIn), \(nOut)]\(hasBias ? " + b" : "") \(c.activation.name)"
            m.chunkFunction(name, comment: "\(c.header): \(what)") { w in
                c.emitWeights(w, bias: hasBias)
                if let f = fused { f.emitScaleShift(w, buffer: "\(p)fold", channels: nOut, bias: hasBias ? "bias" : nil) }
                w.line("let x = \(c.x), y = \(fused?.target ?? c.y), r0 = lo * \(rowsPerImage)")
                RowGemm(rows: "(hi - lo) * \(rowsPerImage)", aRow: { r in "x + (r0 + \(r)) * \(nIn)" }, cRow: { r in "y + (r0 + \(r)) * \(nOut)" },
                        k: nIn, b: "wk", ldb: nOut, n: nOut, bias: (hasBias && fused == nil) ? "bias" : nil,
                        scale: fused == nil ? nil : "sc", shift: fused == nil ? nil : "sh",
                        epilogue: fused?.activation ?? epi ?? .none).emit(w)
                if fused == nil, let post = post {
                    ActivationCode.emitForward(w, post, x: c.y, y: c.y, size: c.outSize, channels: nOut)
                }
            }
        }
        forward("\(p)Forward", nil)
        if let f = c.fused {
            m.buffer("\(p)fold", perImage: 0, perChunk: 2 * nOut, "\(c.name) folded BatchNorm scale and shift per chunk")
            forward("\(p)ForwardFused", f)
        }

        // Single-image inference of a big layer: its outputs are split over the threads in
        // blocks of 64 (each thread streams only its columns of W), one row, 4 SIMD16 vectors.
        if DenseEmitter.splitsSingleImage(nIn: nIn, nOut: nOut, rowsPerImage: rowsPerImage, fused: c.fused != nil, activation: c.activation) {
            let fused = c.fused
            m.rowsFunction("\(p)ForwardColumns", comment: "\(c.header): outputs q0..<q1 of image 0\(fused.map { ", fused with \($0.names)" } ?? "")") { w in
                c.emitWeights(w, bias: hasBias)
                if let f = fused { f.emitScaleShift(w, buffer: "\(p)fold", channels: nOut, bias: hasBias ? "bias" : nil) }
                w.line("let x = \(c.x), y = \(fused?.target ?? c.y)")
                w.block("for cb in stride(from: q0, to: q1, by: 64)") {
                    RowGemm(rows: "1", aRow: { _ in "x" }, cRow: { _ in "y + cb" }, k: nIn, b: "wk + cb", ldb: nOut, n: 64,
                            bias: (hasBias && fused == nil) ? "bias + cb" : nil,
                            scale: fused == nil ? nil : "sc + cb", shift: fused == nil ? nil : "sh + cb",
                            epilogue: fused?.activation ?? epi ?? .none).emit(w)
                }
            }
            m.singleImage = [.rows("\(p)ForwardColumns(q0, q1, t)", total: nOut, block: 64)]
        }

        let wt = "\(p)wt"
        if c.gx != nil {
            m.buffer(wt, perImage: 0, fixed: nIn * nOut, "\(c.name) transposed kernel [\(nOut), \(nIn)]")
            m.serialFunction("\(p)Transpose", comment: "\(c.name): Wt[o][i] = W[i][o]") { w in
                w.line("Matrix.transpose(\(c.param(.kernel)), rows: \(nIn), cols: \(nOut), into: \(wt))")
            }
            m.backwardPrologue.append("\(p)Transpose")
        }
        m.reduceRanges.append((c.paramOffsets[.kernel] ?? 0, nIn * nOut))
        if hasBias { m.reduceRanges.append((c.paramOffsets[.bias] ?? 0, nOut)) }

        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dW, db\(c.gx != nil ? ", dx" : " (first layer: no dx)")") { w in
            w.line("let gp = partials + t * \(c.parameterCount)")
            if c.activation != .linear {
                ActivationCode.emitBackward(w, c.activation, dy: c.gy, y: c.y, dx: c.gy, size: c.outSize, channels: nOut)
            }
            w.line("let x = \(c.x), dy = \(c.gy)")
            if hasBias {
                w.line("BiasGradient.sum(dy + lo * \(rowsPerImage * nOut), rows: (hi - lo) * \(rowsPerImage), n: \(nOut), into: \(c.grad(.bias)))")
            }
            w.line("let gk = \(c.grad(.kernel)), r0 = lo * \(rowsPerImage), rows = (hi - lo) * \(rowsPerImage)")
            // dW[i][:] = sum_r x[r][i] * dy[r][:]: row i of dW reads column i of x
            RowGemm(rows: "\(nIn)", aRow: { i in "x + r0 * \(nIn) + \(i)" }, cRow: { i in "gk + \(i) * \(nOut)" }, b: "dy + r0 * \(nOut)", n: nOut,
                    outer: "1", inner: "rows", aOuter: 0, aInner: nIn, bOuter: 0, bInner: nOut, accumulate: false).emit(w)
            if let gx = c.gx {
                RowGemm(rows: "rows", aRow: { r in "dy + (r0 + \(r)) * \(nOut)" }, cRow: { r in "\(gx) + (r0 + \(r)) * \(nIn)" },
                        k: nOut, b: "\(wt)", ldb: nIn, n: nIn).emit(w)
            }
        }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        let inf: [Step] = c.fused == nil ? f : [.chunk("\(p)ForwardFused(lo, hi, t)")]
        return (f, inf, [.chunk("\(p)Backward(lo, hi, t)")])
    }
}
