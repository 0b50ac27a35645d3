// `train --report DIR` and `eval --report DIR` of an autoencoder (`train: target=input`): the
// reconstruction error of each split (TaskMetrics' MSE and MAE over every output value, which
// for images is per pixel) and the first examples of the sample split with the model's outputs
// for them, both mapped back to 0...255 through the input scale and offset. No class metrics:
// the targets are the inputs. The learning curves show the loss alone.

import Foundation
import ModelcData
import ModelcRuntime

extension RunReport {
    /// Examples shown in reconstructions.svg.
    static let reconstructionsShown = 16

    static func writeAutoencoder<M: CompiledModel>(to directory: String, model: M, config: TrainingConfig, history: [ReportEpoch],
                                                   splits: [(String, LabeledImages)], samplesFrom: String?,
                                                   info extra: [(key: String, value: String)], batch: Int) throws -> [String] {
        let info = M.info
        let loss = try ArrayData.runLoss(config, oneHotTargets: false)
        let sampleSplit = samplesFrom ?? splits.last?.0 ?? "test"
        var errors: [ReportReconstructionError] = [], shown: [ReportReconstruction] = []
        for (name, images) in splits where images.count > 0 {
            let t = Evaluator.evaluateTask(model, images: images, loss: loss, batch: batch)
            let values = Double(max(1, t.values))
            errors.append(ReportReconstructionError(split: name, count: t.count, mse: t.squaredErrorSum / values, mae: t.absoluteErrorSum / values))
            if name == sampleSplit { shown = reconstructions(model, images: images, count: reconstructionsShown) }
        }
        let parameters = [("model", "\(info.name) (\(info.trainableParameterCount) trainable parameters of \(info.parameterCount), fingerprint \(info.fingerprint))")]
        var data = ReportData(modelName: info.name, classNames: [], info: parameters + extra + settings(config),
                              history: history.map { var e = $0; e.accuracy = .nan; e.valAccuracy = nil; return e })
        data.reconstructionErrors = errors
        data.reconstructions = shown
        data.reconstructionSplit = sampleSplit
        return try ReportWriter.write(to: directory, data: data)
    }

    /// The first `count` examples of `images` and the model's outputs for them (inference mode),
    /// each with its mean squared error per value in the model's units.
    static func reconstructions<M: CompiledModel>(_ model: M, images: LabeledImages, count: Int) -> [ReportReconstruction] {
        let info = M.info, size = info.inputSize
        let n = min(count, images.count, model.maxBatch)
        guard n > 0, info.classCount == size else { return [] }
        let input = UnsafeMutablePointer<Float>.allocate(capacity: n * size)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        defer { input.deallocate(); labels.deallocate() }
        images.fillBatch(Array(0..<n)[...], input: input, labels: labels, scale: info.inputScale, offset: info.inputOffset,
                         augmentation: nil, seed: 0, step: 0)
        let out = model.forward(input, count: n, training: false, seed: 0)
        return (0..<n).map { k in
            let x = input + k * size, y = out + k * size
            var squared = 0.0
            for i in 0..<size { let d = Double(y[i] - x[i]); squared += d * d }
            return ReportReconstruction(original: pixels(x, count: size, info: info), reconstruction: pixels(y, count: size, info: info),
                                        height: info.inputHeight, width: info.inputWidth, channels: info.inputChannels,
                                        mse: squared / Double(size))
        }
    }

    /// Values in the model's units back to 0...255 pixels: (v - offset) / scale, rounded and clamped.
    static func pixels(_ v: UnsafePointer<Float>, count: Int, info: ModelInfo) -> [UInt8] {
        let scale = info.inputScale == 0 ? 1 : info.inputScale
        return (0..<count).map { i in
            let p = ((v[i] - info.inputOffset) / scale).rounded()
            return p.isFinite ? UInt8(max(0, min(255, p))) : 0
        }
    }
}
