// PyTorch weight files (Tests/Fixtures/pytorch_files, made by make_torch_files.py with PyTorch)
// loaded into generated models through WeightsFile.load: by name (a PyTorch model and its own
// state_dict as .pth, .safetensors and a checkpoint dict) and by order and shape (a Keras-named
// model given the state_dict of the equivalent PyTorch network; seed 002 given its weights in
// PyTorch names and layouts). Predictions must be PyTorch's probabilities within 1e-5, and the
// loaded model must train.
import Foundation
import XCTest
import GeneratedModels
import GeneratedTestModels
import ModelcRuntime
import ModelcData
import ModelcModelFiles

final class TorchWeightsTests: XCTestCase {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Tests/Fixtures").path
    }()
    static func file(_ name: String) -> String { "\(root)/pytorch_files/\(name)" }

    func softmax(_ logits: [Float], classes: Int) -> [Float] {
        var out = logits
        for r in stride(from: 0, to: logits.count, by: classes) {
            let row = logits[r..<(r + classes)]
            let m = row.max()!
            let e = row.map { exp(Double($0 - m)) }
            let s = e.reduce(0, +)
            for (j, v) in e.enumerated() { out[r + j] = Float(v / s) }
        }
        return out
    }

    /// Loads `weights` into a fresh `t`, checks its probabilities against `probs`; returns the model and the log.
    @discardableResult
    func check<M: CompiledModel>(_ t: M.Type, weights: String, probs: String) throws -> (M, [String], [Float], Int) {
        let io = try NPZ.read(path: Self.file(probs))
        let x = try XCTUnwrap(io["input"]).floats()
        let want = try XCTUnwrap(io["probabilities"]).floats()
        let n = x.count / M.info.inputSize
        let m = M(maxBatch: n)
        var log: [String] = []
        try WeightsFile.load(Self.file(weights), into: m) { log.append($0) }
        let got = softmax(TestModels.forward(m, x, count: n, training: false), classes: M.info.classCount)
        XCTAssertEqual(got.count, want.count)
        let diff = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(diff, 1e-5, "\(M.self) with \(weights): max |p - p_torch| = \(diff)")
        return (m, log, x, n)
    }

    func testStateDictPthSafetensorsAndCheckpointGivePyTorchsProbabilities() throws {
        try checkAll(FxPytorchConvBnFused.self)
    }

    func checkAll<M: CompiledModel>(_ t: M.Type) throws {
        let (a, logA, _, _) = try check(t, weights: "conv_bn.pth", probs: "conv_bn_probs.npz")
        XCTAssertEqual(logA, [], "names match: nothing to report")
        let (b, _, _, _) = try check(t, weights: "conv_bn.safetensors", probs: "conv_bn_probs.npz")
        let (c, logC, _, _) = try check(t, weights: "conv_bn_checkpoint.pt", probs: "conv_bn_probs.npz")
        XCTAssertTrue(logC.first?.contains("nested under the checkpoint's key 'model_state_dict'") ?? false, "\(logC)")
        XCTAssertEqual(TestModels.parameters(a), TestModels.parameters(b))
        XCTAssertEqual(TestModels.parameters(a), TestModels.parameters(c))
    }

    /// One SGD step on the loaded weights lowers the batch's cross-entropy.
    func testLoadedStateDictTrains() throws {
        let (m, _, x, n) = try check(FxPytorchConvBnFused.self, weights: "conv_bn.pth", probs: "conv_bn_probs.npz")
        let k = FxPytorchConvBnFused.info.classCount
        let labels = (0..<n).map { $0 % k }
        func loss() -> Double {
            let p = softmax(TestModels.forward(m, x, count: n, training: true, seed: 1), classes: k)
            return labels.enumerated().map { -log(Double(p[$0.offset * k + $0.element])) }.reduce(0, +) / Double(n)
        }
        let before = loss()
        var dy = softmax(TestModels.forward(m, x, count: n, training: true, seed: 1), classes: k)
        for (i, l) in labels.enumerated() { dy[i * k + l] -= 1 }
        TestModels.backward(m, dy.map { $0 / Float(n) }, count: n)
        var norm: Float = 0
        for s in FxPytorchConvBnFused.info.tensors where s.trainable {
            for j in s.offset..<(s.offset + s.count) {
                norm += m.gradients[j] * m.gradients[j]
                m.parameters[j] -= 0.05 * m.gradients[j]
            }
        }
        XCTAssertGreaterThan(norm, 0)
        XCTAssertLessThan(loss(), before, "one SGD step from the PyTorch weights should lower the loss")
    }

    /// The Keras model fx_conv1d_gap given the state_dict of the equivalent PyTorch network
    /// (names net.0.weight ..., layouts [out, in, k]): matched by order and shape, mapping printed.
    func testKerasModelFromPyTorchStateDictByOrder() throws {
        for t in [FxConv1dGap.self] {
            let (_, log, _, _) = try check(t, weights: "conv1d_gap_torch.pth", probs: "conv1d_gap_probs.npz")
            XCTAssertTrue(log.first?.contains("by order and shape (PyTorch layout)") ?? false, "\(log)")
            XCTAssertEqual(Array(log.dropFirst()), [
                "  #1 net.0.weight [20, 2, 5] -> conv1d/kernel [5, 2, 20]", "  #2 net.0.bias [20] -> conv1d/bias [20]",
                "  #3 net.2.weight [3, 20, 1] -> conv1d_1/kernel [1, 20, 3]", "  #4 net.2.bias [3] -> conv1d_1/bias [3]",
                "  #5 head.weight [3, 3] -> dense/kernel [3, 3]", "  #6 head.bias [3] -> dense/bias [3]"])
        }
    }

    /// A safetensors file keeps no order: names that differ are refused, naming both attempts.
    func testSafetensorsWithOtherNamesIsRefused() throws {
        let arrays = try WeightsReader.readContents(path: Self.file("conv1d_gap_torch.pth")).arrays
        let path = NSTemporaryDirectory() + "modelc_conv1d_gap_\(getpid()).safetensors"
        try SafeTensors.write(arrays, to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try WeightsFile.load(path, into: FxConv1dGap(maxBatch: 1)) { _ in }) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("missing key 'conv1d/kernel'") && s.contains("keeps no tensor order"), s)
        }
    }

    /// Keras tensors in PyTorch names and layouts, in model order, as an .npz in a temp dir.
    func torchLayoutCopy<M: CompiledModel>(_ t: M.Type, fixture: String) throws -> String {
        let keras = try NPZ.read(path: "\(Self.root)/numerics/\(fixture)/weights.npz")
        var out: [(String, NDArray)] = []
        for (i, s) in M.info.tensors.enumerated() {
            let a = try XCTUnwrap(keras[s.key], s.key)
            let v = try a.floats()
            let perm: [Int] = s.shape.count == 4 ? [3, 2, 0, 1] : s.shape.count == 2 ? [1, 0] : Array(0..<s.shape.count)
            let spec = TensorSpec(key: s.key, shape: s.shape, offset: 0, trainable: true, initializer: .zeros, decays: false,
                                  fileShape: perm.map { s.shape[$0] }, filePermutation: perm)
            let map = spec.fileToInternalIndex()
            let role = ["gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var",
                        "kernel": "weight", "bias": "bias"][String(s.key.split(separator: "/").last!)]!
            out.append(("module.l\(i).\(role)", NDArray(float32: map.map { v[$0] }, shape: spec.fileShape)))
        }
        let path = NSTemporaryDirectory() + "modelc_\(fixture)_torch_\(getpid()).npz"
        try NPZ.write(out, to: path)
        return path
    }

    /// Seed 002 (Keras names, 265,258 parameters) from its weights in PyTorch names and layouts.
    func testSeed002FromPyTorchLayoutByOrder() throws {
        let path = try torchLayoutCopy(Seed002MnistCnn.self, fixture: "seed002_mnist_cnn")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let io = try NPZ.read(path: "\(Self.root)/numerics/seed002_mnist_cnn/io.npz")
        let x = try XCTUnwrap(io["input"]).floats()
        let n = x.count / Seed002MnistCnn.info.inputSize
        let m = Seed002MnistCnn(maxBatch: n)
        var log: [String] = []
        try WeightsFile.load(path, into: m) { log.append($0) }
        XCTAssertEqual(log.count, 1 + Seed002MnistCnn.info.tensors.count)
        XCTAssertTrue(log.contains("  #1 module.l0.weight [32, 1, 3, 3] -> conv2d_1/kernel [3, 3, 1, 32]"), "\(log.prefix(3))")
        let got = TestModels.forward(m, x, count: n, training: false)
        XCTAssertLessThan(relativeError(got, try io["output_inference"]!.floats()), 1e-4)
    }

    /// A Dense fed by a Flatten of a spatial map cannot cross layouts by order: refused.
    func testFlattenOfSpatialMapIsRefusedAcrossLayouts() throws {
        let path = try torchLayoutCopy(FxOptimizerSteps.self, fixture: "optimizer_steps")
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try WeightsFile.load(path, into: FxOptimizerSteps(maxBatch: 1)) { _ in }) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("missing key") && s.contains("dense/kernel") && s.contains("H, W, C and PyTorch C, H, W"), s)
        }
    }

    func testExportSafetensorsRoundTrips() throws {
        let a = FxPytorchConvBnFused(maxBatch: 1)
        try WeightsFile.load(Self.file("conv_bn.pth"), into: a) { _ in }
        let path = NSTemporaryDirectory() + "modelc_export_\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try WeightsFile.export(a, to: path)
        let b = FxPytorchConvBnFused(maxBatch: 1)
        try WeightsFile.load(path, into: b) { _ in }
        XCTAssertEqual(TestModels.parameters(a), TestModels.parameters(b))
        let back = try WeightsReader.read(path: path), orig = try WeightsReader.read(path: Self.file("conv_bn.pth"))
        XCTAssertEqual(back, orig.filter { !$0.key.hasSuffix("num_batches_tracked") })
        XCTAssertThrowsError(try WeightsFile.export(a, to: NSTemporaryDirectory() + "x.pth"))
    }
}
