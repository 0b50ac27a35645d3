// Where each named dataset's official files live, with the checksums their publishers give.
//
// MNIST: the original files (yann.lecun.com/exdb/mnist), served by the mirror torchvision uses;
//        MD5s as published with torchvision's MNIST resources.
// Fashion-MNIST: github.com/zalandoresearch/fashion-mnist (MD5s from its README).
// KMNIST: codh.rois.ac.jp/kmnist (MD5s from its README, also in ../shared/datasets/README.md).
// Kannada-MNIST / Dig-MNIST: github.com/vinayprabhu/Kannada_MNIST. No checksums are published;
//        those files are verified structurally (gzip CRC32 + ISIZE, IDX header and counts) and
//        their SHA-256 is printed.
// CIFAR-10: the binary version from www.cs.toronto.edu/~kriz (MD5 from the CIFAR page); the
//        archive is unpacked (batch files decoded and checked) into cifar-10-batches-bin/.

import ModelcData

public struct RemoteFile: Sendable {
    public let name: String
    public let md5: String?
    /// Expected IDX dimensions (checked after download), e.g. [60000, 28, 28].
    public let idxDims: [Int]?
    /// For an archive: unpacks (archive path, directory) after verification, returns the paths written.
    public let unpack: (@Sendable (String, String) throws -> [String])?

    public init(name: String, md5: String?, idxDims: [Int]?, unpack: (@Sendable (String, String) throws -> [String])? = nil) {
        self.name = name; self.md5 = md5; self.idxDims = idxDims; self.unpack = unpack
    }
}

public struct DatasetSource: Sendable {
    public let dataset: String
    /// Files are fetched from baseURL + "/" + name.
    public let baseURL: String
    public let files: [RemoteFile]
    /// Shown after downloading (e.g. which splits are not downloadable).
    public let note: String?

    public init(dataset: String, baseURL: String, files: [RemoteFile], note: String?) {
        self.dataset = dataset; self.baseURL = baseURL; self.files = files; self.note = note
    }
}

public enum DownloadCatalog {
    public static func source(for dataset: String) throws -> DatasetSource {
        func std(_ prefix: String, md5: [String?]) -> [RemoteFile] {
            [RemoteFile(name: "train-images-idx3-ubyte.gz", md5: md5[0], idxDims: [60000, 28, 28]),
             RemoteFile(name: "train-labels-idx1-ubyte.gz", md5: md5[1], idxDims: [60000]),
             RemoteFile(name: "t10k-images-idx3-ubyte.gz", md5: md5[2], idxDims: [10000, 28, 28]),
             RemoteFile(name: "t10k-labels-idx1-ubyte.gz", md5: md5[3], idxDims: [10000])]
        }
        switch dataset {
        case "mnist":
            return DatasetSource(dataset: dataset, baseURL: "https://ossci-datasets.s3.amazonaws.com/mnist",
                                 files: std("", md5: ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                                                      "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"]),
                                 note: nil)
        case "fashion-mnist":
            return DatasetSource(dataset: dataset, baseURL: "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion",
                                 files: std("", md5: ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                                                      "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"]),
                                 note: "On Debian/Ubuntu, `apt-get install dataset-fashion-mnist` installs the same set in /usr/share/datasets/fashion-mnist.")
        case "kmnist":
            return DatasetSource(dataset: dataset, baseURL: "https://codh.rois.ac.jp/kmnist/dataset/kmnist",
                                 files: std("", md5: ["bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
                                                      "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134"]),
                                 note: nil)
        case "kannada-mnist":
            let base = "https://raw.githubusercontent.com/vinayprabhu/Kannada_MNIST/master/data/output_tensors/MNIST_format"
            return DatasetSource(dataset: dataset, baseURL: base,
                                 // Test files first: the repository's train images are not always reachable.
                                 files: [RemoteFile(name: "X_kannada_MNIST_test-idx3-ubyte.gz", md5: nil, idxDims: [10000, 28, 28]),
                                         RemoteFile(name: "y_kannada_MNIST_test-idx1-ubyte.gz", md5: nil, idxDims: [10000]),
                                         RemoteFile(name: "X_kannada_MNIST_train-idx3-ubyte.gz", md5: nil, idxDims: [60000, 28, 28]),
                                         RemoteFile(name: "y_kannada_MNIST_train-idx1-ubyte.gz", md5: nil, idxDims: [60000])],
                                 note: "Kannada-MNIST publishes no checksums; files were verified by their gzip CRC32 and IDX headers. The train set is also on Kaggle (kaggle.com/c/Kannada-MNIST: train.csv, put it in the same directory).")
        case "dig-mnist":
            let base = "https://raw.githubusercontent.com/vinayprabhu/Kannada_MNIST/master/data/output_tensors/MNIST_format"
            return DatasetSource(dataset: dataset, baseURL: base,
                                 files: [RemoteFile(name: "X_dig_MNIST-idx3-ubyte.gz", md5: nil, idxDims: [10240, 28, 28]),
                                         RemoteFile(name: "y_dig_MNIST-idx1-ubyte.gz", md5: nil, idxDims: [10240])],
                                 note: "Dig-MNIST publishes no checksums; files were verified by their gzip CRC32 and IDX headers. Kaggle also ships it as Dig-MNIST.csv.")
        case "cifar10":
            return DatasetSource(dataset: dataset, baseURL: "https://www.cs.toronto.edu/~kriz",
                                 files: [RemoteFile(name: CIFAR10.archive, md5: "c32a1d4ab5d03f1284b67883e8d87530", idxDims: nil,
                                                    unpack: { try CIFAR10.extract(archive: $0, into: $1) })],
                                 note: nil)
        default:
            throw DownloadError(message: "unknown dataset '\(dataset)' (expected one of: \(Datasets.names.joined(separator: ", ")))")
        }
    }
}

public struct DownloadError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
