// The names a model's classes are shown by, in the library API (`CompiledModel.classNames`) and in
// the binary's reports and predictions: the model file's names, with a native name beside the
// romanized one where they differ ("o (お)" for KMNIST).

import ModelcData

extension ModelInfo {
    /// "o (お)" for KMNIST, else the class name ("class C" past the model file's names).
    package func displayName(ofClass c: Int) -> String {
        Self.displayName(c < classNames.count ? classNames[c] : "class \(c)", native: nativeClassNames, c)
    }

    /// Display names of the classes: the model's, or those of `dataset` when the model was
    /// trained on another dataset with as many classes (a KMNIST model run on Fashion-MNIST), or
    /// the class folders of an image folder.
    package func displayClassNames(dataset: String?, imageClasses: [String] = []) -> [String] {
        if dataset == ImageFolderLoader.datasetName && imageClasses.count == classCount { return imageClasses }
        if let d = dataset, !d.isEmpty, d != self.dataset, let di = try? Datasets.info(d), di.classCount == classCount {
            return (0..<di.classCount).map { Self.displayName(di.classNames[$0], native: di.nativeClassNames, $0) }
        }
        return (0..<classCount).map { displayName(ofClass: $0) }
    }

    /// `base`, followed by the native name of class `c` in parentheses when there is one and it differs.
    private static func displayName(_ base: String, native: [String]?, _ c: Int) -> String {
        if let n = native, c < n.count, n[c] != base { return "\(base) (\(n[c]))" }
        return base
    }
}
