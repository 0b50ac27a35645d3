// Inference: solves, for each layer, the hyperparameters a summary table omits (kernel,
// stride, padding, bias, depth multiplier, pool size, zero-padding amounts, BatchNorm
// scale/center) from its input shape, printed output shape and printed parameter count.
//
// Before: table rows with resolved kind candidates, and the chain's input shape.
// After:  one LayerCandidate per row whose op reproduces the printed output shape and count
//         exactly; when several ops fit, the conventional one (square kernel, smallest stride,
//         pool stride = pool size, valid padding, bias on) and a note saying it was a choice.
// Output shapes printed as `multiple` are filled by the same solver with conventional
// defaults; a bounded depth-first search backtracks over those guesses until every later
// count fits. Per-kind solvers live in InferenceConv.swift, InferencePool.swift,
// InferenceBasic.swift, InferenceOneD.swift (the 1-D layers, via the 2-D solvers) and
// InferenceDecoder.swift (UpSampling2D, Conv2DTranspose), InferenceNorm.swift (LayerNormalization,
// GroupNormalization, Normalization), InferenceAttention.swift (MultiHeadAttention) and
// Recurrent.swift (SimpleRNN, LSTM, GRU, Embedding).

import Foundation

struct LayerCandidate {
    var kind: LayerKind
    var op: Op
    var output: [Int]
}

/// Everything a solver may look at for one row.
struct InferenceQuery {
    var name: String
    var kind: LayerKind
    var input: [Int]
    var declaredOut: [Int]?
    var params: Int
    var o: LayerOverrides
    /// A 1-D layer solved as the 2-D one on a 1 x L image (OneDInference): kernels, pools and
    /// strides are one row high, and messages print shapes without that row.
    var unitHeight = false
    /// Every input's shape (a merge layer's several; otherwise `[input]`).
    var inputs: [[Int]] = []

    /// A shape as messages print it: (L, C) for a 1-D layer's (1, L, C).
    func shape(_ s: [Int]?) -> String {
        guard let s else { return Inference.shapeText(s) }
        return Inference.shapeText(unitHeight && s.count == 3 && s[0] == 1 ? Array(s.dropFirst()) : s)
    }
}

/// A solver's answer: every fit in preference order, or why none fits and the nearest misses.
struct Fits {
    var fits: [LayerCandidate] = []
    var reason: String = ""
    /// What a message adds after the reason ("; nearest: ..."), worked out only when a message
    /// shows it: the input search tries many inputs that do not fit, and a convolution's misses
    /// scan every kernel up to 11x11 with every stride.
    var detail: () -> String = { "" }

    /// A `detail` listing `misses`, if there are any.
    static func nearest(_ misses: @escaping () -> [String]) -> () -> String {
        {
            let list = misses()
            return list.isEmpty ? "" : "; nearest: " + list.joined(separator: "; ")
        }
    }
}

enum Inference {
    static func solve(_ q: InferenceQuery) -> Fits {
        // Causal padding: the 1-D convolutions only (solved as the 2-D ones one row high).
        let convs: [LayerKind] = q.unitHeight ? [.conv2D, .separableConv2D] : [.conv1D, .separableConv1D]
        if q.o.padding == .causal, !convs.contains(q.kind) {
            return Fits(reason: "padding=causal applies to Conv1D and SeparableConv1D only")
        }
        switch q.kind {
        case .conv2D, .separableConv2D, .depthwiseConv2D: return ConvInference.solve(q)
        case .maxPooling2D, .averagePooling2D: return PoolInference.solve(q)
        case .zeroPadding2D: return PoolInference.zeroPadding(q)
        case .globalAveragePooling2D, .globalMaxPooling2D: return PoolInference.global(q)
        case .dense: return BasicInference.dense(q)
        case .batchNormalization: return BasicInference.batchNorm(q)
        case .flatten: return BasicInference.flatten(q)
        case .reshape: return BasicInference.reshape(q)
        case .inputLayer: return BasicInference.input(q)
        case .activation, .relu, .leakyReLU, .softmax, .dropout, .spatialDropout1D, .spatialDropout2D, .lambda: return BasicInference.elementwise(q)
        case .conv1D, .maxPooling1D, .averagePooling1D, .globalAveragePooling1D, .globalMaxPooling1D,
             .separableConv1D, .zeroPadding1D, .cropping1D, .upSampling1D: return OneDInference.solve(q)
        case .cropping2D: return ReshapingInference.cropping(q)
        case .repeatVector: return ReshapingInference.repeatVector(q)
        case .permute: return ReshapingInference.permute(q)
        case .upSampling2D: return DecoderInference.upSampling(q)
        case .conv2DTranspose: return DecoderInference.convTranspose(q)
        case .simpleRNN, .lstm, .gru: return RecurrentInference.solve(q)
        case .embedding: return RecurrentInference.embedding(q)
        case .bidirectional: return RecurrentInference.bidirectional(q)
        case .timeDistributed: return TimeDistributedInference.solve(q)
        case .masking: return SequenceMasking.infer(q)
        case .add, .subtract, .multiply, .average, .maximum, .minimum, .concatenate: return MergeInference.solve(q)
        case .layerNormalization, .groupNormalization, .normalization: return NormInference.solve(q)
        case .rescaling: return BasicInference.elementwise(q)
        case .multiHeadAttention: return AttentionInference.solve(q)
        case .randomFlip, .randomRotation, .randomZoom, .randomTranslation, .randomContrast, .randomBrightness:
            return AugmentationLayers.infer(q)
        case .resizing: return ReshapingInference.resizing(q)
        case .centerCrop: return ReshapingInference.centerCrop(q)
        }
    }

    /// Output size of one spatial dimension (TF semantics; 0 when the window does not fit).
    static func outDim(_ n: Int, k: Int, s: Int, _ p: Padding) -> Int {
        guard s > 0, k > 0 else { return 0 }
        switch p {
        case .valid: return n >= k ? (n - k) / s + 1 : 0
        case .same, .causal: return (n + s - 1) / s
        }
    }

    /// Shapes within TableScanner's limits (every dimension and the element count), so that
    /// no later product of counts can overflow.
    static func plausible(_ s: [Int]) -> Bool {
        var p = 1
        for d in s {
            guard d >= 1, d <= TableScanner.maxDim else { return false }
            p *= d
            guard p <= TableScanner.maxElements else { return false }
        }
        return true
    }

    static func shapeText(_ s: [Int]) -> String { "(" + s.map(String.init).joined(separator: ", ") + ")" }
    static func shapeText(_ s: [Int]?) -> String { s.map { shapeText($0) } ?? "(unknown)" }
}

/// One step of the search per table row.
struct SearchRow {
    var row: RawRow
    var kinds: [LayerKind]
    var o: LayerOverrides
    /// Row positions of the layers this one reads (GraphBuilder); nil: the row above.
    var producers: [Int]? = nil
    /// A later call of a shared layer (IR/SharedLayers.swift): call 0's op on this row's input.
    var shared: SharedCall? = nil
    /// Call 0 of a shared layer whose printed shape is the last call's (Keras 3): the fits of
    /// that shape first, then those of an unknown one.
    var lastCallShape = false
}

/// Depth-first search over the rows; deterministic, bounded by `budget` solver calls.
final class InferenceSearch {
    let rows: [SearchRow]
    let doc: Document
    var budget = 3000
    var failure: (index: Int, error: ModelError)? { failed.map { ($0.index, $0.error()) } }
    private var failed: (index: Int, error: () -> ModelError)?
    /// For each row on the successful path: the chosen candidate and how many fits there were.
    var chosen: [(LayerCandidate, [LayerCandidate])] = []

    init(rows: [SearchRow], doc: Document) { self.rows = rows; self.doc = doc }

    /// `run(from: 0, input:)`, which recurses once per row: a long table (up to
    /// TableScanner.maxRows) runs on a thread of its own with a stack deep enough for it.
    func runAll(input: [Int]) -> Bool {
        guard rows.count > 100 else { return run(from: 0, input: input) }
        /// The search and its result, handed to the thread and back (one thread at a time uses them).
        final class Handoff: @unchecked Sendable {
            let search: InferenceSearch, input: [Int]
            var result = false
            init(_ s: InferenceSearch, _ i: [Int]) { search = s; input = i }
        }
        let h = Handoff(self, input)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { h.result = h.search.run(from: 0, input: h.input); done.signal() }
        thread.stackSize = 1 << 30   // reserved, not committed: a debug build's frames for 2,000 rows
        thread.start()
        done.wait()
        return h.result
    }

    /// Keeps the failure at the deepest row. The error is built only if it is read (`failure`):
    /// most failures are replaced by a deeper one or end in another input that fits.
    func fail(_ index: Int, _ e: @escaping @autoclosure () -> ModelError) {
        if let f = failed, f.index > index { return }
        failed = (index, e)
    }

    func run(from index: Int, input: [Int]) -> Bool {
        if index == rows.count { return true }
        let doc = self.doc   // the errors below are built later, if at all (`fail`), without self
        guard budget > 0 else {
            let line = rows[index].row.line
            fail(index, doc.error(line, "inference gave up: too many unknown ('multiple') output shapes to try; annotate kernels/units or print the model with concrete shapes"))
            return false
        }
        budget -= 1
        let r = rows[index]
        if let s = r.shared { return runShared(index, s, input: input) }
        // A further Input layer (`producers == []`) reads nothing: its printed shape is its input.
        let inputs = r.producers == [] ? [r.row.shape.known ?? []] : r.producers.map { $0.map { chosen[$0].0.output } } ?? [input]
        var fits: [LayerCandidate] = []
        var firstMiss: Fits?
        for kind in r.kinds {
            var q = InferenceQuery(name: r.row.name, kind: kind, input: inputs.first ?? input,
                                   declaredOut: Inference.declared(r.row.shape, input: inputs.first ?? input, kind: kind),
                                   params: r.row.params, o: r.o)
            q.inputs = inputs
            var f = Inference.solve(q)
            if r.lastCallShape, q.declaredOut != nil { q.declaredOut = nil; f.fits += Inference.solve(q).fits }
            let ok = f.fits.filter { Inference.plausible($0.output) }
            if ok.isEmpty { if firstMiss == nil { firstMiss = f } } else { fits += ok }
        }
        guard !fits.isEmpty else {
            let f = firstMiss ?? Fits(reason: "no candidate layer class fits")
            fail(index, doc.error(r.row.line, (r.kinds.count == 1 ? "layer '\(r.row.name)' (\(r.kinds[0].rawValue)): \(f.reason)"
                                                                  : CutLayerTypes.noFit(r, reason: f.reason)) + f.detail()))
            return false
        }
        if r.kinds.count > 1 {   // a cut type: one class per output (IR/CutLayerTypes.swift)
            switch CutLayerTypes.settle(r, input: inputs.first ?? input, fits: fits, doc: doc) {
            case .success(let f): fits = f
            case .failure(let e): fail(index, e); return false
            }
        }
        // With a printed shape every fit yields the same output: later rows cannot tell them apart.
        var outputs: [[Int]] = []
        for c in fits where !outputs.contains(c.output) { outputs.append(c.output) }
        for out in outputs.prefix(6) {
            let group = fits.filter { $0.output == out }
            chosen.append((group[0], group))
            if run(from: index + 1, input: out) { return true }
            chosen.removeLast()
        }
        return false
    }
}

extension Inference {
    /// The printed output shape, with the steps of a variable-length sequence (None in
    /// `(None, None, 128)`, the input annotated `shape=STEPS`) taken as the input's steps.
    /// Only for kinds that keep the steps (not 1-D convolutions and pools).
    static func declared(_ shape: RawShape, input: [Int], kind: LayerKind) -> [Int]? {
        if let k = shape.known { return k }
        guard !kind.isOneD, case .dims(let d) = shape, d.count == 2, d[0] == nil, let f = d[1], let steps = input.first,
              input.count <= 2 else { return nil }
        return [steps, f]
    }
}
