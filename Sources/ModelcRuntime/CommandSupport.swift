// The pieces of the binary's commands (Sources/ModelcCommands) that the runtime uses too: the
// library API (ModelAPI.swift, Prediction.swift) names classes and reads image files as the
// commands do, the data loading (DataSplits.swift, ImageFolderRuns.swift) takes the commands'
// flags, and `bench` (BenchCommand.swift) sets the thread count. ModelcCommands extends
// CommandSupport with the pieces only the commands use.

import ModelcData

package enum CommandSupport {
    /// `--threads N` (1...1024; default: all active processors) sets `Parallel.threads`, which
    /// the generated code's parallel loops read. Returns the count in effect.
    @discardableResult
    package static func setThreads(_ flags: CommandLineFlags) throws -> Int {
        if let t = try flags.int("threads", min: 1, max: Parallel.maxThreads) { Parallel.threads = t }
        return Parallel.threads
    }

    /// "o (お)" for KMNIST, else the class name.
    package static func className(_ info: ModelInfo, _ c: Int) -> String {
        let base = c < info.classNames.count ? info.classNames[c] : "class \(c)"
        if let native = info.nativeClassNames, c < native.count, native[c] != base { return "\(base) (\(native[c]))" }
        return base
    }

    /// Display names of the classes: the model's, or those of `dataset` when the model was
    /// trained on another dataset with as many classes (a KMNIST model run on Fashion-MNIST), or
    /// the class folders of an image folder.
    package static func classNames(_ info: ModelInfo, dataset: String?, imageClasses: [String] = []) -> [String] {
        if dataset == ImageFolderLoader.datasetName && imageClasses.count == info.classCount { return imageClasses }
        if let d = dataset, !d.isEmpty, d != info.dataset, let di = try? Datasets.info(d), di.classCount == info.classCount {
            return (0..<di.classCount).map { c in
                if let n = di.nativeClassNames, c < n.count, n[c] != di.classNames[c] { return "\(di.classNames[c]) (\(n[c]))" }
                return di.classNames[c]
            }
        }
        return (0..<info.classCount).map { className(info, $0) }
    }

    /// An image file fitted to the model's input (ImageFit: channels converted, alpha over black;
    /// --resize and --crop for other sizes).
    package static func imageFile(_ path: String, info: ModelInfo, resize: Bool, crop: Bool) throws -> [UInt8] {
        let fit = ImageFit(width: info.inputWidth, height: info.inputHeight, channels: info.inputChannels, resize: resize, crop: crop)
        return try fit.apply(ImageDecoder.decode(path: path), file: path).pixels
    }
}
