// Keras 3 files of recurrent models (Tests/Fixtures/keras_files, made by
// make_recurrent_keras_files.py from the numerics fixtures' weights): Keras keeps a recurrent
// layer's variables under its cell ("lstm_cell"), a Bidirectional's under forward_layer/cell and
// backward_layer/cell, a TimeDistributed's under its inner layer. Loaded from `.keras` and
// `.weights.h5`, every parameter equals the fixture's weights.npz, read by name.

import XCTest
import Foundation
import GeneratedTestModels
import ModelcRuntime

final class KerasRecurrentFileTests: XCTestCase {
    func testRecurrentLayersLoadFromKeras3Files() throws {
        try check(FxSequenceStack.self, "sequence_stack")
        try check(FxTimeDistributed.self, "time_distributed")
        // Bidirectionals whose inner layers have other names: directions "forward_encoder_lstm"
        try check(FxSequenceStack.self, "sequence_stack", files: ["sequence_stack_renamed.weights.h5"])
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
