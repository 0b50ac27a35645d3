// Sizes an exporter computes at run time from a tensor's shape, for a Reshape that keeps the
// batch: tf2onnx's Flatten (Shape -> Gather -> Cast -> Slice -> Concat [N, -1] -> Cast -> Reshape)
// and PyTorch's x.view(x.size(0), -1) with a dynamic batch (Shape -> Gather -> Unsqueeze ->
// Concat). ONNXChain keeps these nodes out of the steps (ONNXStep.shapeInputs names the shape
// tensors a step reads); the importer evaluates them once the shapes of the tensors they read
// are known, with the batch size as the marker `batch` (any other size is known exactly).
//
// Before: the shape nodes in file order (Shape of a computed tensor, then Gather, Slice, Concat,
//         Cast, Unsqueeze, Squeeze, Reshape of constants and shape tensors; a Shape may take a part of
//         the dims: start / end) and the constants.
// After:  each shape tensor asked for as a constant INT64 tensor, or a DataError naming the node
//         (a size computed from a tensor not yet computed, an operator that is not folded).

import ModelcData

public struct ONNXShapeComputation: Sendable {
    /// The batch size, unknown until run time (exact in the Double values folding uses).
    public static let batch = -(1 << 40)
    public static let operators: Set<String> = ["Shape", "Gather", "Slice", "Concat", "Cast", "Unsqueeze", "Squeeze", "Reshape"]

    let nodes: [ONNXNode]
    let file: String
    var next = 0
    var values: [String: ONNXTensor]

    init(nodes: [ONNXNode], constants: [String: ONNXTensor], file: String) {
        self.nodes = nodes; self.values = constants; self.file = file
    }

    /// The shape tensor `name`; `dims(tensor)` gives a computed tensor's ONNX dims (batch first) once known.
    public mutating func value(_ name: String, dims: (String) -> [Int]?) throws -> ONNXTensor {
        while values[name] == nil && next < nodes.count {
            let n = nodes[next]
            func err(_ m: String) -> DataError { DataError(file: file, offset: n.offset, message: "node '\(n.name)' (\(n.opType)): \(m)") }
            guard let out = n.outputs.first else { throw err("expected an output, found none") }
            if n.opType == "Shape" {
                guard let x = n.inputs.first, let d = dims(x) else {
                    throw err("the shape of '\(n.inputs.first ?? "")' is needed before that tensor is computed")
                }
                let part = Self.slice(d, start: n.attributes["start"]?.i, end: n.attributes["end"]?.i)
                var t = ONNXTensor()
                t.name = out; t.dims = [part.count]; t.dataType = 7; t.file = file; t.offset = n.offset
                t.intData = part.map(Int64.init)
                values[out] = t
            } else {
                let args = try n.inputs.map { $0.isEmpty ? nil : try values[$0].map(ONNXConstantFolding.smallValue) }
                values[out] = try ONNXConstantFolding.tensor(ONNXConstantFolding.evaluate(n, args, err: err), name: out, node: n, file: file, err: err)
            }
            next += 1
        }
        guard let t = values[name] else {
            throw DataError(file: file, offset: 0, message: "shape tensor '\(name)': computed by no node (expected a Shape computation)")
        }
        return t
    }

    /// Shape's start / end (opset 15; torch.onnx's dynamo exporter writes x.size(0) so): the dims
    /// from start up to end, each counted from the back when negative and clamped to the rank.
    public static func slice(_ d: [Int], start: Int?, end: Int?) -> [Int] {
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + d.count : v, 0), d.count) }
        let (a, b) = (clamp(start ?? 0), clamp(end ?? d.count))
        return a < b ? Array(d[a..<b]) : []
    }
}
