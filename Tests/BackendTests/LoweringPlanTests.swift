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

    /// Every buffer the emitted class declares is listed under exactly one layer of the plan.
    func testEveryBufferBelongsToOneLayer() {
        for ir in BackendTestModels.all {
            let e = Emitter.emit(ir, fuse: true)
            let names = e.plan.layers.flatMap { $0.buffers.map(\.name) }
            XCTAssertEqual(names.count, Set(names).count, "\(ir.name): a buffer listed twice")
            for n in names {
                XCTAssertTrue(e.source.contains("private let \(n): Unsafe"), "\(ir.name): \(n) is not declared")
            }
        }
    }
}
