// Model fingerprint: FNV-1a 64 over a canonical text of the IR's layers (names but the input's, kinds,
// resolved operations, shapes), the input and a channels-first flatten order. Checkpoints and
// weight files carry it; training settings and class names do not change it.

import ModelcCore

public enum Fingerprint {
    public static func of(_ ir: ModelIR) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in canonicalText(ir).utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    public static func canonicalText(_ ir: ModelIR) -> String {
        var s = "modelc-ir-v1\nsemantics \(ir.semantics.rawValue)\ninput \(ir.inputShape)\n"
        if ir.channelsFirst { s += "flatten chw\n" }   // only channels-first Keras tables: older fingerprints stay
        if ir.nhwcFlatten { s += "flatten hwc\n" }     // only ONNX graphs converted from Keras
        for i in ir.inputs ?? [] { s += "input \(i.name) \(i.shape) at \(i.offset)\n" }   // several inputs only
        for l in ir.layers {
            // The input layer holds no tensors: its name ("input", "input_1", "input_layer")
            // does not change the network (a .keras file and its summary table agree).
            var name = l.name
            if case .input = l.op { name = "input" }
            s += "\(name)|\(l.kind)|\(canonical(l.op))|\(l.inputShape)|\(l.outputShape)"
            if let p = l.producers { s += "|from \(p)" }   // graphs only: chain fingerprints stay
            if l.frozen == true { s += "|frozen" }
            if l.readsSteps == true { s += "|steps" }   // ONNX sequences only: other fingerprints stay
            s += "\n"
        }
        return s
    }

    public static func canonical(_ op: Op) -> String {
        func conv(_ a: Conv2DAttrs) -> String {
            var s = "k\(a.kernelH)x\(a.kernelW) s\(a.strideH)x\(a.strideW) \(a.padding.rawValue)"
            if let ph = a.explicitPadH, let pw = a.explicitPadW { s += " pad\(ph)x\(pw)" }
            return s + " f\(a.filters) bias=\(a.useBias) act=\(a.activation.name)"
        }
        func pool(_ p: PoolAttrs) -> String {
            "p\(p.poolH)x\(p.poolW) s\(p.strideH)x\(p.strideW) \(p.padding.rawValue)" + (p.explicit.map { e in
                " pad\(e.top),\(e.left),\(e.bottom),\(e.right)\(e.ceilMode ? " ceil" : "")\(e.countIncludePad ? " counted" : "")"
            } ?? "")
        }
        switch op {
        case .input: return "input"
        case .zeroPadding(let t, let b, let l, let r): return "zeropad \(t) \(b) \(l) \(r)"
        case .conv2d(let a): return "conv2d " + conv(a)
        case .separableConv2d(let a, let m): return "separable " + conv(a) + " mult\(m)"
        case .depthwiseConv2d(let a, let m): return "depthwise " + conv(a) + " mult\(m)"
        case .batchNorm(let a):
            return "batchnorm scale=\(a.scale) center=\(a.center) eps=\(a.epsilon) momentum=\(a.momentum) unbiased=\(a.unbiasedRunningVariance)"
        case .maxPool(let p): return "maxpool " + pool(p)
        case .avgPool(let p): return "avgpool " + pool(p)
        case .globalAvgPool: return "globalavgpool"
        case .globalMaxPool: return "globalmaxpool"
        case .activation(let a): return "activation \(a.name)"
        case .dropout(let r, let spatial): return "dropout \(r)" + (spatial ? " spatial" : "")
        case .flatten: return "flatten"
        case .reshape(let s): return "reshape \(s)"
        case .upSampling(let h, let w): return "upsampling \(h)x\(w) nearest"
        case .upSamplingBilinear(let h, let w): return "upsampling \(h)x\(w) bilinear"
        case .cropping(let t, let b, let l, let r): return "cropping \(t) \(b) \(l) \(r)"
        case .repeatVector(let n): return "repeatvector \(n)"
        case .permute(let d): return "permute \(d)"
        case .recurrent(let a): return "recurrent \(a.cell.rawValue) \(a.units) seq=\(a.returnSequences) biasRows=\(a.biasRows) resetAfter=\(a.resetAfter)\(a.bidirectional.map { " bidirectional=\($0.rawValue)" } ?? "")\(a.torch != nil ? " torch" : "")\(a.mask.map { " mask=\($0.description)" } ?? "")\(a.hardGateSlope.map { " hardGates=\($0)" } ?? "")\(a.activation.map { " act=\($0.rawValue)" } ?? "")\(a.cellDropout.map { " cellDropout=\($0.input),\($0.recurrent),\($0.perGate)" } ?? "")"
        case .embedding(let v, let d, let p): return "embedding \(v)x\(d)" + (p.map { " padding=\($0)" } ?? "")
        case .embeddingBag(let a): return "embeddingbag \(a.vocab)x\(a.dim) \(a.mode.rawValue)" + (a.paddingIdx.map { " padding=\($0)" } ?? "")
        case .merge(let k): return "merge \(k.name)"
        case .normalization(let a): return "normalization \(a.form) scale=\(a.scale) center=\(a.center) eps=\(a.epsilon)"
        case .masking(let v): return "masking \(v)"
        case .augment(let a): return "augment \(a.description)"
        case .resize(let h, let w): return "resize \(h)x\(w)"
        case .multiHeadAttention(let a):
            return "attention heads=\(a.heads) key=\(a.keyDim) value=\(a.valueDim) bias=\(a.useBias) out=\(a.outputDim) dk=\(a.keyFeatures) dv=\(a.valueFeatures) dropout=\(a.dropout) causal=\(a.causal)"
        case .conv2dTranspose(let a, let oph, let opw): return "conv2dtranspose " + conv(a) + " outpad\(oph)x\(opw)"
        case .dense(let u, let b, let a): return "dense \(u) bias=\(b) act=\(a.name)"
        case .lambda(let f):
            switch f {
            case .standardize(let m, let s): return "lambda standardize \(m) \(s)"
            case .affine(let sc, let o): return "lambda affine \(sc) \(o)"
            case .identity: return "lambda identity"
            }
        }
    }
}
