// Everything a report shows, as plain values. The training and evaluation code map their own
// results into these structs; the report code depends on nothing else.
//
// Conventions: class indices are 0-based and index `classNames`; fractions (accuracy, precision,
// recall, F1, ROC-AUC) are in 0...1; `confusion[true][predicted]` counts examples.

/// One row of the training history (one epoch).
public struct ReportEpoch: Sendable, Equatable {
    public var epoch: Int                 // 1-based
    public var loss: Double
    public var accuracy: Double
    public var valLoss: Double?           // nil when there was no validation data this epoch
    public var valAccuracy: Double?
    public var seconds: Double
    public var learningRate: Double?
    public init(epoch: Int, loss: Double, accuracy: Double, valLoss: Double? = nil, valAccuracy: Double? = nil,
                seconds: Double, learningRate: Double? = nil) {
        self.epoch = epoch; self.loss = loss; self.accuracy = accuracy
        self.valLoss = valLoss; self.valAccuracy = valAccuracy
        self.seconds = seconds; self.learningRate = learningRate
    }
}

/// Evaluation of the model on one split ("train", "val", "test", or any name).
public struct ReportSplitMetrics: Sendable, Equatable {
    public var split: String
    public var count: Int                 // examples evaluated
    public var accuracy: Double
    public var loss: Double?              // mean loss; nil when not computed
    public var precision: [Double]        // per class
    public var recall: [Double]
    public var f1: [Double]
    public var rocAUC: [Double?]          // per class one-vs-rest; nil where undefined
    public var confusion: [[Int]]         // [true][predicted], classes x classes
    public init(split: String, count: Int, accuracy: Double, loss: Double?, precision: [Double], recall: [Double],
                f1: [Double], rocAUC: [Double?], confusion: [[Int]]) {
        self.split = split; self.count = count; self.accuracy = accuracy; self.loss = loss
        self.precision = precision; self.recall = recall; self.f1 = f1; self.rocAUC = rocAUC
        self.confusion = confusion
    }

    /// Examples per true class (row sums of the confusion matrix).
    public var support: [Int] { confusion.map { $0.reduce(0, +) } }
    public var macroPrecision: Double { ReportSplitMetrics.mean(precision) }
    public var macroRecall: Double { ReportSplitMetrics.mean(recall) }
    public var macroF1: Double { ReportSplitMetrics.mean(f1) }
    /// Mean over the classes where ROC-AUC is defined; nil when none is.
    public var macroROCAUC: Double? {
        let d = rocAUC.compactMap { $0 }
        return d.isEmpty ? nil : ReportSplitMetrics.mean(d)
    }
    private static func mean(_ a: [Double]) -> Double { a.isEmpty ? 0 : a.reduce(0, +) / Double(a.count) }
}

/// Number of examples of each class in one split (for the class-distribution chart).
public struct ReportClassCounts: Sendable, Equatable {
    public var split: String
    public var counts: [Int]              // per class
    public init(split: String, counts: [Int]) { self.split = split; self.counts = counts }
}

/// One test image with its true and predicted class.
public struct ReportSample: Sendable, Equatable {
    public var pixels: [UInt8]            // height x width x channels, HWC, 0...255
    public var height: Int
    public var width: Int
    public var channels: Int              // 1 (grayscale) or 3 (RGB)
    public var trueLabel: Int
    public var predictedLabel: Int
    public var probability: Double        // probability of the predicted class
    public init(pixels: [UInt8], height: Int, width: Int, channels: Int, trueLabel: Int, predictedLabel: Int, probability: Double) {
        self.pixels = pixels; self.height = height; self.width = width; self.channels = channels
        self.trueLabel = trueLabel; self.predictedLabel = predictedLabel; self.probability = probability
    }
    public var isCorrect: Bool { trueLabel == predictedLabel }
}

/// The whole report.
public struct ReportData: Sendable, Equatable {
    public var modelName: String
    public var classNames: [String]
    /// Optional names in the dataset's own script (e.g. KMNIST hiragana), same order as classNames.
    public var nativeClassNames: [String]?
    /// Free key/value lines shown at the top of the HTML (dataset, optimizer, parameters, command...).
    public var info: [(key: String, value: String)]
    public var history: [ReportEpoch]
    /// Evaluations in display order (typically train, val, test).
    public var splits: [ReportSplitMetrics]
    public var classCounts: [ReportClassCounts]
    public var samples: [ReportSample]
    /// Split whose confusion matrix is drawn as the heat map; nil picks "test", then "val", then the last split.
    public var heatMapSplit: String?
    /// Autoencoders (ReportReconstructions.swift): the error per split, and images with their
    /// reconstructions from `reconstructionSplit`.
    public var reconstructionErrors: [ReportReconstructionError] = []
    public var reconstructions: [ReportReconstruction] = []
    public var reconstructionSplit = "test"

    public init(modelName: String, classNames: [String], nativeClassNames: [String]? = nil,
                info: [(key: String, value: String)] = [], history: [ReportEpoch] = [],
                splits: [ReportSplitMetrics] = [], classCounts: [ReportClassCounts] = [],
                samples: [ReportSample] = [], heatMapSplit: String? = nil) {
        self.modelName = modelName; self.classNames = classNames; self.nativeClassNames = nativeClassNames
        self.info = info; self.history = history; self.splits = splits; self.classCounts = classCounts
        self.samples = samples; self.heatMapSplit = heatMapSplit
    }

    public static func == (a: ReportData, b: ReportData) -> Bool {
        a.modelName == b.modelName && a.classNames == b.classNames && a.nativeClassNames == b.nativeClassNames
            && a.info.map { $0.key } == b.info.map { $0.key } && a.info.map { $0.value } == b.info.map { $0.value }
            && a.history == b.history && a.splits == b.splits && a.classCounts == b.classCounts
            && a.samples == b.samples && a.heatMapSplit == b.heatMapSplit
            && a.reconstructionErrors == b.reconstructionErrors && a.reconstructions == b.reconstructions
            && a.reconstructionSplit == b.reconstructionSplit
    }

    /// "name (native)" when a native name exists, else the name.
    public func displayName(_ c: Int) -> String {
        guard c >= 0, c < classNames.count else { return "class \(c)" }
        if let n = nativeClassNames, c < n.count, !n[c].isEmpty, n[c] != classNames[c] { return "\(classNames[c]) (\(n[c]))" }
        return classNames[c]
    }

    /// The split drawn as the confusion heat map.
    public var heatMapMetrics: ReportSplitMetrics? {
        if let name = heatMapSplit { return splits.first { $0.split == name } }
        return splits.first { $0.split == "test" } ?? splits.first { $0.split == "val" } ?? splits.last
    }

    /// Checks that every array has the right length and every index is in range, so that the
    /// plots can index freely. The message names the field, what was expected and what was found.
    public func validate() throws {
        let k = classNames.count
        try validateReconstructions()
        guard k > 0 || isAutoencoder else { throw ReportError("report data: classNames is empty, expected at least one class") }
        if let n = nativeClassNames, n.count != k {
            throw ReportError("report data: nativeClassNames has \(n.count) names, expected \(k) (one per class)")
        }
        for (i, e) in history.enumerated() where e.epoch < 0 {
            throw ReportError("report data: history row \(i) has epoch \(e.epoch), expected a non-negative epoch number")
        }
        for s in splits {
            let w = "report data: split '\(s.split)':"
            for (field, n) in [("precision", s.precision.count), ("recall", s.recall.count), ("f1", s.f1.count), ("rocAUC", s.rocAUC.count)] where n != k {
                throw ReportError("\(w) \(field) has \(n) values, expected \(k) (one per class)")
            }
            guard s.confusion.count == k else {
                throw ReportError("\(w) confusion matrix has \(s.confusion.count) rows, expected \(k) (one per class)")
            }
            for (r, row) in s.confusion.enumerated() {
                guard row.count == k else { throw ReportError("\(w) confusion row \(r) has \(row.count) columns, expected \(k)") }
                if let bad = row.first(where: { $0 < 0 }) { throw ReportError("\(w) confusion row \(r) holds the negative count \(bad)") }
            }
            if s.count < 0 { throw ReportError("\(w) count is \(s.count), expected a non-negative number") }
        }
        for c in classCounts {
            guard c.counts.count == k else {
                throw ReportError("report data: class counts of split '\(c.split)' have \(c.counts.count) values, expected \(k) (one per class)")
            }
            if let bad = c.counts.first(where: { $0 < 0 }) { throw ReportError("report data: class counts of split '\(c.split)' hold the negative count \(bad)") }
        }
        if let name = heatMapSplit, !splits.contains(where: { $0.split == name }) {
            throw ReportError("report data: heatMapSplit is '\(name)', but no split has that name (have: \(splits.map { $0.split }.joined(separator: ", ")))")
        }
        for (i, s) in samples.enumerated() {
            guard (0..<k).contains(s.trueLabel), (0..<k).contains(s.predictedLabel) else {
                throw ReportError("report data: sample \(i) has true label \(s.trueLabel) and predicted label \(s.predictedLabel), expected 0...\(k - 1)")
            }
            guard s.channels == 1 || s.channels == 3 else {
                throw ReportError("report data: sample \(i) has \(s.channels) channels, expected 1 or 3")
            }
            guard s.height > 0, s.width > 0, s.height <= 4096, s.width <= 4096 else {
                throw ReportError("report data: sample \(i) is \(s.height)x\(s.width), expected 1...4096 on each side")
            }
            guard s.pixels.count == s.height * s.width * s.channels else {
                throw ReportError("report data: sample \(i) is \(s.height)x\(s.width)x\(s.channels) = \(s.height * s.width * s.channels) bytes, but has \(s.pixels.count) pixel bytes")
            }
        }
    }
}
