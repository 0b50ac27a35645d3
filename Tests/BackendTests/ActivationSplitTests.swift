// ActivationSplit: an activation whose backward reads x (silu, gelu, hard_swish, mish) folded
// into any layer kind becomes a layer of its own; readers by position, shared layers' later calls
// and the inputs' slices follow. The numerics: GradientCheckTests (gc_conv_wide, gc_activations,
// gc_decoder) and the pytorch_smooth fixture.

import XCTest
@testable import ModelcBackend
import ModelcCore
import TestModelSpecs

final class ActivationSplitTests: XCTestCase {
    static func attrs(_ f: Int, _ a: Activation) -> Conv2DAttrs {
        Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .same, filters: f, useBias: true, activation: a)
    }

    func testEveryCarrierIsSplitAndReadersFollow() {
        var b = ChainBuilder(input: [5, 5, 2])
        b.add("conv", "Conv2D", .conv2d(Self.attrs(2, .silu)))
        b.add("dw", "DepthwiseConv2D", .depthwiseConv2d(Self.attrs(2, .gelu(tanh: true)), depthMultiplier: 1))
        b.add("sep", "SeparableConv2D", .separableConv2d(Self.attrs(2, .mish), depthMultiplier: 1))
        b.add("up", "Conv2DTranspose", .conv2dTranspose(Self.attrs(2, .hardSwish), outputPaddingH: 0, outputPaddingW: 0))
        b.add("add", "Add", .merge(.add))            // conv's and up's outputs
        b.add("flatten", "Flatten", .flatten)
        b.add("dense", "Dense", .dense(units: 3, useBias: true, activation: .gelu(tanh: false)))
        b.add("dense_2", "Dense", .dense(units: 3, useBias: true, activation: .selu))   // reads y: stays folded
        var layers = b.layers
        layers[5].producers = [1, 4]
        let (out, slices) = ActivationSplit.split(layers, slices: [0: 0])
        XCTAssertEqual(out.map(\.name), ["input_1", "conv", "conv_silu", "dw", "dw_gelutanh", "sep", "sep_mish", "up", "up_hard_swish",
                                         "add", "flatten", "dense", "dense_gelu", "dense_2"])
        XCTAssertEqual(out[9].producers, [2, 8], "the Add reads the activations of conv and up")
        XCTAssertEqual(slices, [0: 0])
        for (i, a) in [(2, Activation.silu), (4, .gelu(tanh: true)), (6, .mish), (8, .hardSwish), (12, .gelu(tanh: false))] {
            XCTAssertEqual(out[i].op, .activation(a))
            XCTAssertEqual(Emitter.folded(out[i - 1]), .linear, out[i - 1].name)
            XCTAssertEqual(out[i].inputShape, out[i - 1].outputShape)
            XCTAssertNil(out[i].producers)
        }
        XCTAssertEqual(Emitter.folded(out[13]), .selu)
    }

    func testSharedCallsAndSlicesFollowTheirLayers() {
        var b = ChainBuilder(input: [4])
        b.add("dense", "Dense", .dense(units: 4, useBias: true, activation: .silu))
        b.add("dense_call2", "Dense", .dense(units: 4, useBias: true, activation: .silu))
        b.add("other_input", "InputLayer", .input)
        var layers = b.layers
        layers[2].sharesWeightsWith = 1
        layers[3].producers = []
        let (out, slices) = ActivationSplit.split(layers, slices: [3: 4])
        XCTAssertEqual(out.map(\.name), ["input_1", "dense", "dense_silu", "dense_call2", "dense_call2_silu", "other_input"])
        XCTAssertEqual(out[3].sharesWeightsWith, 1, "a later call names its first call, not that call's activation")
        XCTAssertEqual(slices, [5: 4])
        XCTAssertEqual(ActivationSplit.split(b.layers.map { l in var m = l; m.op = l.op.withActivation(.linear); return m }).layers.count, 4,
                       "nothing to split: unchanged")
    }

    /// The emitted source: the split activation's backward reads the layer's output buffer.
    func testEmittedBackwardReadsTheInput() {
        var b = ChainBuilder(input: [6])
        b.add("dense_1", "Dense", .dense(units: 5, useBias: true, activation: .mish))
        b.add("dense_2", "Dense", .dense(units: 2, useBias: true, activation: .linear))
        let src = Emitter.emit(b.ir("split_source"), fuse: true).source
        XCTAssertTrue(src.contains("Activations.forward(.mish, a1 + lo * 5, a2 + lo * 5"), src)
        XCTAssertTrue(src.contains("Activations.backwardFromInput(.mish, dy: g2 + lo * 5, x: a1 + lo * 5, dx: g1 + lo * 5"), src)
        XCTAssertTrue(src.contains("dense_1_mish output [N, 5]"), src)
    }
}

/// ActivationFold: PyTorch's and ONNX's Conv -> ReLU (no BatchNorm) becomes the Conv's own
/// activation, whoever reads the ReLU; an activation after a BatchNorm, of a kind that needs x, or
/// whose producer another layer reads too, stays.
final class ActivationFoldTests: XCTestCase {
    func testConvReluFoldsAndReadersFollow() {
        var b = ChainBuilder(input: [5, 5, 2])
        b.add("conv1", "Conv2d", .conv2d(ActivationSplitTests.attrs(3, .linear)))
        b.add("relu", "ReLU", .activation(.relu))
        b.add("conv2", "Conv2d", .conv2d(ActivationSplitTests.attrs(3, .linear)))
        b.add("bn", "BatchNorm2d", .batchNorm(BatchNormAttrs()))
        b.add("relu6", "ReLU6", .activation(.cappedRelu(max: 6)))          // after a BatchNorm: Fusion's group
        b.add("conv3", "Conv2d", .conv2d(ActivationSplitTests.attrs(3, .linear)))
        b.add("act", "SiLU", .activation(.silu))                          // needs x: stays
        b.add("add", "Add", .merge(.add))                                 // relu (position 2) + act
        var layers = b.layers
        layers[8].producers = [2, 7]
        let (folded, slices, _) = ActivationFold.fold(layers, slices: [0: 0])
        XCTAssertEqual(folded.map(\.name), ["input_1", "conv1", "conv2", "bn", "relu6", "conv3", "act", "add"])
        XCTAssertEqual(folded[1].foldedActivation, .relu)
        XCTAssertEqual(folded[7].producers, [1, 6], "the Add reads conv1, which now applies the relu")
        XCTAssertEqual(slices, [0: 0])
        // A later call of the shared ReLU layer (Keras reuses one ReLU()) that does not fold shares nothing.
        var shared = layers
        shared[8].producers = [2, 7]
        shared.append(Layer(name: "relu[2]", kind: "ReLU", op: .activation(.relu), inputShape: [5, 5, 3], outputShape: [5, 5, 3], line: 9))
        shared[9].sharesWeightsWith = 2
        XCTAssertNil(ActivationFold.fold(shared).layers.last?.sharesWeightsWith)
        layers[8].producers = [1, 7]   // conv1's own output read by the Add too: the relu cannot fold
        XCTAssertEqual(ActivationFold.fold(layers).layers.map(\.name), ["input_1", "conv1", "relu", "conv2", "bn", "relu6", "conv3", "act", "add"])
        XCTAssertEqual(ActivationFold.fold(Array(layers[0..<3])).notes, [1: "relu"])
    }
}
