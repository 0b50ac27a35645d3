// The resampling layer kinds (issue 17): causal Conv1D, SeparableConv1D, ZeroPadding1D,
// Cropping1D/2D, UpSampling1D, bilinear UpSampling2D, Conv2DTranspose output_padding,
// RepeatVector and Permute, read from a Keras 2 table, a Keras 3 box table (the numerics
// fixture) and a `.keras` config.json, with what inference fills in and what it reports.
import XCTest
@testable import ModelcCore

final class ResamplingLayerTests: XCTestCase {
    func op(_ r: CheckReport, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Op {
        try XCTUnwrap(r.layer(name)?.op, "no layer \(name)", file: file, line: line)
    }

    static let keras2Rows: [(String, String, String, Int)] = [
        ("input_1", "InputLayer", "8, 3", 0),
        ("conv1d_1", "Conv1D", "8, 4", 40),
        ("zero_padding1d_1", "ZeroPadding1D", "11, 4", 0),
        ("separable_conv1d_1", "SeparableConv1D", "9, 5", 69),      // 3*4*2 + 8*5 + 5, valid
        ("cropping1d_1", "Cropping1D", "6, 5", 0),
        ("up_sampling1d_1", "UpSampling1D", "18, 5", 0),
        ("permute_1", "Permute", "5, 18", 0),
        ("reshape_1", "Reshape", "5, 18, 1", 0),
        ("cropping2d_1", "Cropping2D", "3, 15, 1", 0),
        ("conv2d_transpose_1", "Conv2DTranspose", "8, 32, 2", 20),  // 3x3 s2 valid gives (7, 31): output_padding 1
        ("global_average_pooling2d_1", "GlobalAveragePooling2D", "2", 0),
        ("repeat_vector_1", "RepeatVector", "4, 2", 0),
        ("flatten_1", "Flatten", "8", 0),
        ("dense_1", "Dense", "3", 27)]

    func testKeras2TableInfersEveryKind() throws {
        let r = try Frontend.check(text: InferenceTests.table(Self.keras2Rows), path: "resampling.md")
        XCTAssertTrue(r.ok, r.text())
        guard case .conv2d(let c) = try op(r, "conv1d_1") else { return XCTFail("conv1d_1") }
        XCTAssertEqual([c.kernelW, c.strideW], [3, 1])
        XCTAssertEqual(c.padding, .same)
        XCTAssertTrue(r.layer("conv1d_1")!.notes.contains { $0.contains("causal") }, "'same' is reported as a guess that causal shares")
        XCTAssertEqual(try op(r, "zero_padding1d_1"), .zeroPadding(top: 0, bottom: 0, left: 1, right: 2))
        guard case .separableConv2d(let s, let m) = try op(r, "separable_conv1d_1") else { return XCTFail("separable_conv1d_1") }
        XCTAssertEqual([s.kernelH, s.kernelW, m, s.filters], [1, 3, 2, 5])
        XCTAssertEqual(r.layer("separable_conv1d_1")?.paramTensors.map(\.shape), [[3, 4, 2], [1, 8, 5], [5]])
        XCTAssertEqual(try op(r, "cropping1d_1"), .cropping(top: 0, bottom: 0, left: 1, right: 2))
        XCTAssertTrue(r.layer("cropping1d_1")!.notes.contains { $0.contains("choice") && $0.contains("crop (2, 1)") },
                      "the split of a cropped total is a reported choice: \(r.layer("cropping1d_1")!.notes)")
        XCTAssertEqual(try op(r, "up_sampling1d_1"), .upSampling(sizeH: 1, sizeW: 3))
        XCTAssertEqual(try op(r, "permute_1"), .permute([2, 1]))
        XCTAssertEqual(try op(r, "cropping2d_1"), .cropping(top: 1, bottom: 1, left: 1, right: 2))
        guard case .conv2dTranspose(let t, let oph, let opw) = try op(r, "conv2d_transpose_1") else { return XCTFail("conv2d_transpose_1") }
        XCTAssertEqual([t.kernelH, t.kernelW, t.strideH, t.strideW, oph, opw], [3, 3, 2, 2, 1, 1])
        XCTAssertEqual(t.padding, .valid)
        XCTAssertEqual(try op(r, "repeat_vector_1"), .repeatVector(4))
    }

    /// Annotations: causal padding, bilinear interpolation, the cropping split, Permute dims,
    /// RepeatVector n without a printed shape.
    func testAnnotationsStateWhatShapesCannot() throws {
        let block = """

        ```modelc
        layer conv1d_1: padding=causal
        layer cropping1d_1: crop=2,1
        layer cropping2d_1: crop=0,2,3,0
        ```
        """
        let r = try Frontend.check(text: InferenceTests.table(Self.keras2Rows) + block, path: "resampling.md")
        XCTAssertTrue(r.ok, r.text())
        guard case .conv2d(let c) = try op(r, "conv1d_1") else { return XCTFail("conv1d_1") }
        XCTAssertEqual(c.padding, .causal)
        XCTAssertEqual(try op(r, "cropping1d_1"), .cropping(top: 0, bottom: 0, left: 2, right: 1))
        XCTAssertEqual(try op(r, "cropping2d_1"), .cropping(top: 0, bottom: 2, left: 3, right: 0))
        XCTAssertFalse(r.layer("cropping1d_1")!.notes.contains { $0.contains("choice") })

        let up = InferenceTests.table([("input_1", "InputLayer", "3, 4, 2", 0), ("up_sampling2d_1", "UpSampling2D", "6, 8, 2", 0)])
        let nearest = try Frontend.check(text: up, path: "up.md")
        XCTAssertEqual(try op(nearest, "up_sampling2d_1"), .upSampling(sizeH: 2, sizeW: 2))
        XCTAssertTrue(nearest.layer("up_sampling2d_1")!.notes.contains { $0.contains("bilinear") })
        let bilinear = try Frontend.check(text: up + "\n```modelc\nlayer up_sampling2d_1: interpolation=bilinear\n```\n", path: "up.md")
        XCTAssertEqual(try op(bilinear, "up_sampling2d_1"), .upSamplingBilinear(sizeH: 2, sizeW: 2))
    }

    /// output_padding annotated, and the no-output-padding size preferred when both fit.
    func testConvTransposeOutputPadding() throws {
        let t = InferenceTests.table([("input_1", "InputLayer", "5, 5, 1", 0), ("conv2d_transpose_1", "Conv2DTranspose", "10, 10, 2", 20)])
        let plain = try Frontend.check(text: t, path: "t.md")
        guard case .conv2dTranspose(let a, 0, 0)? = plain.layer("conv2d_transpose_1")?.op else { return XCTFail("\(plain.text())") }
        XCTAssertEqual([a.strideH, a.strideW], [2, 2])
        XCTAssertEqual(a.padding, .same)
        let annotated = try Frontend.check(text: t + "\n```modelc\nlayer conv2d_transpose_1: output_padding=1 padding=same\n```\n", path: "t.md")
        XCTAssertEqual(annotated.layer("conv2d_transpose_1")?.op, .conv2dTranspose(a, outputPaddingH: 1, outputPaddingW: 1),
                       "same, k 3, s 2, output_padding 1: (5 - 1)*2 + 3 - 2 + 1 = 10")
        checkError(t + "\n```modelc\nlayer conv2d_transpose_1: output_padding=2 padding=same\n```\n", contains: "no kernel/stride/padding/bias maps")
    }

    func testPermuteWithRepeatedSizesIsAReportedChoice() throws {
        let t = InferenceTests.table([("input_1", "InputLayer", "4, 4", 0), ("permute_1", "Permute", "4, 4", 0),
                                      ("flatten_1", "Flatten", "16", 0), ("dense_1", "Dense", "2", 34)])
        let r = try Frontend.check(text: t, path: "p.md")
        XCTAssertEqual(try op(r, "permute_1"), .permute([2, 1]))
        XCTAssertTrue(r.layer("permute_1")!.notes.contains { $0.contains("choice") })
        let d = try Frontend.check(text: t + "\n```modelc\nlayer permute_1: dims=1,2\n```\n", path: "p.md")
        XCTAssertEqual(try op(d, "permute_1"), .permute([1, 2]))
    }

    func testErrorsNameTheLayerAndWhy() {
        func message(_ rows: [(String, String, String, Int)], _ ann: String = "") -> String {
            let text = InferenceTests.table(rows) + (ann.isEmpty ? "" : "\n```modelc\n\(ann)\n```\n")
            do { let r = try Frontend.check(text: text, path: "e.md"); return r.ok ? "OK" : r.text() } catch { return "\(error)" }
        }
        let pool = [("input_1", "InputLayer", "8, 8, 2", 0), ("max_pooling2d_1", "MaxPooling2D", "4, 4, 2", 0)]
        XCTAssertTrue(message(pool, "layer max_pooling2d_1: padding=causal").contains("causal applies to Conv1D and SeparableConv1D only"))
        let grow = [("input_1", "InputLayer", "8, 8, 2", 0), ("cropping2d_1", "Cropping2D", "9, 8, 2", 0)]
        XCTAssertTrue(message(grow).contains("cropping cannot map (8, 8, 2) to (9, 8, 2)"), message(grow))
        let rv = [("input_1", "InputLayer", "8, 2", 0), ("repeat_vector_1", "RepeatVector", "3, 8, 2", 0)]
        XCTAssertTrue(message(rv).contains("RepeatVector needs a vector input"), message(rv))
        let perm = [("input_1", "InputLayer", "8, 2", 0), ("permute_1", "Permute", "8, 3", 0)]
        XCTAssertTrue(message(perm).contains("no permutation of (8, 2) gives (8, 3)"), message(perm))
        let crop1 = [("input_1", "InputLayer", "8, 2", 0), ("cropping1d_1", "Cropping1D", "6, 2", 0)]
        XCTAssertTrue(message(crop1, "layer cropping1d_1: crop=1,2,0,0").contains("takes crop=P or crop=LEFT,RIGHT"), message(crop1, "layer cropping1d_1: crop=1,2,0,0"))
    }

    /// The Keras 3 box table of the numerics fixture (with its annotations) and the `.keras`
    /// config.json of the same model give the same network.
    func testKeras3TableMatchesKerasConfig() throws {
        let table = try Frontend.check(path: Fixtures.path("numerics/resampling/model.md"))
        let config = try Frontend.check(path: Fixtures.path("keras_config/resampling.config.json"))
        XCTAssertTrue(table.ok, table.text())
        XCTAssertTrue(config.ok, config.text())
        XCTAssertEqual(table.ir.layers.count, config.ir.layers.count)
        for (a, b) in zip(table.ir.layers, config.ir.layers) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(a.kind, b.kind, a.name)
            XCTAssertEqual(a.op, b.op, a.name)
            XCTAssertEqual(a.outputShape, b.outputShape, a.name)
        }
        XCTAssertEqual(try op(config, "conv2d_transpose"), try op(table, "conv2d_transpose"))
        XCTAssertEqual(try op(config, "up_sampling2d"), .upSamplingBilinear(sizeH: 2, sizeW: 2))
        XCTAssertEqual(table.ir.totalParams, 198)
    }

    /// PyTorch counterparts: ZeroPad1d, ConstantPad1d/2d (value 0), Upsample(mode='bilinear')
    /// with align_corners confirmed (the repr does not print it). (A torchsummary Upsample row
    /// annotated bilinear: PyTorchSequenceTests.testTorchSummarySequenceAndDecoderRows.)
    func testPyTorchPadsAndBilinearUpsample() throws {
        let seq = """
        Net(
          (conv1): Conv1d(2, 4, kernel_size=(3,), stride=(1,))
          (pad): ZeroPad1d((1, 2))
          (cpad): ConstantPad1d(padding=(0, 1), value=0.0)
          (fc): Linear(in_features=48, out_features=3, bias=True)
        )

        ```modelc
        input: shape=2x10
        ```
        """
        let r = try XCTUnwrap(checkOK(seq))
        XCTAssertEqual(r.layer("pad")?.op, .zeroPadding(top: 0, bottom: 0, left: 1, right: 2))
        XCTAssertEqual(r.layer("cpad")?.outputShape, [12, 4])
        let image = """
        Net(
          (conv): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))
          (pad): ConstantPad2d(padding=(1, 0, 0, 1), value=0.0)
          (up): Upsample(scale_factor=2.0, mode='bilinear')
          (fc): Linear(in_features=128, out_features=3, bias=True)
        )

        ```modelc
        input: shape=1x5x5
        """
        checkError(image + "\n```\n", contains: "layer 'up' (Upsample, mode='bilinear'): the repr does not print align_corners; modelc computes align_corners=False")
        let ok = try XCTUnwrap(checkOK(image + "\nlayer up: align_corners=false\n```\n"))
        XCTAssertEqual(ok.layer("pad")?.op, .zeroPadding(top: 0, bottom: 1, left: 1, right: 0))
        XCTAssertEqual(ok.layer("up")?.op, .upSamplingBilinear(sizeH: 2, sizeW: 2))
        checkError(image.replacingOccurrences(of: "value=0.0", with: "value=0.5") + "\n```\n", contains: "value=0.5: only zero padding is supported")
        checkError(image + "\nlayer up: align_corners=true\n```\n", contains: "only align_corners=false (PyTorch's default) is supported")
    }
}
