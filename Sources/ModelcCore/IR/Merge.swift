// Merge layers and the graph they make.
//
// A Keras functional table's `Connected to` column names each layer's inputs; a layer then
// reads the outputs of earlier layers (`Layer.producers`, positions in `ModelIR.layers`, which
// stay in topological order) instead of the row above. Merge layers combine several outputs:
// Add, Subtract (exactly two), Multiply, Average, Maximum and Minimum broadcast as Keras and ONNX
// do: shapes aligned at their last axis, each size equal to the output's or 1 (a squeeze-and-
// excitation block's x [H, W, C] * s [1, 1, C]); Concatenate needs equal shapes except along its
// axis, where the sizes add.
// Several inputs: IR/ModelInputs.swift. A layer called more than once (shared weights) is one
// layer per call (IR/SharedLayers.swift). Several outputs are heads (IR/ModelHeads.swift).

public enum MergeKind: Equatable, Codable, Sendable {
    case add, subtract, multiply, average, maximum, minimum
    /// Along `axis`, counted from the end of the per-image shape (-1: the last, channels for
    /// images), so that lifting a 1-D layer to a 1 x L image keeps it.
    case concatenate(axis: Int)

    /// The merge a layer class computes (Concatenate: along the last axis until told otherwise).
    init?(layer kind: LayerKind) {
        switch kind {
        case .add: self = .add
        case .subtract: self = .subtract
        case .multiply: self = .multiply
        case .average: self = .average
        case .maximum: self = .maximum
        case .minimum: self = .minimum
        case .concatenate: self = .concatenate(axis: -1)
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .add: return "add"
        case .subtract: return "subtract"
        case .multiply: return "multiply"
        case .average: return "average"
        case .maximum: return "maximum"
        case .minimum: return "minimum"
        case .concatenate(let a): return "concatenate(axis=\(a))"
        }
    }

    /// The output shape of merging `inputs`, or why they cannot be merged.
    public func output(_ inputs: [[Int]]) -> Result<[Int], MergeShapeError> {
        guard inputs.count >= 2 else { return .failure(MergeShapeError("needs at least 2 inputs, has \(inputs.count)")) }
        if self == .subtract, inputs.count != 2 { return .failure(MergeShapeError("Subtract needs exactly 2 inputs, has \(inputs.count)")) }
        let first = inputs[0]
        let shapes = inputs.map { Inference.shapeText($0) }.joined(separator: ", ")
        guard case .concatenate(let axis) = self else { return MergeKind.broadcast(inputs) }
        let a = first.count + axis
        guard a >= 0, a < first.count else { return .failure(MergeShapeError("axis \(axis) is outside the rank-\(first.count) inputs")) }
        var out = first
        for s in inputs.dropFirst() {
            guard s.count == first.count, s.indices.allSatisfy({ $0 == a || s[$0] == first[$0] }) else {
                return .failure(MergeShapeError("inputs \(shapes) differ outside the concatenation axis \(axis)"))
            }
            out[a] += s[a]
        }
        return .success(out)
    }
}

extension MergeKind {
    /// The element-wise merges' output: per axis (aligned at the last), the size every input has
    /// there or 1 (a missing leading axis counts as 1).
    static func broadcast(_ inputs: [[Int]]) -> Result<[Int], MergeShapeError> {
        let rank = inputs.map(\.count).max() ?? 0
        var out: [Int] = []
        for a in 0..<rank {
            let sizes = Set(inputs.map { padded($0, rank: rank)[a] }).subtracting([1])
            guard sizes.count <= 1 else {
                let shapes = inputs.map { Inference.shapeText($0) }.joined(separator: ", ")
                return .failure(MergeShapeError("inputs \(shapes) differ; each size must equal the others or be 1 (broadcasting)"))
            }
            out.append(sizes.first ?? 1)
        }
        return .success(out)
    }

    public var isConcatenate: Bool { if case .concatenate = self { return true }; return false }

    /// `shape` with leading 1s up to `rank`.
    public static func padded(_ shape: [Int], rank: Int) -> [Int] { Array(repeating: 1, count: max(0, rank - shape.count)) + shape }
}

public struct MergeShapeError: Error, Sendable {
    public let message: String
    init(_ m: String) { message = m }
}

extension Array where Element == Layer {
    /// Positions of the layers whose outputs layer `i` reads.
    public func producers(of i: Int) -> [Int] { self[i].producers ?? (i > 0 ? [i - 1] : []) }

    /// For each position, the positions of the layers that read its output, in order.
    public var consumers: [[Int]] {
        var c = Array<[Int]>(repeating: [], count: count)
        for i in indices { for p in producers(of: i) where p >= 0 && p < count { c[p].append(i) } }
        return c
    }

    /// Every layer reads the one above.
    public var isChain: Bool { allSatisfy { $0.producers == nil } }
}

/// Verification of a graph layer's inputs: each producer is earlier, the layer's input shape is
/// its first producer's output, and a merge's output is what its inputs give.
extension Layer {
    /// The layers whose [T, D] the lifting pass keeps (Passes/OneDLifting.swift).
    public var keepsSequenceShape: Bool {
        switch op {
        case .recurrent, .embedding, .embeddingBag: return true
        default: return false
        }
    }
}

public enum MergeVerifier {
    /// Producer p's output as consumer c reads it: the lifting pass (Passes/OneDLifting.swift)
    /// makes a sequence [T, D] the image [1, T, D] but keeps the recurrent and Embedding layers'
    /// [T, D]; between such a layer and a lifted one the two shapes are one buffer. Any other
    /// output is itself (a merge's [1, C] and [C] broadcast; they are not one shape).
    public static func shape(of p: Layer, seenBy c: Layer) -> [Int] {
        let out = p.outputShape, input = c.inputShape
        guard p.keepsSequenceShape || c.keepsSequenceShape else { return out }
        if out.count + 1 == input.count, input.first == 1, Array(input.dropFirst()) == out { return input }
        if out.count == input.count + 1, out.first == 1, Array(out.dropFirst()) == input { return input }
        return out
    }

    public static func inputs(_ ir: ModelIR, _ i: Int) -> [ModelError] {
        let L = ir.layers[i]
        func problem(_ m: String) -> [ModelError] { [ModelError(file: ir.sourcePath, line: L.line, message: "layer '\(L.name)': " + m)] }
        let ps = ir.layers.producers(of: i)
        if L.op == .input { return ps.isEmpty && L.inputShape == L.outputShape ? [] : problem("an Input layer reads nothing") }   // IR/ModelInputs.swift
        guard !ps.isEmpty, ps.allSatisfy({ $0 >= 0 && $0 < i }) else { return problem("inputs \(ps) are not earlier layers") }
        let shapes = ps.map { MergeVerifier.shape(of: ir.layers[$0], seenBy: L) }
        if L.inputShape != shapes[0] {
            return problem("input \(Inference.shapeText(L.inputShape)) is not the output \(Inference.shapeText(shapes[0])) of '\(ir.layers[ps[0]].name)'")
        }
        if case .multiHeadAttention(let a) = L.op {
            if L.sharesWeightsWith != nil { return problem("a MultiHeadAttention called more than once (shared weights) is not supported") }
            if let p = a.problem(inputs: shapes) { return problem(p) }
            let out = a.outputShape(query: shapes[0])
            return out == L.outputShape ? [] : problem("attention gives \(Inference.shapeText(out)), not \(Inference.shapeText(L.outputShape))")
        }
        guard case .merge(let k) = L.op else { return ps.count == 1 ? [] : problem("takes one input, has \(ps.count)") }
        switch k.output(shapes) {
        case .success(let out): return out == L.outputShape ? [] : problem("\(k.name) of \(shapes.map { Inference.shapeText($0) }.joined(separator: ", ")) gives \(Inference.shapeText(out)), not \(Inference.shapeText(L.outputShape))")
        case .failure(let e): return problem(e.message)
        }
    }
}
