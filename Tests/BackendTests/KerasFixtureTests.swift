// Generated code against Keras 3 references (Tests/Fixtures/numerics/, see its README):
// for each case the fixture's own model.md is compiled (Tests/BackendTests/Generated/Fx*.swift),
// loaded with weights.npz, and compared on io.npz: inference and training outputs, every
// trainable weight's gradient for L = sum(output_training * upstream), and the BatchNorm
// moving statistics after one training forward. Tolerance: max|modelc - ref| <= 1e-4 max|ref|
// per array (structurally zero gradients: 1e-4 of the layer's kernel gradient scale).
// Both the unfused and the fused (inference) variants are checked.

import XCTest
import Foundation
import ModelcRuntime
import ModelcData

final class KerasFixtureTests: XCTestCase {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Tests/Fixtures/numerics").path
    }()

    func cases() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: Self.root)) ?? []).sorted().filter {
            FileManager.default.fileExists(atPath: "\(Self.root)/\($0)/io.npz")
        }
    }

    func testEveryFixtureHasAGeneratedModel() {
        let all = cases()
        XCTAssertGreaterThan(all.count, 20, "fixtures not found under \(Self.root)")
        for c in all { XCTAssertNotNil(backendTestModels["fx_\(c)"], "no generated model for fixture \(c) (run `modelc generate`)") }
    }

    func testFixtures() throws {
        var ran = 0
        for c in cases() {
            for suffix in ["", "_fused"] {
                guard let t = backendTestModels["fx_\(c)\(suffix)"] else { continue }
                try run(t, case: c)
                ran += 1
            }
        }
        XCTAssertGreaterThan(ran, 20)
    }

    private func run<M: CompiledModel>(_ t: M.Type, case c: String) throws {
        let weights = try NPZ.read(path: "\(Self.root)/\(c)/weights.npz")
        let io = try NPZ.read(path: "\(Self.root)/\(c)/io.npz")
        let input = try XCTUnwrap(io["input"], "\(c): io.npz has no input")
        let n = input.shape.first ?? 0
        let m = M(maxBatch: n)
        for s in M.info.tensors {
            let alt = s.key.replacingOccurrences(of: "/depthwise_kernel", with: "/kernel")
            let arr = try XCTUnwrap(weights[s.key] ?? weights[alt], "\(c): weights.npz has no \(s.key)")
            XCTAssertEqual(arr.shape, s.shape, "\(c): \(s.key) shape")
            let v = try arr.floats()
            guard v.count == s.count else { XCTFail("\(c): \(s.key) has \(v.count) values"); return }
            (m.parameters + s.offset).update(from: v, count: v.count)
        }
        let x = try input.floats()
        XCTAssertEqual(x.count, n * M.info.inputSize, "\(c): input size")
        let label = "\(c) (\(M.self))"
        let yi = TestModels.forward(m, x, count: n, training: false)
        XCTAssertLessThan(relativeError(yi, try io["output_inference"]!.floats()), 1e-4, "\(label): output_inference")
        let yt = TestModels.forward(m, x, count: n, training: true, seed: 3)
        XCTAssertLessThan(relativeError(yt, try io["output_training"]!.floats()), 1e-4, "\(label): output_training")
        for s in M.info.tensors where !s.trainable {
            if let ref = io["moving_after/\(s.key)"] {
                let got = Array(UnsafeBufferPointer(start: m.parameters + s.offset, count: s.count))
                XCTAssertLessThan(relativeError(got, try ref.floats()), 1e-4, "\(label): moving_after/\(s.key)")
            }
        }
        TestModels.backward(m, try io["upstream"]!.floats(), count: n)
        for s in M.info.tensors where s.trainable {
            let ref = try XCTUnwrap(io["grad/\(s.key)"], "\(label): io.npz has no grad/\(s.key)").floats()
            let got = Array(UnsafeBufferPointer(start: m.gradients + s.offset, count: s.count))
            let refMax = ref.map(abs).max() ?? 0
            if refMax == 0 {
                // Structurally zero (bias feeding BatchNorm): compare to the layer's kernel gradient scale.
                let layer = s.key.split(separator: "/").first.map(String.init) ?? ""
                let kernel = M.info.tensors.first { $0.key == "\(layer)/kernel" }
                let scale = kernel.map { k in (0..<k.count).map { abs(m.gradients[k.offset + $0]) }.max() ?? 1 } ?? 1
                XCTAssertLessThanOrEqual(got.map(abs).max() ?? 0, 1e-4 * max(scale, 1e-3), "\(label): grad/\(s.key) should be 0")
            } else {
                XCTAssertLessThan(relativeError(got, ref), 1e-4, "\(label): grad/\(s.key)")
            }
        }
    }
}
