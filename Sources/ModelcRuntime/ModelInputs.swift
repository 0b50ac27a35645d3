// Models with several inputs (issue 17; the compiler's IR/ModelInputs.swift and
// Passes/MultiInputSplit.swift).
//
// The emitted model takes one flat input vector per example: every input's values, input
// after input, where `ModelInfo.inputs` says (`InputSpec.offset`, its size). Here, the data:
// an .npz with one array per input, named `x_<input name>` after the model's Input layer
// (`x_<input name>_test` for the test split), each [N, ...] with the input's shape (or
// [N, size]), all with the same N; y, or one target array per output head, as for one input.
// A uint8 array is pixels (scaled by the model's input scale and offset); every other dtype
// enters as it is (float features, integer token ids for an Embedding). A missing array, a
// wrong shape or a different example count is an error naming the file, the array, what the
// input expects and what was found. Images, IDX and CSV files hold one input: refused.

import ModelcData

/// One input of a compiled model with several.
public struct InputSpec: Sendable, Equatable {
    /// The Input layer's name.
    public let name: String
    public let shape: [Int]
    /// The input's first value in each example's flat input vector.
    public let offset: Int
    public var size: Int { shape.reduce(1, *) }
    public init(name: String, shape: [Int], offset: Int) {
        self.name = name; self.shape = shape; self.offset = offset
    }
}

package enum InputArrays {
    /// `x_<name>`, or `x_<name>_test`.
    static func arrayName(_ s: InputSpec, test: Bool) -> String { "x_\(s.name)" + (test ? "_test" : "") }

    /// Whether `names` (an .npz's arrays) hold a test split: x_test, or for several inputs the
    /// first input's x_<name>_test.
    static func hasTestSplit<S: Sequence>(_ names: S, info: ModelInfo?) -> Bool where S.Element == String {
        let key = info?.inputs.first.map { arrayName($0, test: true) } ?? "x_test"
        return names.contains(key)
    }

    /// "x_a [N, 28, 28, 1], x_b [N, 10]"
    package static func expected(_ info: ModelInfo, test: Bool = false) -> String {
        info.inputs.map { "\(arrayName($0, test: test)) [N, \($0.shape.map(String.init).joined(separator: ", "))]" }.joined(separator: ", ")
    }

    /// Why a model with several inputs reads an .npz only.
    package static func needsNPZ(_ info: ModelInfo) -> String {
        "model \(info.name) has \(info.inputs.count) inputs (\(info.inputs.map(\.name).joined(separator: ", "))): its data is an .npz with one array per input, \(expected(info)), and y"
    }

    /// The inputs' arrays of an .npz as the flat input of each example, their count, and their names.
    static func read(_ path: String, _ arrays: [String: NDArray], test: Bool, info: ModelInfo) throws -> ([Float], Int, String) {
        var n: Int? = nil
        var first = ""
        var found: [(spec: InputSpec, name: String, array: NDArray)] = []
        for s in info.inputs {
            let name = arrayName(s, test: test)
            guard let a = arrays[name] else {
                throw RuntimeError(file: path, "no array '\(name)' for input \(s.name) (found \(arrays.keys.sorted().joined(separator: ", "))); model \(info.name) reads one array per input: \(expected(info, test: test))")
            }
            let c = a.shape.first ?? 0
            guard !a.shape.isEmpty, a.shape == [c] + s.shape || a.shape == [c, s.size] || (s.size == 1 && a.shape == [c]) else {
                let flat = s.shape.count > 1 ? " (or [N, \(s.size)])" : ""
                throw RuntimeError(file: path, "array \(name) has shape \(a.shape); input \(s.name) expects [N, \(s.shape.map(String.init).joined(separator: ", "))]\(flat)")
            }
            if let n0 = n, c != n0 {
                throw RuntimeError(file: path, "array \(name) holds \(c) examples but \(first) holds \(n0); every input's array holds the same examples")
            }
            if n == nil { n = c; first = name }
            found.append((s, name, a))
        }
        let count = n ?? 0, total = info.inputSize
        guard count <= ArrayData.maxValues / max(1, total) else {
            throw RuntimeError(file: path, "\(count) examples of \(total) input values; at most \(ArrayData.maxValues) values are read")
        }
        var x = [Float](repeating: 0, count: count * total)
        for (s, name, a) in found {
            let v = try ArrayData.inputValues(a, path, name, info: info)
            for i in 0..<count { x.replaceSubrange((i * total + s.offset)..<(i * total + s.offset + s.size), with: v[(i * s.size)..<((i + 1) * s.size)]) }
        }
        return (x, count, found.map(\.name).joined(separator: ", "))
    }
}
