// BatchNormalization over the last axis (channels), Keras semantics by default.
//   training:  mean, var = batch statistics over N*pixels (population variance, two passes),
//              xhat = (x - mean) / sqrt(var + eps), y = gamma * xhat + beta,
//              moving = momentum * moving + (1 - momentum) * batch (PyTorch: unbiased variance)
//   inference: y = (x - moving_mean) / sqrt(moving_var + eps) * gamma + beta
//   backward:  dbeta = sum dy, dgamma = sum dy * xhat,
//              dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
// Batch-wide sums are per-chunk partials reduced in serial steps between parallel regions.

import ModelcCore

struct BatchNormEmitter: OpEmitter {
    let attrs: BatchNormAttrs
    let foldedIntoProducer: Bool

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let ch = c.outShape.last ?? 1
        let pix = c.outSize / max(ch, 1)
        let p = c.prefix
        let xhat = "\(p)xhat", part = "\(p)part", mean = "\(p)mean", inv = "\(p)inv", mdy = "\(p)mdy", mdx = "\(p)mdx"
        m.buffer(xhat, perImage: c.outSize, "\(c.name) normalized input (training)")
        m.buffer(part, perImage: 0, perChunk: 2 * ch, "\(c.name) per-chunk partial sums (chunks x 2 x \(ch))")
        m.buffer(mean, perImage: 0, fixed: ch, "\(c.name) batch mean")
        m.buffer(inv, perImage: 0, fixed: ch, "\(c.name) batch 1/sqrt(var + eps)")
        m.buffer(mdy, perImage: 0, fixed: ch, "\(c.name) mean(dy)")
        m.buffer(mdx, perImage: 0, fixed: ch, "\(c.name) mean(dy * xhat)")
        let gamma = c.has(.gamma) ? c.param(.gamma) : nil
        let beta = c.has(.beta) ? c.param(.beta) : nil
        let mm = c.param(.movingMean), mv = c.param(.movingVariance)
        let eps = floatLiteral(attrs.epsilon), mom = floatLiteral(attrs.momentum)
        let hdr = "\(c.header): batch norm over \(ch) channels x \(pix) pixels, eps \(attrs.epsilon), momentum \(attrs.momentum)"

        m.chunkFunction("\(p)SumMean", comment: "\(hdr); training pass 1: per-chunk sums of x") { w in
            w.line("let s = \(part) + t * \(2 * ch)")
            w.line("for c in 0..<\(ch) { s[c] = 0 }")
            w.line("let x = \(c.x) + lo * \(c.inSize)")
            w.line("for r in 0..<(hi - lo) * \(pix) { for c in 0..<\(ch) { s[c] += x[r * \(ch) + c] } }")
        }
        m.serialFunction("\(p)ReduceMean", comment: "\(c.name): batch mean from the partial sums") { w in
            w.line("let chunks = max(1, min(threads, count))")
            w.line("let scale = 1 / Float(max(count * \(pix), 1))")
            w.block("for c in 0..<\(ch)") {
                w.line("var s: Float = 0")
                w.line("for k in 0..<chunks { s += \(part)[k * \(2 * ch) + c] }")
                w.line("\(mean)[c] = s * scale")
            }
        }
        m.chunkFunction("\(p)SumVar", comment: "\(c.name) training pass 2: per-chunk sums of (x - mean)^2") { w in
            w.line("let s = \(part) + t * \(2 * ch)")
            w.line("for c in 0..<\(ch) { s[c] = 0 }")
            w.line("let x = \(c.x) + lo * \(c.inSize)")
            w.line("for r in 0..<(hi - lo) * \(pix) { for c in 0..<\(ch) { let d = x[r * \(ch) + c] - \(mean)[c]; s[c] += d * d } }")
        }
        m.serialFunction("\(p)ReduceVar", comment: "\(c.name): batch variance, 1/sqrt(var + eps), moving statistics") { w in
            w.line("let chunks = max(1, min(threads, count))")
            w.line("let m = max(count * \(pix), 1)")
            w.line("let mm = \(mm), mv = \(mv)")
            w.block("for c in 0..<\(ch)") {
                w.line("var s: Float = 0")
                w.line("for k in 0..<chunks { s += \(part)[k * \(2 * ch) + c] }")
                w.line("let v = s / Float(m)")
                w.line("\(inv)[c] = 1 / (v + \(eps)).squareRoot()")
                w.line("mm[c] = \(mom) * mm[c] + (1 - \(mom)) * \(mean)[c]")
                if attrs.unbiasedRunningVariance {
                    w.line("mv[c] = \(mom) * mv[c] + (1 - \(mom)) * (m > 1 ? s / Float(m - 1) : v)")
                } else {
                    w.line("mv[c] = \(mom) * mv[c] + (1 - \(mom)) * v")
                }
            }
        }
        m.chunkFunction("\(p)Normalize", comment: "\(c.name) training pass 3: xhat = (x - mean) * inv, y = gamma * xhat + beta") { w in
            w.line("let x = \(c.x) + lo * \(c.inSize), y = \(c.y) + lo * \(c.outSize), xh = \(xhat) + lo * \(c.outSize)")
            w.block("for r in 0..<(hi - lo) * \(pix)") {
                w.block("for c in 0..<\(ch)") {
                    w.line("let v = (x[r * \(ch) + c] - \(mean)[c]) * \(inv)[c]")
                    w.line("xh[r * \(ch) + c] = v")
                    w.line("y[r * \(ch) + c] = \(gamma.map { "\($0)[c] * v" } ?? "v")\(beta.map { " + \($0)[c]" } ?? "")")
                }
            }
        }
        m.chunkFunction("\(p)Inference", comment: "\(c.name) inference: y = (x - moving_mean) / sqrt(moving_var + eps) * gamma + beta") { w in
            w.line("let x = \(c.x) + lo * \(c.inSize), y = \(c.y) + lo * \(c.outSize)")
            w.line("let mm = \(mm), mv = \(mv)")
            w.line("let sc = \(part) + t * \(2 * ch), sh = sc + \(ch)   // this chunk's scale and shift")
            w.block("for c in 0..<\(ch)") {
                w.line("let k = \(gamma.map { "\($0)[c] / " } ?? "1 / ")(mv[c] + \(eps)).squareRoot()")
                w.line("sc[c] = k")
                w.line("sh[c] = \(beta.map { "\($0)[c]" } ?? "0") - mm[c] * k")
            }
            w.line("for r in 0..<(hi - lo) * \(pix) { for c in 0..<\(ch) { y[r * \(ch) + c] = x[r * \(ch) + c] * sc[c] + sh[c] } }")
        }
        m.chunkFunction("\(p)BackwardSums", comment: "\(c.name) backward pass 1: per-chunk sums of dy and dy * xhat") { w in
            w.line("let s = \(part) + t * \(2 * ch)")
            w.line("for c in 0..<\(2 * ch) { s[c] = 0 }")
            w.line("let dy = \(c.gy) + lo * \(c.outSize), xh = \(xhat) + lo * \(c.outSize)")
            w.line("for r in 0..<(hi - lo) * \(pix) { for c in 0..<\(ch) { let g = dy[r * \(ch) + c]; s[c] += g; s[\(ch) + c] += g * xh[r * \(ch) + c] } }")
        }
        m.serialFunction("\(p)BackwardReduce", comment: "\(c.name) backward: dgamma, dbeta, mean(dy), mean(dy * xhat)") { w in
            w.line("let chunks = max(1, min(threads, count))")
            w.line("let scale = 1 / Float(max(count * \(pix), 1))")
            w.block("for c in 0..<\(ch)") {
                w.line("var sdy: Float = 0, sdx: Float = 0")
                w.line("for k in 0..<chunks { sdy += \(part)[k * \(2 * ch) + c]; sdx += \(part)[k * \(2 * ch) + \(ch) + c] }")
                if let o = c.paramOffsets[.gamma] { w.line("gradients[\(o) + c] = sdx") }
                if let o = c.paramOffsets[.beta] { w.line("gradients[\(o) + c] = sdy") }
                w.line("\(mdy)[c] = sdy * scale")
                w.line("\(mdx)[c] = sdx * scale")
            }
        }
        var back: [Step] = [.chunk("\(p)BackwardSums(lo, hi, t)"), .serial("\(p)BackwardReduce()")]
        if let gx = c.gx {
            m.chunkFunction("\(p)BackwardData", comment: "\(c.name) backward pass 2: dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat))") { w in
                w.line("let dy = \(c.gy) + lo * \(c.outSize), xh = \(xhat) + lo * \(c.outSize), dx = \(gx) + lo * \(c.inSize)")
                w.block("for r in 0..<(hi - lo) * \(pix)") {
                    w.block("for c in 0..<\(ch)") {
                        w.line("let k = \(gamma.map { "\($0)[c] * " } ?? "")\(inv)[c]")
                        w.line("let i = r * \(ch) + c")
                        w.line("dx[i] = k * (dy[i] - \(mdy)[c] - xh[i] * \(mdx)[c])")
                    }
                }
            }
            back.append(.chunk("\(p)BackwardData(lo, hi, t)"))
        }
        let train: [Step] = [.chunk("\(p)SumMean(lo, hi, t)"), .serial("\(p)ReduceMean()"),
                             .chunk("\(p)SumVar(lo, hi, t)"), .serial("\(p)ReduceVar()"),
                             .chunk("\(p)Normalize(lo, hi, t)")]
        return (train, [.chunk("\(p)Inference(lo, hi, t)")], back)
    }
}
