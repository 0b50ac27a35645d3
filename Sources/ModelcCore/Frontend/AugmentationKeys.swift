// AugmentationKeys: the annotation keys of Keras's random image layers, whose arguments a
// summary table does not print:
//   layer random_flip: mode=horizontal              (horizontal, vertical, horizontal_and_vertical)
//   layer random_rotation: factor=0.1 fill_mode=constant fill_value=0 interpolation=nearest
//   layer random_zoom: height_factor=-0.2,0.3 width_factor=0.1
//   layer random_translation: height_factor=0.1 width_factor=0.1
//   layer random_contrast: factor=0.2 value_range=0,1
// A factor is one number f (Keras's [-f, f]; RandomContrast's [0, f]) or two, lower,upper.

import ModelcData

struct AugmentOverrides: Equatable {
    var flipHorizontal: Bool?
    var flipVertical: Bool?
    var factor: [Float]?
    var heightFactor: [Float]?
    var widthFactor: [Float]?
    var fillMode: ImageAugmentation.FillMode?
    var fillValue: Float?
    var valueRange: [Float]?

    /// The keys set, as annotations spell them (for "has no '...' setting" errors).
    var keys: [String] {
        [("mode", flipHorizontal != nil), ("factor", factor != nil), ("height_factor", heightFactor != nil),
         ("width_factor", widthFactor != nil), ("fill_mode", fillMode != nil), ("fill_value", fillValue != nil),
         ("value_range", valueRange != nil)].filter(\.1).map(\.0)
    }

    mutating func merge(_ o: AugmentOverrides) {
        flipHorizontal = o.flipHorizontal ?? flipHorizontal; flipVertical = o.flipVertical ?? flipVertical
        factor = o.factor ?? factor; heightFactor = o.heightFactor ?? heightFactor; widthFactor = o.widthFactor ?? widthFactor
        fillMode = o.fillMode ?? fillMode; fillValue = o.fillValue ?? fillValue; valueRange = o.valueRange ?? valueRange
    }
}

extension AnnotationParser {
    static func augmentKey(_ k: String, _ v: String, _ o: inout LayerOverrides, _ line: Int, _ doc: Document) throws -> Bool {
        switch k {
        case "mode":
            let modes = ["horizontal": (true, false), "vertical": (false, true), "horizontal_and_vertical": (true, true)]
            guard let m = modes[v] else { throw doc.error(line, "mode=\(v): expected horizontal, vertical or horizontal_and_vertical (RandomFlip)") }
            o.augment.flipHorizontal = m.0; o.augment.flipVertical = m.1
        case "factor": o.augment.factor = try factor(v, k, line, doc)
        case "height_factor": o.augment.heightFactor = try factor(v, k, line, doc)
        case "width_factor": o.augment.widthFactor = try factor(v, k, line, doc)
        case "fill_mode":
            guard let f = ImageAugmentation.FillMode(rawValue: v) else { throw doc.error(line, "fill_mode=\(v): expected reflect, wrap, constant or nearest") }
            o.augment.fillMode = f
        case "fill_value": o.augment.fillValue = try bounded(v, k, line, doc)
        case "value_range":
            let r = try v.split(separator: ",", omittingEmptySubsequences: false).map { try bounded(String($0), k, line, doc) }
            guard r.count == 2, r[0] < r[1] else { throw doc.error(line, "value_range=\(v): expected two numbers low,high with low < high, e.g. 0,255") }
            o.augment.valueRange = r
        default: return false
        }
        return true
    }

    /// One number or two (lower,upper), each within [-10, 10] (what a layer accepts beyond that
    /// is checked with the layer: AugmentationLayers.problem).
    static func factor(_ v: String, _ k: String, _ line: Int, _ doc: Document) throws -> [Float] {
        let parts = v.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { throw doc.error(line, "\(k)=\(v): expected one number f (the range -f..f) or two, lower,upper") }
        let f = try parts.map { try number(String($0), k, line, doc) }
        guard f.allSatisfy({ $0 >= -10 && $0 <= 10 }) else { throw doc.error(line, "\(k)=\(v): each number must lie in [-10, 10] (a fraction of a turn, of the size or of the value range)") }
        return f
    }

    /// A number of at most 1e30 in size (a fill value or a value range: a Float, never infinite).
    static func bounded(_ v: String, _ k: String, _ line: Int, _ doc: Document) throws -> Float {
        let x = try number(v, k, line, doc)
        guard abs(x) <= 1e30 else { throw doc.error(line, "\(k)=\(v): expected a number of at most 1e30 in size") }
        return x
    }
}
