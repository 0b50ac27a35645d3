// Keras's random image layers (RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
// RandomContrast, RandomBrightness). Training: each image of the chunk copied and transformed
// with its own draws from (step seed, layer, image), by the runtime's RandomImageLayers
// kernel; with the model's `dropout` off, copied unchanged. Inference: y = x. No backward:
// IR/AugmentationLayers.swift refuses one after a trainable layer, so no dx is asked for.
//   forward [N, H, W, C] -> [N, H, W, C]

import ModelcCore
import ModelcData

struct RandomImageEmitter: OpEmitter {
    let layer: ImageAugmentation

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let s = c.inShape, size = c.outSize
        let salt = UInt64(c.index) &* 0x9E37_79B9_7F4A_7C15
        let ft = "\(c.prefix)ForwardTraining", fi = "\(c.prefix)ForwardInference"
        m.chunkFunction(ft, comment: "\(c.header): \(layer.description), training") { w in
            w.line("let layer = \(Self.literal(layer))")
            w.line("RandomImageLayers.training(\(c.x) + lo * \(size), \(c.y) + lo * \(size), layer: layer, first: lo, count: hi - lo,")
            w.line("                           height: \(s[0]), width: \(s[1]), channels: \(s[2]), seed: seed ^ \(salt), on: dropout)")
        }
        m.chunkFunction(fi, comment: "\(c.header): inference, y = x") { w in
            w.line("(\(c.y) + lo * \(size)).update(from: \(c.x) + lo * \(size), count: (hi - lo) * \(size))")
        }
        return ([.imageLocal("\(ft)(lo, hi, t)", floats: size)], [.chunk("\(fi)(lo, hi, t)")], [])
    }

    /// `ImageAugmentation(.rotation(lower: ..., upper: ...), fillMode: .reflect, ...)`: the
    /// arguments the layer's kind reads.
    static func literal(_ a: ImageAugmentation) -> String {
        let f = floatLiteral
        let kind: String
        switch a.kind {
        case .flip(let h, let v, let independent):
            return "ImageAugmentation(.flip(horizontal: \(h), vertical: \(v)\(independent ? ", independent: true" : "")))"
        case .rotation(let l, let u): kind = ".rotation(lower: \(f(l)), upper: \(f(u)))"
        case .zoom(let hl, let hu, let wl, let wu):
            kind = ".zoom(heightLower: \(f(hl)), heightUpper: \(f(hu)), widthLower: \(wl.map(f) ?? "nil"), widthUpper: \(wu.map(f) ?? "nil"))"
        case .translation(let hl, let hu, let wl, let wu):
            kind = ".translation(heightLower: \(f(hl)), heightUpper: \(f(hu)), widthLower: \(f(wl)), widthUpper: \(f(wu)))"
        case .contrast(let l, let u, let perBatch):
            return "ImageAugmentation(.contrast(lower: \(f(l)), upper: \(f(u))\(perBatch ? ", perBatch: true" : "")), valueLow: \(f(a.valueLow)), valueHigh: \(f(a.valueHigh)))"
        case .brightness(let l, let u):
            return "ImageAugmentation(.brightness(lower: \(f(l)), upper: \(f(u))), valueLow: \(f(a.valueLow)), valueHigh: \(f(a.valueHigh)))"
        }
        return "ImageAugmentation(\(kind), fillMode: .\(a.fillMode.rawValue), fillValue: \(f(a.fillValue)), bilinear: \(a.bilinear))"
    }
}
