// LayerNormalization, GroupNorm and Keras's fixed Normalization (IR/Normalization.swift): one
// call per chunk of the runtime's kernels (Sources/ModelcRuntime/Kernels/LayerNorm.swift).
//   layer / group forms: [N, .., C] seen as samples [S, P, C] with G groups (GroupNormGeometry):
//     forward   y = (x - mean) * inv * gamma + beta per sample and group; (mean, inv) kept in
//               the layer's stats buffer [N, samples per image, G, 2]
//     backward  dgamma, dbeta into this chunk's partials; dx from the two sums per group
//   fixed form: y = (x - mean[c]) / max(sqrt(variance[c]), 1e-7); dx = dy / the same; no
//     parameter gradient (mean, variance and count are not trained)
// Training and inference run the same forward.

import ModelcCore

struct NormalizationEmitter: OpEmitter {
    let attrs: NormAttrs

    /// Samples per image, positions per sample, channels, groups.
    func geometry(_ c: LayerContext) -> (samples: Int, positions: Int, channels: Int, groups: Int) {
        let ch = c.inShape.last ?? 1
        switch attrs.form {
        case .lastAxis, .fixed: return (c.inSize / ch, 1, ch, 1)
        case .wholeSample: return (1, 1, c.inSize, 1)
        case .groups(let g): return (1, c.inSize / ch, ch, g)
        }
    }

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        attrs.form == .fixed ? emitFixed(c, m) : emitGroups(c, m)
    }

    func emitFixed(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let p = c.prefix, (rows, _, ch, _) = geometry(c), n = c.inSize
        m.chunkFunction("\(p)Forward", comment: "\(c.header): (x - mean) / max(sqrt(variance), 1e-7) per channel") { w in
            w.line("FixedNormalization.forward(\(c.x) + lo * \(n), \(c.y) + lo * \(n), rows: (hi - lo) * \(rows), channels: \(ch), mean: \(c.param(.mean)), variance: \(c.param(.variance)))")
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dx = dy / max(sqrt(variance), 1e-7)") { w in
                w.line("FixedNormalization.backward(\(c.gy) + lo * \(n), dx: \(gx) + lo * \(n), rows: (hi - lo) * \(rows), channels: \(ch), variance: \(c.param(.variance)))")
            }
            back = [.chunk("\(p)Backward(lo, hi, t)")]
        }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        return (f, f, back)
    }

    func emitGroups(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let p = c.prefix, g = geometry(c), n = c.inSize
        let statsPerImage = g.samples * g.groups * 2
        let geometryLine = "let g = GroupNormGeometry(positions: \(g.positions), channels: \(g.channels), groups: \(g.groups), epsilon: \(floatLiteral(attrs.epsilon)))"
        m.buffer("\(p)stats", perImage: statsPerImage, "\(c.name) (mean, inv) per sample and group")
        let gamma = attrs.scale ? c.param(.gamma) : "nil", beta = attrs.center ? c.param(.beta) : "nil"
        m.chunkFunction("\(p)Forward", comment: "\(c.header): \(attrs.description)") { w in
            w.line(geometryLine)
            w.line("GroupNorm.forward(\(c.x) + lo * \(n), \(c.y) + lo * \(n), samples: (hi - lo) * \(g.samples), g, gamma: \(gamma), beta: \(beta), stats: \(p)stats + lo * \(statsPerImage))")
        }
        let affine = attrs.form == .wholeSample ? n : g.channels
        let tensors = [(ParamTensor.Role.gamma, attrs.scale), (.beta, attrs.center)].filter(\.1).map(\.0)
        for r in tensors { m.reduceRanges.append((c.paramOffsets[r] ?? 0, affine)) }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        guard c.gx != nil || !tensors.isEmpty else { return (f, f, []) }
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dgamma, dbeta (this chunk's partials)\(c.gx != nil ? ", dx" : "")") { w in
            w.line(geometryLine)
            w.line("let gp = partials + t * \(c.parameterCount)")
            for r in tensors { w.line("for i in 0..<\(affine) { \(c.grad(r))[i] = 0 }") }
            let dx = c.gx.map { "\($0) + lo * \(n)" } ?? "nil"
            let dGamma = attrs.scale ? c.grad(.gamma) : "nil", dBeta = attrs.center ? c.grad(.beta) : "nil"
            w.line("GroupNorm.backward(\(c.gy) + lo * \(n), \(c.x) + lo * \(n), dx: \(dx), samples: (hi - lo) * \(g.samples), g, gamma: \(gamma), stats: \(p)stats + lo * \(statsPerImage), dGamma: \(dGamma), dBeta: \(dBeta))")
        }
        return (f, f, [.chunk("\(p)Backward(lo, hi, t)")])
    }
}
