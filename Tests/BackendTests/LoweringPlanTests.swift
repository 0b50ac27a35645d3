// The lowering plan (Passes/Lowering.swift) against what the emitter then does with it.
import XCTest
import ModelcCore
@testable import ModelcBackend
import ModelcRuntime
import TestModelSpecs

final class LoweringPlanTests: XCTestCase {
    /// Every Conv2D the plan sends to Winograd is emitted with Winograd, and no other.
    func testWinogradChoicesMatchTheEmission() {
        for ir in BackendTestModels.all {
            for winograd in [true, false] {
                let e = Emitter.emit(ir, fuse: true, winograd: winograd)
                for l in e.plan.layers where l.kind == "Conv2D" {
                    let emitted = e.winogradLayers.first { $0.name == l.name }
                    XCTAssertEqual(l.forward.kernel == "Winograd + Gemm", emitted?.forward ?? false, "\(ir.name) \(l.name)")
                    XCTAssertEqual(l.inputGradient?.kernel == "Winograd + Gemm", emitted?.inputGradient ?? false, "\(ir.name) \(l.name)")
                }
            }
        }
    }

    /// One image runs a Winograd layer's tiles (49 tiles), its direct rows (a 5x5 layer's 9
    /// tiles), or either, picked by the kernel target (a 3x3 layer's 9 tiles): the emitted
    /// `if KernelTarget.winogradSingleImage(tiles: 9)` holds both calls, and the backend's
    /// thresholds are the runtime's.
    func testSingleImageFormByKernelTarget() throws {
        func forms(_ model: String) throws -> (EmittedModel, [String: ConvLowering.SingleImageForm]) {
            let ir = try Frontend.check(path: GeneratedFilesTests.repo + "/models/\(model).md").ir
            let e = Emitter.emit(ir, fuse: true)
            return (e, Dictionary(uniqueKeysWithValues: e.plan.layers.compactMap { l in l.conv.map { (l.name, $0.singleImageForm) } }))
        }
        let (e2, seed002) = try forms("seed002_mnist_cnn")
        XCTAssertEqual(seed002["conv2d_2"], .tiles)
        XCTAssertEqual(seed002["conv2d_3"], .byTarget(tiles: 9))
        XCTAssertEqual(seed002["conv2d_4"], .byTarget(tiles: 9))
        XCTAssertEqual(seed002["conv2d_5"], .rows)
        XCTAssertEqual(try forms("seed000_kmnist_cnn").1["conv2d_2"], .rows, "5x5 in 9 tiles of 3x3")
        XCTAssertEqual(e2.source.components(separatedBy: "if KernelTarget.winogradSingleImage(tiles: 9) {").count - 1, 2)
        for call in ["Parallel.rows(9, block: 1, threads: threads) { q0, q1, t in self.l10_conv2d_3ForwardTiles(", "self.l10_conv2d_3ForwardRowsFused(", "l10_conv2d_3PadSingle()"] {
            XCTAssertTrue(e2.source.contains(call), call)
        }
        let plan = try XCTUnwrap(e2.plan.layers.first { $0.name == "conv2d_3" })
        XCTAssertTrue(plan.singleImage.hasPrefix("AVX2 and NEON kernels: 9 Winograd tiles one by one over the threads"), plan.singleImage)
        XCTAssertTrue(plan.singleImage.contains("AVX-512 kernels: 196 output pixels"), plan.singleImage)
        let narrow = KernelTarget.family != "avx512"
        XCTAssertEqual(KernelTarget.winogradSingleImageMinimumTiles,
                       narrow ? WinogradConv.singleImageMinimumTilesNarrow : WinogradConv.singleImageMinimumTiles, KernelTarget.family)
        XCTAssertEqual(KernelTarget.winogradSingleImage(tiles: 9), narrow)
        XCTAssertTrue(KernelTarget.winogradSingleImage(tiles: 49))
    }

    /// A Dense layer's one-image split in the plan is the one emitted (its ForwardColumns kernel).
    func testDenseSplitMatchesTheEmission() {
        var split = 0
        let models = ["seed001_mlp_128_64_relu_adam", "seed002_mnist_cnn"].compactMap {
            try? Frontend.check(path: GeneratedFilesTests.repo + "/models/\($0).md").ir
        }
        XCTAssertEqual(models.count, 2, "models/ could not be read")
        for ir in BackendTestModels.all + models {
            let e = Emitter.emit(ir, fuse: true)
            for (i, l) in e.plan.layers.enumerated() where l.kind == "Dense" {
                let planned = l.singleImage.contains("in blocks of 64 over the threads")
                let prefix = LayerContext.prefix(i + (e.plan.layers.first.map { $0.kind == "InputLayer" } == true ? 0 : 1), l.name)
                XCTAssertEqual(planned, e.source.contains("func \(prefix)ForwardColumns("), "\(ir.name) \(l.name)")
                if planned { split += 1 }
            }
        }
        XCTAssertGreaterThan(split, 0, "no test model has a Dense layer split over the threads")
    }

    /// Every buffer the emitted class declares is listed under exactly one layer of the plan.
    func testEveryBufferBelongsToOneLayer() {
        for ir in BackendTestModels.all {
            let e = Emitter.emit(ir, fuse: true)
            let names = e.plan.layers.flatMap { $0.buffers.map(\.name) }
            XCTAssertEqual(names.count, Set(names).count, "\(ir.name): a buffer listed twice")
            for n in names {
                XCTAssertTrue(e.source.contains("    var \(n): Unsafe"), "\(ir.name): \(n) is not declared")
            }
        }
    }
}
