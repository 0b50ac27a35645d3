// ONNXLayout: NHWC tensors in an ONNX graph converted from Keras (tf2onnx). Such a graph reads
// an NHWC input [N, H, W, C] and turns it NCHW for the convolutions (a Transpose, perm
// [0, 3, 1, 2], or with one channel a Reshape to [N, 1, H, W]); before a Dense layer it turns
// the image NHWC again (Transpose, perm [0, 2, 3, 1]) and flattens it (Reshape to [N, -1]):
// Keras's H, W, C Flatten order, then MatMul + Add.
// The IR keeps every image [H, W, C] (the runtime's memory is NHWC anyway), so these Transposes
// are no layers; this file tracks which tensors the graph holds NHWC and which order each
// Flatten uses. A model flattens images in one order (ModelIR.flattenOrder): PyTorch's C, H, W
// unless the graph flattens NHWC tensors; a graph that does both is refused, as is any other
// operator on an NHWC tensor and any other Transpose.

import ModelcData
import ModelcModelFiles

struct ONNXLayout {
    /// Tensors the graph holds NHWC (their IR shape is [H, W, C] as for every image).
    var nhwc = Set<String>()
    /// Sequences [N, T, F] (an Embedding's or a recurrent layer's output, the input they read),
    /// whose IR shape [T, F] keeps the ONNX order (ONNXRecurrent.swift).
    var sequences = Set<String>()
    /// The graph input when it is time-major [T, N, F] (ONNXChain.timeMajorInput).
    var timeMajor: String?
    /// The first layer flattening an image in H, W, C order, and in C, H, W order.
    var hwcFlatten: String?
    var chwFlatten: String?

    /// Whether the graph input is NHWC: [N, H, W, C] whose only reader turns it NCHW.
    static func nhwcInput(_ chain: ONNXChain) -> Bool {
        guard let dims = chain.input.dims, dims.count == 4, case .value(let c) = dims[3] else { return false }
        let readers = chain.steps.filter { $0.inputs.contains(chain.input.name) }
        guard readers.count == 1, let r = readers.first else { return false }
        return toNCHW(r, channels: c)
    }

    /// A Transpose [0, 3, 1, 2], or with one channel a Reshape to [N, 1, H, W] (a constant shape).
    static func toNCHW(_ s: ONNXStep, channels: Int) -> Bool {
        switch s.opType {
        case "Transpose": return s.node.attributes["perm"]?.ints == [0, 3, 1, 2]
        case "Reshape":
            guard channels == 1, let t = s.constants[1], let shape = try? t.ints() else { return false }
            return shape.count == 4 && shape[1] == 1
        default: return false
        }
    }

    /// The ONNX dims of a computed tensor of IR shape `shape`, the batch first (ONNXShapeComputation.batch).
    func dims(_ tensor: String, shape: [Int]) -> [Int] {
        let b = ONNXShapeComputation.batch
        if tensor == timeMajor, shape.count == 2 { return [shape[0], b, shape[1]] }
        if nhwc.contains(tensor) || sequences.contains(tensor) || shape.count < 2 { return [b] + shape }
        return [b, shape[shape.count - 1]] + shape.dropLast()
    }

    /// Throws when the step reads a sequence tensor but is not one of ONNXOperators.sequenceReaders.
    func checkSequenceRead(_ st: ONNXOperators.Step, shape: [Int]) throws {
        guard let t = st.s.inputs.first(where: sequences.contains) else { return }
        if ONNXChain.mergeOps.contains(st.s.opType), let other = st.s.inputs.first(where: { !sequences.contains($0) }) {
            throw st.err("merges the sequence '\(t)' with '\(other)', which is not a sequence [batch, steps, features]")
        }
        guard !ONNXOperators.sequenceReaders.contains(st.s.opType) else { return }
        throw st.err("reads the sequence '\(t)' [batch, steps, features] (\(shape.map(String.init).joined(separator: " x ")) per sample); modelc reads a sequence with element-wise operators, a flatten, or the next recurrent layer")
    }

    /// For a step reading `shape`: true when it only changes the layout (no layer; its output is
    /// its input's layer), after recording the output's layout. Throws for an operator on an
    /// NHWC tensor other than a flatten, and for a Transpose that is not NHWC <-> NCHW.
    mutating func layoutOnly(_ st: ONNXOperators.Step, shape: [Int]) throws -> Bool {
        let s = st.s, input = s.inputs[0]
        if nhwc.contains(input) {
            if Self.toNCHW(s, channels: shape.last ?? 0) && shape.count == 3 { return true }
            guard ["Flatten", "Reshape"].contains(s.opType) else {
                throw st.err("reads '\(input)', which the graph holds NHWC (Keras layout); only a Transpose to NCHW or a flatten is supported there")
            }
            flattened(s.name, shape: shape, hwc: true)
            return false
        }
        if s.opType == "Transpose" {
            let perm = s.node.attributes["perm"]?.ints ?? []
            if shape.count == 3 && perm == [0, 2, 3, 1] { nhwc.insert(s.output); return true }
            if shape.count == 1 && perm == [0, 1] { return true }
            throw st.err("perm \(perm) of \(PyTorchBuilder.chw(shape)): only NCHW <-> NHWC Transposes of images are supported (as tf2onnx writes them)")
        }
        if ["Flatten", "Reshape"].contains(s.opType) { flattened(s.name, shape: shape, hwc: false) }
        return false
    }

    /// Records the order a flatten of `shape` uses (when the order matters: several pixels and channels).
    mutating func flattened(_ layer: String, shape: [Int], hwc: Bool) {
        guard shape.count == 3, shape[0] * shape[1] > 1, shape[2] > 1 else { return }
        if hwc { hwcFlatten = hwcFlatten ?? layer } else { chwFlatten = chwFlatten ?? layer }
    }

    /// The model's Flatten order is H, W, C; throws when the graph flattens in both orders.
    func hwcOrder(file: String) throws -> Bool {
        if let h = hwcFlatten, let c = chwFlatten {
            throw ModelError(file: file, line: nil, message: "layer '\(h)' flattens an NHWC image (Keras order) and layer '\(c)' an NCHW one (PyTorch order); modelc compiles one Flatten order per model")
        }
        return hwcFlatten != nil
    }
}
