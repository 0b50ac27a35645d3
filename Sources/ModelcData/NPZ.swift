// NumPy .npz: a zip archive of .npy files, one per array, named "<key>.npy".
// np.savez writes stored entries, np.savez_compressed deflate entries; both are read.
// Writing uses stored entries and an atomic file replace.

public enum NPZ {
    /// Reads every array; keys are the entry names without ".npy".
    public static func read(path: String, maxEntryBytes: Int = DataLimits.maxDecompressedBytes) throws -> [String: NDArray] {
        let bytes = try FileIO.read(path: path)
        return try decode(bytes, file: path, maxEntryBytes: maxEntryBytes)
    }

    public static func decode(_ bytes: [UInt8], file: String, maxEntryBytes: Int = DataLimits.maxDecompressedBytes) throws -> [String: NDArray] {
        Dictionary(uniqueKeysWithValues: try decodeOrdered(bytes, file: file, maxEntryBytes: maxEntryBytes))
    }

    /// Reads every array in archive order (the order np.savez was given).
    public static func readOrdered(path: String) throws -> [(String, NDArray)] {
        try decodeOrdered(FileIO.read(path: path), file: path)
    }

    public static func decodeOrdered(_ bytes: [UInt8], file: String, maxEntryBytes: Int = DataLimits.maxDecompressedBytes) throws -> [(String, NDArray)] {
        var out: [(String, NDArray)] = []
        var seen = Set<String>()
        for e in try Zip.entries(bytes, file: file) {
            if e.name.hasSuffix("/") { continue }   // directory entry
            let data = try Zip.extract(e, from: bytes, file: file, maxOutput: maxEntryBytes)
            let key = e.name.hasSuffix(".npy") ? String(e.name.dropLast(4)) : e.name
            if !seen.insert(key).inserted {
                throw DataError(file: file, offset: e.localHeaderOffset, message: "duplicate array '\(key)' in archive")
            }
            out.append((key, try NPY.decode(data, file: "\(file)(\(e.name))")))
        }
        return out
    }

    /// Encodes arrays in the given order as a zip of stored "<key>.npy" entries.
    public static func encode(_ arrays: [(String, NDArray)]) throws -> [UInt8] {
        var seen = Set<String>()
        var files: [(name: String, data: [UInt8])] = []
        for (k, a) in arrays {
            if !seen.insert(k).inserted { throw DataError(file: k, message: "duplicate array key '\(k)'") }
            files.append((k + ".npy", try NPY.encode(a)))
        }
        return try Zip.archiveStored(files)
    }

    public static func write(_ arrays: [(String, NDArray)], to path: String) throws {
        do {
            try AtomicFile.write(encode(arrays), to: path)
        } catch let e as DataError where e.file != path {
            throw DataError(file: path, message: e.description)
        }
    }
}
