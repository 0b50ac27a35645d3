// PyTorch's and ONNX's padded and ceil-mode pools (the ResNet stem's MaxPool2d(3, 2, 1)):
// output sizes by PyTorch's rule, AvgPool's unprinted ceil_mode and count_include_pad named or
// annotated, contradictions and impossible paddings refused, torchsummary rows annotated.
// The numerics are the pytorch_conv_bn and pytorch_conv1d fixtures' (KerasFixtureTests).
import XCTest
@testable import ModelcCore

final class PoolPaddingTests: XCTestCase {
    func repr(_ modules: String, annotations: String = "", shape: String = "3x224x224") -> String {
        """
        ```
        Net(
        \(modules)
        )
        ```

        ```modelc
        input: shape=\(shape)
        \(annotations)
        ```
        """
    }

    func pool(_ r: CheckReport, _ name: String) -> PoolAttrs? {
        switch r.layer(name)?.op {
        case .maxPool(let a)?, .avgPool(let a)?: return a
        default: return nil
        }
    }

    func testResNetStemPoolIsPaddedWithMinusInfinity() throws {
        let text = repr("""
          (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)
          (bn1): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
          (relu): ReLU(inplace=True)
          (maxpool): MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)
          (avgpool): AdaptiveAvgPool2d(output_size=(1, 1))
          (fc): Linear(in_features=64, out_features=10, bias=True)
        """)
        let r = try XCTUnwrap(checkOK(text))
        let p = try XCTUnwrap(pool(r, "maxpool"))
        XCTAssertEqual(p.explicit, PoolPadding(h: 1, w: 1, ceilMode: false, countIncludePad: false))
        XCTAssertEqual(r.layer("maxpool")?.outputShape, [56, 56, 64])
        XCTAssertEqual(Describe.pool(p), "3x3 s2 pad 1")
    }

    func testOutputSizesFollowPyTorch() {
        // pooling_output_shape: floor, ceil, and ceil dropping a window that starts in the padding.
        let floor = PoolPadding(h: 1, w: 1, ceilMode: false, countIncludePad: true)
        let ceil = PoolPadding(h: 1, w: 1, ceilMode: true, countIncludePad: true)
        XCTAssertEqual(floor.outDim(112, k: 3, s: 2, axis: 0), 56)
        XCTAssertEqual(floor.outDim(6, k: 3, s: 2, axis: 0), 3)
        XCTAssertEqual(ceil.outDim(6, k: 3, s: 2, axis: 0), 4)
        XCTAssertEqual(ceil.outDim(5, k: 2, s: 2, axis: 0), 3)   // ceil(4 / 2) + 1 = 4, but window 3 would start at 5 = in + pad
        XCTAssertEqual(PoolPadding(h: 0, w: 0, ceilMode: true, countIncludePad: false).outDim(17, k: 2, s: 2, axis: 1), 9)
        XCTAssertEqual(floor.outDim(1, k: 4, s: 1, axis: 0), 0)
        // Ceil mode: one window clipped to a padded input shorter than it (PyTorch: div_rtn(0, 2) + 1).
        XCTAssertEqual(PoolPadding(h: 0, w: 0, ceilMode: true, countIncludePad: false).outDim(2, k: 3, s: 2, axis: 0), 1)
        XCTAssertEqual(PoolPadding(h: 0, w: 0, ceilMode: false, countIncludePad: false).outDim(2, k: 3, s: 2, axis: 0), 0)
    }

    func testArgumentsModelcDoesNotComputeAreRefused() throws {
        func model(_ pool: String) -> String { repr("  (pool): \(pool)\n  (fc): Linear(in_features=12, out_features=2, bias=True)", shape: "3x4x4") }
        checkError(model("MaxPool2d(3, 2, 1, 2)"), contains: "dilation=2: dilated pooling is not supported")
        checkError(model("AvgPool2d(kernel_size=2, stride=2, padding=0, divisor_override=1)"), contains: "divisor_override=1 is not supported")
        checkError(model("AvgPool2d(2, 2, 0, False, True, 1)"), contains: "divisor_override=1 is not supported")
        checkError(model("MaxPool1d(3, 2, 1, 2)").replacingOccurrences(of: "3x4x4", with: "3x8"), contains: "dilation=2: dilated pooling is not supported")
        // A glob may touch max pools with an AvgPool setting; a named max pool may not.
        XCTAssertNotNil(checkOK(repr("  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  (fc): Linear(in_features=12, out_features=2, bias=True)",
                                     annotations: "layer *: count_include_pad=false", shape: "3x4x4")))
        // A named directive that contradicts the repr is an error even after a glob that agrees;
        // a glob's pool setting does not reach other layers.
        checkError(repr("  (pool1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  (fc): Linear(in_features=12, out_features=2, bias=True)",
                        annotations: "layer pool*: ceil_mode=false\nlayer pool1: ceil_mode=true", shape: "3x4x4"),
                   contains: "the annotation's ceil_mode=true contradicts the repr's ceil_mode=false")
        XCTAssertNotNil(checkOK(repr("  (conv1): Conv2d(3, 3, kernel_size=(1, 1), stride=(1, 1))\n  (pool1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  (fc): Linear(in_features=12, out_features=2, bias=True)",
                                     annotations: "layer conv1: activation=relu\nlayer *: count_include_pad=false", shape: "3x4x4")))
        // Where nothing is printed, a named directive wins over a glob written after it.
        let named = try XCTUnwrap(checkOK(repr("  (pool): AvgPool2d(kernel_size=3, stride=1, padding=1)\n  (fc): Linear(in_features=48, out_features=2, bias=True)",
                                               annotations: "layer pool: count_include_pad=false\nlayer *: count_include_pad=true", shape: "3x4x4")))
        XCTAssertEqual(pool(named, "pool")?.explicit?.countIncludePad, false)
        // Keras layers have neither setting.
        checkError(AnnotationTests.table + "\n```modelc\nlayer conv2d_1: ceil_mode=true\n```\n", contains: "has no 'ceil_mode' setting")
    }

    func testAvgPoolModesTheReprDoesNotPrint() throws {
        let modules = """
          (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
          (pool): AvgPool2d(kernel_size=3, stride=2, padding=1)
          (fc): Linear(in_features=512, out_features=10, bias=True)
        """
        let plain = try XCTUnwrap(checkOK(repr(modules, shape: "3x16x16")))
        XCTAssertEqual(pool(plain, "pool")?.explicit, PoolPadding(h: 1, w: 1, ceilMode: false, countIncludePad: true))
        XCTAssertTrue(plain.ir.assumptions.contains { $0.contains("module 'pool' (AvgPool2d): its repr does not print count_include_pad") },
                      "\(plain.ir.assumptions)")
        // ceil_mode is named where it would change the size (16 -> 8, or 9 in ceil mode), and only there.
        XCTAssertTrue(plain.ir.assumptions.contains { $0.contains("ceil_mode=True would give 9x9 here") }, "\(plain.ir.assumptions)")
        let lenet = try XCTUnwrap(checkOK(repr("  (conv): Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))\n  (pool): AvgPool2d(kernel_size=2, stride=2, padding=0)\n"
                                               + "  (fc): Linear(in_features=1176, out_features=10, bias=True)", shape: "3x32x32")))
        XCTAssertFalse(lenet.ir.assumptions.contains { $0.contains("ceil_mode") }, "\(lenet.ir.assumptions)")
        // Annotated: no assumption, and the modes are applied (ceil mode: 14 -> 8, not 7).
        let annotated = try XCTUnwrap(checkOK(repr(modules, annotations: "layer pool: ceil_mode=false count_include_pad=false", shape: "3x16x16")))
        XCTAssertEqual(pool(annotated, "pool")?.explicit, PoolPadding(h: 1, w: 1, ceilMode: false, countIncludePad: false))
        XCTAssertFalse(annotated.ir.assumptions.contains { $0.contains("module 'pool'") }, "\(annotated.ir.assumptions)")
        let ceil = try XCTUnwrap(checkOK(repr(modules, annotations: "layer pool: ceil_mode=true", shape: "3x14x14")))
        XCTAssertEqual(ceil.layer("pool")?.outputShape, [8, 8, 8])
    }

    func testContradictionsAndImpossiblePaddingsAreErrors() {
        let maxPool = "  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  (fc): Linear(in_features=3, out_features=2, bias=True)"
        checkError(repr(maxPool, annotations: "layer pool: ceil_mode=true", shape: "3x2x2"),
                   contains: "the annotation's ceil_mode=true contradicts the repr's ceil_mode=false")
        checkError(repr(maxPool, annotations: "layer pool: count_include_pad=false", shape: "3x2x2"),
                   contains: "count_include_pad is an AvgPool argument")
        checkError(repr("  (pool): MaxPool2d(kernel_size=3, stride=2, padding=2)\n  (fc): Linear(in_features=12, out_features=2, bias=True)", shape: "3x2x2"),
                   contains: "padding=2 is more than half the window 3 (PyTorch refuses it)")
        checkError(repr("  (pool): AvgPool2d(kernel_size=2, stride=2, padding=0)\n  (fc): Linear(in_features=3, out_features=2, bias=True)",
                        annotations: "layer pool: pool=3", shape: "3x2x2"),
                   contains: "layer 'pool': the annotation's pool=3x3 differs from the model's pool (2x2 s2 valid); an annotation cannot change what the model states")
    }

    func testForwardCallsTakeAPadding() throws {
        let text = """
        ```
        Net(
          (conv1): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))
          (fc): Linear(in_features=36, out_features=2, bias=True)
        )
        ```

        ```modelc
        input: shape=1x8x8
        forward: conv1 maxpool(3,2,1) flatten fc
        ```
        """
        let r = try XCTUnwrap(checkOK(text))
        XCTAssertEqual(r.layer("maxpool")?.outputShape, [3, 3, 4])
        checkError(text.replacingOccurrences(of: "maxpool(3,2,1)", with: "maxpool(3,2,2)"),
                   contains: "forward: 'maxpool(3,2,2)': padding must be a whole number from 0 to half the window (1)")
        // F.max_pool2d's further arguments (dilation, ceil_mode, ...) are not read: refused, never dropped.
        checkError(text.replacingOccurrences(of: "maxpool(3,2,1)", with: "maxpool(3,2,1,2)"), contains: "a pooling call takes K, S and P only")
        checkError(text.replacingOccurrences(of: "maxpool(3,2,1)", with: "avgpool(3,2,1,count_include_pad=False)"), contains: "a pooling call takes K, S and P only")
    }

    func testTorchSummaryPoolRowsTakeAnnotatedArguments() throws {
        func table(_ annotation: String) -> String {
            """
            ```modelc
            input: shape=3x64x64
            \(annotation)
            ```
            ----------------------------------------------------------------
                    Layer (type)               Output Shape         Param #
            ================================================================
                        Conv2d-1           [-1, 64, 32, 32]           9,408
                          ReLU-2           [-1, 64, 32, 32]               0
                     MaxPool2d-3           [-1, 64, 16, 16]               0
                     AvgPool2d-4           [-1, 64, 16, 16]               0
             AdaptiveAvgPool2d-5             [-1, 64, 1, 1]               0
                        Linear-6                   [-1, 10]             650
            ================================================================
            """
        }
        checkError(table(""), contains: "annotate the module's arguments, e.g. `layer AvgPool2d-N: pool=3 stride=1 pad=1`")
        let r = try XCTUnwrap(checkOK(table("layer MaxPool2d-3: pool=3 stride=2 pad=1\nlayer AvgPool2d-4: pool=3 stride=1 pad=1 count_include_pad=false")))
        XCTAssertEqual(pool(r, "MaxPool2d-3")?.explicit, PoolPadding(h: 1, w: 1, ceilMode: false, countIncludePad: false))
        XCTAssertEqual(pool(r, "AvgPool2d-4")?.explicit, PoolPadding(h: 1, w: 1, ceilMode: false, countIncludePad: false))
        XCTAssertTrue(r.layer("MaxPool2d-3")?.notes.isEmpty ?? false, "\(r.layer("MaxPool2d-3")?.notes ?? [])")
        checkError(table("layer MaxPool2d-3: pool=3 stride=2 pad=1\nlayer AvgPool2d-4: pool=3 stride=2 pad=1"),
                   contains: "AvgPool2d-4: the annotated pool 3x3 stride 2x2 pad 1x1 maps 16x16 to 8x8, but the table prints 16x16")
        checkError(table("layer AvgPool2d-4: stride=1 pad=1"), contains: "AvgPool2d-4: an annotated AvgPool2d needs pool=K (the window)")
        checkError(table("layer AvgPool2d-4: pool=3 stride=1 pad=1,0,1,1"),
                   contains: "AvgPool2d-4: pad=1,0,1,1: PyTorch pads symmetrically, by at most half the window")
        checkError(table("layer MaxPool2d-3: pool=3 stride=2 pad=1 count_include_pad=false\nlayer AvgPool2d-4: pool=3 stride=1 pad=1"),
                   contains: "MaxPool2d-3: count_include_pad is an AvgPool argument")
    }

    func testTorchSummaryOneDPoolRows() throws {
        func table(_ annotation: String, pooled: Int) -> String {
            """
            ```modelc
            input: shape=2x17
            \(annotation)
            ```
            ----------------------------------------------------------------
                    Layer (type)               Output Shape         Param #
            ================================================================
                        Conv1d-1                [-1, 4, 17]              28
                     MaxPool1d-2                [-1, 4, \(pooled)]               0
                        Linear-3                    [-1, 2]             \(4 * pooled * 2 + 2)
            ================================================================
            """
        }
        checkError(table("", pooled: 17), contains: "no unpadded pool maps 17 to 17")
        let kept = try XCTUnwrap(checkOK(table("layer MaxPool1d-2: pool=3 stride=1 pad=1", pooled: 17)))
        XCTAssertEqual(pool(kept, "MaxPool1d-2")?.explicit, PoolPadding(h: 0, w: 1, ceilMode: false, countIncludePad: false))
        // 17 -> 9: a 3-wide window with padding 1, or 2 stride 2 in ceil mode (among more); the note names them.
        let nine = try XCTUnwrap(checkOK(table("", pooled: 9)))
        XCTAssertTrue(nine.layer("MaxPool1d-2")?.notes.contains { $0.contains("MaxPool1d(3, stride=2, padding=1)") && $0.contains("ceil_mode=true") } ?? false,
                      "\(nine.layer("MaxPool1d-2")?.notes ?? [])")
        // The chosen fit is not named as its own alternative.
        let half = try XCTUnwrap(checkOK(table("", pooled: 8)))
        XCTAssertFalse(half.layer("MaxPool1d-2")?.notes.contains { $0.contains("MaxPool1d(2)") } ?? true, "\(half.layer("MaxPool1d-2")?.notes ?? [])")
        checkError(table("layer MaxPool1d-2: pool=3x5", pooled: 17), contains: "a 1-D pool takes one window, one stride and pad P (or LEFT,RIGHT)")
        let ceil = try XCTUnwrap(checkOK(table("layer MaxPool1d-2: pool=2 ceil_mode=true", pooled: 9)))
        XCTAssertEqual(pool(ceil, "MaxPool1d-2")?.explicit, PoolPadding(h: 0, w: 0, ceilMode: true, countIncludePad: false))
    }

    func testONNXPoolPadsCeilModeAndCountIncludePad() throws {
        func model(_ op: String, _ attrs: [[UInt8]], input: [Int] = [1, 2, 6, 6]) -> [UInt8] {
            PB.model(nodes: [PB.node(op, ["x"], ["y"], attrs: [PB.attr("kernel_shape", ints: [3, 3]), PB.attr("strides", ints: [2, 2])] + attrs)],
                     initializers: [], input: input)
        }
        func poolOf(_ bytes: [UInt8]) throws -> (PoolAttrs, [Int]) {
            let r = try Frontend.checkONNX(bytes: bytes, path: "t.onnx")
            let l = try XCTUnwrap(r.ir.layers.first { if case .maxPool = $0.op { return true }; if case .avgPool = $0.op { return true }; return false })
            switch l.op { case .maxPool(let a), .avgPool(let a): return (a, l.outputShape); default: throw XCTSkip() }
        }
        let (m, ms) = try poolOf(model("MaxPool", [PB.attr("pads", ints: [1, 1, 1, 1])]))
        XCTAssertEqual(m.explicit, PoolPadding(h: 1, w: 1, ceilMode: false, countIncludePad: false))
        XCTAssertEqual(ms, [3, 3, 2])
        let (a, as_) = try poolOf(model("AveragePool", [PB.attr("pads", ints: [1, 1, 1, 1]), PB.attr("ceil_mode", int: 1), PB.attr("count_include_pad", int: 1)]))
        XCTAssertEqual(a.explicit, PoolPadding(h: 1, w: 1, ceilMode: true, countIncludePad: true))
        XCTAssertEqual(as_, [4, 4, 2])
        // SAME_UPPER: TF's split, the extra row at the end.
        let (s, ss) = try poolOf(model("AveragePool", [PB.attr("auto_pad", string: "SAME_UPPER")]))
        XCTAssertEqual(s.explicit, PoolPadding(top: 0, left: 0, bottom: 1, right: 1, ceilMode: false, countIncludePad: false))
        XCTAssertEqual(ss, [3, 3, 2])
        // A pool on a vector is an error naming the input, never a crash.
        let flat = PB.model(nodes: [PB.node("Flatten", ["x"], ["f"]),
                                    PB.node("MaxPool", ["f"], ["y"], attrs: [PB.attr("kernel_shape", ints: [2, 2]), PB.attr("auto_pad", string: "SAME_UPPER")])],
                            initializers: [], input: [1, 2, 6, 6])
        XCTAssertThrowsError(try Frontend.checkONNX(bytes: flat, path: "t.onnx")) { XCTAssertTrue("\($0)".contains("needs an image or a sequence input"), "\($0)") }
    }
}
