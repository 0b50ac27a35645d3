// Describe: short human-readable summaries of resolved ops ("7x7 s1 valid, no bias"), used
// by the check report's Inferred column and by inference notes.

enum Describe {
    static func num(_ x: Float) -> String {
        if x == x.rounded(), abs(x) < 1e7 { return String(Int(x)) }
        return "\(x)"
    }

    /// "3x3 s1 valid, bias"; a 1-D layer's one size: "3 s1 valid, bias".
    static func conv(_ a: Conv2DAttrs, mult: Int?, oneD: Bool = false) -> String {
        var s = oneD ? "\(a.kernelW)" : "\(a.kernelH)x\(a.kernelW)"
        if oneD && a.dilationW != 1 { s += " d\(a.dilationW)" }
        if !oneD && (a.dilationH != 1 || a.dilationW != 1) { s += " d\(a.dilationH)" + (a.dilationH == a.dilationW ? "" : "x\(a.dilationW)") }
        s += oneD ? " s\(a.strideW)" : " s\(a.strideH)" + (a.strideH == a.strideW ? "" : "x\(a.strideW)")
        if let ph = a.explicitPadH, let pw = a.explicitPadW {
            s += oneD ? " pad \(pw)" : " pad \(ph)" + (ph == pw ? "" : "x\(pw)")
        } else {
            s += " \(a.padding.rawValue)"
        }
        if let m = mult { s += ", multiplier \(m)" }
        s += a.useBias ? ", bias" : ", no bias"
        return s
    }

    static func pool(_ a: PoolAttrs, oneD: Bool = false) -> String {
        let head = oneD ? "\(a.poolW) s\(a.strideW)" : "\(a.poolH)x\(a.poolW) s\(a.strideH)" + (a.strideH == a.strideW ? "" : "x\(a.strideW)")
        guard let e = a.explicit else { return head + " \(a.padding.rawValue)" }
        return head + " " + poolPadding(e, oneD: oneD)
    }

    /// "pad 1", "pad 1x0", "pad 0,1,0,1" (top, left, bottom, right), then "ceil" and "counting padding".
    static func poolPadding(_ e: PoolPadding, oneD: Bool) -> String {
        var s: String
        if oneD { s = e.left == e.right ? "pad \(e.left)" : "pad \(e.left),\(e.right)" }
        else if e.top == e.bottom && e.left == e.right { s = "pad \(e.top)" + (e.top == e.left ? "" : "x\(e.left)") }
        else { s = "pad \(e.top),\(e.left),\(e.bottom),\(e.right)" }
        if e.ceilMode { s += " ceil" }
        if e.countIncludePad { s += " counting padding" }
        return s
    }

    static func activation(_ a: Activation) -> String {
        switch a {
        case .leakyRelu(let x): return "leaky_relu alpha=\(num(x))"
        case .elu(let x): return "elu alpha=\(num(x))"
        case .cappedRelu(let m): return m == 6 ? "relu6" : "relu max_value=\(num(m))"
        case .gelu(true): return "gelu approximate=tanh"
        case .hardSigmoid(let s, let o) where s != 1 / 6 || o != 0.5: return "hard_sigmoid slope=\(num(s)) offset=\(num(o))"
        default: return a.name
        }
    }

    /// PyTorch momentum (weight of the batch statistic) = 1 - Keras momentum, rounded to 6 digits.
    static func torchMomentum(_ a: BatchNormAttrs) -> String {
        let m = (Double(1 - a.momentum) * 1e6).rounded() / 1e6
        return m == m.rounded() ? String(Int(m)) : "\(m)"
    }

    /// `oneD`: a 1-D layer's op (sizes printed once).
    static func op(_ op: Op, semantics: Semantics, oneD: Bool = false) -> String {
        guard semantics == .pytorch else { return self.op(op, oneD: oneD) }
        switch op {
        case .conv2d(let a):
            var s = oneD ? "\(a.kernelW) s\(a.strideW)" : "\(a.kernelH)x\(a.kernelW) s\(a.strideH)" + (a.strideH == a.strideW ? "" : "x\(a.strideW)")
            if let ph = a.explicitPadH, let pw = a.explicitPadW {
                s += oneD ? " pad \(pw)" : " pad \(ph)" + (ph == pw ? "" : "x\(pw)")
            } else {
                s += " \(a.padding.rawValue)"
            }
            if a.dilationH != 1 || a.dilationW != 1 { s += " d\(oneD ? a.dilationW : a.dilationH)" }
            return s + (a.useBias ? ", bias" : ", no bias") + act(a.activation)
        case .conv2dTranspose(let a, let oph, let opw):
            return conv(a, mult: nil) + (oph != 0 || opw != 0 ? ", output padding \(oph)x\(opw)" : "") + act(a.activation)
        case .batchNorm(let a):
            return (a.scale ? "affine" : "no affine") + ", eps \(num(a.epsilon)), momentum \(torchMomentum(a))"
        case .flatten: return "CHW order (NCHW)"
        default: return self.op(op, oneD: oneD)
        }
    }

    static func op(_ op: Op, oneD: Bool = false) -> String {
        switch op {
        case .input: return ""
        case .zeroPadding(let t, let b, let l, let r): return oneD ? "pad (\(l), \(r))" : "pad ((\(t), \(b)), (\(l), \(r)))"
        case .conv2d(let a): return conv(a, mult: nil, oneD: oneD) + act(a.activation)
        case .conv2dTranspose(let a, let oph, let opw):
            return conv(a, mult: nil) + (oph != 0 || opw != 0 ? ", output padding \(oph)x\(opw)" : "") + act(a.activation)
        case .upSampling(let h, let w): return oneD ? "size \(w)" : "size \(h)x\(w), nearest"
        case .upSamplingBilinear(let h, let w): return "size \(h)x\(w), bilinear"
        case .cropping(let t, let b, let l, let r): return oneD ? "crop (\(l), \(r))" : "crop ((\(t), \(b)), (\(l), \(r)))"
        case .repeatVector(let n): return "n \(n)"
        case .permute(let d): return "dims (" + d.map(String.init).joined(separator: ", ") + ")"
        case .recurrent(let a): return a.description
        case .embedding(let v, let d, let p): return "vocabulary \(v), dim \(d)" + (p.map { ", padding_idx \($0)" } ?? "")
        case .embeddingBag(let a): return a.description
        case .merge(let k): return k.name
        case .masking(let v): return "mask_value \(num(v))"
        case .normalization(let a): return a.description
        case .multiHeadAttention(let a): return a.description
        case .augment(let a): return a.description + " (training only)"
        case .resize(let h, let w): return "to \(h)x\(w), bilinear"
        case .separableConv2d(let a, let m), .depthwiseConv2d(let a, let m): return conv(a, mult: m, oneD: oneD) + act(a.activation)
        case .batchNorm(let a):
            let sc = a.scale && a.center ? "scale+center" : a.scale ? "scale only" : a.center ? "center only" : "no scale/center"
            return "\(sc), eps \(num(a.epsilon))"
        case .maxPool(let a), .avgPool(let a): return pool(a, oneD: oneD)
        case .globalAvgPool, .globalMaxPool: return ""
        case .activation(let a): return activation(a)
        case .dropout(let r, let spatial): return "rate \(num(r))" + (spatial ? ", whole channels" : "")
        case .flatten: return "HWC order"
        case .reshape(let t): return "to " + Inference.shapeText(t)
        case .dense(_, let b, let a): return (b ? "bias" : "no bias") + act(a)
        case .lambda(let f):
            switch f {
            case .standardize(let m, let s): return "standardize (x - \(num(m))) / \(num(s))"
            case .affine(let s, let o): return "affine x * \(num(s)) + \(num(o))"
            case .identity: return "identity"
            }
        }
    }

    static func act(_ a: Activation) -> String { a == .linear ? "" : ", " + activation(a) }
}
