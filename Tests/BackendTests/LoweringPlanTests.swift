// The lowering plan (Passes/Lowering.swift) against what the emitter then does with it.
import XCTest
import ModelcCore
@testable import ModelcBackend
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
