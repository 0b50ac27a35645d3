// Loading image-folder splits (ImageFolderLoader) on copies of the gray fixture folder
// (Tests/Fixtures/data/images/gray): every unusable file reported with its path and reason,
// counts per class, the fits, --strict-images, classes without images, the memory limit, and
// the cache: written beside the data, reused, partly rebuilt when files change, rebuilt when it
// is damaged or was made under other rules, elsewhere with --cache-dir, skipped when unwritable.

import XCTest
import ModelcData
@testable import ModelcRuntime

/// A copy of Tests/Fixtures/data/<rel> in a new temporary directory (caches are written there).
func fixtureCopy(_ rel: String) throws -> String {
    let src = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/data/" + rel).path
    let dst = temporaryDirectory() + "/" + (rel as NSString).lastPathComponent
    try FileManager.default.copyItem(atPath: src, toPath: dst)
    return dst
}

final class ImageFolderLoaderTests: XCTestCase {
    func options(resize: Bool = false, crop: Bool = false) -> ImageFolderOptions {
        ImageFolderOptions(fit: ImageFit(width: 28, height: 28, channels: 1, resize: resize, crop: crop))
    }

    /// Loads `split` of the folder at `root`; the report lines too.
    func load(_ root: String, _ split: ImageFolderSplit = .train, _ o: ImageFolderOptions) throws -> (ImageFolderResult, [String]) {
        var lines: [String] = []
        let r = try ImageFolderLoader.load(try ImageFolderLayout(root: root), split: split, options: o) { lines.append($0) }
        return (r, lines)
    }

    func line(_ lines: [String], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard let l = lines.first(where: { $0.contains(fragment) }) else {
            XCTFail("no line with '\(fragment)' in:\n\(lines.joined(separator: "\n"))", file: file, line: line)
            return ""
        }
        return l
    }

    func testEveryUnusableFileIsReportedAndSkipped() throws {
        let root = try fixtureCopy("images/gray")
        let (r, lines) = try load(root, .train, options())
        XCTAssertEqual(r.images.count, 78)
        XCTAssertEqual(r.images.classCounts(classes: 10), [8, 8, 8, 8, 8, 7, 7, 8, 8, 8])
        let why = Dictionary(uniqueKeysWithValues: r.problems.map { (($0.path as NSString).lastPathComponent, $0.message) })
        XCTAssertEqual(why.count, 7, "\(why)")
        let expected = [
            "broken_crc.png": "offset 29: CRC mismatch in chunk 'IHDR'",
            "broken_truncated.png": "chunk 'IDAT' declares",
            "broken_text.png": "offset 0: unknown image format: expected a PNG signature",
            "broken_empty.pgm": "found an empty file",
            "broken_short.ppm": "offset 13: P6 raster for 28x28 needs 2352 bytes, found 100",
            "train_01_56.png": "image is 56x56 (width x height), the model expects 28x28; pass --resize",
            "train_01_40x28.png": "image is 40x28 (width x height)",
        ]
        for (name, fragment) in expected {
            XCTAssertTrue(why[name]?.contains(fragment) == true, "\(name): \(why[name] ?? "not reported")")
        }
        XCTAssertEqual(line(lines, "broken_text.png"), "warning: \(root)/train/coins/broken_text.png: \(why["broken_text.png"]!); skipped")
        let summary = line(lines, "78 images")
        XCTAssertTrue(summary.hasPrefix("\(root)/train: 78 images in 10 classes (brick 8, camera 8, cell 8, clock 8, coins 8, grass 7, gravel 7, moon 8, page 8, text 8); 28x28x1, exact size; decoded 85 files; cache written to \(root)/.modelc-cache/train-28x28x1-exact.images ("), summary)
        XCTAssertTrue(summary.hasSuffix(" s)"), summary)
        XCTAssertEqual(line(lines, "could not be used"), "7 files could not be used (2 for their size: see --resize and --crop)")
        XCTAssertEqual(line(lines, "not read"), "note: \(root)/train: 2 files that are not .png, .pgm or .ppm were not read (.jpg 1, .txt 1)")
        // each decoded image is the file fitted as ImageFit says, under its class folder's label
        let k = try XCTUnwrap(ImageFolderScan(directory: root + "/train", classes: r.classes).files.filter { why[($0.path as NSString).lastPathComponent] == nil }
            .firstIndex { $0.path == "page/train_01.ppm" })
        let want = try options().fit.apply(ImageDecoder.decode(path: root + "/train/page/train_01.ppm"), file: "")
        XCTAssertEqual(Array(r.images.pixels[(k * 784)..<((k + 1) * 784)]), want.pixels)
        XCTAssertEqual(r.images.labels[k], 8)
    }

    func testResizeAndCropFitEveryImage() throws {
        let root = try fixtureCopy("images/gray")
        let (r, lines) = try load(root, .train, options(resize: true, crop: true))
        XCTAssertEqual(r.images.count, 80)
        XCTAssertEqual(r.problems.count, 5)
        XCTAssertTrue(line(lines, "80 images").contains("28x28x1, resize + center crop; decoded 85 files; cache written to \(root)/.modelc-cache/train-28x28x1-resize-crop.images"))
        let (test, _) = try load(root, .test, options(resize: true, crop: true))
        XCTAssertEqual(test.images.count, 20)
        XCTAssertEqual(test.images.labels, (0..<10).flatMap { [Int32($0), Int32($0)] })
    }

    func testStrictImagesMakesProblemsAnError() throws {
        let root = try fixtureCopy("images/gray")
        var o = options(resize: true, crop: true)
        o.strict = true
        var lines: [String] = []
        XCTAssertThrowsError(try ImageFolderLoader.load(try ImageFolderLayout(root: root), split: .train, options: o) { lines.append($0) }) { e in
            XCTAssertEqual("\(e)", "\(root)/train: 5 image files could not be used (listed above); --strict-images makes that an error")
        }
        XCTAssertEqual(lines.filter { $0.hasPrefix("error: \(root)/train/coins/broken_") && !$0.hasSuffix("skipped") }.count, 5)
        // the clean test split loads
        XCTAssertEqual(try load(root, .test, o).0.images.count, 20)
    }

    func testTheCacheIsReusedAndRebuiltWhereFilesChanged() throws {
        let root = try fixtureCopy("images/gray")
        let o = options(resize: true, crop: true)
        let cache = root + "/.modelc-cache/train-28x28x1-resize-crop.images"
        let (first, _) = try load(root, .train, o)
        let (second, lines) = try load(root, .train, o)
        XCTAssertEqual(second.images.pixels, first.images.pixels)
        XCTAssertEqual(second.images.labels, first.images.labels)
        XCTAssertTrue(line(lines, "80 images").contains("; read from the cache \(cache) ("), "\(lines)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("warning:") }.count, 5, "bad files are reported from the cache too")

        // one file's content changes: only that file is decoded again
        try AtomicFile.write(FileIO.read(path: root + "/train/text/train_04.png"), to: root + "/train/text/train_03.png")
        let (third, lines3) = try load(root, .train, o)
        XCTAssertTrue(line(lines3, "80 images").contains("decoded 1 files, 84 from the cache; cache written to \(cache)"), "\(lines3)")
        let i3 = 75, i4 = 76   // text's images are the last eight: train_00, train_01_alpha, train_02, ...
        XCTAssertEqual(third.images.pixels[(i3 * 784)..<(i4 * 784)], third.images.pixels[(i4 * 784)..<((i4 + 1) * 784)])
        XCTAssertNotEqual(third.images.pixels, first.images.pixels)

        // a new modification time alone is a change too; a new class folder keeps every other image
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: root + "/train/cell/train_05.png")
        try FileManager.default.createDirectory(atPath: root + "/train/aaa", withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: root + "/train/moon/train_00.png", toPath: root + "/train/aaa/one.png")
        let (fourth, lines4) = try load(root, .train, o)
        XCTAssertTrue(line(lines4, "81 images in 11 classes (aaa 1, brick 8").contains("decoded 2 files, 84 from the cache"), "\(lines4)")
        XCTAssertEqual(fourth.images.labels.first, 0)
        XCTAssertEqual(Array(fourth.images.pixels[784..<(2 * 784)]), Array(first.images.pixels[0..<784]))   // brick's first image, label 1 now
        XCTAssertEqual(fourth.images.labels[1], 1)
    }

    func testDamagedOrForeignCachesAreRebuilt() throws {
        let root = try fixtureCopy("images/gray")
        let o = options(resize: true, crop: true)
        let path = ImageFolderLoader.cachePath(try ImageFolderLayout(root: root), split: .test, options: o)
        XCTAssertEqual(path, root + "/.modelc-cache/test-28x28x1-resize-crop.images")
        let (good, _) = try load(root, .test, o)
        var damaged = try FileIO.read(path: path)
        damaged[damaged.count - 5] ^= 0x40
        try AtomicFile.write(damaged, to: path)
        let (r, lines) = try load(root, .test, o)
        XCTAssertEqual(r.images.pixels, good.images.pixels)
        XCTAssertTrue(line(lines, "cannot be used").hasPrefix("note: the image cache \(path) cannot be used (\(path): offset 20: image cache is corrupt: CRC-32"), "\(lines)")
        XCTAssertTrue(line(lines, "20 images").contains("decoded 20 files; cache written"))
        var foreign = try ImageFolderCache.read(path: path)
        foreign.key = "rules 0"
        try foreign.write(to: path)
        XCTAssertEqual(line(try load(root, .test, o).1, "other rules"), "note: the image cache \(path) was made under other rules (rules 0); rebuilding it")
        // another fit is another file
        XCTAssertTrue(line(try load(root, .test, options(resize: true)).1, "20 images").contains("cache written to \(root)/.modelc-cache/test-28x28x1-resize.images"))
    }

    func testCacheDirectoryAndUnwritableCache() throws {
        let root = try fixtureCopy("images/gray")
        var o = options(resize: true, crop: true)
        o.cacheDirectory = temporaryDirectory() + "/caches"
        let path = ImageFolderLoader.cachePath(try ImageFolderLayout(root: root), split: .test, options: o)
        XCTAssertTrue(path.hasPrefix(o.cacheDirectory! + "/gray-"), path)
        XCTAssertTrue(path.hasSuffix("-test-28x28x1-resize-crop.images"), path)
        _ = try load(root, .test, o)
        XCTAssertTrue(FileIO.exists(path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/.modelc-cache"))
        // a file where the cache folder would go: the images load, with a note
        try AtomicFile.write([1], to: root + "/.modelc-cache")
        let (r, lines) = try load(root, .test, options())
        XCTAssertEqual(r.images.count, 20)
        XCTAssertTrue(line(lines, "cannot write the image cache").hasPrefix("note: cannot write the image cache \(root)/.modelc-cache/test-28x28x1-exact.images ("), "\(lines)")
    }

    func testClassesWithoutImagesAndTheMemoryLimit() throws {
        let root = try fixtureCopy("images/gray")
        for f in try FileManager.default.contentsOfDirectory(atPath: root + "/train/moon") { try FileManager.default.removeItem(atPath: root + "/train/moon/" + f) }
        try FileManager.default.removeItem(atPath: root + "/train/page")
        try FileManager.default.removeItem(atPath: root + "/test/cell")
        let o = options(resize: true, crop: true)
        XCTAssertThrowsError(try load(root, .train, o)) { e in
            XCTAssertEqual("\(e)", "\(root)/train: classes 'moon' (no usable images), 'page' (no folder here) without training images; every class needs some")
        }
        let (test, lines) = try load(root, .test, o)
        XCTAssertEqual(test.images.count, 18)
        XCTAssertEqual(line(lines, "no images of"), "note: \(root)/test: no images of class 'cell' (no folder here)")
        var small = o
        small.maxArrayBytes = 1000
        XCTAssertThrowsError(try load(root, .test, small)) { e in
            XCTAssertEqual("\(e)", "\(root)/test: 18 images of 28x28x1 need 14112 bytes in memory, more than the limit of 1000 (half the physical memory, at most 64 GiB)")
        }
        XCTAssertThrowsError(try load(fixtureCopy("images/gray"), .val, o)) { e in XCTAssertTrue("\(e)".hasSuffix("gray: has no val/ folder"), "\(e)") }
    }
}
