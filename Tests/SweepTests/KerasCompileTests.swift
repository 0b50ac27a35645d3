// `modelc compile model.keras` end to end with the built modelc binary: the file's trained
// weights are stored beside the binary (`BIN-weights.keras`), which starts from them when no
// checkpoint or --weights is given, also when started by name through PATH from another
// directory, and `export` writes them; `compile --weights` with an unknown type is a usage error. Slow: one generated binary.

import XCTest
import Foundation

final class KerasCompileTests: XCTestCase, BuiltModelcTests {
    func testCompileStoresTheModelFilesWeightsBesideTheBinary() throws {
        let modelc = try modelc()
        let tmp = temp()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let keras = repo.appendingPathComponent("Tests/Fixtures/keras_files/gc_bn_pool.keras").path
        let bad = try run(modelc, ["compile", keras, "--weights", "w.xyz"], cwd: tmp)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.err.contains("--weights w.xyz: unknown weights file type: expected one of .npz"), bad.err)

        try FileManager.default.createDirectory(atPath: tmp + "/bin", withIntermediateDirectories: true)
        let c = try run(modelc, ["compile", keras, "-o", tmp + "/bin/m", "--generated", tmp + "/gen"], cwd: tmp)
        XCTAssertEqual(c.status, 0, c.err)
        XCTAssertTrue(c.out.contains("stored as \(tmp)/bin/m-weights.keras"), c.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/bin/m-weights.keras"))

        let image = tmp + "/x.ppm"
        try Data(Array("P6\n5 5\n255\n".utf8) + (0..<75).map { UInt8(($0 * 37) % 256) }).write(to: URL(fileURLWithPath: image))
        let given = try run(tmp + "/bin/m", ["predict", "--weights", keras, image, "--json"], cwd: tmp)
        XCTAssertEqual(given.status, 0, given.err)
        // By name through PATH, from another directory.
        let stored = try run("/usr/bin/env", ["PATH=\(tmp)/bin:/usr/bin:/bin", "m", "predict", image, "--json"], cwd: NSTemporaryDirectory())
        XCTAssertEqual(stored.status, 0, stored.err)
        XCTAssertEqual(stored.out, given.out, "the stored weights are the file's")

        // export with no checkpoint writes the stored weights; predicting from the export agrees
        let x = try run(tmp + "/bin/m", ["export", "--weights", tmp + "/w.npz"], cwd: tmp)
        XCTAssertEqual(x.status, 0, x.err)
        XCTAssertTrue(x.err.contains("m-weights.keras"), x.err)
        let exported = try run(tmp + "/bin/m", ["predict", "--weights", tmp + "/w.npz", image, "--json"], cwd: tmp)
        XCTAssertEqual(exported.out, given.out, exported.err)
    }
}
