// GraphFlow: which buffers a layer of a graph reads, and where its input gradients go.
//
// Before: the emitter's layers (IR positions; `Layer.producers`, nil for the layer above).
// After:  for every layer, its producers, whether its output needs a gradient (it or a layer
//         before it on some path has trainable weights), and for every (consumer, input) use
//         of an output, the gradient buffer that use writes: the first use writes the
//         producer's own g<i>, every further use its own g<i>_<k>, and the producer's backward
//         starts by adding those into g<i> (`Merge.accumulate`). Backward runs the layers in
//         reverse order, so every consumer has written before the sum. For a chain this is
//         exactly the chain's buffers (no extra gradients, no sums).

import ModelcCore

struct GraphFlow {
    let producers: [[Int]]
    /// Uses of each layer's output: (consumer, input slot), consumers in order.
    let uses: [[(consumer: Int, slot: Int)]]
    let hasGradient: [Bool]

    init(_ layers: [Layer]) {
        var ps: [[Int]] = []
        var uses = Array(repeating: [(consumer: Int, slot: Int)](), count: layers.count)
        var grad: [Bool] = []
        for (i, l) in layers.enumerated() {
            let p = layers.producers(of: i)
            ps.append(p)
            for (s, q) in p.enumerated() { uses[q].append((i, s)) }
            grad.append(!Emitter.isInput(l) && (SharedWeights.trainable(l, in: layers) || p.contains { grad[$0] }))
        }
        producers = ps; self.uses = uses; hasGradient = grad
    }

    /// Which use of producer `p` input `slot` of layer `i` is (0: the first, writes g<p>).
    func useIndex(of p: Int, consumer i: Int, slot: Int) -> Int {
        uses[p].firstIndex { $0.consumer == i && $0.slot == slot } ?? 0
    }

    /// The extra gradient buffer of use k > 0 of the output whose gradient is `g`.
    static func extraGradient(_ g: String, use k: Int) -> String { "\(g)_\(k)" }

    /// The step that adds the extra uses' gradients into layer `p`'s own (none with one use).
    func gradientSum(_ p: Int, g: String, size: Int, prefix: String, name: String, _ m: ModelEmission) -> [Step] {
        guard uses[p].count > 1, hasGradient[p] else { return [] }
        let f = "\(prefix)GradientSum"
        m.chunkFunction(f, comment: "\(name): its output feeds \(uses[p].count) inputs; dy = the sum of their gradients") { w in
            for k in 1..<uses[p].count {
                w.line("Merge.accumulate(\(g) + lo * \(size), \(GraphFlow.extraGradient(g, use: k)) + lo * \(size), count: (hi - lo) * \(size))")
            }
        }
        return [.chunk("\(f)(lo, hi, t)")]
    }
}
