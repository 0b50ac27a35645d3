// The recurrent layers' buffer sizes agree between the emitter and the runtime, the emitter
// refuses what it cannot run, and an Embedding's out-of-range token id is reported (never read
// out of bounds) by the generated model.

import XCTest
import ModelcCore
@testable import ModelcBackend
@testable import ModelcRuntime
import GeneratedTestModels
import TestModelSpecs

final class RecurrentKernelTests: XCTestCase {
    func testBufferSizesAgree() {
        for (cell, kind, rows, resetAfter) in [(RecurrentCell.simpleRNN, RecurrentCellKind.simple, 1, false), (.lstm, .lstm, 1, false),
                                               (.gru, .gruResetAfter, 2, true), (.gru, .gruResetBefore, 1, false)] {
            for (steps, dropout) in [(1, nil), (5, nil), (5, CellDropout(input: 0.2, recurrent: 0.3, perGate: true)),
                                     (4, CellDropout(input: 0, recurrent: 0.3, perGate: false)), (3, CellDropout(input: 0.2, recurrent: 0, perGate: true)),
                                     (2, CellDropout(input: 0.2, recurrent: 0.3, perGate: true))] {   // T D = 6 < U: dh's scratch sets the size
                var a = RecurrentAttrs(cell: cell, units: 7, returnSequences: steps == 5, biasRows: rows, resetAfter: resetAfter)
                a.cellDropout = dropout
                let g = RecurrentGeometry(cell: kind, steps: steps, inputs: 3, units: 7, returnSequences: steps == 5,
                                          inputDropout: dropout?.input ?? 0, recurrentDropout: dropout?.recurrent ?? 0, perGateMasks: dropout?.perGate ?? false)
                let s = RecurrentEmitter.sizes(a, steps: steps, inputs: 3)
                XCTAssertEqual(s.state, g.stateFloats, "\(cell) state")
                XCTAssertEqual(s.work, g.workFloats, "\(cell) work")
                if dropout?.recurrent ?? 0 > 0 { XCTAssertGreaterThanOrEqual(g.workFloats - g.dropoutWorkOffset, 7, "\(cell): dh's scratch") }
                if dropout?.input ?? 0 > 0 { XCTAssertGreaterThanOrEqual(g.workFloats - g.dropoutWorkOffset, 3 * steps, "\(cell): dx's scratch") }
                XCTAssertEqual(g.width, cell.gates * 7)
                var b = a
                b.bidirectional = .concat
                for dx in [false, true] {
                    XCTAssertEqual(RecurrentEmitter.bufferSizes(a, steps: steps, inputs: 3, inputGradient: dx).perImage, g.stateFloats + g.workFloats)
                    let bs = RecurrentEmitter.bufferSizes(b, steps: steps, inputs: 3, inputGradient: dx)
                    XCTAssertEqual(bs.perImage, BidirectionalLayer.bufferFloats(g), "\(cell) bidirectional buffer")
                    XCTAssertEqual(bs.transposed, BidirectionalLayer.transposedFloats(g, inputGradient: dx), "\(cell) bidirectional transposed")
                }
            }
        }
    }

    /// With the model's dropout off, a training forward of in-cell dropout layers (masks of
    /// ones, through the masked kernels) computes the plain cells: the inference outputs.
    func testCellDropoutOffComputesThePlainCells() throws {
        for name in ["fx_cell_dropout", "fx_cell_dropout_masking"] {
            let t = try XCTUnwrap(backendTestModels[name])
            let m = t.init(maxBatch: 4)
            var rng = TestRNG(5)
            TestModels.randomize(m, &rng)
            let x = rng.array(4 * t.info.inputSize, -1, 1)
            let inference = TestModels.forward(m, x, count: 4, training: false)
            (m as? CompiledModelBase)?.dropout = false
            let off = TestModels.forward(m, x, count: 4, training: true, seed: 9)
            XCTAssertLessThan(relativeError(off, inference), 1e-5, name)
            (m as? CompiledModelBase)?.dropout = true
            let on = TestModels.forward(m, x, count: 4, training: true, seed: 9)
            XCTAssertGreaterThan(relativeError(on, inference), 1e-3, "\(name): the masks change the training forward")
        }
    }

    func testEmitterRefusals() {
        var b = ChainBuilder(input: [6, 3])
        b.add("dense", "Dense", .dense(units: 4, useBias: true, activation: .linear))
        var ir = b.ir("p")
        ir.sourcePath = "m.md"
        XCTAssertEqual(Emitter.problems(ir).map(\.description), [])
        var e = ChainBuilder(input: [6])
        e.add("embedding", "Embedding", .embedding(vocab: 5, dim: 2))
        e.add("embedding_1", "Embedding", .embedding(vocab: 5, dim: 2))
        var eir = e.ir("q")
        eir.sourcePath = "m.md"
        XCTAssertTrue(Emitter.problems(eir).contains { $0.message.contains("an Embedding reads the model's input (token ids): it must be the first layer") },
                      "\(Emitter.problems(eir))")
        var g = ChainBuilder(input: [6, 3])
        g.add("gru", "GRU", .recurrent(RecurrentAttrs(cell: .gru, units: 4, returnSequences: false, biasRows: 2, resetAfter: false)))
        var gir = g.ir("r")
        gir.sourcePath = "m.md"
        XCTAssertTrue(Emitter.problems(gir).contains { $0.message.contains("must be reset_after") }, "\(Emitter.problems(gir))")
        gir.semantics = .pytorch
        XCTAssertTrue(Emitter.problems(gir).contains { $0.message.contains("under PyTorch semantics must be an nn.LSTM/GRU/RNN layer") }, "\(Emitter.problems(gir))")
    }

    /// Sequence masks from the model's input: Masking by value over a step's values, mask_zero by token id.
    func testSequenceMaskRules() {
        var m = [Float](repeating: 9, count: 3)
        SequenceMaskRule.value(-1, stepSize: 2).fill([-1, -1, -1, 0, 2, -1], steps: 3, into: &m)
        XCTAssertEqual(m, [0, 1, 1])
        SequenceMaskRule.tokenZero.fill([0, 4, 0], steps: 3, into: &m)
        XCTAssertEqual(m, [0, 1, 0])
        var y = [Float](repeating: 9, count: 6)
        SequenceMaskRule.value(-1, stepSize: 2).apply(x: [-1, -1, -1, 0, 2, -1], from: [1, 2, 3, 4, 5, 6], to: &y, steps: 3, count: 1)
        XCTAssertEqual(y, [0, 0, 3, 4, 5, 6])
    }

    func testEmbeddingKernelRangeChecks() {
        let table: [Float] = [1, 2, 3, 4, 5, 6]   // vocab 3, dim 2
        let ids: [Float] = [2, 0, 3, -1, 1.5, .nan, 1, 2]
        var y = [Float](repeating: 9, count: ids.count * 2)
        let bad = EmbeddingKernel.forward(ids: ids, count: ids.count, table: table, vocab: 3, dim: 2, y: &y)
        XCTAssertEqual(bad, 3)
        XCTAssertEqual(y, [5, 6, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 5, 6])
        var g = [Float](repeating: 7, count: 6)
        EmbeddingKernel.backward(ids: ids, count: ids.count, dy: [Float](repeating: 1, count: 16), vocab: 3, dim: 2, gTable: &g)
        XCTAssertEqual(g, [1, 1, 1, 1, 2, 2])
    }

    /// The generated Embedding -> recurrent stack model: an id outside the vocabulary is reported to the
    /// trainer / evaluator (checkInput throws), the output stays finite.
    func testGeneratedModelReportsBadTokenIds() throws {
        let t = try XCTUnwrap(backendTestModels["fx_sequence_stack"])
        let m = t.init(maxBatch: 2)
        var x = [Float](repeating: 1, count: 2 * t.info.inputSize)
        let ok = TestModels.forward(m, x, count: 2, training: false)
        XCTAssertTrue(ok.allSatisfy(\.isFinite))
        XCTAssertNoThrow(try m.checkInput("eval"))
        x[7] = 7
        let out = TestModels.forward(m, x, count: 2, training: true)
        XCTAssertTrue(out.allSatisfy(\.isFinite))
        XCTAssertThrowsError(try m.checkInput("training batch 1")) { e in
            XCTAssertEqual("\(e)", "training batch 1: layer embedding: token id 7.0 is not a whole number in 0..<7")
        }
        XCTAssertNoThrow(try m.checkInput("again"), "a report is taken once")
    }
}
