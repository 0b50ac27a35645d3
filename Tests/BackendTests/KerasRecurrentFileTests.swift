// Keras 3 files of recurrent models (Tests/Fixtures/keras_files, made by
// make_recurrent_keras_files.py from the numerics fixtures' weights): Keras keeps a recurrent
// layer's variables under its cell ("lstm_cell"), a Bidirectional's under forward_layer/cell and
// backward_layer/cell, a TimeDistributed's under its inner layer. Loaded from `.keras` and
// `.weights.h5`, every parameter equals the fixture's weights.npz, read by name.

import XCTest
import Foundation
import GeneratedTestModels
import ModelcRuntime
import ModelcCore

final class KerasRecurrentFileTests: XCTestCase {
    func testRecurrentLayersLoadFromKeras3Files() throws {
        try check(FxSequenceStack.self, "sequence_stack")
        try check(FxTimeDistributed.self, "time_distributed")
        // Bidirectionals whose inner layers have other names: directions "forward_encoder_lstm"
        try check(FxSequenceStack.self, "sequence_stack", files: ["sequence_stack_renamed.weights.h5"])
        try check(FxCellDropout.self, "cell_dropout", files: ["cell_dropout.keras"])
    }

    /// A Keras 3 file's in-cell dropout is the annotated table's: a mask per gate where Keras
    /// forced implementation=1 (recurrent_dropout), one where it did not. The fixture's lstm_1 ran
    /// implementation=1 (annotated in its table), which Keras 3 does not save: the file, loaded
    /// again, runs one mask, and so does modelc.
    func testCellDropoutFromAKeras3File() throws {
        let file = try Frontend.check(path: KerasWeightFileTests.dir + "/cell_dropout.keras")
        let table = try Frontend.check(path: KerasFixtureTests.root + "/cell_dropout/model.md")
        func dropouts(_ r: CheckReport) -> [String] {
            r.ir.layers.compactMap { l in
                guard case .recurrent(let a) = l.op else { return nil }
                return "\(l.name): \(a.cellDropout?.description ?? "none")"
            }
        }
        let expected = ["lstm: dropout 0.25, recurrent_dropout 0.5 (a mask per gate)", "gru: dropout 0.5, recurrent_dropout 0.25 (a mask per gate)",
                        "gru_1: dropout 0.5", "bidirectional: dropout 0.25, recurrent_dropout 0.25 (a mask per gate)",
                        "lstm_1: dropout 0.3", "simple_rnn: dropout 0.5, recurrent_dropout 0.5"]
        XCTAssertEqual(dropouts(file), expected)
        XCTAssertEqual(dropouts(table), expected.map { $0 == "lstm_1: dropout 0.3" ? "lstm_1: dropout 0.3 (a mask per gate)" : $0 })
    }

    private func check<M: CompiledModel>(_: M.Type, _ name: String, files: [String]? = nil) throws {
        let reference = M(maxBatch: 1)
        try WeightsFile.load(KerasFixtureTests.root + "/\(name)/weights.npz", into: reference, log: { _ in })
        for file in files ?? ["\(name).keras", "\(name).weights.h5"] {
            let m = M(maxBatch: 1)
            try WeightsFile.load(KerasWeightFileTests.dir + "/" + file, into: m, log: { _ in })
            let n = M.info.parameterCount
            let same = (0..<n).allSatisfy { m.parameters[$0] == reference.parameters[$0] }
            XCTAssertTrue(same, "\(file): parameters differ from \(name)/weights.npz")
        }
    }
}
