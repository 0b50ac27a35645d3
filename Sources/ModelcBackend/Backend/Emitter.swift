// The Swift emitter: one ModelIR in, one Swift source file out.
//
// Before: a checked ModelIR (every hyperparameter and shape resolved, counts verified).
// After:  the source of `public final class <ClassName>: CompiledModel` whose buffers are
//         allocated once in `init(maxBatch:)` and whose forward/backward passes are per-layer
//         functions with every size a literal (Backend/Ops/<Op>Emitter.swift write them).
//         The final softmax is stripped (outputs are logits, `endsWithSoftmax`).
//
// Execution: activations are NHWC, one buffer per layer output (`a<i>`, its gradient `g<i>`),
// Flatten/Reshape/identity alias their input. Training splits the batch into `threads` chunks
// (WorkerPool: persistent spinning workers); steps that need batch-wide sums (BatchNorm in
// training) are "serial" steps between parallel regions. Weight gradients are written per
// chunk into `partials` (one parameter-sized slice per thread) and summed at the end in chunk
// order. Batch inference hands out blocks of images dynamically (`Parallel.images`), after the
// Winograd weight transforms (`inferencePrologue`; training: `trainingPrologue`, and for input
// gradients `backwardPrologue`); one image (`forwardSingle`) splits the big layers' output rows
// over the threads with the direct kernels (or, from WinogradConv.singleImageMinimumTiles
// Winograd tiles on, the tiles).

import Foundation
import ModelcCore

public struct EmittedModel: Sendable {
    public let className: String
    /// `<ClassName>.swift`
    public let fileName: String
    /// Directory under generated/: the model name.
    public let directoryName: String
    public let source: String
    /// The Conv2D layers that use Winograd (forward, input gradient), in order.
    public var winogradLayers: [WinogradLayer] = []
    /// The lowering pass's plan, with the buffers every layer declared.
    public var plan = LoweringPlan(layers: [])
}

/// A Conv2D that uses Winograd, its form ("F(3x3, 5x5)"), and where: the forward (batch
/// inference and training) and/or the input gradient (training backward).
public struct WinogradLayer: Sendable, Equatable {
    public let name: String
    public let form: String
    public var forward = true
    public var inputGradient = false

    /// "conv2d_2 F(4x4, 3x3)", "... and its input gradient" or "conv2d_2 input gradient F(4x4, 3x3)".
    public var description: String {
        forward ? "\(name) \(form)\(inputGradient ? " and its input gradient" : "")" : "\(name) input gradient \(form)"
    }
}

extension Array where Element == WinogradLayer {
    /// "conv2d_1 F(4x4, 3x3), conv2d_2 F(4x4, 3x3) and its input gradient" (empty without Winograd layers).
    public var summary: String { map(\.description).joined(separator: ", ") }
}

/// What a layer's emitter contributes to the forward or backward pass, in order.
enum Step {
    /// Runs on every chunk: `call` is evaluated with `lo`, `hi` (image range) and `t` (chunk) in scope.
    case chunk(String)
    /// A chunk step that reads and writes only its own images' elements (a normalization with
    /// fixed statistics, pooling, dropout, an activation), or adds its images' sums into a
    /// per-chunk total that `prelude` (run once per chunk, before) zeroes: consecutive image steps
    /// run image by image (`emitSteps`), so that one image's data stays in cache from one to the next.
    case image(String, prelude: String? = nil)

    /// `call` as an image step when an image holds at least `floats` values, else a chunk
    /// step: below 1,024 floats (4 KiB) a chunk's images stay in cache anyway.
    static func imageLocal(_ call: String, floats: Int) -> Step { floats >= 1024 ? .image(call) : .chunk(call) }
    /// Runs once, between parallel regions.
    case serial(String)
    /// Single-image inference only: `call` covers output rows `q0..<q1` of image 0 with `t` in
    /// scope; the rows `0..<total` are split over the threads in multiples of `block`.
    case rows(String, total: Int, block: Int)
}

enum BufferKind { case float, int32 }

struct BufferDecl {
    var name: String
    var perImage: Int       // floats per image (times maxBatch)
    var fixed: Int          // plus a fixed count
    var perChunk: Int = 0   // plus this many per parallel chunk (times the chunk count)
    var kind: BufferKind = .float
    var comment: String
}

/// Everything one layer's emitter needs to know.
struct LayerContext {
    let index: Int
    let layer: Layer
    /// Input / output activation buffers and their gradients.
    let x: String
    let y: String
    let gx: String?         // nil: no input gradient needed (first trainable layer)
    let gy: String
    let inShape: [Int]
    let outShape: [Int]
    let activation: Activation   // activation folded into the layer (conv/dense), after softmax stripping
    let paramOffsets: [ParamTensor.Role: Int]
    let parameterCount: Int
    /// A later call of a shared layer reads its first call's tensors, `readShift` floats from its
    /// own offsets (whose slices of the gradients are its own; SharedWeights.swift); else 0.
    var readShift = 0
    /// Set on a producer when the fusion pass folded the following BatchNorm (and activation)
    /// into its inference forward.
    var fused: FusedOutput? = nil
    /// Inference: the producer of this (padded Conv2D) layer's input wrote it straight into the
    /// interior of this layer's zero-padded input buffer, so no pad copy is needed.
    var inputPrePadded = false
    /// Training fusion (Conv2D producers): the following BatchNorm's backward-data pass, which
    /// this layer's backward runs per image to get its output gradient.
    var trainingBatchNorm: BatchNormBackwardData? = nil
    /// Every input (a merge layer's several; otherwise `x`, `gx` and the input shape).
    var inputs: [LayerInput] = []

    var prefix: String { LayerContext.prefix(index, layer.name) }
    /// The prefix of a layer's functions and buffers: `l<index>_<name>` when the name is a short
    /// ASCII identifier (`l5_conv2d_2Forward`), else `l<index>`.
    static func prefix(_ index: Int, _ name: String) -> String {
        let plain = !name.isEmpty && name.count <= 40 && name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || CharacterSet.alphanumerics.contains($0)) }
        return plain ? "l\(index)_\(name)" : "l\(index)"
    }
    var inSize: Int { inShape.reduce(1, *) }
    var outSize: Int { outShape.reduce(1, *) }
    var name: String { layer.name }
    func param(_ role: ParamTensor.Role) -> String { "(parameters + \((paramOffsets[role] ?? 0) + readShift))" }
    /// The parameter array as the layer's offsets read it (a kernel given the offsets themselves).
    var parameterBase: String { readShift == 0 ? "parameters" : "(parameters \(readShift < 0 ? "-" : "+") \(abs(readShift)))" }
    func grad(_ role: ParamTensor.Role) -> String { "(gp + \(paramOffsets[role] ?? 0))" }
    func has(_ role: ParamTensor.Role) -> Bool { paramOffsets[role] != nil }
    /// Emits `let wk = <kernel>, bias = <bias>` (either part left out when not asked for), if any.
    func emitWeights(_ w: CodeWriter, kernel: Bool = true, bias: Bool) {
        let parts = (kernel ? ["wk = \(param(.kernel))"] : []) + (bias ? ["bias = \(param(.bias))"] : [])
        if !parts.isEmpty { w.line("let " + parts.joined(separator: ", ")) }
    }
    var header: String {
        "\(layer.name) (\(layer.kind)): \(shapeText(inShape)) -> \(shapeText(outShape))"
    }
}

/// One input of a layer: the producer's output buffer, the gradient buffer this use writes.
struct LayerInput {
    let x: String
    let gx: String?
    let shape: [Int]
}

/// What an inference-fused producer computes after its dot products.
struct FusedOutput {
    /// Buffer written (the output of the last folded layer, or the next Conv2D's padded input).
    let target: String
    /// Where each pixel of the group's final output lands in `target`.
    let layout: PixelLayout
    /// A pooling layer (and its activation) folded in: the producer's output of one image goes
    /// to a per-thread scratch image, which is pooled into `target`.
    let pool: FusedPool?
    let activation: EpilogueActivation
    let names: String

    /// The folded BatchNorm's `BatchNormLayer` value (BatchNormPasses.layerValue).
    let batchNormValue: String

    /// Emits `sc[c] = gamma / sqrt(var + eps)`, `sh[c] = (bias - mean) * sc[c] + beta` into
    /// this chunk's slot of `buffer` (2 x channels floats per chunk).
    func emitScaleShift(_ w: CodeWriter, buffer: String, channels: Int, bias: String?) {
        w.line("let sc = \(buffer) + t * \(2 * channels), sh = sc + \(channels)   // folded \(names)")
        w.line("BatchNorm.fold(\(batchNormValue), bias: \(bias ?? "nil"), into: sc)")
    }
}

/// A pooling layer run inside a Conv2D group at inference (Fusion.swift).
struct FusedPool {
    let geometry: ConvGeometry
    let isMax: Bool
    let activation: EpilogueActivation
}

/// Where pixel (h, w) of one NHWC image lands in a buffer: `offset + h * rowStride + w * channels`
/// floats from the image's base, images `imageStride` apart. Dense: offset 0, rowStride
/// width * channels. Padded: the interior of a zero-padded [HP, WP, C] image.
struct PixelLayout {
    let width: Int, channels: Int, rowStride: Int, offset: Int, imageStride: Int

    static func dense(_ shape: [Int]) -> PixelLayout {
        let c = shape.last ?? 1, w = shape.count >= 2 ? shape[shape.count - 2] : 1
        return PixelLayout(width: w, channels: c, rowStride: w * c, offset: 0, imageStride: shape.reduce(1, *))
    }
    /// The interior of the zero-padded input of a convolution with geometry `g`.
    static func padded(_ g: ConvGeometry) -> PixelLayout {
        PixelLayout(width: g.w, channels: g.c, rowStride: g.wp * g.c, offset: (g.top * g.wp + g.left) * g.c,
                    imageStride: g.hp * g.wp * g.c)
    }
    var isDense: Bool { offset == 0 && rowStride == width * channels }
    /// Offset (an expression) of the pixel with linear index `q` (an expression, row-major).
    func pixel(_ q: String) -> String {
        isDense ? "\(q) * \(channels)" : "(\(offset) + \(q) / \(width) * \(rowStride) + \(q) % \(width) * \(channels))"
    }
}

func shapeText(_ s: [Int]) -> String { "[N, " + s.map(String.init).joined(separator: ", ") + "]" }

/// Collects members, buffers and the work-partitioned gradient ranges of one model.
final class ModelEmission {
    var buffers: [BufferDecl] = []
    let members = CodeWriter()
    var reduceRanges: [(offset: Int, count: Int)] = []
    /// Serial steps run at the start of every backward (weight transposes).
    var backwardPrologue: [String] = []
    /// Serial steps run at the start of every batch inference forward (Winograd weight transforms).
    var inferencePrologue: [String] = []
    /// Serial steps run at the start of every training forward (Winograd weight transforms).
    var trainingPrologue: [String] = []
    /// Serial steps run first in every forward, before the prologues (shared layers' weights).
    var forwardPrologue: [String] = []
    /// Serial steps run last in every backward, after the partial sums (shared layers' gradients).
    var backwardEpilogue: [String] = []
    /// Layers that use Winograd (reported by `modelc compile` and `check`).
    var winogradLayers: [WinogradLayer] = []
    /// Set by an emitter whose single-image inference differs from its batch steps (work split
    /// inside the image); read and cleared by the emitter driver after each layer.
    var singleImage: [Step]? = nil
    /// The layer being emitted (set by the emitter driver): the owner of the functions recorded.
    var layer = 0

    /// The layers' functions, written after the other members (ModelClassWriter drops the
    /// unused ones, writes the one-statement chunk and serial steps in place, and groups the rest
    /// by layer).
    var functions: [EmittedFunction] = []

    /// Records `// comment` and `header { body }` as a member function of the model class.
    private func function(_ header: String, comment: String, _ body: (CodeWriter) -> Void) {
        let w = CodeWriter()
        body(w)
        functions.append(EmittedFunction(header: header, comment: commentSafe(comment), body: w.lines, layer: layer))
    }

    /// Emits `func name(_ q0: Int, _ q1: Int, _ t: Int)`: rows q0..<q1 of image 0.
    func rowsFunction(_ name: String, comment: String, _ body: (CodeWriter) -> Void) {
        function("func \(name)(_ q0: Int, _ q1: Int, _ t: Int)", comment: comment, body)
    }

    /// Emits `@inline(never) func name(_ x:, _ y:, _ q0: Int, _ q1: Int, _ t: Int)`: rows
    /// q0..<q1 of one image (input x, output y), called per image and by the single-image split.
    func imageRowsFunction(_ name: String, comment: String, _ body: (CodeWriter) -> Void) {
        function("@inline(never) func \(name)(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ q0: Int, _ q1: Int, _ t: Int)",
                 comment: comment, body)
    }

    /// Emits `@inline(never) func name(_ x:, _ y:, _ t: Int)`: one image (input x, output y).
    func imageFunction(_ name: String, comment: String, _ body: (CodeWriter) -> Void) {
        function("@inline(never) func \(name)(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ t: Int)",
                 comment: comment, body)
    }

    func buffer(_ name: String, perImage: Int, fixed: Int = 0, perChunk: Int = 0, kind: BufferKind = .float, _ comment: String) {
        buffers.append(BufferDecl(name: name, perImage: perImage, fixed: fixed, perChunk: perChunk, kind: kind, comment: commentSafe(comment)))
    }

    /// Emits `func name(_ lo: Int, _ hi: Int, _ t: Int)` with the body.
    func chunkFunction(_ name: String, comment: String, _ body: (CodeWriter) -> Void) {
        function("func \(name)(_ lo: Int, _ hi: Int, _ t: Int)", comment: comment, body)
    }

    func serialFunction(_ name: String, comment: String, _ body: (CodeWriter) -> Void) {
        function("func \(name)()", comment: comment, body)
    }

    /// Kernel functions several layers call (one per distinct Winograd geometry): key -> index in `functions`.
    private var sharedKernels: [String: Int] = [:]

    /// Emits `@inline(never) func <name>(_ x:, _ y:, _ q0: Int, _ q1: Int, <parameters>)`
    /// the first time `key` is asked for, and names `user` in its comment every time; returns its
    /// name. A key names everything the body depends on, so equal keys mean equal bodies; a name
    /// already taken by another key gets a numeric suffix.
    func sharedKernel(key: String, name: String, parameters: String, comment: String, user: String,
                      _ body: (CodeWriter) -> Void) -> String {
        if let i = sharedKernels[key] {
            functions[i].comment += ", \(user)"
            return functions[i].name
        }
        var unique = name, k = 2
        while functions.contains(where: { $0.name == unique }) { unique = "\(name)_\(k)"; k += 1 }
        sharedKernels[key] = functions.count
        function("@inline(never) func \(unique)(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ q0: Int, _ q1: Int, \(parameters))",
                 comment: "\(comment); called by \(user)", body)
        return unique
    }
}

/// A member function of the emitted class: `// comment`, `header {`, the body lines, `}`.
struct EmittedFunction {
    let header: String
    var comment: String
    let body: [String]
    /// The layer whose emitter wrote it (a shared kernel: its first user).
    var layer = 0
    /// The name: the identifier before the parameter list.
    var name: String {
        guard let f = header.range(of: "func ") else { return header }
        return String(header[f.upperBound...].prefix { $0 != "(" })
    }
    /// A chunk or serial step (called as `name(lo, hi, t)` or `name()`) of one statement, which
    /// the schedule can state in place of the call.
    var inlinableStatement: String? {
        guard body.count == 1, let line = body.first?.trimmingCharacters(in: .whitespaces),
              !line.hasPrefix("let "), !line.hasPrefix("var "), !line.hasPrefix("return"),
              header.hasSuffix("(_ lo: Int, _ hi: Int, _ t: Int)") || header.hasSuffix("()") else { return nil }
        return line
    }
    /// How a schedule calls it.
    var call: String { header.hasSuffix("()") ? "\(name)()" : "\(name)(lo, hi, t)" }

    func write(_ w: CodeWriter) {
        w.line("// \(comment)")
        w.block(header) { for l in body { w.line(l) } }
        w.line()
    }
}

/// One emitter per operator kind (Backend/Ops/).
protocol OpEmitter {
    /// Whether the output buffer (and its gradient) is the input's (Flatten, Reshape, identity Lambda).
    var aliasesInput: Bool { get }
    /// Declares buffers and emits the layer's functions; returns its training-forward,
    /// inference-forward and backward steps.
    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step])
}

extension OpEmitter {
    var aliasesInput: Bool { false }
}

/// One parameter tensor as the runtime sees it (`TensorSpec`).
struct ParamSpec {
    let key: String
    let tensor: ParamTensor
    let offset: Int
    /// Layout in .npz files: fileShape[i] == tensor.shape[filePermutation[i]].
    let fileShape: [Int]
    let filePermutation: [Int]
    /// Fan-in of the layer's kernel (PyTorch initializes biases from it).
    let layerFanIn: Int
    /// The Keras shape of a tensor whose `tensor` is a view (ParamTensor.stateDictView).
    var kerasShape: [Int]? = nil
}

/// Text for a `//` comment: printable ASCII kept, everything else (newlines, control
/// characters, Unicode line separators, any non-ASCII) written as `\u{XXXX}`, so a name can
/// never end the comment and become code.
func commentSafe(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        if u.value >= 0x20 && u.value < 0x7F { out.unicodeScalars.append(u) } else { out += "\\u{\(String(u.value, radix: 16))}" }
    }
    return out
}

public enum Emitter {
    /// Swift class name for a model name: `seed002_mnist_cnn` -> `Seed002MnistCnn`.
    public static func className(for modelName: String) -> String {
        var out = ""
        var upper = true
        for ch in modelName {
            if ch.isASCII && (ch.isLetter || ch.isNumber) {
                out.append(upper ? Character(ch.uppercased()) : ch)
                upper = false
            } else {
                upper = true
            }
        }
        if out.isEmpty { out = "Model" }
        if let f = out.first, f.isNumber { out = "Model" + out }
        return out
    }

    /// The directory name under generated/ for a model name (identifier-safe).
    public static func directoryName(for modelName: String) -> String {
        let s = String(modelName.map { ($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-")) ? $0 : "_" })
        return s.isEmpty ? "model" : s
    }

    /// `winograd`: 3x3 and 5x5 stride-1 convolutions run their batch forward (inference and
    /// training) and, when 'same'-like, their input gradient with Winograd F(m x m, 3x3) (m = 3,
    /// 4, 5) or F(3x3, 5x5) (WinogradConv.swift);
    /// false keeps the direct form everywhere (`modelc compile --no-winograd`).
    public static func emit(_ ir: ModelIR, fuse: Bool, winograd: Bool = true) -> EmittedModel {
        let cls = className(for: ir.name)
        // 1-D layers run as the 2-D ones on 1 x L images; tensor keys and shapes stay the model's.
        let lifted = Lowering.liftingOneD(ir)
        // Several heads: one output vector, the heads side by side (MultiHeadJoin.swift).
        let (joined, heads) = MultiHeadJoin.join(lifted.layers, heads: ir.heads)
        let (stripped, endsWithSoftmax) = stripFinalSoftmax(joined)
        // Several inputs: one input vector, each Input layer a slice of it (MultiInputSplit.swift).
        let (inputSplit, inputSlices) = MultiInputSplit.split(stripped, inputs: ir.inputs)
        // silu, gelu, hard_swish, mish: a layer of their own, whose backward reads its input;
        // relu, leaky relu, relu6 right after a Conv2D or Dense: that layer's own activation.
        let (splitLayers, splitSlices) = ActivationSplit.split(inputSplit, slices: inputSlices)
        let (rawLayers, slices, foldNotes) = fuse ? ActivationFold.fold(splitLayers, slices: splitSlices) : (splitLayers, splitSlices, [:])
        // Layer names reach the generated Swift only inside comments (made safe here) and
        // escaped string literals (tensor keys, summary): never as code.
        let layers = rawLayers.map { l -> Layer in var s = l; s.name = commentSafe(l.name); s.kind = commentSafe(l.kind); return s }
        let fusion = fuse ? Fusion.plan(layers) : FusionPlan.none(layers.count)
        var lowering = Lowering.plan(layers, inputShape: lifted.inputShape, fusion: fusion, winograd: winograd)
        MultiInputSplit.describe(&lowering, slices: slices, layers: layers)
        ActivationFold.describe(&lowering, foldNotes)
        let split = ActivationSplit.split(MultiInputSplit.split(stripFinalSoftmax(heads.isEmpty ? ir.layers : MultiHeadJoin.join(ir.layers, heads: ir.heads).layers).0,
                                                                inputs: ir.inputs).layers).layers
        let params = ParameterLayout(fuse ? ActivationFold.fold(split).layers : split, semantics: ir.semantics)
        let m = ModelEmission()
        var schedule = LayerSchedule(layers, fusion: fusion, params: params)
        schedule.inputSlices = slices
        schedule.run(lifted, m, &lowering)
        SharedWeights.emit(params.shadows, layers: layers, m)
        var flat = ir
        flat.inputShape = MultiInputSplit.inputShape(ir.inputShape, inputs: ir.inputs)
        var writer = ModelClassWriter(ir: flat, cls: cls, layers: layers, endsWithSoftmax: endsWithSoftmax, fuse: fuse,
                                      params: params, m: m, schedule: schedule)
        writer.heads = heads
        return EmittedModel(className: cls, fileName: "\(cls).swift", directoryName: directoryName(for: ir.name), source: writer.text(),
                            winogradLayers: m.winogradLayers, plan: lowering)
    }

    /// The source path as printed in generated files: relative to the repository when inside
    /// it (so output does not depend on how the path was typed), else the file name.
    static func displayPath(_ path: String) -> String {
        let repo = URL(fileURLWithPath: GeneratedFiles.defaultDirectory()).deletingLastPathComponent().standardizedFileURL.path
        let abs = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
        if abs.hasPrefix(repo + "/") { return String(abs.dropFirst(repo.count + 1)) }
        return URL(fileURLWithPath: path).lastPathComponent
    }

    /// Merges consecutive chunk steps into one parallel region.
    /// `parallel` is the runtime's splitter: Parallel.chunks (training), Parallel.images (inference).
    /// `inline` maps a step's call to the statement written in its place.
    static func emitSteps(_ w: CodeWriter, _ steps: [Step], parallel: String = "Parallel.chunks(count, threads: threads)",
                          inline: [String: String] = [:]) {
        var pending: [RegionStep] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if pending.count == 1 {   // a region of one step on one line
                w.line("\(parallel) { lo, hi, t in \(pending[0].lines.joined(separator: "; ")) }")
            } else {
                w.closure(parallel, parameters: "lo, hi, t") { emitRegion(w, pending) }
            }
            pending.removeAll()
        }
        for s in steps {
            switch s {
            case .chunk(let c): pending.append(RegionStep(call: inline[c] ?? c))
            case .image(let c, let prelude): pending.append(RegionStep(call: inline[c] ?? c, image: true, prelude: prelude))
            case .serial(let c): flush(); w.line(inline[c] ?? c)
            case .rows: break   // single-image steps only
            }
        }
        flush()
    }

    /// One step of a parallel region as `emitRegion` writes it.
    struct RegionStep {
        var call: String, image = false, prelude: String? = nil
        /// The step on its own: its prelude, then the call.
        var lines: [String] { (prelude.map { [$0] } ?? []) + [call] }
    }

    /// One parallel region's steps; each run of two or more image steps loops over the images,
    /// after their preludes.
    private static func emitRegion(_ w: CodeWriter, _ steps: [RegionStep]) {
        var i = 0
        while i < steps.count {
            var j = i
            while j < steps.count && steps[j].image { j += 1 }
            if j - i >= 2 {
                for s in steps[i..<j] { if let p = s.prelude { w.line(p) } }
                w.block("for image in lo..<hi") {
                    w.line("let (lo, hi) = (image, image + 1)   // image by image: each image stays in cache through these steps")
                    for s in steps[i..<j] { w.line(s.call) }
                }
                i = j
            } else {
                for l in steps[i].lines { w.line(l) }
                i += 1
            }
        }
    }

    /// Single-image inference: chunk steps run inline on image 0, row steps split the image.
    static func emitSingleSteps(_ w: CodeWriter, _ steps: [Step], inline: [String: String] = [:]) {
        w.line("let lo = 0, hi = 1, t = 0; _ = (lo, hi, t)")
        for s in steps {
            switch s {
            case .chunk(let c), .serial(let c): w.line(inline[c] ?? c)
            case .image(let c, let prelude): for l in RegionStep(call: inline[c] ?? c, prelude: prelude).lines { w.line(l) }
            case .rows(let c, let total, let block):
                w.line("Parallel.rows(\(total), block: \(block), threads: singleThreads) { q0, q1, t in self.\(c) }")
            }
        }
    }

    static func isInput(_ l: Layer) -> Bool { if case .input = l.op { return true }; return false }

    static func inputShapeOf(_ l: Layer, fallback: [Int]) -> [Int] { l.inputShape.isEmpty ? fallback : l.inputShape }

    /// Drops a trailing softmax (layer or activation of the last Conv/Dense): outputs become logits.
    static func stripFinalSoftmax(_ layers: [Layer]) -> ([Layer], Bool) {
        var ls = layers
        guard var last = ls.last else { return (ls, false) }
        if case .activation(.softmax) = last.op {
            ls.removeLast()
            return (ls, true)
        }
        let softmax = MultiHeadJoin.stripSoftmax(&last) == "softmax"
        ls[ls.count - 1] = last
        return (ls, softmax)
    }

    static func folded(_ l: Layer) -> Activation { l.foldedActivation ?? .linear }

    /// `flatten`: the model's Flatten order (PyTorch and Keras channels-first tables: CHW).
    static func opEmitter(_ l: Layer, plan: FusionPlan, position: Int, flatten: FlattenOrder, lowering: LayerLowering) -> OpEmitter {
        if l.isPerStep {
            return PerStepEmitter(inner: opEmitter(l.stepLayer, plan: plan, position: position, flatten: flatten, lowering: lowering),
                                  steps: l.inputShape[0])
        }
        switch l.op {
        case .flatten where flatten == .chw && l.inputShape.count == 3 && l.readsSteps != true
                && l.inputShape[0] * l.inputShape[1] > 1 && l.inputShape[2] > 1:
            return FlattenCHWEmitter()
        case .input: return ReshapeEmitter()
        case .zeroPadding(let t, let b, let le, let r): return ZeroPaddingEmitter(top: t, bottom: b, left: le, right: r)
        case .conv2d(let a) where a.dilationH > 1 || a.dilationW > 1: return DilatedConv2DEmitter(attrs: a)
        case .conv2d(let a):
            guard let conv = lowering.conv else { fatalError("the lowering pass gave Conv2D \(l.name) no choices") }
            return Conv2DEmitter(attrs: a, lowering: conv)
        case .separableConv2d(let a, let m): return SeparableConv2DEmitter(attrs: a, multiplier: m)
        case .depthwiseConv2d(let a, let m): return DepthwiseConv2DEmitter(attrs: a, multiplier: m)
        case .batchNorm(let a): return BatchNormEmitter(attrs: a, foldedIntoProducer: plan.foldedBatchNorms.contains(position))
        case .maxPool(let p): return PoolEmitter(attrs: p, isMax: true)
        case .avgPool(let p): return PoolEmitter(attrs: p, isMax: false)
        case .globalAvgPool: return GlobalPoolEmitter(isMax: false)
        case .globalMaxPool: return GlobalPoolEmitter(isMax: true)
        case .activation(let a): return ActivationEmitter(activation: a)
        case .dropout(let r, let spatial): return DropoutEmitter(rate: r, spatial: spatial)
        case .flatten, .reshape: return ReshapeEmitter()
        case .dense(_, _, _): return DenseEmitter(fold: plan.folds[position])
        case .lambda(let f): return LambdaEmitter(function: f)
        case .upSampling(let h, let w): return UpSamplingEmitter(sizeH: h, sizeW: w)
        case .conv2dTranspose(let a, _, _): return Conv2DTransposeEmitter(attrs: a)
        case .recurrent(let a): return RecurrentEmitter(attrs: a)
        case .embedding(let v, let d, let p): return EmbeddingEmitter(vocab: v, dim: d, paddingIdx: p)
        case .embeddingBag(let a): return EmbeddingBagEmitter(attrs: a)
        case .masking(let v): return MaskingEmitter(value: v)
        case .augment(let a): return RandomImageEmitter(layer: a)
        case .resize: return ResizeEmitter()
        case .merge(let k): return MergeEmitter(kind: k)
        case .cropping(let t, _, let le, _): return CroppingEmitter(top: t, left: le)
        case .upSamplingBilinear(let h, let w): return BilinearUpSamplingEmitter(sizeH: h, sizeW: w)
        case .repeatVector(let n): return RepeatVectorEmitter(count: n)
        case .permute(let d): return PermuteEmitter(dims: d)
        case .normalization(let a): return NormalizationEmitter(attrs: a)
        case .multiHeadAttention(let a): return AttentionEmitter(attrs: a)
        }
    }

    /// Multiply-adds x 2 of one image's forward pass (conv, dense, depthwise, separable, transposed conv).
    public static func forwardFlops(_ layers: [Layer]) -> Int {
        var f = 0
        for l in layers {
            let cin = l.inputShape.last ?? 0
            let outPix = l.outputShape.dropLast().reduce(1, *)
            switch l.op {
            case .conv2d(let a): f += 2 * outPix * a.kernelH * a.kernelW * cin * a.filters
            case .depthwiseConv2d(let a, let m): f += 2 * outPix * a.kernelH * a.kernelW * cin * m
            case .separableConv2d(let a, let m): f += 2 * outPix * (a.kernelH * a.kernelW * cin * m + cin * m * a.filters)
            case .dense(let u, _, _): f += 2 * outPix * cin * u
            case .conv2dTranspose(let a, _, _): f += 2 * l.inputShape.dropLast().reduce(1, *) * a.kernelH * a.kernelW * cin * a.filters
            case .recurrent(let a): f += 2 * (l.inputShape.first ?? 0) * a.cell.gates * a.units * (cin + a.units)
            case .multiHeadAttention(let a):
                // the projections (the key's and value's over the query's steps: an estimate when
                // the lengths differ), then the scores and the mix
                let t = outPix, hk = a.heads * a.keyDim, hv = a.heads * a.valueDim
                f += 2 * t * (cin * hk + a.keyFeatures * hk + a.valueFeatures * hv + hv * a.outputDim) + 2 * a.heads * t * t * (a.keyDim + a.valueDim)
            default: break
            }
        }
        return f
    }
}
