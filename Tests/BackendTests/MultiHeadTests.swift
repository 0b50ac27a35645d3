// Several output heads (issue 17) against Keras 3 (Tests/Fixtures/numerics/graph_heads, made by
// make_head_fixtures.py): the compiled fixture reads its data.npz (x and one target array per
// head), its weighted training loss and every weight's gradient match Keras's at 1e-4, the
// gradient matches finite differences, eval reports each head, training lowers the loss, and
// bad data files get errors naming the array. (KerasFixtureTests checks the joined outputs and
// GradientCheckTests their gradients like every fixture's.)

import XCTest
import Foundation
import GeneratedTestModels
import ModelcRuntime
import ModelcData

final class MultiHeadTests: XCTestCase {
    static let dir = KerasFixtureTests.root + "/graph_heads"
    typealias M = FxGraphHeads

    /// The model with the fixture's weights, and data.npz as the run reads it.
    func load(batch: Int = 5) throws -> (M, LabeledImages, Loss) {
        let m = M(maxBatch: batch)
        try WeightsFile.load("\(Self.dir)/weights.npz", into: m)
        let loss = try Loss(heads: M.heads)
        let raw = try ArrayData.read("\(Self.dir)/data.npz", split: .train, info: M.info, targetColumns: 1, heads: M.heads)
        return (m, try ArrayData.examples(raw, loss: loss, info: M.info), loss)
    }

    /// The weighted loss of the training forward on every example, with its output gradient.
    func weightedLoss(_ m: M, _ data: LabeledImages, _ loss: Loss, gradient: UnsafeMutablePointer<Float>?) -> (Double, [Double]) {
        let n = data.count, w = M.info.classCount
        var x = [Float](repeating: 0, count: n * M.info.inputSize), y = [Float](repeating: 0, count: n * w)
        var labels = [Int32](repeating: 0, count: n)
        data.fillBatch(Array(0..<n)[...], input: &x, labels: &labels, targets: &y, scale: 1, offset: 0, augmentation: nil, seed: 0, step: 0)
        let out = x.withUnsafeBufferPointer { m.forward($0.baseAddress!, count: n, training: true, seed: 1) }
        let total = y.withUnsafeBufferPointer { loss.evaluate(outputs: out, targets: $0.baseAddress!, count: n, width: w, gradient: gradient).lossSum }
        let heads = y.withUnsafeBufferPointer { loss.headResults(outputs: out, targets: $0.baseAddress!, count: n, width: w, gradient: nil) }
        return (total / Double(n), heads.map { $0.lossSum / Double(n) })
    }

    func testWeightedLossAndGradientsMatchKeras() throws {
        let (m, data, loss) = try load()
        XCTAssertEqual(M.heads.map(\.name), ["class_out", "flag_out", "map_out"])
        XCTAssertEqual(M.heads.map(\.weight), [1, 2, 0.5])
        XCTAssertEqual(loss.heads?.map { $0.loss.objective }, [.categorical, .binary, .meanSquared])
        let io = try NPZ.read(path: "\(Self.dir)/io.npz")
        let g = UnsafeMutablePointer<Float>.allocate(capacity: data.count * M.info.classCount)
        defer { g.deallocate() }
        let (total, heads) = weightedLoss(m, data, loss, gradient: g)
        let ref = try XCTUnwrap(io["loss"]).floats()[0], refHeads = try XCTUnwrap(io["head_losses"]).floats()
        XCTAssertEqual(total, Double(ref), accuracy: 1e-4 * Double(ref))
        for (a, b) in zip(heads, refHeads) { XCTAssertEqual(a, Double(b), accuracy: 1e-4 * Double(b)) }
        m.backward(g, count: data.count)
        for s in M.info.tensors where s.trainable {
            let want = try XCTUnwrap(io["lossgrad/\(s.key)"], "no lossgrad/\(s.key)").floats()
            let got = Array(UnsafeBufferPointer(start: m.gradients + s.offset, count: s.count))
            XCTAssertLessThan(relativeError(got, want), 1e-4, "lossgrad/\(s.key)")
        }
    }

    /// d(weighted loss)/dw by central differences on samples of every tensor.
    func testWeightedLossGradientByFiniteDifferences() throws {
        let (m, data, loss) = try load()
        let g = UnsafeMutablePointer<Float>.allocate(capacity: data.count * M.info.classCount)
        defer { g.deallocate() }
        _ = weightedLoss(m, data, loss, gradient: g)
        m.backward(g, count: data.count)
        let grads = Array(UnsafeBufferPointer(start: m.gradients, count: M.info.parameterCount))
        let eps: Float = 1e-2
        var checked = 0
        for s in M.info.tensors where s.trainable {
            for j in 0..<min(6, s.count) {
                let i = s.offset + (j * 7919 + 13) % s.count, old = m.parameters[i]
                m.parameters[i] = old + eps
                let lp = weightedLoss(m, data, loss, gradient: nil).0
                m.parameters[i] = old - eps
                let lm = weightedLoss(m, data, loss, gradient: nil).0
                m.parameters[i] = old
                let numeric = (lp - lm) / Double(2 * eps)
                XCTAssertEqual(Double(grads[i]), numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "\(s.key)[\(i - s.offset)]")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 30)
    }

    /// eval's per-head figures are the heads' own losses (inference equals training here: no
    /// BatchNorm, no Dropout) and metrics.
    func testEvalReportsEveryHead() throws {
        let (m, data, loss) = try load()
        let io = try NPZ.read(path: "\(Self.dir)/io.npz")
        let refHeads = try XCTUnwrap(io["head_losses"]).floats()
        let r = HeadEvaluation.run(m, images: data, loss: loss, batch: 5)
        XCTAssertEqual(r.heads.map(\.task), [.multiclass, .binary, .regression])
        for (h, want) in zip(r.heads, refHeads) { XCTAssertEqual(h.loss, Double(want), accuracy: 1e-4 * Double(want)) }
        XCTAssertEqual(r.total.loss, Double(try XCTUnwrap(io["loss"]).floats()[0]), accuracy: 1e-3)
        XCTAssertNotNil(r.heads[0].accuracy)
        XCTAssertNil(r.heads[2].accuracy)
        XCTAssertNotNil(r.heads[2].mse)
        let text = HeadEvaluation.text(r, loss: loss, title: "t")
        XCTAssertTrue(text.contains("head class_out (softmax, categorical_crossentropy, weight 1.0): loss "), text)
        XCTAssertTrue(text.contains("head map_out (linear, mse, weight 0.5): loss "), text)
        XCTAssertTrue(text.contains("  mse "), text)
    }

    /// Adam on the five examples lowers the weighted loss.
    func testTrainingLowersTheWeightedLoss() throws {
        let (m, data, loss) = try load()
        let before = weightedLoss(m, data, loss, gradient: nil).0
        var config = try TrainingConfig(defaults: TrainingDefaults(), dataset: ArrayData.datasetName)
        config.epochs = 40; config.batchSize = 5; config.learningRate = 0.01
        config.heads = M.heads
        let trainer = try Trainer(model: m, config: config, train: data, validation: nil)
        try trainer.run()
        let after = weightedLoss(m, data, loss, gradient: nil).0
        XCTAssertLessThan(after, 0.5 * before, "before \(before), after \(after)")
    }

    /// Missing arrays, wrong shapes and labels outside a head's classes name the file and array.
    func testBadDataFilesAreClearErrors() throws {
        let arrays = try NPZ.read(path: "\(Self.dir)/data.npz")
        func error(_ change: ([String: NDArray]) -> [String: NDArray]) -> String {
            let path = NSTemporaryDirectory() + "modelc_heads_\(UUID().uuidString).npz"
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                try NPZ.write(change(arrays).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: path)
                _ = try ArrayData.read(path, split: .train, info: M.info, targetColumns: 1, heads: M.heads)
                return "no error"
            } catch { return "\(error)" }
        }
        let missing = error { var a = $0; a["flag_out"] = nil; return a }
        XCTAssertTrue(missing.contains("no array 'flag_out' for output flag_out (sigmoid, binary_crossentropy, weight 2.0)"), missing)
        XCTAssertTrue(missing.contains("named after it: class_out, flag_out, map_out"), missing)
        let shape = error { var a = $0; a["map_out"] = a["flag_out"]; return a }
        XCTAssertTrue(shape.contains("array map_out has shape [5, 1]; output map_out (linear, mse, weight 0.5) expects [5, 16] targets"), shape)
        let label = error { var a = $0; a["class_out"] = NDArray(int64: [0, 1, 2, 3, 0], shape: [5]); return a }
        XCTAssertTrue(label.contains("array class_out[3]: label 3 is not a class of output class_out (integers 0..<3)"), label)
        let binary = error { var a = $0; a["flag_out"] = NDArray(float32: [0, 1, 2, 1, 0], shape: [5, 1]); return a }
        XCTAssertTrue(binary.contains("array flag_out[2]: binary target 2 is outside [0, 1]"), binary)
        let csv = NSTemporaryDirectory() + "modelc_heads.csv"
        XCTAssertThrowsError(try ArrayData.read(csv, split: .train, info: M.info, targetColumns: 1, heads: M.heads)) {
            XCTAssertTrue("\($0)".contains("its data is an .npz with x and one target array per output"), "\($0)")
        }
    }
}
