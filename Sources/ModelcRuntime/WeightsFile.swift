// Weights interchange: .npz, PyTorch .pt/.pth and .safetensors files (read by WeightsReader)
// with one float array per parameter tensor, keyed exactly by
// `TensorSpec.key` (Keras: "<layer>/kernel" HWIO or [in, out], "/bias", "/gamma", "/beta",
// "/moving_mean", "/moving_variance", "/depthwise_kernel", "/pointwise_kernel"; PyTorch models:
// state_dict names and layouts, `TensorSpec.fileShape`, permuted from/to the internal layout).
//
// Export writes .npz, or .safetensors / a Keras 3 .weights.h5 (KerasWeightsH5Export) when the
// path ends so.
// A state_dict's `num_batches_tracked` counters (int64 scalars) are not model tensors and are
// dropped. When the names do not fit, WeightsMatching tries order and shape and prints the
// mapping it used.
//
// Import is all-or-nothing: every problem (missing key, extra key, wrong shape, wrong dtype,
// non-finite value) is collected and reported by name before any parameter is changed.

import ModelcData
import ModelcModelFiles

public enum WeightsFile {
    /// Writes every tensor of the model (trainable or not) to `path` (atomically).
    public static func export<M: CompiledModel>(_ model: M, to path: String) throws {
        let arrays: [(String, NDArray)] = M.info.tensors.map { t in
            let values = Array(UnsafeBufferPointer(start: model.parameters + t.offset, count: t.count))
            // PyTorch models: permute the internal layout into the state_dict layout (fileShape).
            let map = t.fileToInternalIndex()
            return (t.key, NDArray(float32: map.map { values[$0] }, shape: t.fileShape))
        }
        switch WeightsFormat.of(path: path) {
        case .npz: try NPZ.write(arrays, to: path)
        case .safetensors: try SafeTensors.write(arrays, to: path)
        case .kerasWeightsH5: try KerasWeightsH5Export.write(arrays, info: M.info, to: path)
        default: throw RuntimeError(file: path, "export writes .npz, .safetensors or Keras .weights.h5 files; name the output so")
        }
    }

    /// Reads `path` and copies its arrays into the model's parameters; notes and a by-order
    /// mapping go to `log` (stderr by default).
    public static func load<M: CompiledModel>(_ path: String, into model: M,
                                              log: (String) -> Void = { Console.standard.err($0) }) throws {
        let values = try matchFile(path, info: M.info, log: log)
        for (t, v) in zip(M.info.tensors, values) {
            let map = t.fileToInternalIndex()   // file layout -> internal layout (identity for Keras)
            for j in 0..<t.count { model.parameters[t.offset + map[j]] = v[j] }
        }
    }

    /// The file's arrays matched to `info.tensors`: by name, else by order and shape.
    static func matchFile(_ path: String, info: ModelInfo, log: (String) -> Void) throws -> [[Float]] {
        let contents = try WeightsReader.readContents(path: path)
        contents.notes.forEach(log)
        let file = contents.arrays.filter { !($0.0.hasSuffix(".num_batches_tracked") && $0.1.count <= 1) }
        var arrays: [String: NDArray] = [:]
        for (k, a) in file {
            if arrays.updateValue(a, forKey: k) != nil { throw RuntimeError(file: path, "duplicate array '\(k)'") }
        }
        arrays = KerasWeightNames.translate(arrays, info: info)   // Keras 3 `layer/vars/i` -> names
        let byName: RuntimeError
        do { return try match(arrays, info: info, file: path) } catch let e as RuntimeError { byName = e }
        let r: WeightsMatching.Result
        do {
            r = try WeightsMatching.byOrder(file, ordered: contents.ordered, info: info, path: path)
        } catch let e as RuntimeError {
            throw RuntimeError(file: path, "\(byName.message); \(e.message)")
        }
        log("\(path): names differ from model \(info.name)'s; matched its \(file.count) tensors by order and shape (\(r.layoutName) layout): file key -> model key")
        r.lines.forEach(log)
        return r.values
    }

    /// The other names Keras 3 gives a tensor in a file keyed by variable paths: a
    /// DepthwiseConv2D's `<layer>/depthwise_kernel` (Keras 2) is `<layer>/kernel` there.
    static func keras3Paths(_ key: String) -> [String] {
        guard key.hasSuffix("/depthwise_kernel") else { return [] }
        return [String(key.dropLast("depthwise_kernel".count)) + "kernel"]
    }

    /// Checks `arrays` against the model's tensors; returns their values in `info.tensors` order.
    public static func match(_ arrays: [String: NDArray], info: ModelInfo, file: String) throws -> [[Float]] {
        var problems: [String] = []
        var values: [[Float]] = []
        var wanted = Set(info.tensors.map(\.key))
        for t in info.tensors {
            let key = [t.key] + keras3Paths(t.key)
            guard let name = key.first(where: { arrays[$0] != nil }), let a = arrays[name] else {
                let also = keras3Paths(t.key).map { " or '\($0)'" }.joined()
                problems.append("missing key '\(t.key)'\(also) (expected shape \(t.fileShape))")
                continue
            }
            wanted.insert(name)
            guard a.shape == t.fileShape else {
                problems.append("key '\(t.key)' has shape \(a.shape), expected \(t.fileShape)")
                continue
            }
            do {
                let v = try a.floats()
                guard v.count == t.count else {
                    problems.append("key '\(t.key)' holds \(v.count) values, expected \(t.count)")
                    continue
                }
                if let bad = v.firstIndex(where: { !$0.isFinite }) {
                    problems.append("key '\(t.key)' has a non-finite value (\(v[bad])) at flat index \(bad)")
                    continue
                }
                values.append(v)
            } catch {
                problems.append("key '\(t.key)' (dtype \(a.dtype)): \(error)")
            }
        }
        for k in arrays.keys.sorted() where !wanted.contains(k) {
            problems.append("extra key '\(k)' (shape \(arrays[k].map { "\($0.shape)" } ?? "?")) is not a tensor of model \(info.name)")
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(10).joined(separator: "; ")
            let more = problems.count > 10 ? "; and \(problems.count - 10) more" : ""
            throw RuntimeError(file: file, "weights do not fit model \(info.name): \(shown)\(more)")
        }
        return values
    }
}
