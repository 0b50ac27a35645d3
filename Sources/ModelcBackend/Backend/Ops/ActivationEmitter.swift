// Standalone activation layers (Activation, ReLU, LeakyReLU, Softmax not at the end), and the
// activation code shared by Conv2D/Dense/Separable/Depthwise when it is not a register epilogue.
//   forward:  y = f(x)                     elementwise, softmax over the last axis
//   backward: dx = dy * f'(y)              computed from the output y;
//             softmax (full Jacobian):     dx = y * (dy - sum(dy * y)) per row

import ModelcCore

enum ActivationCode {
    /// Expression of f(v).
    static func forwardExpr(_ a: Activation, _ v: String) -> String {
        switch a {
        case .linear: return v
        case .relu: return "max(\(v), 0)"
        case .leakyRelu(let al): return "(\(v) < 0 ? \(v) * \(floatLiteral(al)) : \(v))"
        case .sigmoid: return "(1 / (1 + exp(-\(v))))"
        case .tanh: return "tanh(\(v))"
        case .elu(let al): return "(\(v) > 0 ? \(v) : \(floatLiteral(al)) * (exp(\(v)) - 1))"
        case .softmax: return v   // handled per row
        }
    }

    /// Expression of dy * f'(x) given y = f(x).
    static func backwardExpr(_ a: Activation, dy: String, y: String) -> String {
        switch a {
        case .linear: return dy
        case .relu: return "(\(y) > 0 ? \(dy) : 0)"
        case .leakyRelu(let al): return "(\(y) > 0 ? \(dy) : \(dy) * \(floatLiteral(al)))"
        case .sigmoid: return "\(dy) * \(y) * (1 - \(y))"
        case .tanh: return "\(dy) * (1 - \(y) * \(y))"
        case .elu(let al): return "(\(y) > 0 ? \(dy) : \(dy) * (\(y) + \(floatLiteral(al))))"
        case .softmax: return dy
        }
    }

    /// y[lo..<hi images] = f(x[...]); x and y may be the same buffer.
    static func emitForward(_ w: CodeWriter, _ a: Activation, x: String, y: String, size: Int, channels: Int) {
        w.line("let ax = \(x) + lo * \(size)")
        w.line("let ay = \(y) + lo * \(size)")
        if case .softmax = a {
            w.block("for r in 0..<(hi - lo) * \(size / max(channels, 1))") {
                w.line("let xr = ax + r * \(channels)")
                w.line("let yr = ay + r * \(channels)")
                w.line("var mx = -Float.infinity")
                w.line("for c in 0..<\(channels) { mx = max(mx, xr[c]) }")
                w.line("var sum: Float = 0")
                w.line("for c in 0..<\(channels) { let e = exp(xr[c] - mx); yr[c] = e; sum += e }")
                w.line("let inv = 1 / sum")
                w.line("for c in 0..<\(channels) { yr[c] *= inv }")
            }
        } else {
            w.line("for i in 0..<(hi - lo) * \(size) { let v = ax[i]; ay[i] = \(forwardExpr(a, "v")) }")
        }
    }

    /// dx[lo..<hi] = dy * f'(y); dx and dy may be the same buffer.
    static func emitBackward(_ w: CodeWriter, _ a: Activation, dy: String, y: String, dx: String, size: Int, channels: Int) {
        w.line("let bdy = \(dy) + lo * \(size)")
        w.line("let by = \(y) + lo * \(size)")
        w.line("let bdx = \(dx) + lo * \(size)")
        if case .softmax = a {
            w.block("for r in 0..<(hi - lo) * \(size / max(channels, 1))") {
                w.line("let o = r * \(channels)")
                w.line("var dot: Float = 0")
                w.line("for c in 0..<\(channels) { dot += bdy[o + c] * by[o + c] }")
                w.line("for c in 0..<\(channels) { bdx[o + c] = by[o + c] * (bdy[o + c] - dot) }")
            }
        } else {
            w.line("for i in 0..<(hi - lo) * \(size) { let g = bdy[i]; let v = by[i]; bdx[i] = \(backwardExpr(a, dy: "g", y: "v")) }")
        }
    }
}

struct ActivationEmitter: OpEmitter {
    let activation: Activation

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let ch = c.outShape.last ?? 1
        let f = "\(c.prefix)Forward", b = "\(c.prefix)Backward"
        m.chunkFunction(f, comment: "\(c.header): y = \(activation.name)(x)") { w in
            ActivationCode.emitForward(w, activation, x: c.x, y: c.y, size: c.outSize, channels: ch)
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction(b, comment: "\(c.header) backward: dx = dy * \(activation.name)'(y)") { w in
                ActivationCode.emitBackward(w, activation, dy: c.gy, y: c.y, dx: gx, size: c.outSize, channels: ch)
            }
            back = [.chunk("\(b)(lo, hi, t)")]
        }
        return ([.chunk("\(f)(lo, hi, t)")], [.chunk("\(f)(lo, hi, t)")], back)
    }
}
