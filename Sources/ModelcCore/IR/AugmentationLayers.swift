// AugmentationLayers: Keras's random image layers (RandomFlip, RandomRotation, RandomZoom,
// RandomTranslation, RandomContrast, RandomBrightness) in the IR; the transforms themselves
// are ModelcData/ImageAugmentation.swift.
//
// A table row has 0 params and its input's shape, an image (H, W, C). Its op is `.augment`,
// which passes the input through at inference. What a table does not print comes from an
// annotation (Frontend/AugmentationKeys.swift) or a model file's config; otherwise Keras's
// defaults (RandomFlip mode horizontal_and_vertical, fill_mode reflect, bilinear, fill_value
// 0, value_range 0..255) and, for the factors Keras requires, 0.1, each named as an assumption.
//
// In a training forward each image gets its own transform (ModelcRuntime's
// Kernels/RandomImageLayers.swift), where the layer sits, as in Keras. No gradient flows
// through one: `check` refuses a random layer after a layer with trainable weights.

import ModelcData

public enum AugmentationLayers {
    /// The factor assumed when a table does not show one (Keras has no default; keras.io's
    /// and tensorflow.org's examples use 0.1).
    static let assumedFactor: Float = 0.1

    static func infer(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        guard q.params == 0 else { r.reason = "has \(formatCount(q.params)) params but \(q.kind.rawValue) has none"; return r }
        if let d = q.declaredOut, d != q.input {
            r.reason = "\(q.kind.rawValue) keeps the shape \(Inference.shapeText(q.input)) but the table says \(Inference.shapeText(d))"
            return r
        }
        guard q.input.count == 3 else {
            r.reason = "\(q.kind.rawValue) transforms images (height, width, channels), not \(Inference.shapeText(q.input))"
            return r
        }
        r.fits = [LayerCandidate(kind: q.kind, op: .augment(defaultLayer(q.kind)), output: q.input)]
        return r
    }

    /// The layer with Keras's defaults and the assumed factor.
    static func defaultLayer(_ kind: LayerKind) -> ImageAugmentation {
        let f = assumedFactor
        switch kind {
        case .randomFlip: return ImageAugmentation(.flip(horizontal: true, vertical: true))
        case .randomRotation: return ImageAugmentation(.rotation(lower: -f, upper: f))
        case .randomZoom: return ImageAugmentation(.zoom(heightLower: -f, heightUpper: f, widthLower: nil, widthUpper: nil))
        case .randomTranslation: return ImageAugmentation(.translation(heightLower: -f, heightUpper: f, widthLower: -f, widthUpper: f))
        case .randomContrast: return ImageAugmentation(.contrast(lower: 0, upper: f))
        default: return ImageAugmentation(.brightness(lower: -f, upper: f))
        }
    }

    /// The keys each kind reads (the rest are errors for it).
    static func keys(_ a: ImageAugmentation) -> Set<String> {
        let geometric: Set<String> = ["fill_mode", "fill_value", "interpolation"]
        switch a.kind {
        case .flip: return ["mode"]
        case .rotation: return geometric.union(["factor"])
        case .zoom, .translation: return geometric.union(["height_factor", "width_factor"])
        case .contrast, .brightness: return ["factor", "value_range"]
        }
    }

    /// Layer L's transform with the annotated arguments, the rest defaulted; each argument a
    /// table cannot show and no annotation gave is reported through `assume` (the value range
    /// is settled later, by `valueRanges`).
    static func resolve(_ L: inout Layer, _ o: AugmentOverrides, bilinear: Bool?, assume: (String) -> Void) {
        guard case .augment(var a) = L.op else { return }
        let f = assumedFactor
        func range(_ v: [Float]?, lowest: Float = -1) -> (lower: Float, upper: Float) {
            v.flatMap { ImageAugmentation.kerasRange($0, lowest: lowest) } ?? (max(-f, lowest), f)
        }
        var missing: [String] = []
        switch a.kind {
        case .flip:
            if let h = o.flipHorizontal, let v = o.flipVertical { a.kind = .flip(horizontal: h, vertical: v) }
            else { assume("RandomFlip mode=horizontal_and_vertical (Keras default; the table does not show it; annotate `layer NAME: mode=horizontal`)") }
        case .rotation:
            let r = range(o.factor)
            a.kind = .rotation(lower: r.lower, upper: r.upper)
            if o.factor == nil { missing.append("factor") }
        case .zoom:
            let hr = range(o.heightFactor), wr = o.widthFactor.map { range($0) }
            a.kind = .zoom(heightLower: hr.lower, heightUpper: hr.upper, widthLower: wr?.lower, widthUpper: wr?.upper)
            if o.heightFactor == nil { missing.append("height_factor") }
        case .translation:
            let hr = range(o.heightFactor), wr = range(o.widthFactor)
            a.kind = .translation(heightLower: hr.lower, heightUpper: hr.upper, widthLower: wr.lower, widthUpper: wr.upper)
            missing += [("height_factor", o.heightFactor), ("width_factor", o.widthFactor)].filter { $0.1 == nil }.map(\.0)
        case .contrast:
            let r = range(o.factor, lowest: 0)
            a.kind = .contrast(lower: r.lower, upper: r.upper)
            if o.factor == nil { missing.append("factor") }
        case .brightness:
            let r = range(o.factor)
            a.kind = .brightness(lower: r.lower, upper: r.upper)
            if o.factor == nil { missing.append("factor") }
        }
        a.fillMode = o.fillMode ?? a.fillMode
        a.fillValue = o.fillValue ?? a.fillValue
        a.bilinear = bilinear ?? a.bilinear
        if let v = o.valueRange { a.valueLow = v[0]; a.valueHigh = v[1] }
        L.op = .augment(a)
        if !missing.isEmpty {
            let given = missing.map { "\($0)=\(Describe.num(f))" }.joined(separator: " ")
            assume("\(L.kind) \(given) (Keras has no default and the table does not show it; annotate `layer NAME: \(given)`)")
        }
        if a.isGeometric, o.fillMode == nil || bilinear == nil || (o.fillMode == .constant && o.fillValue == nil) {
            assume("\(L.kind) fill_mode=\(a.fillMode.rawValue) fill_value=\(Describe.num(a.fillValue)) interpolation=\(a.bilinear ? "bilinear" : "nearest") (Keras defaults where not annotated)")
        }
    }

    /// The value range of a RandomContrast or RandomBrightness that no annotation gives: Keras's
    /// default 0..255 in the units the layer reads, 0..255 mapped through the input scaling when
    /// nothing before it changes the values (0..1 after `input: scale=1/255`), else 0..255 as
    /// Keras's default stands. Reported as an assumption.
    static func valueRanges(_ ir: inout ModelIR, annotations ann: Annotations) {
        for i in ir.layers.indices {
            guard case .augment(var a) = ir.layers[i].op, !a.isGeometric, ann.overrides(for: ir.layers[i].name).augment.valueRange == nil else { continue }
            if case .flip = a.kind { continue }
            let rescaled = ancestors(of: i, in: ir.layers).contains { j in
                switch ir.layers[j].op { case .input, .augment, .resize: return false; default: return true }
            }
            a.valueLow = rescaled ? 0 : ir.inputOffset
            a.valueHigh = rescaled ? 255 : 255 * ir.inputScale + ir.inputOffset
            ir.layers[i].op = .augment(a)
            let units = rescaled ? "Keras's default, in the units the layers before it give" : "Keras's 0..255 in the model's input units (`input: scale=\(Describe.num(ir.inputScale)) offset=\(Describe.num(ir.inputOffset))`)"
            ir.assumptions.append("\(ir.layers[i].name): \(ir.layers[i].kind) value_range=\(Describe.num(a.valueLow)),\(Describe.num(a.valueHigh)) (\(units); annotate `layer NAME: value_range=LOW,HIGH`)")
        }
    }

    /// A Keras 2 or tf.keras table's random layers draw as tf.keras 2 did: RandomFlip once per
    /// axis; RandomContrast once per batch, one number f from [1 - f, 1 + f] and two numbers
    /// a, b from [1 - a, 1 + b] unsorted (Keras 3: one draw for both axes, one per image, [1, 1 + f]).
    static func kerasTwo(_ ir: inout ModelIR, layout: String, annotations ann: Annotations) {
        guard SemanticDefaults.isKerasTwo(layout: layout) else { return }
        for i in ir.layers.indices {
            guard case .augment(var a) = ir.layers[i].op else { continue }
            switch a.kind {
            case .flip(true, true, _): a.kind = .flip(horizontal: true, vertical: true, independent: true)
            case .contrast:
                let given = ann.overrides(for: ir.layers[i].name).augment.factor ?? [assumedFactor]
                guard let r = ImageAugmentation.kerasTwoContrastRange(given) else { continue }
                a.kind = .contrast(lower: r.lower, upper: r.upper, perBatch: true)
            default: continue
            }
            ir.layers[i].op = .augment(a)
            ir.layers[i].notes.append("tf.keras 2's draws (a Keras 2 table): \(a.description)")
        }
    }

    /// Arguments Keras refuses: a zoom of -1 or less (nothing left to sample), a translation or
    /// brightness beyond the whole size or range, a contrast factor range below 0.
    static func problem(_ a: ImageAugmentation) -> String? {
        switch a.kind {
        case .zoom(let hl, _, let wl, _) where hl <= -1 || (wl ?? 0) <= -1:
            return "a zoom factor of -1 or less (1 + factor would be 0 or below): Keras requires more than -1"
        case .translation(let hl, let hu, let wl, let wu) where [hl, hu, wl, wu].contains(where: { abs($0) > 1 }):
            return "a translation factor beyond [-1, 1] (a fraction of the height or width)"
        case .brightness(let l, let u) where abs(l) > 1 || abs(u) > 1:
            return "a brightness factor beyond [-1, 1] (a fraction of the value range)"
        case .contrast(let l, _, _) where l > 1:
            return "a contrast factor whose range starts below 0 (1 - \(Describe.num(l)))"
        default: return nil
        }
    }

    /// The positions whose outputs reach layer i (its producers, theirs, ...).
    static func ancestors(of i: Int, in layers: [Layer]) -> Set<Int> {
        var seen = Set<Int>(), stack = layers.producers(of: i)
        while let j = stack.popLast() {
            if j >= 0, j < layers.count, seen.insert(j).inserted { stack += layers.producers(of: j) }
        }
        return seen
    }

    /// The first random layer that a layer with trainable weights feeds (its transform has no
    /// backward, so no input gradient may be asked of it), with that layer.
    public static func misplaced(_ layers: [Layer]) -> (random: Layer, trained: Layer)? {
        for (i, L) in layers.enumerated() {
            guard case .augment = L.op else { continue }
            if let j = ancestors(of: i, in: layers).sorted().first(where: { j in
                layers[j].frozen != true && layers[j].paramTensors.contains(where: \.trainable)
            }) { return (L, layers[j]) }
        }
        return nil
    }

    static func check(_ ir: ModelIR) throws {
        guard let (L, w) = misplaced(ir.layers) else { return }
        throw ModelError(file: ir.sourcePath, line: L.line > 0 ? L.line : nil,
                         message: "layer '\(L.name)' (\(L.kind)): a random image layer after '\(w.name)' (\(w.kind)), which has trainable weights, is not supported "
                                  + "(its transform has no backward); put the random image layers before the first trained layer, as Keras's examples do")
    }
}
