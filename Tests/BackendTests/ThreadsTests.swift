// The generated code splits the batch into chunks chosen by `--threads` (Parallel.threads),
// never by the machine's core count, so the grouping of every floating-point sum (and so
// every result) depends only on --threads.

import XCTest
import ModelcCore
import ModelcBackend
import ModelcRuntime

final class ThreadsTests: XCTestCase {
    func testEmittedCodeNeverAsksTheMachine() {
        for ir in BackendTestModels.all {
            let src = Emitter.emit(ir, fuse: true).source
            XCTAssertFalse(src.contains("activeProcessorCount"), "\(ir.name) reads the core count")
            XCTAssertTrue(src.contains("threads = max(1, min(Parallel.threads, 64))"), "\(ir.name) ignores Parallel.threads")
        }
    }

    /// Same --threads: bit-identical gradients; other --threads: same values up to rounding.
    func testGradientsDependOnlyOnThreadCount() throws {
        try run(try TestModels.type("fuse_cnn"))
    }

    private func run<M: CompiledModel>(_ t: M.Type) throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        func gradients(threads: Int) -> [Float] {
            Parallel.threads = threads
            let m = M(maxBatch: 7)
            var rng = TestRNG(9)
            TestModels.randomize(m, &rng)
            let x = rng.array(7 * M.info.inputSize, -1, 1)
            _ = TestModels.forward(m, x, count: 7, training: true, seed: 4)
            TestModels.backward(m, rng.array(7 * M.info.classCount, -1, 1), count: 7)
            return Array(UnsafeBufferPointer(start: m.gradients, count: M.info.parameterCount))
        }
        let a = gradients(threads: 3), b = gradients(threads: 3), one = gradients(threads: 1)
        XCTAssertEqual(a, b)
        XCTAssertLessThan(relativeError(a, one), 1e-4)
    }
}
