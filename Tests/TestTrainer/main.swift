// modelc-testtrainer: the generated-binary command line (ModelcApp) around the runtime tests'
// TinyModel, so that tests can start, signal and kill a real training process.
//
// MODELC_TESTTRAINER_STEP_MS=N makes every training forward sleep N milliseconds, so that a
// test can interrupt a run of a few hundred steps at a random moment. It changes no result.

import Foundation
import ModelcCommands
import ModelcRuntime
import TinyModels

final class SlowTinyModel: TinyModelWrapper {
    static var info: ModelInfo { TinyModel.info }
    static var endsWithSoftmax: Bool { TinyModel.endsWithSoftmax }
    static let stepDelay: UInt32 = {
        let ms = ProcessInfo.processInfo.environment["MODELC_TESTTRAINER_STEP_MS"].flatMap { UInt32($0) } ?? 0
        return min(ms, 1000) * 1000
    }()
    let inner: TinyModel
    init(maxBatch: Int) { inner = TinyModel(maxBatch: maxBatch) }
    func forward(_ input: UnsafePointer<Float>, count: Int, training: Bool, seed: UInt64) -> UnsafePointer<Float> {
        if training && Self.stepDelay > 0 { usleep(Self.stepDelay) }
        return inner.forward(input, count: count, training: training, seed: seed)
    }
}

ModelcApp.main(SlowTinyModel.self)
