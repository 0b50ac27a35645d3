// DataFormat: which axis of a Keras table's image shapes holds the channels.
//
// Keras prints shapes in the model's data format: (H, W, C) since Keras 2 and with Keras 1's
// TensorFlow backend, (C, H, W) in Keras 1 with image_dim_ordering='th' (Theano), e.g.
// (None, 32, 26, 26) after a 32-filter Convolution2D on a (1, 28, 28) input. The IR is always
// [H, W, C]; a channels-first model says so (ModelIR.channelsFirst), and its Flatten orders the
// values C, H, W.
//
// Before: classified rows with the shapes as printed.
// After:  the IR of the reading whose shapes and counts fit: as printed, the default; as
//         (C, H, W) when the printed order fits no layer, or when both fit, a convolution or
//         normalization's count tells the channel axis either way, and only (C, H, W) gives the
//         input 1, 3 or 4 channels; with a note saying which and why. Both fitting with such an
//         input is an error asking for `input: data_format=`, as is a forced reading that does
//         not fit. Without a layer that tells the channel axis, the Keras default is kept.

enum DataFormat: String {
    case channelsLast = "channels_last"
    case channelsFirst = "channels_first"

    static func resolve(_ table: SummaryTable, rows: [SearchRow], hows: [String?], annotations ann: Annotations,
                        document doc: Document) throws -> ModelIR {
        func read(_ order: DataFormat) -> Result<ModelIR, ModelError> {
            let rs = order == .channelsFirst ? rows.map(transposed) : rows
            do {
                return .success(try IRBuilder.resolve(table, rows: rs, hows: hows, annotations: ann, document: doc,
                                                      channelsFirst: order == .channelsFirst))
            } catch let e as ModelError {
                return .failure(e)
            } catch {
                return .failure(doc.error(table.headerLine, "\(error)"))
            }
        }
        if let forced = ann.dataFormat { return try read(forced).get() }
        guard rows.contains(where: { image($0.row.shape) != nil }) else { return try read(.channelsLast).get() }
        switch (read(.channelsLast), read(.channelsFirst)) {
        case (.success(let ir), .failure):
            return ir
        case (.failure(let e), .failure(let f)):
            // Report the reading that got further down the table.
            if (f.line ?? 0) > (e.line ?? 0) { throw ModelError(file: f.file, line: f.line, message: f.message + " (shapes read as channels-first (C, H, W), which fit further down the table)") }
            throw e
        case (.failure(let e), .success(var ir)):
            ir.assumptions.insert(chosen + "read as printed (H, W, C) they fit no layer (line \(e.line.map(String.init) ?? "?"): \(short(e.message)))", at: 0)
            return ir
        case (.success(var last), .success(var first)):
            let l = plausible(last.inputShape), f = plausible(first.inputShape)
            // Shapes that read the same either way (all of H, W, C equal), or no layer whose count
            // tells the channel axis: the Keras default, and a word when the other input looks likelier.
            if last.layers == first.layers { return last }
            if !tellsChannels(last) && !tellsChannels(first) {
                if f && !l {
                    last.assumptions.insert("shapes read as channels-last (H, W, C), the Keras default: no convolution or normalization tells the channel axis; "
                        + "if the model was built with image_dim_ordering='th' (input \(Inference.shapeText([first.inputShape[2], first.inputShape[0], first.inputShape[1]])) as C, H, W), "
                        + "annotate `input: data_format=channels_first`", at: 0)
                }
                return last
            }
            if l && !f { return last }
            if f && !l {
                first.assumptions.insert(chosen + "both orders fit every count, but only as (C, H, W) does the input have \(first.inputShape[2]) channel\(first.inputShape[2] == 1 ? "" : "s") (as printed it would have \(last.inputShape[2]))", at: 0)
                return first
            }
            throw doc.error(table.headerLine, "the image shapes fit both channels-last (H, W, C) order, with input \(Inference.shapeText(last.inputShape)), "
                + "and channels-first (C, H, W) order (Keras 1 with image_dim_ordering='th'), with input \(Inference.shapeText(first.inputShape)) as H, W, C; "
                + "annotate `input: data_format=channels_last` or `input: data_format=channels_first`")
        }
    }

    /// A layer whose parameter count depends on which axis holds the channels.
    static func tellsChannels(_ ir: ModelIR) -> Bool {
        ir.layers.contains {
            switch $0.op {
            case .conv2d, .separableConv2d, .depthwiseConv2d, .conv2dTranspose: return true
            case .batchNorm: return $0.inputShape.count == 3
            default: return false
            }
        }
    }

    static let chosen = "shapes read as channels-first (C, H, W), Keras 1's image_dim_ordering='th', so Flatten orders the values C, H, W "
        + "(annotate `input: data_format=channels_first` to say so): "

    /// The printed dimensions of an image shape (three after the batch), if it is one.
    static func image(_ s: RawShape) -> [Int?]? {
        guard case .dims(let d) = s, d.count == 3 else { return nil }
        return d
    }

    /// The row with a printed (C, H, W) image shape as [H, W, C].
    static func transposed(_ r: SearchRow) -> SearchRow {
        guard let d = image(r.row.shape) else { return r }
        var t = r
        t.row.shape = .dims([d[1], d[2], d[0]])
        return t
    }

    /// An input a dataset could provide: an image of 1, 3 or 4 channels, or not an image.
    static func plausible(_ input: [Int]) -> Bool { input.count != 3 || [1, 3, 4].contains(input[2]) }

    static func short(_ m: String) -> String { m.count > 160 ? String(m.prefix(157)) + "..." : m }
}
