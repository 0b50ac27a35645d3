// KerasConfigResampling: the Keras configs of the layers that pad, crop, upsample, repeat and
// permute, as resolved ops with Keras's output shapes.
//
// Before: one layer's config and its input shape.
// After:  its kind, op and output shape, from the config's keys: ZeroPadding1D `padding`,
//         Cropping1D / Cropping2D `cropping` (n, (a, b) or ((top, bottom), (left, right))),
//         UpSampling1D `size`, UpSampling2D `size` and `interpolation` (nearest or bilinear),
//         RepeatVector `n`, Permute `dims` (1-based after the batch axis). A 1-D layer's amounts
//         are the left and right of a 1 x L image's.

extension KerasConfigLayers {
    static let maxAmount = 1 << 16

    static func resampling(_ kind: LayerKind, _ l: KLayer, input s: [Int], fail: (String) -> ModelError) throws -> (LayerKind, Op, [Int]) {
        let c = l.config
        switch kind {
        case .zeroPadding1D, .cropping1D:
            guard s.count == 2 else { throw fail("needs a sequence input (steps, channels) but gets \(Inference.shapeText(s))") }
            let key = kind == .zeroPadding1D ? "padding" : "cropping"
            let p = try c.required(key).ints(2, min: 0, max: maxAmount)
            if kind == .zeroPadding1D { return (kind, .zeroPadding(top: 0, bottom: 0, left: p[0], right: p[1]), [s[0] + p[0] + p[1], s[1]]) }
            guard s[0] - p[0] - p[1] >= 1 else { throw fail("cropping \(p) leaves nothing of the input \(Inference.shapeText(s))") }
            return (kind, .cropping(top: 0, bottom: 0, left: p[0], right: p[1]), [s[0] - p[0] - p[1], s[1]])
        case .cropping2D:
            guard s.count == 3 else { throw fail("needs an image input but gets \(Inference.shapeText(s))") }
            let p = try padding(c.required("cropping"))
            let out = [s[0] - p[0] - p[1], s[1] - p[2] - p[3], s[2]]
            guard out[0] >= 1, out[1] >= 1 else { throw fail("cropping \(p) leaves nothing of the input \(Inference.shapeText(s))") }
            return (kind, .cropping(top: p[0], bottom: p[1], left: p[2], right: p[3]), out)
        case .upSampling1D:
            guard s.count == 2 else { throw fail("needs a sequence input (steps, channels) but gets \(Inference.shapeText(s))") }
            let n = try c.required("size").ints(1, min: 1, max: 1 << 12)[0]
            return (kind, .upSampling(sizeH: 1, sizeW: n), [s[0] * n, s[1]])
        case .repeatVector:
            guard s.count == 1 else { throw fail("needs a vector input but gets \(Inference.shapeText(s))") }
            let n = try c.required("n").int(min: 1, max: ResourceLimits.maxDimension)
            return (kind, .repeatVector(n), [n, s[0]])
        case .permute:
            let node = try c.required("dims")
            let d = try node.list().map { try $0.int(min: 1, max: 8) }
            guard d.count == s.count, Set(d) == Set(1...max(1, s.count)) else {
                throw node.fail("a permutation of 1...\(s.count) (the axes of the input \(Inference.shapeText(s)), 1-based)")
            }
            return (kind, .permute(d), d.map { s[$0 - 1] })
        default:   // UpSampling2D
            guard s.count == 3 else { throw fail("needs an image input but gets \(Inference.shapeText(s))") }
            let size = try c.required("size").ints(2, min: 1, max: 1 << 12)
            var bilinear = false
            if let i = try c.present("interpolation") {
                switch try i.string() {
                case "nearest": break
                case "bilinear": bilinear = true
                default: throw i.error("interpolation '\(try i.string())' is not supported (nearest or bilinear)")
                }
            }
            let op: Op = bilinear ? .upSamplingBilinear(sizeH: size[0], sizeW: size[1]) : .upSampling(sizeH: size[0], sizeW: size[1])
            return (kind, op, [s[0] * size[0], s[1] * size[1], s[2]])
        }
    }
}
