// CIFAR-10's official binary version (cifar-10-binary.tar.gz, www.cs.toronto.edu/~kriz/cifar.html):
// data_batch_1.bin ... data_batch_5.bin (the training set, 10,000 records each) and
// test_batch.bin, each record one label byte (0...9) and 3,072 pixel bytes: the 1,024 red values
// of the 32x32 image row by row, then the green ones, then the blue ones; batches.meta.txt names
// the classes, one per line. Read from a directory holding the batch files, its
// cifar-10-batches-bin/ folder (as the archive unpacks) or the archive itself; the archive's
// members are found by their names, never extracted to paths the archive chooses.
import Foundation

public enum CIFAR10 {
    public static let side = 32
    public static let recordBytes = 1 + side * side * 3
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    public static let archive = "cifar-10-binary.tar.gz"
    public static let folder = "cifar-10-batches-bin"
    public static let metaFile = "batches.meta.txt"

    public static func batchNames(_ split: DatasetSplit) -> [String] {
        split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    }

    /// Decodes concatenated records into `pixels` (HWC) and `labels`.
    public static func decode(_ b: ArraySlice<UInt8>, file: String, pixels: inout [UInt8], labels: inout [Int32]) throws {
        guard !b.isEmpty, b.count % recordBytes == 0 else {
            throw DataError(file: file, offset: b.count - b.count % recordBytes,
                            message: "file is \(b.count) bytes, expected a positive multiple of the \(recordBytes)-byte record (1 label byte + 3,072 pixel bytes)")
        }
        let n = b.count / recordBytes, plane = side * side
        let base = pixels.count
        pixels.append(contentsOf: repeatElement(0, count: n * plane * 3))
        labels.reserveCapacity(labels.count + n)
        try b.withUnsafeBufferPointer { src in
            try pixels.withUnsafeMutableBufferPointer { dst in
                for r in 0..<n {
                    let rec = r * recordBytes
                    guard src[rec] < 10 else {
                        throw DataError(file: file, offset: rec, message: "record \(r): label \(src[rec]), expected a class index 0...9")
                    }
                    labels.append(Int32(src[rec]))
                    let out = base + r * plane * 3
                    for i in 0..<plane { for c in 0..<3 { dst[out + i * 3 + c] = src[rec + 1 + c * plane + i] } }
                }
            }
        }
    }

    /// Checks that batches.meta.txt names the ten classes in the official order.
    public static func checkMeta(_ b: ArraySlice<UInt8>, file: String) throws {
        let lines = String(decoding: b, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let names = lines.enumerated().filter { !$0.element.isEmpty }
        for (k, want) in classNames.enumerated() where k >= names.count || names[k].element != want {
            let found = k < names.count ? "'\(names[k].element)' on line \(names[k].offset + 1)" : "the end of the file"
            throw DataError(file: file, message: "expected class \(k) to be '\(want)', found \(found)")
        }
        if names.count > classNames.count {
            throw DataError(file: file, message: "line \(names[classNames.count].offset + 1): expected 10 class names, found an 11th ('\(names[classNames.count].element)')")
        }
    }

    /// One split from `directory`: its batch files there or in cifar-10-batches-bin/, else from
    /// cifar-10-binary.tar.gz.
    public static func load(directory: String, split: DatasetSplit) throws -> ImageSet {
        let names = batchNames(split)
        for dir in [directory, (directory as NSString).appendingPathComponent(folder)] {
            let paths = names.map { (dir as NSString).appendingPathComponent($0) }
            guard let have = paths.first(where: FileIO.exists) else { continue }
            if let missing = paths.first(where: { !FileIO.exists($0) }) {
                throw DataError(file: have, message: "found this CIFAR-10 batch but not \(missing) (the \(split.rawValue) split needs \(names.joined(separator: ", ")))")
            }
            let meta = (dir as NSString).appendingPathComponent(metaFile)
            if FileIO.exists(meta) { try checkMeta(FileIO.read(path: meta)[...], file: meta) }
            return try images(paths.map { ($0, try FileIO.read(path: $0)[...]) })
        }
        let tarPath = (directory as NSString).appendingPathComponent(archive)
        guard FileIO.exists(tarPath) else {
            throw DataError(file: directory, message: "no CIFAR-10 \(split.rawValue) files: looked for \(names.joined(separator: ", ")) here and in \(folder)/, and for \(archive)")
        }
        let members = try archiveMembers(tarPath, names: names)
        return try images(members.map { ("\(tarPath)(\(folder)/\($0.name))", $0.bytes) })
    }

    /// The batches of one split decoded and concatenated (each file named in its own errors).
    static func images(_ files: [(file: String, bytes: ArraySlice<UInt8>)]) throws -> ImageSet {
        var pixels: [UInt8] = [], labels: [Int32] = []
        for f in files { try decode(f.bytes, file: f.file, pixels: &pixels, labels: &labels) }
        return ImageSet(count: labels.count, height: side, width: side, channels: 3, pixels: pixels, labels: labels)
    }

    /// The members `names` of the archive at `path` (under cifar-10-batches-bin/), plus a check
    /// of batches.meta.txt when the archive holds it.
    static func archiveMembers(_ path: String, names: [String]) throws -> [(name: String, bytes: ArraySlice<UInt8>)] {
        let (bytes, entries) = try Tar.read(path: path)
        func member(_ name: String) -> TarEntry? {
            entries.first { $0.isFile && ($0.name == "\(folder)/\(name)" || $0.name == "./\(folder)/\(name)") }
        }
        if let m = member(metaFile) { try checkMeta(bytes[m.offset..<(m.offset + m.size)], file: "\(path)(\(folder)/\(metaFile))") }
        return try names.map { name in
            guard let e = member(name) else {
                throw DataError(file: path, message: "the archive has no member \(folder)/\(name) (\(entries.count) entries)")
            }
            return (name, bytes[e.offset..<(e.offset + e.size)])
        }
    }

    /// Unpacks the batch files and batches.meta.txt of the archive at `path` into
    /// `directory`/cifar-10-batches-bin/, once every batch has decoded (records and labels
    /// checked), each file written atomically. Returns the written paths.
    public static func extract(archive path: String, into directory: String) throws -> [String] {
        let all = batchNames(.train) + batchNames(.test)
        let members = try archiveMembers(path, names: all + [metaFile])
        for m in members where m.name != metaFile {
            var pixels: [UInt8] = [], labels: [Int32] = []
            try decode(m.bytes, file: "\(path)(\(folder)/\(m.name))", pixels: &pixels, labels: &labels)
        }
        let out = (directory as NSString).appendingPathComponent(folder)
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw DataError(file: out, message: "cannot create the directory: \(error.localizedDescription)")
        }
        return try members.map { m in
            let dest = (out as NSString).appendingPathComponent(m.name)
            try AtomicFile.write(Array(m.bytes), to: dest)
            return dest
        }
    }
}
