// TorchInfoRows: a torchinfo table's rows (TorchInfo.swift) as torchsummary rows, so that
// TorchSummaryBuilder builds the same IR with PyTorch semantics.
//
// Before: the rows as printed: a tree of modules in call order, containers before their
//         children, shapes with the batch dimension.
// After:  one TSRow per layer (the modules without children), named by module path when the
//         table prints variable names (`features.0`) and CLASS-DEPTH-IDX otherwise
//         (`Conv2d-1-1`), shapes without the batch dimension in C, H, W order; the input shape
//         when the table prints an Input Shape column.
//
// Containers: a row followed by deeper rows is a container; its Param # shows only the
// parameters it holds itself, which modelc cannot place (an error). A container class, or a
// module with parameters at the table's deepest level whose class modelc does not know, stands
// for layers the summary's `depth` setting hid: an error asking for a larger depth. Frozen
// counts `(N)` and `(recursive)` modules with parameters (shared weights) are errors too.

extension TorchInfo {
    static let containers: Set<String> = ["Sequential", "ModuleList", "ModuleDict"]
    /// torch.nn layers without sub-modules that modelc does not support (never hidden blocks).
    static let otherLayers: Set<String> = ["InstanceNorm1d", "InstanceNorm2d", "BatchNorm3d",
                                           "Conv3d", "ConvTranspose1d", "Embedding", "EmbeddingBag", "LSTM", "GRU", "RNN",
                                           "PReLU", "SiLU", "GELU", "Hardswish", "Mish", "Softplus", "PixelShuffle",
                                           "MaxPool3d", "Dropout3d"]
    static let weighted: Set<String> = ["Conv2d", "Linear", "BatchNorm2d", "BatchNorm1d", "Conv1d", "ConvTranspose2d", "LayerNorm", "GroupNorm"]
    static let supported = weighted.union(["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Flatten",
                                          "Dropout", "Dropout1d", "Dropout2d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d",
                                          "Upsample", "UpsamplingNearest2d"]).union(PyTorchBuilder.tsActivations.keys)

    /// Dimensions of a module's output without the batch; nil when it keeps its input's
    /// (BatchNorm1d: a vector [N], or a sequence [C, L] when it prints three dimensions).
    static func rank(_ type: String) -> Int? {
        switch type {
        case "Conv2d", "BatchNorm2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Dropout2d",
             "ConvTranspose2d", "Upsample", "UpsamplingNearest2d": return 3
        case "Conv1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d": return 2
        case "Linear", "Flatten": return 1
        default: return nil
        }
    }

    /// Fills `t` with the layer rows of `rows` and the input shape, or throws at the first row
    /// that cannot be placed.
    static func layers(_ rows: [TIRow], into t: inout TSTable, doc: Document) throws {
        let maxDepth = rows.map(\.depth).max() ?? 0
        var path: [(depth: Int, name: String)] = []
        var blocks: [String: [String]] = [:]
        var prevRank: Int?
        for (i, r) in rows.enumerated() {
            while let last = path.last, last.depth >= r.depth { path.removeLast() }
            if r.depth > 0, let v = r.varName { path.append((r.depth, v)) }
            let label = r.depth == 0 ? r.varName ?? r.type : r.varName != nil ? path.map(\.name).joined(separator: ".")
                : r.index.map { "\(r.type)-\(r.depth)-\($0)" } ?? "\(r.type)-\(t.rows.count + 1)"
            func err(_ m: String) -> ModelError { doc.error(r.line, "\(label) (\(r.type)): \(m)") }
            if i + 1 < rows.count, rows[i + 1].depth > r.depth {
                // An expanded container: its count is what it holds besides its children.
                if r.params.value > 0 || r.params == .recursive {
                    throw err("holds \(r.params == .recursive ? "shared" : formatCount(r.params.value)) parameters of its own, outside the layers torchinfo lists; not supported")
                }
                if r.depth > 0 && !containers.contains(r.type) { blocks[r.type, default: []].append(label) }
                let keeps = r.output.map { out in (r.input ?? t.rows.last.map { [-1] + $0.shape }).map { Array($0.dropFirst()) == Array(out.dropFirst()) } } ?? nil
                if let why = PyTorchKnownBlocks.refusal(r.type, keepsShape: keeps) { throw err(why) }
                continue
            }
            try checkLeaf(r, err: err, maxDepth: maxDepth)
            guard let out = r.output else { throw err("no output shape is printed (is the module called in forward()?)") }
            let want = rank(r.type) ?? (r.type == "BatchNorm1d" ? (out.count >= 3 ? 2 : 1) : nil) ?? prevRank ?? max(1, out.count - 1)
            guard out.count == want || out.count == want + 1, !(out.count == want && out.first == -1) else {
                throw err("output \(out) is not \(want == 3 ? "[batch, C, H, W]" : want == 1 ? "[batch, N]" : "\(want) dimensions and a batch") as printed for a \(r.type)")
            }
            let shape = out.count == want + 1 ? Array(out.dropFirst()) : out
            // The input: an image for Conv2d-like layers, a vector for Linear, else as the output above.
            let inRank = [2, 3].contains(rank(r.type)) ? rank(r.type) : r.type == "Linear" ? 1 : r.type == "Flatten" ? prevRank : want
            if t.rows.isEmpty { t.input = unbatched(rows.first(where: { $0.depth == 0 })?.input ?? r.input, rank: inRank) }
            var row = TSRow(type: r.type, index: t.rows.count + 1, shape: shape, params: r.params.value, line: r.line, name: label)
            row.input = unbatched(r.input, rank: inRank)
            if case .frozen = r.params { row.frozen = true }
            t.rows.append(row)
            prevRank = shape.count
        }
        guard !t.rows.isEmpty else { throw doc.error(t.headerLine, "the torchinfo table lists no layers") }
        for (type, names) in blocks.sorted(by: { $0.key < $1.key }) {
            let list = names.count > 4 ? names.prefix(3).joined(separator: ", ") + ", ... (\(names.count) blocks)" : names.joined(separator: ", ")
            t.assumptions.append("\(list) (\(type)): its layers run one after another as listed (an addition or concatenation in its forward() would not show in the table)")
        }
    }

    /// A module without children: a class the torchsummary builder reads, trainable, not shared.
    static func checkLeaf(_ r: TIRow, err: (String) -> ModelError, maxDepth: Int) throws {
        if r.params == .recursive && (weighted.contains(r.type) || !supported.contains(r.type)) {
            throw err("'(recursive)': the module is called again with the same weights; shared weights are not supported")
        }
        if case .frozen(let n) = r.params, r.type.hasPrefix("BatchNorm") {
            throw err("'(\(formatCount(n)))': its weight and bias are frozen (requires_grad=False) while its statistics still follow each batch in training, which modelc does not do")
        }
        guard !supported.contains(r.type) else { return }
        if let why = PyTorchKnownBlocks.refusal(r.type, keepsShape: r.input.flatMap { i in r.output.map { Array(i.dropFirst()) == Array($0.dropFirst()) } }) {
            throw err(why)   // a library block whose layers the depth setting hid: refused either way
        }
        let hidden = "rerun summary(model, input_size=..., depth=\(maxDepth + 1)) or deeper so that torchinfo shows every layer"
        if containers.contains(r.type) {
            throw err("a block whose layers torchinfo's depth setting hid (\(r.params.value > 0 ? formatCount(r.params.value) + " params" : "no params shown")); \(hidden)")
        }
        if r.params.value > 0 && r.depth == maxDepth && maxDepth > 1 && !otherLayers.contains(r.type) {
            throw err("module class \(r.type) is not supported, or it is a block whose layers torchinfo's depth setting hid "
                + "(it shows \(formatCount(r.params.value)) params); \(hidden) (supported: \(PyTorchModules.supportedList))")
        }
        if ["Embedding", "EmbeddingBag", "LSTM", "GRU", "RNN"].contains(r.type) {
            throw err("module class \(r.type) is not supported in a torchinfo table (what forward() does with token ids and a recurrent module's outputs does not show in its rows); give modelc the print(model) repr, which reads it")
        }
        throw err("module class \(r.type) is not supported (supported: \(PyTorchModules.supportedList))")
    }

    /// A printed shape without its batch dimension, as [H, W, C] or [N]; nil when none is
    /// printed or its rank does not fit (`rank` nil: any rank, with a batch).
    static func unbatched(_ s: [Int]?, rank: Int?) -> [Int]? {
        guard let s, s.count >= 2 || rank == 1 else { return nil }
        let w = rank ?? s.count - 1
        guard s.count == w || s.count == w + 1 else { return nil }
        let x = s.count == w + 1 ? Array(s.dropFirst()) : s
        guard !x.contains(-1) else { return nil }
        return PyTorchBuilder.irShape(chw: x)
    }
}
