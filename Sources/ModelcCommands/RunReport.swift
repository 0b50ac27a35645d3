// `train --report DIR` and `eval --report DIR`: maps a run's results (history, metrics of the
// evaluated splits, class counts, sample images with predictions; an autoencoder's reconstructions,
// RunReport+Autoencoder.swift) into ReportData and writes the report directory with ReportWriter (report.html, SVG plots, history.csv).

import Foundation
import ModelcData
import ModelcRuntime

enum RunReport {
    /// Images shown in the samples grid: up to `misclassifiedShown` misclassified ones and the
    /// first correctly classified ones, `shown` in all, in file order.
    static let shown = 24
    static let misclassifiedShown = 8

    /// Creates DIR and checks that a file can be written there, before any training starts.
    static func prepare(_ directory: String) throws {
        try ReportWriter.makeDirectory(directory)
        let probe = ReportWriter.join(directory, ".modelc-write-test")
        try ReportWriter.writeAtomically([], to: probe)
        unlink(probe)
    }

    static func splitMetrics(_ m: ClassificationMetrics, split: String) -> ReportSplitMetrics {
        ReportSplitMetrics(split: split, count: m.count, accuracy: m.accuracy, loss: m.loss, precision: m.precision,
                           recall: m.recall, f1: m.f1, rocAUC: m.rocAUC, confusion: m.confusion)
    }

    static func classCounts(_ images: LabeledImages, split: String, classes: Int) -> ReportClassCounts {
        var counts = [Int](repeating: 0, count: classes)
        for l in images.labels where Int(l) >= 0 && Int(l) < classes { counts[Int(l)] += 1 }
        return ReportClassCounts(split: split, counts: counts)
    }

    /// Picks the sample images (see `shown`) from `images` and their softmax `probabilities`.
    static func samples(_ images: LabeledImages, probabilities: [Float], classes: Int) -> [ReportSample] {
        var wrong: [Int] = [], right: [Int] = []
        for n in 0..<images.count {
            let row = probabilities[(n * classes)..<((n + 1) * classes)]
            let predicted = row.indices.max { row[$0] < row[$1] }.map { $0 - n * classes } ?? 0
            if predicted == Int(images.labels[n]) { if right.count < shown { right.append(n) } }
            else if wrong.count < misclassifiedShown { wrong.append(n) }
            if wrong.count >= misclassifiedShown && right.count >= shown { break }
        }
        let chosen = (wrong + right.prefix(shown - wrong.count)).sorted()
        let s = images.imageSize
        return chosen.map { n in
            let row = Array(probabilities[(n * classes)..<((n + 1) * classes)])
            let p = row.indices.max { row[$0] < row[$1] } ?? 0
            return ReportSample(pixels: Array(images.pixels[(n * s)..<((n + 1) * s)]), height: images.height, width: images.width,
                                channels: images.channels, trueLabel: Int(images.labels[n]), predictedLabel: p, probability: Double(row[p]))
        }
    }

    /// History rows with the learning rate of each epoch's first update (nil when unknown).
    static func history(_ records: [EpochRecord], config: TrainingConfig, stepsPerEpoch: Int?) -> [ReportEpoch] {
        records.map { r in
            var lr: Double? = nil
            if case .constant = config.schedule { lr = Double(config.learningRate) }
            else if let spe = stepsPerEpoch {
                lr = Double(config.schedule.learningRate(base: config.learningRate, step: (r.epoch - 1) * spe, epoch: r.epoch - 1,
                                                         totalSteps: spe * config.epochs))
            }
            return ReportEpoch(epoch: r.epoch, loss: r.loss, accuracy: r.accuracy, valLoss: r.valLoss, valAccuracy: r.valAccuracy,
                               seconds: r.seconds, learningRate: lr)
        }
    }

    static func settings(_ config: TrainingConfig) -> [(key: String, value: String)] {
        var protocolText: String
        if let r = config.resplit {
            protocolText = "--resplit \(r): the \(config.dataset) test files shuffled with split seed \(config.splitSeed ?? 0), cut into \(r.train) train, \(r.validation) validation, \(r.test) test images"
        } else {
            protocolText = "train split\(config.limit > 0 ? " (first \(config.limit) images)" : ""), last \(config.validationSplit) held out for validation\(config.splitSeed.map { " after a shuffle with split seed \($0)" } ?? ""); test split for test"
        }
        if config.resplit != nil && config.limit > 0 { protocolText += "; training limited to the first \(config.limit) images" }
        let o = config.optimizer
        return [
            ("dataset", config.dataset), ("data protocol", protocolText),
            ("optimizer", "\(o.kind.rawValue), lr \(config.learningRate), schedule \(config.schedule), weight decay \(o.weightDecay)"),
            ("batch, epochs", "\(config.batchSize), \(config.epochs)"), ("loss", config.loss.rawValue),
            ("early stopping", config.earlyStopping.description), ("seed", "\(config.seed)"),
            ("threads", config.threads > 0 ? "\(config.threads)" : "not recorded"),
        ]
    }

    /// Evaluates `model` on each (split name, images) pair, then writes the report. Samples come
    /// from the split named `samplesFrom` (or the last one).
    @discardableResult
    static func write<M: CompiledModel>(to directory: String, model: M, config: TrainingConfig, history: [ReportEpoch],
                                        splits: [(String, LabeledImages)], samplesFrom: String?, info extra: [(key: String, value: String)],
                                        names: [String], batch: Int) throws -> [String] {
        if config.targetIsInput {
            return try writeAutoencoder(to: directory, model: model, config: config, history: history, splits: splits,
                                        samplesFrom: samplesFrom, info: extra, batch: batch)
        }
        let info = M.info
        let loss = Loss(kind: config.loss, modelEndsWithSoftmax: M.endsWithSoftmax)
        var metrics: [ReportSplitMetrics] = [], counts: [ReportClassCounts] = [], samples: [ReportSample] = []
        let sampleSplit = samplesFrom ?? splits.last?.0
        for (name, images) in splits where images.count > 0 {
            let (m, p) = Evaluator.evaluateWithProbabilities(model, images: images, loss: loss, batch: batch)
            metrics.append(splitMetrics(m, split: name))
            counts.append(classCounts(images, split: name, classes: info.classCount))
            if name == sampleSplit { samples = self.samples(images, probabilities: p, classes: info.classCount) }
        }
        let parameters = [("model", "\(info.name) (\(info.trainableParameterCount) trainable parameters of \(info.parameterCount), fingerprint \(info.fingerprint))")]
        let data = ReportData(modelName: info.name, classNames: names, info: parameters + extra + settings(config),
                              history: history, splits: metrics, classCounts: counts, samples: samples,
                              heatMapSplit: metrics.contains { $0.split == sampleSplit } ? sampleSplit : nil)
        return try ReportWriter.write(to: directory, data: data)
    }
}
