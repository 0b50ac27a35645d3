// KerasConfigImagePreprocessing: the configs of Keras's random image layers to `.augment` ops
// (IR/AugmentationLayers.swift), every argument from the config:
//   RandomFlip         mode
//   RandomRotation     factor, fill_mode, fill_value, interpolation
//   RandomZoom         height_factor, width_factor (null: the height's zoom), fill_*, interpolation
//   RandomTranslation  height_factor, width_factor, fill_*, interpolation
//   RandomContrast     factor, value_range (Keras 3; tf.keras 2 has none and clips to 0..255, reads
//                      one number f as [1 - f, 1 + f], Keras 3 as [1, 1 + f], and draws one
//                      factor per batch)
//   RandomBrightness   factor, value_range
// And Resizing (height, width; bilinear) and CenterCrop (a Cropping). A factor is a number f ([-f, f]; Keras 3's
// RandomContrast [0, f]) or a list lower, upper.
// tf.keras 2's RandomFlip draws once per axis, Keras 3's once for both.

import ModelcData

extension KerasConfigLayers {
    static func augmentation(_ kind: LayerKind, _ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        guard s.count == 3 else { throw fail("transforms images (height, width, channels), not \(Inference.shapeText(s))") }
        let c = l.config
        func range(_ key: String, lowest: Float = -1) throws -> (lower: Float, upper: Float)? {
            guard let n = try c.present(key) else { return nil }
            let v = try (n.value.isArray ? n.list() : [n]).map { try $0.float(min: -10, max: 10) }
            let kerasTwo = kind == .randomContrast && !l.keras3
            guard let r = kerasTwo ? ImageAugmentation.kerasTwoContrastRange(v) : ImageAugmentation.kerasRange(v, lowest: lowest) else {
                throw n.fail("a number or a list of two numbers")
            }
            return r
        }
        func required(_ key: String, lowest: Float = -1) throws -> (lower: Float, upper: Float) {
            guard let r = try range(key, lowest: lowest) else { throw try c.required(key).fail("a number or a list of two numbers") }
            return r
        }
        var a: ImageAugmentation
        switch kind {
        case .randomFlip:
            let mode = try c.optional("mode").map { try $0.string() } ?? "horizontal_and_vertical"
            guard ["horizontal", "vertical", "horizontal_and_vertical"].contains(mode) else {
                throw try c.required("mode").fail("horizontal, vertical or horizontal_and_vertical")
            }
            a = ImageAugmentation(.flip(horizontal: mode != "vertical", vertical: mode != "horizontal", independent: !l.keras3))
        case .randomRotation:
            let r = try required("factor")
            a = ImageAugmentation(.rotation(lower: r.lower, upper: r.upper))
        case .randomZoom:
            let hr = try required("height_factor"), wr = try range("width_factor")
            a = ImageAugmentation(.zoom(heightLower: hr.lower, heightUpper: hr.upper, widthLower: wr?.lower, widthUpper: wr?.upper))
        case .randomTranslation:
            let hr = try required("height_factor"), wr = try required("width_factor")
            a = ImageAugmentation(.translation(heightLower: hr.lower, heightUpper: hr.upper, widthLower: wr.lower, widthUpper: wr.upper))
        case .randomContrast:
            let r = try required("factor", lowest: 0)
            a = ImageAugmentation(.contrast(lower: r.lower, upper: r.upper, perBatch: !l.keras3))
        default:
            let r = try required("factor")
            a = ImageAugmentation(.brightness(lower: r.lower, upper: r.upper))
        }
        try geometry(c, into: &a)
        if let why = AugmentationLayers.problem(a) { throw fail(why) }
        if let v = try c.present("value_range") {
            let r = try v.list().map { try $0.float(min: -1e30, max: 1e30) }
            guard r.count == 2, r[0] != r[1] else { throw v.fail("two different numbers") }
            a.valueLow = min(r[0], r[1]); a.valueHigh = max(r[0], r[1])
        }
        return (kind, .augment(a), s)
    }

    /// Resizing: height, width; bilinear without antialiasing, aspect ratio not kept (the rest
    /// refused). CenterCrop: height, width, no larger than the input.
    static func resizing(_ kind: LayerKind, _ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        guard s.count == 3 else { throw fail("works on images (height, width, channels), not \(Inference.shapeText(s))") }
        let c = l.config
        let h = try c.required("height").int(min: 1, max: ResourceLimits.maxDimension)
        let w = try c.required("width").int(min: 1, max: ResourceLimits.maxDimension)
        if kind == .centerCrop {
            guard h <= s[0], w <= s[1] else { throw fail("a crop to \(h)x\(w), larger than the input \(s[0])x\(s[1]), resizes first (Keras's smart_resize); not supported") }
            return (.centerCrop, ReshapingInference.centerCropOp(input: s, height: h, width: w), [h, w, s[2]])
        }
        if let i = try c.present("interpolation"), try i.string() != "bilinear" { throw i.fail("bilinear (the only interpolation supported)") }
        for key in ["crop_to_aspect_ratio", "pad_to_aspect_ratio", "antialias"] {
            if let k = try c.present(key), try k.bool() { throw k.error("\(key)=true is not supported") }
        }
        return (.resizing, .resize(height: h, width: w), [h, w, s[2]])
    }

    /// fill_mode, fill_value and interpolation, where the config has them.
    static func geometry(_ c: JNode, into a: inout ImageAugmentation) throws {
        if let f = try c.present("fill_mode") {
            guard let m = ImageAugmentation.FillMode(rawValue: try f.string()) else { throw f.fail("reflect, wrap, constant or nearest") }
            a.fillMode = m
        }
        if let v = try c.present("fill_value") { a.fillValue = try v.float(min: -1e30, max: 1e30) }
        if let i = try c.present("interpolation") {
            let s = try i.string()
            guard s == "bilinear" || s == "nearest" else { throw i.fail("bilinear or nearest") }
            a.bilinear = s == "bilinear"
        }
    }
}
