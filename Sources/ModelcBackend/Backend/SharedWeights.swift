// SharedWeights: the later calls of a layer called more than once (`Layer.sharesWeightsWith`,
// IR/SharedLayers.swift) in the emitted code.
//
// Before: a layer list where a later call of a shared layer points to its first call (which
//         owns the tensors and their TensorSpecs) and has no tensors of its own.
// After:  each later call has a shadow of its first call's tensors, after every real tensor
//         (beyond `info.parameterCount`, with no TensorSpec: never in weight files or
//         checkpoints, never initialized or stepped by the optimizer), laid out as the first
//         call's so that one shift (`readShift`, first call's offset - shadow's) maps the one
//         onto the other. The call's operator emitter runs as for any layer: it reads its
//         weights at its offsets + readShift, the first call's tensors themselves (no copy
//         per forward; the shadow's floats in the parameter array stay unused), and writes its
//         weight gradient (with `=`, per chunk) into the shadow's slice of the partials. Every
//         backward ends, after the partials are summed, by adding each shadow's gradient into
//         its first call's. Each call thus writes its own gradient whatever order the backward
//         runs the calls in (the later call first), and the first call's gradient is the sum
//         over all calls, the gradient of the one set of weights.
// A BatchNormalization called twice is refused (Emitter.problems): its moving statistics would
// be updated into the shadow and lost.

import ModelcCore

struct SharedShadow: Equatable {
    /// Layer positions: the later call and its first call.
    let layer: Int, owner: Int
    /// Offsets in the parameter array: the first call's tensors, their shadow; floats in both.
    let from: Int, to: Int, count: Int
}

extension ParameterLayout {
    /// Lays out the shadows of the later calls (whose `offsets` entries are placeholders) after
    /// every real tensor.
    mutating func addShadows(_ layers: [Layer]) {
        for (i, l) in layers.enumerated() {
            guard let o = l.sharesWeightsWith, o >= 0, o < i else { continue }
            let start = count
            var off: [ParamTensor.Role: Int] = [:]
            for t in layers[o].paramTensors {
                if off[t.role] == nil { off[t.role] = count }
                count += t.count
            }
            offsets[i] = off
            if count > start {
                shadows.append(SharedShadow(layer: i, owner: o, from: offsets[o].values.min() ?? 0, to: start, count: count - start))
            }
        }
    }

    /// How far from its own offsets layer `i` reads its weights: its first call's (0 for any other layer).
    func readShift(_ i: Int) -> Int { shadows.first { $0.layer == i }.map { $0.from - $0.to } ?? 0 }

    /// Floats of the real tensors (`info.parameterCount`): the array without the shadows.
    var tensorCount: Int { count - shadows.reduce(0) { $0 + $1.count } }
}

enum SharedWeights {
    /// Whether layer `l` or the first call it shares weights with has trainable weights.
    static func trainable(_ l: Layer, in layers: [Layer]) -> Bool {
        if l.trainableParamCount > 0 { return true }
        guard let o = l.sharesWeightsWith, o >= 0, o < layers.count else { return false }
        return layers[o].trainableParamCount > 0
    }

    /// The gradient sum at the end of every backward.
    static func emit(_ shadows: [SharedShadow], layers: [Layer], _ m: ModelEmission) {
        let trained = shadows.filter { trainable(layers[$0.layer], in: layers) }
        guard !trained.isEmpty else { return }
        // The partial sums cover every shadow (a recurrent emitter lists its layer's own count,
        // which a later call does not have).
        for s in trained {
            for r in uncovered(s.to..<s.to + s.count, by: m.reduceRanges) { m.reduceRanges.append((r.lowerBound, r.count)) }
        }
        m.serialFunction("addSharedGradients", comment: "shared layers: each first call's gradient += its later calls' (the sum over the calls)") { w in
            for s in trained {
                w.line("Merge.accumulate(gradients + \(s.from), gradients + \(s.to), count: \(s.count))   // \(layers[s.owner].name) += \(layers[s.layer].name)")
            }
        }
        m.backwardEpilogue.append("addSharedGradients")
    }

    /// The parts of `range` that no (offset, count) segment covers.
    static func uncovered(_ range: Range<Int>, by segments: [(offset: Int, count: Int)]) -> [Range<Int>] {
        var out: [Range<Int>] = [], at = range.lowerBound
        for seg in segments.map({ $0.offset..<$0.offset + $0.count }).filter({ $0.overlaps(range) }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if seg.lowerBound > at { out.append(at..<seg.lowerBound) }
            at = max(at, seg.upperBound)
        }
        if at < range.upperBound { out.append(at..<range.upperBound) }
        return out
    }

    /// Later calls the emitted code cannot run: a BatchNormalization (moving statistics per call).
    static func problems(_ ir: ModelIR) -> [ModelError] {
        ir.layers.compactMap { l in
            guard l.sharesWeightsWith != nil, case .batchNorm = l.op else { return nil }
            return ModelError(file: ir.sourcePath, line: l.line, message: "layer \(l.name): a BatchNormalization called more than once (shared weights) is not supported: its moving statistics would be updated once per call; give each call its own BatchNormalization")
        }
    }
}
