// Keras's `Normalization.adapt(x_train)` for a run that starts from fresh parameters: each
// Normalization layer that reads the model's input (ModelInfo.adaptOnInput) gets the training
// inputs' per-channel mean and population variance, in the model's units (pixels scaled), and
// count the number of values per channel, as Keras's adapt computes them over every axis but
// the last. Only a layer still at its initial statistics (mean 0, variance 1, count 0) is
// adapted: loaded weights (Keras 3 leaves count at 0), a checkpoint or an earlier adapt keep theirs.

import Foundation

public enum NormalizationAdapt {
    /// Adapts the model's input Normalization layers still at their initial statistics; returns
    /// one line per adapted layer for the log.
    public static func apply<M: CompiledModel>(_ model: M, to images: LabeledImages) -> [String] {
        let info = M.info
        var lines: [String] = []
        for layer in info.adaptOnInput {
            guard let mean = tensor(info, layer, "mean"), let variance = tensor(info, layer, "variance"),
                  let count = tensor(info, layer, "count"), model.parameters[count.offset] == 0, images.count > 0 else { continue }
            let c = mean.count, size = images.imageSize
            guard c > 0, size % c == 0, variance.count == c,
                  (0..<c).allSatisfy({ model.parameters[mean.offset + $0] == 0 && model.parameters[variance.offset + $0] == 1 }) else { continue }
            var sum = [Double](repeating: 0, count: c), squares = [Double](repeating: 0, count: c)
            for n in 0..<images.count {
                for j in 0..<size {
                    let v = Double(value(images, n * size + j, info))
                    sum[j % c] += v; squares[j % c] += v * v
                }
            }
            let values = Double(images.count * (size / c))
            for k in 0..<c {
                let m = sum[k] / values
                model.parameters[mean.offset + k] = Float(m)
                model.parameters[variance.offset + k] = Float(max(0, squares[k] / values - m * m))
            }
            model.parameters[count.offset] = Float(values)
            lines.append("\(layer): adapted to the \(images.count) training examples (mean and variance of \(c) channel\(c == 1 ? "" : "s"), as Keras's adapt)")
        }
        return lines
    }

    static func tensor(_ info: ModelInfo, _ layer: String, _ role: String) -> TensorSpec? {
        info.tensors.first { $0.key == "\(layer)/\(role)" }
    }

    /// Value `i` of the flat training inputs in the model's units.
    @inline(__always)
    static func value(_ images: LabeledImages, _ i: Int, _ info: ModelInfo) -> Float {
        if let x = images.inputs { return x[i] }
        return Float(images.pixels[i]) * info.inputScale + info.inputOffset
    }
}
