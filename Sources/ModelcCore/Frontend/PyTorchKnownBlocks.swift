// PyTorchKnownBlocks: the block classes of torchvision (and timm) whose forward() does more than
// call their modules in order. A repr or a table shows the modules, not that forward(), and modelc
// runs a block as the chain of its modules; for these classes that chain is another network, so
// they are refused (naming the block, what its forward() does, and the way that works: the ONNX
// export, whose graph has the addition or concatenation), never run as chains.
//
//   always          BasicBlock, Bottleneck (ResNet: x + f(x)); SqueezeExcitation, SqueezeExcite
//                   (x * scale(x)); Fire (SqueezeNet), Inception, InceptionA-E (concatenated
//                   branches); _DenseLayer, _DenseBlock (DenseNet: concatenation)
//   shape kept      InvertedResidual (MobileNetV2/V3), MBConv, FusedMBConv (EfficientNet): x + f(x)
//                   when the block keeps its input's shape (stride 1, as many channels out as in);
//                   a block that changes the shape is the chain of its modules and runs.

enum PyTorchKnownBlocks {
    static let always: [String: String] = {
        var m: [String: String] = [:]
        for t in ["BasicBlock", "Bottleneck"] { m[t] = "adds its input to its output (ResNet's residual connection)" }
        for t in ["SqueezeExcitation", "SqueezeExcite"] { m[t] = "multiplies its input by the channel weights it computes (squeeze-and-excitation)" }
        for t in ["Fire", "Inception", "InceptionA", "InceptionB", "InceptionC", "InceptionD", "InceptionE"] {
            m[t] = "concatenates the outputs of parallel branches"
        }
        for t in ["_DenseLayer", "_DenseBlock"] { m[t] = "concatenates its input with its output (DenseNet)" }
        return m
    }()
    static let residualWhenShapeKept: Set<String> = ["InvertedResidual", "MBConv", "FusedMBConv"]
    static let remedy = "a repr or table does not show that, and modelc runs a block as the chain of its modules; "
        + "give modelc the model's ONNX export (torch.onnx.export), whose graph states it"

    /// The refusal for block `type` (nil when it runs as a chain). `keepsShape`: the block's output
    /// has its input's shape (nil: unknown).
    static func refusal(_ type: String, keepsShape: Bool?) -> String? {
        if let what = always[type] { return "\(type).forward() \(what); \(remedy)" }
        guard residualWhenShapeKept.contains(type), keepsShape != false else { return nil }
        return "\(type).forward() adds its input to its output when it keeps its shape (stride 1, as many channels out as in)"
            + (keepsShape == true ? ", as this one does" : ", and the table does not show this block's input") + "; \(remedy)"
    }

    /// Repr: every container below the root, its shape kept when all its convolutions have
    /// stride 1 and the first one's input channels are the last one's output channels.
    static func check(_ root: PTModule, ops: [String: PTOp], doc: Document) throws {
        for c in root.children where c.isContainer {
            let convs = c.leaves.compactMap { ops[$0.path] }.compactMap { op -> (cin: Int, cout: Int, strided: Bool)? in
                switch op {
                case .conv(let cin, let cout, _, _, let sh, let sw, _, _, _, _, _, _, _): return (cin, cout, sh > 1 || sw > 1)
                case .conv1d(let cin, let cout, _, let s, _, _, _, _): return (cin, cout, s > 1)
                default: return nil
                }
            }
            let keeps = convs.first.map { first in convs.allSatisfy { !$0.strided } && first.cin == convs.last!.cout }
            if let why = refusal(c.type, keepsShape: keeps) {
                throw doc.error(c.line, "module '\(c.path)' (\(c.type)): \(why)")
            }
            try check(c, ops: ops, doc: doc)
        }
    }
}
