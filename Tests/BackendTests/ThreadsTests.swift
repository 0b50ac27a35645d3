// The generated code splits the batch into chunks chosen by `--threads` (Parallel.threads),
// never by the machine's core count, so the grouping of every floating-point sum (and so
// every result) depends only on --threads.

import XCTest
import ModelcCore
import ModelcBackend
import TestModelSpecs
import GeneratedTestModels
import ModelcRuntime
import GeneratedModels

final class ThreadsTests: XCTestCase {
    func testEmittedCodeNeverAsksTheMachine() {
        for ir in BackendTestModels.all {
            let src = Emitter.emit(ir, fuse: true).source
            XCTAssertFalse(src.contains("activeProcessorCount"), "\(ir.name) reads the core count")
            XCTAssertTrue(src.contains(": CompiledModelBase, CompiledModel"), "\(ir.name) does not take its chunks from CompiledModelBase")
        }
        // CompiledModelBase: chunks = --threads, capped at 64, whatever the machine.
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (asked, chunks) in [(1, 1), (3, 3), (64, 64), (200, 64)] {
            Parallel.threads = asked
            let base = CompiledModelBase(maxBatch: 2, tensors: [], buffers: ModelBuffers(parameterCount: 1, inputSize: 1))
            XCTAssertEqual(base.threads, chunks, "--threads \(asked)")
        }
    }

    /// Same --threads: bit-identical gradients; other --threads: same values up to rounding.
    func testGradientsDependOnlyOnThreadCount() throws {
        try run(try TestModels.type("fuse_cnn"))
    }

    /// Keras's in-cell dropout: each image's masks hash its position in the batch, not its
    /// chunk, so the thread split changes rounding only.
    func testCellDropoutGradientsDependOnlyOnThreadCount() throws {
        try run(try TestModels.type("fx_cell_dropout"))
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

    /// One image with several threads splits each big layer's output pixels over them
    /// (`forwardSingle`); every output must be bit-identical to the same image in a batch when
    /// both run the direct kernels (wino_cnn emitted without Winograd; with it, the batch path
    /// differs by rounding: SemanticsTests.testWinogradMatchesDirect).
    func testSingleImageSplitMatchesBatch() throws {
        let src = try String(contentsOfFile: GeneratedFilesTests.repo + "/Tests/GeneratedTestModels/WinoCnnDirect.swift", encoding: .utf8)
        XCTAssertTrue(src.contains("Parallel.rows(49, "), "conv2d_2 (49 output pixels) is not split")
        XCTAssertFalse(src.contains("ForwardTiles"), "the direct twin uses Winograd")
        checkSingleImageMatchesBatch(WinoCnnDirect.self)
    }

    /// A layer with few pixels and many channels splits blocks of pixels x channels
    /// (`ForwardBlocks`, ConvLowering.singleImageColumns): the same bits as in a batch.
    func testSingleImageBlocksOfChannelsMatchBatch() throws {
        let src = try String(contentsOfFile: GeneratedFilesTests.repo + "/generated/mnist_conv1d_rows/MnistConv1dRows.swift", encoding: .utf8)
        XCTAssertTrue(src.contains("Parallel.rows(6, block: 1, threads: singleThreads) { q0, q1, t in self.l5_conv4ForwardBlocks("), "conv4 (14 pixels) is not split by blocks")
        checkSingleImageMatchesBatch(MnistConv1dRows.self)
        // fused (folded BatchNorm, pooled scratch): seed 000's conv2d_3
        checkSingleImageMatchesBatch(Seed000KmnistCnn.self)
    }

    /// Every image alone, on each thread count the single-image tuner may pick (pinned), and
    /// through the tuner's trials, gives the batch's bits.
    func checkSingleImageMatchesBatch<M: CompiledModel>(_: M.Type, file: StaticString = #filePath, line: UInt = #line) {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [2, 3] {
            Parallel.threads = threads
            let m = M(maxBatch: 3)
            var rng = TestRNG(5)
            TestModels.randomize(m, &rng)
            let x = rng.array(3 * M.info.inputSize, 0, 1)
            let batch = TestModels.forward(m, x, count: 3, training: false)
            let k = M.info.classCount, n = M.info.inputSize
            let base = m as! CompiledModelBase
            for pinned in [1, 2, threads] {
                base.pinnedSingleThreads = pinned
                for i in 0..<3 {
                    let one = TestModels.forward(m, Array(x[i * n..<(i + 1) * n]), count: 1, training: false)
                    XCTAssertEqual(base.singleThreads, min(pinned, threads), file: file, line: line)
                    XCTAssertEqual(one, Array(batch[i * k..<(i + 1) * k]), "\(M.self): threads \(threads), pinned to \(pinned), image \(i)",
                                   file: file, line: line)
                }
            }
            // tuned: through the first trial rounds, whatever counts they run
            base.pinnedSingleThreads = nil
            var counts = Set<Int>()
            for call in 0..<120 {
                let i = call % 3
                let one = TestModels.forward(m, Array(x[i * n..<(i + 1) * n]), count: 1, training: false)
                counts.insert(base.singleThreads)
                XCTAssertEqual(one, Array(batch[i * k..<(i + 1) * k]), "\(M.self): threads \(threads), tuned, call \(call)", file: file, line: line)
            }
            XCTAssertGreaterThan(counts.count, 1, "\(M.self): the tuner tried one count only", file: file, line: line)
        }
    }

    /// Batch inference hands blocks of images to the threads dynamically (`Parallel.images`):
    /// whatever the thread count and the blocks, every image's output is bit-identical.
    func testBatchInferenceIndependentOfThreadsAndBlocks() throws {
        func check<M: CompiledModel>(_ t: M.Type, count: Int) {
            let saved = Parallel.threads
            defer { Parallel.threads = saved }
            var rng = TestRNG(11)
            let x = rng.array(count * M.info.inputSize, 0, 1)
            var outputs: [[Float]] = []
            for threads in [1, 2, 3] {
                Parallel.threads = threads
                let m = M(maxBatch: count)
                var r = TestRNG(6)
                TestModels.randomize(m, &r)
                outputs.append(TestModels.forward(m, x, count: count, training: false))
            }
            XCTAssertEqual(outputs[1], outputs[0], "\(M.self): 2 threads differ from 1")
            XCTAssertEqual(outputs[2], outputs[0], "\(M.self): 3 threads differ from 1")
        }
        check(Seed000KmnistCnn.self, count: 53)
        check(Seed001Mlp12864ReluAdam.self, count: 101)
    }
}
