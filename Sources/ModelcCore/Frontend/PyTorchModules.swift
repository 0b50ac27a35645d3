// PyTorchModules: the supported torch.nn module classes and the reading of their repr
// arguments (modern keyword form, short positional form, pre-0.4 forms) into PTOp; the
// argument readers are in PyTorchModuleArgs.swift.

enum PTOp: Equatable {
    /// Conv2d; groups 1, or depthwise: groups = cin, cout a multiple of it.
    case conv(cin: Int, cout: Int, kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int, same: Bool, dh: Int, dw: Int, bias: Bool, groups: Int)
    case linear(inF: Int, outF: Int, bias: Bool)
    /// dims: 1 (BatchNorm1d) or 2 (BatchNorm2d); channels nil when unknown (torchsummary rows).
    case batchNorm(channels: Int?, eps: Float, momentum: Float, affine: Bool, dims: Int)
    /// MaxPool2d / AvgPool2d; pad nil: unpadded, floor mode.
    case maxPool(kh: Int, kw: Int, sh: Int, sw: Int, pad: PoolPadding?)
    case avgPool(kh: Int, kw: Int, sh: Int, sw: Int, pad: PoolPadding?)
    case adaptiveAvgPool(oh: Int, ow: Int)
    case adaptiveMaxPool(oh: Int, ow: Int)
    case relu, sigmoid, tanh, identity
    /// min(max(x, 0), max): ReLU6 (max 6), ONNX Clip(0, max).
    case cappedRelu(Float)
    /// SiLU, GELU, Hardswish, Hardsigmoid, SELU, Softplus, Softsign, Mish (PyTorchSmoothActivations.swift).
    case smooth(Activation)
    /// `dim` as given (nil: not given, PyTorch's implicit choice).
    case softmax(dim: Int?), logSoftmax(dim: Int?)
    case leakyRelu(Float)
    case elu(Float)
    case dropout(Float, spatial: Bool)
    case flatten
    case zeroPad(left: Int, right: Int, top: Int, bottom: Int)
    /// Conv1d on a sequence [C, L]: kernel k, stride s, padding p (or 'same'), dilation d.
    case conv1d(cin: Int, cout: Int, k: Int, s: Int, p: Int, same: Bool, d: Int, bias: Bool)
    /// MaxPool1d / AvgPool1d; pad nil: unpadded, floor mode.
    case pool1d(max: Bool, k: Int, s: Int, pad: PoolPadding?)
    /// AdaptiveMaxPool1d / AdaptiveAvgPool1d to `out` steps (whole windows).
    case adaptivePool1d(max: Bool, out: Int)
    /// ConvTranspose2d: padding p, output padding op (PyTorch's output size rule).
    case convTranspose(cin: Int, cout: Int, kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int, oph: Int, opw: Int, bias: Bool)
    /// Upsample / UpsamplingNearest2d, mode 'nearest': whole scale factors, or (`toSize`) the output size.
    case upsample(h: Int, w: Int, toSize: Bool)
    /// Upsample mode 'bilinear' (align_corners=False: the repr does not print it, so an
    /// annotation confirms it; PyTorchBuilder.applyOverrides).
    case upsampleBilinear(h: Int, w: Int, toSize: Bool)
    /// ZeroPad1d / ConstantPad1d(value=0) on a sequence [C, L].
    case zeroPad1d(left: Int, right: Int)
    /// LayerNorm over `shape` (PyTorch order) and GroupNorm (PyTorchNorm.swift).
    case layerNorm(shape: [Int], eps: Float, scale: Bool, center: Bool)
    case groupNorm(groups: Int, channels: Int, eps: Float, scale: Bool, center: Bool)
    /// nn.LSTM / nn.GRU / nn.RNN (PyTorchRecurrent.swift), and what forward keeps of its output.
    case recurrent(cell: RecurrentCell, input: Int, hidden: Int, layers: Int, bias: Bool, dropout: Float, bidirectional: Bool,
                   output: TorchRecurrentOutput)
    /// nn.Embedding, or nn.EmbeddingBag when `bag` is set (PyTorchEmbedding.swift).
    case embedding(num: Int, dim: Int, padding: Int?, bag: EmbeddingBagMode?, sparse: Bool)

    var hasParams: Bool {
        switch self { case .conv, .linear, .batchNorm, .conv1d, .convTranspose, .recurrent, .embedding: return true; default: return false }
    }
    var isLinear: Bool { if case .linear = self { return true }; return false }
    /// A convolution (2-D, 1-D or transposed): the modules an assumed activation follows.
    var isConvolution: Bool {
        switch self { case .conv, .conv1d, .convTranspose: return true; default: return false }
    }
    var isActivation: Bool {
        switch self { case .relu, .cappedRelu, .sigmoid, .tanh, .leakyRelu, .elu, .smooth: return true; default: return false }
    }
    var isPool: Bool {
        switch self { case .maxPool, .avgPool, .pool1d: return true; default: return false }
    }
}

enum PyTorchModules {
    static let supported = ["Conv2d", "Linear", "BatchNorm2d", "BatchNorm1d", "MaxPool2d", "AvgPool2d",
                            "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "ReLU", "ReLU6", "LeakyReLU", "ELU", "Sigmoid",
                            "Tanh", "Softmax", "LogSoftmax", "Dropout", "Dropout1d", "Dropout2d", "Flatten", "ZeroPad2d", "Identity",
                            "Conv1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "ConvTranspose2d",
                            "Upsample", "UpsamplingNearest2d", "ZeroPad1d", "ConstantPad1d", "ConstantPad2d",
                            "LayerNorm", "GroupNorm", "LSTM", "GRU", "RNN", "Embedding", "EmbeddingBag"]
        + PyTorchSmoothActivations.modules
    static var supportedList: String { supported.joined(separator: ", ") }

    /// Reads one leaf module. Throws for unsupported classes and unreadable arguments.
    static func op(_ m: PTModule, doc: Document) throws -> PTOp {
        let r = PTModuleArgs(m, doc: doc)
        switch m.type {
        case "Conv2d": return try conv(r)
        case "Linear": return try linear(r)
        case "BatchNorm2d", "BatchNorm1d": return try batchNorm(r)
        case "MaxPool2d", "AvgPool2d": return try pool(r)
        case "AdaptiveAvgPool2d", "AdaptiveMaxPool2d":
            let o = try r.pair(["output_size"], 0, nil)
            guard o.0 > 0, o.1 > 0, o.0 <= 4096, o.1 <= 4096 else { throw r.err("output_size \(o.0)x\(o.1): expected 1...4096") }
            return m.type == "AdaptiveAvgPool2d" ? .adaptiveAvgPool(oh: o.0, ow: o.1) : .adaptiveMaxPool(oh: o.0, ow: o.1)
        case "ReLU": return .relu
        case "ReLU6": return .cappedRelu(6)
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        case "Identity": return .identity
        case "Softmax", "LogSoftmax":
            let dim = r.a.keyword["dim"] == "None" ? nil : (r.a.keyword["dim"] != nil || !r.a.positional.isEmpty ? try r.int("dim", 0) : nil)
            return m.type == "Softmax" ? .softmax(dim: dim) : .logSoftmax(dim: dim)
        case "LeakyReLU":
            // checked here too, not only in PyTorchBuilder.append: the call-order retries drop
            // a top-level activation module they cannot place
            let slope = try r.float("negative_slope", 0, 0.01)
            guard slope >= 0 else { throw r.err("negative_slope=\(slope): only a slope >= 0 is supported") }
            return .leakyRelu(slope)
        case "ELU": return .elu(try r.float("alpha", 0, 1.0))
        case "Dropout", "Dropout1d", "Dropout2d":
            let p = try r.float("p", 0, 0.5)
            guard p >= 0, p < 1 else { throw r.err("p=\(p): expected 0 <= p < 1") }
            return .dropout(p, spatial: m.type != "Dropout")
        case "Flatten":
            let s = try r.int("start_dim", 0, 1)
            let e = try r.int("end_dim", 1, -1)
            guard s == 1, e == -1 else { throw r.err("only Flatten(start_dim=1, end_dim=-1) is supported") }
            return .flatten
        case "ZeroPad2d": return try zeroPad(r)
        case "ZeroPad1d", "ConstantPad1d", "ConstantPad2d": return try constantPad(r)
        case "Conv1d": return try conv1d(r)
        case "MaxPool1d", "AvgPool1d": return try pool1d(r)
        case "AdaptiveAvgPool1d", "AdaptiveMaxPool1d":
            let o = try r.pair(["output_size"], 0, nil)
            guard o.0 == o.1, o.0 > 0, o.0 <= 4096 else { throw r.err("output_size=\(o.0): expected one size from 1 to 4096") }
            return .adaptivePool1d(max: m.type == "AdaptiveMaxPool1d", out: o.0)
        case "ConvTranspose2d": return try convTranspose(r)
        case "Upsample", "UpsamplingNearest2d": return try upsample(r)
        case "LayerNorm": return try layerNorm(r)
        case "GroupNorm": return try groupNorm(r)
        case "LSTM", "GRU", "RNN": return try recurrent(r, cell: recurrentTypes[m.type] ?? .lstm)
        case "Embedding", "EmbeddingBag": return try embedding(r, bag: m.type == "EmbeddingBag")
        default:
            if let op = try PyTorchSmoothActivations.op(m.type, r) { return op }
            throw r.err("module class \(m.type) is not supported (supported: \(supportedList))")
        }
    }

    /// Conv2d: sizes as N or (H, W), padding as numbers or 'same'/'valid'; groups 1 or depthwise
    /// (groups = in_channels), zero padding only.
    static func conv(_ r: PTModuleArgs) throws -> PTOp {
        let a = r.a, m = r.module
        let cin = try r.int("in_channels", 0), cout = try r.int("out_channels", 1)
        let k = try r.pair(["kernel_size"], 2, nil)
        let s = try r.pair(["stride"], 3, (1, 1))
        var same = false
        var p = (0, 0)
        if let v = a.keyword["padding"], v.contains("same") || v.contains("valid") {
            same = v.contains("same")
        } else {
            p = try r.pair(["padding"], 4, (0, 0))
        }
        let d = try r.pair(["dilation"], 5, (1, 1))
        try checkPaddingMode(r, position: 8)
        guard cin > 0, cout > 0, k.0 > 0, k.1 > 0, s.0 > 0, s.1 > 0, p.0 >= 0, p.1 >= 0, d.0 > 0, d.1 > 0,
              cin <= 65536, cout <= 65536, k.0 <= 64, k.1 <= 64, p.0 <= 1024, p.1 <= 1024,
              s.0 <= 1024, s.1 <= 1024, d.0 <= 64, d.1 <= 64 else { throw r.err("implausible sizes in '\(m.args)'") }
        let groups = try r.int("groups", 6, 1)
        guard groups == 1 || (groups == cin && cout % cin == 0) else {
            throw r.err("groups=\(groups): only depthwise grouped convolutions (groups = in_channels = \(cin), out_channels a multiple of it) are supported")
        }
        if groups > 1 && d != (1, 1) { throw r.err("dilation=\(d.0 == d.1 ? "\(d.0)" : "(\(d.0), \(d.1))") with groups=\(groups): dilated depthwise convolutions are not supported") }
        if same && s != (1, 1) { throw r.err("padding='same' with stride \(s.0 == s.1 ? "\(s.0)" : "(\(s.0), \(s.1))"): PyTorch refuses padding='same' for strided convolutions") }
        return .conv(cin: cin, cout: cout, kh: k.0, kw: k.1, sh: s.0, sw: s.1, ph: p.0, pw: p.1, same: same,
                     dh: d.0, dw: d.1, bias: try r.bool("bias", true, position: 7), groups: groups)
    }

    /// Linear, in the modern form or the pre-0.4 "IN -> OUT".
    static func linear(_ r: PTModuleArgs) throws -> PTOp {
        let a = r.a, m = r.module
        var inF: Int, outF: Int
        if a.positional.count == 1, a.keyword.isEmpty, a.positional[0].contains("->") {
            // Pre-0.4: "400 -> 120".
            let parts = a.positional[0].components(separatedBy: "->").map { $0.trimmed }
            guard parts.count == 2, let i = Int(parts[0]), let o = Int(parts[1]) else { throw r.err("expected 'IN -> OUT', found '\(m.args)'") }
            inF = i; outF = o
        } else {
            inF = try r.int("in_features", 0); outF = try r.int("out_features", 1)
        }
        guard inF > 0, outF > 0, inF <= TableScanner.maxDim, outF <= TableScanner.maxDim else { throw r.err("implausible sizes in '\(m.args)'") }
        return .linear(inF: inF, outF: outF, bias: try r.bool("bias", true))
    }

    /// BatchNorm2d and BatchNorm1d with running statistics.
    static func batchNorm(_ r: PTModuleArgs) throws -> PTOp {
        let c = try r.int("num_features", 0)
        guard c > 0, c <= TableScanner.maxDim else { throw r.err("implausible channel count \(c)") }
        let mom = try r.float("momentum", 2, 0.1)
        guard mom >= 0, mom <= 1 else { throw r.err("momentum=\(mom): expected 0...1") }
        let eps = try r.float("eps", 1, 1e-5)
        guard eps > 0 else { throw r.err("eps=\(eps): must be > 0") }
        if let t = r.a.keyword["track_running_stats"], PTArgs.bool(t) == false {
            throw r.err("track_running_stats=False (batch statistics at inference) is not supported")
        }
        return .batchNorm(channels: c, eps: eps, momentum: mom, affine: try r.bool("affine", true),
                          dims: r.module.type == "BatchNorm2d" ? 2 : 1)
    }

    /// MaxPool2d and AvgPool2d: padding, ceil_mode and count_include_pad as PyTorch's; no dilation.
    static func pool(_ r: PTModuleArgs) throws -> PTOp {
        let a = r.a, m = r.module
        let k = try r.pair(["kernel_size", "size"], 0, nil)
        let s = try r.pair(["stride"], 1, k)
        let p = try r.pair(["padding"], 2, (0, 0))
        if m.type == "MaxPool2d", try r.pair(["dilation"], 3, (1, 1)) != (1, 1) {
            throw r.err("dilation=\(a.keyword["dilation"] ?? a.positional[3]): dilated pooling is not supported")
        }
        guard k.0 > 0, k.1 > 0, s.0 > 0, s.1 > 0, p.0 >= 0, p.1 >= 0, k.0 <= 1024, k.1 <= 1024, s.0 <= 1024, s.1 <= 1024 else {
            throw r.err("implausible sizes in '\(m.args)'")
        }
        let pad = try poolPadding(r, h: (k.0, p.0), w: (k.1, p.1), ceilPosition: m.type == "MaxPool2d" ? 5 : 3)
        return m.type == "MaxPool2d" ? .maxPool(kh: k.0, kw: k.1, sh: s.0, sw: s.1, pad: pad)
                                     : .avgPool(kh: k.0, kw: k.1, sh: s.0, sw: s.1, pad: pad)
    }

    /// A pool's padding, ceil_mode and (AvgPool) count_include_pad, or nil for neither padding
    /// nor ceil mode. PyTorch refuses padding over half the window (a window of padding only).
    static func poolPadding(_ r: PTModuleArgs, h: (k: Int, p: Int), w: (k: Int, p: Int), ceilPosition: Int) throws -> PoolPadding? {
        if r.module.type.hasPrefix("AvgPool"), let v = r.a.keyword["divisor_override"] ?? (r.a.positional.count > 5 ? r.a.positional[5] : nil),
           v != "None" {
            throw r.err("divisor_override=\(v) is not supported (modelc divides by the window)")
        }
        let ceil = try r.bool("ceil_mode", false, position: ceilPosition)
        guard h.p > 0 || w.p > 0 || ceil else { return nil }
        guard h.p <= h.k / 2, w.p <= w.k / 2 else {
            throw r.err("padding=\(h.p == w.p ? "\(h.p)" : "(\(h.p), \(w.p))") is more than half the window \(h.k == w.k ? "\(h.k)" : "(\(h.k), \(w.k))") (PyTorch refuses it)")
        }
        let counted = r.module.type.hasPrefix("AvgPool") ? try r.bool("count_include_pad", true, position: ceilPosition + 1) : false
        return PoolPadding(h: h.p, w: w.p, ceilMode: ceil, countIncludePad: counted)
    }

    /// ZeroPad2d: one number for all sides, or (left, right, top, bottom).
    static func zeroPad(_ r: PTModuleArgs) throws -> PTOp {
        let m = r.module
        let v = m.args.components(separatedBy: "padding=").last ?? m.args
        if v.contains("-") { throw r.err("negative padding in '\(m.args)' (a crop) is not supported") }
        let nums = v.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard nums.allSatisfy({ $0 <= 4096 }) else { throw r.err("implausible padding in '\(m.args)'") }
        if nums.count == 1 { return .zeroPad(left: nums[0], right: nums[0], top: nums[0], bottom: nums[0]) }
        guard nums.count == 4 else { throw r.err("expected padding=(left, right, top, bottom)") }
        return .zeroPad(left: nums[0], right: nums[1], top: nums[2], bottom: nums[3])
    }
}
