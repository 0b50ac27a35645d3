// BatchNormalization over the last axis (channels), Keras semantics by default.
//   training:  mean, var = batch statistics over N*pixels (population variance, two passes),
//              xhat = (x - mean) / sqrt(var + eps), y = gamma * xhat + beta (xhat is not stored:
//              the backward passes recompute it from x with the same operations),
//              moving = momentum * moving + (1 - momentum) * batch (PyTorch: unbiased variance)
//   inference: y = (x - moving_mean) / sqrt(moving_var + eps) * gamma + beta
//   backward:  dbeta = sum dy, dgamma = sum dy * xhat,
//              dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
// Batch-wide sums are per-chunk partials reduced in serial steps between parallel regions.
// Every pass keeps the channels in SIMD registers (emitChannelLoops): each lane is one
// channel and visits the pixels in order, so the sums are those of the plain scalar loops.
//
// Training fusion (the fusion pass's groups): when a ReLU/LeakyReLU layer follows, the
// normalize pass writes act(y) straight into that layer's output, and both backward passes
// compute dy = dact * act'(out) on the fly from that layer's gradient: the activation layer's
// own passes (and this layer's y and dy buffers) drop out of training. When the producer is a
// Conv2D, the backward-data pass runs inside the convolution's backward, one image at a time
// (`BatchNormBackwardData`), so dx never goes through memory.

import ModelcCore

struct BatchNormEmitter: OpEmitter {
    let attrs: BatchNormAttrs
    let foldedIntoProducer: Bool
    /// The activation layer fused into training: its function, output and output gradient.
    var trainActivation: (activation: EpilogueActivation, name: String, y: String, gy: String)? = nil
    /// Training: the producer Conv2D computes this layer's backward-data pass per image.
    var dataInProducer = false

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let ch = c.outShape.last ?? 1
        let pix = c.outSize / max(ch, 1)
        let p = c.prefix
        let part = "\(p)part", mean = "\(p)mean", inv = "\(p)inv", mdy = "\(p)mdy", mdx = "\(p)mdx"
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
        let rows = "(hi - lo) * \(pix)"
        let act = trainActivation
        // what the training forward writes and the backward reads as dy
        let out = act?.y ?? c.y, dOut = act?.gy ?? c.gy

        let data = BatchNormBackwardData(prefix: p, channels: ch, gamma: gamma, dOut: dOut, out: out, x: c.x,
                                         activation: act?.activation)
        func rowPointers(_ w: CodeWriter, _ names: [(String, String, Int)]) {
            for (n, base, size) in names { w.line("let \(n) = \(base) + lo * \(size) + r * \(ch)") }
        }

        m.chunkFunction("\(p)SumMean", comment: "\(hdr); training pass 1: per-chunk sums of x") { w in
            w.line("let s = \(part) + t * \(2 * ch)")
            emitChannelLoops(w, rows: rows, channels: ch, pre: { l in
                for j in 0..<l.count { w.line("var s\(j): \(l.type) = \(l.zero)") }
            }, body: { l in
                rowPointers(w, [("xr", c.x, c.inSize)])
                for j in 0..<l.count { w.line("s\(j) += \(l.load("xr", j))") }
            }, post: { l in
                for j in 0..<l.count { w.line(l.store("s", j, "s\(j)")) }
            })
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
            emitChannelLoops(w, rows: rows, channels: ch, pre: { l in
                for j in 0..<l.count { w.line("var s\(j): \(l.type) = \(l.zero)"); w.line("let m\(j) = \(l.load(mean, j))") }
            }, body: { l in
                rowPointers(w, [("xr", c.x, c.inSize)])
                for j in 0..<l.count { w.line("let d\(j) = \(l.load("xr", j)) - m\(j)"); w.line("s\(j) += d\(j) * d\(j)") }
            }, post: { l in
                for j in 0..<l.count { w.line(l.store("s", j, "s\(j)")) }
            })
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
        let normalizeWhat = "xhat = (x - mean) * inv, y = \(act.map { "\($0.name)(gamma * xhat + beta), written as that layer's output" } ?? "gamma * xhat + beta")"
        m.chunkFunction("\(p)Normalize", comment: "\(c.name) training pass 3: \(normalizeWhat)") { w in
            emitChannelLoops(w, rows: rows, channels: ch, pre: { l in
                for j in 0..<l.count {
                    w.line("let m\(j) = \(l.load(mean, j)), k\(j) = \(l.load(inv, j))")
                    if let g = gamma { w.line("let ga\(j) = \(l.load(g, j))") }
                    if let b = beta { w.line("let be\(j) = \(l.load(b, j))") }
                }
            }, body: { l in
                rowPointers(w, [("xr", c.x, c.inSize), ("yr", out, c.outSize)])
                for j in 0..<l.count {
                    w.line("let v\(j) = (\(l.load("xr", j)) - m\(j)) * k\(j)")
                    let epi = act.flatMap { SIMDText.epilogue(l.width, "y\(j)", $0.activation) }
                    w.line("\(epi == nil ? "let" : "var") y\(j) = \(gamma != nil ? "ga\(j) * v\(j)" : "v\(j)")\(beta != nil ? " + be\(j)" : "")")
                    if let e = epi { w.line(e) }
                    w.line(l.store("yr", j, "y\(j)"))
                }
            }, post: { _ in })
        }
        m.chunkFunction("\(p)Inference", comment: "\(c.name) inference: y = (x - moving_mean) / sqrt(moving_var + eps) * gamma + beta") { w in
            w.line("let mm = \(mm), mv = \(mv)")
            w.line("let sc = \(part) + t * \(2 * ch), sh = sc + \(ch)   // this chunk's scale and shift")
            w.block("for c in 0..<\(ch)") {
                w.line("let k = \(gamma.map { "\($0)[c] / " } ?? "1 / ")(mv[c] + \(eps)).squareRoot()")
                w.line("sc[c] = k")
                w.line("sh[c] = \(beta.map { "\($0)[c]" } ?? "0") - mm[c] * k")
            }
            emitChannelLoops(w, rows: rows, channels: ch, pre: { l in
                for j in 0..<l.count { w.line("let k\(j) = \(l.load("sc", j)), b\(j) = \(l.load("sh", j))") }
            }, body: { l in
                rowPointers(w, [("xr", c.x, c.inSize), ("yr", c.y, c.outSize)])
                for j in 0..<l.count { w.line(l.store("yr", j, "\(l.load("xr", j)) * k\(j) + b\(j)")) }
            }, post: { _ in })
        }
        let sumsWhat = act.map { "sums of dy and dy * xhat, dy = d\($0.name) * \($0.name)'(out)" } ?? "sums of dy and dy * xhat"
        m.chunkFunction("\(p)BackwardSums", comment: "\(c.name) backward pass 1: per-chunk \(sumsWhat)") { w in
            w.line("let s = \(part) + t * \(2 * ch)")
            emitChannelLoops(w, rows: rows, channels: ch, maxVectors: 4, pre: { l in
                for j in 0..<l.count {
                    w.line("var sy\(j): \(l.type) = \(l.zero), sx\(j): \(l.type) = \(l.zero)")
                    w.line("let m\(j) = \(l.load(mean, j)), iv\(j) = \(l.load(inv, j))")
                }
            }, body: { l in
                rowPointers(w, [("dyr", dOut, c.outSize), ("xr", c.x, c.inSize)] + (act != nil ? [("yr", out, c.outSize)] : []))
                for j in 0..<l.count {
                    data.emitDy(w, l, j)
                    w.line("sy\(j) += g\(j)")
                    w.line("sx\(j) += g\(j) * ((\(l.load("xr", j)) - m\(j)) * iv\(j))")
                }
            }, post: { l in
                for j in 0..<l.count { w.line(l.store("s", j, "sy\(j)")); w.line(l.store("(s + \(ch))", j, "sx\(j)")) }
            })
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
        if let gx = c.gx, !dataInProducer {
            m.chunkFunction("\(p)BackwardData", comment: "\(c.name) backward pass 2: dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat))") { w in
                data.emit(w, rows: rows, dOutBase: "\(dOut) + lo * \(c.outSize)", outBase: "\(out) + lo * \(c.outSize)",
                          xBase: "\(c.x) + lo * \(c.inSize)", dxBase: "\(gx) + lo * \(c.inSize)")
            }
            back.append(.chunk("\(p)BackwardData(lo, hi, t)"))
        }
        let train: [Step] = [.chunk("\(p)SumMean(lo, hi, t)"), .serial("\(p)ReduceMean()"),
                             .chunk("\(p)SumVar(lo, hi, t)"), .serial("\(p)ReduceVar()"),
                             .chunk("\(p)Normalize(lo, hi, t)")]
        return (train, [.chunk("\(p)Inference(lo, hi, t)")], back)
    }
}

/// BatchNorm backward pass 2 over `rows` rows from the given base pointers:
///   dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat = (x - mean) * inv,
///   dy = dOut * act'(out) when an activation is fused.
/// Run by the layer over its chunk, or by the producer Conv2D on one image at a time.
struct BatchNormBackwardData {
    let prefix: String
    let channels: Int
    let gamma: String?
    let dOut: String
    let out: String
    let x: String
    let activation: EpilogueActivation?

    /// `let gN = dy` for vector j of row r (act' applied when an activation is fused).
    func emitDy(_ w: CodeWriter, _ l: ChannelLanes, _ j: Int) {
        w.line("\(activation == nil ? "let" : "var") g\(j) = \(l.load("dyr", j))")
        if let a = activation {
            w.line("let o\(j) = \(l.load("yr", j))")
            w.line(SIMDText.backward(l.width, "g\(j)", y: "o\(j)", a))
        }
    }

    func emit(_ w: CodeWriter, rows: String, dOutBase: String, outBase: String, xBase: String, dxBase: String) {
        let p = prefix, ch = channels
        emitChannelLoops(w, rows: rows, channels: ch, maxVectors: 4, pre: { l in
            for j in 0..<l.count {
                w.line("let iv\(j) = \(l.load("\(p)inv", j)), m\(j) = \(l.load("\(p)mean", j))")
                w.line("let k\(j) = \(gamma != nil ? "\(l.load(gamma!, j)) * " : "")iv\(j)")
                w.line("let my\(j) = \(l.load("\(p)mdy", j)), mx\(j) = \(l.load("\(p)mdx", j))")
            }
        }, body: { l in
            w.line("let dyr = \(dOutBase) + r * \(ch), xr = \(xBase) + r * \(ch), dxr = \(dxBase) + r * \(ch)")
            if activation != nil { w.line("let yr = \(outBase) + r * \(ch)") }
            for j in 0..<l.count {
                emitDy(w, l, j)
                w.line(l.store("dxr", j, "k\(j) * (g\(j) - my\(j) - ((\(l.load("xr", j)) - m\(j)) * iv\(j)) * mx\(j))"))
            }
        }, post: { _ in })
    }
}
