// KerasConfigConv: the convolution layers of a Keras config (Conv2D, SeparableConv2D,
// DepthwiseConv2D, Conv2DTranspose, Conv1D, SeparableConv1D) as resolved ops with Keras's output sizes.
//
// Before: one layer's config and its input shape.
// After:  its kind, op and output shape; every hyperparameter from the config's keys
//         (kernel_size, strides, padding, dilation_rate, filters / depth_multiplier, use_bias,
//         activation, Conv1D / SeparableConv1D causal padding, Conv2DTranspose output_padding);
//         grouped and channels-first convolutions are errors.
// A Conv1D (SeparableConv1D) is the Conv2D (SeparableConv2D) of a 1 x L image: kernel, stride
// and dilation one row high.

enum KerasConfigConv {
    static let maxKernel = 1 << 12

    static func image(_ kind: LayerKind, _ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        let c = l.config
        guard s.count == 3 else { throw fail("needs an image input (height, width, channels) but gets \(Inference.shapeText(s))") }
        var a = try attrs(c, kind: kind, spatial: 2, channels: s[2], keras3: l.keras3)
        let mult = kind == .separableConv2D || kind == .depthwiseConv2D ? try c.required("depth_multiplier").int(min: 1, max: 1 << 16) : 1
        if kind == .depthwiseConv2D { a.filters = s[2] * mult }
        if kind == .conv2DTranspose {
            guard a.dilationH == 1, a.dilationW == 1 else { throw try c.required("dilation_rate").error("a dilated Conv2DTranspose is not supported") }
            let op = try outputPadding(c, a, input: s)
            let out = TransposedConv.outputShape(a, input: s, outputPadding: (op[0], op[1]))
            return (kind, .conv2dTranspose(a, outputPaddingH: op[0], outputPaddingW: op[1]), out)
        }
        let out = try spatial(a, s[0], s[1], fail: fail)
        switch kind {
        case .separableConv2D: return (kind, .separableConv2d(a, depthMultiplier: mult), [out.0, out.1, a.filters])
        case .depthwiseConv2D: return (kind, .depthwiseConv2d(a, depthMultiplier: mult), [out.0, out.1, a.filters])
        default: return (kind, .conv2d(a), [out.0, out.1, a.filters])
        }
    }

    static func sequence(_ kind: LayerKind, _ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        guard s.count == 2 else { throw fail("needs a sequence input (steps, channels) but gets \(Inference.shapeText(s))") }
        let a = try attrs(l.config, kind: kind, spatial: 1, channels: s[1], keras3: l.keras3)
        let out = try spatial(a, 1, s[0], fail: fail)
        guard kind == .separableConv1D else { return (.conv1D, .conv2d(a), [out.1, a.filters]) }
        if a.dilationW != 1 { throw try l.config.required("dilation_rate").error("a dilated SeparableConv1D is not supported") }
        let mult = try l.config.required("depth_multiplier").int(min: 1, max: 1 << 16)
        return (kind, .separableConv2d(a, depthMultiplier: mult), [out.1, a.filters])
    }

    /// Conv2DTranspose `output_padding`: null (the default sizes) or a value per dimension below
    /// the stride. A 0 is Keras's (n - 1)*s + k - 2*pad, which modelc states only when it equals
    /// the default size (TransposedConv.swift: op 0 is the default).
    static func outputPadding(_ c: JNode, _ a: Conv2DAttrs, input s: [Int]) throws -> [Int] {
        guard let node = try c.present("output_padding") else { return [0, 0] }
        let op = try node.ints(2, min: 0, max: maxKernel)
        for (i, (k, st, n)) in [(a.kernelH, a.strideH, s[0]), (a.kernelW, a.strideW, s[1])].enumerated() {
            guard op[i] < st else { throw node.fail("output paddings below the strides \(a.strideH)x\(a.strideW)") }
            let keras = (n - 1) * st + k - (a.padding == .valid ? 0 : 2 * (k / 2))
            if op[i] == 0 && keras != TransposedConv.outDim(n, k: k, s: st, a.padding) {
                throw node.error("output_padding 0 that shortens the output to \(keras) (from \(TransposedConv.outDim(n, k: k, s: st, a.padding))) is not supported")
            }
        }
        return op
    }

    /// The attributes every convolution config carries; 1-D ones lifted to one row high.
    static func attrs(_ c: JNode, kind: LayerKind, spatial n: Int, channels: Int, keras3: Bool) throws -> Conv2DAttrs {
        var k = try c.required("kernel_size").ints(n, max: maxKernel)
        var st = try c.required("strides").ints(n, max: maxKernel)
        var d = try c.present("dilation_rate")?.ints(n, max: maxKernel) ?? Array(repeating: 1, count: n)
        if n == 1 { k = [1] + k; st = [1] + st; d = [1] + d }
        let pad = try KerasConfigLayers.paddingMode(c.required("padding"), causal: kind == .conv1D || kind == .separableConv1D)
        if let g = try c.present("groups"), try g.int(min: 1) != 1 { throw g.error("grouped convolutions (groups=\(try g.int())) are not supported") }
        if d.contains(where: { $0 > 1 }) && st.contains(where: { $0 > 1 }) {
            throw try c.required("strides").error("strides > 1 with dilation_rate > 1 (Keras refuses this combination)")
        }
        let filters = kind == .depthwiseConv2D ? channels : try c.required("filters").int(min: 1, max: ResourceLimits.maxDimension)
        var a = Conv2DAttrs(kernelH: k[0], kernelW: k[1], strideH: st[0], strideW: st[1], padding: pad, filters: filters,
                            useBias: try c.required("use_bias").bool(), activation: try KerasConfigLayers.activation(c.required("activation"), keras3: keras3))
        a.dilationH = d[0]; a.dilationW = d[1]
        return a
    }

    /// Output height and width (TF rules, dilated kernels at their effective extent).
    static func spatial(_ a: Conv2DAttrs, _ h: Int, _ w: Int, fail: (String) -> ModelError) throws -> (Int, Int) {
        let kh = (a.kernelH - 1) * a.dilationH + 1, kw = (a.kernelW - 1) * a.dilationW + 1
        let oh = Inference.outDim(h, k: kh, s: a.strideH, a.padding), ow = Inference.outDim(w, k: kw, s: a.strideW, a.padding)
        guard oh > 0, ow > 0 else {
            throw fail("a \(kh)x\(kw) (effective) kernel does not fit the input \(h)x\(w) with '\(a.padding.rawValue)' padding")
        }
        return (oh, ow)
    }
}
