// PyTorchKnownBlocks: the block classes of torchvision (and timm) whose forward() does more than
// call their modules in order. A repr or a table shows the modules, not that forward(), and modelc
// runs a block as the chain of its modules; for these classes that chain is another network, so
// they are refused (naming the block, what its forward() does, and the way that works: the ONNX
// export, whose graph has the addition or concatenation), never run as chains.
//
//   always          BasicBlock, Bottleneck, ResBottleneckBlock, CNBlock (x + f(x));
//                   SqueezeExcitation, SqueezeExcite (x * scale(x)); Fire, Inception,
//                   InceptionA-E (concatenated branches); _DenseLayer, _DenseBlock (DenseNet:
//                   concatenation); ShuffleNetV2's InvertedResidual (branch1/branch2: split,
//                   concatenation, channel shuffle)
//   attention       MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer,
//                   TransformerEncoder (attention over the sequence, residuals): refused by name,
//                   modelc compiles attention from Keras's MultiHeadAttention only
//   by name         a container named res1, residual, res_block2, skip... (or of a class
//                   ResidualBlock, ResBlock, Residual, ResidualUnit, ...) that keeps its
//                   input's shape (ResNet9's `self.res1(out) + out`): refused unless annotated
//                   `layer NAME: residual=false` (forward runs it as a plain chain)
//   shape kept      InvertedResidual (MobileNetV2/V3), MBConv, FusedMBConv (EfficientNet),
//                   _InvertedResidual (MNASNet), DepthwiseSeparableConv, EdgeResidual (timm):
//                   x + f(x) when the block keeps its input's shape (stride 1, as many channels
//                   out as in); a block that changes the shape is the chain of its modules and runs.
//
// In a repr a block is matched by its class and by the names of its children as those libraries
// declare them (a user's own chain class called "Bottleneck" with children 0, 1, 2 runs); a
// table shows only classes.

enum PyTorchKnownBlocks {
    struct Rule {
        let what: String
        /// Child names of the library's class (any one present; "branch*" is a prefix).
        let children: [String]
        let whenShapeKept: Bool
    }

    static let residual = "adds its input to its output (a residual connection)"
    static let rules: [String: Rule] = {
        var r: [String: Rule] = [:]
        for (t, c) in [("BasicBlock", ["conv1"]), ("Bottleneck", ["conv1"]), ("ResBottleneckBlock", ["f"]), ("CNBlock", ["block"])] {
            r[t] = Rule(what: residual, children: c, whenShapeKept: false)
        }
        r["SqueezeExcitation"] = Rule(what: "multiplies its input by the channel weights it computes (squeeze-and-excitation)", children: ["fc1"], whenShapeKept: false)
        r["SqueezeExcite"] = Rule(what: r["SqueezeExcitation"]!.what, children: ["conv_reduce", "fc1"], whenShapeKept: false)
        for t in ["Fire", "Inception", "InceptionA", "InceptionB", "InceptionC", "InceptionD", "InceptionE"] {
            r[t] = Rule(what: "concatenates the outputs of parallel branches", children: ["squeeze", "branch*"], whenShapeKept: false)
        }
        for t in ["_DenseLayer", "_DenseBlock"] {
            r[t] = Rule(what: "concatenates its input with its output (DenseNet)", children: ["conv1", "denselayer1"], whenShapeKept: false)
        }
        for (t, c) in [("InvertedResidual", ["conv", "block"]), ("MBConv", ["block"]), ("FusedMBConv", ["block"]), ("_InvertedResidual", ["layers"]),
                       ("DepthwiseSeparableConv", ["conv_dw"]), ("EdgeResidual", ["conv_exp"])] {
            r[t] = Rule(what: residual + " when it keeps its shape (stride 1, as many channels out as in)", children: c, whenShapeKept: true)
        }
        return r
    }()
    static let shuffle = Rule(what: "splits its channels, concatenates two branches and shuffles the channels (ShuffleNetV2)", children: ["branch2"], whenShapeKept: false)
    static let remedy = "a repr or table does not show that, and modelc runs a block as the chain of its modules; "
        + "give modelc the model's ONNX export (torch.onnx.export), whose graph states it"

    /// The refusal for a block of class `type` (nil when it runs as a chain). `keepsShape`: the
    /// block's output has its input's shape (nil: unknown).
    static func refusal(_ type: String, keepsShape: Bool?, rule given: Rule? = nil) -> String? {
        guard let rule = given ?? rules[type] else { return nil }
        if rule.whenShapeKept {
            guard keepsShape != false else { return nil }
            return "\(type).forward() \(rule.what)" + (keepsShape == true ? ", as this one does" : ", and this block's input shape is not shown") + "; \(remedy)"
        }
        return "\(type).forward() \(rule.what); \(remedy)"
    }

    /// Repr: every container below the root whose class and children are a library's; its shape
    /// kept when all its convolutions have stride 1 and the first one's input channels are the
    /// last one's output channels. Runs before the modules are read (an unsupported module inside,
    /// such as EfficientNet's StochasticDepth, would hide the reason).
    static let attention: Set<String> = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "Transformer"]

    /// The last part of a module path, lower-cased, names a residual block: res, res1, residual,
    /// res_block2, resblock, skip1.
    static func residualByName(_ path: String) -> Bool {
        let name = (path.split(separator: ".").last.map(String.init) ?? path).lowercased()
        let stem = String(name.reversed().drop { $0.isNumber || $0 == "_" }.reversed())
        return ["res", "residual", "resblock", "res_block", "residual_block", "skip"].contains(stem)
    }

    /// Classes that users name residual blocks (their forward adds the input).
    static let residualClasses: Set<String> = ["ResidualBlock", "ResBlock", "Residual", "ResidualUnit", "ResUnit", "ResidualLayer"]

    /// A container named or classed like a residual block that keeps its input's shape.
    static func looksResidual(_ c: PTModule, doc: Document) -> Bool {
        c.isContainer && (residualByName(c.path) || residualClasses.contains(c.type)) && keepsShape(c, doc: doc) == true
    }

    /// `layer NAME: residual=false` names a container that looksResidual (else it would say nothing).
    static func checkResidualAnnotations(_ root: PTModule, ann: Annotations, doc: Document) throws {
        for d in ann.layers where d.overrides.residual != nil {
            guard let c = root.find(d.pattern), looksResidual(c, doc: doc) else {
                throw doc.error(d.line, "layer \(d.pattern): residual=false applies to a container named or classed like a residual block that keeps its input's shape; '\(d.pattern)' is none")
            }
        }
    }

    static func check(_ root: PTModule, ann: Annotations = Annotations(), doc: Document) throws {
        for c in root.children where c.isContainer {
            if looksResidual(c, doc: doc), ann.overrides(for: c.path).residual == nil {
                throw doc.error(c.line, "module '\(c.path)' (\(c.type)) is named as a residual block and keeps its input's shape: forward() may add its input to its output "
                    + "('\(c.path)(x) + x', as ResNet9 does), which a repr does not show and `forward:` cannot state; if forward() runs it as a plain chain, "
                    + "annotate `layer \(c.path): residual=false`; else \(remedy)")
            }
            if attention.contains(c.type) {
                throw doc.error(c.line, "module '\(c.path)' (\(c.type)): PyTorch's attention modules are not supported (their forward() attends over the sequence and adds residual connections, which a repr does not show); modelc compiles attention from Keras's MultiHeadAttention (tables, .keras, .h5)")
            }
            let names = Set(c.children.map { $0.path.split(separator: ".").last.map(String.init) ?? $0.path })
            func has(_ rule: Rule) -> Bool {
                rule.children.contains { n in n.hasSuffix("*") ? names.contains { $0.hasPrefix(String(n.dropLast())) } : names.contains(n) }
            }
            var rule = rules[c.type].flatMap { has($0) ? $0 : nil }
            if c.type == "InvertedResidual", has(shuffle) { rule = shuffle }
            if let rule, let why = refusal(c.type, keepsShape: keepsShape(c, doc: doc), rule: rule) {
                throw doc.error(c.line, "module '\(c.path)' (\(c.type)): \(why)")
            }
            try check(c, ann: ann, doc: doc)
        }
    }

    /// Whether block `c` keeps its input's shape, from its convolutions (nil without any).
    static func keepsShape(_ c: PTModule, doc: Document) -> Bool? {
        let convs = c.leaves.compactMap { try? PyTorchModules.op($0, doc: doc) }.compactMap { op -> (cin: Int, cout: Int, strided: Bool)? in
            switch op {
            case .conv(let cin, let cout, _, _, let sh, let sw, _, _, _, _, _, _, _): return (cin, cout, sh > 1 || sw > 1)
            case .conv1d(let cin, let cout, _, let s, _, _, _, _): return (cin, cout, s > 1)
            default: return nil
            }
        }
        guard let first = convs.first, let last = convs.last else { return nil }
        return convs.allSatisfy { !$0.strided } && first.cin == last.cout
    }
}
