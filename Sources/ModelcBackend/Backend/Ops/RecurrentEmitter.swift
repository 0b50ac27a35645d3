// SimpleRNN, LSTM and GRU: a `RecurrentLayer` member (sizes, tensor offsets, buffers) and one
// call of the runtime's kernels per step (Sources/ModelcRuntime/Kernels/Recurrent.swift, which
// documents the buffers' layouts).
//   forward   x [N, T, D] -> y [N, T, U] or [N, U]; in training (`keepSteps: training`) the
//             gates, states (and LSTM cells, GRU reset terms) of every step stay in `state`
//             for the backward, in inference only the last two steps' (rows reused); one
//             image's products split over `layerThreads` (the single-image tuner's count)
//   backward  through time, step T-1 down to 0: dz per step in `work`, then dW = x^T dz,
//             dU = h'^T dz, db = sum dz as one GEMM each, and dx = dz W^T
// The backward prologue transposes the recurrent kernel (and the kernel when dx is needed).
// A Bidirectional layer is a `BidirectionalLayer` member: both directions (the backward one
// reads the sequence last step first) and the merge, in the same calls.
// A masked layer (IR/SequenceMask.swift) reads its mask from the model's input copy `a0`.
// Keras's in-cell dropout (`dropout`, `recurrent_dropout`: Kernels/RecurrentDropout.swift)
// draws its masks in a training forward from the model's seed, like the Dropout layer's.
// Training and inference run the same emitted forward. A PyTorch GRU's gate blocks are r, z, n
// (RecurrentGeometry.resetFirst).

import ModelcCore

struct RecurrentEmitter: OpEmitter {
    let attrs: RecurrentAttrs

    /// The runtime's RecurrentCellKind case.
    var cellKind: String {
        switch attrs.cell {
        case .simpleRNN: return ".simple"
        case .lstm: return ".lstm"
        case .gru: return attrs.resetAfter ? ".gruResetAfter" : ".gruResetBefore"
        }
    }

    /// Floats per image of the forward's kept state and of the backward's scratch (the runtime's
    /// RecurrentGeometry.stateFloats and workFloats; RecurrentKernelTests checks they agree).
    static func sizes(_ a: RecurrentAttrs, steps t: Int, inputs d: Int) -> (state: Int, work: Int) {
        let u = a.units, w = a.cell.gates * u
        let lstm = a.cell == .lstm ? 1 : 0, gru = a.cell == .gru ? 1 : 0
        let (mx, mh) = dropoutMasks(a)
        let dropoutState = mx * d * (1 + t) + mh * u * (1 + t), dropoutWork = max(mx > 0 ? t * d : 0, mh > 0 ? u : 0)
        return (t * w + t * u * (1 + lstm + gru) + w + (a.mask != nil ? t : 0) + dropoutState, t * w + gru * t * u + 2 * u + dropoutWork)
    }

    /// The in-cell dropout's masks per image over the input and over the state (the runtime's
    /// RecurrentGeometry.inputMasks and recurrentMasks).
    static func dropoutMasks(_ a: RecurrentAttrs) -> (input: Int, state: Int) {
        guard let c = a.cellDropout else { return (0, 0) }
        let m = c.perGate ? a.cell.gates : 1
        return (c.input > 0 ? m : 0, c.recurrent > 0 ? m : 0)
    }

    /// Floats per image of the layer's buffer and fixed floats of its transposed kernels (the
    /// runtime's RecurrentLayer / BidirectionalLayer layout).
    static func bufferSizes(_ a: RecurrentAttrs, steps t: Int, inputs d: Int, inputGradient: Bool) -> (perImage: Int, transposed: Int) {
        let (s, k) = sizes(a, steps: t, inputs: d)
        let one = (a.units + (inputGradient ? d : 0)) * a.cell.gates * a.units
        guard a.bidirectional != nil else { return (s + k, one) }
        return (2 * (s + k) + 4 * (a.returnSequences ? t * a.units : a.units), 2 * one)
    }

    /// The runtime's SequenceMaskRule of a masked layer (read from the model's input, `a0`).
    var maskRule: String? {
        switch attrs.mask {
        case .value(let v, let n)?: return "SequenceMaskRule.value(\(floatLiteral(v)), stepSize: \(n))"
        case .tokenZero?: return "SequenceMaskRule.tokenZero"
        case nil: return nil
        }
    }

    /// The forward's in-cell dropout seed argument: the model's seed and the layer's salt, nil
    /// (masks of ones) with the model's dropout off.
    func cellDropout(_ c: LayerContext) -> String {
        attrs.cellDropout == nil ? "" : ", cellDropout: dropout ? seed ^ \(UInt64(c.index) &* 0x9E37_79B9_7F4A_7C15) : nil"
    }

    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        let p = c.prefix
        let (steps, d, u) = (c.inShape[0], c.inShape[1], attrs.units)
        let sizes = RecurrentEmitter.bufferSizes(attrs, steps: steps, inputs: d, inputGradient: c.gx != nil)
        m.buffer("\(p)state", perImage: sizes.perImage, "\(c.name) gates, states and cells (of every step in training), then their gradients")
        m.buffer("\(p)wt", perImage: 0, fixed: sizes.transposed, "\(c.name) recurrent kernel\(c.gx != nil ? " and kernel" : "") transposed")
        var options = attrs.torch != nil && attrs.cell == .gru ? ", resetFirst: true" : ""
        if attrs.mask != nil { options += ", masked: true, zeroMaskedOutput: \(attrs.bidirectional != nil && attrs.returnSequences)" }
        if let k = attrs.hardGateSlope { options += ", hardGateSlope: \(floatLiteral(k))" }
        if attrs.activation == .relu { options += ", relu: true" }
        if let cd = attrs.cellDropout {
            options += ", inputDropout: \(floatLiteral(cd.input)), recurrentDropout: \(floatLiteral(cd.recurrent)), perGateMasks: \(cd.perGate)"
        }
        let geometry = "RecurrentGeometry(cell: \(cellKind), steps: \(steps), inputs: \(d), units: \(u), returnSequences: \(attrs.returnSequences)\(options))"
        let offsets = "kernel: \(c.paramOffsets[.kernel] ?? 0), recurrent: \(c.paramOffsets[.recurrentKernel] ?? 0), bias: \(c.paramOffsets[.bias].map(String.init) ?? "nil"), biasRows: \(attrs.biasRows)"
        let type = attrs.bidirectional == nil ? "RecurrentLayer" : "BidirectionalLayer"
        let merge = attrs.bidirectional.map { ", merge: .\($0.rawValue)" } ?? ""
        m.members.line("// \(commentSafe(c.header)): \(attrs.bidirectional == nil ? attrs.cell.rawValue + " " : "")\(attrs.description)")
        m.members.line("var \(p): \(type) { \(type)(\(geometry)\(merge), \(offsets), buffer: \(p)state, maxBatch: maxBatch, transposed: \(p)wt, inputGradient: \(c.gx != nil)\(maskRule.map { ", mask: \($0)" } ?? "")) }")
        m.chunkFunction("\(p)Forward", comment: "\(c.header)") { wr in
            wr.line("\(p).forward(\(c.parameterBase), x: \(c.x), y: \(c.y), lo, hi\(maskRule != nil ? ", maskInput: a0" : ""), keepSteps: training, threads: layerThreads\(cellDropout(c)))")
        }
        m.serialFunction("\(p)Transpose", comment: "\(c.name): the kernels transposed for the backward") { wr in
            wr.line("\(p).transpose(\(c.parameterBase))")
        }
        m.backwardPrologue.append("\(p)Transpose")
        m.reduceRanges.append((c.paramOffsets[.kernel] ?? 0, c.layer.paramCount))
        m.chunkFunction("\(p)Backward", comment: "\(c.name) backward through time: dW, dU, db\(c.gx != nil ? ", dx" : " (first layer: no dx)")") { wr in
            wr.line("\(p).backward(partials + t * \(c.parameterCount), x: \(c.x), dy: \(c.gy), dx: \(c.gx ?? "nil"), lo, hi)")
        }
        let f: [Step] = [.chunk("\(p)Forward(lo, hi, t)")]
        return (f, f, [.chunk("\(p)Backward(lo, hi, t)")])
    }
}
