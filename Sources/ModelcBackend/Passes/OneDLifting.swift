// Lifting pass: 1-D layers onto the 2-D machinery.
//
// Before: an IR whose sequence layers (Conv1D, MaxPooling1D, AveragePooling1D, the global 1-D
//         pools) hold the 2-D op with kernels, pools and strides one row high and [L, C] shapes.
// After:  the same chain with every [L, C] shape (and the input, and Reshape targets) as the
//         image [1, L, C], so the Conv2D, pooling, BatchNorm, fusion and Winograd-free direct
//         kernels and their backward passes run them unchanged. Element order is the same
//         (NHWC with H = 1), so buffers, Flatten (HWC, or CHW for PyTorch's [C, L]) and Dense
//         layers read the same values. The kernel of a Conv1D, [k, CI, CO], is the [1, k, CI, CO]
//         HWIO kernel: parameter offsets and tensor keys come from the unlifted layers.
// Recurrent, Embedding and EmbeddingBag layers keep their [T, D] / [T] shapes (same element counts, so the
// buffers between them and lifted layers agree). An IR without 1-D layers is returned unchanged.

import ModelcCore

extension Lowering {
    public static func liftingOneD(_ ir: ModelIR) -> ModelIR {
        guard ir.layers.contains(where: \.isOneD) else { return ir }
        func lift(_ s: [Int]) -> [Int] { s.count == 2 ? [1] + s : s }
        var out = ir
        if let first = ir.layers.first(where: { !Emitter.isInput($0) }), first.inputShape == ir.inputShape {
            switch first.op {
            case .recurrent, .embedding, .embeddingBag: break
            default: out.inputShape = lift(ir.inputShape)
            }
        } else {
            out.inputShape = lift(ir.inputShape)
        }
        out.layers = ir.layers.map { l in
            switch l.op {
            case .recurrent, .embedding, .embeddingBag: return l
            default: break
            }
            var m = l
            m.inputShape = lift(l.inputShape)
            m.outputShape = lift(l.outputShape)
            if case .reshape(let t) = l.op { m.op = .reshape(lift(t)) }
            return m
        }
        return out
    }
}
