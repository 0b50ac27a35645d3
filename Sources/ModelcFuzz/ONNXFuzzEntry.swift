// ONNXFuzzEntry: the entry point of the `onnx` fuzzing harness (Tests/Fuzz) and its replay
// tests: arbitrary bytes go through the protobuf decoder, the ONNX subset, the chain reading
// with constant folding, the importer (Frontend.checkONNX) with its report, and the
// initializers-as-weights path (`--weights model.onnx`) with external data references read
// from the input itself; each must give a result or a clean
// error (ModelError, DataError), never a crash, a hang or an unbounded allocation.

import ModelcCore
import ModelcData
import ModelcModelFiles

public enum ONNXFuzzEntry {
    /// Returns true if the bytes imported as a model (a report came out), false if refused.
    @discardableResult
    public static func run(_ bytes: [UInt8], path: String = "fuzz.onnx") -> Bool {
        if var model = try? ONNXModel.decode(bytes, file: path) {
            // External data references resolved against the input itself as the data file.
            _ = try? model.loadExternalData(file: path) { _ in bytes }
            if let chain = try? ONNXChain(model: model, file: path) { _ = try? chain.stateDict() }
        }
        do {
            let report = try Frontend.checkONNX(bytes: bytes, path: path)
            _ = report.text()
            _ = report.json()
            return true
        } catch {
            return false
        }
    }
}
