// DecoderFuzzEntry: one entry point per ModelcData decoder, for the fuzzing harness
// (Tests/Fuzz, issue 6) and the replay and mutation tests: each takes arbitrary bytes and must
// either decode them or throw a DataError, never crash or hang.

import ModelcData
import ModelcModelFiles

public enum DecoderFuzzEntry {
    public static let kinds = ["inflate", "gzip", "zlib", "idx", "npy", "npz", "zip", "csv", "numcsv", "png", "pgm", "ppm", "image", "tar", "cifar", "hdf5"]

    /// Runs decoder `kind` on `data`. Returns true if it decoded, false if it threw a DataError.
    @discardableResult
    public static func run(_ kind: String, _ data: [UInt8]) -> Bool {
        do {
            switch kind {
            case "inflate": _ = try Inflate.inflate(data, maxOutput: 1 << 24, file: "fuzz")
            case "gzip": _ = try Gzip.decompress(data, file: "fuzz", maxOutput: 1 << 24)
            case "zlib": _ = try Zlib.decompress(data, file: "fuzz", expectedSize: 1 << 20)
            case "idx": _ = try IDX.decode(Gzip.isGzip(data) ? Gzip.decompress(data, file: "fuzz", maxOutput: 1 << 24) : data, file: "fuzz")
            case "npy": _ = try NPY.decode(data, file: "fuzz").floats()
            case "npz", "zip": _ = try NPZ.decode(data, file: "fuzz", maxEntryBytes: 1 << 24)
            case "csv": _ = try KaggleCSV.decode(data, file: "fuzz")
            case "numcsv": _ = try NumericCSV.decode(data, file: "fuzz", maxValues: 1 << 22)
            case "png": _ = try PNG.decode(data, file: "fuzz")
            case "pgm", "ppm": _ = try Netpbm.decode(data, file: "fuzz")
            case "tar": _ = try Tar.entries(Gzip.isGzip(data) ? Gzip.decompress(data, file: "fuzz", maxOutput: 1 << 24) : data, file: "fuzz")
            case "hdf5": try hdf5(data)
            case "cifar":
                var pixels: [UInt8] = [], labels: [Int32] = []
                try CIFAR10.decode(data[...], file: "fuzz", pixels: &pixels, labels: &labels)
            default:
                // every fitting path: gray and RGB targets, scaled and cropped
                let image = try ImageDecoder.decode(data, file: "fuzz")
                _ = try ImageFit(width: 28, height: 28, channels: 1, resize: true, crop: false).apply(image, file: "fuzz")
                _ = try ImageFit(width: 32, height: 24, channels: 3, resize: true, crop: true).apply(image, file: "fuzz")
            }
            return true
        } catch {
            return false
        }
    }

    /// HDF5: every object, every attribute (as strings and as numbers) and every dataset's
    /// values, then the Keras weight layouts on top.
    static func hdf5(_ data: [UInt8]) throws {
        let f = try HDF5File(bytes: data, file: "fuzz")
        try f.walk { o in
            for name in try f.attributeNames(o) {
                _ = try? f.attributeStrings(name, of: o)
                _ = try? f.attributeArray(name, of: o)
            }
            if try f.isDataset(o) { _ = try f.read(o) }
        }
        _ = try? KerasWeightFiles.decodeH5(data, file: "fuzz")
    }
}
