// torchvision's blocks whose forward() is not the chain of their modules (ResNet's BasicBlock
// and Bottleneck, squeeze-and-excitation, Inception, Fire, DenseNet layers; MobileNet's and
// EfficientNet's blocks when they keep their input's shape) are refused in reprs, torchinfo and
// torchsummary tables, never run as chains (PyTorchKnownBlocks.swift).

import XCTest
@testable import ModelcCore

final class KnownBlockTests: XCTestCase {
    func repr(_ block: String, _ body: String, fc: Int) -> String {
        "```modelc\ninput: shape=4x8x8\n```\n```\nNet(\n  (features): Sequential(\n    (0): \(block)(\n\(body)    )\n  )\n"
            + "  (flatten): Flatten(start_dim=1, end_dim=-1)\n  (fc): Linear(in_features=\(fc), out_features=10, bias=True)\n)\n```\n"
    }

    func conv(_ name: String, _ cin: Int, _ cout: Int, stride: Int = 1, groups: Int = 1) -> String {
        "      (\(name)): Conv2d(\(cin), \(cout), kernel_size=(3, 3), stride=(\(stride), \(stride)), padding=(1, 1)\(groups > 1 ? ", groups=\(groups)" : ""), bias=False)\n"
    }

    func testReprBlocks() {
        let basic = conv("conv1", 4, 4) + "      (relu): ReLU(inplace=True)\n" + conv("conv2", 4, 4)
        checkError(repr("BasicBlock", basic, fc: 256), contains: "module 'features.0' (BasicBlock): BasicBlock.forward() adds its input to its output (a residual connection)")
        let se = "      (avgpool): AdaptiveAvgPool2d(output_size=1)\n      (fc1): Conv2d(4, 2, kernel_size=(1, 1), stride=(1, 1))\n"
            + "      (fc2): Conv2d(2, 4, kernel_size=(1, 1), stride=(1, 1))\n      (activation): ReLU()\n      (scale_activation): Hardsigmoid()\n"
        checkError(repr("SqueezeExcitation", se, fc: 4), contains: "multiplies its input by the channel weights it computes")
        // torchvision's InvertedResidual (its layers in `conv`): one that keeps the shape adds its
        // input, refused; one with stride 2 is a chain.
        func inverted(_ stride: Int, _ cout: Int) -> String {
            "      (conv): Sequential(\n  " + conv("0", 4, 4, stride: stride, groups: 4) + "        (1): ReLU6(inplace=True)\n"
                + "        (2): Conv2d(4, \(cout), kernel_size=(1, 1), stride=(1, 1), bias=False)\n      )\n"
        }
        checkError(repr("InvertedResidual", inverted(1, 4), fc: 256),
                   contains: "adds its input to its output (a residual connection) when it keeps its shape (stride 1, as many channels out as in), as this one does; a repr or table does not show that")
        XCTAssertNotNil(checkOK(repr("InvertedResidual", inverted(2, 8), fc: 128)))
        // ShuffleNetV2's block of the same name splits and shuffles: refused at any stride.
        checkError(repr("InvertedResidual", "      (branch1): Sequential()\n      (branch2): Sequential(\n  " + conv("0", 4, 4, stride: 2) + "      )\n", fc: 64),
                   contains: "splits its channels, concatenates two branches and shuffles the channels (ShuffleNetV2)")
        // EfficientNet's MBConv: refused for what it is, before its StochasticDepth would be.
        checkError(repr("MBConv", "      (block): Sequential(\n  " + conv("0", 4, 4, groups: 4) + "      )\n      (stochastic_depth): StochasticDepth(p=0.0, mode=row)\n", fc: 256),
                   contains: "(MBConv): MBConv.forward() adds its input to its output (a residual connection) when it keeps its shape")
        // A user's own chain class with a library's name but not its children runs, as custom blocks do.
        let own = checkOK(repr("Bottleneck", "      (0): Conv2d(4, 4, kernel_size=(1, 1), stride=(1, 1))\n      (1): ReLU()\n", fc: 256))
        XCTAssertTrue(own?.ir.assumptions.contains { $0.contains("custom blocks run as chains of their modules: Bottleneck (features.0)") } ?? false, "\(own?.ir.assumptions ?? [])")
    }

    func testTableBlocks() {
        let torchinfo = """
        ```modelc
        input: shape=4x8x8
        ```
        ==========================================================================================
        Layer (type:depth-idx)                   Input Shape          Output Shape         Param #
        ==========================================================================================
        Net                                      [1, 4, 8, 8]         [1, 10]              --
        ├─InvertedResidual: 1-1                  [1, 4, 8, 8]         [1, 4, 8, 8]         --
        │    └─Conv2d: 2-1                       [1, 4, 8, 8]         [1, 4, 8, 8]         36
        │    └─ReLU6: 2-2                        [1, 4, 8, 8]         [1, 4, 8, 8]         --
        │    └─Conv2d: 2-3                       [1, 4, 8, 8]         [1, 4, 8, 8]         16
        ├─Flatten: 1-2                           [1, 4, 8, 8]         [1, 256]             --
        ├─Linear: 1-3                            [1, 256]             [1, 10]              2,570
        ==========================================================================================
        Total params: 2,622
        ==========================================================================================
        """
        checkError(torchinfo, contains: "InvertedResidual): InvertedResidual.forward() adds its input to its output (a residual connection) when it keeps its shape")
        let summary = """
        ```modelc
        input: shape=4x8x8
        ```
        ----------------------------------------------------------------
                Layer (type)               Output Shape         Param #
        ================================================================
                    Conv2d-1              [-1, 4, 8, 8]             144
                      ReLU-2              [-1, 4, 8, 8]               0
                BasicBlock-3              [-1, 4, 8, 8]               0
                    Linear-4                  [-1, 10]           2,570
        ================================================================
        """
        checkError(summary, contains: "BasicBlock-3")
        checkError(summary, contains: "adds its input to its output (a residual connection)")
    }
}
