// nn.LSTM / nn.GRU / nn.RNN / nn.Embedding weights (issue 17): the state_dict saved by
// torch.save (`--weights model.pth`) loads into the generated fx_pytorch_recurrent model exactly
// as the fixture's weights.npz, gives PyTorch's outputs, and exports back under the same keys;
// a Keras-layout file cannot be carried into recurrent layers by order.

import XCTest
import Foundation
import GeneratedTestModels
import ModelcRuntime
import ModelcData

final class PyTorchRecurrentWeightsTests: XCTestCase {
    static let dir = KerasFixtureTests.root + "/pytorch_recurrent"

    func testPthLoadsLikeTheStateDict() throws {
        let t = try XCTUnwrap(backendTestModels["fx_pytorch_recurrent"])
        let a = t.init(maxBatch: 3), b = t.init(maxBatch: 3)
        var log: [String] = []
        try WeightsFile.load(Self.dir + "/weights.pth", into: a) { log.append($0) }
        try WeightsFile.load(Self.dir + "/weights.npz", into: b)
        XCTAssertEqual(TestModels.parameters(a), TestModels.parameters(b))
        XCTAssertTrue(t.info.tensors.contains { $0.key == "lstm.weight_hh_l1_reverse" && $0.fileShape == [20, 5] },
                      "\(t.info.tensors.map(\.key))")
        let io = try NPZ.read(path: Self.dir + "/io.npz")
        let x = try XCTUnwrap(io["input"]).floats()
        let y = TestModels.forward(a, x, count: 3, training: false)
        let ref = try XCTUnwrap(io["output_inference"]).floats()
        let scale = ref.map(abs).max() ?? 1
        XCTAssertLessThan(zip(y, ref).map { abs($0 - $1) }.max() ?? 1, 1e-5 * scale, "\(y) vs \(ref)")
    }

    func testKerasLayoutFileIsRefusedByOrder() throws {
        let t = try XCTUnwrap(backendTestModels["fx_pytorch_recurrent"])
        let m = t.init(maxBatch: 1)
        // The same arrays under Keras-style names, each transposed where the Keras layout would be.
        let sd = try NPZ.read(path: Self.dir + "/weights.npz")
        var arrays: [(String, NDArray)] = []
        for s in t.info.tensors {
            let a = try XCTUnwrap(sd[s.key])
            let v = try a.floats()
            var out = v
            let shape = s.shape
            if a.shape.count == 2 {
                for i in 0..<a.shape[0] { for j in 0..<a.shape[1] { out[j * a.shape[0] + i] = v[i * a.shape[1] + j] } }
            }
            arrays.append((s.key.replacingOccurrences(of: ".", with: "/"), NDArray(float32: out, shape: a.shape.count == 2 ? shape : a.shape)))
        }
        let path = NSTemporaryDirectory() + "modelc_recurrent_keras_layout.npz"
        try NPZ.write(arrays, to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try WeightsFile.load(path, into: m)) { e in
            XCTAssertTrue("\(e)".contains("belongs to a recurrent layer, whose weights cannot be carried between Keras and PyTorch"), "\(e)")
        }
    }
}
