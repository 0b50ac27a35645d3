// Writing emitted models into generated/ and keeping the registry generated/AllModels.swift
// consistent with the directory's contents (rebuilt from the listing after every write, so
// compiling several models one after another, or in any order, gives the same file); what
// `modelc generate` expects there, and what a flat directory of emitted models with a registry
// by name (the backend test models) expects.

import Foundation
import ModelcCore

public enum GeneratedFiles {
    /// `<repo>/generated`, next to the Sources directory the build driver uses.
    public static func defaultDirectory() -> String {
        URL(fileURLWithPath: BuildDriver.sourcesDirectory()).deletingLastPathComponent().appendingPathComponent("generated").path
    }

    /// Where `modelc compile MODEL` emits without `--generated`: the committed `<repo>/generated`
    /// for a model of the repository's `models/`, else `generated/` in the build cache, so that
    /// compiling a user's own model leaves the repository's committed files alone.
    public static func defaultDirectory(forModel model: String) -> String {
        let repo = URL(fileURLWithPath: BuildDriver.sourcesDirectory()).deletingLastPathComponent()
        let models = repo.appendingPathComponent("models").resolvingSymlinksInPath().path + "/"
        let file = URL(fileURLWithPath: model).standardizedFileURL.resolvingSymlinksInPath().path
        if file.hasPrefix(models) { return defaultDirectory() }
        let cache = BuildDriver.cacheRoot(sources: BuildDriver.sourcesDirectory())
        return URL(fileURLWithPath: cache).appendingPathComponent("generated").path
    }

    /// Writes `<dir>/<model>/<Class>.swift` (removing other .swift files of that model
    /// directory) and regenerates AllModels.swift. Returns the file's path.
    @discardableResult
    public static func write(_ e: EmittedModel, into dir: String) throws -> String {
        let fm = FileManager.default
        let modelDir = "\(dir)/\(e.directoryName)"
        try fm.createDirectory(atPath: modelDir, withIntermediateDirectories: true)
        for f in (try? fm.contentsOfDirectory(atPath: modelDir)) ?? [] where f.hasSuffix(".swift") && f != e.fileName {
            try fm.removeItem(atPath: "\(modelDir)/\(f)")
        }
        let path = "\(modelDir)/\(e.fileName)"
        try writeIfChanged(e.source, to: path)
        try writeRegistry(dir)
        return path
    }

    /// The registry's text for the models currently in `dir` (one class per model directory).
    public static func registry(_ dir: String) -> String {
        let fm = FileManager.default
        var classes: [String] = []
        let subdirs = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        for d in subdirs {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: "\(dir)/\(d)", isDirectory: &isDir), isDir.boolValue else { continue }
            let files = ((try? fm.contentsOfDirectory(atPath: "\(dir)/\(d)")) ?? []).filter { $0.hasSuffix(".swift") }.sorted()
            classes += files.map { String($0.dropLast(6)) }
        }
        var s = "// Emitted by modelc: every model in models/, for tests and tools. Do not edit.\n"
        s += "// Regenerate with `modelc generate` (or `modelc compile MODEL`).\n"
        s += "import ModelcRuntime\n\n"
        if classes.isEmpty {
            s += "nonisolated(unsafe) public let allModels: [any CompiledModel.Type] = []\n"
        } else {
            s += "nonisolated(unsafe) public let allModels: [any CompiledModel.Type] = [\n"
            for c in classes { s += "    \(c).self,\n" }
            s += "]\n"
        }
        return s
    }

    public static func writeRegistry(_ dir: String) throws {
        try writeIfChanged(registry(dir), to: "\(dir)/AllModels.swift")
    }

    /// Atomic write (temp file + rename), skipped when the content is already there.
    public static func writeIfChanged(_ text: String, to path: String) throws {
        if let old = try? String(contentsOfFile: path, encoding: .utf8), old == text { return }
        let tmp = path + ".tmp-\(getpid())"
        try Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
        if rename(tmp, path) != 0 {
            let err = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw BuildError(message: "\(path): cannot write: \(err)")
        }
    }
}

extension GeneratedFiles {
    /// What `modelc generate` writes: every file's expected content by path (each `*.md` model of
    /// `modelsDirectory` and the registry), and the existing files no model produces any more (stale).
    public static func expected(modelsDirectory: String, generatedDirectory: String) throws -> ExpectedFiles {
        let fm = FileManager.default
        var expected: [String: String] = [:]
        let modelFiles = ((try? fm.contentsOfDirectory(atPath: modelsDirectory)) ?? [])
            .filter { $0.hasSuffix(".md") }.sorted()
        var classes: [(dir: String, cls: String)] = []
        for f in modelFiles {
            let path = "\(modelsDirectory)/\(f)"
            let report = try Frontend.check(path: path)
            let problems = report.problems + Emitter.problems(report.ir)
            if !report.ok || !problems.isEmpty {
                throw BuildError(message: problems.map(\.description).joined(separator: "\n") + "\n\(path): error: the model does not check")
            }
            var ir = report.ir
            ir.sourcePath = "models/\(f)"
            let e = Emitter.emit(ir, fuse: true)
            expected["\(generatedDirectory)/\(e.directoryName)/\(e.fileName)"] = e.source
            classes.append((e.directoryName, e.className))
        }
        var registry = "// Emitted by modelc: every model in models/, for tests and tools. Do not edit.\n"
        registry += "// Regenerate with `modelc generate` (or `modelc compile MODEL`).\nimport ModelcRuntime\n\n"
        let sorted = classes.sorted { $0.dir < $1.dir }.map(\.cls)
        registry += sorted.isEmpty ? "nonisolated(unsafe) public let allModels: [any CompiledModel.Type] = []\n"
            : "nonisolated(unsafe) public let allModels: [any CompiledModel.Type] = [\n" + sorted.map { "    \($0).self,\n" }.joined() + "]\n"
        expected["\(generatedDirectory)/AllModels.swift"] = registry
        var stale: [String] = []
        for d in ((try? fm.contentsOfDirectory(atPath: generatedDirectory)) ?? []).sorted() {
            var isDir: ObjCBool = false
            let p = "\(generatedDirectory)/\(d)"
            if fm.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue {
                for f in ((try? fm.contentsOfDirectory(atPath: p)) ?? []).sorted() where f.hasSuffix(".swift") && expected["\(p)/\(f)"] == nil {
                    stale.append("\(p)/\(f)")
                }
            }
        }
        return ExpectedFiles(directory: generatedDirectory, files: expected, stale: stale)
    }

    /// The expected content of `directory` when it holds exactly `emitted`, flat
    /// (`<directory>/<fileName>` each); the other .swift files there are stale.
    public static func expected(_ emitted: [EmittedModel], flatDirectory directory: String) -> ExpectedFiles {
        var files: [String: String] = [:]
        for e in emitted { files["\(directory)/\(e.fileName)"] = e.source }
        let existing = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        let stale = existing.filter { $0.hasSuffix(".swift") && files["\(directory)/\($0)"] == nil }.map { "\(directory)/\($0)" }
        return ExpectedFiles(directory: directory, files: files, stale: stale)
    }

    /// A registry file mapping each model's name to its emitted class:
    /// `nonisolated(unsafe) public let <variable>: [String: any CompiledModel.Type]`, after `comment`.
    /// `imports`: further modules the classes come from (e.g. GeneratedModels).
    public static func namedRegistry(_ models: [(name: String, className: String)], variable: String,
                                     fileName: String, comment: String, imports: [String] = []) -> EmittedModel {
        var reg = "// \(comment)\n"
        for m in ["ModelcRuntime"] + imports { reg += "import \(m)\n" }
        reg += "\n"
        reg += "nonisolated(unsafe) public let \(variable): [String: any CompiledModel.Type] = [\n"
        for (name, cls) in models {
            reg += "    \(swiftString(name)): \(cls).self,\n"
        }
        reg += "]\n"
        return EmittedModel(className: "", fileName: fileName, directoryName: "", source: reg)
    }
}

extension Emitter {
    /// Problems that would make the emitted code wrong: shapes that do not follow from the
    /// operations (the emitter relies on them), unsupported layouts.
    public static func problems(_ ir: ModelIR) -> [ModelError] {
        var out = ir.layers.compactMap { l in layerProblem(l).map { ModelError(file: ir.sourcePath, line: l.line, message: "layer \(l.name): \($0)") } }
        out += SharedWeights.problems(ir)
        if let (r, w) = AugmentationLayers.misplaced(ir.layers) {   // RandomImageEmitter has no backward
            out.append(ModelError(file: ir.sourcePath, line: r.line, message: "layer \(r.name): a random image layer fed by '\(w.name)', which has trainable weights, would need an input gradient"))
        }
        if let p = ir.perRowOutputSoftmax { out.append(ModelError(file: ir.sourcePath, line: p.line, message: p.message)) }
        // 1-D layers are checked as the 2-D layers they run as.
        let ir = Lowering.liftingOneD(ir)
        var shape = ir.inputShape
        for (i, whole) in ir.layers.enumerated() {
            if case .input = whole.op { shape = whole.outputShape; continue }
            if whole.producers != nil {
                out += MergeVerifier.inputs(ir, i)
                if case .merge = whole.op { shape = whole.outputShape; continue }
            } else if whole.inputShape != (i > 0 ? MergeVerifier.shape(of: ir.layers[i - 1], seenBy: whole) : shape) {
                out.append(ModelError(file: ir.sourcePath, line: whole.line,
                                      message: "layer \(whole.name): input shape \(whole.inputShape) does not match the previous output \(shape)"))
            }
            // TimeDistributed around an image layer: checked as the image layer one step sees.
            let l = whole.isPerStep ? whole.stepLayer : whole
            func err(_ m: String) { out.append(ModelError(file: ir.sourcePath, line: l.line, message: "layer \(l.name): \(m)")) }
            if whole.isPerStep, whole.outputShape.first != whole.inputShape.first {
                err("TimeDistributed keeps the steps, but \(whole.inputShape) becomes \(whole.outputShape)")
            }
            // Attributes the emitter does not implement are refused here, never ignored.
            attributeProblems(l, ir).forEach(err)
            if ir.semantics == .pytorch { pytorchProblems(l).forEach(err) }
            switch l.op {
            case .zeroPadding, .conv2d, .separableConv2d, .depthwiseConv2d, .maxPool, .avgPool, .globalAvgPool, .globalMaxPool,
                 .upSampling, .conv2dTranspose, .cropping, .upSamplingBilinear:
                if l.inputShape.count != 3 {
                    out.append(ModelError(file: ir.sourcePath, line: l.line, message: "layer \(l.name): expected an image input [H, W, C], found \(l.inputShape)"))
                    shape = whole.outputShape
                    continue
                }
            case .reshape(let t):
                if t.reduce(1, *) != l.inputShape.reduce(1, *) {
                    out.append(ModelError(file: ir.sourcePath, line: l.line, message: "layer \(l.name): reshape to \(t) changes the element count of \(l.inputShape)"))
                }
            default: break
            }
            if l.inputShape.isEmpty || l.inputShape.contains(where: { $0 <= 0 }) {
                out.append(ModelError(file: ir.sourcePath, line: l.line, message: "layer \(l.name): invalid input shape \(l.inputShape)"))
            } else {
                let expect = Emitter.outputShape(of: l.op, input: l.inputShape)
                // A sequence output [L, C] is lifted to [1, L, C] (RepeatVector's [n, D]).
                if expect != l.outputShape && !(expect.count == 2 && [1] + expect == l.outputShape) {
                    out.append(ModelError(file: ir.sourcePath, line: l.line,
                                          message: "layer \(l.name): output shape \(l.outputShape) does not follow from the operation (expected \(expect))"))
                }
            }
            shape = whole.outputShape
        }
        return out
    }

    /// The layer's attributes the emitter does not implement (kernel, pool and padding sizes,
    /// rates, units, an Embedding that is not first).
    static func attributeProblems(_ l: Layer, _ ir: ModelIR) -> [String] {
        var out: [String] = []
        func err(_ m: String) { out.append(m) }
        switch l.op {
        case .conv2d(let a), .separableConv2d(let a, _), .depthwiseConv2d(let a, _):
            var conv2d = false
            if case .conv2d = l.op { conv2d = true }
            if a.dilationH < 1 || a.dilationW < 1 {
                err("dilation \(a.dilationH)x\(a.dilationW) must be at least 1")
            } else if !conv2d && (a.dilationH != 1 || a.dilationW != 1) {
                err("dilated \(l.kind) (dilation \(a.dilationH)x\(a.dilationW)) is not supported by the code generator; only Conv2D may be dilated")
            }
            if a.kernelH < 1 || a.kernelW < 1 || a.strideH < 1 || a.strideW < 1 || a.filters < 1 {
                err("kernel \(a.kernelH)x\(a.kernelW), stride \(a.strideH)x\(a.strideW) and \(a.filters) filters must all be at least 1")
            }
            if (a.explicitPadH == nil) != (a.explicitPadW == nil) || (a.explicitPadH ?? 0) < 0 || (a.explicitPadW ?? 0) < 0 {
                err("explicit padding must give both a height and a width of at least 0, found \(a.explicitPadH.map(String.init) ?? "none") x \(a.explicitPadW.map(String.init) ?? "none")")
            }
        case .maxPool(let p), .avgPool(let p):
            if p.poolH < 1 || p.poolW < 1 || p.strideH < 1 || p.strideW < 1 { err("pool \(p.poolH)x\(p.poolW) and stride \(p.strideH)x\(p.strideW) must be at least 1") }
            if let e = p.explicit, min(e.top, e.left, e.bottom, e.right) < 0 || max(e.top, e.bottom) >= p.poolH || max(e.left, e.right) >= p.poolW
                || (l.isOneD && e.top + e.bottom > 0) {
                err("pool padding \([e.top, e.left, e.bottom, e.right]) (top, left, bottom, right) must be at least 0 and less than the window \(p.poolH)x\(p.poolW), or a window could hold only padding")
            }
        case .zeroPadding(let t, let b, let le, let r):
            if min(t, b, le, r) < 0 { err("negative zero padding \([t, b, le, r])") }
        case .cropping(let t, let b, let le, let r):
            if min(t, b, le, r) < 0 { err("negative cropping \([t, b, le, r])") }
        case .upSamplingBilinear(let h, let w):
            if h < 1 || w < 1 { err("upsampling size \(h)x\(w) must be at least 1x1") }
        case .resize(let h, let w):
            if h < 1 || w < 1 || l.inputShape.count != 3 { err("Resizing needs an image input and a size of at least 1x1, found \(l.inputShape) to \(h)x\(w)") }
        case .repeatVector(let n):
            if n < 1 || l.inputShape.count != 1 { err("RepeatVector needs a vector input and n >= 1, found input \(l.inputShape), n \(n)") }
        case .permute(let d):
            let lifted = l.inputShape.count == d.count + 1 && l.inputShape.first == 1
            if d.count != l.inputShape.count - (lifted ? 1 : 0) || Set(d) != Set(1...max(1, d.count)) {
                err("Permute dims \(d) are not a permutation of the \(l.inputShape.count) axes 1...\(l.inputShape.count) of \(l.inputShape)")
            }
        case .dropout(let r, _):
            if !(r >= 0 && r < 1) { err("dropout rate \(r) is outside [0, 1)") }
        case .normalization(let a):
            if let why = a.problem(input: l.inputShape) { err("\(l.kind): \(why)") }
        case .batchNorm(let a):
            if !(a.epsilon > 0) || !(a.momentum >= 0 && a.momentum <= 1) { err("BatchNorm epsilon \(a.epsilon) must be > 0 and momentum \(a.momentum) in [0, 1]") }
        case .recurrent(let a):
            if a.units < 1 || !(0...2).contains(a.biasRows) || l.inputShape.count != 2 {
                err("\(l.kind) needs a sequence input [T, D], at least 1 unit and 0 to 2 bias rows, found input \(l.inputShape), \(a.units) units, \(a.biasRows) bias rows")
            }
            if a.cell == .gru && a.biasRows == 2 && !a.resetAfter { err("a GRU with a recurrent bias row must be reset_after") }
        case .embedding, .embeddingBag:
            let (v, d, p) = l.op.embeddingTable ?? (0, 0, nil)
            if v < 1 || d < 1 || l.inputShape.count != 1 { err("\(l.kind) needs token ids [T], a vocabulary and a dim of at least 1, found input \(l.inputShape), \(v) x \(d)") }
            if let p, !(0..<v).contains(p) { err("\(l.kind) padding index \(p) is not a row of its \(v)-row table") }
            // Right after an Input layer (one of several: IR/ModelInputs.swift), or first.
            if ir.layers.firstIndex(of: l).map({ $0 > 0 && !ir.layers.producers(of: $0).allSatisfy { Emitter.isInput(ir.layers[$0]) } }) ?? true {
                err("an \(l.kind) reads the model's input (token ids): it must be the first layer")
            }
        default: break
        }
        return out
    }

    /// A layer reading a batch-first sequence [steps, features] (Layer.readsSteps), also lifted
    /// to [1, steps, features]: its PyTorch last axis is the IR's.
    static func readsSequence(_ l: Layer) -> Bool {
        l.readsSteps == true && (l.inputShape.count == 2 || l.inputShape.first == 1)
    }

    /// Ops whose PyTorch meaning on NCHW tensors differs from the NHWC code.
    static func pytorchProblems(_ l: Layer) -> [String] {
        var out: [String] = []
        func err(_ m: String) { out.append(m) }
        switch l.op {
        case .separableConv2d, .multiHeadAttention:
            err("\(l.kind) has no PyTorch state_dict layout in modelc; not supported with PyTorch semantics")
        case .recurrent(let a) where a.torch == nil || (a.cell == .gru && !a.resetAfter) || a.biasRows == 1:
            err("\(l.kind) under PyTorch semantics must be an nn.LSTM/GRU/RNN layer (two bias vectors or none; a GRU is reset_after)")
        case .reshape(let t) where l.inputShape.count == 3 || t.count == 3:
            if !(l.inputShape.count == 3 && (l.inputShape[0] * l.inputShape[1] == 1 || l.inputShape[2] == 1) && t.count == 1) {
                err("reshape \(l.inputShape) -> \(t) under PyTorch (NCHW) semantics is not supported; use Flatten")
            }
        case .normalization(let a) where l.inputShape.count > 1 && (a.form == .lastAxis || a.form == .fixed) && !(a.form == .lastAxis && readsSequence(l)):
            err("\(l.kind) over the last axis of \(l.inputShape) (the NCHW last axis in PyTorch) is not supported; normalize the whole image")
        case .dense where l.inputShape.count > 1 && !readsSequence(l):
            err("Linear on a multi-axis input \(l.inputShape) (applies over the NCHW last axis in PyTorch) is not supported")
        default: break
        }
        return out
    }

    /// What the emitter cannot do for one layer (unlifted): a 1-D layer's sizes more than one
    /// row high, a dilated transposed convolution or output padding it cannot place, upsampling
    /// factors below 1.
    static func layerProblem(_ l: Layer) -> String? {
        if l.isOneD {
            switch l.op {
            case .conv2d(let a) where a.kernelH != 1 || a.strideH != 1 || a.dilationH != 1 || (a.explicitPadH ?? 0) != 0:
                return "a 1-D convolution's kernel, stride, dilation and padding must be one row high, found kernel \(a.kernelH)x\(a.kernelW), stride \(a.strideH)x\(a.strideW), dilation \(a.dilationH)x\(a.dilationW)"
            case .maxPool(let p) where p.poolH != 1 || p.strideH != 1, .avgPool(let p) where p.poolH != 1 || p.strideH != 1:
                return "a 1-D pool's window and stride must be one row high, found pool \(p.poolH)x\(p.poolW), stride \(p.strideH)x\(p.strideW)"
            case .separableConv2d(let a, _) where a.kernelH != 1 || a.strideH != 1 || a.explicitPadH != nil:
                return "a 1-D separable convolution's kernel and stride must be one row high, found kernel \(a.kernelH)x\(a.kernelW), stride \(a.strideH)x\(a.strideW)"
            case .zeroPadding(let t, let b, _, _) where t != 0 || b != 0, .cropping(let t, let b, _, _) where t != 0 || b != 0:
                return "a 1-D padding or cropping has a left and right amount only, found top \(t) and bottom \(b)"
            case .upSampling(let h, _) where h != 1:
                return "a 1-D upsampling has one size, found \(h) rows"
            case .conv2d(let a) where a.padding == .causal && a.explicitPadW != nil:
                return "causal padding with explicit padding"
            default: return nil
            }
        }
        switch l.op {
        case .conv2d(let a) where a.padding == .causal, .separableConv2d(let a, _) where a.padding == .causal,
             .depthwiseConv2d(let a, _) where a.padding == .causal:
            return "causal padding applies to 1-D layers only (Conv1D, SeparableConv1D)"
        case .upSampling(let h, let w) where h < 1 || w < 1:
            return "upsampling size \(h)x\(w) must be at least 1x1"
        case .conv2dTranspose(let a, let oph, let opw):
            if a.dilationH != 1 || a.dilationW != 1 { return "dilated \(l.kind) (dilation \(a.dilationH)x\(a.dilationW)) is not supported by the code generator" }
            if a.kernelH < 1 || a.kernelW < 1 || a.strideH < 1 || a.strideW < 1 || a.filters < 1 {
                return "kernel \(a.kernelH)x\(a.kernelW), stride \(a.strideH)x\(a.strideW) and \(a.filters) filters must all be at least 1"
            }
            if (a.explicitPadH == nil) != (a.explicitPadW == nil) || min(a.explicitPadH ?? 0, a.explicitPadW ?? 0) < 0 {
                return "explicit padding must give both a height and a width of at least 0"
            }
            if min(oph, opw) < 0 || oph >= a.strideH || opw >= a.strideW || a.padding == .causal {
                return "output padding \(oph)x\(opw) must be below the stride \(a.strideH)x\(a.strideW) (and a transposed convolution has no causal padding)"
            }
            return nil
        default: return nil
        }
    }
}
