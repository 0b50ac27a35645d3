// Weight files by format: every reader returns the file's arrays by name, in the file's own
// layout, for `WeightsFile` (ModelcRuntime) to match to a model's tensors. One case per format;
// the format is chosen by the file's extension and confirmed by its magic bytes.

public enum WeightsFormat: String, Sendable, CaseIterable {
    case npz
    /// An ONNX model's initializers, keyed as the layers `modelc compile model.onnx` builds (ONNXChain.stateDict).
    case onnx
    case kerasWeightsH5 = "weights.h5"
    case h5
    case keras

    /// The format a path names, or nil for an unknown extension.
    public static func of(path: String) -> WeightsFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".npz") { return .npz }
        if lower.hasSuffix(".onnx") { return .onnx }
        if lower.hasSuffix(".weights.h5") { return .kerasWeightsH5 }
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") { return .h5 }
        if lower.hasSuffix(".keras") { return .keras }
        return nil
    }
}

public enum WeightsReader {
    /// The extensions `read` accepts, for error messages and usage text.
    public static var acceptedExtensions: String {
        WeightsFormat.allCases.map { "." + $0.rawValue }.joined(separator: ", ")
    }

    /// Reads every array of a weights file, keyed by the name the file gives it.
    public static func read(path: String) throws -> [String: NDArray] {
        guard let format = WeightsFormat.of(path: path) else {
            throw DataError(file: path, message: "unknown weights file type: expected one of \(acceptedExtensions)")
        }
        switch format {
        case .npz: return try NPZ.read(path: path)
        case .onnx: return try ONNXChain(model: ONNXModel.read(path: path), file: path).stateDict()
        case .kerasWeightsH5, .h5: return try KerasWeightFiles.readH5(path: path)
        case .keras: return try KerasWeightFiles.readKeras(path: path)
        }
    }
}
