// Shared helpers for the backend tests: deterministic random numbers, parameter filling,
// running a compiled model on Swift arrays.

import Foundation
import XCTest
import GeneratedTestModels
import ModelcCore
import ModelcRuntime

/// The IR of the zoo's `models/<name>.md`, which must check.
func zooModel(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> ModelIR {
    let report = try Frontend.check(path: GeneratedFilesTests.repo + "/models/\(name).md")
    XCTAssertTrue(report.ok, "\(name) does not check: \(report.problems)", file: file, line: line)
    return report.ir
}

/// SplitMix64: deterministic test data independent of the platform's generator.
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func array(_ n: Int, _ lo: Float, _ hi: Float) -> [Float] { (0..<n).map { _ in uniform(lo, hi) } }
}

enum TestModels {
    static func type(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> any CompiledModel.Type {
        try XCTUnwrap(backendTestModels[name], "no generated test model '\(name)' (run `swift run modelc-testmodels`)", file: file, line: line)
    }

    /// Fills every parameter with values typical of a trained network (kernels +-0.5, biases
    /// +-0.2, gamma 0.5..1.5, beta +-0.3, moving mean +-0.2, moving variance 0.5..1.5).
    static func randomize<M: CompiledModel>(_ m: M, _ rng: inout TestRNG) {
        for s in M.info.tensors {
            let (lo, hi): (Float, Float)
            // Keras keys "<layer>/<role>"; PyTorch keys "<module>.<suffix>" (BatchNorm weight/bias
            // get kernel/bias ranges, fine for gradient checks).
            let role = s.key.split(separator: "/").last.map(String.init) ?? ""
            switch s.key.contains("/") ? role : String(s.key.split(separator: ".").last ?? "") {
            case "gamma": (lo, hi) = (0.5, 1.5)
            case "beta": (lo, hi) = (-0.3, 0.3)
            case "moving_mean", "running_mean", "mean": (lo, hi) = (-0.2, 0.2)
            case "moving_variance", "running_var", "variance": (lo, hi) = (0.5, 1.5)
            case "bias": (lo, hi) = (-0.2, 0.2)
            default: (lo, hi) = (-0.5, 0.5)
            }
            for i in 0..<s.count { m.parameters[s.offset + i] = rng.uniform(lo, hi) }
        }
    }

    static func forward<M: CompiledModel>(_ m: M, _ x: [Float], count: Int, training: Bool, seed: UInt64 = 1) -> [Float] {
        let out = x.withUnsafeBufferPointer { m.forward($0.baseAddress!, count: count, training: training, seed: seed) }
        return Array(UnsafeBufferPointer(start: out, count: count * M.info.classCount))
    }

    static func backward<M: CompiledModel>(_ m: M, _ dy: [Float], count: Int) {
        dy.withUnsafeBufferPointer { m.backward($0.baseAddress!, count: count) }
    }

    static func parameters<M: CompiledModel>(_ m: M) -> [Float] {
        Array(UnsafeBufferPointer(start: m.parameters, count: M.info.parameterCount))
    }
}

/// max |a - b| / max(max |b|, floor)
func relativeError(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> Float {
    guard a.count == b.count else { return .infinity }
    var d: Float = 0, s: Float = floor
    for i in 0..<a.count { d = max(d, abs(a[i] - b[i])); s = max(s, abs(b[i])) }
    return d / s
}
