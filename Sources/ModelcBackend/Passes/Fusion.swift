// Fusion pass.
//
// Before: the resolved layer chain (final softmax already stripped by the emitter).
// After:  a FusionPlan naming, for each Conv2D/SeparableConv2D/Dense producer, the
//         BatchNormalization and activation layers that directly follow it and can run inside
//         the producer's output loop. The layer chain itself is unchanged (training still runs
//         BatchNorm with batch statistics as its own step); the plan only changes the
//         inference forward: BatchNorm is folded into the producer's weights and bias
//         (w' = w * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta),
//         the activation is applied to the accumulators before they are stored, and the folded
//         layers' own inference steps disappear (their output buffer is written by the producer).
//         In training, a group's activation runs inside the BatchNorm passes instead
//         (`trainingActivation`): the normalize pass writes act(y) and the backward passes apply
//         act' on the fly, so the activation layer has no training steps of its own (relu, leaky
//         relu, relu6); a hard_swish, whose gradient needs its input, is folded at inference
//         only and keeps its training steps.
//         Inference only, a Conv2D group also takes the pooling layer that directly follows it
//         (and a register activation after that pool): each image's convolution output stays
//         in a per-thread scratch image and is pooled while in cache. Dropout layers after a
//         group (the identity at inference) are folded too: the group writes their output.
//         Folded pools, activations and dropouts keep all their training steps.
//         In a graph, a group never crosses a branch point: each folded layer is the sole reader
//         of the one before it and reads nothing else (`linked`).

import ModelcCore

/// A producer with the layers folded into it (positions index the emitter's layer array).
public struct FusedGroup: Equatable, Sendable {
    public var producer: Int
    public var batchNorm: Int?
    public var activation: Int?
    /// Inference only (Conv2D producers): the pooling layer right after the group and a
    /// register activation right after that pool.
    public var pool: Int? = nil
    public var poolActivation: Int? = nil
    /// Inference only: Dropout layers (the identity at inference) right after all of the above.
    public var dropouts: [Int] = []
    /// Layer names, for `modelc check`: e.g. "conv2d_1 + batch_normalization_1 + leaky_re_lu_1".
    public var names: [String]
    public var description: String { names.joined(separator: " + ") }
    /// The last layer folded into the group: its output buffer is what the group writes at inference.
    var last: Int { dropouts.last ?? poolActivation ?? pool ?? activation ?? batchNorm ?? producer }
}

public struct FusionPlan: Sendable {
    public var groups: [FusedGroup]
    /// For each layer position, the group it produces (nil if none).
    var folds: [FusedGroup?]
    /// Positions of layers folded into a producer (their inference step is skipped).
    var foldedBatchNorms: Set<Int>
    var foldedActivations: Set<Int>
    /// Positions of pools, their activations and dropouts folded into a group at inference
    /// (their inference steps are skipped; their training steps stay).
    var foldedInference: Set<Int> = []
    /// Training: BatchNorm position -> position of the activation it computes.
    var trainingActivation: [Int: Int] = [:]

    static func none(_ count: Int) -> FusionPlan {
        FusionPlan(groups: [], folds: Array(repeating: nil, count: count), foldedBatchNorms: [], foldedActivations: [])
    }
}

public enum Fusion {
    /// Groups of a model (after softmax stripping) as `modelc check` should show them.
    public static func groups(_ ir: ModelIR) -> [FusedGroup] {
        plan(Emitter.stripFinalSoftmax(ir.layers).0).groups
    }

    static func plan(_ layers: [Layer]) -> FusionPlan {
        var p = FusionPlan.none(layers.count)
        let consumers = layers.consumers
        // Layer b may join a's group only when it is a's sole reader and reads only a: a group
        // never ends at a branch point (an output another layer reads must be written).
        func linked(_ a: Int, _ b: Int) -> Bool { b < layers.count && layers.producers(of: b) == [a] && consumers[a] == [b] }
        var i = 0
        while i < layers.count {
            let producerAct: Activation?
            var isConv = false
            switch layers[i].op {
            case _ where layers[i].isPerStep: producerAct = nil   // TimeDistributed: never fused
            case .conv2d(let a):
                producerAct = (a.dilationH == 1 && a.dilationW == 1) ? a.activation : nil   // dilated: not fused
                isConv = producerAct != nil
            case .dense(_, _, let act): producerAct = act
            default: producerAct = nil
            }
            guard let act = producerAct, act == .linear, linked(i, i + 1),
                  case .batchNorm = layers[i + 1].op else { i += 1; continue }
            var g = FusedGroup(producer: i, batchNorm: i + 1, activation: nil, names: [layers[i].name, layers[i + 1].name])
            if linked(i + 1, i + 2), case .activation(let a) = layers[i + 2].op, inferenceEpilogue(a) != nil {
                g.activation = i + 2
                g.names.append(layers[i + 2].name)
            }
            var next = (g.activation ?? i + 1) + 1
            if isConv, linked(next - 1, next) {
                switch layers[next].op {
                case .maxPool, .avgPool:
                    g.pool = next
                    g.names.append(layers[next].name)
                    next += 1
                    if linked(next - 1, next), case .activation(let a) = layers[next].op, inferenceEpilogue(a) != nil {
                        g.poolActivation = next
                        g.names.append(layers[next].name)
                        next += 1
                    }
                default: break
                }
            }
            while linked(next - 1, next), case .dropout = layers[next].op {
                g.dropouts.append(next)
                g.names.append(layers[next].name)
                next += 1
            }
            p.groups.append(g)
            p.folds[i] = g
            p.foldedBatchNorms.insert(i + 1)
            if let a = g.activation {
                p.foldedActivations.insert(a)
                if case .activation(let f) = layers[a].op, epilogue(f) != nil { p.trainingActivation[i + 1] = a }
            }
            for k in [g.pool, g.poolActivation].compactMap({ $0 }) + g.dropouts { p.foldedInference.insert(k) }
            i = next
        }
        return p
    }

    /// Activations that can run on the accumulators, in training too (their gradient follows
    /// from the output: the BatchNorm passes apply it on the fly).
    static func epilogue(_ a: Activation) -> EpilogueActivation? {
        switch a {
        case .linear: return EpilogueActivation.none
        case .relu: return .relu
        case .leakyRelu(let al): return .leaky(al)
        case .cappedRelu(let m): return .capped(m)
        default: return nil
        }
    }

    /// Activations that can run on the accumulators at inference: those, and hard_swish, whose
    /// gradient needs the input (in training it stays a layer of its own).
    static func inferenceEpilogue(_ a: Activation) -> EpilogueActivation? {
        epilogue(a) ?? (a == .hardSwish ? .hardSwish : nil)
    }
}
