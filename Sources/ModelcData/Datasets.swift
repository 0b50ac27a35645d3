// Named datasets: official file names, class names, directory resolution and loading.
//
// Each dataset lists, per split, the file layouts it may come in, in the order they are tried:
// IDX (gzip or raw, official names), NumPy .npz (array under arr_0), Kaggle CSV, CIFAR-10's
// binary batches (CIFAR10.swift).
import Foundation

public enum DatasetSplit: String, Sendable, CaseIterable { case train, test }

public struct DatasetInfo: Sendable {
    public let name: String
    public let title: String
    public let classNames: [String]
    /// Names in the dataset's own script (KMNIST: hiragana), if any.
    public let nativeClassNames: [String]?
    public let height: Int
    public let width: Int
    public let channels: Int
    public var classCount: Int { classNames.count }
    /// Where the official files come from (for messages and the README).
    public let source: String
}

/// One way a split can be stored in a directory.
public enum DatasetLayout: Sendable {
    /// IDX images + labels; each is a list of accepted names, official first.
    case idx(images: [String], labels: [String])
    /// NumPy .npz files holding one array each under `arr_0`.
    case npz(images: String, labels: String)
    /// Kaggle CSV with a `label` column.
    case csv(String)
    /// CIFAR-10 binary batches: the files, in a cifar-10-batches-bin/ folder or in the archive.
    case cifar10(batches: [String])

    var fileNames: [String] {
        switch self {
        case .idx(let i, let l): return i + l
        case .npz(let i, let l): return [i, l]
        case .csv(let f): return [f]
        case .cifar10(let b): return b + b.map { "\(CIFAR10.folder)/\($0)" } + [CIFAR10.archive]
        }
    }
}

public enum Datasets {
    public static let names = ["mnist", "fashion-mnist", "kmnist", "kannada-mnist", "dig-mnist", "cifar10"]

    public static func info(_ name: String) throws -> DatasetInfo {
        switch name {
        case "mnist":
            return DatasetInfo(name: name, title: "MNIST handwritten digits",
                               classNames: (0...9).map(String.init), nativeClassNames: nil,
                               height: 28, width: 28, channels: 1, source: "yann.lecun.com/exdb/mnist (mirror: ossci-datasets.s3.amazonaws.com/mnist)")
        case "fashion-mnist":
            return DatasetInfo(name: name, title: "Fashion-MNIST (Zalando article images)",
                               classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
                               nativeClassNames: nil, height: 28, width: 28, channels: 1,
                               source: "github.com/zalandoresearch/fashion-mnist")
        case "kmnist":
            return DatasetInfo(name: name, title: "Kuzushiji-MNIST (cursive Japanese hiragana)",
                               classNames: ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
                               nativeClassNames: ["お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"],
                               height: 28, width: 28, channels: 1, source: "codh.rois.ac.jp/kmnist")
        case "kannada-mnist":
            return DatasetInfo(name: name, title: "Kannada-MNIST (Kannada digits)",
                               classNames: (0...9).map(String.init),
                               nativeClassNames: ["೦", "೧", "೨", "೩", "೪", "೫", "೬", "೭", "೮", "೯"],
                               height: 28, width: 28, channels: 1, source: "github.com/vinayprabhu/Kannada_MNIST")
        case "dig-mnist":
            return DatasetInfo(name: name, title: "Dig-MNIST (Kannada digits, out-of-distribution test set)",
                               classNames: (0...9).map(String.init),
                               nativeClassNames: ["೦", "೧", "೨", "೩", "೪", "೫", "೬", "೭", "೮", "೯"],
                               height: 28, width: 28, channels: 1, source: "github.com/vinayprabhu/Kannada_MNIST (Kaggle: Dig-MNIST.csv)")
        case "cifar10":
            return DatasetInfo(name: name, title: "CIFAR-10 (32x32 color photographs)", classNames: CIFAR10.classNames,
                               nativeClassNames: nil, height: 32, width: 32, channels: 3, source: "www.cs.toronto.edu/~kriz/cifar.html")
        default:
            throw DataError(file: name, message: "unknown dataset '\(name)' (expected one of: \(names.joined(separator: ", ")))")
        }
    }

    static func idxNames(_ base: String, _ kind: String) -> [String] {
        // Official gzip name first, then the unpacked name, then the dotted variant some mirrors use.
        let dotted = base.replacingOccurrences(of: "-\(kind)-", with: ".\(kind)-")
        var names = ["\(base).gz", base]
        if dotted != base { names += ["\(dotted).gz", dotted] }
        return names
    }

    /// File layouts for a split, in the order they are tried.
    public static func layouts(name: String, split: DatasetSplit) throws -> [DatasetLayout] {
        _ = try info(name)
        let tr = split == .train
        switch name {
        case "mnist", "fashion-mnist":
            let p = tr ? "train" : "t10k"
            return [.idx(images: idxNames("\(p)-images-idx3-ubyte", "idx3"), labels: idxNames("\(p)-labels-idx1-ubyte", "idx1"))]
        case "kmnist":
            let p = tr ? "train" : "t10k"
            let s = tr ? "train" : "test"
            return [.idx(images: idxNames("\(p)-images-idx3-ubyte", "idx3"), labels: idxNames("\(p)-labels-idx1-ubyte", "idx1")),
                    .npz(images: "kmnist-\(s)-imgs.npz", labels: "kmnist-\(s)-labels.npz")]
        case "kannada-mnist":
            let s = tr ? "train" : "test"
            var l: [DatasetLayout] = [
                .idx(images: idxNames("X_kannada_MNIST_\(s)-idx3-ubyte", "idx3"), labels: idxNames("y_kannada_MNIST_\(s)-idx1-ubyte", "idx1")),
                .npz(images: "X_kannada_MNIST_\(s).npz", labels: "y_kannada_MNIST_\(s).npz"),
            ]
            // Kaggle's Kannada test.csv has an id column and no labels; only train.csv is usable.
            if tr { l.append(.csv("train.csv")) }
            return l
        case "cifar10":
            return [.cifar10(batches: CIFAR10.batchNames(split))]
        default: // dig-mnist: a single 10,240-image set, used as the test split.
            if tr { return [] }
            return [.idx(images: idxNames("X_dig_MNIST-idx3-ubyte", "idx3"), labels: idxNames("y_dig_MNIST-idx1-ubyte", "idx1")),
                    .npz(images: "X_dig_MNIST.npz", labels: "y_dig_MNIST.npz"),
                    .csv("Dig-MNIST.csv")]
        }
    }

    /// Every file name that identifies a directory as holding this dataset.
    public static func knownFileNames(name: String) throws -> [String] {
        var out: [String] = []
        for s in DatasetSplit.allCases { for l in try layouts(name: name, split: s) { out += l.fileNames } }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    /// Candidate directories in resolution order: --data DIR, $MODELC_DATA/<name>,
    /// ./data/<name>, /usr/share/datasets/<name>.
    public static func candidateDirectories(name: String, explicit: String?,
                                            environment: [String: String] = ProcessInfo.processInfo.environment,
                                            currentDirectory: String = FileManager.default.currentDirectoryPath) -> [String] {
        var c: [String] = []
        if let e = explicit {
            c.append(e)
            c.append((e as NSString).appendingPathComponent(name))
        }
        if let env = environment["MODELC_DATA"], !env.isEmpty { c.append((env as NSString).appendingPathComponent(name)) }
        c.append((currentDirectory as NSString).appendingPathComponent("data/\(name)"))
        c.append("/usr/share/datasets/\(name)")
        return c
    }

    /// The first candidate directory holding any of the dataset's official files.
    /// An explicit directory (--data) that exists but holds none is an error, never skipped.
    public static func resolveDirectory(name: String, explicit: String?) throws -> String {
        try resolveDirectory(name: name, explicit: explicit, environment: ProcessInfo.processInfo.environment,
                             currentDirectory: FileManager.default.currentDirectoryPath)
    }

    public static func resolveDirectory(name: String, explicit: String?, environment: [String: String],
                                        currentDirectory: String) throws -> String {
        let files = try knownFileNames(name: name)
        func holds(_ dir: String) -> Bool {
            files.contains { FileIO.exists((dir as NSString).appendingPathComponent($0)) }
        }
        let candidates = candidateDirectories(name: name, explicit: explicit, environment: environment, currentDirectory: currentDirectory)
        if let e = explicit {
            for d in candidates.prefix(2) where holds(d) { return d }
            throw DataError(file: e, message: "no \(name) files in \(e) or \((e as NSString).appendingPathComponent(name)); looked for: \(files.joined(separator: ", "))")
        }
        for d in candidates where holds(d) { return d }
        throw DataError(file: name, message: "dataset not found; looked in \(candidates.joined(separator: ", ")) for any of: \(files.joined(separator: ", ")). Use --data DIR, set MODELC_DATA, or run `modelc download \(name)`")
    }

    /// Loads a split from `directory`, trying the dataset's layouts in order.
    public static func load(name: String, directory: String, split: DatasetSplit) throws -> ImageSet {
        let info = try info(name)
        let layouts = try layouts(name: name, split: split)
        if layouts.isEmpty {
            throw DataError(file: directory, message: "\(name) has no \(split.rawValue) split (it is a test-only set: Dig-MNIST.csv / X_dig_MNIST-idx3-ubyte.gz); train on kannada-mnist and evaluate with --split test")
        }
        func path(_ f: String) -> String { (directory as NSString).appendingPathComponent(f) }
        func first(_ names: [String]) -> String? { names.map(path).first(where: FileIO.exists) }
        for layout in layouts {
            switch layout {
            case .idx(let imgNames, let lblNames):
                let img = first(imgNames), lbl = first(lblNames)
                if img == nil && lbl == nil { continue }
                guard let img, let lbl else {
                    let (have, missing) = img != nil ? (img!, lblNames) : (lbl!, imgNames)
                    throw DataError(file: have, message: "found this file but not its partner; looked for \(missing.joined(separator: " or ")) in \(directory)")
                }
                return try loadIDX(images: img, labels: lbl, classes: info.classCount)
            case .npz(let imgName, let lblName):
                let img = path(imgName), lbl = path(lblName)
                let hi = FileIO.exists(img), hl = FileIO.exists(lbl)
                if !hi && !hl { continue }
                guard hi && hl else {
                    throw DataError(file: hi ? img : lbl, message: "found this file but not its partner \(hi ? lblName : imgName) in \(directory)")
                }
                return try loadNPZ(images: img, labels: lbl, classes: info.classCount)
            case .csv(let f):
                let p = path(f)
                if !FileIO.exists(p) { continue }
                return try loadCSV(path: p, classes: info.classCount)
            case .cifar10:
                return try CIFAR10.load(directory: directory, split: split)
            }
        }
        var msg = "no \(split.rawValue) files for \(name) in \(directory); looked for: " + layouts.map { $0.fileNames.joined(separator: " + ") }.joined(separator: "; or ")
        if name == "kannada-mnist" && split == .test && FileIO.exists(path("test.csv")) {
            msg += ". (Kaggle's test.csv has no labels, so it cannot be used for evaluation.)"
        }
        throw DataError(file: directory, message: msg)
    }

    /// Loads a pair of IDX files (images [N, H, W] or [N, H, W, C] ubyte; labels [N] ubyte).
    public static func loadIDX(images: String, labels: String, classes: Int) throws -> ImageSet {
        let im = try IDX.readTyped(path: images)
        let lb = try IDX.readTyped(path: labels)
        guard im.type == .ubyte, im.dims.count == 3 || im.dims.count == 4 else {
            throw DataError(file: images, offset: 2, message: "expected unsigned-byte images with 3 dimensions [N, H, W] (magic 00 00 08 03), found type 0x\(hex8(im.type.rawValue)) with dims \(im.dims)")
        }
        guard lb.type == .ubyte, lb.dims.count == 1 else {
            throw DataError(file: labels, offset: 2, message: "expected unsigned-byte labels with 1 dimension [N] (magic 00 00 08 01), found type 0x\(hex8(lb.type.rawValue)) with dims \(lb.dims)")
        }
        if im.dims[0] != lb.dims[0] {
            throw DataError(file: labels, offset: 4, message: "\(lb.dims[0]) labels but \(images) holds \(im.dims[0]) images")
        }
        let labelsOut = try checkLabels(lb.bytes.map { Int($0) }, classes: classes, file: labels, headerBytes: 8)
        return ImageSet(count: im.dims[0], height: im.dims[1], width: im.dims[2], channels: im.dims.count == 4 ? im.dims[3] : 1,
                        pixels: im.bytes, labels: labelsOut)
    }

    /// Loads a pair of .npz files, each holding one array under `arr_0` (KMNIST's format).
    public static func loadNPZ(images: String, labels: String, classes: Int) throws -> ImageSet {
        func single(_ path: String) throws -> NDArray {
            let arrays = try NPZ.read(path: path)
            if let a = arrays["arr_0"] { return a }
            if arrays.count == 1, let a = arrays.values.first { return a }
            throw DataError(file: path, message: "expected one array under 'arr_0', found keys \(arrays.keys.sorted())")
        }
        let im = try single(images)
        let lb = try single(labels)
        guard im.dtype == "|u1", im.shape.count == 3 || im.shape.count == 4 else {
            throw DataError(file: images, message: "expected a uint8 array of shape (N, H, W), found dtype '\(im.dtype)' shape \(im.shape)")
        }
        guard lb.shape.count == 1 else {
            throw DataError(file: labels, message: "expected a 1-D label array of shape (N,), found shape \(lb.shape)")
        }
        if im.shape[0] != lb.shape[0] {
            throw DataError(file: labels, message: "\(lb.shape[0]) labels but \(images) holds \(im.shape[0]) images")
        }
        let values: [Int]
        do { values = try lb.ints() } catch let e as DataError { throw DataError(file: labels, message: e.message) }
        let l = try checkLabels(values, classes: classes, file: labels, headerBytes: nil)
        return ImageSet(count: im.shape[0], height: im.shape[1], width: im.shape[2], channels: im.shape.count == 4 ? im.shape[3] : 1,
                        pixels: im.data, labels: l)
    }

    public static func loadCSV(path: String, classes: Int) throws -> ImageSet {
        let t = try KaggleCSV.read(path: path)
        guard t.hasLabels else {
            throw DataError(file: path, offset: 0, message: "line 1: expected a 'label' column first, found '\(t.ids != nil ? "id" : "pixel0")'; this file has no labels (Kaggle withholds test labels), so it cannot be used for training or evaluation")
        }
        _ = try checkLabels(t.images.labels.map { Int($0) }, classes: classes, file: path, headerBytes: nil)
        return t.images
    }

    static func checkLabels(_ v: [Int], classes: Int, file: String, headerBytes: Int?) throws -> [Int32] {
        var out = [Int32](repeating: 0, count: v.count)
        for (i, x) in v.enumerated() {
            guard x >= 0 && x < classes else {
                throw DataError(file: file, offset: headerBytes.map { $0 + i },
                                message: "label \(i) is \(x), expected a class index 0...\(classes - 1)")
            }
            out[i] = Int32(x)
        }
        return out
    }

    /// The MNIST sample shipped in the repository (Sources/ModelcData/Samples/<name>), if present:
    /// the first 6,000 training and 1,000 test images of the official files, same names.
    public static func sampleDirectory(name: String) -> String? {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let dir = here.appendingPathComponent("Samples").appendingPathComponent(name).path
        return FileIO.isDirectory(dir) ? dir : nil
    }
}
