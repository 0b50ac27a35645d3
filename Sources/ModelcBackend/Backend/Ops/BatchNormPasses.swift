// The functions of one BatchNorm layer's passes (the formulas and the training fusion:
// BatchNormEmitter.swift): training statistics (SumMean, ReduceMean, SumVar, ReduceVar),
// Normalize, Inference, and the backward's BackwardSums, BackwardReduce and BackwardData.
// Every pass is a chunk function (rows lo..<hi of the batch) or a serial one between the
// parallel regions, and keeps the channels in SIMD registers (emitChannelLoops).

import ModelcCore

/// One BatchNorm layer's buffer names, parameters and constants, and the emitters of its passes.
struct BatchNormPasses {
    let attrs: BatchNormAttrs
    let c: LayerContext
    /// The activation layer fused into training (BatchNormEmitter.trainActivation).
    let act: (activation: EpilogueActivation, name: String, y: String, gy: String)?
    let ch: Int, pix: Int, p: String
    let part: String, mean: String, inv: String, mdy: String, mdx: String
    let gamma: String?, beta: String?, mm: String, mv: String
    let eps: String, mom: String
    let hdr: String, rows: String
    /// What the training forward writes and the backward reads as dy.
    let out: String, dOut: String
    let data: BatchNormBackwardData

    init(attrs: BatchNormAttrs, c: LayerContext, activation: (activation: EpilogueActivation, name: String, y: String, gy: String)?) {
        self.attrs = attrs
        self.c = c
        act = activation
        ch = c.outShape.last ?? 1
        pix = c.outSize / max(ch, 1)
        p = c.prefix
        part = "\(p)part"; mean = "\(p)mean"; inv = "\(p)inv"; mdy = "\(p)mdy"; mdx = "\(p)mdx"
        gamma = c.has(.gamma) ? c.param(.gamma) : nil
        beta = c.has(.beta) ? c.param(.beta) : nil
        mm = c.param(.movingMean); mv = c.param(.movingVariance)
        eps = floatLiteral(attrs.epsilon); mom = floatLiteral(attrs.momentum)
        hdr = "\(c.header): batch norm over \(ch) channels x \(pix) pixels, eps \(attrs.epsilon), momentum \(attrs.momentum)"
        rows = "(hi - lo) * \(pix)"
        out = act?.y ?? c.y; dOut = act?.gy ?? c.gy
        data = BatchNormBackwardData(prefix: p, channels: ch, gamma: gamma, dOut: dOut, out: out, x: c.x,
                                     activation: act?.activation)
    }

    func declareBuffers(_ m: ModelEmission) {
        m.buffer(part, perImage: 0, perChunk: 2 * ch, "\(c.name) per-chunk partial sums (chunks x 2 x \(ch))")
        m.buffer(mean, perImage: 0, fixed: ch, "\(c.name) batch mean")
        m.buffer(inv, perImage: 0, fixed: ch, "\(c.name) batch 1/sqrt(var + eps)")
        m.buffer(mdy, perImage: 0, fixed: ch, "\(c.name) mean(dy)")
        m.buffer(mdx, perImage: 0, fixed: ch, "\(c.name) mean(dy * xhat)")
    }

    /// `let n = base + lo * size + r * ch` for each row pointer (name, base, floats per image).
    func rowPointers(_ w: CodeWriter, _ names: [(String, String, Int)]) {
        for (n, base, size) in names { w.line("let \(n) = \(base) + lo * \(size) + r * \(ch)") }
    }

    /// Training pass 1 and its reduction: the batch mean.
    func emitMean(_ m: ModelEmission) {
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
    }

    /// Training pass 2 and its reduction: the batch variance, 1/sqrt(var + eps) and the moving
    /// statistics.
    func emitVariance(_ m: ModelEmission) {
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
    }

    /// Training pass 3: y (or act(y), written as the fused activation layer's output).
    func emitNormalize(_ m: ModelEmission) {
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
    }

    /// Inference: this chunk's scale and shift from the moving statistics, then y = x * scale + shift.
    func emitInference(_ m: ModelEmission) {
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
    }

    /// Backward pass 1: per-chunk sums of dy and dy * xhat.
    func emitBackwardSums(_ m: ModelEmission) {
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
    }

    /// The backward's reduction: dgamma, dbeta, mean(dy), mean(dy * xhat).
    func emitBackwardReduce(_ m: ModelEmission) {
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
    }

    /// Backward pass 2 over the layer's chunk, into the input gradient `gx`.
    func emitBackwardData(_ m: ModelEmission, gx: String) {
        m.chunkFunction("\(p)BackwardData", comment: "\(c.name) backward pass 2: dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat))") { w in
            data.emit(w, rows: rows, dOutBase: "\(dOut) + lo * \(c.outSize)", outBase: "\(out) + lo * \(c.outSize)",
                      xBase: "\(c.x) + lo * \(c.inSize)", dxBase: "\(gx) + lo * \(c.inSize)")
        }
    }
}
