// Learning-rate schedules: the rate for one update as a function of its position in the run.
//
//   constant             lr
//   step:EVERY:GAMMA     lr * GAMMA^floor(epoch / EVERY)                (epoch counted from 0)
//   cosine               lr * (1 + cos(pi * step / totalSteps)) / 2     (per update)
//   onecycle             PyTorch OneCycleLR defaults: start lr/25, cosine up to lr over the
//                        first 30% of updates, cosine down to lr/25/1e4 at the end.

import Foundation

public enum Schedule: Equatable, Sendable, CustomStringConvertible {
    case constant
    case step(every: Int, gamma: Float)
    case cosine
    case oneCycle

    /// Parses "constant", "step:EVERY:GAMMA", "cosine", "onecycle".
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "constant" where parts.count == 1: self = .constant
        case "cosine" where parts.count == 1: self = .cosine
        case "onecycle" where parts.count == 1, "one-cycle" where parts.count == 1: self = .oneCycle
        case "step":
            guard parts.count == 3, let every = Int(parts[1]), every > 0,
                  let gamma = Float(parts[2]), gamma > 0, gamma.isFinite else {
                throw UsageError("schedule '\(text)': expected step:EVERY:GAMMA with EVERY a positive integer (epochs) and GAMMA a positive number, e.g. step:10:0.5")
            }
            self = .step(every: every, gamma: gamma)
        default:
            throw UsageError("unknown schedule '\(text)': expected constant, step:EVERY:GAMMA, cosine or onecycle")
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case .step(let e, let g): return "step:\(e):\(g)"
        case .cosine: return "cosine"
        case .oneCycle: return "onecycle"
        }
    }

    /// Rate for update `step` (0-based, global) in `epoch` (0-based) of a run of `totalSteps` updates.
    public func learningRate(base lr: Float, step: Int, epoch: Int, totalSteps: Int) -> Float {
        let total = Double(max(1, totalSteps))
        let s = Double(min(max(0, step), max(1, totalSteps)))
        switch self {
        case .constant:
            return lr
        case .step(let every, let gamma):
            return lr * powf(gamma, Float(epoch / every))
        case .cosine:
            return Float(Double(lr) * 0.5 * (1 + cos(Double.pi * s / total)))
        case .oneCycle:
            let maxLR = Double(lr)
            let initial = maxLR / 25
            let final = initial / 1e4
            let up = 0.3 * total - 1            // PyTorch: phase ends at pct_start * total - 1
            let end = total - 1
            func anneal(_ a: Double, _ b: Double, _ pct: Double) -> Double { b + (a - b) / 2 * (1 + cos(Double.pi * pct)) }
            if s <= up { return Float(anneal(initial, maxLR, up > 0 ? s / up : 1)) }
            return Float(anneal(maxLR, final, end > up ? min(1, (s - up) / (end - up)) : 1))
        }
    }
}
