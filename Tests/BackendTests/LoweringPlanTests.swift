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

    /// One image runs a Winograd layer's tiles from 9 tiles on (few tiles go to the threads one
    /// by one), and its direct rows below: in the plan and in the emitted schedule.
    func testSingleImageTilesFromNineTiles() throws {
        func emit(_ model: String) throws -> EmittedModel { Emitter.emit(try zooModel(model), fuse: true) }
        let seed002 = try emit("seed002_mnist_cnn"), seed000 = try emit("seed000_kmnist_cnn")
        func single(_ e: EmittedModel, _ layer: String) -> String { e.plan.layers.first { $0.name == layer }?.singleImage ?? "" }
        XCTAssertTrue(single(seed002, "conv2d_2").hasPrefix("49 Winograd tiles in blocks of 6"), single(seed002, "conv2d_2"))
        XCTAssertTrue(single(seed002, "conv2d_4").hasPrefix("9 Winograd tiles one by one"), single(seed002, "conv2d_4"))
        XCTAssertTrue(single(seed002, "conv2d_5").hasPrefix("49 output pixels"), single(seed002, "conv2d_5"))
        XCTAssertTrue(single(seed000, "conv2d_2").hasPrefix("9 Winograd tiles one by one"), single(seed000, "conv2d_2"))
        for call in ["Parallel.rows(49, block: 6, threads: singleThreads) { q0, q1, t in self.l5_conv2d_2ForwardTiles(",
                     "Parallel.rows(9, block: 1, threads: singleThreads) { q0, q1, t in self.l13_conv2d_4ForwardTiles(",
                     "Parallel.rows(49, block: 6, threads: singleThreads) { q0, q1, t in self.l18_conv2d_5ForwardRowsFused("] {
            XCTAssertTrue(seed002.source.contains(call), call)
        }
        XCTAssertFalse(seed002.source.contains("l13_conv2d_4ForwardRowsFused("), "a row kernel nothing calls")
        XCTAssertTrue(seed000.source.contains("Parallel.rows(9, block: 1, threads: singleThreads) { q0, q1, t in self.l6_conv2d_2ForwardTiles("))
    }

    /// A direct layer whose pixels make few blocks of 6 splits blocks of 6 pixels x 64 channels
    /// (seed 000's conv2d_3: 16 pixels, 128 channels); one with enough pixels splits pixels.
    func testFewPixelsSplitBlocksOfChannels() throws {
        let seed000 = Emitter.emit(try zooModel("seed000_kmnist_cnn"), fuse: true)
        let seed002 = Emitter.emit(try zooModel("seed002_mnist_cnn"), fuse: true)
        func single(_ e: EmittedModel, _ layer: String) -> String { e.plan.layers.first { $0.name == layer }?.singleImage ?? "" }
        XCTAssertEqual(single(seed000, "conv2d_3"), "6 blocks of 6 pixels x 64 channels over the threads (16 pixels make only 3 blocks of pixels)")
        XCTAssertTrue(seed000.source.contains("Parallel.rows(6, block: 1, threads: singleThreads) { q0, q1, t in self.l9_conv2d_3ForwardBlocksFused("))
        XCTAssertTrue(seed000.source.contains("self.l2_conv2d_1ForwardRowsFused("), "conv2d_1 (676 pixels) splits pixels")
        XCTAssertTrue(single(seed002, "conv2d_5").hasPrefix("49 output pixels"), single(seed002, "conv2d_5"))
        XCTAssertFalse(seed002.source.contains("ForwardBlocks"))
    }

    /// A Dense layer's one-image split in the plan is the one emitted (its ForwardColumns kernel).
    func testDenseSplitMatchesTheEmission() throws {
        var split = 0
        let models = try ["seed001_mlp_128_64_relu_adam", "seed002_mnist_cnn"].map { try zooModel($0) }
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
