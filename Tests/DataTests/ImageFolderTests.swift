// Image folders before decoding: the layout (split folders or class folders, classes sorted by
// their bytes, stray folders), and the scan of one split (files and their labels, files of
// other types, hidden entries, unreadable entries, nested folders, links back up, and the
// resource limits).
import Foundation
import XCTest
@testable import ModelcData

/// Makes the folders and files (paths relative to a new temporary directory; a path ending in
/// '/' is a folder); returns the directory.
func makeTree(_ paths: [String], contents: [UInt8] = [1]) throws -> String {
    let root = tempDir()
    for p in paths {
        let full = root + "/" + p
        if p.hasSuffix("/") {
            try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        } else {
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(contents, to: full)
        }
    }
    return root
}

final class ImageFolderTests: XCTestCase {
    func testFixtureLayouts() throws {
        let rgb = try ImageFolderLayout(root: fixture("images/rgb"))
        XCTAssertEqual(rgb.classes, ["astronaut", "chelsea", "china", "coffee", "flower", "grace_hopper", "hubble", "ihc", "retina", "rocket"])
        XCTAssertEqual(rgb.splits?.keys.map(\.rawValue).sorted(), ["test", "train", "val"])
        XCTAssertEqual(rgb.directory(for: .val), fixture("images/rgb") + "/val")
        let gray = try ImageFolderLayout(root: fixture("images/gray"))
        XCTAssertEqual(gray.classes, ["brick", "camera", "cell", "clock", "coins", "grass", "gravel", "moon", "page", "text"])
        XCTAssertNil(gray.directory(for: .val))
        XCTAssertTrue(ImageFolderLayout.isImageFolder(fixture("images/gray")))
        XCTAssertFalse(ImageFolderLayout.isImageFolder(fixture("kmnist")))
        XCTAssertFalse(ImageFolderLayout.isImageFolder(fixture("images/expected.npz")))
    }

    func testFlatLayoutSortsClassesByBytes() throws {
        let root = try makeTree(["b/", "B/", "a/", "ä/", "10/", "9/", ".modelc-cache/", "README.md"])
        let layout = try ImageFolderLayout(root: root)
        XCTAssertNil(layout.splits)
        XCTAssertEqual(layout.classes, ["10", "9", "B", "a", "b", "ä"])   // as Python's sorted()
        XCTAssertEqual(layout.directory(for: .train), root)
        XCTAssertEqual(layout.directory(for: .test), root)
        XCTAssertNil(layout.directory(for: .val))
    }

    func testSplitClassesAreTheUnion() throws {
        let root = try makeTree(["train/cat/", "train/dog/", "test/cat/", "test/emu/", "val/dog/"])
        XCTAssertEqual(try ImageFolderLayout(root: root).classes, ["cat", "dog", "emu"])
    }

    func testLayoutErrors() throws {
        let stray = try makeTree(["train/cat/", "test/cat/", "cats/"])
        assertDataError([stray, "holds split folders (test/, train/) and also 'cats'", "every class folder belongs inside them"]) {
            try ImageFolderLayout(root: stray)
        }
        let none = try makeTree(["a.png"])
        assertDataError([none, "no class folders: expected DIR/<class>/*.png|pgm|ppm"]) { try ImageFolderLayout(root: none) }
        assertDataError([none + "/missing", "no such folder"]) { try ImageFolderLayout(root: none + "/missing") }
        assertDataError([none + "/a.png", "is a file, expected a folder of class folders"]) { try ImageFolderLayout(root: none + "/a.png") }
        let emptySplit = try makeTree(["train/"])
        assertDataError([emptySplit, "no class folders"]) { try ImageFolderLayout(root: emptySplit) }
    }

    func testScanOfTheGrayTrainingFolder() throws {
        let layout = try ImageFolderLayout(root: fixture("images/gray"))
        let scan = try ImageFolderScan(directory: fixture("images/gray/train"), classes: layout.classes)
        // 8 images per class plus 5 broken files in coins (found here, refused when decoded)
        XCTAssertEqual(scan.files.count, 85)
        XCTAssertEqual(scan.files.filter { $0.label == 4 }.map(\.path), [
            "coins/broken_crc.png", "coins/broken_empty.pgm", "coins/broken_short.ppm", "coins/broken_text.png",
            "coins/broken_truncated.png", "coins/train_00.png", "coins/train_01.pgm", "coins/train_02_ascii.pgm",
            "coins/train_03.png", "coins/train_04.png", "coins/train_05.png", "coins/train_06.png", "coins/train_07.png"])
        XCTAssertEqual(scan.otherFiles, ["txt": 1, "jpg": 1])
        XCTAssertTrue(scan.problems.isEmpty)
        XCTAssertTrue(scan.missingClasses.isEmpty)
        let first = scan.files[0]
        XCTAssertEqual(first.path, "brick/train_00.png")
        XCTAssertEqual(first.size, Int64(bytes(fixture("images/gray/train/brick/train_00.png")).count))
        XCTAssertGreaterThan(first.modified, 0)
        XCTAssertGreaterThan(first.changed, 0)
    }

    func testNestedFoldersLinksAndUnreadableEntries() throws {
        let root = try makeTree(["a/x.PNG", "a/sub/y.png", "a/sub/deeper/z.ppm", "b/q.pgm", "b/noext"])
        try FileManager.default.createSymbolicLink(atPath: root + "/a/sub/up", withDestinationPath: root + "/a")   // a link back up
        try FileManager.default.createSymbolicLink(atPath: root + "/b/dangling.png", withDestinationPath: root + "/nowhere")
        let scan = try ImageFolderScan(directory: root, classes: ["a", "b", "c"])
        XCTAssertEqual(scan.files.map(\.path), ["a/x.PNG", "a/sub/y.png", "a/sub/deeper/z.ppm", "b/q.pgm"])
        XCTAssertEqual(scan.files.map(\.label), [0, 0, 0, 1])
        XCTAssertEqual(scan.otherFiles, ["": 1])
        XCTAssertEqual(scan.missingClasses, ["c"])
        XCTAssertEqual(scan.problems, [ImageProblem(path: root + "/b/dangling.png", message: "cannot read: No such file or directory")])
    }

    func testScanLimits() throws {
        let root = try makeTree(["a/1.png", "a/2.png", "a/3.png", "a/4.txt", "b/d1/d2/d3/5.png"], contents: [UInt8](repeating: 7, count: 600))
        var limits = ImageFolderLimits()
        limits.maxFiles = 2
        assertDataError([root, "more than 2 image files"]) { try ImageFolderScan(directory: root, classes: ["a"], limits: limits) }
        limits = ImageFolderLimits(); limits.maxEntries = 3
        assertDataError([root, "more than 3 files and folders"]) { try ImageFolderScan(directory: root, classes: ["a"], limits: limits) }
        limits = ImageFolderLimits(); limits.maxFileBytes = 500
        let big = try ImageFolderScan(directory: root, classes: ["a"], limits: limits)
        XCTAssertEqual(big.files.count, 0)
        XCTAssertEqual(big.problems.first, ImageProblem(path: root + "/a/1.png", message: "file is 600 bytes, larger than the limit of 500 bytes for one image"))
        limits = ImageFolderLimits(); limits.maxDepth = 2
        assertDataError([root + "/b/d1/d2/d3", "folders nested more than 2 deep"]) { try ImageFolderScan(directory: root, classes: ["b"], limits: limits) }
    }
}
