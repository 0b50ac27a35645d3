// The pieces the binary's commands share: weights and checkpoints to load, the run's dataset, and
// the checks of flags against the model and the data. The data of a run: DataSplits.swift and
// ImageFolderRuns.swift; images fitted to a model (shared with the library API): ModelcRuntime's
// ModelImages.swift.

import Foundation
import ModelcData
import ModelcModelFiles
import ModelcRuntime

enum CommandSupport {
    static func defaultCheckpoint(_ info: ModelInfo) -> String { "\(info.name).ckpt" }

    /// Loads --checkpoint or --weights (`weightsFlag`: export's is --from) or the default checkpoint
    /// if it exists, else the weights stored beside the binary, into `model`.
    /// Returns a description of the source and the checkpoint's training state (settings, progress,
    /// history), if it has one.
    @discardableResult
    static func loadWeights<M: CompiledModel>(_ model: M, flags: CommandLineFlags, weightsFlag: String = "weights",
                                              required: Bool = true) throws -> (source: String, training: TrainingSnapshot?) {
        if flags.has("checkpoint") && flags.has(weightsFlag) {
            throw UsageError("\(flags.command): give either --checkpoint or --\(weightsFlag), not both")
        }
        if let w = flags.string(weightsFlag) {
            try WeightsFile.load(w, into: model)
            return (w, nil)
        }
        let path = flags.string("checkpoint") ?? defaultCheckpoint(M.info)
        if flags.string("checkpoint") == nil && !FileIO.exists(path) {
            // The trained weights `modelc compile` stored beside this binary (a .keras or .h5
            // model file's own weights, or `compile --weights W`).
            // The binary's own path (argv[0] may be a bare name found through PATH).
            if let bundled = WeightsReader.bundled(binary: Bundle.main.executablePath ?? CommandLine.arguments[0]) {
                try WeightsFile.load(bundled, into: model)
                return (bundled, nil)
            }
            if required {
                throw UsageError("\(flags.command) needs trained weights: give --checkpoint PATH or --\(weightsFlag) W (\(WeightsReader.acceptedExtensions); no default checkpoint \(path) here)")
            }
            return ("", nil)
        }
        let c = try Checkpoint.read(path: path)
        try c.checkMatches(M.info, file: path)
        c.load(into: model)
        return (path, c.training)
    }

    /// The run's dataset: --dataset NAME; else an image folder when --data DIR is one (and does
    /// not hold the files of the stored or the model's dataset); else the stored one; else the model's.
    static func datasetName(_ flags: CommandLineFlags, info: ModelInfo, stored: String? = nil) throws -> String {
        let folder = ImageFolderLoader.datasetName
        try checkInputsData(flags, info: info)   // several inputs: an .npz only
        if let d = flags.string("data"), ArrayData.isArrayFile(d) { return ArrayData.datasetName }
        if let d = flags.string("dataset") {
            guard Datasets.names.contains(d) || d == folder else {
                throw UsageError("\(flags.command): unknown dataset '\(d)': expected one of \(Datasets.names.joined(separator: ", ")), or \(folder) with --data DIR")
            }
            return d
        }
        let named = stored.flatMap { $0.isEmpty ? nil : $0 } ?? info.dataset.flatMap { $0.isEmpty ? nil : $0 }
        if named != folder && dataIsImageFolder(flags, name: named) { return folder }
        if let n = named { return n }
        throw UsageError("\(flags.command): the model file names no dataset; give --dataset NAME (\(Datasets.names.joined(separator: ", "))) or an image folder with --data DIR")
    }

    /// A model with several inputs runs on an .npz (--data FILE.npz) only.
    static func checkInputsData(_ flags: CommandLineFlags, info: ModelInfo) throws {
        guard !info.inputs.isEmpty, !(flags.string("data")?.lowercased().hasSuffix(".npz") ?? false) else { return }
        throw UsageError("\(flags.command): " + InputArrays.needsNPZ(info) + "; give --data FILE.npz")
    }

    /// What array data and the target losses cannot do: augmentation (images only) and the run
    /// report (images with class labels, or images an autoencoder reconstructs).
    static func checkArrayRun(_ config: TrainingConfig, report: String?) throws {
        if config.dataset == ArrayData.datasetName && !config.augmentation.isIdentity {
            throw UsageError("augmentation (--augment-shift, --augment-rotate) shifts and rotates images; array data cannot be augmented")
        }
        guard report != nil else { return }
        if config.dataset == ArrayData.datasetName {
            throw UsageError("--report shows images with their classes; it is not made for array data")
        }
        if config.targetIsInput { return }   // an autoencoder's report: reconstructions
        let objective = try Objective.resolve(config.loss, head: config.head, oneHotTargets: false)
        if !objective.usesLabels {
            throw UsageError("--report covers classifiers trained on class labels and autoencoders (train: target=input); this run's loss is \(objective.rawValue)")
        }
    }
}
