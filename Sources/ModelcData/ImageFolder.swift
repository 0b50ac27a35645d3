// Image folders (torchvision's ImageFolder layout): DIR/<class>/**/*.png|*.pgm|*.ppm, or the same
// below DIR/train, DIR/val and DIR/test. Class names are the class folders' names, sorted by
// their bytes (code points, as Python's sorted()); with split folders the classes are the
// union over the splits, so every split labels a class alike. Hidden entries (a leading '.',
// e.g. the .modelc-cache folder) are ignored; class folders are walked recursively (symbolic
// links followed, each directory once); extensions are matched without regard to case; files
// of other types are counted and reported, not read.
//
// This file finds the files and their size and modification times (ImageFolderScan); decoding,
// the cache and the report live in ModelcRuntime (ImageFolderLoader).
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ImageFolderSplit: String, Sendable, CaseIterable { case train, val, test }

/// Bounds checked while scanning, before anything is decoded or allocated.
public struct ImageFolderLimits: Sendable {
    /// Most image files in one split.
    public var maxFiles = 10_000_000
    /// Most directory entries looked at in one split (images, other files, folders).
    public var maxEntries = 20_000_000
    /// Largest image file (bytes); a larger one is reported and skipped.
    public var maxFileBytes = ImageDecoder.maxFileBytes
    /// Deepest folder nesting below a class folder.
    public var maxDepth = 32
    public init() {}
}

/// One image file: its path relative to the split folder, its class and what identifies its
/// contents for the cache (size, modification and status-change times in nanoseconds).
public struct ImageFolderFile: Sendable, Equatable {
    public var path: String
    public var label: Int32
    public var size: Int64
    public var modified: Int64
    public var changed: Int64

    public init(path: String, label: Int32, size: Int64, modified: Int64, changed: Int64) {
        self.path = path; self.label = label; self.size = size; self.modified = modified; self.changed = changed
    }
}

/// A file or folder that could not be used, and why.
public struct ImageProblem: Sendable, Equatable {
    public var path: String
    public var message: String
    public init(path: String, message: String) { self.path = path; self.message = message }
}

/// Where the splits of an image folder are and which classes it has.
public struct ImageFolderLayout: Sendable, Equatable {
    public static let imageExtensions: Set<String> = ["png", "pgm", "ppm"]
    public let root: String
    /// The split folders present (train, val, test), or nil for a folder of class folders only.
    public let splits: [ImageFolderSplit: String]?
    public let classes: [String]

    /// Whether `dir` looks like an image folder: a directory with a visible subdirectory.
    public static func isImageFolder(_ dir: String) -> Bool {
        guard FileIO.isDirectory(dir), let names = try? ImageFolderScan.list(dir) else { return false }
        return names.contains { !$0.hasPrefix(".") && FileIO.isDirectory((dir as NSString).appendingPathComponent($0)) }
    }

    /// Reads the layout of `root`: split folders or class folders, and the sorted class names.
    public init(root: String) throws {
        self.root = root
        let top = try Self.subfolders(root)
        let splitNames = Set(ImageFolderSplit.allCases.map(\.rawValue))
        if top.contains(where: splitNames.contains) {
            let stray = top.filter { !splitNames.contains($0) }
            guard stray.isEmpty else {
                throw DataError(file: root, message: "holds split folders (\(top.filter(splitNames.contains).map { $0 + "/" }.joined(separator: ", "))) and also \(stray.map { "'\($0)'" }.joined(separator: ", ")): with train/, val/ or test/ every class folder belongs inside them")
            }
            var splits: [ImageFolderSplit: String] = [:]
            var classes = Set<String>()
            for name in top {
                let dir = (root as NSString).appendingPathComponent(name)
                splits[ImageFolderSplit(rawValue: name)!] = dir
                classes.formUnion(try Self.subfolders(dir))
            }
            self.splits = splits
            self.classes = Self.sorted(classes)
        } else {
            splits = nil
            classes = Self.sorted(top)
        }
        guard !classes.isEmpty else {
            throw DataError(file: root, message: "no class folders: expected DIR/<class>/*.png|pgm|ppm (or the same below DIR/train, DIR/val, DIR/test)")
        }
    }

    /// The folder holding `split`'s class folders: the split folder, or for a folder without
    /// split folders the root itself for train and test (nil for val).
    public func directory(for split: ImageFolderSplit) -> String? {
        guard let splits else { return split == .val ? nil : root }
        return splits[split]
    }

    /// Class names sorted by their UTF-8 bytes.
    static func sorted<S: Sequence>(_ names: S) -> [String] where S.Element == String {
        names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The visible subdirectories of `dir`, sorted.
    static func subfolders(_ dir: String) throws -> [String] {
        guard FileIO.isDirectory(dir) else {
            throw DataError(file: dir, message: FileManager.default.fileExists(atPath: dir) ? "is a file, expected a folder of class folders" : "no such folder")
        }
        let names: [String]
        do { names = try ImageFolderScan.list(dir) } catch let e as ImageProblem { throw DataError(file: e.path, message: e.message) }
        return sorted(names.filter { !$0.hasPrefix(".") && FileIO.isDirectory((dir as NSString).appendingPathComponent($0)) })
    }
}

/// The image files of one split folder, found class by class.
public struct ImageFolderScan: Sendable {
    public let directory: String
    public var files: [ImageFolderFile] = []
    /// Unreadable folders and files over the size limit (reported, then skipped or, strictly, fatal).
    public var problems: [ImageProblem] = []
    /// Files with other extensions, by lowercased extension ("" for none).
    public var otherFiles: [String: Int] = [:]
    /// Class folders missing from this split.
    public var missingClasses: [String] = []
    private var entries = 0
    private var visited = Set<[UInt64]>()

    /// Scans `directory`/<class> for every class of `classes` (labels are indices into it).
    public init(directory: String, classes: [String], limits: ImageFolderLimits = ImageFolderLimits()) throws {
        self.directory = directory
        for (label, name) in classes.enumerated() {
            let dir = (directory as NSString).appendingPathComponent(name)
            if !FileIO.isDirectory(dir) { missingClasses.append(name); continue }
            do {
                try walk(relative: name, label: Int32(label), depth: 0, limits: limits)
            } catch let e as ImageProblem {
                throw DataError(file: e.path, message: e.message)   // an unreadable class folder
            }
        }
    }

    /// Files of one folder (relative to the split folder), then its subfolders, in sorted order.
    private mutating func walk(relative: String, label: Int32, depth: Int, limits: ImageFolderLimits) throws {
        let dir = (directory as NSString).appendingPathComponent(relative)
        var st = stat()
        guard stat(dir, &st) == 0 else { throw ImageProblem(path: dir, message: "cannot read the folder: \(String(cString: strerror(errno)))") }
        guard visited.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else { return }   // a link back up
        guard depth <= limits.maxDepth else {
            throw DataError(file: dir, message: "folders nested more than \(limits.maxDepth) deep below the class folder")
        }
        let names = try Self.list(dir)
        var subfolders: [String] = []
        for name in ImageFolderLayout.sorted(names) where !name.hasPrefix(".") {
            entries += 1
            guard entries <= limits.maxEntries else {
                throw DataError(file: directory, message: "more than \(limits.maxEntries) files and folders; the limit protects memory (split the data set)")
            }
            let rel = relative + "/" + name
            let path = (directory as NSString).appendingPathComponent(rel)
            guard stat(path, &st) == 0 else {
                problems.append(ImageProblem(path: path, message: "cannot read: \(String(cString: strerror(errno)))")); continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR { subfolders.append(rel); continue }
            let ext = (name as NSString).pathExtension.lowercased()
            guard ImageFolderLayout.imageExtensions.contains(ext) else { otherFiles[ext, default: 0] += 1; continue }
            guard files.count < limits.maxFiles else {
                throw DataError(file: directory, message: "more than \(limits.maxFiles) image files; the limit protects memory (split the data set)")
            }
            if Int64(st.st_size) > Int64(limits.maxFileBytes) {
                problems.append(ImageProblem(path: path, message: "file is \(st.st_size) bytes, larger than the limit of \(limits.maxFileBytes) bytes for one image"))
                continue
            }
            files.append(ImageFolderFile(path: rel, label: label, size: Int64(st.st_size),
                                         modified: Self.nanoseconds(st.st_mtim), changed: Self.nanoseconds(st.st_ctim)))
        }
        for sub in subfolders {
            do { try walk(relative: sub, label: label, depth: depth + 1, limits: limits) } catch let e as ImageProblem { problems.append(e) }
        }
    }

    static func nanoseconds(_ t: timespec) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec) }

    /// The names in folder `dir` (without "." and ".."); an unreadable folder is an ImageProblem.
    static func list(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else {
            throw ImageProblem(path: dir, message: "cannot list the folder: \(String(cString: strerror(errno)))")
        }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

extension ImageProblem: Error {}
