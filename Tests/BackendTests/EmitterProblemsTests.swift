// What the emitter cannot do exactly is refused by `Emitter.problems` with FILE:LINE, never
// compiled into a silently different model.

import XCTest
import ModelcCore
import ModelcBackend
import TestModelSpecs

final class EmitterProblemsTests: XCTestCase {
    private func model(_ op: Op, semantics: Semantics = .keras, input: [Int] = [8, 8, 2]) -> ModelIR {
        var b = ChainBuilder(input: input)
        b.add("layer_x", "X", op)
        var ir = b.ir("p")
        ir.sourcePath = "m.md"
        ir.semantics = semantics
        return ir
    }

    /// The generated classifier takes one softmax over the whole output: a softmax per step or
    /// per pixel that feeds the output is refused (check still reads the table, and says so).
    func testASoftmaxOverEachRowOfTheOutputIsRefused() throws {
        let t = """
        ```modelc
        input: shape=10x8
        ```
        Model: "sequential"
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #
        =================================================================
        dense (Dense)                (None, 10, 5)             45
        =================================================================
        """
        let r = try Frontend.check(text: t, path: "seq.md")
        XCTAssertTrue(r.ok)
        let p = Emitter.problems(r.ir).map(\.description)
        XCTAssertTrue(p.contains { $0.hasPrefix("seq.md:8: error: layer dense: a softmax over each of the 10 rows of its output (None, 10, 5)") }, "\(p)")
        // the table prints no activation: the softmax was assumed, and the message says how to give the real one
        XCTAssertTrue(p.contains { $0.hasSuffix("(the softmax is modelc's assumption, the table prints no activation: annotate `layer dense: activation=...`, e.g. sigmoid, tanh or linear)") }, "\(p)")
        // one row (a vector, or a 1x1 image flattened) is one classifier's softmax
        let vector = try Frontend.check(text: t.replacingOccurrences(of: "10x8", with: "8").replacingOccurrences(of: "(None, 10, 5)", with: "(None, 5)    "), path: "v.md")
        XCTAssertEqual(Emitter.problems(vector.ir).map(\.description), [])
    }

    /// A Keras Normalization that reads the input is named in ModelInfo for the runtime to adapt
    /// on a fresh run; one after another layer is not.
    func testInputNormalizationIsAdaptedOnAFreshRun() throws {
        let t = """
        Model: "sequential"
        ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
        ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
        │ normalization (Normalization)   │ (None, 28, 28, 1)      │             3 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ flatten (Flatten)               │ (None, 784)            │             0 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ dense (Dense)                   │ (None, 10)             │         7,850 │
        └─────────────────────────────────┴────────────────────────┴───────────────┘
        """
        let r = try Frontend.check(text: t, path: "n.md")
        let source = Emitter.emit(r.ir, fuse: true).source
        XCTAssertTrue(source.contains("adaptOnInput: [\"normalization\"]"), "ModelInfo names the layer")
        let fixture = try Frontend.check(path: KerasFixtureTests.root + "/normalization_layers/model.md")
        XCTAssertFalse(Emitter.emit(fixture.ir, fuse: true).source.contains("adaptOnInput"), "its Normalization reads a Rescaling")
    }

    func testDilationOnlyForConv2D() {
        var a = Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .valid, filters: 4, useBias: true)
        a.dilationH = 2; a.dilationW = 2
        XCTAssertEqual(Emitter.problems(model(.conv2d(a))).map(\.description), [], "dilated Conv2D is implemented")
        var dw = a
        dw.filters = 2
        let p = Emitter.problems(model(.depthwiseConv2d(dw, depthMultiplier: 1))).map(\.description)
        XCTAssertTrue(p.contains { $0.hasPrefix("m.md:2: error: layer layer_x: dilated X (dilation 2x2) is not supported") }, "\(p)")
        XCTAssertEqual(p.count, 1, "only the dilation is wrong: \(p)")
        XCTAssertTrue(Emitter.problems(model(.separableConv2d(a, depthMultiplier: 1))).contains { $0.message.contains("dilated") })
        a.dilationH = 0
        XCTAssertTrue(Emitter.problems(model(.conv2d(a))).contains { $0.message.contains("at least 1") })
    }

    /// The 1-D layers are emitted as the 2-D ones one row high; Conv2DTranspose and UpSampling2D
    /// only with what the code generator computes exactly.
    func testSequenceAndDecoderAttributes() {
        let k3 = Conv2DAttrs(kernelH: 1, kernelW: 3, strideH: 1, strideW: 2, padding: .same, filters: 4, useBias: true)
        XCTAssertEqual(Emitter.problems(model(.conv2d(k3), input: [9, 2])).map(\.description), [], "a Conv1D is implemented")
        var tall = k3
        tall.kernelH = 3
        XCTAssertTrue(Emitter.problems(model(.conv2d(tall), input: [9, 2])).contains { $0.description.hasPrefix("m.md:2: error: layer layer_x: a 1-D convolution's kernel, stride, dilation and padding must be one row high") })
        let pool = PoolAttrs(poolH: 2, poolW: 2, strideH: 1, strideW: 2, padding: .valid)
        XCTAssertTrue(Emitter.problems(model(.maxPool(pool), input: [9, 2])).contains { $0.message.contains("a 1-D pool's window and stride must be one row high") })
        var t = Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padding: .same, filters: 4, useBias: true)
        XCTAssertEqual(Emitter.problems(model(.conv2dTranspose(t, outputPaddingH: 0, outputPaddingW: 0))).map(\.description), [])
        XCTAssertEqual(Emitter.problems(model(.conv2dTranspose(t, outputPaddingH: 1, outputPaddingW: 0))).map(\.description), [],
                       "Keras padding with output_padding (the Keras output size rule)")
        XCTAssertTrue(Emitter.problems(model(.conv2dTranspose(t, outputPaddingH: 2, outputPaddingW: 0))).contains { $0.message.contains("output padding 2x0") })
        (t.explicitPadH, t.explicitPadW) = (1, 1)
        XCTAssertEqual(Emitter.problems(model(.conv2dTranspose(t, outputPaddingH: 1, outputPaddingW: 1))).map(\.description), [])
        XCTAssertTrue(Emitter.problems(model(.conv2dTranspose(t, outputPaddingH: 2, outputPaddingW: 0))).contains { $0.message.contains("must be below the stride") })
        t.dilationH = 2
        XCTAssertTrue(Emitter.problems(model(.conv2dTranspose(t, outputPaddingH: 0, outputPaddingW: 0))).contains { $0.message.contains("dilated X") })
        XCTAssertTrue(Emitter.problems(model(.upSampling(sizeH: 0, sizeW: 2))).contains { $0.message.contains("upsampling size 0x2") })
        XCTAssertTrue(Emitter.problems(model(.upSampling(sizeH: 2, sizeW: 2), input: [9, 2])).contains { $0.message.contains("a 1-D upsampling has one size, found 2 rows") })
        XCTAssertTrue(Emitter.problems(model(.upSamplingBilinear(sizeH: 2, sizeW: 2), input: [9, 2])).contains { $0.message.contains("expected an image input") })
        var causal = k3
        causal.padding = .causal
        XCTAssertEqual(Emitter.problems(model(.conv2d(causal), input: [9, 2])).map(\.description), [], "a causal Conv1D is implemented")
        XCTAssertTrue(Emitter.problems(model(.conv2d(causal), input: [9, 9, 2])).contains { $0.message.contains("causal padding applies to 1-D layers only") })
        XCTAssertTrue(Emitter.problems(model(.permute([2, 2]), input: [9, 2])).contains { $0.message.contains("not a permutation") })
        XCTAssertTrue(Emitter.problems(model(.cropping(top: 1, bottom: 0, left: 0, right: 0), input: [9, 2])).contains { $0.message.contains("left and right amount only") })
    }

    func testOtherUnsupportedAttributesAreRefused() {
        var a = Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .valid, filters: 4, useBias: true)
        a.explicitPadH = 1
        XCTAssertTrue(Emitter.problems(model(.conv2d(a))).contains { $0.message.contains("explicit padding") })
        XCTAssertTrue(Emitter.problems(model(.dropout(rate: 1, spatial: false))).contains { $0.message.contains("dropout rate") })
        XCTAssertTrue(Emitter.problems(model(.batchNorm(BatchNormAttrs(epsilon: 0)))).contains { $0.message.contains("epsilon") })
        let dw = Conv2DAttrs(kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: .same, filters: 2, useBias: true)
        XCTAssertTrue(Emitter.problems(model(.separableConv2d(dw, depthMultiplier: 1), semantics: .pytorch)).contains { $0.message.contains("PyTorch") })
        // Depthwise (ONNX Conv with group = channels) has a state_dict layout: [C, mult, kh, kw].
        XCTAssertEqual(Emitter.problems(model(.depthwiseConv2d(dw, depthMultiplier: 1), semantics: .pytorch)).count, 0)
        XCTAssertTrue(Emitter.problems(model(.reshape([128]), semantics: .pytorch)).contains { $0.message.contains("NCHW") })
        XCTAssertEqual(Emitter.problems(model(.reshape([128]))).count, 0)
        XCTAssertTrue(Emitter.problems(model(.dense(units: 3, useBias: true, activation: .linear), semantics: .pytorch)).contains { $0.message.contains("Linear") })
        XCTAssertEqual(Emitter.problems(model(.flatten, semantics: .pytorch)).count, 0)
    }

    /// A PyTorch Linear on a 2-D shape: over a 1-D image [L, C] (PyTorch's last axis is L) it is
    /// refused; over a sequence [steps, features] (Layer.readsSteps, ONNX) it applies to each
    /// step's features, also when another layer makes the model's 2-D layers 1-D images.
    func testAPyTorchLinearOnASequenceIsPerStep() {
        let dense = Op.dense(units: 3, useBias: true, activation: .linear)
        XCTAssertTrue(Emitter.problems(model(dense, semantics: .pytorch, input: [5, 4])).contains { $0.message.contains("Linear on a multi-axis input [5, 4]") })
        var steps = model(dense, semantics: .pytorch, input: [5, 4])
        steps.layers[1].readsSteps = true
        XCTAssertEqual(Emitter.problems(steps).map(\.description), [])
        var lifted = model(dense, semantics: .pytorch, input: [1, 5, 4])
        lifted.layers[1].readsSteps = true
        XCTAssertEqual(Emitter.problems(lifted).map(\.description), [])
        var image = model(dense, semantics: .pytorch, input: [2, 5, 4])
        image.layers[1].readsSteps = true
        XCTAssertTrue(Emitter.problems(image).contains { $0.message.contains("Linear on a multi-axis input") })
        // So is a LayerNorm over each step's features.
        let norm = Op.normalization(NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: true, center: true))
        XCTAssertTrue(Emitter.problems(model(norm, semantics: .pytorch, input: [5, 4])).contains { $0.message.contains("over the last axis of [5, 4]") })
        var normed = model(norm, semantics: .pytorch, input: [5, 4])
        normed.layers[1].readsSteps = true
        XCTAssertEqual(Emitter.problems(normed).map(\.description), [])
        // The flag is part of the fingerprint (the flatten it marks is emitted in steps order).
        XCTAssertNotEqual(Fingerprint.of(steps), Fingerprint.of(model(dense, semantics: .pytorch, input: [5, 4])))
    }
}

/// A Keras table printed channels-first (Keras 1, image_dim_ordering='th') flattens in C, H, W
/// order, as the network it describes did.
final class ChannelsFirstEmissionTests: XCTestCase {
    func testChannelsFirstFlattensCHW() throws {
        let path = GeneratedFilesTests.repo + "/Tests/Fixtures/summaries/keras2_hash_channels_first_kaggle_mnist.txt"
        let r = try Frontend.check(text: String(contentsOfFile: path, encoding: .utf8), path: path)
        XCTAssertTrue(r.ok && r.ir.channelsFirst, "\(r.problems)")
        XCTAssertTrue(Emitter.emit(r.ir, fuse: true).source.contains("flatten in NCHW order"))
        var hwc = r.ir
        hwc.channelsFirst = false
        XCTAssertFalse(Emitter.emit(hwc, fuse: true).source.contains("flatten in NCHW order"))
        XCTAssertNotEqual(Fingerprint.of(r.ir), Fingerprint.of(hwc), "the flatten order is part of the fingerprint")
    }
}
