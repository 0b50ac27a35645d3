// The settings of one training run: model-file defaults, then command-line flags on top.
// Stored in checkpoints as key=value text so a resumed run uses the same settings.

import Foundation

public enum EarlyStopping: Equatable, Sendable, CustomStringConvertible {
    case none
    /// Stop after N epochs without a new best validation accuracy.
    case patience(Int)
    /// Seed 003's rule: run at least N epochs; after that stop as soon as validation accuracy
    /// drops below the previous epoch's, continue when it is equal; the best model is saved.
    case dropAfter(Int)

    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch (parts[0], parts.count) {
        case ("none", 1): self = .none
        case ("patience", 2):
            guard let n = Int(parts[1]), n > 0 else { throw UsageError("early stopping '\(text)': expected patience:N with N a positive integer") }
            self = .patience(n)
        case ("drop-after", 2):
            guard let n = Int(parts[1]), n >= 0 else { throw UsageError("early stopping '\(text)': expected drop-after:N with N a non-negative integer") }
            self = .dropAfter(n)
        default:
            throw UsageError("unknown early stopping '\(text)': expected none, patience:N or drop-after:N")
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .patience(let n): return "patience:\(n)"
        case .dropAfter(let n): return "drop-after:\(n)"
        }
    }
}

public struct TrainingConfig: Equatable, Sendable {
    public var optimizer: OptimizerSettings
    public var learningRate: Float
    public var batchSize: Int
    public var epochs: Int
    public var loss: LossKind
    /// The targets are the inputs (`train: target=input`, an autoencoder), not the data's y.
    public var targetIsInput = false
    /// The model's head (not a setting: the commands set it from the model, for the losses).
    public var head: OutputHead = .linear
    /// Its output heads when it has several (not a setting either; OutputHeads.swift).
    public var heads: [OutputHeadSpec] = []
    /// Array data from a CSV file (`--data file.csv`): its last `targetColumns` columns are y.
    public var targetColumns = 1
    public var schedule: Schedule
    /// Fraction of the training images held out for validation, taken from the end (as Keras's
    /// `validation_split`: train = first floor(n * (1 - split)) images).
    public var validationSplit: Float
    public var earlyStopping: EarlyStopping
    public var augmentation: Augmentation
    public var seed: UInt64
    /// Dataset name and image limit (0 = all), so a resumed run reads the same images.
    public var dataset: String
    public var limit: Int
    /// When set, the (limited) training images are shuffled with this seed before the
    /// validation split, instead of holding out the last images.
    public var splitSeed: UInt64?
    /// When set, the images come from the dataset's *test* split cut into train/val/test parts
    /// (`--resplit`, see Resplit.swift); the validation part replaces validationSplit.
    public var resplit: Resplit?
    /// Worker threads of the run (0 = not recorded). Results are bit-exact only for the same count.
    public var threads: Int = 0
    /// Image folders (dataset "image-folder"): --resize and --crop, and the class names (the
    /// class folders), so that eval, predict and --resume fit and name the images alike.
    public var imageResize = false
    public var imageCrop = false
    public var imageClasses: [String] = []

    public init(defaults d: TrainingDefaults, dataset: String) throws {
        guard let kind = OptimizerKind(rawValue: d.optimizer) else {
            throw UsageError("unknown optimizer '\(d.optimizer)': expected one of \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var o = OptimizerSettings(kind: kind)
        o.momentum = d.momentum; o.beta1 = d.beta1; o.beta2 = d.beta2; o.epsilon = d.epsilon
        o.rho = d.rho; o.rmsRho = d.rmsRho; o.weightDecay = d.weightDecay
        optimizer = o
        learningRate = d.learningRate
        batchSize = d.batchSize
        epochs = d.epochs
        guard let l = LossKind(name: d.loss) else { throw UsageError("unknown loss '\(d.loss)': expected one of \(LossKind.namesList)") }
        loss = l
        guard d.target == "labels" || d.target == "input" else { throw UsageError("unknown target '\(d.target)': expected labels or input") }
        targetIsInput = d.target == "input"
        schedule = try Schedule(parsing: d.schedule)
        validationSplit = d.validationSplit
        earlyStopping = try EarlyStopping(parsing: d.earlyStopping)
        augmentation = Augmentation(maxShift: d.augmentShift, maxDegrees: d.augmentRotate)
        seed = d.seed
        self.dataset = dataset
        limit = 0
    }

    /// The settings as ordered key=value pairs (checkpoints, `summary`); the image-folder ones
    /// only for runs on image folders (class names joined by '/', which no folder name holds).
    public func pairs() -> [(String, String)] {
        var p: [(String, String)] = [("optimizer", optimizer.kind.rawValue), ("lr", "\(learningRate)"), ("momentum", "\(optimizer.momentum)"),
         ("beta1", "\(optimizer.beta1)"), ("beta2", "\(optimizer.beta2)"), ("epsilon", "\(optimizer.epsilon)"),
         ("rho", "\(optimizer.rho)"), ("rms_rho", "\(optimizer.rmsRho)"), ("weight_decay", "\(optimizer.weightDecay)"),
         ("batch", "\(batchSize)"), ("epochs", "\(epochs)"), ("loss", loss.rawValue), ("schedule", schedule.description),
         ("val_split", "\(validationSplit)"), ("early_stopping", earlyStopping.description),
         ("augment_shift", "\(augmentation.maxShift)"), ("augment_rotate", "\(augmentation.maxDegrees)"),
         ("seed", "\(seed)"), ("dataset", dataset), ("limit", "\(limit)"), ("split_seed", splitSeed.map { "\($0)" } ?? ""),
         ("resplit", resplit?.description ?? ""), ("threads", "\(threads)")]
        if targetIsInput { p.append(("target", "input")) }
        if dataset == ArrayData.datasetName { p.append(("target_columns", "\(targetColumns)")) }
        if dataset == ImageFolderLoader.datasetName {
            p += [("image_resize", "\(imageResize)"), ("image_crop", "\(imageCrop)"), ("image_classes", imageClasses.joined(separator: "/"))]
        }
        return p
    }

    /// The target columns `train --target-columns` and a stored setting may name.
    public static let targetColumnsRange = 1...(1 << 20)

    /// Applies pairs written by `pairs()` (e.g. from a checkpoint) on top of this config. Each
    /// value is held to the range that any run can have written (a model file's annotations
    /// allow a batch and epochs up to 2^30), so that a crafted checkpoint cannot size the buffers
    /// past what Int holds, nor feed a non-finite number to the optimizer.
    public mutating func apply(pairs: [(String, String)], file: String) throws {
        func bad(_ k: String, _ v: String, _ expected: String) -> RuntimeError {
            RuntimeError(file: file, "stored setting \(k)=\(v) is not valid (expected \(expected))")
        }
        func int(_ k: String, _ v: String, _ r: ClosedRange<Int>) throws -> Int {
            guard let x = Int(v), r.contains(x) else { throw bad(k, v, "an integer in \(r.lowerBound)...\(r.upperBound)") }
            return x
        }
        func number(_ k: String, _ v: String, _ lo: Float, below hi: Float = .infinity) throws -> Float {
            guard let x = Float(v), x.isFinite, x >= lo, x < hi else { throw bad(k, v, "a finite number >= \(lo)\(hi.isFinite ? " and < \(hi)" : "")") }
            return x
        }
        func finite(_ k: String, _ v: String) throws -> Float {
            guard let x = Float(v), x.isFinite else { throw bad(k, v, "a finite number") }
            return x
        }
        for (k, v) in pairs {
            switch k {
            case "optimizer": guard let o = OptimizerKind(rawValue: v) else { throw bad(k, v, "an optimizer") }; optimizer.kind = o
            case "lr": learningRate = try number(k, v, 0)
            case "momentum": optimizer.momentum = try number(k, v, 0, below: 1)
            case "beta1": optimizer.beta1 = try finite(k, v)
            case "beta2": optimizer.beta2 = try finite(k, v)
            case "epsilon": optimizer.epsilon = try number(k, v, 0)
            case "rho": optimizer.rho = try finite(k, v)
            case "rms_rho": optimizer.rmsRho = try finite(k, v)
            case "weight_decay": optimizer.weightDecay = try number(k, v, 0)
            case "batch": batchSize = try int(k, v, 1...(1 << 30))
            case "epochs": epochs = try int(k, v, 0...(1 << 30))
            case "loss": guard let x = LossKind(name: v) else { throw bad(k, v, "a loss") }; loss = x
            case "target": guard v == "input" || v == "labels" else { throw bad(k, v, "input or labels") }; targetIsInput = v == "input"
            case "target_columns": targetColumns = try int(k, v, Self.targetColumnsRange)
            case "schedule": do { schedule = try Schedule(parsing: v) } catch { throw bad(k, v, "a schedule") }
            case "val_split": validationSplit = try number(k, v, 0, below: 1)
            case "early_stopping": do { earlyStopping = try EarlyStopping(parsing: v) } catch { throw bad(k, v, "an early-stopping rule") }
            case "augment_shift": augmentation.maxShift = try int(k, v, 0...(1 << 20))
            case "augment_rotate": augmentation.maxDegrees = try number(k, v, 0)
            case "seed": guard let x = UInt64(v) else { throw bad(k, v, "a seed") }; seed = x
            case "dataset": dataset = v
            case "limit": limit = try int(k, v, 0...Int.max)
            case "split_seed":
                if v.isEmpty { splitSeed = nil } else { guard let x = UInt64(v) else { throw bad(k, v, "a seed") }; splitSeed = x }
            case "resplit":
                if v.isEmpty { resplit = nil } else { do { resplit = try Resplit(parsing: v) } catch { throw bad(k, v, "TRAIN:VAL:TEST") } }
            case "threads": threads = try int(k, v, 0...Int.max)   // above Parallel.maxThreads: not used (TrainCommand)
            case "image_resize": guard let x = Bool(v) else { throw bad(k, v, "true or false") }; imageResize = x
            case "image_crop": guard let x = Bool(v) else { throw bad(k, v, "true or false") }; imageCrop = x
            case "image_classes": imageClasses = v.isEmpty ? [] : v.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            default: break   // settings of newer versions are ignored
            }
        }
    }
}
