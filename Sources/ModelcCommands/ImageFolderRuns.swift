// Runs on image folders: when `--data DIR` is an image folder (ImageFolderLayout) rather than the
// files of a named dataset, the options from the flags and the run's settings, and the images of
// each part of the run:
//   train:       DIR/train (or DIR without split folders), shuffled with --split-seed (default
//                0; the files come sorted by class) before --limit and the validation split;
//   validation:  DIR/val when it exists (--val-split is then not used), else the last
//                --val-split fraction of the shuffled training images;
//   test:        DIR/test, or every image of DIR without split folders.
// The class folders must match the model's class count and, when the weights come from a run
// on an image folder, that run's classes.

import ModelcData
import ModelcRuntime

extension CommandSupport {
    /// The image-folder flags of train and eval.
    static let imageFolderValueFlags = ["cache-dir"]
    static let imageFolderSwitches = ["resize", "crop", "strict-images"]

    /// --resize and --crop on top of the stored settings, and for a run on an image folder
    /// without stored class names, the class folders of --data DIR.
    static func applyImageFolderFlags(_ flags: CommandLineFlags, to config: inout TrainingConfig) throws {
        if flags.has("resize") { config.imageResize = true }
        if flags.has("crop") { config.imageCrop = true }
        if config.dataset == ImageFolderLoader.datasetName && config.imageClasses.isEmpty, let dir = flags.string("data") {
            config.imageClasses = try ImageFolderLayout(root: dir).classes
        }
    }

    /// Whether `--data DIR` is an image folder rather than a directory holding `name`'s files.
    static func dataIsImageFolder(_ flags: CommandLineFlags, name: String?) -> Bool {
        guard let dir = flags.string("data"), ImageFolderLayout.isImageFolder(dir) else { return false }
        if let n = name, Datasets.names.contains(n), (try? Datasets.resolveDirectory(name: n, explicit: dir)) != nil { return false }
        return true
    }

    /// The layout of --data DIR and how to read it, checked against the model and the run.
    static func imageFolder(_ config: TrainingConfig, flags: CommandLineFlags, info: ModelInfo) throws -> (ImageFolderLayout, ImageFolderOptions) {
        guard let root = flags.string("data") else {
            throw UsageError("\(flags.command): the run used an image folder; give it with --data DIR")
        }
        var options = try ModelImages.imageFolder(root: root, info: info, trainedClasses: config.imageClasses, resize: config.imageResize, crop: config.imageCrop)
        options.1.strict = flags.has("strict-images")
        options.1.cacheDirectory = flags.string("cache-dir")
        return options
    }

    /// One split of the image folder, as the model's images.
    static func imageFolderImages(_ split: ImageFolderSplit, _ layout: ImageFolderLayout, _ options: ImageFolderOptions,
                                  info: ModelInfo, console: Console?) throws -> (images: LabeledImages, source: String) {
        let r = try ImageFolderLoader.load(layout, split: split, options: options) { console?.err($0) }
        return (try LabeledImages(r.images, info: info, source: r.directory), "\(r.directory) (image folder)")
    }

    /// The train and validation images of a run on an image folder (see the top of this file).
    static func imageFolderTraining(_ config: TrainingConfig, flags: CommandLineFlags, info: ModelInfo,
                                    console: Console?) throws -> (train: LabeledImages, validation: LabeledImages?) {
        let (layout, options) = try imageFolder(config, flags: flags, info: info)
        guard layout.directory(for: .train) != nil else {
            throw RuntimeError(file: layout.root, "has \(layout.splits!.keys.map { $0.rawValue + "/" }.sorted().joined(separator: " and ")) but no train/ folder to train on")
        }
        var train = try imageFolderImages(.train, layout, options, info: info, console: console).images
        train = train.subset(seededPermutation(count: train.count, seed: deriveSeed(config.splitSeed ?? 0, .validationSplit)))
        if config.limit > 0 && config.limit < train.count { train = train.slice(0..<config.limit) }
        guard layout.directory(for: .val) != nil else { return train.splitForValidation(config.validationSplit) }
        if flags.has("val-split") { console?.err("note: \(layout.root) has a val/ folder, which is the validation set; --val-split is not used") }
        return (train, try imageFolderImages(.val, layout, options, info: info, console: console).images)
    }

    /// Whether the run has test images: false only for an image folder with split folders but no test/.
    static func hasTestImages(_ config: TrainingConfig, flags: CommandLineFlags) -> Bool {
        guard config.dataset == ImageFolderLoader.datasetName, let dir = flags.string("data"),
              let layout = try? ImageFolderLayout(root: dir) else { return true }
        return layout.directory(for: .test) != nil
    }

    /// The test images of an image folder (also the images --resplit divides).
    static func imageFolderTest(_ config: TrainingConfig, flags: CommandLineFlags, info: ModelInfo,
                                console: Console?) throws -> (images: LabeledImages, source: String) {
        let (layout, options) = try imageFolder(config, flags: flags, info: info)
        guard layout.directory(for: .test) != nil else {
            throw RuntimeError(file: layout.root, "has no test/ folder (it has \(layout.splits!.keys.map { $0.rawValue + "/" }.sorted().joined(separator: ", "))); evaluate with --split val or --split train")
        }
        if layout.splits == nil { console?.err("note: \(layout.root) has no train/, val/ or test/ folders: its test split is every image in it") }
        return try imageFolderImages(.test, layout, options, info: info, console: console)
    }
}
