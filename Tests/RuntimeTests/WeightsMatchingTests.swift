// WeightsMatching (order and shape) on hand-made model infos: the layout a file is read in, and
// every refusal (ambiguous layouts, a shape that fits neither, counts, a name paired elsewhere).
import XCTest
import ModelcData
@testable import ModelcRuntime

final class WeightsMatchingTests: XCTestCase {
    func info(_ specs: [(String, [Int])], semantics: String = "keras") -> ModelInfo {
        var offset = 0
        let tensors = specs.map { k, s -> TensorSpec in
            defer { offset += s.reduce(1, *) }
            return TensorSpec(key: k, shape: s, offset: offset, trainable: true, initializer: .zeros, decays: false)
        }
        return ModelInfo(name: "m", fingerprint: "0", inputHeight: 1, inputWidth: 1, inputChannels: 1, classCount: 2,
                         classNames: ["0", "1"], nativeClassNames: nil, dataset: nil, inputScale: 1, inputOffset: 0,
                         semantics: semantics, tensors: tensors, parameterCount: offset, trainableParameterCount: offset,
                         forwardFlops: 0, summary: "", defaults: TrainingDefaults())
    }

    func array(_ shape: [Int]) -> NDArray {
        NDArray(float32: (0..<shape.reduce(1, *)).map(Float.init), shape: shape)
    }

    func refusal(_ file: [(String, NDArray)], _ i: ModelInfo, ordered: Bool = true) -> String {
        do {
            _ = try WeightsMatching.byOrder(file, ordered: ordered, info: i, path: "w.npz")
            return "matched"
        } catch { return "\(error)" }
    }

    /// A PyTorch [out, in] Linear weight is transposed into the Keras [in, out] kernel.
    func testTransposesAPyTorchLinearWeight() throws {
        let m = info([("dense/kernel", [3, 2]), ("dense/bias", [2])])
        let r = try WeightsMatching.byOrder([("fc.weight", array([2, 3])), ("fc.bias", array([2]))], ordered: true, info: m, path: "w.npz")
        XCTAssertEqual(r.layoutName, "PyTorch")
        // file [[0, 1, 2], [3, 4, 5]] ([out, in]) -> kernel [in, out] = [[0, 3], [1, 4], [2, 5]]
        XCTAssertEqual(r.values[0], [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(r.lines, ["  #1 fc.weight [2, 3] -> dense/kernel [3, 2]", "  #2 fc.bias [2] -> dense/bias [2]"])
    }

    /// Square kernels fit both layouts: the names decide, else the match is refused.
    func testSquareKernelsNeedNames() throws {
        let m = info([("dense/kernel", [2, 2]), ("dense/bias", [2])])
        let torch = try WeightsMatching.byOrder([("fc.weight", array([2, 2])), ("fc.bias", array([2]))], ordered: true, info: m, path: "w.npz")
        XCTAssertEqual(torch.values[0], [0, 2, 1, 3])
        let keras = try WeightsMatching.byOrder([("d/kernel", array([2, 2])), ("d/bias", array([2]))], ordered: true, info: m, path: "w.npz")
        XCTAssertEqual(keras.values[0], [0, 1, 2, 3])
        XCTAssertTrue(refusal([("a", array([2, 2])), ("b", array([2]))], m).contains("fits both the Keras and the PyTorch layout"))
    }

    func testRefusals() {
        let m = info([("conv/kernel", [3, 3, 1, 4]), ("conv/bias", [4])])
        let wrong = refusal([("c.weight", array([4, 1, 3, 2])), ("c.bias", array([4]))], m)
        XCTAssertTrue(wrong.contains("file tensor #1 'c.weight' has shape [4, 1, 3, 2], but model tensor #1 'conv/kernel' expects [3, 3, 1, 4] (or [4, 1, 3, 3] in the PyTorch layout)"), wrong)
        XCTAssertTrue(refusal([("c.weight", array([4, 1, 3, 3]))], m).contains("the file has 1 tensors, model m has 2"))
        let swapped = refusal([("conv/bias", array([4])), ("conv/kernel", array([3, 3, 1, 4]))], m)
        XCTAssertTrue(swapped.contains("'conv/bias' is named like model tensor 'conv/bias' but pairs by order with 'conv/kernel'"), swapped)
        XCTAssertTrue(refusal([("c.weight", array([4, 1, 3, 3])), ("c.bias", array([4]))], m, ordered: false).contains("keeps no tensor order"))
        let nan = refusal([("c.weight", NDArray(float32: [Float](repeating: .nan, count: 36), shape: [4, 1, 3, 3])), ("c.bias", array([4]))], m)
        XCTAssertTrue(nan.contains("non-finite"), nan)
    }

    /// A depthwise kernel [kh, kw, C, M] comes from PyTorch's grouped weight [C*M, 1, kh, kw].
    func testDepthwiseKernelFromGroupedConv() throws {
        let m = info([("dw/depthwise_kernel", [1, 2, 2, 2])])
        let r = try WeightsMatching.byOrder([("dw.weight", array([4, 1, 1, 2]))], ordered: true, info: m, path: "w.npz")
        // file[(c*M + m)*2 + x] -> kernel[((0*2 + x)*2 + c)*2 + m]
        var want = [Float](repeating: 0, count: 8)
        for c in 0..<2 { for mm in 0..<2 { for x in 0..<2 { want[(x * 2 + c) * 2 + mm] = Float((c * 2 + mm) * 2 + x) } } }
        XCTAssertEqual(r.values[0], want)
    }
}
