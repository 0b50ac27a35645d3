// Everything a training run needs to continue exactly where it stopped.
//
// The data order, dropout seeds and augmentation are pure functions of (seed, epoch, step)
// (see Random.swift), so the position (epochsDone, stepInEpoch, globalStep) plus parameters
// and optimizer state determine the rest of the run. Partial-epoch sums are kept so that a
// run resumed mid-epoch prints the same epoch line as an uninterrupted one.

public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int            // 1-based
    public var loss: Double
    public var accuracy: Double
    public var valLoss: Double?
    public var valAccuracy: Double?
    public var seconds: Double
    public var imagesPerSecond: Double
    public init(epoch: Int, loss: Double, accuracy: Double, valLoss: Double?, valAccuracy: Double?, seconds: Double, imagesPerSecond: Double) {
        self.epoch = epoch; self.loss = loss; self.accuracy = accuracy; self.valLoss = valLoss
        self.valAccuracy = valAccuracy; self.seconds = seconds; self.imagesPerSecond = imagesPerSecond
    }
}

public struct TrainingProgress: Sendable, Equatable {
    /// Completed epochs.
    public var epochsDone = 0
    /// Updates done in the current, unfinished epoch.
    public var stepInEpoch = 0
    /// Updates done in the whole run.
    public var globalStep = 0
    public var partialLossSum = 0.0
    public var partialCorrect = 0
    public var partialSeen = 0
    public var partialSeconds = 0.0
    /// Best validation accuracy so far and its epoch (1-based); nil before the first validation.
    public var bestValAccuracy: Double?
    public var bestEpoch = 0
    /// Validation accuracy of the last completed epoch.
    public var previousValAccuracy: Double?
    public var epochsWithoutImprovement = 0
    /// Early stopping ended the run.
    public var stopped = false
    public var history: [EpochRecord] = []
    public init() {}
}

/// Training part of a checkpoint.
public struct TrainingSnapshot: Sendable {
    /// The run's settings as key=value pairs (TrainingConfig.pairs()).
    public var config: [(String, String)]
    public var progress: TrainingProgress
    public var optimizer: String
    public var optimizerIterations: Int
    public var optimizerSlots: [[Float]]
    public init(config: [(String, String)], progress: TrainingProgress, optimizer: String, optimizerIterations: Int, optimizerSlots: [[Float]]) {
        self.config = config; self.progress = progress; self.optimizer = optimizer
        self.optimizerIterations = optimizerIterations; self.optimizerSlots = optimizerSlots
    }
}
