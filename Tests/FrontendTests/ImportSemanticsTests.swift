// PyTorch and ONNX layers whose math a file can state but modelc does not compute as stated are
// errors, never a network that computes something else (found by a read-only review of the
// importers): torchsummary pool rows, shape-keeping activations a table names, softmax over an
// axis other than the features, a log_softmax before other layers, negative padding, negative
// slopes, an ONNX Pad's value attribute (opsets before 11), and the leaky_relu annotation's slope.
import XCTest
@testable import ModelcCore

final class ImportSemanticsTests: XCTestCase {
    /// A torchsummary table: Conv2d 3 -> 64 (7x7 s2 p3) on 3x64x64, then `rows`, then Linear.
    func summary(_ rows: String, linear: String = "Linear-9                   [-1, 10]             650") -> String {
        """
        ```modelc
        input: shape=3x64x64
        ```
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv2d-1           [-1, 64, 32, 32]           9,408
                      ReLU-2           [-1, 64, 32, 32]               0
        \(rows)
         AdaptiveAvgPool2d-8             [-1, 64, 1, 1]               0
                    \(linear)
        ================================================================
        """
    }

    func testTorchSummaryPoolsAreConventionalFitsWithTheAlternativesNamed() throws {
        // A ResNet stem's MaxPool2d(3, 2, 1) prints 32 -> 16, as a 2x2 stride-2 pool does.
        let r = try XCTUnwrap(checkOK(summary("         MaxPool2d-4           [-1, 64, 16, 16]               0")))
        let pool = try XCTUnwrap(r.layer("MaxPool2d-4"))
        XCTAssertEqual(pool.op, .maxPool(PoolAttrs(poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: .valid)))
        XCTAssertTrue(pool.notes.contains { $0.hasPrefix("kernel not printed: 2x2 stride 2, the conventional fit; MaxPool2d(3, stride=2, padding=1)") },
                      "\(pool.notes)")
        // A pool that keeps the size is padded in PyTorch: never a 1x1 no-op.
        checkError(summary("         AvgPool2d-4           [-1, 64, 32, 32]               0"),
                   contains: "AvgPool2d-4: no unpadded pool maps 32x32 to 32x32 (a pool that keeps the size, such as AvgPool2d(3, stride=1, padding=1), is padded)")
        // Adaptive pools must divide: 32 -> 6 has overlapping windows of two sizes.
        let adaptive = summary("", linear: "Linear-9                   [-1, 10]          23,050")
            .replacingOccurrences(of: "AdaptiveAvgPool2d-8             [-1, 64, 1, 1]", with: "AdaptiveAvgPool2d-8             [-1, 64, 6, 6]")
        checkError(adaptive, contains: "AdaptiveAvgPool2d from 32x32 to 6x6: the sizes do not divide")
    }

    func testArgumentsATableDoesNotPrintAreNamedOrAnnotated() throws {
        let t = """
        ```modelc
        input: shape=1x28x28
        layer ELU-2: alpha=0.5
        ```
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv2d-1            [-1, 4, 26, 26]              40
                       ELU-2            [-1, 4, 26, 26]               0
                 LeakyReLU-3            [-1, 4, 26, 26]               0
                    Linear-4                   [-1, 10]          27,050
        ================================================================
        """
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertEqual(r.layer("ELU-2")?.op, .activation(.elu(alpha: 0.5)))
        XCTAssertEqual(r.layer("ELU-2")?.notes, [])
        XCTAssertEqual(r.layer("LeakyReLU-3")?.notes, ["negative_slope not printed: 0.01 (PyTorch default; annotate `layer LeakyReLU-3: alpha=...`)"])
    }

    func testShapeKeepingModulesATableNamesAreNotTakenForContainers() {
        for type in ["Hardtanh", "CELU", "Softshrink", "InstanceNorm2d"] {   // (ReLU6 and SiLU, GELU, ... are run: CappedReluTests, SmoothActivationFrontendTests)
            let row = String(repeating: " ", count: max(0, 16 - type.count)) + "\(type)-4           [-1, 64, 32, 32]               0"
            checkError(summary(row), contains: "\(type)-4: module class \(type) is not supported")
        }
        // A container's row (torchsummary prints it after its children) is still skipped.
        let container = checkOK(summary("        Sequential-4           [-1, 64, 32, 32]               0"))
        XCTAssertTrue(container?.layer("ReLU-2")?.notes.contains("container row Sequential-4 (0 params, same shape) skipped") ?? false)
    }

    func testSoftmaxOverAnotherAxisIsRefused() {
        func repr(_ softmax: String, input: String = "1x28x28", tail: String = "") -> String {
            """
            ```modelc
            input: shape=\(input)
            ```
            ```
            Net(
              (conv1): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))
              (sm): \(softmax)
              (pool): AdaptiveAvgPool2d(output_size=(2, 2))
              (fc1): Linear(in_features=16, out_features=8, bias=True)\(tail)
            )
            ```
            """
        }
        checkError(repr("Softmax(dim=-1)"), contains: "module 'sm' (Softmax): softmax with dim=-1 on [N, 4, 26, 26]: only the softmax over the features (dim=1) is supported")
        checkError(repr("Softmax(dim=2)"), contains: "softmax with dim=2 on [N, 4, 26, 26]")
        XCTAssertNotNil(checkOK(repr("Softmax(dim=1)")))
        XCTAssertNotNil(checkOK(repr("Softmax(dim=-3)")))
        XCTAssertNotNil(checkOK(repr("Softmax(dim=None)")), "PyTorch's implicit dim of a 4-D tensor is 1")
        // log_softmax hands log-probabilities on: only the last layer may be one
        checkError(repr("LogSoftmax(dim=1)"), contains: "'sm' (log_softmax) is followed by 'pool': only a final log_softmax is supported")
        XCTAssertNotNil(checkOK(repr("ReLU()", tail: "\n  (ls): LogSoftmax(dim=1)")))
        // a table cannot say which axis, unless there is one (a 1x1 image's channels)
        checkError(summary("         Softmax-4           [-1, 64, 32, 32]               0"),
                   contains: "Softmax-4: a table does not print Softmax's dim")
        let pooled = summary("").replacingOccurrences(of: "                    Linear-9                   [-1, 10]             650",
                                                      with: "                   Softmax-9             [-1, 64, 1, 1]               0")
        XCTAssertNotNil(checkOK(pooled))
        // forward: softmax(DIM) reads its argument
        let fwd = repr("ReLU()").replacingOccurrences(of: "```modelc\n", with: "```modelc\nforward: conv1 sm pool fc1 softmax(-1)\n")
        XCTAssertNotNil(checkOK(fwd))
        checkError(fwd.replacingOccurrences(of: "conv1 sm pool", with: "conv1 softmax(2) pool"), contains: "softmax with dim=2 on [N, 4, 26, 26]")
        checkError(fwd.replacingOccurrences(of: "softmax(-1)", with: "softmax(1e30)"), contains: "dim 1e30: expected an integer from -4 to 4")
    }

    /// A custom block's forward() (a residual add, say) is not in the repr: said. (torchvision's
    /// blocks whose forward() is known not to be a chain are refused: KnownBlockTests.)
    func testCustomBlocksAreNamedAsChains() throws {
        let t = """
        ```modelc
        input: shape=1x8x8
        ```
        ```
        Net(
          (block): ConvBlock(
            (conv1): Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
            (relu): ReLU(inplace=True)
          )
          (body): Sequential(
            (0): Flatten(start_dim=1, end_dim=-1)
            (1): Linear(in_features=64, out_features=10, bias=True)
          )
        )
        ```
        """
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertTrue(r.ir.assumptions.contains("custom blocks run as chains of their modules: ConvBlock (block); "
            + "a residual add or other logic in their forward() is not in a repr (annotate `forward: ...`)"), "\(r.ir.assumptions)")
    }

    func testNegativePaddingAndSlopesAreRefused() {
        func repr(_ module: String, input: String = "1x28x28") -> String {
            "```modelc\ninput: shape=\(input)\n```\n```\nNet(\n  (m): \(module)\n  (f): Flatten(start_dim=1, end_dim=-1)\n)\n```\n"
        }
        checkError(repr("ZeroPad2d((-2, -2, -2, -2))"), contains: "module 'm' (ZeroPad2d): negative padding in '(-2, -2, -2, -2)' (a crop) is not supported")
        checkError(repr("Conv2d(1, 4, kernel_size=(3, 3), stride=(2, 2), padding=same)"),
                   contains: "module 'm' (Conv2d): padding='same' with stride 2: PyTorch refuses padding='same' for strided convolutions")
        checkError(repr("Conv1d(1, 4, kernel_size=(3,), stride=(2,), padding=same)", input: "1x28"),
                   contains: "module 'm' (Conv1d): padding='same' with stride 2: PyTorch refuses")
        checkError(repr("ConstantPad2d(padding=(1, -1, 0, 0), value=0.0)"), contains: "negative padding")
        checkError(repr("LeakyReLU(negative_slope=-0.1)"), contains: "module 'm' (LeakyReLU): negative_slope=-0.1: only a slope >= 0 is supported")
        XCTAssertNotNil(checkOK(repr("ZeroPad2d((1, 1, 2, 2))")))
    }

    func testTheLeakyReluActivationAnnotationHasKerasFunctionsSlope() throws {
        let t = """
        ```modelc
        layer dense: activation=leaky_relu
        layer dense_1: activation=leaky_relu alpha=0.1
        ```
        Model: "sequential"
        _________________________________________________________________
         Layer (type)                Output Shape              Param #
        =================================================================
         flatten (Flatten)           (None, 784)               0
         dense (Dense)               (None, 8)                 6280
         dense_1 (Dense)             (None, 8)                 72
         dense_2 (Dense)             (None, 10)                90
        =================================================================
        """
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertEqual(r.layer("dense")?.op, .dense(units: 8, useBias: true, activation: .leakyRelu(alpha: 0.2)))
        XCTAssertEqual(r.layer("dense_1")?.op, .dense(units: 8, useBias: true, activation: .leakyRelu(alpha: 0.1)))
        checkError(t.replacingOccurrences(of: "alpha=0.1", with: "alpha=-0.1"), contains: "alpha=-0.1: must be >= 0")
        // on a PyTorch model, F.leaky_relu's 0.01
        let torch = "```modelc\ninput: shape=1x28x28\nlayer fc: activation=leaky_relu\n```\n```\nNet(\n  (f): Flatten(start_dim=1, end_dim=-1)\n"
            + "  (fc): Linear(in_features=784, out_features=8, bias=True)\n  (out): Linear(in_features=8, out_features=10, bias=True)\n)\n```\n"
        XCTAssertEqual(try XCTUnwrap(checkOK(torch)).layer("fc")?.op, .dense(units: 8, useBias: true, activation: .leakyRelu(alpha: 0.01)))
    }

    func testONNXLogSoftmaxBeforeAnotherLayerAndAPadValueAreRefused() {
        func failure(_ bytes: [UInt8]) -> String {
            do { _ = try Frontend.checkONNX(bytes: bytes, path: "t.onnx") } catch { return "\(error)" }
            return "no error"
        }
        let w2 = PB.tensor("fc2.weight", [3, 3], Array(repeating: 0.1, count: 9)), b2 = PB.tensor("fc2.bias", [3], [0, 0, 0])
        let mid = PB.model(nodes: [PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)]),
                                   PB.node("LogSoftmax", ["h"], ["l"], name: "/ls/LogSoftmax", attrs: [PB.attr("axis", int: 1)]),
                                   PB.node("Gemm", ["l", "fc2.weight", "fc2.bias"], ["y"], name: "/fc2/Gemm", attrs: [PB.attr("transB", int: 1)])],
                           initializers: [PB.tensor("fc.weight", [3, 4], Array(repeating: 0.1, count: 12)), PB.tensor("fc.bias", [3], [0, 0, 0]), w2, b2])
        XCTAssertTrue(failure(mid).contains("(log_softmax) is followed by"), failure(mid))
        XCTAssertEqual(failure(PB.gemmModel(then: "LogSoftmax")), "no error")
        // opset 10: Pad's constant is the `value` attribute
        let pad = PB.model(nodes: [PB.node("Pad", ["x"], ["p"], name: "/pad/Pad",
                                           attrs: [PB.attr("pads", ints: [0, 0, 1, 1, 0, 0, 1, 1]), PB.attr("value", float: 1)]),
                                   PB.node("Flatten", ["p"], ["y"], name: "/f/Flatten")],
                           initializers: [], input: [1, 1, 4, 4], opset: 10)
        XCTAssertTrue(failure(pad).contains("constant value [1.0]: only zero padding is supported"), failure(pad))
        let leaky = PB.gemmModel(then: "LeakyRelu")
        XCTAssertEqual(failure(leaky), "no error")
        let negative = PB.model(nodes: [PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)]),
                                        PB.node("LeakyRelu", ["h"], ["y"], name: "/act/LeakyRelu", attrs: [PB.attr("alpha", float: -0.1)])],
                                initializers: [PB.tensor("fc.weight", [3, 4], Array(repeating: 0.1, count: 12)), PB.tensor("fc.bias", [3], [0, 0, 0])])
        XCTAssertTrue(failure(negative).contains("negative_slope=-0.1: only a slope >= 0 is supported"), failure(negative))
        // Resize-18 with sizes: not_larger / not_smaller keep the aspect ratio, so the output is not `sizes`
        func resize(_ policy: String?) -> [UInt8] {
            let attrs = [PB.attr("mode", string: "nearest"), PB.attr("coordinate_transformation_mode", string: "asymmetric"),
                         PB.attr("nearest_mode", string: "floor")] + (policy.map { [PB.attr("keep_aspect_ratio_policy", string: $0)] } ?? [])
            return PB.model(nodes: [PB.node("Resize", ["x", "", "", "sizes"], ["r"], name: "/up/Resize", attrs: attrs),
                                    PB.node("Flatten", ["r"], ["y"], name: "/f/Flatten")],
                            initializers: [PB.intTensor("sizes", [1, 1, 8, 12])], input: [1, 1, 4, 4], opset: 18)
        }
        XCTAssertTrue(failure(resize("not_larger")).contains("keep_aspect_ratio_policy not_larger: only stretch"), failure(resize("not_larger")))
        XCTAssertEqual(failure(resize("stretch")), "no error")
        XCTAssertEqual(failure(resize(nil)), "no error")
    }
}
