import XCTest
@testable import ModelcCore

/// PyTorch descriptions: print(model) reprs (modern, pre-0.4, nested), torchsummary tables,
/// the `forward:` and `input: shape=CxHxW` annotations, PyTorch semantics in the IR.
final class PyTorchTests: XCTestCase {
    static let net = """
    Net(
      (conv1): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))
      (conv2): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
      (bn): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
      (dropout1): Dropout(p=0.25, inplace=False)
      (fc1): Linear(in_features=10816, out_features=128, bias=True)
      (act): LeakyReLU(negative_slope=0.01)
      (fc2): Linear(in_features=128, out_features=10, bias=True)
    )
    """

    static let forward = "\n```modelc\nforward: conv1 relu conv2 bn relu maxpool(2) dropout1 flatten fc1 act fc2 log_softmax\n```\n"

    func testModernReprWithForward() throws {
        guard let r = checkOK(Self.net + Self.forward) else { return }
        XCTAssertEqual(r.ir.semantics, .pytorch)
        XCTAssertEqual(r.ir.flattenOrder, .chw)
        XCTAssertEqual(r.layout, "pytorch-repr")
        // conv1 320 + conv2 18,432 (no bias) + bn 128 + fc1 1,384,576 + fc2 1,290
        XCTAssertEqual(r.ir.frameworkParamCount, 320 + 18_432 + 128 + 1_384_576 + 1_290)
        XCTAssertEqual(r.ir.bufferCount, 128)
        XCTAssertEqual(r.ir.frameworkNonTrainableCount, 0)
        XCTAssertEqual(r.ir.layers.map(\.name), ["input", "conv1", "relu", "conv2", "bn", "relu_2", "maxpool", "dropout1",
                                                   "flatten", "fc1", "act", "fc2", "log_softmax"])
        guard case .conv2d(let c2)? = r.layer("conv2")?.op else { return XCTFail("conv2") }
        XCTAssertEqual([c2.explicitPadH, c2.explicitPadW], [1, 1])
        XCTAssertFalse(c2.useBias)
        XCTAssertEqual(r.layer("conv2")?.outputShape, [26, 26, 64])
        guard case .batchNorm(let bn)? = r.layer("bn")?.op else { return XCTFail("bn") }
        XCTAssertEqual(bn.epsilon, 1e-5)
        XCTAssertEqual(bn.momentum, 0.9, accuracy: 1e-6)
        XCTAssertTrue(bn.unbiasedRunningVariance)
        XCTAssertEqual(r.layer("act")?.op, .activation(.leakyRelu(alpha: 0.01)))
        XCTAssertEqual(r.layer("dropout1")?.op, .dropout(rate: 0.25, spatial: false))
        XCTAssertEqual(r.layer("log_softmax")?.op, .activation(.softmax))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertTrue(r.text().contains("CHW order"))
    }

    func testStateDictNamesAndLayouts() throws {
        guard let r = checkOK(Self.net + Self.forward) else { return }
        let keys = r.ir.layers.flatMap { $0.stateDictTensors.map(\.key) }
        XCTAssertEqual(keys, ["conv1.weight", "conv1.bias", "conv2.weight", "bn.weight", "bn.bias", "bn.running_mean",
                              "bn.running_var", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        let t = Dictionary(uniqueKeysWithValues: r.ir.layers.flatMap { $0.stateDictTensors.map { ($0.key, $0) } })
        XCTAssertEqual(t["conv1.weight"]?.shape, [32, 1, 3, 3])          // OIHW
        XCTAssertEqual(t["conv1.weight"]?.tensor.shape, [3, 3, 1, 32])   // IR (Keras) HWIO
        XCTAssertEqual(t["conv1.weight"]?.tensor.stateDictPermutation, [3, 2, 0, 1])
        XCTAssertEqual(t["fc1.weight"]?.shape, [128, 10816])              // out x in
        XCTAssertEqual(t["bn.running_var"]?.tensor.isBuffer, true)
    }

    func testDeclaredOrderDefaultsInferPoolsAndReLU() throws {
        // pytorch/examples Net: functional relu and max_pool2d; the one pool placement that fits is found.
        let text = """
        Net(
          (conv1): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))
          (conv2): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1))
          (dropout1): Dropout(p=0.25, inplace=False)
          (fc1): Linear(in_features=9216, out_features=128, bias=True)
          (fc2): Linear(in_features=128, out_features=10, bias=True)
        )
        """
        guard let r = checkOK(text) else { return }
        XCTAssertEqual(r.ir.frameworkParamCount, 1_199_882)
        XCTAssertEqual(r.ir.layers.filter { if case .maxPool = $0.op { return true }; return false }.count, 1)
        XCTAssertEqual(r.ir.layers.filter { $0.op == .activation(.relu) }.count, 3)
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("max_pool2d(2) called before 'fc1'") }, "\(r.ir.assumptions)")
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("for the 28x28 input (another input size may fit another number of calls)") })
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("input shape [1, 28, 28]") })
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("call order: the declared module order") })
        // An annotated input: the placement holds for it, with no word of other sizes.
        guard let a = checkOK(text + "\n```modelc\ninput: shape=1x28x28\n```\n") else { return }
        XCTAssertTrue(a.ir.assumptions.contains { $0.contains("the only 1-pool placement that makes the shapes fit for the annotated 28x28 input (functional") },
                      "\(a.ir.assumptions)")
    }

    /// A repr whose sizes leave the input open (one pool module for three convolutions) reads
    /// CIFAR-10's 3x32x32 when the document names CIFAR-10 (udacity/deep-learning-v2-pytorch's
    /// cifar10_cnn_solution), and stays an error otherwise.
    func testCifarDocumentFixesAnOpenReprInput() throws {
        let net = """
        Net(
          (conv1): Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
          (conv2): Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
          (conv3): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
          (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
          (fc1): Linear(in_features=1024, out_features=500, bias=True)
          (fc2): Linear(in_features=500, out_features=10, bias=True)
          (dropout): Dropout(p=0.25)
        )
        """
        checkError(net, contains: "the input size is not stated and cannot be inferred")
        guard let r = checkOK("A CNN for CIFAR-10:\n\n" + net) else { return }
        XCTAssertEqual(r.ir.inputShape, [32, 32, 3])
        XCTAssertEqual(r.ir.layers.filter { if case .maxPool = $0.op { return true }; return false }.count, 3)
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("input shape [3, 32, 32] (C x H x W): CIFAR-10's images, which the document names") })
    }

    /// Nothing runs between two children of an nn.Sequential: a model whose Linear layers are one
    /// Sequential's children is linear (mrdbourke/pytorch-deep-learning's FashionMNISTModelV0),
    /// while between two Sequentials forward() may call F.relu.
    func testNoFunctionalActivationInsideASequential() throws {
        let v0 = """
        FashionMNISTModelV0(
          (layer_stack): Sequential(
            (0): Flatten(start_dim=1, end_dim=-1)
            (1): Linear(in_features=784, out_features=10, bias=True)
            (2): Linear(in_features=10, out_features=10, bias=True)
          )
        )
        """
        guard let r = checkOK(v0) else { return }
        XCTAssertEqual(r.ir.layers.map(\.name), ["input", "layer_stack.0", "layer_stack.1", "layer_stack.2"])
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("no activation: no activation module is declared, and forward() cannot call one between the children of an nn.Sequential") }, "\(r.ir.assumptions)")
        let two = """
        Net(
          (features): Sequential(
            (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))
            (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
            (2): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1))
          )
          (classifier): Sequential(
            (0): Flatten(start_dim=1, end_dim=-1)
            (1): Linear(in_features=4608, out_features=10, bias=True)
          )
        )
        """
        // Nested Sequentials run as one chain: nothing between their blocks either.
        let nested = """
        Sequential(
          (0): Sequential(
            (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))
          )
          (1): Sequential(
            (0): Flatten(start_dim=1, end_dim=-1)
            (1): Linear(in_features=2704, out_features=10, bias=True)
          )
        )
        """
        XCTAssertEqual(checkOK(nested)?.ir.layers.map(\.name), ["input", "0.0", "1.0", "1.1"])
        XCTAssertEqual(PyTorchBuilder.commonContainer("features.0.2", "features.1"), "features")
        // Custom blocks inside a Sequential may call F.relu in their forward(): assumed there.
        let seq: Set<String> = ["", "features", "features.0"]
        XCTAssertTrue(PyTorchBuilder.runBackToBack("features.0.1", "features.1", sequential: seq))
        XCTAssertFalse(PyTorchBuilder.runBackToBack("features.2.conv", "features.3.conv", sequential: seq))
        let blocks = """
        Sequential(
          (0): ConvBlock(
            (conv): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))
            (bn): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
          )
          (1): ConvBlock(
            (conv): Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1))
            (bn): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
          )
          (2): Flatten(start_dim=1, end_dim=-1)
          (3): Linear(in_features=2304, out_features=10, bias=True)
        )
        """
        XCTAssertEqual(checkOK(blocks)?.ir.layers.filter { $0.op == .activation(.relu) }.count, 2)
        XCTAssertEqual(PyTorchBuilder.commonContainer("conv1", "fc1"), "")
        guard let t = checkOK(two) else { return }
        XCTAssertEqual(t.ir.layers.map(\.name), ["input", "features.0", "features.1", "features.2", "relu", "classifier.0", "classifier.1"])
        XCTAssertTrue(t.ir.assumptions.contains { $0.hasPrefix("relu after every Conv2d/Linear but the last") }, "\(t.ir.assumptions)")
    }

    /// One `(relu): ReLU()` module that forward() calls after every layer but the last: the
    /// declared order would call it once, on the logits (LeNet, declared last), between pool2 and
    /// fc1 (FashionCNN), or on the raw image (net1: its Dropout is declared there too, an error).
    /// Verbatim: Fixtures/pytorch/repr_lenet_relu_declared_last_trailing_spaces.txt,
    /// repr_fashioncnn_relu_once_padding_same.txt, err_repr_relu_dropout_declared_first.txt.
    func testOneActivationModuleIsReusedOrRefused() throws {
        let lenet = try XCTUnwrap(checkOK(try Fixtures.text("pytorch/repr_lenet_relu_declared_last_trailing_spaces.txt")))
        XCTAssertTrue(lenet.ok, "\(lenet.problems)")
        XCTAssertEqual(lenet.ir.frameworkParamCount, 431_080)
        XCTAssertEqual(lenet.ir.layers.map(\.name), ["input", "conv1", "relu", "max_pool2d", "conv2", "relu_2", "max_pool2d_2",
                                                     "flatten", "fc1", "relu_3", "fc2"])
        XCTAssertTrue(lenet.ir.assumptions.contains(PyTorchBuilder.reuseNote("relu")), "\(lenet.ir.assumptions)")
        let fashion = try XCTUnwrap(checkOK(try Fixtures.text("pytorch/repr_fashioncnn_relu_once_padding_same.txt")))
        XCTAssertTrue(fashion.ok, "\(fashion.problems)")
        XCTAssertEqual(fashion.ir.layers.map(\.name), ["input", "conv1", "relu", "pool1", "conv2", "relu_2", "pool2", "flatten",
                                                       "fc1", "relu_3", "fc2"])
        let net1 = try Fixtures.text("pytorch/err_repr_relu_dropout_declared_first.txt")
        checkError(net1, contains: "test.md:4: error: the call order is ambiguous: 'relu' (ReLU), 'dropout1' (Dropout) are declared before "
                   + "the first Conv2d/Linear module 'fc1': the declared order is not forward()'s")
        XCTAssertEqual(checkOK(net1 + "\n```modelc\nforward: flatten fc1 relu dropout1 fc2\n```\n")?.ir.frameworkParamCount, 407_050)
        // Between the only two Linear modules the declared order stands; a Sigmoid after the last is
        // a head, with functional ReLU before it.
        let two = "Net(\n  (fc1): Linear(in_features=300, out_features=50, bias=True)\n  (act): ReLU()\n"
            + "  (fc2): Linear(in_features=50, out_features=4, bias=True)\n)\n"
        XCTAssertEqual(checkOK(two)?.ir.layers.map(\.name), ["input", "fc1", "act", "fc2"])
        let head = "Net(\n  (fc1): Linear(in_features=300, out_features=50, bias=True)\n"
            + "  (fc2): Linear(in_features=50, out_features=1, bias=True)\n  (sig): Sigmoid()\n)\n"
        let h = try XCTUnwrap(checkOK(head))
        XCTAssertEqual(h.ir.layers.map(\.name), ["input", "fc1", "relu", "fc2", "sig"])
        XCTAssertTrue(h.ir.assumptions.contains(PyTorchBuilder.headReluNote), "\(h.ir.assumptions)")
    }

    /// A pool module the assumed order would call zero times is never dropped (EECS 504 ResNet,
    /// verbatim: Fixtures/pytorch/err_repr_resnet_avgpool_input_unstated.txt): at the default 28x28
    /// only leaving out its AvgPool2d(2, stride=1) fitted; at the notebook's 64x64 the declared order calls it.
    /// Its ResidualBlocks are refused as such unless annotated `residual=false` (here, to reach the pool).
    func testPoolModuleIsNeverDropped() throws {
        let published = try Fixtures.text("pytorch/err_repr_resnet_avgpool_input_unstated.txt")
        checkError(published, contains: "module 'backbone.0.4' (ResidualBlock) is named as a residual block")
        let text = published + "\n```modelc\n" + ["backbone.0.4", "backbone.2", "backbone.4", "backbone.6"].map { "layer \($0): residual=false\n" }.joined() + "```\n"
        checkError(text, contains: "module 'avgpool' (AvgPool2d): a 2x2 pool does not fit the input [512, 1, 1]; the input "
                   + "size is not stated and cannot be inferred: the one pool module 'avgpool' may be called after each of the 12 Conv2d modules; "
                   + "a [3, 33, 33] input fits the declared order alone (annotate `input: shape=3xHxW` or `forward: ...`)")
        let r = try XCTUnwrap(checkOK(text + "\n```modelc\ninput: shape=3x64x64\n```\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.frameworkParamCount, 7_884_516)
        XCTAssertEqual(r.layer("avgpool")?.outputShape, [1, 1, 512])
    }

    func testLegacyReprAndInputShapeAnnotation() throws {
        let text = """
        Net (
          (conv1): Conv2d (1, 6, kernel_size=(5, 5), stride=(1, 1))
          (pool): MaxPool2d (size=(2, 2), stride=(2, 2), dilation=(1, 1))
          (relu): ReLU ()
          (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))
          (fc1): Linear (400 -> 120)
          (drop): Dropout (p = 0.3)
          (fc3): Linear (120 -> 10)
        )
        <!-- modelc
        input: shape=1x32x32
        forward: conv1 relu pool conv2 relu pool flatten fc1 relu drop fc3
        -->
        """
        guard let r = checkOK(text) else { return }
        XCTAssertEqual(r.ir.inputShape, [32, 32, 1])
        XCTAssertEqual(r.ir.frameworkParamCount, 156 + 2_416 + 48_120 + 1_210)
        XCTAssertEqual(r.layer("drop")?.op, .dropout(rate: 0.3, spatial: false))
        XCTAssertEqual(r.layer("pool_2")?.outputShape, [5, 5, 16])     // a parameterless module used twice
    }

    func testNestedSequentialPathsAndPrefixes() throws {
        let text = """
        # CNN (
        #   (features): Sequential (
        #     (0): Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
        #     (1): ReLU ()
        #     (2): MaxPool2d (size=(2, 2), stride=(2, 2), dilation=(1, 1))
        #   )
        #   (out): Linear (3136 -> 10)
        # )
        """
        guard let r = checkOK(text) else { return }
        XCTAssertEqual(Array(r.ir.layers.map(\.name).prefix(4)), ["input", "features.0", "features.1", "features.2"])
        XCTAssertEqual(r.layer("features.0")?.stateDictTensors.first?.key, "features.0.weight")
        XCTAssertEqual(r.ir.frameworkParamCount, 416 + 31_370)
    }

    /// A module line that lost a parenthesis (`(encoder: Embedding(...)`, verbatim from a README:
    /// Fixtures/pytorch/err_repr_gru_imdb_encoder_missing_paren.txt) is an error where it stands;
    /// the repr was read from the next module line on, without the 25.4M-parameter Embedding.
    func testBrokenModuleLineIsNeverSkipped() throws {
        let text = try Fixtures.text("pytorch/err_repr_gru_imdb_encoder_missing_paren.txt")
        checkError(text, contains: "test.md:8: error: cannot read module line '(encoder: Embedding(84546, 300), weights=((84546, 300),), "
                   + "parameters=25363800' inside the GruImdbSA( repr: expected '(name): Module(...)' or ')'")
        let gru = "  (gru): GRU(300, 128)\n  (fc): Linear(in_features=128, out_features=2, bias=True)\n"
        // Headless module lines (no "Net(" line): the broken line above or among them.
        checkError("  (encoder: Embedding(84546, 300)\n" + gru, contains: "test.md:1: error: cannot read module line '(encoder: Embedding(84546, 300)' before the module lines")
        checkError(gru + "  (out):Linear(in_features=2, out_features=2, bias=True)\n",
                   contains: "test.md:3: error: cannot read module line '(out):Linear(in_features=2, out_features=2, bias=True)' among the module lines")
        // Prose in parentheses is not a module line.
        XCTAssertFalse(PyTorchRepr.isBrokenModuleLine("(Note: the repr below is from torch 1.13)"))
        XCTAssertFalse(PyTorchRepr.isBrokenModuleLine("(x_train, y_train), (x_test, y_test) = mnist.load_data()"))
        XCTAssertTrue(PyTorchRepr.isBrokenModuleLine("    (encoder: Embedding(84546, 300), weights=((84546, 300),)"))
    }

    func testForwardErrors() {
        checkError(Self.net + "\n```modelc\nforward: conv1 relu conv2 bn frobnicate fc1 fc2\n```\n", contains: "forward: 'frobnicate' is neither a module")
        // A module called twice shares its weights, so its second call must fit them.
        checkError(Self.net + "\n```modelc\nforward: conv1 conv1 conv2 bn maxpool(2) flatten fc1 fc2\n```\n", contains: "module 'conv1' (Conv2d): expects 1 input channels")
        checkError(Self.net + "\n```modelc\nforward: conv1 conv2 bn maxpool(2) flatten fc1\n```\n", contains: "'fc2' (Linear) has parameters but is never called")
        checkError(Self.net + "\n```modelc\ninput: shape=1x28x28\nforward: conv1 conv2 bn flatten fc1 fc2\n```\n", contains: "in_features=10816 but the input has 43264 features")
        // Without an input shape the forward order fixes the structure and the size is solved:
        // 15 -> conv1 (3x3) 13 -> conv2 (3x3, padding 1) 13, and 64 x 13 x 13 = 10816.
        XCTAssertEqual(checkOK(Self.net + "\n```modelc\nforward: conv1 conv2 bn flatten fc1 fc2\n```\n")?.ir.inputShape, [15, 15, 1])
        checkError(Self.net + "\n```modelc\nforward: conv1 conv2 bn maxpool(0) flatten fc1 fc2\n```\n", contains: "expected a positive integer")
        // forward: on a Keras table is an error.
        checkError(AnnotationTests.table + "\n```modelc\nforward: conv1\n```\n", contains: "forward: applies to PyTorch models")
    }

    func testReprErrors() {
        checkError("Net(\n  (rnn): GRU(10, 20)\n  (fc): Linear(in_features=20, out_features=2, bias=True)\n)\n", contains: "test.md:2: error: module 'rnn' (GRU) reads a sequence of 10 features per step, and the repr does not say how many steps")
        checkError("model=DataParallel(\n  (module): Net(\n    (fc): Linear(in_features=784, out_features=10, bias=True)\n  )\n)\n", contains: "DataParallel is a training wrapper")
        checkError("Net(\n  (conv1): Conv2d(1, 8, kernel_size=(3, 3))\n  (fc): Linear(in_features=999, out_features=10, bias=True)\n)\n", contains: "module 'fc' (Linear): in_features=999 but the input has 5408 features")
        checkError("Net(\n  (conv1): Conv2d(3, 8, kernel_size=(3, 3))\n  (conv2): Conv2d(4, 8, kernel_size=(3, 3))\n)\n<!-- modelc\ninput: shape=3x28x28\n-->\n", contains: "module 'conv2' (Conv2d): expects 4 input channels")
        checkError("Net(\n  (conv1): Conv2d(1, 8, kernel_size=(3, 3), stride=x)\n)\n", contains: "stride=x: expected N or (H, W)")
        checkError("Net(\n  (block): Sequential(\n    (0): ReLU()\n  garbage here\n)\n", contains: "test.md:4: error: cannot read module line 'garbage here'")
        checkError("Net(\n  (p): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=2, ceil_mode=True)\n)\n", contains: "dilation=2: dilated pooling is not supported")
    }

    func testPublishedTotalMismatch() throws {
        let text = Self.net + Self.forward + "\nTotal trainable parameters: 1,000\n"
        guard let r = checkOK(text) else { return }
        XCTAssertFalse(r.ok)
        XCTAssertEqual(r.problems.first?.line, text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("Total trainable") }.map { $0 + 1 })
        XCTAssertTrue(r.problems.first?.message.contains("declared 1,000") ?? false)
    }

    /// A count that leaves modules out is not the model's total. The prose lines are verbatim from
    /// a GitHub README (IMDB TextCNN and GRU; index file id 38540928600); the GRU repr has its
    /// `(encoder):` parenthesis restored (as published it is unreadable: PyTorchCorpusTests).
    func testPublishedCountExcludingModulesIsNotATotal() throws {
        func totals(_ text: String) -> DeclaredTotals {
            var partial: [Int] = []
            return PyTorchBuilder.publishedTotals(Document(text: text, path: "t.md"), skipping: [], partial: &partial).0
        }
        XCTAssertEqual(totals("\tTotal number of parameters (excluding the embedding layer): 360,902\n"), DeclaredTotals())
        XCTAssertEqual(totals("  Total number of parameters (excluding the embedding layer): 165,378\n"), DeclaredTotals())
        XCTAssertEqual(totals("Total number of parameters: 21,840\n"), DeclaredTotals(total: 21_840))
        let gru = """
          GruImdbSA (
              (encoder): Embedding(84546, 300), weights=((84546, 300),), parameters=25363800
              (gru): GRU(300, 128), weights=((384, 300), (384, 128), (384,), (384,)), parameters=165120
              (decoder): Linear (128 -> 2), weights=((2, 128), (2,)), parameters=258
          )

          Total number of parameters (excluding the embedding layer): 165,378

        ```modelc
        input: shape=200
        layer gru: output=last
        ```
        """
        let r = try XCTUnwrap(checkOK(gru))
        XCTAssertTrue(r.ok, "\(r.problems)")   // was: "total params: computed 25,529,178, declared 165,378"
        XCTAssertEqual(r.ir.frameworkParamCount, 25_363_800 + 165_120 + 258)
        XCTAssertNil(r.ir.declared.total)
        XCTAssertTrue(r.ir.assumptions.contains("line 7: a parameter count that leaves modules out, not compared with the model's"), "\(r.ir.assumptions)")
    }

    static let summary = """
    ----------------------------------------------------------------
            Layer (type)               Output Shape         Param #
    ================================================================
                Conv2d-1           [-1, 32, 26, 26]             320
                Conv2d-2           [-1, 64, 24, 24]          18,496
                Conv2d-3          [-1, 128, 10, 10]          73,856
               ConvBlock-4        [-1, 128, 10, 10]               0
           BatchNorm2d-5          [-1, 128, 10, 10]             256
                Linear-6                   [-1, 50]         640,050
                Linear-7                   [-1, 10]             510
    ================================================================
    Total params: 733,488
    Trainable params: 733,488
    Non-trainable params: 0
    ----------------------------------------------------------------
    """

    func testTorchSummaryHiddenCalls() throws {
        guard let r = checkOK(Self.summary) else { return }
        XCTAssertEqual(r.layout, "torchsummary")
        XCTAssertTrue(r.ok, "\(r.problems)\n\(r.text())")
        XCTAssertEqual(r.ir.frameworkParamCount, 733_488)
        XCTAssertEqual(r.ir.bufferCount, 256)
        // 24 -> 12 before Conv2d-3: a hidden 2x2 max pool; the 12,800-vector before Linear-6: a hidden flatten.
        let names = r.ir.layers.map(\.name)
        XCTAssertEqual(names.firstIndex(of: "max_pool2d").map { names[$0 + 1] }, "Conv2d-3")
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("hidden max_pool2d(2) before Conv2d-3") })
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("torchsummary shows no activation rows") })
        XCTAssertFalse(names.contains("ConvBlock-4"))   // container row skipped
        XCTAssertTrue(r.ir.layers.contains { $0.notes.contains { $0.contains("container row ConvBlock-4") } })
    }

    func testTorchSummaryVariants() throws {
        // Collapsed whitespace, tensor(...) totals, counts without commas, padding inferred.
        let text = """
        Layer (type) Output Shape Param #
        Conv2d-1 [-1, 16, 32, 32] 448
        ReLU-2 [-1, 16, 32, 32] 0
        MaxPool2d-3 [-1, 16, 16, 16] 0
        Flatten-4 [-1, 4096] 0
        Linear-5 [-1, 10] 40970
        Total params: tensor(41418)
        Trainable params: tensor(41418)
        Non-trainable params: tensor(0)
        """
        guard let r = checkOK(text) else { return }
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [32, 32, 3])
        guard case .conv2d(let c)? = r.layer("Conv2d-1")?.op else { return XCTFail() }
        XCTAssertEqual([c.kernelH, c.explicitPadH], [3, 1])
        XCTAssertEqual(r.ir.layers.filter { $0.op == .activation(.relu) }.count, 1)   // rows shown: nothing inserted
    }

    /// A table pasted into Python comments, `# ` before every line (its rules too), reads as the
    /// bare table; it used to fall to the Keras reader ("cannot read output shape '[-1, 32, 26, 26]'").
    func testTorchSummaryAsPythonComments() throws {
        let hashed = Self.summary.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }.joined(separator: "\n")
        let r = try XCTUnwrap(checkOK(hashed))
        XCTAssertEqual(r.layout, "torchsummary")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.frameworkParamCount, 733_488)
        XCTAssertEqual(r.ir.declared.total, 733_488)
        // A bare `#` line is a blank line of the comment block.
        let blank = hashed.replacingOccurrences(of: "# ================================================================\n#",
                                                with: "# ================================================================\n#\n#")
        XCTAssertEqual(checkOK(blank)?.ir.frameworkParamCount, 733_488)
    }

    func testTorchSummaryErrors() {
        let bad = Self.summary.replacingOccurrences(of: "640,050", with: "640,051")
        checkError(bad, contains: "Linear-6: 640,051 params for 50 outputs")
        let unsupported = Self.summary.replacingOccurrences(of: "BatchNorm2d-5", with: "  GroupNorm-5")
        checkError(unsupported, contains: "GroupNorm-5: GroupNorm's num_groups is not printed in a summary table; annotate `layer GroupNorm-5: groups=G`")
        // A mismatching footer is a problem, not an error.
        guard let r = checkOK(Self.summary.replacingOccurrences(of: "Total params: 733,488", with: "Total params: 733,489")) else { return }
        XCTAssertFalse(r.ok)
        XCTAssertTrue(r.problems.contains { $0.message.contains("declared 733,489") && $0.line == 12 })
    }

    func testReprAndSummaryReconciled() throws {
        let repr = """
        Net(
          (conv1): Conv2d(1, 10, kernel_size=(5, 5), stride=(1, 1))
          (fc1): Linear(in_features=1440, out_features=10, bias=True)
        )
        """
        let table = """
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv2d-1           [-1, 10, 24, 24]             260
                    Linear-2                   [-1, 10]          14,410
        ================================================================
        Total params: 14,670
        Trainable params: 14,670
        Non-trainable params: 0
        """
        guard let r = checkOK(repr + "\n" + table + "\n<!-- modelc\nforward: conv1 relu maxpool(2) flatten fc1\n-->\n") else { return }
        XCTAssertEqual(r.layout, "pytorch-repr+torchsummary")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("conv1")?.stateDictTensors.first?.key, "conv1.weight")   // repr names win
        let other = repr.replacingOccurrences(of: "kernel_size=(5, 5)", with: "kernel_size=(3, 3)")
            .replacingOccurrences(of: "1440", with: "1690")
        checkError(other + "\n" + table + "\n<!-- modelc\nforward: conv1 relu maxpool(2) flatten fc1\n-->\n",
                   contains: "the repr and the torchsummary table disagree: module 'conv1' (Conv2d) gives [10, 26, 26] with 100 params, the table's Conv2d-1 [10, 24, 24] with 260")
    }

    func testCheckShowsEveryTrainingSetting() throws {
        let text = Self.net + Self.forward + """

        ```modelc
        train: optimizer=adadelta lr=1.0 rho=0.9 epsilon=1e-6 schedule=step:1:0.7 batch=64 epochs=14 weight_decay=0.0005
        train: val_split=0 early_stopping=drop-after:10 augment_shift=2 augment_rotate=10 seed=7 loss=margin
        dataset: fashion-mnist
        input: scale=1/255 offset=-0.5
        ```
        """
        guard let r = checkOK(text) else { return }
        let t = r.text()
        for s in ["optimizer=adadelta rho=0.9 epsilon=1e-06", "lr=1 schedule=step:1:0.7 batch=64 epochs=14",
                  "loss=margin weight_decay=0.0005 val_split=0 early_stopping=drop-after:10",
                  "augment_shift=2 augment_rotate=10 seed=7", "p * 0.003921569 + -0.5", "Dataset: fashion-mnist", "Ankle boot"] {
            XCTAssertTrue(t.contains(s), "text lacks '\(s)':\n\(t)")
        }
        let j = r.json()
        for s in ["\"training\": {\"optimizer\": \"adadelta\", \"optimizer_params\": {\"rho\": 0.9, \"epsilon\": 1e-06}",
                  "\"lr\": 1, \"batch\": 64, \"epochs\": 14, \"loss\": \"margin\", \"weight_decay\": 0.0005",
                  "\"schedule\": \"step:1:0.7\", \"val_split\": 0, \"early_stopping\": \"drop-after:10\"",
                  "\"augmentation\": {\"shift\": 2, \"rotate\": 10}, \"seed\": 7}", "\"dataset\": \"fashion-mnist\"",
                  "\"input\": {\"scale\": 0.003921569, \"offset\": -0.5}", "\"semantics\": \"pytorch\"", "\"buffers\": 128",
                  "\"explicit_padding\": [1, 1]", "\"total_params\": 1404746"] {
            XCTAssertTrue(j.contains(s), "json lacks '\(s)':\n\(j)")
        }
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(j.utf8)))
    }

    func testTorchOptimDefaults() throws {
        guard let r = checkOK(Self.net + Self.forward + "\n```modelc\ntrain: optimizer=adam\n```\n") else { return }
        XCTAssertEqual(r.ir.training.epsilon, 1e-8)
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("torch.optim defaults") })
    }

    func testNonSquareNearestCandidates() {
        // Keras: a 4x1 kernel gives (25, 28, 32) but 160 params, not 161: it must be listed.
        let text = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        input_1 (InputLayer)         (None, 28, 28, 1)         0
        _________________________________________________________________
        conv2d_1 (Conv2D)            (None, 25, 28, 32)        161
        =================================================================
        """
        checkError(text, contains: "nearest: 4x1 s1 valid, bias = 160")
    }

    // MARK: - Input size inferred from the repr (issue 17)

    static let lenet5 = """
    LeNet5(
      (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
      (pool1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
      (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))
      (pool2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
      (fc1): Linear(in_features=400, out_features=120, bias=True)
      (fc2): Linear(in_features=120, out_features=84, bias=True)
      (fc3): Linear(in_features=84, out_features=10, bias=True)
    )
    """

    func testInputSizeInferredFromTheFirstLinear() throws {
        // 28x28 gives 16 x 4 x 4 = 256 features; in_features=400 = 16 x 5 x 5 needs 32x32 (33...35 fit too).
        guard let r = checkOK(Self.lenet5) else { return }
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [32, 32, 1])
        XCTAssertEqual(r.layer("fc1")?.inputShape, [400])
        let note = r.ir.layers[0].notes.joined(separator: "\n")
        XCTAssertTrue(note.contains("size 32x32 inferred"), note)
        XCTAssertTrue(note.contains("'fc1' in_features=400 is 16 channels x 5 x 5"), note)
        XCTAssertTrue(note.contains("33x33, 34x34, 35x35 fit too"), note)
        XCTAssertTrue(r.text().contains("size 32x32 inferred"))
        XCTAssertFalse(r.ir.assumptions.contains { $0.contains("28, 28") }, "\(r.ir.assumptions)")
        // An explicit input shape still wins (33x33 fits too, and is not called inferred).
        guard let a = checkOK(Self.lenet5 + "\n<!-- modelc\ninput: shape=1x33x33\n-->\n") else { return }
        XCTAssertEqual(a.ir.inputShape, [33, 33, 1])
        XCTAssertFalse(a.ir.layers[0].notes.contains { $0.contains("inferred") })
        checkError(Self.lenet5 + "\n<!-- modelc\ninput: shape=1x28x28\n-->\n", contains: "in_features=400 but the input has 256 features")
        // A forward: order fixes the structure of a repr without pool modules; the size is then solved.
        let blitz = Self.lenet5.replacingOccurrences(of: "  (pool1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n", with: "")
            .replacingOccurrences(of: "  (pool2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n", with: "")
        let fwd = "\n<!-- modelc\nforward: conv1 relu maxpool(2) conv2 relu maxpool(2) flatten fc1 relu fc2 relu fc3\n-->\n"
        guard let f = checkOK(blitz + fwd) else { return }
        XCTAssertEqual(f.ir.inputShape, [32, 32, 1])
        XCTAssertTrue(f.ok)
    }

    func testInputSizeOfAFullyConvolutionalDiscriminator() throws {
        let text = try Fixtures.text("pytorch/repr_dcgan_discriminator_notebook.txt")
        guard let r = checkOK(text) else { return }
        XCTAssertEqual(r.ir.inputShape, [64, 64, 3])
        XCTAssertEqual(r.layer("main.11")?.outputShape, [1, 1, 1])
        XCTAssertEqual(r.ir.frameworkParamCount, 2_765_568)
        XCTAssertTrue(r.ir.layers[0].notes.contains { $0.contains("every kernel fits (output [1, 1, 1])") }, "\(r.ir.layers[0].notes)")
    }

    func testInputSizeNotInferredWhenPoolingMayBeHidden() {
        // No pool module and no stride: forward() may pool (the 60-minute-blitz LeNet does).
        let noPools = Self.lenet5.split(separator: "\n").filter { !$0.contains("MaxPool2d") }.joined(separator: "\n")
        checkError(noPools, contains: "the repr declares no pooling module and no strided Conv2d, so forward() may call max_pool2d")
        checkError(noPools, contains: "a [1, 13, 13] input fits the declared order alone (annotate `input: shape=1xHxW` or `forward: ...`)")
        // One pool module for two convolutions: it may be called after each.
        let onePool = Self.lenet5.replacingOccurrences(of: "(pool1)", with: "(pool)")
            .split(separator: "\n").filter { !$0.contains("(pool2)") }.joined(separator: "\n")
        checkError(onePool, contains: "the one pool module 'pool' may be called after each of the 2 Conv2d modules")
        // No size fits at all.
        checkError(Self.lenet5.replacingOccurrences(of: "in_features=400", with: "in_features=401"),
                   contains: "no square input from 1x1 to 512x512 fits the modules either")
    }

    func testMutatedPyTorchDescriptionsNeverCrash() throws {
        var bases = [Self.net + Self.forward, Self.summary]
        for f in ["legacy_morvan_cnn_tab_indent.txt", "repr_nested_sequential_logger_prefix.txt", "ts_convblock_container_rows.txt",
                  "ts_misaligned_indent_bn1d_gap.txt", "repr_simplecnn_korean_relu_last.txt"] {
            bases.append(try Fixtures.text("pytorch/" + f))
        }
        var rng = MutationTests.RNG(state: 7)
        var verdicts = 0, errors = 0
        for i in 0..<1500 {
            let text = MutationTests.mutate(bases[i % bases.count], &rng)
            do { _ = try Frontend.check(text: text, path: "m.md"); verdicts += 1 } catch is ModelError { errors += 1 }
        }
        XCTAssertEqual(verdicts + errors, 1500)
        XCTAssertGreaterThan(verdicts, 0)
        XCTAssertGreaterThan(errors, 0)
    }
}

/// The PyTorch model in models/ checks cleanly with the forward order of pytorch/examples.
final class PyTorchModelFileTests: XCTestCase {
    func testPytorchExamplesNetModelFile() throws {
        let path = URL(fileURLWithPath: Fixtures.root).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/pytorch_mnist_examples_net.md").path
        let r = try Frontend.check(path: path)
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.name, "pytorch_mnist_examples_net")
        XCTAssertEqual(r.ir.semantics, .pytorch)
        XCTAssertEqual(r.ir.frameworkParamCount, 1_199_882)
        XCTAssertEqual(r.ir.declared.total, 1_199_882)
        XCTAssertEqual(r.ir.layers.map(\.kind), ["Input", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Dropout", "Flatten",
                                                  "Linear", "ReLU", "Dropout", "Linear", "LogSoftmax"])
        XCTAssertEqual(r.ir.training.optimizer, .adadelta)
        XCTAssertEqual(r.ir.training.schedule, .step(every: 1, gamma: 0.7))
        XCTAssertEqual(r.ir.training.batchSize, 64)
        XCTAssertEqual(r.ir.inputOffset, -0.42421292, accuracy: 1e-6)
        XCTAssertTrue(r.ir.assumptions.isEmpty, "\(r.ir.assumptions)")
    }
}

/// Depthwise Conv2d (groups = in_channels, as in MobileNet's blocks): from a repr and inferred
/// from a torchsummary row's count; other groupings are refused. The numerics are the
/// pytorch_conv_bn fixture's (conv2: groups=4, 8 filters).
final class PyTorchDepthwiseTests: XCTestCase {
    func testReprGroupsAreDepthwiseOrRefused() throws {
        func repr(_ conv: String) -> String {
            "Net(\n  (conv1): Conv2d(3, 6, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n  (dw): \(conv)\n"
                + "  (pw): Conv2d(12, 16, kernel_size=(1, 1), stride=(1, 1))\n  (fc): Linear(in_features=16, out_features=2, bias=True)\n)\n"
                + "```modelc\ninput: shape=3x8x8\nforward: conv1 relu dw relu pw relu maxpool(8) flatten fc\n```\n"
        }
        let r = try XCTUnwrap(checkOK(repr("Conv2d(6, 12, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=6, bias=False)")))
        guard case .depthwiseConv2d(let a, let m)? = r.layer("dw")?.op else { return XCTFail("\(String(describing: r.layer("dw")?.op))") }
        XCTAssertEqual(m, 2)
        XCTAssertFalse(a.useBias)
        XCTAssertEqual(r.layer("dw")?.paramTensors.map(\.count).reduce(0, +), 12 * 9)
        XCTAssertEqual(r.layer("dw")?.stateDictTensors.first?.shape, [12, 1, 3, 3], "PyTorch's depthwise weight layout")
        checkError(repr("Conv2d(6, 12, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=2)"),
                   contains: "groups=2: only depthwise grouped convolutions (groups = in_channels = 6, out_channels a multiple of it) are supported")
        checkError(repr("Conv2d(6, 12, kernel_size=(3, 3), stride=(1, 1), padding=(2, 2), dilation=(2, 2), groups=6)"),
                   contains: "dilation=2 with groups=6: dilated depthwise convolutions are not supported")
        // Sizes are checked before the grouping (a remainder by zero once crashed here).
        checkError(repr("Conv2d(0, 12, kernel_size=(3, 3), groups=0)"), contains: "implausible sizes")
        checkError(repr("Conv2d(6, 12, 3, 1, 1, 1, 6, True, 'reflect')"), contains: "padding_mode='reflect': only zero padding is supported")
    }

    func testTorchSummaryDepthwiseRowIsInferredFromItsCount() throws {
        let t = """
        ```modelc
        input: shape=3x8x8
        ```
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv2d-1              [-1, 6, 8, 8]             168
                    Conv2d-2              [-1, 6, 8, 8]              60
                    Conv2d-3             [-1, 16, 8, 8]             112
                    Linear-4                   [-1, 2]           2,050
        ================================================================
        """
        let r = try XCTUnwrap(checkOK(t))
        guard case .depthwiseConv2d(_, let m)? = r.layer("Conv2d-2")?.op else { return XCTFail("\(String(describing: r.layer("Conv2d-2")?.op))") }
        XCTAssertEqual(m, 1)
        XCTAssertTrue(r.layer("Conv2d-2")?.notes.contains { $0.hasPrefix("groups=6 (depthwise) inferred") } ?? false, "\(r.layer("Conv2d-2")?.notes ?? [])")
        // A table without activation rows: a ReLU after the depthwise layer too.
        let names = r.ir.layers.map(\.name)
        XCTAssertEqual(names.firstIndex(of: "Conv2d-2").map { names[$0 + 1] }, "relu_2", "\(names)")
    }

    /// A count both readings give: the ungrouped one, the depthwise named; `groups=` picks it.
    func testAmbiguousCountsNameTheDepthwiseReadingAndTakeGroups() throws {
        func table(_ annotation: String) -> String {
            """
            ```modelc
            input: shape=3x8x8
            \(annotation)
            ```
            ----------------------------------------------------------------
                    Layer (type)               Output Shape         Param #
            ================================================================
                        Conv2d-1              [-1, 3, 8, 8]              30
                          ReLU-2              [-1, 3, 8, 8]               0
                        Linear-3                   [-1, 2]             386
            ================================================================
            """
        }
        let plain = try XCTUnwrap(checkOK(table("")))
        guard case .conv2d = plain.layer("Conv2d-1")?.op else { return XCTFail("\(String(describing: plain.layer("Conv2d-1")?.op))") }
        XCTAssertTrue(plain.layer("Conv2d-1")?.notes.contains { $0.contains("a depthwise Conv2d (groups=3) prints the same shapes and count") } ?? false,
                      "\(plain.layer("Conv2d-1")?.notes ?? [])")
        // A glob's groups= (meant for GroupNorm rows) does not reach Conv2d rows.
        XCTAssertNotNil(checkOK(table("layer *: groups=2")))
        checkError(table("layer Conv2d-1: groups=2"), contains: "Conv2d-1: groups=2: only 1 or depthwise (groups = in_channels = 3) is supported")
        let grouped = try XCTUnwrap(checkOK(table("layer Conv2d-1: groups=3")))
        guard case .depthwiseConv2d(let a, 1)? = grouped.layer("Conv2d-1")?.op else { return XCTFail("\(String(describing: grouped.layer("Conv2d-1")?.op))") }
        XCTAssertEqual([a.kernelH, a.kernelW, a.explicitPadH ?? -1], [3, 3, 1])
    }
}

/// ReLU6 (MobileNetV2's activation) from a repr, a torchsummary row, ONNX's Clip(0, 6), Keras's
/// `relu6` and ReLU(max_value=6); other clips are refused. The numerics are the pytorch_conv1d
/// fixture's (act2) and the ONNX padded_pools fixture's.
final class CappedReluTests: XCTestCase {
    func testReLU6Everywhere() throws {
        let repr = "Net(\n  (conv): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))\n  (act): ReLU6(inplace=True)\n"
            + "  (fc): Linear(in_features=2704, out_features=2, bias=True)\n)\n"
        XCTAssertEqual(checkOK(repr)?.layer("act")?.op, .activation(.cappedRelu(max: 6)))
        let table = """
        ```modelc
        input: shape=1x8x8
        ```
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv2d-1              [-1, 4, 6, 6]              40
                     ReLU6-2              [-1, 4, 6, 6]               0
                    Linear-3                   [-1, 2]             290
        ================================================================
        """
        XCTAssertEqual(checkOK(table)?.layer("ReLU6-2")?.op, .activation(.cappedRelu(max: 6)))
        XCTAssertEqual(try KerasConfigLayers.activation(JNode(value: .string("relu6"), path: "activation", file: "t.keras"), keras3: true), .cappedRelu(max: 6))
        XCTAssertEqual(Describe.activation(.cappedRelu(max: 6)), "relu6")
        // F.relu6 in forward:, and a Keras table's ReLU row (its max_value is not printed: noted, annotatable).
        let functional = "Net(\n  (conv): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))\n  (fc): Linear(in_features=2704, out_features=2, bias=True)\n)\n"
            + "```modelc\nforward: conv relu6 flatten fc\n```\n"
        XCTAssertEqual(checkOK(functional)?.layer("relu6")?.op, .activation(.cappedRelu(max: 6)))
        let keras = InferenceTests.table([("input_1", "InputLayer", "28, 28, 1", 0), ("conv2d_1", "Conv2D", "26, 26, 8", 80),
                                          ("re_lu_1", "ReLU", "26, 26, 8", 0), ("flatten_1", "Flatten", "5408", 0), ("dense_1", "Dense", "10", 54090)])
        let plain = try XCTUnwrap(checkOK(keras))
        XCTAssertEqual(plain.layer("re_lu_1")?.op, .activation(.relu))
        XCTAssertTrue(plain.ir.assumptions.contains { $0.contains("re_lu_1: ReLU max_value none") }, "\(plain.ir.assumptions)")
        XCTAssertEqual(checkOK(keras + "\n```modelc\nlayer re_lu_1: activation=relu6\n```\n")?.layer("re_lu_1")?.op, .activation(.cappedRelu(max: 6)))
        XCTAssertEqual(checkOK(keras + "\n```modelc\nlayer re_lu_1: max_value=4.5\n```\n")?.layer("re_lu_1")?.op, .activation(.cappedRelu(max: 4.5)))
        checkError(keras + "\n```modelc\nlayer conv2d_1: max_value=6\n```\n", contains: "has no 'max_value' setting")
        checkError(keras + "\n```modelc\nlayer re_lu_1: max_value=0\n```\n", contains: "max_value=0: expected a number above 0 (a ReLU's cap)")
        checkError(keras + "\n```modelc\nlayer re_lu_1: activation=tanh\n```\n", contains: "has no 'activation' setting")
    }

    func testONNXClipIsACappedReluOrRefused() throws {
        func clip(_ attrs: [[UInt8]], opset: Int = 10) -> [UInt8] {
            PB.model(nodes: [PB.node("Clip", ["x"], ["y"], attrs: attrs)], initializers: [], input: [1, 4], opset: opset)
        }
        func op(_ bytes: [UInt8]) throws -> Op? { try Frontend.checkONNX(bytes: bytes, path: "t.onnx").ir.layers.last?.op }
        XCTAssertEqual(try op(clip([PB.attr("min", float: 0), PB.attr("max", float: 6)])), .activation(.cappedRelu(max: 6)))
        XCTAssertEqual(try op(clip([PB.attr("min", float: 0)])), .activation(.relu))
        XCTAssertThrowsError(try op(clip([PB.attr("min", float: -1), PB.attr("max", float: 1)]))) {
            XCTAssertTrue("\($0)".contains("only Clip(0, max)"), "\($0)")
        }
        let vector = PB.model(nodes: [PB.node("Clip", ["x", "lo", "hi"], ["y"])], initializers: [PB.tensor("lo", [2], [0, 0]), PB.tensor("hi", [], [6])],
                              input: [1, 4], opset: 13)
        XCTAssertThrowsError(try op(vector)) { XCTAssertTrue("\($0)".contains("min has 2 values: expected a scalar"), "\($0)") }
        let opset11 = PB.model(nodes: [PB.node("Clip", ["x", "lo", "hi"], ["y"])], initializers: [PB.tensor("lo", [], [0]), PB.tensor("hi", [], [6])],
                               input: [1, 4], opset: 13)
        XCTAssertEqual(try op(opset11), .activation(.cappedRelu(max: 6)))
    }
}
