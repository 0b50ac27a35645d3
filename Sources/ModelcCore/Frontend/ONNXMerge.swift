// ONNXMerge: an ONNX node that combines several computed tensors as one merge layer of the IR
// (IR/Merge.swift), reading the layers that compute them (`Layer.producers`).
// Add and Sum -> add, Sub -> subtract (two inputs), Mul -> multiply, Max -> maximum, Min ->
// minimum, Mean -> average: shapes of one rank, each size equal to the others' or 1 (ONNX's
// broadcasting of a [N, C, 1, 1] scale; inputs of different ranks, which ONNX aligns at the last
// NCHW axis and the IR at the channels, are refused). Concat along
// an NCHW axis: axis 1 (channels) is the IR's last axis, the spatial axes H, W (or L) are the
// IR's first ones; the batch axis is refused. A merge operator with one computed input (the
// Add of a constant that is not a MatMul's bias, a Mul by a constant) is refused too.

import ModelcData
import ModelcModelFiles

enum ONNXMerge {
    /// The merge an ONNX operator computes on inputs of IR shape `shape` (nil: not a merge operator).
    static func kind(_ st: ONNXOperators.Step, shape: [Int]) throws -> MergeKind? {
        switch st.s.opType {
        case "Add", "Sum": return .add
        case "Sub": return .subtract
        case "Mul": return .multiply
        case "Max": return .maximum
        case "Min": return .minimum
        case "Mean": return .average
        case "Concat":
            guard let a = st.node.attributes["axis"]?.i else { throw st.err("expected an 'axis' attribute, found none") }
            return .concatenate(axis: try irAxis(a, shape: shape, st: st))
        default: return nil
        }
    }

    /// NCHW axis `a` of a tensor whose IR shape is `shape` ([H, W, C], [L, C] or [F]), counted
    /// from the end of the IR shape.
    static func irAxis(_ a: Int, shape: [Int], st: ONNXOperators.Step) throws -> Int {
        let rank = shape.count + 1
        let axis = a < 0 ? a + rank : a
        guard axis >= 1, axis < rank else {
            throw st.err("axis \(a) of \(rank)-dimensional inputs: only the channel or spatial axes (1...\(rank - 1)) are concatenated, never the batch axis")
        }
        return axis == 1 ? -1 : (axis - 2) - shape.count
    }

    /// Add, Sub, Mul or Div of one computed tensor and a one-value constant (`x / 255` or
    /// `(x - 0.1307) / 0.3081` in a forward): the same map on every value, computed as ONNX does
    /// (a Div divides, a Sub subtracts); nil when the step is not one. `rank`: the computed
    /// tensor's rank without the batch (a constant of more axes would broadcast it: refused).
    static func scalarMap(_ st: ONNXOperators.Step, rank: Int) throws -> Op? {
        let s = st.s
        guard ["Add", "Sub", "Mul", "Div"].contains(s.opType), s.inputs.count == 1, s.node.inputs.count == 2,
              s.constants.count == 1, let (k, t) = s.constants.first, try t.elementCount() == 1 else { return nil }
        guard t.dims.count <= rank + 1 else {
            throw st.err("constant '\(t.name)' of dims \(t.dims) would broadcast the tensor to \(t.dims.count) axes; not supported")
        }
        let v = try t.floats()[0]
        guard v.isFinite else { throw st.err("constant '\(t.name)' is \(v); expected a finite number") }
        switch (s.opType, k) {
        case ("Add", _): return .lambda(.affine(scale: 1, offset: v))
        case ("Mul", _): return .lambda(.affine(scale: v, offset: 0))
        case ("Sub", 1): return .lambda(.standardize(mean: v, std: 1))
        case ("Sub", _): return .lambda(.affine(scale: -1, offset: v))
        case ("Div", 1):
            guard v != 0 else { throw st.err("a division by the constant 0") }
            return .lambda(.standardize(mean: 0, std: v))
        default: throw st.err("a constant divided by the computed tensor '\(s.inputs[0])' is not supported")
        }
    }

    /// Appends the merge layer of `st`, which reads the layers at IR positions `from`.
    static func append(_ st: ONNXOperators.Step, from: [Int], shapes: [[Int]], name: String, to c: inout PyTorchBuilder.Chain) throws {
        guard let kind = try kind(st, shape: shapes[0]) else {
            throw st.err("takes \(from.count) computed tensors; only merge operators (\(ONNXChain.mergeOps.sorted().joined(separator: ", "))) take several")
        }
        guard from.count >= 2 else {
            throw st.err("\(st.s.opType) of the computed tensor '\(st.s.inputs.first ?? "")' and a constant is not supported (only \(st.s.opType) of computed tensors, as a merge layer, or the bias Add of a MatMul)")
        }
        guard Set(from).count == from.count else {
            throw st.err("reads the same tensor twice (\(st.s.inputs.map { "'\($0)'" }.joined(separator: ", "))); not supported")
        }
        if let k = st.s.constants.keys.min() {
            throw st.err("input \(k) '\(st.node.inputs[k])' is a constant; \(st.s.opType) of computed tensors only (no broadcast constants)")
        }
        if Set(shapes.map(\.count)).count > 1, !kind.isConcatenate {
            throw st.err("inputs of different ranks (\(shapes.map { PyTorchBuilder.chw($0) }.joined(separator: ", "))): ONNX broadcasts them from the last NCHW axis; not supported")
        }
        switch kind.output(shapes) {
        case .failure(let e): throw st.err(e.message)
        case .success(let out):
            c.shape = shapes[0]
            c.add(name, st.s.opType, .merge(kind), out, line: st.s.index,
                  notes: ["\(kind.name) of " + st.s.inputs.map { "'\($0)'" }.joined(separator: ", ")])
            c.layers[c.layers.count - 1].producers = from
        }
    }
}
