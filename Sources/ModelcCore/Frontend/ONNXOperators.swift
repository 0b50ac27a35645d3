// ONNXOperators: one ONNX chain step to modelc layers, with the exact attributes of the node.
// Conv (group 1, or depthwise: group = input channels), ConvTranspose, Gemm, MatMul (+ Add),
// BatchNormalization, LayerNormalization (opset 17, or decomposed: ONNXDecomposedLayerNorm.swift), Relu, LeakyRelu, Sigmoid, Tanh, Elu, Softmax, LogSoftmax, MaxPool,
// AveragePool, GlobalAveragePool, GlobalMaxPool, Flatten, Reshape (to [N, features]), Dropout,
// Identity (no layer), Pad (constant zero), Resize / Upsample (nearest, whole factors); LSTM,
// GRU, RNN, an Embedding's Gather, ReduceMean / ReduceMax over a sequence's steps or an
// image's pixels (ONNXRecurrent.swift); the merge operators (Add, Concat, ...) are in ONNXMerge.swift.
// What modelc cannot compute exactly is refused: asymmetric pads are exact only for Conv (a
// zero-padding layer, then the unpadded convolution; auto_pad SAME_UPPER / SAME_LOWER become
// explicit pads computed from the input size); padded or dilated pooling,
// grouped (non-depthwise) convolutions, Gemm with alpha/beta/transA, other axes are errors.

import ModelcData
import ModelcModelFiles

enum ONNXOperators {
    static let supported = ["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
                            "Elu", "Clip", "Softmax", "LogSoftmax", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten",
                            "Reshape", "Dropout", "Identity", "Pad", "Resize", "Upsample", "LayerNormalization", "LSTM", "GRU", "RNN",
                            "Gather (an Embedding)", "ReduceMean and ReduceMax (over a sequence's steps or an image's pixels)",
                            "Squeeze (of the graph output's last axis of size 1)"] + smoothOperators + ONNXChain.mergeOps.sorted()

    /// Largest kernel, stride, dilation, padding or scale factor accepted (keeps every size product far from overflow).
    static let maxAttribute = 1 << 16

    struct Step {
        let s: ONNXStep
        let chain: ONNXChain
        let doc: Document
        var node: ONNXNode { s.node }

        func err(_ m: String) -> ModelError { ModelError(file: chain.file, line: nil, message: "layer '\(s.name)' (\(s.opType)): \(m)") }

        func int(_ name: String, _ def: Int) -> Int { node.attributes[name]?.i ?? def }
        func float(_ name: String, _ def: Float) -> Float { node.attributes[name]?.f ?? def }
        func string(_ name: String, _ def: String) -> String { node.attributes[name]?.s ?? def }

        /// An int list attribute of `count` values in `range` (default: `def` repeated).
        func ints(_ name: String, count: Int, def: Int, range: ClosedRange<Int>) throws -> [Int] {
            guard let a = node.attributes[name], !a.ints.isEmpty else { return Array(repeating: def, count: count) }
            guard a.ints.count == count, a.ints.allSatisfy({ range.contains($0) }) else {
                throw err("\(name) \(a.ints): expected \(count) values in \(range.lowerBound)...\(range.upperBound)")
            }
            return a.ints
        }

        func constant(_ k: Int) -> ONNXTensor? { s.constants[k] }
    }

    static func unsupported(_ st: Step) -> ModelError {
        ModelError(file: st.chain.file, line: nil, message: "layer '\(st.s.name)' (\(st.s.opType)) is not supported (supported ONNX operators: \(supported.joined(separator: ", ")))")
    }

    /// The step's name; a step without parameters avoids the names of those with them.
    static func layerName(_ s: ONNXStep, avoiding paramNames: Set<String>) -> String {
        var name = s.name, k = 2
        if !s.hasParameters { while paramNames.contains(name) { name = "\(s.name)_\(k)"; k += 1 } }
        return name
    }

    static func append(_ s: ONNXStep, to c: inout PyTorchBuilder.Chain, chain: ONNXChain, avoiding paramNames: Set<String>,
                       doc: Document) throws {
        let st = Step(s: s, chain: chain, doc: doc)
        let name = layerName(s, avoiding: paramNames)
        func add(_ op: PTOp, note: String? = nil) throws {
            try PyTorchBuilder.append(PTStep(name: name, op: op, line: s.index), kind: s.opType, to: &c, doc: doc,
                                      notes: note.map { [$0] } ?? [])
        }
        switch s.opType {
        case "LSTM", "GRU", "RNN": try recurrent(st, name: name, to: &c)
        case "Gather" where s.node.rewrite == .embedding: try embedding(st, name: name, to: &c)
        case "ReduceMean", "ReduceMax": try reduce(st, name: name, to: &c)
        case "Conv": try conv(st, name: name, to: &c)
        case "ConvTranspose": try add(try convTranspose(st))
        case "Gemm", "MatMul": try add(try linear(st))
        case "BatchNormalization":
            try add(try batchNorm(st, input: c.shape), note: s.node.decomposed.isEmpty ? nil : "Unsqueeze, BatchNormalization, Squeeze: one BatchNorm of the features")
        case "LayerNormalization": try add(try layerNorm(st, input: c.shape, sequence: c.recurrentSequence != nil), note: decomposedNote(st))
        case "Relu": try add(.relu)
        case "Sigmoid": try add(.sigmoid)
        case "Tanh": try add(.tanh)
        case "LeakyRelu": try add(.leakyRelu(st.float("alpha", 0.01)))   // >= 0: PyTorchBuilder.append
        case "Elu": try add(.elu(st.float("alpha", 1.0)))
        case "Clip": try add(try clip(st))
        case _ where smoothOperators.contains(s.opType): try add(try smooth(st), note: smoothNote(st))
        case "Softmax", "LogSoftmax":
            let axis = st.int("axis", (chain.model.opset ?? 13) >= 13 ? -1 : 1)
            let note = s.node.decomposed.isEmpty ? nil : s.node.decomposed.joined(separator: ", ") + ": one \(s.opType)"
            if c.shape.count == 3, c.shape[0] == 1, c.shape[1] == 1, axis == 1 || axis == -3 {
                // Over the channels of a 1 x 1 image (a classifier ending in global pooling): flatten first.
                try PyTorchBuilder.append(PTStep(name: name + "_flatten", op: .flatten, line: s.index), kind: "Flatten", to: &c, doc: doc,
                                          notes: ["the 1 x 1 image before \(s.opType) over its channels"])
                return try add(s.opType == "Softmax" ? .softmax(dim: 1) : .logSoftmax(dim: 1), note: note)
            }
            guard c.shape.count == 1, axis == 1 || axis == -1 else {
                throw st.err("softmax over axis \(axis) of \(PyTorchBuilder.chw(c.shape)): only the class axis of a vector [N, K] is supported")
            }
            try add(s.opType == "Softmax" ? .softmax(dim: 1) : .logSoftmax(dim: 1), note: note)
        case "MaxPool", "AveragePool": try add(try pool(st, input: c.shape))
        case "GlobalAveragePool", "GlobalMaxPool":
            let avg = s.opType == "GlobalAveragePool"
            try add(c.shape.count == 2 ? .adaptivePool1d(max: !avg, out: 1) : avg ? .adaptiveAvgPool(oh: 1, ow: 1) : .adaptiveMaxPool(oh: 1, ow: 1))
        case "Flatten":
            guard st.int("axis", 1) == 1 else { throw st.err("axis \(st.int("axis", 1)): only axis 1 (keep the batch) is supported") }
            if c.shape.count > 1 { try add(.flatten) }
        case "Reshape": if try reshapeFlattens(st, input: c.shape) { try add(.flatten) }
        case "Dropout":
            let ratio = try st.constant(1)?.floats().first ?? st.float("ratio", 0.5)
            guard ratio >= 0, ratio < 1 else { throw st.err("ratio \(ratio): expected 0 <= ratio < 1") }
            try add(.dropout(ratio, spatial: false), note: "Dropout: identity at inference, inverted dropout in training")
        case "Identity": break
        case "Squeeze": try finalSqueeze(st, to: &c)
        case "Pad": try add(try pad(st))
        case "Resize", "Upsample": try add(try upsample(st))
        default:
            throw unsupported(st)
        }
    }

    /// A regression head's [N, 1] squeezed to [N] as the graph output (y.squeeze(-1)): each
    /// example's one value, computed as [N, 1]; any other Squeeze of a computed tensor is an error.
    static func finalSqueeze(_ st: Step, to c: inout PyTorchBuilder.Chain) throws {
        let axes = try st.constant(1)?.ints() ?? st.node.attributes["axes"]?.ints
        guard st.s.output == st.chain.output.name, c.shape == [1], axes == nil || axes == [1] || axes == [-1], !c.layers.isEmpty else {
            throw st.err("axes \(axes.map { "\($0)" } ?? "(all of size 1)") of \(PyTorchBuilder.chw(c.shape)): only the graph output's last axis of size 1 ([N, 1] to [N], a regression head's value) is squeezed")
        }
        c.layers[c.layers.count - 1].notes.append("then Squeeze: the graph output '\(st.s.output)' is [N]; modelc computes it as [N, 1]")
    }

    // MARK: - Convolutions

    /// Conv: group 1 or depthwise; pads symmetric, or asymmetric through a zero-padding layer.
    static func conv(_ st: Step, name: String, to c: inout PyTorchBuilder.Chain) throws {
        let w = try weight(st)
        guard w.dims.count == 4 || w.dims.count == 3 else { throw st.err("weight dims \(w.dims): expected [O, I, kh, kw] or [O, I, k]") }
        let r = w.dims.count - 2
        let k = Array(w.dims[2...])
        if let ks = st.node.attributes["kernel_shape"]?.ints, !ks.isEmpty, ks != k { throw st.err("kernel_shape \(ks) differs from the weight's \(k)") }
        let strides = try st.ints("strides", count: r, def: 1, range: 1...maxAttribute)
        let dil = try st.ints("dilations", count: r, def: 1, range: 1...maxAttribute)
        var pads = try st.ints("pads", count: 2 * r, def: 0, range: 0...maxAttribute)
        let group = st.int("group", 1)
        guard (1...maxAttribute).contains(group) else { throw st.err("group=\(group): expected 1...\(maxAttribute)") }
        let bias = st.constant(2) != nil
        let (cout, cin) = (w.dims[0], w.dims[1] * group)
        guard k.allSatisfy({ (1...maxAttribute).contains($0) }) else { throw st.err("kernel \(k): expected sizes 1...\(maxAttribute)") }
        guard c.shape.count == r + 1 else { throw st.err("needs an input of \(r) spatial dimensions, found \(PyTorchBuilder.chw(c.shape))") }
        try autoPad(st, &pads, input: c.shape, extents: (0..<r).map { (k[$0] - 1) * dil[$0] + 1 }, strides: strides)
        func add(_ op: PTOp) throws {
            try PyTorchBuilder.append(PTStep(name: name, op: op, line: st.s.index), kind: "Conv", to: &c, doc: st.doc)
        }
        if r == 1 {
            guard group == 1 else { throw st.err("group=\(group): grouped 1-D convolutions are not supported") }
            guard pads[0] == pads[1] else { throw st.err("asymmetric pads \(pads) of a 1-D convolution are not supported") }
            return try add(.conv1d(cin: cin, cout: cout, k: k[0], s: strides[0], p: pads[0], same: false, d: dil[0], bias: bias))
        }
        if pads[0] != pads[2] || pads[1] != pads[3] {
            // ONNX pads are [top, left, bottom, right]: zero padding first, then the unpadded convolution.
            try PyTorchBuilder.append(PTStep(name: name + "_pad", op: .zeroPad(left: pads[1], right: pads[3], top: pads[0], bottom: pads[2]), line: st.s.index),
                                      kind: "Pad", to: &c, doc: st.doc, notes: ["the asymmetric pads \(pads) of Conv '\(name)'"])
            pads = [0, 0, 0, 0]
        }
        guard group == 1 || (w.dims[1] == 1 && cout % group == 0 && c.shape.count == 3 && c.shape[2] == group) else {
            throw st.err("group=\(group) with weight dims \(w.dims): grouped convolutions are supported only as depthwise (group = input channels)")
        }
        try add(PTOp.conv(cin: cin, cout: cout, kh: k[0], kw: k[1], sh: strides[0], sw: strides[1], ph: pads[0], pw: pads[1],
                          same: false, dh: dil[0], dw: dil[1], bias: bias, groups: group))
    }

    static func weight(_ st: Step) throws -> ONNXTensor {
        guard let w = st.constant(1) else { throw st.err("expected the weight as an initializer") }
        return w
    }

    static func convTranspose(_ st: Step) throws -> PTOp {
        let w = try weight(st)
        guard w.dims.count == 4 else { throw st.err("weight dims \(w.dims): expected [I, O, kh, kw]") }
        guard st.int("group", 1) == 1 else { throw st.err("group=\(st.int("group", 1)): grouped transposed convolutions are not supported") }
        guard st.node.attributes["output_shape"] == nil else { throw st.err("output_shape is not supported (give pads and output_padding)") }
        guard st.string("auto_pad", "NOTSET") == "NOTSET" else { throw st.err("auto_pad \(st.string("auto_pad", "")) is not supported") }
        guard try st.ints("dilations", count: 2, def: 1, range: 1...1) == [1, 1] else { throw st.err("dilated transposed convolutions are not supported") }
        let s = try st.ints("strides", count: 2, def: 1, range: 1...maxAttribute)
        let p = try st.ints("pads", count: 4, def: 0, range: 0...maxAttribute)
        let op = try st.ints("output_padding", count: 2, def: 0, range: 0...maxAttribute)
        guard p[0] == p[2], p[1] == p[3] else { throw st.err("asymmetric pads \(p) are not supported") }
        guard w.dims[2...].allSatisfy({ (1...maxAttribute).contains($0) }) else { throw st.err("kernel \(Array(w.dims[2...])) is not supported") }
        return .convTranspose(cin: w.dims[0], cout: w.dims[1], kh: w.dims[2], kw: w.dims[3], sh: s[0], sw: s[1], ph: p[0], pw: p[1],
                              oph: op[0], opw: op[1], bias: st.constant(2) != nil)
    }

    /// Gemm (Y = X B' + C, B' = B or Bᵀ) or MatMul with an optional bias Add: a Linear layer.
    static func linear(_ st: Step) throws -> PTOp {
        let b = try weight(st)
        guard b.dims.count == 2 else { throw st.err("weight dims \(b.dims): expected a matrix") }
        if st.s.opType == "Gemm" {
            guard st.float("alpha", 1) == 1, st.float("beta", 1) == 1, st.int("transA", 0) == 0 else {
                throw st.err("alpha \(st.float("alpha", 1)), beta \(st.float("beta", 1)), transA \(st.int("transA", 0)): only alpha = beta = 1, transA = 0 is supported")
            }
        }
        let transB = st.s.opType == "Gemm" && st.int("transB", 0) != 0
        let (inF, outF) = transB ? (b.dims[1], b.dims[0]) : (b.dims[0], b.dims[1])
        let bias = st.s.opType == "Gemm" ? st.constant(2) : st.s.addConstant
        if let t = bias, t.dims != [outF], t.dims != [1, outF] {
            throw st.err("bias '\(t.name)' dims \(t.dims): expected [\(outF)] (broadcast biases are not supported)")
        }
        return .linear(inF: inF, outF: outF, bias: bias != nil)
    }

    static func batchNorm(_ st: Step, input: [Int]) throws -> PTOp {
        guard st.int("training_mode", 0) == 0, st.int("spatial", 1) == 1 else { throw st.err("training_mode / spatial=0 graphs are not supported") }
        let eps = st.float("epsilon", 1e-5), m = st.float("momentum", 0.9)
        guard eps > 0, m >= 0, m <= 1 else { throw st.err("epsilon \(eps), momentum \(m): expected epsilon > 0 and 0 <= momentum <= 1") }
        guard let scale = st.constant(1), scale.dims.count == 1 else { throw st.err("expected a scale initializer of one dimension") }
        // ONNX momentum is the running statistics' own weight (Keras style); PyTorch's is 1 - it.
        return .batchNorm(channels: scale.dims[0], eps: eps, momentum: 1 - m, affine: true, dims: input.count == 3 ? 2 : 1)
    }

    /// LayerNormalization (opset 17): over the axes from `axis` to the last, as PyTorch's
    /// nn.LayerNorm with that normalized_shape (PyTorchNorm.normalizationOp says which modelc
    /// computes: a vector's features, or a whole [C, H, W] / [C, L] sample). Scale (and B) are
    /// initializers; the Mean and InvStdDev outputs must be unused.
    static func layerNorm(_ st: Step, input: [Int], sequence: Bool = false) throws -> PTOp {
        if !st.node.decomposed.isEmpty { return try decomposedLayerNorm(st, input: input, sequence: sequence) }
        let rank = input.count + 1
        let axis = st.int("axis", -1), a = axis < 0 ? axis + rank : axis
        guard a >= 1, a < rank else { throw st.err("axis \(axis): expected an axis after the batch one of a rank-\(rank) input") }
        let eps = st.float("epsilon", 1e-5)
        guard eps > 0 else { throw st.err("epsilon \(eps): expected epsilon > 0") }
        guard st.node.outputs.dropFirst().allSatisfy(\.isEmpty) else { throw st.err("the Mean and InvStdDev outputs are not supported") }
        let torch = PyTorchBuilder.torchOrder(input, sequence: sequence)
        let shape = Array(torch[(a - 1)...])
        guard let scale = st.constant(1), scale.dims.reduce(1, *) == shape.reduce(1, *) else {
            throw st.err("expected a Scale initializer of \(shape.reduce(1, *)) values (the normalized shape \(shape))")
        }
        if let b = st.constant(2), b.dims.reduce(1, *) != shape.reduce(1, *) { throw st.err("bias B dims \(b.dims): expected \(shape)") }
        return .layerNorm(shape: shape, eps: eps, scale: true, center: st.constant(2) != nil)
    }

    /// auto_pad applied to `pads` ([begin..., end...] over the spatial axes of `input`, [spatial..., C]):
    /// NOTSET keeps them, VALID zeroes them, SAME_UPPER/SAME_LOWER give output ceil(n / stride)
    /// with the odd extra row or column at the end (UPPER) or start (LOWER).
    static func autoPad(_ st: Step, _ pads: inout [Int], input: [Int], extents: [Int], strides: [Int]) throws {
        let r = extents.count
        switch st.string("auto_pad", "NOTSET") {
        case "NOTSET": break
        case "VALID": pads = Array(repeating: 0, count: 2 * r)
        case let mode where mode.hasPrefix("SAME_"):
            for i in 0..<r {
                let n = input[i], out = (n + strides[i] - 1) / strides[i]
                let total = max((out - 1) * strides[i] + extents[i] - n, 0)
                let small = total / 2
                (pads[i], pads[i + r]) = mode == "SAME_UPPER" ? (small, total - small) : (total - small, small)
            }
        default: throw st.err("auto_pad \(st.string("auto_pad", "")): expected NOTSET, VALID, SAME_UPPER or SAME_LOWER")
        }
    }

    // MARK: - Pooling, reshaping, padding, resizing

    /// MaxPool / AveragePool: pads, auto_pad, ceil_mode (a last window starting in the end
    /// padding is dropped, as the spec and PyTorch say) and count_include_pad (default 0).
    static func pool(_ st: Step, input: [Int]) throws -> PTOp {
        let r = input.count == 2 ? 1 : 2
        guard input.count == r + 1 else { throw st.err("needs an image or a sequence input, found \(PyTorchBuilder.chw(input))") }
        let k = try st.ints("kernel_shape", count: r, def: 0, range: 1...maxAttribute)
        guard k.allSatisfy({ $0 >= 1 }) else { throw st.err("expected kernel_shape") }
        let s = try st.ints("strides", count: r, def: 1, range: 1...maxAttribute)
        var pads = try st.ints("pads", count: 2 * r, def: 0, range: 0...maxAttribute)
        try autoPad(st, &pads, input: input, extents: k, strides: s)
        guard (0..<r).allSatisfy({ pads[$0] < k[$0] && pads[$0 + r] < k[$0] }) else {
            throw st.err("pads \(pads): every pad must be smaller than the window \(k), or a window could hold only padding")
        }
        guard try st.ints("dilations", count: r, def: 1, range: 1...1).allSatisfy({ $0 == 1 }) else { throw st.err("dilated pooling is not supported") }
        let ceil = st.int("ceil_mode", 0) != 0
        let counted = st.s.opType == "AveragePool" && st.int("count_include_pad", 0) != 0
        guard st.node.outputs.count < 2 || st.node.outputs[1].isEmpty else { throw st.err("the Indices output is not supported") }
        let full = r == 1 ? [0, pads[0], 0, pads[1]] : pads   // top, left, bottom, right
        let pad = PoolPadding(top: full[0], left: full[1], bottom: full[2], right: full[3], ceilMode: ceil, countIncludePad: counted).nilIfTrivial
        if r == 1 { return .pool1d(max: st.s.opType == "MaxPool", k: k[0], s: s[0], pad: pad) }
        return st.s.opType == "MaxPool" ? .maxPool(kh: k[0], kw: k[1], sh: s[0], sw: s[1], pad: pad)
                                         : .avgPool(kh: k[0], kw: k[1], sh: s[0], sw: s[1], pad: pad)
    }

    /// Reshape to [N, features] (a flatten, or nothing on a vector); anything else is refused.
    static func reshapeFlattens(_ st: Step, input: [Int]) throws -> Bool {
        guard let t = st.constant(1) else { throw st.err("expected the target shape as an initializer or Constant (a shape computed at run time is not supported)") }
        let shape = try t.ints()
        let n = input.reduce(1, *)
        // The batch: 0 (copy), 1, -1, or the size computed at run time (ONNXShapeComputation.batch).
        guard shape.count == 2, [0, 1, -1, ONNXShapeComputation.batch].contains(shape[0]), shape[1] == n || (shape[1] == -1 && shape[0] != -1) else {
            let target = shape.map { $0 == ONNXShapeComputation.batch ? "N" : "\($0)" }.joined(separator: ", ")
            throw st.err("reshape of \(PyTorchBuilder.chw(input)) to [\(target)]: only flattening to [N, \(n)] is supported")
        }
        return input.count > 1
    }

    /// Clip(0, max): ReLU6 as torch.onnx exports it (max 6), or a ReLU (no max). min and max are
    /// inputs 1 and 2 from opset 11, attributes before.
    static func clip(_ st: Step) throws -> PTOp {
        func bound(_ input: Int, _ attribute: String, _ def: Float) throws -> Float {
            if let t = st.constant(input) {
                let v = try t.floats()
                guard v.count == 1 else { throw st.err("\(attribute) has \(v.count) values: expected a scalar") }
                return v[0]
            }
            guard st.node.inputs.count <= input || st.node.inputs[input].isEmpty else { throw st.err("\(attribute) computed at run time is not supported") }
            return st.node.attributes[attribute]?.f ?? def
        }
        let lo = try bound(1, "min", -.infinity), hi = try bound(2, "max", .infinity)
        guard lo == 0, hi > 0 else { throw st.err("Clip(\(lo), \(hi)): only Clip(0, max) (a ReLU, or ReLU6 with max 6) is supported") }
        return hi.isInfinite ? .relu : .cappedRelu(hi)
    }

    static func pad(_ st: Step) throws -> PTOp {
        guard st.string("mode", "constant") == "constant" else { throw st.err("mode \(st.string("mode", "")): only constant (zero) padding is supported") }
        let pads = try st.constant(1)?.ints() ?? st.node.attributes["pads"]?.ints ?? []
        // The value: input 2 from opset 11, the `value` attribute before.
        let value = try st.constant(2)?.floats() ?? [st.float("value", 0)]
        if value.contains(where: { $0 != 0 }) { throw st.err("constant value \(value): only zero padding is supported") }
        guard st.constant(3) == nil else { throw st.err("the axes input is not supported") }
        guard pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0, pads.allSatisfy({ (0...maxAttribute).contains($0) }) else {
            throw st.err("pads \(pads): only non-negative padding of the height and width of an image [N, C, H, W] is supported")
        }
        return .zeroPad(left: pads[3], right: pads[7], top: pads[2], bottom: pads[6])
    }

    /// Resize / Upsample, mode nearest, by whole factors, where ONNX's coordinate rule picks
    /// x[h / factor] as PyTorch's nearest upsampling does.
    static func upsample(_ st: Step) throws -> PTOp {
        guard st.string("mode", "nearest") == "nearest" else { throw st.err("mode \(st.string("mode", "")): only nearest is supported") }
        let coord = st.string("coordinate_transformation_mode", "half_pixel"), rounding = st.string("nearest_mode", "round_prefer_floor")
        let exact = st.s.opType == "Upsample" || (coord == "asymmetric" && rounding == "floor")
            || (["half_pixel", "pytorch_half_pixel"].contains(coord) && rounding.hasPrefix("round_prefer"))
        guard exact else { throw st.err("coordinate_transformation_mode \(coord) with nearest_mode \(rounding) is not supported") }
        let oldForm = st.s.opType == "Upsample" || st.node.inputs.count == 2
        var scales = try (oldForm ? st.constant(1) : st.constant(2))?.floats() ?? st.node.attributes["scales"]?.floats ?? []
        if scales.isEmpty, !oldForm, let sizes = try st.constant(3)?.ints() {
            // Resize-18: not_larger / not_smaller change the output size from `sizes`
            let policy = st.string("keep_aspect_ratio_policy", "stretch")
            guard policy == "stretch" else { throw st.err("keep_aspect_ratio_policy \(policy): only stretch (the sizes as given) is supported") }
            guard st.node.attributes["axes"] == nil else { throw st.err("the axes attribute is not supported") }
            guard sizes.count == 4, sizes[2...].allSatisfy({ (1...maxAttribute).contains($0) }) else { throw st.err("sizes \(sizes): expected [N, C, H, W]") }
            return .upsample(h: sizes[2], w: sizes[3], toSize: true)
        }
        guard scales.count == 4, scales[0] == 1, scales[1] == 1, scales[2...].allSatisfy({ $0 >= 1 && $0 <= 1024 && $0 == $0.rounded() }) else {
            throw st.err("scales \(scales): only whole factors [1, 1, sh, sw] of at most 1024 are supported")
        }
        scales = Array(scales[2...])
        return .upsample(h: Int(scales[0]), w: Int(scales[1]), toSize: false)
    }
}
