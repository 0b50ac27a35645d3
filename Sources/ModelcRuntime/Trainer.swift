// The training loop: shuffled mini-batches, forward, loss, backward, optimizer step; after each
// epoch validation, early stopping, checkpoints (latest and best) and one history record.
//
// Reproducibility: epoch e visits the images in seededPermutation(seed, e); update s uses
// dropout seed deriveSeed(seed, .dropout, s); augmentation is seeded by (seed, s, k). Nothing
// else is random, so a run restored from a checkpoint at (epoch, step) continues exactly as the
// uninterrupted run would have (given a deterministic model).

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why `Trainer.run` stopped early.
public enum TrainingStop: Error, CustomStringConvertible {
    /// SIGINT/SIGTERM: the checkpoint (if any) holds the state after `globalStep` updates.
    case interrupted(epoch: Int, step: Int, checkpoint: String?)
    /// The loss became NaN or infinite; parameters after this step are not saved.
    case nonFiniteLoss(epoch: Int, step: Int, checkpoint: String?)

    public var description: String { message(program: nil) }

    /// The message, with the command to resume spelled out for `program` (the binary's name).
    public func message(program: String?) -> String {
        let command = program.map { "\($0) train" } ?? "train"
        switch self {
        case let .interrupted(e, s, c):
            return "interrupted in epoch \(e) after step \(s)" + (c.map { "; state saved to \($0), continue with `\(command) --resume --checkpoint \($0)` (and the same --data, if given)" } ?? "; no checkpoint path, nothing saved")
        case let .nonFiniteLoss(e, s, c):
            return "the loss or the weights became NaN or infinite in epoch \(e) at step \(s); stopped" + (c.map { ", the last good state is in \($0)" } ?? "") + " (try a lower --lr)"
        }
    }
}

/// SIGINT/SIGTERM request a clean stop after the current step (a second signal exits at once).
public enum Interruption {
    nonisolated(unsafe) public static var requested: Int32 = 0
    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { sig in
            if Interruption.requested != 0 { _exit(128 + sig) }
            Interruption.requested = sig
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}

/// What the trainer reports while it runs.
public struct TrainingObserver {
    public var step: (_ epoch: Int, _ stepInEpoch: Int, _ stepsPerEpoch: Int, _ imagesDone: Int, _ imagesPerEpoch: Int, _ seconds: Double, _ loss: Double, _ accuracy: Double) -> Void = { _, _, _, _, _, _, _, _ in }
    public var epoch: (EpochRecord) -> Void = { _ in }
    public var message: (String) -> Void = { _ in }
    public init() {}
}

public final class Trainer<M: CompiledModel> {
    public let model: M
    public let config: TrainingConfig
    public let optimizer: Optimizer
    public var progress: TrainingProgress
    public let train: LabeledImages
    public let validation: LabeledImages?
    /// Latest state after every epoch (and on interruption); best model at `bestPath`.
    public var checkpointPath: String?
    public var observer = TrainingObserver()
    /// Stop after this many updates in total (tests simulate an interruption with it).
    public var stopAfterGlobalStep: Int?

    /// config.loss on the model's head and the data (TaskLosses.swift).
    public let loss: Loss
    private let input: UnsafeMutablePointer<Float>
    private let labels: UnsafeMutablePointer<Int32>
    private let targets: UnsafeMutablePointer<Float>
    private let outputGradient: UnsafeMutablePointer<Float>

    /// `model` must have maxBatch >= config.batchSize and hold the starting parameters.
    public init(model: M, config: TrainingConfig, train: LabeledImages, validation: LabeledImages?) throws {
        guard model.maxBatch >= config.batchSize else {
            throw RuntimeError("model allocated for batches of \(model.maxBatch), training needs \(config.batchSize)")
        }
        guard train.count > 0 else { throw RuntimeError("no training images") }
        if config.earlyStopping != .none && validation == nil {
            throw UsageError("early stopping '\(config.earlyStopping)' needs a validation set: set --val-split above 0")
        }
        let info = M.info
        var loss = M.heads.isEmpty ? try Loss(kind: config.loss, head: M.head, oneHotTargets: train.targets != nil && train.targetWidth > 1)
            : try Loss(heads: M.heads)
        loss.targetIsInput = config.targetIsInput
        try loss.objective.check(outputs: info.classCount, head: M.head, loss: config.loss)
        self.loss = loss
        self.model = model
        self.config = config
        self.train = try train.forLoss(loss, info: info)
        self.validation = try validation?.forLoss(loss, info: info)
        if !loss.objective.hasAccuracy && config.earlyStopping != .none {
            throw UsageError("early stopping watches validation accuracy; loss \(loss.objective.rawValue) (regression) has none: use --early-stopping none")
        }
        self.optimizer = Optimizer(settings: config.optimizer, info: info)
        self.progress = TrainingProgress()
        input = .allocate(capacity: config.batchSize * info.inputSize)
        labels = .allocate(capacity: config.batchSize)
        targets = .allocate(capacity: config.batchSize * info.classCount)
        outputGradient = .allocate(capacity: config.batchSize * info.classCount)
    }

    deinit { input.deallocate(); labels.deallocate(); targets.deallocate(); outputGradient.deallocate() }

    /// Accuracy of `correct` predictions among `seen` examples (binary heads count every unit).
    public func accuracy(correct: Int, seen: Int) -> Double {
        Double(correct) / Double(max(1, seen * loss.accuracyUnits(width: M.info.classCount)))
    }

    public var stepsPerEpoch: Int { (train.count + config.batchSize - 1) / config.batchSize }
    public var totalSteps: Int { stepsPerEpoch * config.epochs }
    public var isFinished: Bool { progress.stopped || progress.epochsDone >= config.epochs }

    public static func bestPath(for path: String) -> String {
        if path.hasSuffix(".ckpt") { return String(path.dropLast(5)) + ".best.ckpt" }
        return path + ".best"
    }

    // MARK: checkpoints

    public func snapshot() -> Checkpoint {
        Checkpoint(model: model, training: TrainingSnapshot(
            config: config.pairs() + Self.momentumForm(optimizer.settings), progress: progress, optimizer: config.optimizer.kind.rawValue,
            optimizerIterations: optimizer.iterations, optimizerSlots: optimizer.slotArrays()))
    }

    /// Restores parameters, optimizer state and progress from a checkpoint of this model.
    public func restore(_ c: Checkpoint, file: String) throws {
        try c.checkMatches(M.info, file: file)
        guard let t = c.training else {
            throw RuntimeError(file: file, "checkpoint holds weights only (no training state) and cannot be resumed; start a new run with --weights or --checkpoint without --resume")
        }
        guard t.optimizer == config.optimizer.kind.rawValue else {
            throw RuntimeError(file: file, "checkpoint was trained with optimizer \(t.optimizer), this run uses \(config.optimizer.kind.rawValue)")
        }
        try optimizer.restore(slots: t.optimizerSlots, iterations: t.optimizerIterations)
        c.load(into: model)
        progress = t.progress
        convertMomentum(storedPairs: t.config)
    }

    /// PyTorch models' momentum buffers hold gradients (torch.optim's form, Optimizers.swift);
    /// checkpoints say so, as `momentum_buffer=gradients`.
    static func momentumForm(_ s: OptimizerSettings) -> [(String, String)] {
        s.torchForms && (s.kind == .momentum || s.kind == .nesterov) ? [("momentum_buffer", "gradients")] : []
    }

    /// A PyTorch model's checkpoint written before its momentum buffer held gradients holds
    /// Keras's steps, m = -lr v: converted with the learning rate of its last step, and said.
    private func convertMomentum(storedPairs: [(String, String)]) {
        guard !Self.momentumForm(optimizer.settings).isEmpty, !storedPairs.contains(where: { $0.0 == "momentum_buffer" }),
              progress.globalStep > 0, let slot = optimizer.slots.first else { return }
        let epoch = max(0, progress.epochsDone - (progress.stepInEpoch == 0 ? 1 : 0))
        let lr = config.schedule.learningRate(base: config.learningRate, step: progress.globalStep - 1, epoch: epoch, totalSteps: totalSteps)
        for i in 0..<optimizer.parameterCount { slot[i] = lr > 0 ? -slot[i] / lr : 0 }
        observer.message("momentum state converted from the form of earlier versions (steps) to torch.optim's (gradients), with lr \(lr)")
    }

    private func save() throws {
        guard let path = checkpointPath else { return }
        try snapshot().write(to: path)
    }

    // MARK: the loop

    /// Runs until `config.epochs` epochs are done or early stopping ends the run.
    public func run() throws {
        let info = M.info
        let classes = info.classCount
        // a fresh run's input Normalization layers: Keras's adapt(x_train) (loaded ones keep theirs)
        if progress.globalStep == 0 { NormalizationAdapt.apply(model, to: train).forEach(observer.message) }
        let batch = config.batchSize
        let augmentation: Augmentation? = config.augmentation.isIdentity ? nil : config.augmentation
        while !isFinished {
            let epoch = progress.epochsDone                        // 0-based
            let order = seededPermutation(count: train.count, seed: deriveSeed(config.seed, .shuffle, UInt64(epoch)))
            let epochStart = Date()
            let secondsBefore = progress.partialSeconds
            var trainSeconds = progress.partialSeconds
            while progress.stepInEpoch < stepsPerEpoch {
                if let limit = stopAfterGlobalStep, progress.globalStep >= limit {
                    try save()
                    throw TrainingStop.interrupted(epoch: epoch + 1, step: progress.stepInEpoch, checkpoint: checkpointPath)
                }
                let stepStart = Date()
                let lo = progress.stepInEpoch * batch
                let hi = min(train.count, lo + batch)
                let n = hi - lo
                train.fillBatch(order[lo..<hi], input: input, labels: labels, targets: targets, scale: info.inputScale, offset: info.inputOffset,
                                augmentation: augmentation, seed: config.seed, step: progress.globalStep)
                if loss.targetIsInput { targets.update(from: input, count: n * classes) }
                let out = model.forward(input, count: n, training: true,
                                        seed: deriveSeed(config.seed, .dropout, UInt64(progress.globalStep)))
                try model.checkInput("training batch \(progress.stepInEpoch + 1) of epoch \(epoch + 1)")
                let (lossSum, correct) = loss.objective.usesLabels
                    ? loss.evaluate(outputs: out, labels: labels, count: n, classes: classes, gradient: outputGradient)
                    : loss.evaluate(outputs: out, targets: targets, count: n, width: classes, gradient: outputGradient)
                guard lossSum.isFinite else {
                    throw TrainingStop.nonFiniteLoss(epoch: epoch + 1, step: progress.stepInEpoch + 1, checkpoint: checkpointPath)
                }
                model.backward(outputGradient, count: n)
                let penalty = optimizer.reportedPenalty(model.parameters)
                let lr = config.schedule.learningRate(base: config.learningRate, step: progress.globalStep, epoch: epoch, totalSteps: totalSteps)
                optimizer.step(parameters: model.parameters, gradients: model.gradients, lr: lr)
                progress.stepInEpoch += 1
                progress.globalStep += 1
                progress.partialLossSum += lossSum + penalty * Double(n)
                progress.partialCorrect += correct
                progress.partialSeen += n
                trainSeconds += Date().timeIntervalSince(stepStart)
                progress.partialSeconds = secondsBefore + Date().timeIntervalSince(epochStart)
                observer.step(epoch + 1, progress.stepInEpoch, stepsPerEpoch, progress.partialSeen, train.count,
                              progress.partialSeconds, progress.partialLossSum / Double(progress.partialSeen),
                              accuracy(correct: progress.partialCorrect, seen: progress.partialSeen))
                if Interruption.requested != 0 {
                    try save()
                    throw TrainingStop.interrupted(epoch: epoch + 1, step: progress.stepInEpoch, checkpoint: checkpointPath)
                }
            }
            // validation
            var valLoss: Double? = nil, valAccuracy: Double? = nil
            if let v = validation, v.count > 0 {
                let m = Evaluator.evaluateTask(model, images: v, loss: loss, batch: model.maxBatch)
                try model.checkInput("validation")
                // Keras's validation loss includes the regularization losses, as its training loss does
                valLoss = m.loss + optimizer.reportedPenalty(model.parameters); valAccuracy = m.accuracy
            }
            // never save a state that has gone non-finite: the last good checkpoint stays
            let parametersFinite = (0..<info.parameterCount).allSatisfy { model.parameters[$0].isFinite }
            guard parametersFinite, valLoss?.isFinite ?? true else {
                throw TrainingStop.nonFiniteLoss(epoch: epoch + 1, step: progress.stepInEpoch, checkpoint: checkpointPath)
            }
            let seconds = secondsBefore + Date().timeIntervalSince(epochStart)
            let record = EpochRecord(epoch: epoch + 1, loss: progress.partialLossSum / Double(max(1, progress.partialSeen)),
                                     accuracy: accuracy(correct: progress.partialCorrect, seen: progress.partialSeen),
                                     valLoss: valLoss, valAccuracy: valAccuracy, seconds: seconds,
                                     imagesPerSecond: Double(progress.partialSeen) / max(1e-9, trainSeconds))
            progress.history.append(record)
            progress.epochsDone += 1
            progress.stepInEpoch = 0
            progress.partialLossSum = 0; progress.partialCorrect = 0; progress.partialSeen = 0; progress.partialSeconds = 0
            let improved = updateEarlyStopping(valAccuracy: valAccuracy, epoch: epoch + 1)
            if improved, let path = checkpointPath {
                try snapshot().write(to: Trainer.bestPath(for: path))
            }
            try save()
            observer.epoch(record)
            if progress.stopped {
                observer.message("early stopping (\(config.earlyStopping)) after epoch \(epoch + 1); best validation accuracy \(String(format: "%.4f", progress.bestValAccuracy ?? 0)) in epoch \(progress.bestEpoch)")
            }
            if Interruption.requested != 0 && !isFinished {
                throw TrainingStop.interrupted(epoch: epoch + 1, step: stepsPerEpoch, checkpoint: checkpointPath)
            }
        }
    }

    /// Updates best-so-far and the stop flag after an epoch; returns whether this epoch is a new best.
    @discardableResult
    public func updateEarlyStopping(valAccuracy: Double?, epoch: Int) -> Bool {
        guard let a = valAccuracy else { return false }
        var improved = false
        if let best = progress.bestValAccuracy, a <= best {
            progress.epochsWithoutImprovement += 1
        } else {
            progress.bestValAccuracy = a
            progress.bestEpoch = epoch
            progress.epochsWithoutImprovement = 0
            improved = true
        }
        switch config.earlyStopping {
        case .none: break
        case .patience(let n):
            if progress.epochsWithoutImprovement >= n { progress.stopped = true }
        case .dropAfter(let n):
            if epoch > n, let previous = progress.previousValAccuracy, a < previous { progress.stopped = true }
        }
        progress.previousValAccuracy = a
        return improved
    }
}
