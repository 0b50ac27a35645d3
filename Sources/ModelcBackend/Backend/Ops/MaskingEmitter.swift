// Keras Masking (IR/SequenceMask.swift): a step whose values all equal mask_value becomes
// zeros (Sources/ModelcRuntime/Kernels/Recurrent.swift, SequenceMaskRule.apply).
//   forward   y[n, t] = x[n, t] when some value differs from mask_value, else 0
//   backward  dx[n, t] = dy[n, t] on the kept steps, else 0 (only when a layer before needs it)
// The recurrent layers after it read the mask from the model's input themselves.

import ModelcCore

struct MaskingEmitter: OpEmitter {
    let value: Float

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let p = c.prefix, size = c.inSize, steps = c.inShape.first ?? 1
        let rule = "SequenceMaskRule.value(\(floatLiteral(value)), stepSize: \(size / max(steps, 1)))"
        m.chunkFunction("\(p)Forward", comment: "\(c.header): steps equal to \(value) become zeros") { w in
            w.line("\(rule).apply(x: \(c.x) + lo * \(size), from: \(c.x) + lo * \(size), to: \(c.y) + lo * \(size), steps: \(steps), count: hi - lo)")
        }
        var back: [Step] = []
        if let gx = c.gx {
            m.chunkFunction("\(p)Backward", comment: "\(c.name) backward: dy on the kept steps") { w in
                w.line("\(rule).apply(x: \(c.x) + lo * \(size), from: \(c.gy) + lo * \(size), to: \(gx) + lo * \(size), steps: \(steps), count: hi - lo)")
            }
            back = [.chunk("\(p)Backward(lo, hi, t)")]
        }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        return (f, f, back)
    }
}
