// Runtime build schedule: the compile of every runtime module as one list of frontend jobs.
//
// Before: the runtime modules in build order (each imports those before it), with their source
// files and swiftc flags (BuildDriver.moduleFlags).
// After: in `dir`, each module's interface `<m>.swiftmodule` and one object per source file in
// `dir/<m>/`, as one `swiftc -c -emit-module` per module leaves them: the jobs are the ones swiftc
// plans (an interface job that skips non-inlinable bodies, object jobs in batches) with the flags
// that shape the code (compared with `swiftc -###`). Left out: the .swiftdoc/.swiftsourceinfo
// files, the macro plugin paths (the runtime uses no macros) and, for a build with debug info, the
// `-modulewrap` object that swiftc writes beside the interface and does not link.
//
// Why not one swiftc per module: swiftc runs a module's interface job after its object jobs, and
// the next module cannot start before that interface exists, so every module ends with one core
// idle while its interface is written (for ModelcRuntime, a large part of its build). Here a module's
// object jobs need only the interfaces of the modules before it, so they run while later
// interfaces are still being written, and the interface jobs, the critical path, go first. At
// most one job per core runs at a time. The jobs are a plain list (`jobs(_:into:cores:)`).

import Foundation

/// One swift-frontend run of the runtime build.
struct FrontendJob: Equatable {
    /// What the job builds, for the log and errors: "ModelcRuntime interface",
    /// "ModelcRuntime objects (Gemm.swift, ...)".
    var label: String
    /// swiftc's arguments, starting with `-frontend`.
    var arguments: [String]
    /// Indices of the jobs that must have finished first.
    var needs: [Int]
    /// An interface job: scheduled before the others that are ready.
    var isInterface: Bool
}

enum RuntimeBuild {
    /// One runtime module: its name, its source files with their sizes in bytes, and its flags.
    struct Module {
        var name: String
        var files: [String]
        var sizes: [Int]
        var flags: [String]
    }

    /// The jobs that build `modules` into `dir`: per module an interface job and its object jobs
    /// in `2 * cores` batches of about equal bytes (fewer for fewer files; two per core so that
    /// the cores stay busy to the end).
    static func jobs(_ modules: [Module], into dir: String, cores: Int) throws -> [FrontendJob] {
        var jobs: [FrontendJob] = []
        var previousInterface: [Int] = []
        for m in modules {
            let common = ["-swift-version", "6", "-parse-as-library", "-module-name", m.name, "-I", dir] + m.flags
            let interface = "\(dir)/\(m.name).swiftmodule"
            jobs.append(FrontendJob(label: "\(m.name) interface",
                                    arguments: ["-frontend", "-emit-module", "-experimental-skip-non-inlinable-function-bodies-without-types"]
                                        + m.files + common + ["-o", interface],
                                    needs: previousInterface, isInterface: true))
            let interfaceJob = jobs.count - 1
            let objectFlags = optimizes(m.flags) ? common + ["-enable-default-cmo"] : common
            let names = try objectNames(m)
            for batch in batches(m.sizes, count: 2 * cores) {
                jobs.append(objectJob(m, names: names, batch: batch, flags: objectFlags, into: "\(dir)/\(m.name)", needs: previousInterface))
            }
            previousInterface = [interfaceJob]
        }
        return jobs
    }

    /// swiftc passes `-enable-default-cmo` to the object jobs of an optimized build.
    static func optimizes(_ flags: [String]) -> Bool { flags.contains { $0.hasPrefix("-O") && $0 != "-Onone" } }

    /// The object names of a module's sources: their names without `.swift`, which must differ.
    static func objectNames(_ m: Module) throws -> [String] {
        let names = m.files.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        if let twice = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw BuildError(message: "modelc: two runtime sources in \(m.name) are named \(twice).swift; their objects would collide")
        }
        return names
    }

    /// The object job compiling the files at `batch` (indices into `m.files`) as primaries, the
    /// module's other files as context.
    static func objectJob(_ m: Module, names: [String], batch: [Int], flags: [String], into objects: String, needs: [Int]) -> FrontendJob {
        let primary = Set(batch)
        let inputs = m.files.indices.flatMap { primary.contains($0) ? ["-primary-file", m.files[$0]] : [m.files[$0]] }
        let outputs = batch.flatMap { ["-o", "\(objects)/\(names[$0]).o"] }
        let shown = batch.prefix(3).map { names[$0] + ".swift" }.joined(separator: ", ") + (batch.count > 3 ? ", ..." : "")
        return FrontendJob(label: "\(m.name) objects (\(shown))", arguments: ["-frontend", "-c"] + inputs + flags + outputs,
                           needs: needs, isInterface: false)
    }

    /// Splits file indices into at most `count` non-empty batches of about equal total size
    /// (largest file to the lightest batch), heaviest batch first, each in source order.
    static func batches(_ sizes: [Int], count: Int) -> [[Int]] {
        let k = max(1, min(count, sizes.count))
        var bins = Array(repeating: (bytes: 0, files: [Int]()), count: k)
        for i in sizes.indices.sorted(by: { (sizes[$0], $1) > (sizes[$1], $0) }) {
            let lightest = bins.indices.min { (bins[$0].bytes, $0) < (bins[$1].bytes, $1) }!
            bins[lightest].bytes += sizes[i]
            bins[lightest].files.append(i)
        }
        return bins.filter { !$0.files.isEmpty }.sorted { $0.bytes > $1.bytes }.map { $0.files.sorted() }
    }

    /// The order jobs are started in when several are ready: interfaces first, then list order.
    static func priority(_ jobs: [FrontendJob]) -> [Int] {
        jobs.indices.filter { jobs[$0].isInterface } + jobs.indices.filter { !jobs[$0].isInterface }
    }

    /// Runs `jobs` with `compiler`, at most `width` at a time, each once the jobs it needs have
    /// finished. Each job's output goes to a file in `logs` (deleted on success); the first job
    /// that fails (or cannot start) stops the others and is reported with its output.
    static func run(_ jobs: [FrontendJob], compiler: String, width: Int, logs: String) throws {
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let finished = FinishedJobs()
        var waiting = priority(jobs)
        var done = Set<Int>()
        var running: [Int: Process] = [:]
        defer {   // after an error: stop the jobs still running, and wait for them
            for p in running.values { p.terminate() }
            for _ in running { _ = finished.next() }
        }
        while !waiting.isEmpty || !running.isEmpty {
            while running.count < max(1, width),
                  let k = waiting.firstIndex(where: { jobs[$0].needs.allSatisfy(done.contains) }) {
                let i = waiting.remove(at: k)
                running[i] = try start(jobs[i], number: i, compiler: compiler, logs: logs, finished: finished)
            }
            guard !running.isEmpty else { throw BuildError(message: "modelc: runtime build jobs wait on each other") }
            let (i, exit) = finished.next()
            running[i] = nil
            if let exit { throw failure(jobs[i], exit: exit, log: logPath(logs, i), compiler: compiler) }
            done.insert(i)
        }
        try? FileManager.default.removeItem(atPath: logs)
    }

    static func logPath(_ logs: String, _ i: Int) -> String { "\(logs)/job\(i).log" }

    /// Starts job `i`, its output to its log file, reporting its exit to `finished`.
    static func start(_ job: FrontendJob, number i: Int, compiler: String, logs: String,
                      finished: FinishedJobs) throws -> Process {
        let path = logPath(logs, i)
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
            throw BuildError(message: "modelc: cannot write the build log \(path)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: compiler)
        p.arguments = job.arguments
        p.standardOutput = out
        p.standardError = out
        p.terminationHandler = { p in
            try? out.close()
            let status = p.terminationStatus
            finished.add(i, status == 0 && p.terminationReason == .exit ? nil
                            : p.terminationReason == .exit ? "exit \(status)" : "signal \(status)")
        }
        do { try p.run() } catch {
            throw BuildError(message: "modelc: cannot run \(compiler): \(error)")
        }
        return p
    }

    static func failure(_ job: FrontendJob, exit: String, log: String, compiler: String) -> BuildError {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let tool = URL(fileURLWithPath: compiler).lastPathComponent
        return BuildError(message: "modelc: \(tool) failed (\(exit)) building \(job.label):\n\(text)")
    }
}

/// The exits of started jobs, in the order they happen (filled from Process termination handlers):
/// the job and nil for success, else how it ended ("exit 1", "signal 9").
final class FinishedJobs: @unchecked Sendable {
    private let lock = NSLock()
    private let signal = DispatchSemaphore(value: 0)
    private var exits: [(Int, String?)] = []

    func add(_ job: Int, _ failure: String?) {
        lock.withLock { exits.append((job, failure)) }
        signal.signal()
    }

    /// Waits for the next job to finish.
    func next() -> (Int, String?) {
        signal.wait()
        return lock.withLock { exits.removeFirst() }
    }
}
