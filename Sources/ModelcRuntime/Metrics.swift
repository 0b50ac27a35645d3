// Classification metrics: accuracy, mean loss, confusion matrix, per-class precision, recall,
// F1 and one-vs-rest ROC-AUC, and their macro averages.
//
// ROC-AUC is exact: the Mann-Whitney statistic from ranks of the sorted scores, tied scores
// sharing their average rank (so a tie between a positive and a negative counts one half).

public struct ClassificationMetrics: Sendable {
    public let classes: Int
    public let count: Int
    public let correct: Int
    public let lossSum: Double
    /// confusion[true][predicted]
    public let confusion: [[Int]]
    public let precision: [Double]
    public let recall: [Double]
    public let f1: [Double]
    /// nil when the class has no positive or no negative example.
    public let rocAUC: [Double?]

    public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }
    public var loss: Double { count == 0 ? 0 : lossSum / Double(count) }
    public var macroPrecision: Double { mean(precision) }
    public var macroRecall: Double { mean(recall) }
    public var macroF1: Double { mean(f1) }
    /// Mean over the classes where ROC-AUC is defined; nil if none.
    public var macroROCAUC: Double? {
        let defined = rocAUC.compactMap { $0 }
        return defined.isEmpty ? nil : mean(defined)
    }

    private func mean(_ a: [Double]) -> Double { a.isEmpty ? 0 : a.reduce(0, +) / Double(a.count) }

    /// `probabilities` is `labels.count x classes` (softmax outputs); predictions are their argmax.
    public init(probabilities: [Float], labels: [Int32], classes: Int, lossSum: Double) {
        self.classes = classes
        self.count = labels.count
        self.lossSum = lossSum
        var confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        var correct = 0
        probabilities.withUnsafeBufferPointer { p in
            for n in 0..<labels.count {
                let pred = argmax(p.baseAddress! + n * classes, classes)
                let y = Int(labels[n])
                confusion[y][pred] += 1
                if pred == y { correct += 1 }
            }
        }
        self.correct = correct
        self.confusion = confusion
        var precision = [Double](), recall = [Double](), f1 = [Double](), auc = [Double?]()
        for c in 0..<classes {
            let tp = Double(confusion[c][c])
            let predicted = Double((0..<classes).reduce(0) { $0 + confusion[$1][c] })
            let actual = Double(confusion[c].reduce(0, +))
            let p = predicted > 0 ? tp / predicted : 0
            let r = actual > 0 ? tp / actual : 0
            precision.append(p); recall.append(r)
            f1.append(p + r > 0 ? 2 * p * r / (p + r) : 0)
            var scores = [Float](repeating: 0, count: labels.count)
            var positive = [Bool](repeating: false, count: labels.count)
            for n in 0..<labels.count {
                scores[n] = probabilities[n * classes + c]
                positive[n] = Int(labels[n]) == c
            }
            auc.append(ModelcRuntime.rocAUC(scores: scores, positive: positive))
        }
        self.precision = precision; self.recall = recall; self.f1 = f1; self.rocAUC = auc
    }
}

/// Exact ROC-AUC = P(score of a random positive > score of a random negative) + P(tie) / 2.
/// Returns nil when there are no positives or no negatives.
public func rocAUC(scores: [Float], positive: [Bool]) -> Double? {
    let n = scores.count
    let nPos = positive.reduce(0) { $0 + ($1 ? 1 : 0) }
    let nNeg = n - nPos
    guard nPos > 0, nNeg > 0 else { return nil }
    let order = (0..<n).sorted { scores[$0] < scores[$1] }
    var rankSumPos = 0.0
    var i = 0
    while i < n {
        var j = i
        while j + 1 < n && scores[order[j + 1]] == scores[order[i]] { j += 1 }
        let averageRank = Double(i + j) / 2 + 1          // ranks are 1-based
        for k in i...j where positive[order[k]] { rankSumPos += averageRank }
        i = j + 1
    }
    let u = rankSumPos - Double(nPos) * Double(nPos + 1) / 2
    return u / (Double(nPos) * Double(nNeg))
}
