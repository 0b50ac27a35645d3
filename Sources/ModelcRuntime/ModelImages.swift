// Images fitted to a model, as the library API (ModelAPI.swift, Prediction.swift) and the binary's
// commands (Sources/ModelcCommands: DataSplits.swift, ImageFolderRuns.swift) read them: one split
// of a named dataset, an image folder's layout checked against the model's classes, and one image
// file.

import ModelcData

package enum ModelImages {
    /// One split of a named dataset from the files in `dir`, checked against the model.
    package static func named(_ name: String, directory dir: String, split: DatasetSplit, info: ModelInfo) throws -> (images: LabeledImages, source: String) {
        let set = try Datasets.load(name: name, directory: dir, split: split)
        let source = "\(dir) (\(name) \(split.rawValue))"
        return (try LabeledImages(set, info: info, source: source), source)
    }

    /// The layout of `root` and how to read it for the model (and the classes of its weights, if known).
    package static func imageFolder(root: String, info: ModelInfo, trainedClasses: [String], resize: Bool, crop: Bool) throws -> (ImageFolderLayout, ImageFolderOptions) {
        let layout = try ImageFolderLayout(root: root)
        func list(_ names: [String]) -> String { names.count <= 12 ? names.joined(separator: ", ") : names.prefix(12).joined(separator: ", ") + ", ..." }
        guard layout.classes.count == info.classCount else {
            throw RuntimeError(file: root, "\(layout.classes.count) class folders (\(list(layout.classes))), but model \(info.name) has \(info.classCount) classes")
        }
        if !trainedClasses.isEmpty && trainedClasses != layout.classes {
            throw RuntimeError(file: root, "the class folders (\(list(layout.classes))) are not the classes the weights were trained on (\(list(trainedClasses)))")
        }
        let options = ImageFolderOptions(fit: ImageFit(width: info.inputWidth, height: info.inputHeight, channels: info.inputChannels,
                                                       resize: resize, crop: crop))
        return (layout, options)
    }

    /// An image file fitted to the model's input (ImageFit: channels converted, alpha over black;
    /// `resize` and `crop` for other sizes).
    package static func imageFile(_ path: String, info: ModelInfo, resize: Bool, crop: Bool, background: UInt8 = 0) throws -> [UInt8] {
        let fit = ImageFit(width: info.inputWidth, height: info.inputHeight, channels: info.inputChannels, resize: resize, crop: crop)
        return try fit.apply(ImageDecoder.decode(path: path), file: path, background: background).pixels
    }
}
