// 1-D inference: Conv1D, SeparableConv1D, MaxPooling1D / AveragePooling1D,
// GlobalMax/AveragePooling1D, ZeroPadding1D, Cropping1D and UpSampling1D.
//
// A sequence (L, C) is the image (1, L, C) and a 1-D layer is the 2-D one with kernels, pools
// and strides one row high, so each is solved by the 2-D solver (InferenceConv.swift,
// InferencePool.swift) on the lifted shapes with `unitHeight` set; the fits come back with
// (L, C) shapes and the 1-D class. Annotations give one size (kernel=3, pool=2, stride=2,
// size=2) and padding or cropping as P or LEFT,RIGHT (pad=1,2, crop=1). Without an output
// shape, ZeroPadding1D and Cropping1D default to (1, 1) and UpSampling1D to 2, as in Keras.

enum OneDInference {
    /// The 2-D class a 1-D class is solved as.
    static func twoD(_ k: LayerKind) -> LayerKind {
        switch k {
        case .conv1D: return .conv2D
        case .maxPooling1D: return .maxPooling2D
        case .averagePooling1D: return .averagePooling2D
        case .globalAveragePooling1D: return .globalAveragePooling2D
        case .globalMaxPooling1D: return .globalMaxPooling2D
        case .separableConv1D: return .separableConv2D
        case .zeroPadding1D: return .zeroPadding2D
        case .cropping1D: return .cropping2D
        case .upSampling1D: return .upSampling2D
        default: return k
        }
    }

    static func solve(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        let global = q.kind == .globalAveragePooling1D || q.kind == .globalMaxPooling1D
        guard q.input.count == 2 else {
            r.reason = "\(q.kind.rawValue) needs a sequence input (steps, channels) but gets \(Inference.shapeText(q.input))"
            return r
        }
        if q.kind != .conv1D && q.kind != .separableConv1D && q.params != 0 {
            r.reason = "has \(formatCount(q.params)) params but \(q.kind.rawValue) has none"
            return r
        }
        if let d = q.declaredOut, d.count != (global ? 1 : 2) {
            r.reason = "\(q.kind.rawValue) outputs \(global ? "(channels)" : "(steps, channels)") but the table says \(Inference.shapeText(d))"
            return r
        }
        var lifted = q
        for (key, size) in [("kernel", q.o.kernel), ("stride", q.o.stride), ("pool", q.o.pool), ("size", q.o.size)] {
            guard let size, size.h != size.w, size.h != 1 else { continue }
            r.reason = "\(key)=\(size.h)x\(size.w): a \(q.kind.rawValue) takes one size (e.g. \(key)=\(size.w))"
            return r
        }
        lifted.o.kernel = q.o.kernel.map { Pair(h: 1, w: $0.w) }
        lifted.o.stride = q.o.stride.map { Pair(h: 1, w: $0.w) }
        lifted.o.pool = q.o.pool.map { Pair(h: 1, w: $0.w) }
        lifted.o.size = q.o.size.map { Pair(h: 1, w: $0.w) } ?? (q.declaredOut == nil ? Pair(h: 1, w: 2) : nil)
        for (key, amounts) in [("pad", q.o.pad), ("crop", q.o.crop)] {
            guard let p = amounts else { continue }
            guard p[0] == p[1], p[2] == p[3] else {
                r.reason = "\(key)=\(p.map(String.init).joined(separator: ",")): a \(q.kind.rawValue) takes \(key)=P or \(key)=LEFT,RIGHT"
                return r
            }
        }
        lifted.o.pad = q.o.pad.map { [0, 0, $0[0], $0[2]] } ?? (q.declaredOut == nil ? [0, 0, 1, 1] : nil)
        lifted.o.crop = q.o.crop.map { [0, 0, $0[0], $0[2]] }
        lifted.kind = twoD(q.kind)
        lifted.input = [1] + q.input
        lifted.declaredOut = global ? q.declaredOut : q.declaredOut.map { [1] + $0 }
        lifted.unitHeight = true
        r = Inference.solve(lifted)
        r.fits = r.fits.map { LayerCandidate(kind: q.kind, op: $0.op, output: global ? $0.output : Array($0.output.dropFirst())) }
        return r
    }
}
