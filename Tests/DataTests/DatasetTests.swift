import Foundation
import XCTest
@testable import ModelcData

final class DatasetTests: XCTestCase {
    func testInfo() throws {
        let k = try Datasets.info("kmnist")
        XCTAssertEqual(k.classNames, ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"])
        XCTAssertEqual(k.nativeClassNames, ["お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"])
        XCTAssertEqual(try Datasets.info("fashion-mnist").classNames,
                       ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
        XCTAssertEqual(try Datasets.info("mnist").classNames, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])
        for n in Datasets.names { XCTAssertEqual(try Datasets.info(n).classCount, 10) }
        assertDataError(["unknown dataset 'emnist'", "mnist, fashion-mnist, kmnist, kannada-mnist, dig-mnist"]) { try Datasets.info("emnist") }
    }

    func testShippedSample() throws {
        let dir = try XCTUnwrap(Datasets.sampleDirectory(name: "mnist"))
        let train = try Datasets.load(name: "mnist", directory: dir, split: .train)
        let test = try Datasets.load(name: "mnist", directory: dir, split: .test)
        XCTAssertEqual([train.count, train.height, train.width, train.channels], [6000, 28, 28, 1])
        XCTAssertEqual(test.count, 1000)
        XCTAssertEqual(train.pixels.count, 6000 * 784)
        XCTAssertEqual(train.classCounts(classes: 10), [592, 671, 581, 608, 623, 514, 608, 651, 551, 601])
        XCTAssertEqual(test.classCounts(classes: 10), [85, 126, 116, 107, 110, 87, 87, 99, 89, 94])
        // The first MNIST training label is 5, the first test label 7.
        XCTAssertEqual(train.labels[0], 5)
        XCTAssertEqual(test.labels[0], 7)
        let mean = Double(train.pixels.reduce(0) { $0 + Int($1) }) / Double(train.pixels.count)
        XCTAssertEqual(mean, 33.3, accuracy: 1.0)
        XCTAssertNil(Datasets.sampleDirectory(name: "kmnist"))
    }

    func testKMNISTIDXAndNPZAgree() throws {
        let idxTrain = try Datasets.load(name: "kmnist", directory: fixture("kmnist"), split: .train)
        let npzTrain = try Datasets.load(name: "kmnist", directory: fixture("kmnist-npz"), split: .train)   // savez_compressed
        XCTAssertEqual(idxTrain.count, 24)
        XCTAssertEqual(idxTrain.pixels, npzTrain.pixels)
        XCTAssertEqual(idxTrain.labels, npzTrain.labels)
        XCTAssertEqual(idxTrain.labels, (0..<24).map { Int32($0 % 10) })
        let idxTest = try Datasets.load(name: "kmnist", directory: fixture("kmnist"), split: .test)
        let npzTest = try Datasets.load(name: "kmnist", directory: fixture("kmnist-npz"), split: .test)    // savez (stored)
        XCTAssertEqual(idxTest.count, 12)
        XCTAssertEqual(idxTest.pixels, npzTest.pixels)
        XCTAssertEqual(idxTest.labels, npzTest.labels)
        let arrays = try NPZ.read(path: fixture("kmnist-npz/kmnist-train-imgs.npz"))
        XCTAssertEqual(Array(arrays.keys), ["arr_0"])
    }

    func testRawIDXAndCSVLayouts() throws {
        let raw = try Datasets.load(name: "fashion-mnist", directory: fixture("raw"), split: .test)
        XCTAssertEqual(raw.count, 12)
        let dig = try Datasets.load(name: "dig-mnist", directory: fixture("csv"), split: .test)
        XCTAssertEqual(dig.count, 5)
        let kannada = try Datasets.load(name: "kannada-mnist", directory: fixture("csv"), split: .train)
        XCTAssertEqual(kannada.labels, [0, 1, 2, 3, 4])
        assertDataError(["csv", "no test files for kannada-mnist", "X_kannada_MNIST_test-idx3-ubyte.gz", "Kaggle's test.csv has no labels"]) {
            try Datasets.load(name: "kannada-mnist", directory: fixture("csv"), split: .test)
        }
        assertDataError(["dig-mnist has no train split", "kannada-mnist"]) {
            try Datasets.load(name: "dig-mnist", directory: fixture("csv"), split: .train)
        }
    }

    func testMissingFilesListNamesAndDirectory() {
        let d = tempDir()
        assertDataError([d, "no train files for kmnist", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "kmnist-train-imgs.npz"]) {
            try Datasets.load(name: "kmnist", directory: d, split: .train)
        }
        // Images without labels.
        try? FileManager.default.copyItem(atPath: fixture("kmnist/t10k-images-idx3-ubyte.gz"), toPath: d + "/t10k-images-idx3-ubyte.gz")
        assertDataError([d + "/t10k-images-idx3-ubyte.gz", "not its partner", "t10k-labels-idx1-ubyte.gz"]) {
            try Datasets.load(name: "mnist", directory: d, split: .test)
        }
    }

    func testMismatchedCountsAndBadLabels() throws {
        let d = tempDir()
        try FileManager.default.copyItem(atPath: fixture("kmnist/t10k-images-idx3-ubyte.gz"), toPath: d + "/t10k-images-idx3-ubyte.gz")
        try IDX.write(dims: [11], bytes: [UInt8](repeating: 1, count: 11), to: d + "/t10k-labels-idx1-ubyte.gz", gzip: true)
        assertDataError(["t10k-labels-idx1-ubyte.gz", "11 labels but", "holds 12 images"]) {
            try Datasets.load(name: "mnist", directory: d, split: .test)
        }
        var labels = [UInt8](repeating: 1, count: 12); labels[7] = 10
        try IDX.write(dims: [12], bytes: labels, to: d + "/t10k-labels-idx1-ubyte.gz", gzip: true)
        assertDataError(["t10k-labels-idx1-ubyte.gz", "offset 15", "label 7 is 10, expected a class index 0...9"]) {
            try Datasets.load(name: "mnist", directory: d, split: .test)
        }
        // Images and labels swapped.
        try IDX.write(dims: [12], bytes: [UInt8](repeating: 1, count: 12), to: d + "/t10k-images-idx3-ubyte.gz", gzip: true)
        assertDataError(["t10k-images-idx3-ubyte.gz", "expected unsigned-byte images with 3 dimensions", "dims [12]"]) {
            try Datasets.load(name: "mnist", directory: d, split: .test)
        }
    }

    func testResolutionOrder() throws {
        let root = tempDir()
        let explicitDir = root + "/explicit", envRoot = root + "/env", cwd = root + "/cwd"
        let fm = FileManager.default
        for d in [explicitDir, envRoot + "/kmnist", cwd + "/data/kmnist"] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
            try fm.copyItem(atPath: fixture("kmnist/t10k-labels-idx1-ubyte.gz"), toPath: d + "/t10k-labels-idx1-ubyte.gz")
        }
        let env = ["MODELC_DATA": envRoot]
        // 1. --data DIR wins.
        XCTAssertEqual(try Datasets.resolveDirectory(name: "kmnist", explicit: explicitDir, environment: env, currentDirectory: cwd), explicitDir)
        // 2. then $MODELC_DATA/<name>.
        XCTAssertEqual(try Datasets.resolveDirectory(name: "kmnist", explicit: nil, environment: env, currentDirectory: cwd), envRoot + "/kmnist")
        // 3. then ./data/<name>.
        XCTAssertEqual(try Datasets.resolveDirectory(name: "kmnist", explicit: nil, environment: [:], currentDirectory: cwd), cwd + "/data/kmnist")
        // --data DIR may also be a parent holding <name>/.
        XCTAssertEqual(try Datasets.resolveDirectory(name: "kmnist", explicit: envRoot, environment: [:], currentDirectory: cwd), envRoot + "/kmnist")
        // An explicit directory without the files is an error, not a fallback.
        assertDataError([root, "no kmnist files in", "train-images-idx3-ubyte.gz"]) {
            try Datasets.resolveDirectory(name: "kmnist", explicit: root, environment: env, currentDirectory: cwd)
        }
        // 4. /usr/share/datasets/<name> last; nothing anywhere lists every place.
        let empty = root + "/empty"
        try fm.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertDataError(["kmnist: dataset not found", root + "/none/kmnist", empty + "/data/kmnist", "/usr/share/datasets/kmnist", "modelc download kmnist"]) {
            try Datasets.resolveDirectory(name: "kmnist", explicit: nil, environment: ["MODELC_DATA": root + "/none"], currentDirectory: empty)
        }
        let candidates = Datasets.candidateDirectories(name: "kmnist", explicit: "X", environment: env, currentDirectory: cwd)
        XCTAssertEqual(candidates, ["X", "X/kmnist", envRoot + "/kmnist", cwd + "/data/kmnist", "/usr/share/datasets/kmnist"])
    }

    func testDebianFashionMNISTIfInstalled() throws {
        // Only where the Debian package dataset-fashion-mnist is installed (not in CI).
        guard FileIO.isDirectory("/usr/share/datasets/fashion-mnist") else { throw XCTSkip("dataset-fashion-mnist not installed") }
        let dir = try Datasets.resolveDirectory(name: "fashion-mnist", explicit: nil, environment: [:], currentDirectory: tempDir())
        XCTAssertEqual(dir, "/usr/share/datasets/fashion-mnist")
        let test = try Datasets.load(name: "fashion-mnist", directory: dir, split: .test)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.classCounts(classes: 10), [Int](repeating: 1000, count: 10))
    }
}
