// Metrics that match the task (TaskLosses.swift): every task has its mean loss; classification
// (sparse or one-hot categorical, margin) and a one-unit binary head also have accuracy and the
// ClassificationMetrics (a binary head as two classes, 0 and 1, from p = P(class 1));
// multi-label heads have binary accuracy over every unit (threshold 0.5); regression (MSE, MAE
// losses) has the mean squared and mean absolute error over every output value.
//
// Stable keys (eval --json, train --json): "task" (multiclass | binary | multilabel |
// regression), "loss", "accuracy" (null for regression), "mse" and "mae" (regression), "count".

import Foundation

public struct TaskMetrics: Sendable {
    public enum Task: String, Sendable { case multiclass, binary, multilabel, regression }
    public let task: Task
    public let count: Int
    public let lossSum: Double
    /// Correct predictions (binary: units) of `count * units`.
    public let correct: Int
    public let units: Int
    public let squaredErrorSum: Double
    public let absoluteErrorSum: Double
    /// Output values compared (count x outputs).
    public let values: Int
    /// Multiclass and one-unit binary tasks: per-class metrics and the confusion matrix.
    public let classification: ClassificationMetrics?

    public var loss: Double { count == 0 ? 0 : lossSum / Double(count) }
    public var accuracy: Double? {
        guard task != .regression else { return nil }
        return count == 0 ? 0 : Double(correct) / Double(count * units)
    }
    public var mse: Double? { task == .regression && values > 0 ? squaredErrorSum / Double(values) : nil }
    public var mae: Double? { task == .regression && values > 0 ? absoluteErrorSum / Double(values) : nil }

    public static func task(_ loss: Loss, outputs: Int) -> Task {
        switch loss.objective {
        case .sparseCategorical, .categorical, .margin: return .multiclass
        case .binary: return outputs == 1 ? .binary : .multilabel
        case .meanSquared, .meanAbsolute: return .regression
        }
    }

    /// The stable JSON fields (before any per-class ones).
    public var jsonFields: [(String, String)] {
        var f = [("task", JSON.string(task.rawValue)), ("loss", JSON.number(loss)), ("accuracy", JSON.number(accuracy))]
        if task == .regression { f += [("mse", JSON.number(mse)), ("mae", JSON.number(mae))] }
        return f + [("count", "\(count)")]
    }

    /// "loss 0.1234  accuracy 0.9500" / "loss 0.0123  mse 0.0123  mae 0.0871".
    public var line: String {
        var s = String(format: "loss %.4f", loss)
        if let a = accuracy { s += String(format: "  accuracy %.4f", a) }
        if let m = mse, let a = mae { s += String(format: "  mse %.4f  mae %.4f", m, a) }
        return s
    }
}

extension Evaluator {
    /// Runs the model in inference mode on all examples and scores them as `loss` says.
    public static func evaluateTask<M: CompiledModel>(_ model: M, images: LabeledImages, loss: Loss, batch: Int) -> TaskMetrics {
        let info = M.info
        let width = info.classCount
        if loss.heads != nil { return HeadEvaluation.run(model, images: images, loss: loss, batch: batch).total }
        let task = TaskMetrics.task(loss, outputs: width)
        if loss.objective.usesLabels {
            let m = evaluate(model, images: images, loss: loss, batch: batch)
            return TaskMetrics(task: task, count: m.count, lossSum: m.lossSum, correct: m.correct, units: 1, squaredErrorSum: 0,
                               absoluteErrorSum: 0, values: 0, classification: m)
        }
        let b = max(1, min(batch, model.maxBatch))
        let input = UnsafeMutablePointer<Float>.allocate(capacity: b * info.inputSize)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: b)
        let targets = UnsafeMutablePointer<Float>.allocate(capacity: b * width)
        defer { input.deallocate(); labels.deallocate(); targets.deallocate() }
        var lossSum = 0.0, correct = 0, squared = 0.0, absolute = 0.0
        let keepProbabilities = task == .binary || loss.objective == .categorical
        var probabilities = [Float](repeating: 0, count: keepProbabilities ? images.count * (task == .binary ? 2 : width) : 0)
        let all = Array(0..<images.count)
        var lo = 0
        while lo < images.count {
            let hi = min(images.count, lo + b), n = hi - lo
            images.fillBatch(all[lo..<hi], input: input, labels: labels, targets: targets, scale: info.inputScale, offset: info.inputOffset,
                             augmentation: nil, seed: 0, step: 0)
            if loss.targetIsInput { targets.update(from: input, count: n * width) }
            let out = model.forward(input, count: n, training: false, seed: 0)
            let r = loss.evaluate(outputs: out, targets: targets, count: n, width: width, gradient: nil)
            lossSum += r.lossSum; correct += r.correct
            loss.addErrors(outputs: out, targets: targets, count: n, width: width, stride: width, squared: &squared, absolute: &absolute)
            if keepProbabilities {
                probabilities.withUnsafeMutableBufferPointer { p in
                    for k in 0..<n {
                        if task == .binary {
                            let z = out[k]
                            let q = loss.head == .sigmoid ? z : 1 / (1 + expf(-z))
                            p[2 * (lo + k)] = 1 - q; p[2 * (lo + k) + 1] = q
                        } else {
                            softmax(out + k * width, into: p.baseAddress! + (lo + k) * width, width)
                        }
                    }
                }
            }
            lo = hi
        }
        let classification = keepProbabilities
            ? ClassificationMetrics(probabilities: probabilities, labels: images.labels, classes: task == .binary ? 2 : width, lossSum: lossSum)
            : nil
        return TaskMetrics(task: task, count: images.count, lossSum: lossSum, correct: correct, units: loss.accuracyUnits(width: width),
                           squaredErrorSum: squared, absoluteErrorSum: absolute, values: images.count * width,
                           classification: classification)
    }
}
