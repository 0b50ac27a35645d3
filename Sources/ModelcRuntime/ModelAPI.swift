// The library API: a compiled model used as a Swift type, with no command line.
//
//   let model = try Seed002MnistCnn(weights: url)       // .npz / Keras .weights.h5 / ... (WeightsFile)
//   let model = try Seed002MnistCnn(checkpoint: url)    // a checkpoint written by `train`
//   let model = Seed002MnistCnn(seed: 1)                // fresh parameters, as `train` starts
//   let p = try model.predict(pixels: bytes)            // Prediction.swift
//   try model.train(on: images, epochs: 2) { event in } // ModelTraining.swift
//   try model.save(checkpoint: url); try model.export(weights: url)
//
// Everything here delegates to what the binary's commands use (WeightsFile, Checkpoint,
// Evaluator, Trainer), so the library and the command line give the same numbers.

import Foundation
import ModelcData

extension CompiledModel {
    /// The batch size buffers are allocated for unless the caller says otherwise: the model
    /// file's training batch, so that `train` with default settings fits.
    public static var defaultMaxBatch: Int { max(64, info.defaults.batchSize) }

    /// Fresh parameters from the model's initializers (Glorot/Kaiming uniform, normal, zeros, ones),
    /// seeded exactly as `train --seed` starts a run. Not checked against the machine's memory
    /// (it cannot throw): call `CompiledModelBase.checkMemory` first for a large `maxBatch`.
    public init(seed: UInt64, maxBatch: Int = Self.defaultMaxBatch) {
        self.init(maxBatch: maxBatch)
        initializeParameters(parameters, tensors: Self.info.tensors, seed: seed)
    }

    /// Loads a weights file in any format `WeightsFile.load` reads (all tensors, all-or-nothing;
    /// a mismatch names every missing, extra or misshapen tensor).
    /// A `maxBatch` whose buffers would not fit in memory is an error (checkMemory).
    public init(weights url: URL, maxBatch: Int = Self.defaultMaxBatch) throws {
        try CompiledModelBase.checkMemory(Self.self, maxBatch: maxBatch, what: "maxBatch \(maxBatch)")
        self.init(maxBatch: maxBatch)
        try WeightsFile.load(url.path, into: self)
    }

    /// Loads the parameters of a checkpoint of this model (its training state is not needed).
    public init(checkpoint url: URL, maxBatch: Int = Self.defaultMaxBatch) throws {
        try CompiledModelBase.checkMemory(Self.self, maxBatch: maxBatch, what: "maxBatch \(maxBatch)")
        self.init(maxBatch: maxBatch)
        let c = try Checkpoint.read(path: url.path)
        try c.checkMatches(Self.info, file: url.path)
        c.load(into: self)
    }

    /// Writes a weights-only checkpoint (atomically); `init(checkpoint:)` and the binary's
    /// `--checkpoint` read it.
    public func save(checkpoint url: URL) throws {
        try Checkpoint(model: self, training: nil).write(to: url.path)
    }

    /// Writes every tensor to an .npz file keyed as Keras / PyTorch name them (atomically).
    public func export(weights url: URL) throws {
        try WeightsFile.export(self, to: url.path)
    }

    /// Display names of the classes, from the model file ("o (お)" where a native name differs).
    public static var classNames: [String] { info.displayClassNames(dataset: nil) }

    /// Accuracy, loss, confusion matrix and per-class metrics on labelled images (inference mode).
    public func evaluate(on images: LabeledImages) throws -> ClassificationMetrics {
        try Self.checkShape(images, source: "evaluate")
        guard Self.heads.isEmpty else {
            throw RuntimeError(file: "evaluate", "model \(Self.info.name) has \(Self.heads.count) outputs (\(Self.heads.map(\.name).joined(separator: ", "))); evaluate(on:) measures one classifier: use the binary's `eval --data FILE.npz`, which reports every output")
        }
        guard Self.head == .softmax || (Self.head == .linear && Self.info.classCount > 1) else {
            throw RuntimeError(file: "evaluate", "model \(Self.info.name) has a \(Self.head == .sigmoid ? "sigmoid" : "one-output linear") head; evaluate(on:) measures softmax classifiers: use the binary's `eval --data FILE.npz|.csv`, which reports the task's metrics")
        }
        let loss = Loss(kind: .crossentropy, modelEndsWithSoftmax: Self.endsWithSoftmax)
        return Evaluator.evaluate(self, images: images, loss: loss, batch: maxBatch)
    }

    /// Throws unless `images` are the model's input size and labels are classes of the model.
    static func checkShape(_ images: LabeledImages, source: String) throws {
        let i = info
        guard images.height == i.inputHeight, images.width == i.inputWidth, images.channels == i.inputChannels else {
            throw RuntimeError(file: source, "images are \(images.height)x\(images.width)x\(images.channels), model \(i.name) expects \(i.inputHeight)x\(i.inputWidth)x\(i.inputChannels)")
        }
        guard images.pixels.count == images.count * images.imageSize else {
            throw RuntimeError(file: source, "\(images.count) labels but \(images.pixels.count) pixel bytes (expected \(images.count * images.imageSize))")
        }
        if let bad = images.labels.firstIndex(where: { $0 < 0 || Int($0) >= i.classCount }) {
            throw RuntimeError(file: source, "label \(images.labels[bad]) of image \(bad) is outside 0..<\(i.classCount)")
        }
    }
}

extension LabeledImages {
    /// One split ("train" or "test") of a named dataset (mnist, fashion-mnist, kmnist,
    /// kannada-mnist, dig-mnist, cifar10) checked against `model`: from `directory`, else the first
    /// of $MODELC_DATA/<name>, ./data/<name>, /usr/share/datasets/<name> holding its files.
    /// `limit` > 0 keeps the first `limit` images.
    public static func dataset<M: CompiledModel>(_ name: String, split: String = "train", directory: String? = nil,
                                                 limit: Int = 0, for model: M.Type) throws -> LabeledImages {
        let s = try datasetSplit(name, split)
        let dir = try Datasets.resolveDirectory(name: name, explicit: directory)
        return try ModelImages.named(name, directory: dir, split: s, info: M.info).images.prefix(limit)
    }

    /// One split of the sample shipped with modelc (Sources/ModelcData/Samples/<name>; MNIST:
    /// the first 6,000 training and 1,000 test images of the official files).
    public static func sample<M: CompiledModel>(_ name: String = "mnist", split: String = "train", limit: Int = 0,
                                                for model: M.Type) throws -> LabeledImages {
        let s = try datasetSplit(name, split)
        guard let dir = Datasets.sampleDirectory(name: name) else {
            throw RuntimeError(file: name, "no sample of this dataset ships with modelc (only Sources/ModelcData/Samples/mnist)")
        }
        return try ModelImages.named(name, directory: dir, split: s, info: M.info).images.prefix(limit)
    }

    /// One split ("train", "val" or "test"; "test" is every image when there are no split
    /// folders) of an image folder DIR/[split/]<class>/*.png|pgm|ppm, fitted to `model` as
    /// `train --data DIR` fits it (`resize`, `crop`), cached as `train` caches it. The class names
    /// are the sorted folder names; pass them to `predict(pixels:top:classNames:)`. Unreadable
    /// files are skipped with a warning (`strict`: an error); `report` gets the counts and warnings.
    public static func imageFolder<M: CompiledModel>(_ directory: String, split: String = "train", resize: Bool = false, crop: Bool = false,
                                                     strict: Bool = false, for model: M.Type,
                                                     report: (String) -> Void = { _ in }) throws -> (images: LabeledImages, classes: [String]) {
        guard let s = ImageFolderSplit(rawValue: split) else { throw UsageError("image folder split '\(split)': expected train, val or test") }
        var (layout, options) = try ModelImages.imageFolder(root: directory, info: M.info, trainedClasses: [], resize: resize, crop: crop)
        options.strict = strict
        let r = try ImageFolderLoader.load(layout, split: s, options: options, say: report)
        return (try LabeledImages(r.images, info: M.info, source: r.directory), layout.classes)
    }

    private static func datasetSplit(_ name: String, _ split: String) throws -> DatasetSplit {
        guard Datasets.names.contains(name) else {
            throw UsageError("unknown dataset '\(name)': expected one of \(Datasets.names.joined(separator: ", "))")
        }
        guard let s = DatasetSplit(rawValue: split) else { throw UsageError("dataset split '\(split)': expected train or test") }
        return s
    }

    /// Image `index`'s pixel bytes ([height, width, channels]), as `predict(pixels:)` takes them.
    public func image(_ index: Int) -> [UInt8] {
        Array(pixels[(index * imageSize)..<((index + 1) * imageSize)])
    }

    /// The first `limit` images (all when `limit` is 0 or at least `count`).
    public func prefix(_ limit: Int) -> LabeledImages {
        limit > 0 && limit < count ? slice(0..<limit) : self
    }
}
