// Matching a weights file to a model by order and shape, for files whose names are not the
// model's (a PyTorch state_dict for a Keras-named model, a state_dict whose module names differ,
// a DataParallel `module.` prefix, a Keras file with other layer numbers). WeightsFile tries the
// names first and comes here only when they do not fit.
//
// Before: the file's arrays in file order (.pth state_dicts and .npz archives keep an order;
//         safetensors headers do not, so they are refused here), and the model's tensors in
//         `info.tensors` order (layer order; Keras and PyTorch list a layer's tensors alike:
//         kernel/weight, bias, then gamma/weight, beta/bias, moving_mean/running_mean,
//         moving_variance/running_var).
// After:  either one value array per model tensor, in the model's own file layout
//         (`TensorSpec.fileShape`), with one mapping line per tensor for the user, or an error
//         naming both sides of the first pair that does not fit.
//
// The file is read in one layout for all its tensors: the model's own (Keras HWIO / [in, out],
// or the PyTorch state_dict layout for a PyTorch model) or the other framework's (conv weights
// OIHW <-> HWIO, Conv1d [out, in, k] <-> [k, in, out], Linear [out, in] <-> [in, out], a
// depthwise conv's [C*M, 1, kh, kw] <-> [kh, kw, C, M]). If both layouts fit every shape and they
// differ (square kernels), the file's key names decide (`.weight`/`.bias`/`.running_*` is
// PyTorch, `/kernel` Keras) or the match is refused as ambiguous. Carried across layouts, a
// Dense/Linear fed by a Flatten of a spatial map would need its rows reordered (PyTorch flattens
// C, H, W, Keras H, W, C); that is refused. A file key that is a model key must pair with that key.

import ModelcModelFiles
import ModelcData

enum WeightsMatching {
    /// One way to read a file array for a model tensor: the array's shape and, for each of its
    /// elements (C order), the index in the model's internal layout.
    struct Layout {
        let shape: [Int]
        let toInternal: () -> [Int]
    }

    /// The model's own file layout for `t`.
    static func own(_ t: TensorSpec) -> Layout { Layout(shape: t.fileShape, toInternal: { t.fileToInternalIndex() }) }

    /// The other framework's layout for `t`.
    static func other(_ t: TensorSpec, semantics: String) -> Layout {
        if semantics == "pytorch" {          // Keras layout: the internal one
            return Layout(shape: t.kerasShape, toInternal: { Array(0..<t.count) })
        }
        let s = t.shape
        var perm = Array(0..<s.count)
        var shape = s
        if t.key.hasSuffix("/depthwise_kernel") && s.count == 4 {
            perm = [2, 3, 0, 1]; shape = [s[2] * s[3], 1, s[0], s[1]]
        } else if t.key.hasSuffix("/kernel") || t.key.hasSuffix("/pointwise_kernel") {
            switch s.count {
            case 4: perm = [3, 2, 0, 1]
            case 3: perm = [2, 1, 0]
            case 2: perm = [1, 0]
            default: break
            }
            shape = perm.map { s[$0] }
        }
        let permShape = perm.map { s[$0] }
        return Layout(shape: shape, toInternal: {
            TensorSpec(key: t.key, shape: s, offset: 0, trainable: false, initializer: .zeros, decays: false,
                       fileShape: permShape, filePermutation: perm).fileToInternalIndex()
        })
    }

    static func isIdentity(_ t: TensorSpec, semantics: String) -> Bool {
        let o = other(t, semantics: semantics)
        return o.shape == t.fileShape && o.toInternal() == t.fileToInternalIndex()
    }

    /// The layout the file's key names suggest: true for PyTorch, false for Keras, nil if unclear.
    static func namesSayPyTorch(_ keys: [String]) -> Bool? {
        let torch = [".weight", ".bias", ".running_mean", ".running_var"]
        if keys.allSatisfy({ k in torch.contains { k.hasSuffix($0) } }) { return true }
        if keys.allSatisfy({ $0.contains("/") }) { return false }
        return nil
    }

    struct Result {
        var values: [[Float]]
        var lines: [String]
        var layoutName: String
    }

    static func byOrder(_ file: [(String, NDArray)], ordered: Bool, info: ModelInfo, path: String) throws -> Result {
        func refuse(_ m: String) -> RuntimeError { RuntimeError(file: path, "cannot match by order and shape either: \(m)") }
        guard ordered else {
            throw refuse(WeightsFormat.of(path: path) == .safetensors
                ? "a safetensors file keeps no tensor order (its header is a JSON object), so its names must be the model's"
                : "this file keeps no tensor order (Keras 3 files group tensors by layer), so its layer names must be the model's")
        }
        let ts = info.tensors
        guard file.count == ts.count else {
            throw refuse("the file has \(file.count) tensors, model \(info.name) has \(ts.count)")
        }
        let modelKeys = Set(ts.map(\.key))
        for (i, (k, _)) in file.enumerated() where modelKeys.contains(k) && ts[i].key != k {
            throw refuse("file tensor #\(i + 1) '\(k)' is named like model tensor '\(k)' but pairs by order with '\(ts[i].key)'")
        }
        let pytorchModel = info.semantics == "pytorch"
        let layouts: [(name: String, pytorch: Bool, of: (TensorSpec) -> Layout)] = [
            (pytorchModel ? "PyTorch" : "Keras", pytorchModel, own),
            (pytorchModel ? "Keras" : "PyTorch", !pytorchModel, { other($0, semantics: info.semantics) }),
        ]
        let fits = layouts.filter { l in zip(file, ts).allSatisfy { $0.1.shape == l.of($1).shape } }
        guard !fits.isEmpty else { throw refuse(firstMismatch(file, ts, info: info)) }
        var chosen = fits[0]
        if fits.count == 2 && !ts.allSatisfy({ isIdentity($0, semantics: info.semantics) }) {
            guard let torch = namesSayPyTorch(file.map(\.0)), let pick = fits.first(where: { $0.pytorch == torch }) else {
                throw refuse("every shape fits both the Keras and the PyTorch layout (square kernels), and the file's names do not say which it is")
            }
            chosen = pick
        }
        let crossing = chosen.name != layouts[0].name
        if crossing, let problem = flattenProblem(ts) { throw refuse(problem) }
        if crossing, let r = ts.first(where: { $0.key.hasSuffix("/recurrent_kernel") || $0.key.contains(".weight_hh_l") }) {
            throw refuse("model tensor '\(r.key)' belongs to a recurrent layer, whose weights cannot be carried between Keras and PyTorch by order (GRU gate orders and the bias conventions differ)")
        }
        if crossing, let a = ts.first(where: { $0.key.hasSuffix("/attention_output/kernel") }) {
            throw refuse("model tensor '\(a.key)' belongs to a MultiHeadAttention layer, whose [in, heads, size] kernels have no PyTorch layout to carry them by order")
        }
        var values: [[Float]] = [], lines: [String] = []
        for (i, ((k, a), t)) in zip(file, ts).enumerated() {
            let v = try a.floats()
            if let bad = v.firstIndex(where: { !$0.isFinite }) {
                throw refuse("file tensor '\(k)' has a non-finite value (\(v[bad])) at flat index \(bad)")
            }
            var inModel = [Float](repeating: 0, count: t.count)
            for (j, m) in chosen.of(t).toInternal().enumerated() { inModel[m] = v[j] }
            values.append(t.fileToInternalIndex().map { inModel[$0] })
            lines.append("  #\(i + 1) \(k) \(a.shape) -> \(t.key) \(t.fileShape)")
        }
        return Result(values: values, lines: lines, layoutName: chosen.name)
    }

    static func firstMismatch(_ file: [(String, NDArray)], _ ts: [TensorSpec], info: ModelInfo) -> String {
        for (i, ((k, a), t)) in zip(file, ts).enumerated() {
            let o = other(t, semantics: info.semantics).shape
            if a.shape != t.fileShape && a.shape != o {
                let alt = o == t.fileShape ? "" : " (or \(o) in the \(info.semantics == "pytorch" ? "Keras" : "PyTorch") layout)"
                return "file tensor #\(i + 1) '\(k)' has shape \(a.shape), but model tensor #\(i + 1) '\(t.key)' expects \(t.fileShape)\(alt)"
            }
        }
        return "the file's shapes fit neither layout throughout (some tensors fit only the Keras layout, others only the PyTorch one)"
    }

    /// A Dense/Linear kernel fed by a Flatten of more than one spatial position (its input size
    /// differs from the channel count of the conv before it), which cannot cross layouts.
    static func flattenProblem(_ ts: [TensorSpec]) -> String? {
        for (i, t) in ts.enumerated() where t.shape.count == 2 {
            var channels: Int?
            for p in ts[..<i].reversed() {
                if p.shape.count == 2 { break }
                if p.shape.count == 1 { channels = p.shape[0]; continue }
                // A PyTorch depthwise kernel: the view [kh, kw, C * mult, 1] read as [C * mult, 1, kh, kw].
                let depthwise = p.key.hasSuffix("/depthwise_kernel") || p.filePermutation == [2, 3, 0, 1]
                let c = channels ?? (depthwise ? p.shape[2] * p.shape[3] : p.shape.last!)
                if t.shape[0] != c {
                    return "model tensor '\(t.key)' \(t.fileShape) takes a flattened \(t.shape[0] / max(c, 1))-position map of \(c) channels; "
                        + "Keras flattens it H, W, C and PyTorch C, H, W, so its weights cannot be carried across by order"
                }
                break
            }
        }
        return nil
    }
}
