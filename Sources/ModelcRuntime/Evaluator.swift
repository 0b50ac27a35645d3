// Inference over a set of images in batches: probabilities, summed loss and metrics.

public enum Evaluator {
    /// Runs the model in inference mode on all images; returns metrics and the
    /// `count x classes` softmax probabilities.
    public static func evaluateWithProbabilities<M: CompiledModel>(_ model: M, images: LabeledImages, loss: Loss, batch: Int) -> (ClassificationMetrics, [Float]) {
        let info = M.info
        let classes = info.classCount
        let b = max(1, min(batch, model.maxBatch))
        let input = UnsafeMutablePointer<Float>.allocate(capacity: b * info.inputSize)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: b)
        defer { input.deallocate(); labels.deallocate() }
        var probabilities = [Float](repeating: 0, count: images.count * classes)
        var lossSum = 0.0
        let all = Array(0..<images.count)
        var lo = 0
        while lo < images.count {
            let hi = min(images.count, lo + b)
            images.fillBatch(all[lo..<hi], input: input, labels: labels, scale: info.inputScale, offset: info.inputOffset,
                             augmentation: nil, seed: 0, step: 0)
            let out = model.forward(input, count: hi - lo, training: false, seed: 0)
            lossSum += loss.evaluate(outputs: out, labels: labels, count: hi - lo, classes: classes, gradient: nil).lossSum
            probabilities.withUnsafeMutableBufferPointer { p in
                for n in 0..<(hi - lo) { softmax(out + n * classes, into: p.baseAddress! + (lo + n) * classes, classes) }
            }
            lo = hi
        }
        return (ClassificationMetrics(probabilities: probabilities, labels: images.labels, classes: classes, lossSum: lossSum), probabilities)
    }

    public static func evaluate<M: CompiledModel>(_ model: M, images: LabeledImages, loss: Loss, batch: Int) -> ClassificationMetrics {
        evaluateWithProbabilities(model, images: images, loss: loss, batch: batch).0
    }
}
