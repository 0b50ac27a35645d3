// `--resplit TRAIN:VAL:TEST`: three parts of one labeled file set (the protocol is described in
// Sources/ModelcCommands/DataSplits.swift). Stored in TrainingConfig, so in checkpoints.

import ModelcData

public struct Resplit: Equatable, Sendable, CustomStringConvertible {
    public var train: Int
    public var validation: Int
    public var test: Int

    public init(train: Int, validation: Int, test: Int) {
        self.train = train; self.validation = validation; self.test = test
    }

    /// "8000:1000:1000" (TRAIN >= 1, VAL >= 0, TEST >= 0).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        // Each count bounded, so that their sum cannot overflow.
        guard parts.count == 3, let a = parts[0], let b = parts[1], let c = parts[2], a >= 1, b >= 0, c >= 0,
              [a, b, c].allSatisfy({ $0 <= Resplit.maxCount }) else {
            throw UsageError("--resplit expects TRAIN:VAL:TEST image counts (e.g. 8000:1000:1000, TRAIN at least 1, each at most \(Resplit.maxCount)), found '\(text)'")
        }
        self.init(train: a, validation: b, test: c)
    }

    public static let maxCount = 1 << 32
    public var description: String { "\(train):\(validation):\(test)" }
    public var total: Int { train + validation + test }

    /// Indices of the three parts in a set of `count` images; throws when `count` is too small.
    public func indices(count: Int, seed: UInt64, source: String) throws -> (train: [Int], validation: [Int], test: [Int]) {
        guard total <= count else {
            throw RuntimeError(file: source, "--resplit \(description) needs \(total) images, the file set holds \(count)")
        }
        let p = seededPermutation(count: count, seed: deriveSeed(seed, .resplit))
        let a = train, b = train + validation
        return (p[0..<a].sorted(), p[a..<b].sorted(), p[b..<total].sorted())
    }
}
