// Weight files by format: every reader returns the file's arrays by name, in the file's own
// layout, for `WeightsFile` (ModelcRuntime) to match to a model's tensors. One case per format;
// the format is chosen by the file's extension and confirmed by its magic bytes.

public enum WeightsFormat: String, Sendable, CaseIterable {
    case npz
    case pytorch
    case safetensors

    /// The extensions of this format.
    public var extensions: [String] {
        switch self {
        case .npz: return [".npz"]
        case .pytorch: return [".pt", ".pth"]
        case .safetensors: return [".safetensors"]
        }
    }

    /// The format a path names, or nil for an unknown extension.
    public static func of(path: String) -> WeightsFormat? {
        let lower = path.lowercased()
        return allCases.first { $0.extensions.contains { lower.hasSuffix($0) } }
    }
}

/// A weights file's arrays in file order; `ordered` says whether that order means anything
/// (a state_dict's or an .npz's order does; a safetensors header's does not). `notes` are
/// things the reader did that the user should know (e.g. which nested state_dict it read).
public struct WeightsContents {
    public var arrays: [(String, NDArray)]
    public var ordered: Bool
    public var notes: [String]
    public init(arrays: [(String, NDArray)], ordered: Bool, notes: [String]) {
        self.arrays = arrays; self.ordered = ordered; self.notes = notes
    }
}

public enum WeightsReader {
    /// The extensions `read` accepts, for error messages and usage text.
    public static var acceptedExtensions: String {
        WeightsFormat.allCases.flatMap(\.extensions).joined(separator: ", ")
    }

    /// Reads every array of a weights file, keyed by the name the file gives it.
    public static func read(path: String) throws -> [String: NDArray] {
        var out: [String: NDArray] = [:]
        for (k, a) in try readContents(path: path).arrays {
            if out[k] != nil { throw DataError(file: path, message: "duplicate array '\(k)'") }
            out[k] = a
        }
        return out
    }

    /// Reads every array of a weights file in file order.
    public static func readContents(path: String) throws -> WeightsContents {
        guard let format = WeightsFormat.of(path: path) else {
            throw DataError(file: path, message: "unknown weights file type: expected one of \(acceptedExtensions)")
        }
        switch format {
        case .npz: return WeightsContents(arrays: try NPZ.readOrdered(path: path), ordered: true, notes: [])
        case .pytorch: return try TorchCheckpoint.read(path: path)
        case .safetensors: return try SafeTensors.read(path: path)
        }
    }
}
