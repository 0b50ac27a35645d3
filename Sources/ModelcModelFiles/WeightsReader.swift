// Weight files by format: every reader returns the file's arrays by name, in the file's own
// layout, for `WeightsFile` (ModelcRuntime) to match to a model's tensors. One case per format;
// the format is chosen by the file's extension and its magic bytes (WeightsReader.format: an
// HDF5 file named .keras is read as .h5, a zip named .h5 as .keras).

import ModelcData

public enum WeightsFormat: String, Sendable, CaseIterable {
    case npz
    /// An ONNX model's initializers, keyed as the layers `modelc compile model.onnx` builds (ONNXChain.stateDict).
    case onnx
    case kerasWeightsH5 = "weights.h5"
    case h5
    case keras
    case pytorch
    case safetensors

    /// The extensions of this format.
    public var extensions: [String] {
        switch self {
        case .npz: return [".npz"]
        case .kerasWeightsH5: return [".weights.h5"]     // before .h5: `of` takes the first match
        case .h5: return [".h5", ".hdf5"]
        case .keras: return [".keras"]
        case .pytorch: return [".pt", ".pth"]
        case .safetensors: return [".safetensors"]
        case .onnx: return [".onnx"]
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
    /// Where `modelc compile` stores a model's trained weights beside binary `bin`: `BIN-weights`
    /// plus the source file's own extension (`.npz`, `.weights.h5`, `.keras`, ...).
    public static func bundledPath(binary bin: String, format: WeightsFormat) -> String {
        "\(bin)-weights\(format.extensions[0])"
    }

    /// The weights stored beside binary `bin` by `modelc compile`, if any.
    public static func bundled(binary bin: String) -> String? {
        WeightsFormat.allCases.map { bundledPath(binary: bin, format: $0) }.first { FileIO.exists($0) }
    }

    /// A reader's arrays whose file order means nothing (HDF5 groups list names sorted).
    static func unordered(_ arrays: [String: NDArray]) -> WeightsContents {
        WeightsContents(arrays: arrays.sorted { $0.key < $1.key }, ordered: false, notes: [])
    }

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

    /// The format of the file at `path`: its extension's, corrected by its first bytes (tf.keras
    /// 2.10 to 2.12 saved HDF5 under a .keras name; a .keras zip may be named .h5; under another
    /// name HDF5 is Keras's, a zip Keras's when its first entry is JSON, else PyTorch's); nil
    /// when neither tells.
    public static func format(of path: String) -> WeightsFormat? {
        switch (WeightsFormat.of(path: path), FileMagic.of(path: path)) {
        case (.keras?, .hdf5?), (nil, .hdf5?): return .h5
        case (.h5?, .zip?): return .keras
        case (nil, .zip?): return FileMagic.firstZipEntry(path: path)?.hasSuffix(".json") == true ? .keras : .pytorch
        case (let f, _): return f
        }
    }

    /// Reads every array of a weights file in file order.
    public static func readContents(path: String) throws -> WeightsContents {
        guard let format = format(of: path) else {
            throw DataError(file: path, message: "unknown weights file type: expected one of \(acceptedExtensions)")
        }
        switch format {
        case .npz: return WeightsContents(arrays: try NPZ.readOrdered(path: path), ordered: true, notes: [])
        case .pytorch: return try TorchCheckpoint.read(path: path)
        case .safetensors: return try SafeTensors.read(path: path)
        case .kerasWeightsH5, .h5: return unordered(try KerasWeightFiles.readH5(path: path))
        case .keras: return unordered(try KerasWeightFiles.readKeras(path: path))
        case .onnx:
            let chain = try ONNXChain(model: ONNXModel.read(path: path), file: path, inputSizes: ONNXSidecar.inputSizes(path))
            return unordered(try chain.stateDict())
        }
    }
}
