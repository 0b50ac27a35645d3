// Build driver: turns an emitted model file into a standalone executable.
//
// 1. The runtime modules are compiled from the repository's Sources (found from this file's
//    #filePath, or $MODELC_SOURCES) into a cache directory keyed by a hash of their sources, the
//    compiler version and the flags: `<repo>/.build/modelc-runtime/<hash>/` (or
//    $MODELC_CACHE/<hash>/), holding the .swiftmodule files and the modules' object files
//    (objects rather than archives, so the linker sees their autolink entries for Foundation).
//    Rebuilt only when something changes. Each module is compiled file by file, in batches; the
//    jobs of all modules are scheduled together, one per core (RuntimeBuild.swift). The modules,
//    in build order (each imports those before it):
//      ModelcData        -Ounchecked  datasets and the decoders they read every run or epoch
//                                     (IDX, gzip/inflate, CRC32, PNG, PGM/PPM, CSV, NPY/NPZ, zip,
//                                     tar, CIFAR-10, image folders, resizing)
//      ModelcModelFiles  -Onone       model and weights files (HDF5/Keras, ONNX/protobuf, PyTorch
//                                     pickles, safetensors, WeightsReader): read or written once,
//                                     by `--weights`, `export` and `modelc compile`
//      ModelcRuntime     -Ounchecked  training loop, data loading, optimizers, metrics, kernels
//      ModelcCommands    -Onone       the binary's command line and run reports
//    The two -Onone modules are cold code, run once per command or per epoch and never in a hot
//    loop (the training loop, data loading, kernels and `bench`'s timed loops are in the
//    -Ounchecked modules, which never import ModelcCommands): the SIL optimizer's
//    specializations are most of what an -O compile of such code costs (Tests/Peers/RESULTS.md).
//    The bulk byte work of a weights import (inflate, CRC32, zip extraction, NDArray conversion)
//    runs in ModelcData's optimized code.
// 2. The generated model file plus a main.swift (`import ModelcCommands`,
//    `ModelcApp.main(<Class>.self)`) are compiled and linked against them with
//    `-Ounchecked -wmo -target-cpu native -D MODELC_ISA_<family> -static-stdlib` (TargetISA.swift):
//    one binary that needs no toolchain. A big model's file is first cut into one file per core
//    at its top-level extensions and compiled without -wmo, a job per file (SourceParts.swift).
// A sanitized build (`--sanitize thread|address`, Sanitizer below) compiles every runtime module
// and the model with `-g -sanitize=<kind>`: ModelcRuntime and the model at -O instead of
// -Ounchecked (which drops the checks the sanitizers should see fail), the other modules at
// -Onone (which keeps them all and costs a fifth of an -O compile under a sanitizer; a sanitized
// run reads a few hundred images), and links the Swift libraries dynamically (the
// binary then needs the toolchain; see build()); the flags are part of the cache key, so
// sanitized and plain runtimes live in different cache entries.
// Outputs are written to a temporary name and renamed into place (atomic); modelc runs that need
// the same runtime at the same time build it once, the others waiting for it (CacheLock.swift).

import Foundation

public struct BuildError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// `modelc compile --sanitize KIND`: builds the runtime and the model with a sanitizer.
public enum Sanitizer: String, CaseIterable, Sendable {
    case thread, address

    /// `--sanitize NAME`: thread or address (swiftc's names).
    public static func parse(_ name: String) -> Sanitizer? { Sanitizer(rawValue: name) }

    /// The swiftc flag.
    public var flag: String { "-sanitize=\(rawValue)" }
}

public enum BuildDriver {
    /// Flags for the runtime and the model: the kernels' tile family and the CPU to tune for.
    /// With a sanitizer: -O -g (checks kept, reports symbolized) and -sanitize=KIND, the same
    /// CPU and tile family.
    public static func optimizationFlags(_ isa: TargetISA, sanitize: Sanitizer? = nil) -> [String] {
        let level = sanitize.map { ["-O", "-g", $0.flag] } ?? ["-Ounchecked"]
        return level + ["-wmo", "-target-cpu", isa.targetCPU, "-D", isa.define]
    }

    /// `flags` without -wmo: each source file compiled as its own job.
    static func fileByFile(_ flags: [String]) -> [String] { flags.filter { $0 != "-wmo" } }

    /// The runtime modules in build order (each imports those before it).
    static let runtimeModules = ["ModelcData", "ModelcModelFiles", "ModelcRuntime", "ModelcCommands"]

    /// The runtime modules compiled with -Onone, sanitized or not: cold code (see the top of this file).
    static let coldModules: Set<String> = ["ModelcModelFiles", "ModelcCommands"]

    /// The one runtime module a sanitized build optimizes (-O): the kernels, the worker pool and
    /// the training loop, which at -Onone under TSan train 70 times slower. ModelcData's decoders
    /// read a sanitized run's few hundred images as fast at -Onone, which keeps every check.
    static let sanitizedOptimized = "ModelcRuntime"

    /// The swiftc flags of runtime module `m`: those of the model without -wmo (RuntimeBuild),
    /// -Onone for the cold modules (and, sanitized, for all but ModelcRuntime), and the package
    /// name that lets a module use the `package` declarations of those before it.
    static func moduleFlags(_ m: String, isa: TargetISA, sanitize: Sanitizer?) -> [String] {
        var flags = fileByFile(optimizationFlags(isa, sanitize: sanitize))
        if coldModules.contains(m) || (sanitize != nil && m != sanitizedOptimized) {
            flags = flags.map { $0 == "-Ounchecked" || $0 == "-O" ? "-Onone" : $0 }
        }
        return flags + ["-package-name", "modelc"]
    }

    /// The directory holding the runtime modules' folders (the repository's Sources).
    public static func sourcesDirectory() -> String {
        if let env = ProcessInfo.processInfo.environment["MODELC_SOURCES"], !env.isEmpty { return env }
        // This file is Sources/ModelcBackend/Backend/BuildDriver.swift.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    static func cacheRoot(sources: String) -> String {
        if let env = ProcessInfo.processInfo.environment["MODELC_CACHE"], !env.isEmpty { return env }
        let repo = URL(fileURLWithPath: sources).deletingLastPathComponent()
        return repo.appendingPathComponent(".build/modelc-runtime").path
    }

    /// Finds swiftc: $MODELC_SWIFTC, then PATH.
    static func swiftc() throws -> String {
        if let env = ProcessInfo.processInfo.environment["MODELC_SWIFTC"], !env.isEmpty { return env }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/swiftc"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw BuildError(message: "modelc: swiftc not found in PATH (set MODELC_SWIFTC to the Swift compiler)")
    }

    /// Builds an executable from an emitted model. Returns the binary's absolute path.
    /// - Parameters:
    ///   - generatedFile: path of `generated/<model>/<Class>.swift`.
    ///   - className: the emitted class.
    ///   - output: binary path.
    ///   - log: receives progress lines (e.g. "building runtime (cached)").
    ///   - sanitize: builds the runtime and the model with this sanitizer (nil: none).
    public static func build(generatedFile: String, className: String, output: String, isa: TargetISA = .host(),
                             sanitize: Sanitizer? = nil, log: (String) -> Void = { _ in }) throws -> String {
        let fm = FileManager.default
        let sources = sourcesDirectory()
        let compiler = try swiftc()
        let runtimeDir = try buildRuntime(sources: sources, compiler: compiler, isa: isa, sanitize: sanitize, log: log)

        let outURL = URL(fileURLWithPath: output, relativeTo: URL(fileURLWithPath: fm.currentDirectoryPath)).standardizedFileURL
        let work = outURL.deletingLastPathComponent().appendingPathComponent(".\(outURL.lastPathComponent).build-\(getpid())")
        try? fm.removeItem(at: work)
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        let main = work.appendingPathComponent("main.swift")
        try "import ModelcCommands\nModelcApp.main(\(className).self)\n".write(to: main, atomically: true, encoding: .utf8)
        let tmp = work.appendingPathComponent(outURL.lastPathComponent)
        let (modelFiles, split) = try modelSources(generatedFile, className: className, in: work)
        var flags = optimizationFlags(isa, sanitize: sanitize)
        if modelFiles.count > 1 { flags = fileByFile(flags) + ["-j", "\(modelFiles.count)"] }
        var args = ["-swift-version", "6", "-module-name", className + "Program"] + flags
        // A sanitized binary links the Swift runtime and Foundation dynamically (rpath into the
        // toolchain): -static-stdlib links with `--exclude-libs ALL`, which also hides the
        // sanitizer runtime's malloc/free and other interceptors from libc, so memory that glibc
        // allocates internally is freed by the sanitizer's allocator (TSan aborts with a CHECK
        // failure in ProcessInfo.environment) and ASan would not see shared-library calls.
        if sanitize == nil { args.append("-static-stdlib") }
        args += ["-I", runtimeDir]
        args += modelFiles + [main.path] + (try runtimeObjects(runtimeDir)) + ["-o", tmp.path]
        log("compiling \(generatedFile)\(split)")
        try run(compiler, args)
        if fm.fileExists(atPath: outURL.path) { try fm.removeItem(at: outURL) }
        try fm.moveItem(at: tmp, to: outURL)
        return outURL.path
    }

    /// The model's source files: the generated file itself, or, on several cores, its pieces in
    /// one file per core (SourceParts.swift) in `work`, and the note for the log line.
    static func modelSources(_ generatedFile: String, className: String, in work: URL) throws -> ([String], String) {
        let text: String
        do { text = try String(contentsOfFile: generatedFile, encoding: .utf8) } catch {
            throw BuildError(message: "\(generatedFile): cannot read the generated model: \(error.localizedDescription)")
        }
        let files = SourceParts.files(text, file: generatedFile, count: ProcessInfo.processInfo.activeProcessorCount)
        if files.count == 1 { return ([generatedFile], "") }
        let paths = try files.enumerated().map { k, part in
            let path = work.appendingPathComponent("\(className).part\(k + 1).swift").path
            try GeneratedFiles.writeIfChanged(part, to: path)
            return path
        }
        return (paths, " as \(files.count) files, one per core")
    }

    /// Compiles the runtime modules into the cache (once per source/flag hash); `cache` is the
    /// cache's root (default: cacheRoot(sources:)).
    public static func buildRuntime(sources: String, compiler: String, isa: TargetISA = .host(), sanitize: Sanitizer? = nil,
                                    cache: String? = nil, log: (String) -> Void) throws -> String {
        let fm = FileManager.default
        let modules = runtimeModules
        var hash = FNV64()
        hash.add(try run(compiler, ["--version"], capture: true))
        var plan: [RuntimeBuild.Module] = []
        for m in modules {
            let flags = moduleFlags(m, isa: isa, sanitize: sanitize)
            hash.add(flags.joined(separator: " "))
            var module = RuntimeBuild.Module(name: m, files: try runtimeSources(m, in: sources), sizes: [], flags: flags)
            for f in module.files {
                hash.add(f.replacingOccurrences(of: sources, with: ""))
                let text = try String(contentsOfFile: f, encoding: .utf8)
                hash.add(text)
                module.sizes.append(text.utf8.count)   // the runtime build balances its batches by size
            }
            plan.append(module)
        }
        let root = cache ?? cacheRoot(sources: sources)
        let final = URL(fileURLWithPath: root).appendingPathComponent(hash.hex).path
        let complete = { modules.allSatisfy { fm.fileExists(atPath: "\(final)/\($0).swiftmodule") } }
        if complete() {
            log("runtime: cached \(final)")
            return final
        }
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        let lock = CacheLock(entry: final, log: log)
        defer { lock.release() }
        if complete() {
            log("runtime: built by another modelc \(final)")
            return final
        }
        let tmp = final + ".tmp-\(getpid())"
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let jobs = try RuntimeBuild.jobs(plan, into: tmp, cores: cores)
        for m in plan { try fm.createDirectory(atPath: "\(tmp)/\(m.name)", withIntermediateDirectories: true) }
        log("runtime: compiling \(modules.joined(separator: ", ")) (\(plan.map(\.files.count).reduce(0, +)) files) as \(jobs.count) jobs, \(cores) at a time")
        do { try RuntimeBuild.run(jobs, compiler: compiler, width: cores, logs: "\(tmp)/logs") } catch {
            try? fm.removeItem(atPath: tmp)   // the failing job's output is in the error
            throw error
        }
        // An incomplete entry (a copy cut short) is replaced; a complete one, which another modelc
        // finished unlocked (CacheLock), is kept: it may be in use. (Only unlocked can a rename
        // land between the check and the removal.)
        if fm.fileExists(atPath: final) && !complete() { try? fm.removeItem(atPath: final) }
        do { try fm.moveItem(atPath: tmp, toPath: final) } catch {
            try? fm.removeItem(atPath: tmp)
            if !complete() { throw error }
        }
        return final
    }

    /// Runtime module `m`'s Swift files under `sources` (not its Samples), sorted.
    static func runtimeSources(_ m: String, in sources: String) throws -> [String] {
        let dir = URL(fileURLWithPath: sources).appendingPathComponent(m)
        guard let e = FileManager.default.enumerator(atPath: dir.path) else {
            throw BuildError(message: "modelc: runtime sources not found at \(dir.path) (set MODELC_SOURCES to the repository's Sources directory)")
        }
        var list: [String] = []
        for case let rel as String in e where rel.hasSuffix(".swift") && !rel.hasPrefix("Samples/") {
            list.append(dir.appendingPathComponent(rel).path)
        }
        if list.isEmpty { throw BuildError(message: "modelc: no Swift files in \(dir.path)") }
        return list.sorted()
    }

    /// The runtime's object files in a cache entry of buildRuntime, in a fixed order.
    static func runtimeObjects(_ runtimeDir: String) throws -> [String] {
        var objects: [String] = []
        for m in runtimeModules.reversed() {
            let dir = "\(runtimeDir)/\(m)"
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".o") }.sorted()
            if names.isEmpty { throw BuildError(message: "modelc: no object files in the runtime cache \(dir) (delete it to rebuild)") }
            objects += names.map { "\(dir)/\($0)" }
        }
        return objects
    }

    @discardableResult
    static func run(_ tool: String, _ args: [String], capture: Bool = false) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        // swiftc leaves a TemporaryDirectory.* folder in TMPDIR at every run: give it one of its own.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("modelc-swiftc-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        p.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": scratch]) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        do { try p.run() } catch {
            throw BuildError(message: "modelc: cannot run \(tool): \(error)")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if p.terminationStatus != 0 {
            throw BuildError(message: "modelc: \(URL(fileURLWithPath: tool).lastPathComponent) failed (exit \(p.terminationStatus)):\n\(text)")
        }
        return text
    }
}

/// FNV-1a 64 over strings (cache keys).
struct FNV64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ s: String) {
        for b in s.utf8 { h ^= UInt64(b); h = h &* 0x0000_0100_0000_01b3 }
        h ^= 0xff; h = h &* 0x0000_0100_0000_01b3
    }
    var hex: String { let s = String(h, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
}
