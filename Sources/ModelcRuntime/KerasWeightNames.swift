// Keras 3 weight files (`.weights.h5`, `.keras`) name a layer's variables by position,
// "<layer>/vars/<i>" (see ModelcModelFiles' KerasWeightFiles). This maps each position to the model's
// tensor key: within a layer, Keras 3 creates its variables in a fixed order by role
// (SeparableConv2D: depthwise_kernel, pointwise_kernel, bias; Conv/Dense/DepthwiseConv2D: kernel,
// bias; LSTM, GRU and SimpleRNN cells: kernel, recurrent_kernel, bias (the file keeps them under
// the cell, KerasWeightFiles.owner); BatchNormalization: gamma, beta, moving_mean, moving_variance, without the ones that
// scale=False / center=False leave out; LayerNormalization and GroupNormalization: gamma, beta;
// MultiHeadAttention: "<layer>/query" (key, value, attention_output) holds kernel, bias;
// Normalization: mean, variance, count). Shapes are checked afterwards by `WeightsFile.match`,
// which also reports every position that maps to no tensor and every tensor left without one.

import ModelcData
import ModelcModelFiles

enum KerasWeightNames {
    /// Keras 3's variable order within a layer, by the role (last component) of the key.
    static let roleOrder = ["depthwise_kernel", "pointwise_kernel", "kernel", "recurrent_kernel", "bias", "embeddings",
                            "gamma", "beta", "moving_mean", "moving_variance", "mean", "variance", "count"]

    /// "<layer>/vars/<i>" -> (layer, i).
    static func position(_ key: String) -> (layer: String, index: Int)? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[parts.count - 2] == "vars", let i = Int(parts[parts.count - 1]), i >= 0 else { return nil }
        return (parts.dropLast(2).joined(separator: "/"), i)
    }

    /// The model's tensors of each layer, in Keras 3's variable order.
    static func layerTensors(_ info: ModelInfo) -> [String: [TensorSpec]] {
        var out: [String: [TensorSpec]] = [:]
        for t in info.tensors {
            guard let slash = t.key.lastIndex(of: "/") else { continue }
            out[String(t.key[..<slash]), default: []].append(t)
        }
        func rank(_ t: TensorSpec) -> Int {
            roleOrder.firstIndex(of: String(t.key[t.key.index(after: t.key.lastIndex(of: "/")!)...])) ?? roleOrder.count
        }
        return out.mapValues { ts in ts.enumerated().sorted { (rank($0.1), $0.0) < (rank($1.1), $1.0) }.map(\.1) }
    }

    /// A Bidirectional's "<wrapper>/forward_layer" (or backward_layer, KerasWeightFiles.owner):
    /// the model's one "<wrapper>/forward_<cell>" tensors.
    static func direction(_ layer: String, _ layers: [String: [TensorSpec]]) -> [TensorSpec]? {
        for d in ["forward", "backward"] where layer.hasSuffix("/\(d)_layer") {
            let prefix = String(layer.dropLast("\(d)_layer".count)) + "\(d)_"
            let matches = layers.filter { $0.key.hasPrefix(prefix) && !$0.key.dropFirst(prefix.count).contains("/") }
            return matches.count == 1 ? matches.first?.value : nil
        }
        return nil
    }

    /// Renames "<layer>/vars/<i>" arrays to the model's keys; other keys pass unchanged, and so
    /// do positions with no tensor (`WeightsFile.match` reports them as extra keys).
    static func translate(_ arrays: [String: NDArray], info: ModelInfo) -> [String: NDArray] {
        guard arrays.keys.contains(where: { position($0) != nil }) else { return arrays }
        let layers = layerTensors(info)
        var out: [String: NDArray] = [:]
        for (key, a) in arrays {
            if let (layer, i) = position(key), let ts = layers[layer] ?? direction(layer, layers), i < ts.count, arrays[ts[i].key] == nil {
                out[ts[i].key] = a
            } else {
                out[key] = a
            }
        }
        return out
    }
}
