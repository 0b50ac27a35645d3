// The image-folder cache file: one split of an image folder decoded and fitted to a model's
// input, so that later epochs and runs read one file instead of decoding every image again.
// Each file is identified by its path, size, modification time and status-change time (what a
// run can learn from one stat() per file, without reading the images); a file whose entry
// differs is decoded again, the others are reused. Files that could not be used are kept with
// the reason, so that later runs report them without decoding them again.
//
// Layout (BinaryFrame "MODELCIM", version 1, CRC-32 of the payload; integers little-endian,
// str = u32 byte count + UTF-8):
//   payload: str key (the fit and conversion rules; ImageFolderLoader.cacheKey)
//            u32 K; K x str class name
//            u64 N; N x entry: str path (relative to the split folder), u64 size,
//                   u64 modified ns, u64 changed ns (two's complement), u32 label,
//                   u8 decoded (1) or not (0); if 0: str what was wrong
//            u32 height, u32 width, u32 channels
//            the pixels of the decoded entries in entry order, height x width x channels each
// Written atomically (temporary file, fsync, rename); decoding checks every count against the
// bytes present before allocating.

import ModelcData

public struct ImageFolderCache: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var file: ImageFolderFile
        /// Why the file could not be used (nil: decoded, its pixels are in `pixels`).
        public var problem: String?
        public init(file: ImageFolderFile, problem: String?) { self.file = file; self.problem = problem }
    }

    public static let frame = BinaryFrame(magic: "MODELCIM", version: 1, kind: "image cache")
    /// Smallest encoded entry: an empty path's length, size, two times, label and flag (4 + 3 x 8 + 4 + 1 bytes).
    static let minimumEntryBytes = 33

    public var key: String
    public var classes: [String]
    public var entries: [Entry]
    public var height: Int
    public var width: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(key: String, classes: [String], entries: [Entry], height: Int, width: Int, channels: Int, pixels: [UInt8]) {
        self.key = key; self.classes = classes; self.entries = entries
        self.height = height; self.width = width; self.channels = channels; self.pixels = pixels
    }

    public var imageSize: Int { height * width * channels }

    public func encode() -> [UInt8] {
        var w = BinaryWriter()
        w.string(key)
        w.u32(UInt32(classes.count))
        for c in classes { w.string(c) }
        w.int(entries.count)
        for e in entries {
            w.string(e.file.path); w.int(Int(e.file.size)); w.int(Int(e.file.modified)); w.int(Int(e.file.changed))
            w.u32(UInt32(e.file.label))
            if let p = e.problem { w.u8(0); w.string(p) } else { w.u8(1) }
        }
        w.u32(UInt32(height)); w.u32(UInt32(width)); w.u32(UInt32(channels))
        w.bytes += pixels
        return Self.frame.encode(w.bytes)
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> ImageFolderCache {
        var r = try frame.reader(bytes, file: file)
        let key = try r.string("cache key")
        let classCount = try Int(r.u32("class count"))
        guard classCount <= r.remaining / 4 else { throw r.fail("class count \(classCount) is more than the remaining data can hold") }
        var classes: [String] = []
        for i in 0..<classCount { classes.append(try r.string("name of class \(i)")) }
        let n = try r.count("entry count", limit: r.remaining / minimumEntryBytes)
        var entries: [Entry] = []
        entries.reserveCapacity(n)
        for i in 0..<n {
            let path = try r.string("path of entry \(i)")
            let f = ImageFolderFile(path: path, label: 0, size: Int64(try r.int("size of \(path)")),
                                    modified: Int64(try r.int("modification time of \(path)")),
                                    changed: Int64(try r.int("status-change time of \(path)")))
            let label = try r.u32("label of \(path)")
            guard label < classCount else { throw r.fail("label \(label) of \(path) is not one of the \(classCount) classes") }
            var entry = Entry(file: f, problem: nil)
            entry.file.label = Int32(label)
            switch try r.u8("decoded flag of \(path)") {
            case 1: break
            case 0: entry.problem = try r.string("problem of \(path)")
            case let v: throw r.fail("decoded flag of \(path) is \(v), expected 0 or 1")
            }
            entries.append(entry)
        }
        let (h, w, c) = (Int(try r.u32("height")), Int(try r.u32("width")), Int(try r.u32("channels")))
        guard (1...DataLimits.maxImageSide).contains(h), (1...DataLimits.maxImageSide).contains(w), (1...4).contains(c) else {
            throw r.fail("image size \(h)x\(w)x\(c) is out of range (1...\(DataLimits.maxImageSide) per side, 1...4 channels)")
        }
        let images = entries.reduce(0) { $0 + ($1.problem == nil ? 1 : 0) }
        let (need, overflow) = images.multipliedReportingOverflow(by: h * w * c)
        guard !overflow, need == r.remaining else {
            throw r.fail("\(images) decoded images of \(h)x\(w)x\(c) need \(overflow ? "more" : "\(need)") bytes, found \(r.remaining)")
        }
        let pixels = Array(r.bytes[r.position...])
        return ImageFolderCache(key: key, classes: classes, entries: entries, height: h, width: w, channels: c, pixels: pixels)
    }

    public static func read(path: String) throws -> ImageFolderCache { try decode(FileIO.read(path: path), file: path) }

    public func write(to path: String) throws { try AtomicFile.write(encode(), to: path) }
}
