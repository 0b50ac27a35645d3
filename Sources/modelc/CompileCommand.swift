// `modelc compile MODEL... [-o BIN] [--weights W] [--emit-only] [--no-fuse] [--no-winograd] [--isa FAMILY] [--sanitize KIND] [--generated DIR]`
// (default binary: bin/<model> in the current directory; `--sanitize thread|address` builds the
// runtime and the model with ThreadSanitizer or AddressSanitizer, for Tests/Sanitizers/run.sh)

import Foundation
import ModelcCore
import ModelcBackend
import ModelcData
import ModelcModelFiles

enum CompileCommand {
    static let usage = "usage: modelc compile MODEL... [-o BIN] [--weights W] [--emit-only] [--no-fuse] [--no-winograd] [--isa avx2|avx512|neon|native] [--sanitize thread|address] [--generated DIR]"

    static func run(_ args: [String]) -> Int32 {
        var models: [String] = []
        var output: String?
        var weights: String?
        var emitOnly = false
        var fuse = true
        var winograd = true
        var generated: String?
        var isa = TargetISA.host()
        var sanitize: Sanitizer?
        var i = 0
        while i < args.count {
            let a = args[i]
            switch a {
            case "-o", "--output", "--generated", "--weights":
                guard i + 1 < args.count else { return usageError("\(a) needs a value") }
                switch a {
                case "--generated": generated = args[i + 1]
                case "--weights": weights = args[i + 1]
                default: output = args[i + 1]
                }
                i += 1
            case "--isa", "--sanitize":
                guard i + 1 < args.count else { return usageError("\(a) needs a value") }
                let v = args[i + 1]
                if a == "--isa" {
                    guard let family = TargetISA.parse(v) else { return usageError("--isa: expected avx2, avx512, neon or native, found '\(v)'") }
                    isa = family
                } else {
                    guard let kind = Sanitizer.parse(v) else { return usageError("--sanitize: expected thread or address, found '\(v)'") }
                    sanitize = kind
                }
                i += 1
            case "--emit-only": emitOnly = true
            case "--no-fuse": fuse = false
            case "--no-winograd": winograd = false
            case "-h", "--help": print(usage); return 0
            default:
                if a.hasPrefix("-") { return usageError("unknown option '\(a)'") }
                models.append(a)
            }
            i += 1
        }
        if models.isEmpty { return usageError("no model file given") }
        if output != nil && models.count > 1 { return usageError("-o needs a single model file") }
        if weights != nil && models.count > 1 { return usageError("--weights needs a single model file") }
        if let w = weights, WeightsFormat.of(path: w) == nil {
            return usageError("--weights \(w): unknown weights file type: expected one of \(WeightsReader.acceptedExtensions)")
        }
        for path in models {
            let start = Date()
            guard let ir = checkedIR(path) else { return 1 }
            let e = Emitter.emit(ir, fuse: fuse, winograd: winograd)
            let file: String
            let dir = generated ?? GeneratedFiles.defaultDirectory(forModel: path)
            do { file = try GeneratedFiles.write(e, into: dir) } catch {
                err("\(error)")
                return 1
            }
            let wino = e.winogradLayers.summary
            print("emitted \(file) (class \(e.className)\(fuse ? ", fused" : "")\(wino.isEmpty ? "" : ", Winograd: " + wino))")
            let source = weights ?? (carriesWeights(path) ? path : nil)
            if emitOnly { continue }
            let bin = output ?? "bin/\(e.directoryName)"
            do {
                print("  target: \(isa.rawValue) (-target-cpu \(isa.targetCPU))" + (sanitize.map { ", \($0.flag) -O" } ?? ""))
                let path = try BuildDriver.build(generatedFile: file, className: e.className, output: bin, isa: isa,
                                                 sanitize: sanitize) { print("  \($0)") }
                print(String(format: "built %@ in %.1f s", path, Date().timeIntervalSince(start)))
                if let w = source { try storeWeights(w, besides: path) }
                print(path)
            } catch {
                err("\(error)")
                return 1
            }
        }
        return 0
    }

    /// A model file that holds its trained weights: a `.keras`/`.h5` file, or an ONNX graph's initializers.
    static func carriesWeights(_ path: String) -> Bool {
        KerasConfig.carriesWeights(path: path) || WeightsFormat.of(path: path) == .onnx
    }

    /// Stores the trained weights (`compile --weights W`, or the model file's own) beside the
    /// binary, where it reads them when no checkpoint is given (CommandSupport.loadWeights): a
    /// copy of the file, or for an ONNX graph its initializers as the binary's `.npz` (state_dict
    /// names and layouts, external data included), so the binary does not depend on the graph's
    /// folder. The binary checks them on every load (all keys, shapes and values).
    static func storeWeights(_ source: String, besides bin: String) throws {
        guard let format = WeightsReader.format(of: source) else { return }
        for stale in WeightsFormat.allCases.map({ WeightsReader.bundledPath(binary: bin, format: $0) }) where FileIO.exists(stale) {
            try FileManager.default.removeItem(atPath: stale)
        }
        if format == .onnx {
            let dest = WeightsReader.bundledPath(binary: bin, format: .npz)
            let arrays = try Frontend.onnxWeights(path: source).sorted { $0.key < $1.key }
            try NPZ.write(arrays, to: dest)
            print("  weights: \(source)'s \(arrays.count) weight arrays stored as \(dest); the binary starts from them when no --checkpoint or --weights is given")
            return
        }
        let dest = WeightsReader.bundledPath(binary: bin, format: format)
        try AtomicFile.write(try FileIO.read(path: source), to: dest)
        print("  weights: \(source) stored as \(dest); the binary starts from them when no --checkpoint or --weights is given")
    }

    /// Runs the frontend; prints errors and returns nil when the model cannot be compiled.
    static func checkedIR(_ path: String) -> ModelIR? {
        let report: CheckReport
        do { report = try Frontend.check(path: path) } catch {
            err("\(error)")
            return nil
        }
        if !report.ok || !report.problems.isEmpty {
            for p in report.problems { err(p.description) }
            err("\(path): error: the model does not check; not compiling (run `modelc check \(path)`)")
            return nil
        }
        let problems = Emitter.problems(report.ir)
        if !problems.isEmpty {
            for p in problems { err(p.description) }
            return nil
        }
        return report.ir
    }

    static func usageError(_ m: String) -> Int32 {
        err("modelc compile: \(m)\n\(usage)")
        return 2
    }

    static func err(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}
