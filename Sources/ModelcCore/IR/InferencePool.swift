// Pooling inference: MaxPooling2D / AveragePooling2D (pool size, stride, padding; each dimension
// solved on its own, so non-square pools such as 1x4 on (1, 128, C) are found too), ZeroPadding2D
// (amounts, asymmetric when the difference is odd) and the global pools.

enum PoolInference {
    struct DimFit { var p: Int; var s: Int }

    /// Per-dimension (pool, stride) fits for one padding, most conventional first.
    static func dimFits(n: Int, out: Int, _ pad: Padding, pool: Int?, stride: Int?) -> [DimFit] {
        var fits: [DimFit] = []
        let pLo = pool ?? 1, pHi = pool ?? max(1, min(n, 64))
        var p = pLo
        while p <= pHi {
            // Stride <= pool unless annotated.
            var s = stride ?? 1
            let sHi = stride ?? max(1, min(p, 64))
            while s <= sHi {
                // A 1-wide window with stride 1 keeps this dimension (non-square pools such as 1x4);
                // solve() refuses it in both dimensions at once unless annotated.
                if Inference.outDim(n, k: p, s: s, pad) == out { fits.append(DimFit(p: p, s: s)) }
                s += 1
            }
            p += 1
        }
        fits.sort { dimKey($0) < dimKey($1) }
        return Array(fits.prefix(8))
    }

    /// (stride != pool, distance from the Keras default 2, pool, stride), packed.
    static func dimKey(_ f: DimFit) -> Int { ((f.s == f.p ? 0 : 1) * 128 + abs(f.p - 2)) * 16384 + f.p * 128 + f.s }

    /// (not tiled, non-square, unequal strides, same padding, distance from 2x2, pool, stride), packed.
    static func key(_ a: PoolAttrs) -> Int {
        var k = (a.strideH == a.poolH && a.strideW == a.poolW) ? 0 : 1
        k = k * 2 + (a.poolH == a.poolW ? 0 : 1)
        k = k * 2 + (a.strideH == a.strideW ? 0 : 1)
        k = k * 2 + (a.padding == .valid ? 0 : 1)
        k = k * 256 + min(abs(a.poolH - 2) + abs(a.poolW - 2), 255)
        k = k * 128 + min(a.poolH, 127)
        return k * 128 + min(a.strideH, 127)
    }

    /// Why a layer without parameters that needs an image input does not fit the query, if it does not.
    static func parameterlessImage(_ q: InferenceQuery) -> String? {
        if q.params != 0 { return "has \(formatCount(q.params)) params but \(q.kind.rawValue) has none" }
        if q.input.count != 3 { return "\(q.kind.rawValue) needs an image input (H, W, C) but gets \(Inference.shapeText(q.input))" }
        return nil
    }

    static func op(_ kind: LayerKind, _ a: PoolAttrs) -> Op { kind == .averagePooling2D ? .avgPool(a) : .maxPool(a) }

    static func solve(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        if let why = parameterlessImage(q) { r.reason = why; return r }
        let (h, w, c) = (q.input[0], q.input[1], q.input[2])
        guard let out = q.declaredOut else {
            let p = q.o.pool ?? Pair(h: q.unitHeight ? 1 : 2, w: 2)
            let s = q.o.stride ?? p
            let pad = q.o.padding ?? .valid
            let a = PoolAttrs(poolH: p.h, poolW: p.w, strideH: s.h, strideW: s.w, padding: pad)
            let oh = Inference.outDim(h, k: p.h, s: s.h, pad), ow = Inference.outDim(w, k: p.w, s: s.w, pad)
            if oh > 0, ow > 0 { r.fits = [LayerCandidate(kind: q.kind, op: op(q.kind, a), output: [oh, ow, c])] }
            else { r.reason = "a \(q.unitHeight ? "\(p.w)" : "\(p.h)x\(p.w)") pool does not fit the input \(q.shape(q.input))" }
            return r
        }
        guard out.count == 3, out[2] == c else {
            r.reason = "pooling keeps the \(c) channels but the table says \(q.shape(out))"; return r
        }
        var cands: [PoolAttrs] = []
        for pad in q.o.padding.map({ [$0] }) ?? [.valid, .same] {
            let hf = q.unitHeight ? [DimFit(p: 1, s: 1)] : dimFits(n: h, out: out[0], pad, pool: q.o.pool?.h, stride: q.o.stride?.h)
            let wf = dimFits(n: w, out: out[1], pad, pool: q.o.pool?.w, stride: q.o.stride?.w)
            for a in hf { for b in wf {
                if pad == .same && a.p == 1 && b.p == 1 && q.o.padding == nil { continue }   // same as valid
                // A 1x1 window with stride 1 pools nothing; only taken when annotated.
                if a.p == 1 && a.s == 1 && b.p == 1 && b.s == 1 && q.o.pool == nil && q.o.stride == nil { continue }
                cands.append(PoolAttrs(poolH: a.p, poolW: b.p, strideH: a.s, strideW: b.s, padding: pad))
            } }
        }
        cands.sort { key($0) < key($1) }
        r.fits = cands.map { LayerCandidate(kind: q.kind, op: op(q.kind, $0), output: out) }
        if r.fits.isEmpty {
            r.reason = "no pool size/stride/padding maps \(q.shape(q.input)) to \(q.shape(out))"
            var near: [String] = []
            for p in [2, 3] {
                let o1 = Inference.outDim(h, k: p, s: p, .valid), o2 = Inference.outDim(w, k: p, s: p, .valid)
                near.append(q.unitHeight ? "\(p) s\(p) valid gives (\(o2), \(c))" : "\(p)x\(p) s\(p) valid gives (\(o1), \(o2), \(c))")
            }
            r.detail = Fits.nearest { near }
        }
        return r
    }

    static func zeroPadding(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        if let why = parameterlessImage(q) { r.reason = why; return r }
        let (h, w, c) = (q.input[0], q.input[1], q.input[2])
        var t: Int, b: Int, l: Int, rr: Int
        var others: [(Int, Int, Int, Int)] = []   // the other splits of an odd total, which print alike
        if let p = q.o.pad {
            (t, b, l, rr) = (p[0], p[1], p[2], p[3])
        } else if let out = q.declaredOut {
            guard out.count == 3, out[2] == c, out[0] >= h, out[1] >= w else {
                r.reason = "zero padding cannot map \(Inference.shapeText(q.input)) to \(Inference.shapeText(out))"; return r
            }
            let dh = out[0] - h, dw = out[1] - w
            t = dh / 2; b = dh - t; l = dw / 2; rr = dw - l
            for (t2, b2) in Set([t, b]).map({ ($0, dh - $0) }) { for (l2, r2) in Set([l, rr]).map({ ($0, dw - $0) }) where (t2, l2) != (t, l) {
                others.append((t2, b2, l2, r2))
            } }
        } else {
            (t, b, l, rr) = (1, 1, 1, 1)   // Keras default padding=(1, 1)
        }
        let out = [h + t + b, w + l + rr, c]
        if let d = q.declaredOut, d != out {
            r.reason = "annotated pad=\(t),\(b),\(l),\(rr) gives \(Inference.shapeText(out)) but the table says \(Inference.shapeText(d))"
            return r
        }
        r.fits = ([(t, b, l, rr)] + others.sorted { [$0.0, $0.2] .lexicographicallyPrecedes([$1.0, $1.2]) }).map {
            LayerCandidate(kind: .zeroPadding2D, op: .zeroPadding(top: $0.0, bottom: $0.1, left: $0.2, right: $0.3), output: out)
        }
        return r
    }

    static func global(_ q: InferenceQuery) -> Fits {
        var r = Fits()
        if let why = parameterlessImage(q) { r.reason = why; return r }
        let out = [q.input[2]]
        if let d = q.declaredOut, d != out {
            r.reason = "global pooling of \(q.shape(q.input)) gives \(Inference.shapeText(out)), the table says \(Inference.shapeText(d))"
            return r
        }
        r.fits = [LayerCandidate(kind: q.kind, op: q.kind == .globalMaxPooling2D ? .globalMaxPool : .globalAvgPool, output: out)]
        return r
    }
}
