// The library API's training: `model.train(on: images, epochs: 2) { event in ... }` runs the
// binary's training loop (Trainer) on the model in place. Settings start from the model file's
// annotations (TrainingDefaults), as `train` does, or from a `config` the caller changed; the
// arguments go on top. Validation: the images given, or the last `validationSplit` fraction of the training
// images (the model file's val_split by default, as Keras's validation_split).

import Foundation

/// What `train(on:)` reports while it runs (on the calling thread).
public enum TrainingEvent: Sendable {
    /// After each update: the epoch (1-based), the step in it, the steps per epoch, and the mean
    /// loss and accuracy of the epoch so far.
    case step(epoch: Int, step: Int, stepsPerEpoch: Int, loss: Double, accuracy: Double)
    /// After each epoch, with its validation loss and accuracy when there is a validation set.
    case epoch(EpochRecord)
    /// Early stopping and the like.
    case message(String)
}

extension CompiledModel {
    /// Trains the model's current parameters (fresh from `init(seed:)`, or loaded weights to fine-tune)
    /// and returns one record per epoch. With `checkpoint`, the latest state is written there after
    /// every epoch and the best one next to it (as `train --checkpoint`); the binary can `--resume` it.
    @discardableResult
    public func train(on images: LabeledImages, epochs: Int? = nil, batchSize: Int? = nil, learningRate: Float? = nil,
                      validation: LabeledImages? = nil, validationSplit: Float? = nil, seed: UInt64? = nil,
                      checkpoint: URL? = nil, config base: TrainingConfig? = nil,
                      progress: @escaping (TrainingEvent) -> Void = { _ in }) throws -> [EpochRecord] {
        var config = try base ?? Self.trainingConfig()
        if let e = epochs { config.epochs = e }
        if let b = batchSize { config.batchSize = b }
        if let r = learningRate { config.learningRate = r }
        if let s = validationSplit { config.validationSplit = s }
        if let s = seed { config.seed = s }
        config.threads = Parallel.threads
        try checkSettings(config, validation: validation, validationSplit: validationSplit)
        try Self.checkShape(images, source: "training images")
        if let v = validation { try Self.checkShape(v, source: "validation images") }
        let sets = validation.map { (train: images, validation: Optional($0)) } ?? images.splitForValidation(config.validationSplit)
        let trainer = try Trainer(model: self, config: config, train: sets.train, validation: sets.validation)
        trainer.observer = Self.observer(progress)
        if let c = checkpoint {
            trainer.checkpointPath = c.path
            try trainer.snapshot().write(to: c.path)   // an unwritable path fails now, not after an epoch
        }
        try trainer.run()
        return trainer.progress.history
    }

    /// The model file's training settings (optimizer, schedule, augmentation, ...): change
    /// any of them and pass the result as `train(on:config:)`.
    public static func trainingConfig() throws -> TrainingConfig {
        try TrainingConfig(defaults: info.defaults, dataset: info.dataset ?? "")
    }

    private func checkSettings(_ config: TrainingConfig, validation: LabeledImages?, validationSplit: Float?) throws {
        guard config.batchSize >= 1, config.batchSize <= maxBatch else {
            throw UsageError("train: batch size \(config.batchSize) is outside 1...\(maxBatch), the batch this model was allocated for (create it with maxBatch: \(max(1, config.batchSize)) or pass a smaller batchSize)")
        }
        guard config.epochs >= 0 else { throw UsageError("train: epochs must be 0 or more, found \(config.epochs)") }
        guard config.learningRate > 0, config.learningRate.isFinite else {
            throw UsageError("train: learning rate must be a positive finite number, found \(config.learningRate)")
        }
        guard config.validationSplit >= 0, config.validationSplit < 1 else {
            throw UsageError("train: validationSplit must be in [0, 1), found \(config.validationSplit)")
        }
        if validation != nil && validationSplit != nil {
            throw UsageError("train: give validation images or a validationSplit, not both")
        }
    }

    private static func observer(_ progress: @escaping (TrainingEvent) -> Void) -> TrainingObserver {
        var o = TrainingObserver()
        o.step = { epoch, step, steps, _, _, _, loss, accuracy in
            progress(.step(epoch: epoch, step: step, stepsPerEpoch: steps, loss: loss, accuracy: accuracy))
        }
        o.epoch = { progress(.epoch($0)) }
        o.message = { progress(.message($0)) }
        return o
    }
}
