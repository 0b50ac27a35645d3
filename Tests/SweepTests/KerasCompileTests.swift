// `modelc compile model.keras` end to end with the built modelc binary: the file's trained
// weights are stored beside the binary (`BIN-weights.keras`), which starts from them when no
// checkpoint or --weights is given, also when started by name through PATH from another
// directory, and `export` writes them; `compile --weights` with an unknown type is a usage error.
// A Keras 2 `.h5` with cross-attention (keras2_attention.h5) gives tf_keras's probabilities.
// Slow: two generated binaries.

import XCTest
import Foundation
import ModelcData

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

    /// make_keras2_attention.py's model (a Dense named `query`, `mha(q, v, k,
    /// use_causal_mask=True)`, tf_keras 2.21): its binary's `predict` on the four inputs of
    /// keras2_attention.io.npz against tf_keras's `predict`.
    func testKeras2AttentionFileGivesKerassProbabilities() throws {
        let modelc = try modelc()
        let tmp = temp()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let dir = repo.appendingPathComponent("Tests/Fixtures/keras_files").path
        let c = try run(modelc, ["compile", dir + "/keras2_attention.h5", "-o", tmp + "/k2", "--generated", tmp + "/gen"], cwd: tmp)
        XCTAssertEqual(c.status, 0, c.err)
        let p = try run(tmp + "/k2", ["predict", "--data", dir + "/keras2_attention.io.npz", "--json"], cwd: tmp)
        XCTAssertEqual(p.status, 0, p.err)
        let got = p.out.split(separator: "\n").compactMap { line -> [Double]? in
            let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return o?["probabilities"] as? [Double]
        }
        let want = try XCTUnwrap(NPZ.read(path: dir + "/keras2_attention.io.npz")["y"]).floats()
        XCTAssertEqual(got.count, 4, p.out)
        XCTAssertEqual(got.flatMap { $0 }.count, want.count)
        for (i, (g, w)) in zip(got.flatMap { $0 }, want).enumerated() {
            XCTAssertEqual(g, Double(w), accuracy: 1e-6, "probability \(i)")
        }
    }
}
