// Which images a run trains, validates and tests on.
//
// Default protocol: train and validation come from the dataset's train split (its first
// `limit` images, shuffled with `--split-seed` if given, the last `val_split` fraction held out
// as Keras does); test is the dataset's test split. Image folders: ImageFolderRuns.swift.
//
// `--resplit TRAIN:VAL:TEST` protocol, for datasets of which only one labeled file set exists
// (here: the 10,000-image Kannada-MNIST test set): the dataset's *test* split is permuted with
// seededPermutation(count, deriveSeed(splitSeed, .resplit)) (splitSeed = `--split-seed`,
// default 0; a plain seeded shuffle, not stratified), then the first TRAIN images of the
// permutation train, the next VAL validate and the next TEST test; each part keeps the file
// order. TRAIN + VAL + TEST may be less than the file's count (the rest is unused), never more.
// `--val-split` does not apply; `--limit N` keeps the first N images of the train part (and, in
// `eval --split test`, of the test part). The setting is stored in checkpoints, so `--resume`
// and `eval --checkpoint` see the same three parts (Resplit, in ModelcRuntime's Resplit.swift).

import ModelcData
import ModelcRuntime

extension CommandSupport {
    /// The train and validation images of a run (see the protocols above).
    static func trainingImages(_ config: TrainingConfig, flags: CommandLineFlags, info: ModelInfo, console: Console?) throws -> (train: LabeledImages, validation: LabeledImages?) {
        if let r = config.resplit {
            let (all, source) = try loadSplitWithSource(config, split: .test, flags: flags, info: info, console: console)
            let parts = try r.indices(count: all.count, seed: config.splitSeed ?? 0, source: source)
            var train = all.subset(parts.train)
            if config.limit > 0 && config.limit < train.count { train = train.slice(0..<config.limit) }
            return (train, parts.validation.isEmpty ? nil : all.subset(parts.validation))
        }
        if config.dataset == ImageFolderLoader.datasetName {
            return try imageFolderTraining(config, flags: flags, info: info, console: console)
        }
        var all = try loadSplitWithSource(config, split: .train, flags: flags, info: info, console: console).images
        if config.limit > 0 && config.limit < all.count { all = all.slice(0..<config.limit) }
        if let s = config.splitSeed {
            all = all.subset(seededPermutation(count: all.count, seed: deriveSeed(s, .validationSplit)))
        }
        return all.splitForValidation(config.validationSplit)
    }

    /// The test images of a run: the dataset's test split, or the test part of `--resplit`;
    /// the first `limit` of them when limit > 0.
    static func testImages(_ config: TrainingConfig, limit: Int, flags: CommandLineFlags, info: ModelInfo, console: Console?) throws -> LabeledImages {
        let (all, source) = try loadSplitWithSource(config, split: .test, flags: flags, info: info, console: console)
        var images = all
        if let r = config.resplit {
            let parts = try r.indices(count: all.count, seed: config.splitSeed ?? 0, source: source)
            images = all.subset(parts.test)
        }
        if limit > 0 && limit < images.count { images = images.slice(0..<limit) }
        return images
    }

    /// Loads one split of the run's dataset: an image folder (ImageFolderRuns.swift), or a named
    /// dataset from --data DIR, the usual places, or the sample shipped in the repository (saying
    /// so); returns the images and a description of the files.
    static func loadSplitWithSource(_ config: TrainingConfig, split: DatasetSplit, flags: CommandLineFlags, info: ModelInfo, console: Console?) throws -> (images: LabeledImages, source: String) {
        if config.dataset == ImageFolderLoader.datasetName {
            return try imageFolderTest(config, flags: flags, info: info, console: console)
        }
        if config.dataset == ArrayData.datasetName {
            return try arraySplit(config, split: split, flags: flags, info: info, console: console)
        }
        let name = config.dataset
        let dir: String
        do {
            dir = try Datasets.resolveDirectory(name: name, explicit: flags.string("data"))
        } catch {
            // no data installed: fall back to the sample shipped in the repository, saying so
            guard flags.string("data") == nil, let sample = Datasets.sampleDirectory(name: name) else { throw error }
            console?.err("note: \(name) not found (\(error)); using the sample shipped with modelc in \(sample)")
            dir = sample
        }
        return try ModelImages.named(name, directory: dir, split: split, info: info)
    }

    /// One split of an array file (--data FILE.npz or FILE.csv; ArrayData.swift), as the run's
    /// loss reads it. The test split of a file without x_test is its x and y (saying so).
    static func arraySplit(_ config: TrainingConfig, split: DatasetSplit, flags: CommandLineFlags, info: ModelInfo,
                           console: Console?) throws -> (images: LabeledImages, source: String) {
        guard let path = flags.string("data") else {
            throw UsageError("\(flags.command): the run reads array data: give --data FILE.npz or --data FILE.csv")
        }
        if split == .test && path.lowercased().hasSuffix(".npz") && !ArrayData.hasTestSplit(path, info: info) {
            console?.err(info.inputs.isEmpty ? "note: \(path) has no x_test/y_test arrays: its x and y are the test examples"
                         : "note: \(path) has no \(InputArrays.expected(info, test: true)) arrays: its \(InputArrays.expected(info)) and y are the test examples")
        }
        let raw = try ArrayData.read(path, split: split, info: info, targetColumns: config.targetColumns, heads: config.heads)
        let loss = try ArrayData.loss(config, info: info, raw: raw)
        return (try ArrayData.examples(raw, loss: loss, info: info), raw.source)
    }
}
