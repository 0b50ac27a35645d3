// The one annotation that changes how an ONNX graph is read: `input: shape=AxB` in `FILE.modelc`
// beside `FILE.onnx`, the graph input's sizes after the batch (in the graph's order) for the
// sizes an export left open, e.g. a dynamic sequence length. `modelc check` and `compile`
// (ModelcCore's ONNXImporter, which also validates the whole file with its annotation parser)
// and a binary reading `--weights FILE.onnx` (WeightsReader) take the sizes from here, so the
// graph a binary reads is the one it was compiled from.
//
// Lines split and trimmed as ModelcCore's Document does (TextLines); `#` starts a comment; a
// line whose head (before `:`) starts with the word `input` is the input directive; its tokens
// are split on spaces and tabs, and the last `shape=` wins, as in the annotation parser.

import ModelcData

public enum ONNXSidecar {
    /// Largest sidecar read (as ModelcCore reads it).
    static let maxBytes = 1 << 20

    /// The sizes `input: shape=` in `file + ".modelc"` gives; nil when the file or the key is
    /// absent, or the value is not 1 to 3 sizes of 1...4096 (which `check` reports).
    public static func inputSizes(_ file: String) -> [Int]? {
        guard let bytes = try? FileIO.read(path: file + ".modelc", maxBytes: maxBytes) else { return nil }
        return inputSizes(text: bytes)
    }

    public static func inputSizes(text bytes: [UInt8]) -> [Int]? {
        var sizes: [Int]?
        for line in TextLines.split(String(decoding: bytes, as: UTF8.self)) {
            let text = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard let colon = text.firstIndex(of: ":"),
                  TextLines.trimmed(text[..<colon]).split(separator: " ").first == "input" else { continue }
            for token in text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" }) where token.hasPrefix("shape=") {
                let dims = token.dropFirst(6).split(separator: "x", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
                sizes = dims.allSatisfy({ (1...4096).contains($0) }) && (1...3).contains(dims.count) ? dims : nil
            }
        }
        return sizes
    }

    /// The graph input with its sizes after the batch given, in the graph's order (the batch is
    /// axis 1 of a time-major input [T, N, F]): each open size (a dim_param, none, or 0 / -1
    /// written as a value) set, each fixed one checked.
    static func completed(_ input: ONNXValueInfo, sizes: [Int], batchAxis: Int, file: String) throws -> ONNXValueInfo {
        func err(_ m: String) -> DataError {
            DataError(file: file + ".modelc", offset: nil, message: "input: shape=\(sizes.map(String.init).joined(separator: "x")): \(m)")
        }
        guard let dims = input.dims, dims.count == sizes.count + 1, dims.indices.contains(batchAxis) else {
            throw err("the graph input '\(input.name)' has \(input.dims.map { "\(max(0, $0.count - 1))" } ?? "no") size(s) besides the batch, the annotation gives \(sizes.count)")
        }
        var out = input, k = 0
        out.dims = dims
        for axis in dims.indices where axis != batchAxis {
            defer { k += 1 }
            if case .value(let v) = dims[axis], v > 0 {
                guard v == sizes[k] else { throw err("the graph input '\(input.name)' fixes axis \(axis) at \(v), the annotation says \(sizes[k])") }
            } else {
                out.dims?[axis] = .value(sizes[k])
            }
        }
        return out
    }
}
