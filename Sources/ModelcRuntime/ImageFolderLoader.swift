// Loading one split of an image folder (the layout and the file scan are ModelcData's
// ImageFolderLayout and ImageFolderScan): the files found are checked against the resource
// limits, taken from the cache when their path, size and times are unchanged, else decoded in
// parallel and fitted to the model's input (ImageFit), and the cache is rewritten. Every file
// that cannot be used is reported with the reason and skipped (an error with --strict-images);
// the counts per class, the files of other types and the classes without images are reported.
//
// The cache lives beside the data, in DIR/.modelc-cache/<split>-<H>x<W>x<C>-<fit>.images (split
// "all" for a folder without split folders), or with --cache-dir D in
// D/<folder name>-<hash of its absolute path>-<split>-<H>x<W>x<C>-<fit>.images.

import Foundation
import ModelcData

/// How image folders are read.
public struct ImageFolderOptions: Sendable {
    public var fit: ImageFit
    /// Whether a file that cannot be used is an error (--strict-images) instead of a warning.
    public var strict = false
    /// Where the cache files go (--cache-dir); nil: DIR/.modelc-cache.
    public var cacheDirectory: String?
    public var limits = ImageFolderLimits()
    /// Largest decoded split (bytes): 64 GiB, or half the physical memory if that is less.
    public var maxArrayBytes = min(64 << 30, Int(ProcessInfo.processInfo.physicalMemory / 2))

    public init(fit: ImageFit) { self.fit = fit }
}

/// One split, loaded.
public struct ImageFolderResult: Sendable {
    public var images: ImageSet
    public var classes: [String]
    public var problems: [ImageProblem]
    /// Where the images came from (the split folder) and the cache file.
    public var directory: String
    public var cachePath: String
}

public enum ImageFolderLoader {
    /// The dataset name of runs on image folders (stored in their checkpoints).
    public static let datasetName = "image-folder"

    /// What a file decodes to depends on these rules and the fit; a cache made under others is rebuilt.
    static func cacheKey(_ fit: ImageFit) -> String {
        "rules 1: 16-bit samples rounded to 8 bits, alpha over black, BT.601 luma as PIL, PIL bilinear resize, torchvision center crop; fit \(fit)"
    }

    /// The cache file of `split` (see the top of this file).
    public static func cachePath(_ layout: ImageFolderLayout, split: ImageFolderSplit, options: ImageFolderOptions) -> String {
        let fit = options.fit
        let how = fit.resize && fit.crop ? "resize-crop" : fit.resize ? "resize" : fit.crop ? "crop" : "exact"
        let name = "\(layout.splits == nil ? "all" : split.rawValue)-\(fit.height)x\(fit.width)x\(fit.channels)-\(how).images"
        guard let dir = options.cacheDirectory else {
            return ((layout.root as NSString).appendingPathComponent(".modelc-cache") as NSString).appendingPathComponent(name)
        }
        let absolute = URL(fileURLWithPath: layout.root).standardizedFileURL.path
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV-1a
        for b in absolute.utf8 { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let folder = (absolute as NSString).lastPathComponent
        return (dir as NSString).appendingPathComponent("\(folder)-\(String(hash, radix: 16))-\(name)")
    }

    /// Loads `split` of the image folder `layout`; `say` gets the report lines.
    public static func load(_ layout: ImageFolderLayout, split: ImageFolderSplit, options: ImageFolderOptions,
                            say: (String) -> Void) throws -> ImageFolderResult {
        guard let dir = layout.directory(for: split) else {
            throw DataError(file: layout.root, message: "has no \(split.rawValue)/ folder")
        }
        let started = Date()
        let scan = try ImageFolderScan(directory: dir, classes: layout.classes, limits: options.limits)
        let (bytes, overflow) = scan.files.count.multipliedReportingOverflow(by: options.fit.imageSize)
        guard !overflow, bytes <= options.maxArrayBytes else {
            throw DataError(file: dir, message: "\(scan.files.count) images of \(options.fit.height)x\(options.fit.width)x\(options.fit.channels) need \(overflow ? "more than \(Int.max)" : "\(bytes)") bytes in memory, more than the limit of \(options.maxArrayBytes) (half the physical memory, at most 64 GiB)")
        }
        let path = cachePath(layout, split: split, options: options)
        let previous = previousCache(path, key: cacheKey(options.fit), fit: options.fit, say: say)
        let (cache, decoded) = build(scan.files, classes: layout.classes, in: dir, fit: options.fit, previous: previous)
        var how = decoded == 0 ? "read from the cache \(path)" : "decoded \(decoded) files" + (decoded < scan.files.count ? ", \(scan.files.count - decoded) from the cache" : "")
        if decoded > 0 || previous?.entries != cache.entries {
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try cache.write(to: path)
                how += "; cache written to \(path)"
            } catch {
                say("note: cannot write the image cache \(path) (\(error)); the images will be decoded again next time (--cache-dir DIR puts the cache elsewhere)")
            }
        }
        let problems = scan.problems + cache.entries.compactMap { e in
            e.problem.map { ImageProblem(path: (dir as NSString).appendingPathComponent(e.file.path), message: $0) }
        }
        let result = ImageFolderResult(images: images(of: cache), classes: layout.classes, problems: problems, directory: dir, cachePath: path)
        try report(result, scan: scan, split: split, options: options,
                   how: how + String(format: " (%.2f s)", Date().timeIntervalSince(started)), say: say)
        return result
    }

    /// The cache at `path` if it exists, decodes and was made under `key`; otherwise nil (saying why).
    static func previousCache(_ path: String, key: String, fit: ImageFit, say: (String) -> Void) -> ImageFolderCache? {
        guard FileIO.exists(path) else { return nil }
        do {
            let c = try ImageFolderCache.read(path: path)
            if c.key == key {
                // The key names the fit, so images of another size under it can only be a damaged
                // or crafted file: build() would slice their pixels at the wrong offsets.
                let images = c.entries.filter { $0.problem == nil }.count
                if (c.height, c.width, c.channels) == (fit.height, fit.width, fit.channels) && c.pixels.count == images * fit.imageSize { return c }
                say("note: the image cache \(path) holds \(c.height)x\(c.width)x\(c.channels) images under the rules for \(fit); rebuilding it")
                return nil
            }
            say("note: the image cache \(path) was made under other rules (\(c.key)); rebuilding it")
        } catch {
            say("note: the image cache \(path) cannot be used (\(error)); rebuilding it")
        }
        return nil
    }

    /// The cache of `files`: entries of `previous` (of `fit`'s image size: previousCache) whose
    /// path, size and times are unchanged are reused (with the label `files` gives), the others
    /// decoded and fitted in parallel.
    /// Returns the cache and how many files were decoded.
    static func build(_ files: [ImageFolderFile], classes: [String], in dir: String, fit: ImageFit,
                      previous: ImageFolderCache?) -> (ImageFolderCache, Int) {
        let size = fit.imageSize
        // previous entries by path, with the offset of their pixels
        var old: [String: (entry: ImageFolderCache.Entry, offset: Int?)] = [:]
        if let p = previous {
            var offset = 0
            for e in p.entries {
                old[e.file.path] = (e, e.problem == nil ? offset : nil)
                if e.problem == nil { offset += size }
            }
        }
        func same(_ a: ImageFolderFile, _ b: ImageFolderFile) -> Bool {
            a.size == b.size && a.modified == b.modified && a.changed == b.changed
        }
        let todo = files.indices.filter { i in old[files[i].path].map { !same($0.entry.file, files[i]) } ?? true }
        let (fresh, freshProblems) = decode(todo.map { files[$0] }, in: dir, fit: fit)
        var entries: [ImageFolderCache.Entry] = []
        var pixels: [UInt8] = []
        pixels.reserveCapacity(files.count * size)
        var next = 0
        for (i, f) in files.enumerated() {
            if next < todo.count && todo[next] == i {
                entries.append(.init(file: f, problem: freshProblems[next]))
                if freshProblems[next] == nil { pixels += fresh[(next * size)..<((next + 1) * size)] }
                next += 1
            } else if let o = old[f.path] {
                entries.append(.init(file: f, problem: o.entry.problem))
                if let offset = o.offset { pixels += previous!.pixels[offset..<(offset + size)] }
            }
        }
        let cache = ImageFolderCache(key: cacheKey(fit), classes: classes, entries: entries,
                                     height: fit.height, width: fit.width, channels: fit.channels, pixels: pixels)
        return (cache, todo.count)
    }

    /// Decodes and fits `files` on the worker threads: the pixels (one slot per file) and, per
    /// file, what was wrong (nil when it decoded).
    static func decode(_ files: [ImageFolderFile], in dir: String, fit: ImageFit) -> ([UInt8], [String?]) {
        let size = fit.imageSize
        var pixels = [UInt8](repeating: 0, count: files.count * size)
        var problems = [String?](repeating: nil, count: files.count)
        pixels.withUnsafeMutableBufferPointer { px in
            problems.withUnsafeMutableBufferPointer { pr in
                Parallel.images(files.count, threads: Parallel.threads) { lo, hi, _ in
                    for k in lo..<hi {
                        let path = (dir as NSString).appendingPathComponent(files[k].path)
                        do {
                            let image = try fit.apply(ImageDecoder.decode(path: path), file: path)
                            for j in 0..<size { px[k * size + j] = image.pixels[j] }
                        } catch let e as DataError {
                            pr[k] = (e.offset.map { "offset \($0): " } ?? "") + e.message
                        } catch {
                            pr[k] = "\(error)"
                        }
                    }
                }
            }
        }
        return (pixels, problems)
    }

    /// The decoded images of a cache with their labels.
    static func images(of cache: ImageFolderCache) -> ImageSet {
        let labels = cache.entries.filter { $0.problem == nil }.map(\.file.label)
        return ImageSet(count: labels.count, height: cache.height, width: cache.width, channels: cache.channels,
                        pixels: cache.pixels, labels: labels)
    }
}
