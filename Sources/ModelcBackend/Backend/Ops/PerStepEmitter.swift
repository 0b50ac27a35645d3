// TimeDistributed around an image layer (Conv2D, pooling, global pooling; IR/TimeDistributed.swift):
// the image op on each of the T images of a [N, T, H, W, C] activation, with shared weights.
// The activation of N samples is, in memory, the [N*T, H, W, C] batch of images, so the image
// layer's own emitter runs unchanged on one step's shapes and its steps are called on images
// lo*T ..< hi*T instead of samples lo ..< hi:
//   forward / backward: the inner functions over images; weight gradients sum over every
//             image of the chunk, which is the sum over samples and steps (the weights are shared).
//   buffers:  what the inner emitter declares per image is per step image: T times per sample.
//   single-image inference: the chunk steps on sample 0 (its T images), no split inside an image.
// Before: a checked layer with `isPerStep` (shapes (T, ...)), never in a fused group.
// After:  the inner emitter's functions plus one forwarding chunk function per step it returns.

import ModelcCore

struct PerStepEmitter: OpEmitter {
    let inner: OpEmitter
    let steps: Int

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let one = c.layer.stepLayer
        var ic = LayerContext(index: c.index, layer: one, x: c.x, y: c.y, gx: c.gx, gy: c.gy,
                              inShape: Array(c.inShape.dropFirst()), outShape: one.outputShape, activation: c.activation,
                              paramOffsets: c.paramOffsets, parameterCount: c.parameterCount)
        ic.readShift = c.readShift
        ic.inputs = c.inputs.map { LayerInput(x: $0.x, gx: $0.gx, shape: Array($0.shape.dropFirst())) }
        let first = m.buffers.count
        let s = inner.emit(ic, m)
        for b in first..<m.buffers.count { m.buffers[b].perImage *= steps }
        m.singleImage = nil
        var wrappers: [String: String] = [:]
        func wrap(_ list: [Step]) -> [Step] {
            list.map { step in
                let call: String, prelude: String?
                switch step {
                case .chunk(let c): (call, prelude) = (c, nil)
                case .image(let c, let p): (call, prelude) = (c, p)   // a prelude runs once per chunk, as it is
                case .serial, .rows: return step
                }
                precondition(call.hasSuffix("(lo, hi, t)"), "a per-step chunk step must run over images lo..<hi: \(call)")
                let wrapped = wrappers[call] ?? {
                    let name = "\(c.prefix)Steps\(wrappers.count)"
                    m.chunkFunction(name, comment: "\(c.header): \(call.prefix { $0 != "(" }) over the \(steps) steps of each sample") { w in
                        w.line(call.replacingOccurrences(of: "(lo, hi, t)", with: "(lo * \(steps), hi * \(steps), t)"))
                    }
                    wrappers[call] = "\(name)(lo, hi, t)"
                    return "\(name)(lo, hi, t)"
                }()
                return prelude == nil ? .chunk(wrapped) : .image(wrapped, prelude: prelude)
            }
        }
        return (wrap(s.train), wrap(s.infer), wrap(s.backward))
    }
}
