import XCTest
@testable import ModelcRuntime

final class MetricsTests: XCTestCase {
    /// P(s+ > s-) + P(s+ == s-) / 2 by counting every (positive, negative) pair.
    func bruteForceAUC(_ s: [Float], _ pos: [Bool]) -> Double {
        var num = 0.0, pairs = 0.0
        for i in s.indices where pos[i] { for j in s.indices where !pos[j] {
            pairs += 1
            if s[i] > s[j] { num += 1 } else if s[i] == s[j] { num += 0.5 }
        } }
        return num / pairs
    }

    func testROCAUCMatchesPairCountWithTies() {
        var g = SplitMix64(seed: 9)
        for trial in 0..<20 {
            let n = 5 + g.next(below: 200)
            // few distinct values -> many ties
            let s = (0..<n).map { _ in Float(g.next(below: trial % 2 == 0 ? 5 : 1000)) / 10 }
            let pos = (0..<n).map { _ in g.next(below: 3) == 0 }
            guard pos.contains(true), pos.contains(false) else { continue }
            XCTAssertEqual(rocAUC(scores: s, positive: pos)!, bruteForceAUC(s, pos), accuracy: 1e-12)
        }
        XCTAssertNil(rocAUC(scores: [0.1, 0.2], positive: [false, false]))
        XCTAssertEqual(rocAUC(scores: [0.1, 0.9], positive: [false, true]), 1)
        XCTAssertEqual(rocAUC(scores: [0.5, 0.5], positive: [false, true]), 0.5)
    }

    func testConfusionPrecisionRecall() {
        // 3 classes; predictions (argmax): [0, 0, 1, 2, 2, 1]; labels [0, 1, 1, 2, 0, 1]
        let preds = [0, 0, 1, 2, 2, 1]
        let labels: [Int32] = [0, 1, 1, 2, 0, 1]
        var probs = [Float](repeating: 0.1, count: 18)
        for (n, p) in preds.enumerated() { probs[n * 3 + p] = 0.8 }
        let m = ClassificationMetrics(probabilities: probs, labels: labels, classes: 3, lossSum: 3)
        XCTAssertEqual(m.confusion, [[1, 0, 1], [1, 2, 0], [0, 0, 1]])
        XCTAssertEqual(m.accuracy, 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(m.loss, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.precision, [0.5, 1, 0.5])
        XCTAssertEqual(m.recall[0], 0.5); XCTAssertEqual(m.recall[1], 2.0 / 3, accuracy: 1e-12); XCTAssertEqual(m.recall[2], 1)
        XCTAssertEqual(m.f1[1], 0.8, accuracy: 1e-12)
        XCTAssertEqual(m.macroPrecision, 2.0 / 3, accuracy: 1e-12)
        // class 2 scores: 0.8 for images 3, 4; positives: image 3 -> pairs (3 vs 0,1,2,5) win, (3 vs 4) tie
        XCTAssertEqual(m.rocAUC[2]!, (4 + 0.5) / 5, accuracy: 1e-12)
    }
}
