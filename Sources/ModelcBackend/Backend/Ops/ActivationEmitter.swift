// Standalone activation layers (Activation, ReLU, LeakyReLU, Softmax not at the end), and the
// activation calls shared by Conv2D/Dense/Separable/Depthwise when it is not a register epilogue:
// one call of the runtime's element-wise kernels (Sources/ModelcRuntime/Kernels/Elementwise.swift)
// per chunk of images (per image inside a parallel region's image loop, Emitter.emitRegion).
//   forward:  y = f(x)                     elementwise, softmax over the last axis
//   backward: dx = dy * f'(y)              computed from the output y;
//             dx = dy * f'(x)              from the input x for silu, gelu, hard_swish and mish
//                                          (`needsInput`: always a layer of their own,
//                                          Passes/ActivationSplit.swift);
//             softmax (full Jacobian):     dx = y * (dy - sum(dy * y)) per row

import ModelcCore

enum ActivationCode {
    /// The runtime's `ActivationFunction` for `a` (softmax over rows of `channels`).
    static func function(_ a: Activation, channels: Int) -> String {
        switch a {
        case .linear: return ".linear"
        case .relu: return ".relu"
        case .leakyRelu(let al): return ".leaky(\(floatLiteral(al)))"
        case .sigmoid: return ".sigmoid"
        case .tanh: return ".tanh"
        case .elu(let al): return ".elu(\(floatLiteral(al)))"
        case .cappedRelu(let m): return ".capped(\(floatLiteral(m)))"
        case .softmax: return ".softmax(channels: \(max(channels, 1)))"
        case .silu: return ".silu"
        case .gelu(let t): return t ? ".geluTanh" : ".gelu"
        case .hardSigmoid(let a, let b): return ".hardSigmoid(\(floatLiteral(a)), \(floatLiteral(b)))"
        case .hardSwish: return ".hardSwish"
        case .selu: return ".selu"
        case .softplus: return ".softplus"
        case .softsign: return ".softsign"
        case .mish: return ".mish"
        }
    }

    /// y[lo..<hi images] = f(x[...]); x and y may be the same buffer.
    static func emitForward(_ w: CodeWriter, _ a: Activation, x: String, y: String, size: Int, channels: Int) {
        w.line("Activations.forward(\(function(a, channels: channels)), \(x) + lo * \(size), \(y) + lo * \(size), count: (hi - lo) * \(size))")
    }

    /// dx[lo..<hi] = dy * f'(y); dx and dy may be the same buffer. An activation that
    /// `needsInput` never reaches here: it is its own layer (ActivationSplit), whose emitter
    /// passes its input.
    static func emitBackward(_ w: CodeWriter, _ a: Activation, dy: String, y: String, dx: String, size: Int, channels: Int) {
        precondition(!a.needsInput, "\(a.name) folded into a layer: ActivationSplit gives it a layer of its own")
        w.line("Activations.backward(\(function(a, channels: channels)), dy: \(dy) + lo * \(size), y: \(y) + lo * \(size), dx: \(dx) + lo * \(size), count: (hi - lo) * \(size))")
    }

    /// dx[lo..<hi] = dy * f'(x) for an activation that `needsInput`, from its input x.
    static func emitBackwardFromInput(_ w: CodeWriter, _ a: Activation, dy: String, x: String, dx: String, size: Int) {
        w.line("Activations.backwardFromInput(\(function(a, channels: 1)), dy: \(dy) + lo * \(size), x: \(x) + lo * \(size), dx: \(dx) + lo * \(size), count: (hi - lo) * \(size))")
    }
}

extension EpilogueActivation {
    /// The runtime's `GemmEpilogue.Activation` (also the pooling kernels' activation argument).
    var argument: String {
        switch self {
        case .none: return ".none"
        case .relu: return ".relu"
        case .leaky(let a): return ".leaky(\(floatLiteral(a)))"
        case .capped(let m): return ".capped(\(floatLiteral(m)))"
        case .hardSwish: return ".hardSwish"
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
            if activation.needsInput {
                m.chunkFunction(b, comment: "\(c.header) backward: dx = dy * \(activation.name)'(x)") { w in
                    ActivationCode.emitBackwardFromInput(w, activation, dy: c.gy, x: c.x, dx: gx, size: c.outSize)
                }
            } else {
                m.chunkFunction(b, comment: "\(c.header) backward: dx = dy * \(activation.name)'(y)") { w in
                    ActivationCode.emitBackward(w, activation, dy: c.gy, y: c.y, dx: gx, size: c.outSize, channels: ch)
                }
            }
            back = [.imageLocal("\(b)(lo, hi, t)", floats: c.outSize)]
        }
        return ([.imageLocal("\(f)(lo, hi, t)", floats: c.outSize)], [.chunk("\(f)(lo, hi, t)")], back)
    }
}
