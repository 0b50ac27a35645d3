// Export to a Keras 3 `.weights.h5` (issue 18), the layout `model.save_weights` writes and
// `model.load_weights` reads (Keras 3.15, keras/src/saving/saving_lib.py):
//
//   /layers/<group>/vars/0, 1, ...   float32 datasets, the layer's variables in creation order
//   /layers/<group>/vars @name       the layer's name (Keras ignores it on load; modelc's reader keys by it)
//   /vars @name                      the model's name (the model itself has no variables)
//
// Keras finds a layer's group by its position, not its name: `<group>` is the snake_case of the
// layer's class ("conv2d", "batch_normalization"), suffixed `_1`, `_2`, ... for the second, third
// layer of that class in `model.layers` order, which is the order of the summary table. So the
// layer rows of `ModelInfo.summary` give each layer's class and place. The variable order within
// a layer is KerasWeightNames'. Only layers whose variables live in their own `vars` group are
// written; recurrent layers (Keras keeps their weights in a `cell` sub-layer) and wrappers are
// refused, as are PyTorch-semantics models. Weightless layers get no group (Keras reads an empty
// store for them, which is what they hold).

import ModelcData
import ModelcModelFiles

enum KerasWeightsH5Export {
    /// Keras classes that hold all their variables themselves, and their group-name stems.
    static let classStems: [String: String] = [
        "Dense": "dense", "Conv1D": "conv1d", "Conv2D": "conv2d", "Conv2DTranspose": "conv2d_transpose",
        "DepthwiseConv2D": "depthwise_conv2d", "SeparableConv2D": "separable_conv2d",
        "BatchNormalization": "batch_normalization", "Embedding": "embedding",
    ]

    /// The layer rows of a summary table (`name (Class) ...` after the `===` rule), in order.
    static func layerRows(_ summary: String) -> [(name: String, kind: String)] {
        var out: [(String, String)] = []
        var inBody = false
        for line in summary.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("=") { inBody = true; continue }
            guard inBody, let open = line.range(of: " ("), let close = line[open.upperBound...].firstIndex(of: ")") else { continue }
            let name = line[..<open.lowerBound], kind = line[open.upperBound..<close]
            guard !name.isEmpty, !name.contains(" "), !kind.isEmpty, kind.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            out.append((String(name), String(kind)))
        }
        return out
    }

    /// The HDF5 tree Keras 3 writes for `info`'s model holding `arrays` (keyed by tensor key).
    static func tree(_ arrays: [String: NDArray], info: ModelInfo, file: String) throws -> HDF5Writer.Group {
        guard info.semantics == "keras" else {
            throw RuntimeError(file: file, "a Keras .weights.h5 holds Keras models; model \(info.name) has \(info.semantics) semantics (export .npz or .safetensors)")
        }
        let tensors = KerasWeightNames.layerTensors(info)
        let rows = layerRows(info.summary)
        let kinds = Dictionary(rows.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
        for t in info.tensors {
            let layer = t.key.lastIndex(of: "/").map { String(t.key[..<$0]) } ?? t.key
            let top = String(layer.split(separator: "/").first ?? "")
            guard let kind = kinds[top] else {
                throw RuntimeError(file: file, "tensor \(t.key) belongs to no layer row of model \(info.name)'s summary table")
            }
            guard classStems[kind] != nil, layer == top else {
                throw RuntimeError(file: file, "layer \(top) (\(kind)): a Keras .weights.h5 export writes layers of kinds \(classStems.keys.sorted().joined(separator: ", ")); Keras keeps this kind's weights elsewhere (export .npz or .safetensors)")
            }
        }
        var layers = HDF5Writer.Group()
        var used: [String: Int] = [:]
        for (name, kind) in rows {
            guard let stem = classStems[kind] else { continue }
            let k = used[stem].map { $0 + 1 } ?? 0
            used[stem] = k
            guard let ts = tensors[name] else {
                throw RuntimeError(file: file, "layer \(name) (\(kind)) has no tensors in model \(info.name); Keras would expect its weights")
            }
            var vars = HDF5Writer.Group(attributes: [("name", name)])
            vars.members = ts.enumerated().map { i, t in ("\(i)", .dataset(arrays[t.key]!)) }
            layers.members.append((k == 0 ? stem : "\(stem)_\(k)", .group(HDF5Writer.Group(members: [("vars", .group(vars))]))))
        }
        return HDF5Writer.Group(members: [("layers", .group(layers)), ("vars", .group(HDF5Writer.Group(attributes: [("name", info.name)])))])
    }

    static func write(_ arrays: [(String, NDArray)], info: ModelInfo, to path: String) throws {
        try HDF5Writer.write(tree(Dictionary(arrays, uniquingKeysWith: { a, _ in a }), info: info, file: path), to: path)
    }
}
