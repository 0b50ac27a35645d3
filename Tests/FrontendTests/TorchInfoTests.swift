import XCTest
@testable import ModelcCore

/// torchinfo tables (issue 17): every layout torchinfo prints, containers at every depth
/// setting, and the errors for what a chain of layers cannot be. The real tables are in
/// Tests/Fixtures/pytorch (PyTorchCorpusTests); the variants here are derived from them.
final class TorchInfoTests: XCTestCase {
    static let korean = "pytorch/torchinfo_input_shape_multadds_korean.txt"
    static let tinyVGG = "pytorch/torchinfo_tinyvgg_sequential_depth3.txt"

    func testInputShapeColumnPlacesTheHiddenCalls() throws {
        guard let r = checkOK(try Fixtures.text(Self.korean)) else { return }
        XCTAssertEqual(r.layout, "torchinfo")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [28, 28, 1], "from the root row's Input Shape [7, 1, 28, 28]")
        let names = r.ir.layers.map(\.name)
        // Conv2d-1-2's printed input [7, 10, 12, 12] puts a 2x2 pool before it (not a 5x5 stride-3 convolution).
        XCTAssertEqual(names.firstIndex(of: "max_pool2d").map { names[$0 + 1] }, "Conv2d-1-2")
        guard case .conv2d(let c)? = r.layer("Conv2d-1-2")?.op else { return XCTFail("Conv2d-1-2") }
        XCTAssertEqual([c.kernelH, c.strideH, c.explicitPadH ?? -1], [5, 1, 0])
        XCTAssertEqual(r.ir.frameworkParamCount, 21_840)
        XCTAssertEqual(r.ir.declared, DeclaredTotals(total: 21_840, trainable: 21_840, nonTrainable: 0))
    }

    func testVariableNamesAndNestedContainers() throws {
        guard let era = checkOK(try Fixtures.text("pytorch/torchinfo_varnames_kernel_shape_era_s5.txt")) else { return }
        XCTAssertEqual(era.ir.layers.filter { $0.declaredParams != nil }.map(\.name), ["conv1", "conv2", "conv3", "conv4", "fc1", "fc2"])
        XCTAssertEqual(era.layer("conv1")?.stateDictTensors.first?.key, "conv1.weight")
        guard let vgg = checkOK(try Fixtures.text(Self.tinyVGG)) else { return }
        XCTAssertTrue(vgg.ok, "\(vgg.problems)")
        XCTAssertEqual(vgg.ir.inputShape, [64, 64, 3])
        XCTAssertEqual(vgg.ir.layers.map(\.kind).filter { $0 == "Conv2d" }.count, 4)
        XCTAssertFalse(vgg.ir.layers.contains { $0.kind == "Sequential" })
        // Variable names nest into module paths.
        let nested = """
        ==========================================================================================
        Layer (type (var_name))                  Output Shape              Param #
        ==========================================================================================
        Net (Net)                                [1, 10]                   --
        ├─Sequential (features)                  [1, 10, 24, 24]           --
        │    └─Conv2d (0)                        [1, 10, 24, 24]           260
        │    └─ReLU (1)                          [1, 10, 24, 24]           --
        ├─Flatten (flatten)                      [1, 5760]                 --
        ├─Linear (fc)                            [1, 10]                   57,610
        ==========================================================================================
        Total params: 57,870
        """
        guard let n = checkOK(nested) else { return }
        XCTAssertEqual(n.ir.layers.map(\.name), ["input", "features.0", "features.1", "flatten", "fc"])
        XCTAssertTrue(n.ok, "\(n.problems)")
    }

    func testMarkdownPipeCopyReadsTheSameModel() throws {
        let text = try Fixtures.text(Self.korean)
        guard let plain = checkOK(text) else { return }
        // The same table as a markdown pipe table (a README copy), with a note after a row.
        var lines: [String] = []
        var inTable = false
        for l in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if l.hasPrefix("Layer (type") { inTable = true }
            if inTable && l.hasPrefix("Total params") { inTable = false }
            guard inTable, !l.hasPrefix("=") else { lines.append(l); continue }
            let cells = TableScanner.chunks(l).map(\.1)
            lines.append("| " + cells.joined(separator: " | ") + " |" + (l.contains("Linear: 1-4") ? " <- the hidden pool is before this" : ""))
            if l.hasPrefix("Layer (type") { lines.append("|---|---|---|---|---|") }
        }
        guard let pipe = checkOK(lines.joined(separator: "\n")) else { return }
        // The same layers (the pipe copy has one more line, the rule under its header).
        XCTAssertEqual(pipe.ir.layers.map { "\($0.name) \($0.op) \($0.outputShape)" }, plain.ir.layers.map { "\($0.name) \($0.op) \($0.outputShape)" })
        XCTAssertTrue(pipe.ok, "\(pipe.problems)")
    }

    /// TinyVGG as torchinfo prints it with depth=1: the Sequential rows show their blocks' counts.
    static let tinyVGGDepth1 = """
    ==========================================================================================
    Layer (type:depth-idx)                   Output Shape              Param #
    ==========================================================================================
    TinyVGG                                  [1, 3]                    --
    ├─Sequential: 1-1                        [1, 10, 30, 30]           1,190
    ├─Sequential: 1-2                        [1, 10, 13, 13]           1,820
    ├─Sequential: 1-3                        [1, 3]                    5,073
    ==========================================================================================
    Total params: 8,083
    Trainable params: 8,083
    Non-trainable params: 0
    """

    func testHiddenLayersAskForALargerDepth() throws {
        checkError(Self.tinyVGGDepth1, contains: "t.md:5: error: Sequential-1-1 (Sequential): a block whose layers torchinfo's depth setting hid (1,190 params); rerun summary(model, input_size=..., depth=2)", path: "t.md")
        // A block of parameterless layers hides them too.
        let pools = Self.tinyVGGDepth1.replacingOccurrences(of: "[1, 10, 30, 30]           1,190", with: "[1, 10, 30, 30]           --   ")
        checkError(pools, contains: "a block whose layers torchinfo's depth setting hid (no params shown)")
        // A custom block at the deepest level: either unsupported or a block with hidden layers.
        checkError(try Fixtures.text("pytorch/err_torchinfo_depth3_hidden_blocks_remotenet.txt"), contains: "OverlapPatchEmbed-3-1 (OverlapPatchEmbed): module class OverlapPatchEmbed is not supported, or it is a block")
    }

    func testContainersWithParametersOfTheirOwnFrozenAndShared() throws {
        let base = try Fixtures.text(Self.tinyVGG)
        // An expanded container's count is what it holds besides its children (e.g. a positional embedding).
        checkError(base.replacingOccurrences(of: "TinyVGG                                  [1, 3]                    --",
                                             with: "TinyVGG                                  [1, 3]                    131,072"),
                   contains: "TinyVGG (TinyVGG): holds 131,072 parameters of its own, outside the layers torchinfo lists")
        // A frozen layer (requires_grad=False) prints its count in parentheses: it does not train.
        let frozen = base.replacingOccurrences(of: "[1, 10, 62, 62]           280", with: "[1, 10, 62, 62]           (280)")
        let split = frozen.replacingOccurrences(of: "Trainable params: 8,083\nNon-trainable params: 0", with: "Trainable params: 7,803\nNon-trainable params: 280")
        let r = try XCTUnwrap(checkOK(split))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.filter { $0.frozen == true }.map(\.name), ["Conv2d-2-1"])
        XCTAssertEqual(r.ir.trainableParams, 7_803)
        // With the model's repr beside the table, the repr's module is the frozen one.
        let both = """
            Net(
              (conv1): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))
              (fc): Linear(in_features=2704, out_features=10, bias=True)
            )

            ==========================================================================================
            Layer (type:depth-idx)                   Output Shape              Param #
            ==========================================================================================
            Net                                      [1, 10]                   --
            ├─Conv2d: 1-1                            [1, 4, 26, 26]            (40)
            ├─Linear: 1-2                            [1, 10]                   27,050
            ==========================================================================================
            Total params: 27,090
            Trainable params: 27,050
            Non-trainable params: 40
            ==========================================================================================
            """
        let withRepr = try XCTUnwrap(checkOK(both))
        XCTAssertTrue(withRepr.ok, "\(withRepr.problems)")
        XCTAssertEqual(withRepr.ir.layers.filter { $0.frozen == true }.map(\.name), ["conv1"])
        XCTAssertTrue(withRepr.layer("conv1")?.notes.contains("frozen (requires_grad=False): its count is printed in parentheses; its 40 params do not train") ?? false)
        // ... and the footer must say so.
        XCTAssertFalse(try Frontend.check(text: frozen, path: "t.md").ok)
        // A frozen BatchNorm still follows each batch's statistics in PyTorch training: refused.
        let bn = """
        ==========================================================================================
        Layer (type:depth-idx)                   Output Shape              Param #
        ==========================================================================================
        Net                                      [1, 10]                   --
        ├─Conv2d: 1-1                            [1, 4, 26, 26]            40
        ├─BatchNorm2d: 1-2                       [1, 4, 26, 26]            (8)
        ├─Flatten: 1-3                           [1, 2704]                 --
        ├─Linear: 1-4                            [1, 10]                   27,050
        ==========================================================================================
        Total params: 27,098
        Trainable params: 27,090
        Non-trainable params: 8
        ==========================================================================================
        """
        checkError(bn, contains: "'(8)': its weight and bias are frozen (requires_grad=False) while its statistics still follow each batch in training")
        checkError(base.replacingOccurrences(of: "[1, 10, 28, 28]           910", with: "[1, 10, 28, 28]           (recursive)"),
                   contains: "Conv2d-2-6 (Conv2d): '(recursive)': the module is called again with the same weights")
        // A parameterless module called again is fine.
        let relu = base.replacingOccurrences(of: "│    └─ReLU: 2-4                         [1, 10, 60, 60]           --",
                                             with: "│    └─ReLU: 2-4                         [1, 10, 60, 60]           (recursive)")
        XCTAssertTrue(checkOK(relu)?.ok ?? false)
    }

    /// Notebook outputs: TinyVGG's first Conv2d printing 64x64 reads padding 1 from 64x64 (a
    /// common size), not 66x66 unpadded; a torch-summary 1.4 VGG16 whose frozen features print
    /// `(1,792)` verifies with them frozen, from 224x224.
    func testPaddedCommonInputAndFrozenRowsOfNotebookTables() throws {
        let tiny = try XCTUnwrap(checkOK(try Fixtures.text("pytorch/torchinfo_tinyvgg_64_padded_first_conv.txt")))
        XCTAssertEqual(tiny.ir.inputShape, [64, 64, 3])
        XCTAssertEqual(tiny.ir.frameworkParamCount, 10_693)
        let vgg = try XCTUnwrap(checkOK(try Fixtures.text("pytorch/torchsummary14_vgg16_frozen_features.txt")))
        XCTAssertTrue(vgg.ok, "\(vgg.problems)")
        XCTAssertEqual(vgg.ir.inputShape, [224, 224, 3])
        XCTAssertEqual(vgg.ir.layers.filter { $0.frozen == true }.count, 13)
        XCTAssertEqual(vgg.ir.trainableParams, 65_793)
    }

    /// EVA4's CIFAR-10 torchsummary table: a 1x1 Conv2d with padding 1 grows 16x16 to 18x18
    /// (a padding past k / 2 is tried when no input fits without one).
    func testOneByOneConvolutionWithPadding() throws {
        XCTAssertNil(PyTorchBuilder.solveConv([16, 16, 32], out: [18, 18, 64], params: 2048))
        XCTAssertEqual(PyTorchBuilder.solveConv([16, 16, 32], out: [18, 18, 64], params: 2048, widePadding: true),
                       .conv(cin: 32, cout: 64, kh: 1, kw: 1, sh: 1, sw: 1, ph: 1, pw: 1, same: false, dh: 1, dw: 1, bias: false, groups: 1))
        // A padding within k / 2 stays first: 3x3 'same' from 16x16.
        XCTAssertNil(PyTorchBuilder.solveConv([28, 28, 3], out: [32, 32, 16], params: 432, widePadding: true))   // padding 3 > k - 1
        XCTAssertEqual(PyTorchBuilder.solveConv([16, 16, 32], out: [16, 16, 64], params: 18_496, widePadding: true),
                       .conv(cin: 32, cout: 64, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, same: false, dh: 1, dw: 1, bias: true, groups: 1))
        // The wide pass never takes a padding past k - 1: a smaller input whose 3x3 would need
        // padding 3 to reach 32x32 does not fit (the 1x1 with padding 1 comes later).
        let wide = """
            ----------------------------------------------------------------
                    Layer (type)               Output Shape         Param #
            ================================================================
                        Conv2d-1           [-1, 16, 32, 32]             432
                          ReLU-2           [-1, 16, 32, 32]               0
                        Conv2d-3           [-1, 32, 34, 34]             512
                          ReLU-4           [-1, 32, 34, 34]               0
                     MaxPool2d-5           [-1, 32, 17, 17]               0
                        Linear-6                   [-1, 10]          92,490
            ================================================================
            Total params: 93,434
            Trainable params: 93,434
            Non-trainable params: 0
            ----------------------------------------------------------------
            Input size (MB): 0.01
            ----------------------------------------------------------------
            """
        XCTAssertEqual(try XCTUnwrap(checkOK(wide)).ir.inputShape, [32, 32, 3])
        let r = try XCTUnwrap(checkOK(try Fixtures.text("pytorch/ts_eva4_s7_cifar_1x1_padding_1.txt")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [32, 32, 3])
        XCTAssertEqual(r.ir.frameworkParamCount, 315_312)
    }

    func testCustomBlocksAreAssumedChainsAndPrintedInputsChecked() throws {
        let block = """
        ==========================================================================================
        Layer (type (var_name))                  Input Shape               Output Shape              Param #
        ==========================================================================================
        Net (Net)                                [1, 1, 28, 28]            [1, 10]                   --
        ├─ConvBlock (block1)                     [1, 1, 28, 28]            [1, 8, 26, 26]            --
        │    └─Conv2d (conv)                     [1, 1, 28, 28]            [1, 8, 26, 26]            80
        │    └─ReLU (act)                        [1, 8, 26, 26]            [1, 8, 26, 26]            --
        ├─Flatten (flatten)                      [1, 8, 26, 26]            [1, 5408]                 --
        ├─Linear (fc)                            [1, 5408]                 [1, 10]                   54,090
        ==========================================================================================
        Total params: 54,170
        """
        guard let r = checkOK(block) else { return }
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("block1 (ConvBlock): its layers run one after another as listed") }, "\(r.ir.assumptions)")
        // A printed input that no pool or flatten explains: something the chain does not show.
        let skip = block.replacingOccurrences(of: "[1, 8, 26, 26]            [1, 5408]", with: "[1, 9, 26, 26]            [1, 5408]")
        checkError(skip, contains: "flatten: the table prints its input as [9, 26, 26], but the rows above give [8, 26, 26]; an operation the table does not show")
    }

    func testLayoutErrors() {
        let noShapes = """
        =================================================================
        Layer (type:depth-idx)                   Param #
        =================================================================
        Net                                      --
        ├─Conv2d: 1-1                            320
        =================================================================
        Total params: 320
        """
        checkError(noShapes, contains: "n.md:2: error: the torchinfo table has no Output Shape column: rerun summary(model, input_size=(1, C, H, W))", path: "n.md")
        checkError(Self.tinyVGGDepth1.replacingOccurrences(of: "[1, 3]                    5,073", with: "[1, 3]                    5,07x"),
                   contains: "cannot read the Param # cell '5,07x'")
        checkError(Self.tinyVGGDepth1.replacingOccurrences(of: "[1, 3]                    5,073", with: "[[1, 3], [1, 2]]          5,073"),
                   contains: "cannot read the shape '[[1, 3], [1, 2]]'")
        // The markdown copy with a prose line before its bold totals: the totals are not silently dropped.
        checkError((try? Fixtures.text("pytorch/err_torchinfo_markdown_pipes_bold_totals_cvae.txt")) ?? "",
                   contains: "holds a total that was not read ('**Total params**: 74,470,828')")
        let withoutProse = ((try? Fixtures.text("pytorch/err_torchinfo_markdown_pipes_bold_totals_cvae.txt")) ?? "")
            .replacingOccurrences(of: "**activation function** : ReLU\n", with: "")
        checkError(withoutProse, contains: "ConvTranspose1d-2-22 (ConvTranspose1d): module class ConvTranspose1d is not supported")
    }

    /// Damaged torchinfo tables and random bytes under a torchinfo header: a report or a
    /// ModelError, never a crash or a hang.
    func testMutatedTablesAndRandomBytesNeverCrash() throws {
        var bases = try [Self.korean, Self.tinyVGG, "pytorch/torchinfo_varnames_kernel_shape_era_s5.txt",
                         "pytorch/err_torchsummary1x_recursive_shared_conv_fusion.txt"].map { try Fixtures.text($0) }
        bases.append(Self.tinyVGGDepth1)
        var rng = MutationTests.RNG(state: 17)
        var reports = 0, errors = 0
        for k in 0..<1200 {
            let text = k % 4 == 3
                ? "Layer (type:depth-idx)   Input Shape   Output Shape   Param #\n" + String(decoding: (0..<rng.int(400)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, as: UTF8.self)
                : MutationTests.mutate(bases[k % bases.count], &rng)
            do { _ = try Frontend.check(text: text, path: "m.md"); reports += 1 } catch let e as ModelError {
                XCTAssertTrue(e.description.hasPrefix("m.md"), e.description)
                errors += 1
            }
        }
        XCTAssertEqual(reports + errors, 1200)
        XCTAssertGreaterThan(reports, 0)
        XCTAssertGreaterThan(errors, 0)
    }
}
