// Several output heads (issue 17): a functional table whose graph has several layers that no
// other layer reads (Keras `Model(inputs, [out_a, out_b])`).
//
// Before: a resolved graph IR (producers set, semantic defaults applied, so each head's final
//         activation is known) and the annotations' `head NAME: loss=KIND weight=W` lines.
// After:  `ModelIR.heads` lists the heads in table order, each with its loss and weight:
//         - loss: the annotation's, else from the head's final activation: softmax or sigmoid
//           gives crossentropy (categorical, or binary on a sigmoid), anything else mse
//           (Keras needs a loss per output; these are the usual ones);
//         - weight: the annotation's, else 1; the training loss is sum_h weight_h * loss_h,
//           as Keras's `loss_weights`.
//         nil when the model has one output; a `head` annotation then is an error, as is one
//         naming a layer that is not a head, a margin loss on a head, or `train: target=input`.
// The backend joins the heads into one output vector (Backend/MultiHeadJoin.swift); the runtime
// reads one target array per head, named after the head (ModelcRuntime/OutputHeads.swift).

public struct ModelHead: Equatable, Codable, Sendable {
    /// Position of the head's layer in `ModelIR.layers`.
    public var layer: Int
    public var name: String
    public var loss: LossKind
    /// Weight of this head's loss in the training loss (Keras loss_weights).
    public var weight: Float
    public init(layer: Int, name: String, loss: LossKind, weight: Float) {
        self.layer = layer; self.name = name; self.loss = loss; self.weight = weight
    }
}

/// `head NAME: loss=KIND weight=W`.
struct HeadDirective: Equatable {
    var name: String
    var line: Int
    var loss: LossKind?
    var weight: Float?
}

enum ModelHeads {
    /// Most output heads of one model.
    static let maxHeads = 64

    /// Positions of the layers nothing reads, in order (the last layer is always one); an Input
    /// layer nothing reads is no output (IR/ModelInputs.swift refuses it).
    static func outputs(_ layers: [Layer]) -> [Int] {
        layers.consumers.enumerated().filter { $0.element.isEmpty && layers[$0.offset].op != .input }.map(\.offset)
    }

    /// The layers whose default activation is a head's (softmax or sigmoid): each output layer,
    /// or the layer below when the output is a Dropout.
    static func headLayers(_ layers: [Layer]) -> Set<Int> {
        var out = Set<Int>()
        for var i in outputs(layers) {
            while i > 0, case .dropout = layers[i].op { i = layers.producers(of: i).first ?? 0 }
            out.insert(i)
        }
        return out
    }

    /// The activation a layer ends with (a standalone activation or one folded into it).
    static func finalActivation(_ l: Layer) -> Activation {
        switch l.op {
        case .activation(let a), .dense(_, _, let a): return a
        case .conv2d(let a), .separableConv2d(let a, _), .depthwiseConv2d(let a, _), .conv2dTranspose(let a, _, _): return a.activation
        default: return .linear
        }
    }

    /// A compiled model's output softmax is taken over the whole output, as one classifier's
    /// classes. A softmax that ran over each step or pixel (its output has more than one row of
    /// the last axis, e.g. Dense(softmax) on (10, 8) or a 1x1 Conv2D(softmax) per pixel; also
    /// when a Flatten, Reshape or Dropout follows it) is not one: the code generator refuses it
    /// (the line and message), rather than compile a different model. The table still checks.
    static func perRowOutputSoftmax(_ ir: ModelIR) -> (line: Int, message: String)? {
        for out in outputs(ir.layers) {
            var i = out
            while i > 0, reshapesOnly(ir.layers[i].op), let p = ir.layers.producers(of: i).first { i = p }
            let l = ir.layers[i]
            guard finalActivation(l) == .softmax, l.outputShape.count > 1 else { continue }
            let rows = l.outputShape.dropLast().reduce(1, *)
            guard rows > 1 else { continue }
            // A softmax modelc assumed (the table prints no activation) may be a generator's tanh
            // or an autoencoder's sigmoid: say so, with the way out.
            let assumed = ir.assumptions.contains { a in
                a.contains("softmax") && (a.split(separator: ":").first?.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == l.name } ?? false)
            }
            return (l.line, "layer \(l.name): a softmax over each of the \(rows) rows of its output \(ResourceLimits.shapeText(l.outputShape)) "
                + "(per step or per pixel) feeds the model's output; the code generator's classifier heads take one softmax over the whole "
                + "output, so this model cannot be compiled"
                + (assumed ? " (the softmax is modelc's assumption, the table prints no activation: annotate `layer \(l.name): activation=...`, e.g. sigmoid, tanh or linear)" : ""))
        }
        return nil
    }

    static func reshapesOnly(_ op: Op) -> Bool {
        switch op {
        case .flatten, .reshape, .dropout: return true
        default: return false
        }
    }

    /// Sets `ir.heads` (see the top of the file).
    /// `order`: the outputs' names in the framework's order (a Keras file's `output_layers`);
    /// empty: table order.
    static func resolve(_ ir: inout ModelIR, annotations ann: Annotations, document doc: Document, order: [String] = []) throws {
        var outs = outputs(ir.layers)
        if !order.isEmpty { outs.sort { (order.firstIndex(of: ir.layers[$0].name) ?? .max) < (order.firstIndex(of: ir.layers[$1].name) ?? .max) } }
        guard outs.count > 1 else {
            if let d = ann.heads.first {
                throw doc.error(d.line, "head '\(d.name)': the model has one output ('\(ir.layers.last?.name ?? "")'); `head` annotations are for models with several outputs (use `train: loss=...`)")
            }
            return
        }
        guard outs.count <= maxHeads else {
            throw doc.error(ir.layers[outs[maxHeads]].line, "the model has \(outs.count) outputs (layers nothing reads); at most \(maxHeads) are supported")
        }
        let names = outs.map { ir.layers[$0].name }
        for d in ann.heads where !names.contains(d.name) {
            throw doc.error(d.line, "head '\(d.name)' is not an output of the model (its outputs, the layers nothing reads: \(names.joined(separator: ", ")))")
        }
        if ir.training.targetIsInput {
            throw doc.error(ir.layers[outs[0]].line, "train: target=input takes the inputs as the one output's targets; this model has \(outs.count) outputs (\(names.joined(separator: ", ")))")
        }
        var heads: [ModelHead] = []
        for p in outs {
            let l = ir.layers[p]
            let d = ann.heads.last { $0.name == l.name }
            let loss = d?.loss ?? defaultLoss(finalActivation(l))
            if loss == .multiMargin {
                throw doc.error(d?.line ?? l.line, "head '\(l.name)': loss margin is not available on one of several heads (use crossentropy, mse, ...)")
            }
            heads.append(ModelHead(layer: p, name: l.name, loss: loss, weight: d?.weight ?? 1))
            if d?.loss == nil {
                ir.assumptions.append("head \(l.name): loss \(loss.rawValue) (from its \(finalActivation(l).name) output; annotate `head \(l.name): loss=... weight=...`)")
            }
        }
        ir.heads = heads
        ir.classNames = []   // the heads' values are not one classifier's classes
        ir.assumptions.removeAll { $0.hasPrefix("classes:") }
    }

    /// The report's lines on the heads (nothing for one output).
    static func report(_ ir: ModelIR) -> String {
        guard let hs = ir.heads else { return "" }
        return "Heads (\(hs.count) outputs; the training loss is the sum of weight x loss; data: x and one array per head):\n"
            + hs.map { "  \($0.name) \(Inference.shapeText(ir.layers[$0.layer].outputShape)): loss=\($0.loss.rawValue) weight=\($0.weight)\n" }.joined()
    }

    static func defaultLoss(_ a: Activation) -> LossKind {
        a == .softmax || a == .sigmoid ? .crossEntropy : .meanSquaredError
    }

    /// Parses `head NAME: loss=KIND weight=W`.
    static func directive(_ words: [String], _ rest: String, line: Int, doc: Document) throws -> HeadDirective {
        guard words.count == 2 else { throw doc.error(line, "expected 'head NAME: loss=KIND weight=W' (NAME: an output layer)") }
        var d = HeadDirective(name: words[1], line: line)
        for (k, v) in try AnnotationParser.tokens(rest, line: line, doc: doc) {
            guard let v else { throw doc.error(line, "head \(words[1]): expected key=value, found '\(k)'") }
            switch k {
            case "loss":
                guard let l = LossKind(name: v) else { throw doc.error(line, "loss=\(v): expected one of \(LossKind.namesList)") }
                d.loss = l
            case "weight", "loss_weight":
                let w = try AnnotationParser.number(v, k, line, doc)
                guard w >= 0 else { throw doc.error(line, "weight=\(v): must be >= 0") }
                d.weight = w
            default: throw doc.error(line, "unknown head key '\(k)' (expected loss=, weight=)")
            }
        }
        return d
    }
}

extension ModelIR {
    /// An output softmax over each step or pixel, which the code generator refuses (ModelHeads).
    public var perRowOutputSoftmax: (line: Int, message: String)? { ModelHeads.perRowOutputSoftmax(self) }
}
