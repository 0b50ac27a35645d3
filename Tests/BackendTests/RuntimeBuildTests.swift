// The runtime build's job list (RuntimeBuild.jobs) and its scheduler (RuntimeBuild.run). The real
// frontend jobs run in every test that compiles a model; these check the plan and the scheduler
// with /bin/sh standing in for swiftc.

import Foundation
import XCTest
@testable import ModelcBackend

final class RuntimeBuildTests: XCTestCase {
    func module(_ name: String, _ files: [String], flags: [String] = ["-Ounchecked"]) -> RuntimeBuild.Module {
        RuntimeBuild.Module(name: name, files: files.map { "/src/\(name)/\($0).swift" },
                            sizes: files.indices.map { 100 * ($0 + 1) }, flags: flags)
    }

    func testBatchesCoverEveryFileOnceAndBalanceBytes() {
        let sizes = [50, 10, 10, 10, 40, 30, 20]
        let batches = RuntimeBuild.batches(sizes, count: 3)
        XCTAssertEqual(batches.count, 3)
        XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(sizes.indices))
        let bytes = batches.map { $0.map { sizes[$0] }.reduce(0, +) }
        XCTAssertEqual(bytes, bytes.sorted(by: >), "heaviest batch first")
        XCTAssertLessThanOrEqual(bytes.max()! - bytes.min()!, 10)
        for b in batches { XCTAssertEqual(b, b.sorted(), "source order inside a batch") }
        XCTAssertEqual(RuntimeBuild.batches([7, 3], count: 4).count, 2, "never an empty batch")
        XCTAssertEqual(RuntimeBuild.batches([7], count: 0), [[0]])
    }

    func testEachModuleWaitsOnlyForTheInterfaceBeforeIt() throws {
        let modules = [module("A", ["a1", "a2", "a3"]), module("B", ["b1", "b2"], flags: ["-Onone"]), module("C", ["c1"])]
        let jobs = try RuntimeBuild.jobs(modules, into: "/cache", cores: 1)
        let interfaces = jobs.indices.filter { jobs[$0].isInterface }
        XCTAssertEqual(interfaces.map { jobs[$0].label }, ["A interface", "B interface", "C interface"])
        for (k, m) in modules.enumerated() {
            let mine = jobs.indices.filter { jobs[$0].label.hasPrefix("\(m.name) ") }
            for j in mine { XCTAssertEqual(jobs[j].needs, k == 0 ? [] : [interfaces[k - 1]], jobs[j].label) }
            let objectJobs = mine.filter { !jobs[$0].isInterface }.map { jobs[$0].arguments }
            let primaries = objectJobs.flatMap { args in args.indices.filter { args[$0] == "-primary-file" }.map { args[$0 + 1] } }
            XCTAssertEqual(primaries.sorted(), m.files, "every file compiled once")
            for args in objectJobs {
                let inputs = args.indices.filter { args[$0] == "-primary-file" }.map { args[$0 + 1] }
                let outputs = args.indices.filter { args[$0] == "-o" }.map { args[$0 + 1] }
                XCTAssertEqual(outputs, inputs.map { "/cache/\(m.name)/" + URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent + ".o" })
                XCTAssertEqual(args.contains("-enable-default-cmo"), m.name != "B", "as swiftc: only optimized object jobs")
            }
            let interfaceArgs = jobs[interfaces[k]].arguments
            XCTAssertEqual(Array(interfaceArgs.suffix(2)), ["-o", "/cache/\(m.name).swiftmodule"])
            XCTAssertTrue(interfaceArgs.contains("-experimental-skip-non-inlinable-function-bodies-without-types"))
            XCTAssertTrue(m.files.allSatisfy(interfaceArgs.contains))
        }
        XCTAssertEqual(RuntimeBuild.priority(jobs).prefix(3).map { jobs[$0].label }, ["A interface", "B interface", "C interface"])
    }

    func testSanitizerFlagsReachEveryJobAndDuplicateNamesAreAnError() throws {
        let jobs = try RuntimeBuild.jobs([module("A", ["a1", "a2"], flags: ["-O", "-g", "-sanitize=thread"])], into: "/cache", cores: 2)
        XCTAssertEqual(jobs.count, 3)
        for j in jobs { XCTAssertTrue(["-O", "-g", "-sanitize=thread"].allSatisfy(j.arguments.contains), j.label) }
        var twice = module("A", ["x"])
        twice.files.append("/src/A/Sub/x.swift")
        twice.sizes.append(5)
        XCTAssertThrowsError(try RuntimeBuild.jobs([twice], into: "/cache", cores: 2)) { error in
            XCTAssertTrue("\(error)".contains("x.swift"), "\(error)")
        }
    }

    /// A new directory, removed after the test.
    func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-build-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// A job for /bin/sh: `script` run with `sh -c`.
    func shellJob(_ label: String, _ script: String, needs: [Int] = []) -> FrontendJob {
        FrontendJob(label: label, arguments: ["-c", script], needs: needs, isInterface: false)
    }

    func testRunStartsAJobOnlyAfterTheJobsItNeeds() throws {
        let dir = try scratch()
        let trace = "\(dir)/trace"
        let jobs = [shellJob("first", "sleep 0.2; echo first >> \(trace)"),
                    shellJob("second", "echo second >> \(trace)", needs: [0]),
                    shellJob("third", "echo third >> \(trace)", needs: [1]),
                    shellJob("free", "echo free >> \(trace)")]
        try RuntimeBuild.run(jobs, compiler: "/bin/sh", width: 2, logs: "\(dir)/logs")
        let order = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(order.sorted(), ["first", "free", "second", "third"])
        XCTAssertEqual(order.filter { $0 != "free" }, ["first", "second", "third"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/logs"), "logs removed after success")
    }

    func testAFailingJobStopsTheOthersAndIsReportedWithItsOutput() throws {
        let dir = try scratch()
        // `exec`: Foundation reports a child's exit only once every process holding its output has
        // ended, and a sleep forked by sh would hold it.
        let jobs = [shellJob("slow", "exec sleep 60"),
                    shellJob("Mod objects (Bad.swift)", "echo 'Bad.swift:3: error: no such type' >&2; exit 3"),
                    shellJob("queued", "echo ran > \(dir)/queued")]   // waits for a free core
        let started = Date()
        XCTAssertThrowsError(try RuntimeBuild.run(jobs, compiler: "/bin/sh", width: 2, logs: "\(dir)/logs")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("failed (exit 3) building Mod objects (Bad.swift)"), text)
            XCTAssertTrue(text.contains("Bad.swift:3: error: no such type"), text)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "the running job was stopped, not waited for")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/queued"), "nothing starts after a failure")
    }

    func testAJobKilledByASignalSaysSo() throws {
        let dir = try scratch()
        XCTAssertThrowsError(try RuntimeBuild.run([shellJob("crash", "kill -SEGV $$")], compiler: "/bin/sh", width: 1, logs: dir)) { error in
            XCTAssertTrue("\(error)".contains("failed (signal 11) building crash"), "\(error)")
        }
    }

    /// swiftc leaves a TemporaryDirectory.* folder in TMPDIR at every run: BuildDriver.run gives
    /// each run a TMPDIR of its own and removes it.
    func testSwiftcLeavesNothingInTheTemporaryDirectory() throws {
        let out = try BuildDriver.run("/bin/sh", ["-c", "mkdir \"$TMPDIR/TemporaryDirectory.x\" && echo \"$TMPDIR\""], capture: true)
        let tmp = out.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(tmp.contains("modelc-swiftc-"), tmp)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp))
    }

    func testAMissingCompilerIsNamed() throws {
        let dir = try scratch()
        XCTAssertThrowsError(try RuntimeBuild.run([shellJob("one", "true")], compiler: "/no/such/swiftc", width: 2, logs: dir)) { error in
            XCTAssertTrue("\(error)".contains("cannot run /no/such/swiftc"), "\(error)")
        }
    }

    /// Two builds of one runtime at once: the second waits for the first (CacheLock) and then uses
    /// its entry, running no job of its own. The stand-in compiler's jobs hold the first build
    /// until the second says it is waiting, so the test does not depend on timing.
    func testTwoBuildsOfOneRuntimeAtOnceCompileItOnce() throws {
        let dir = try scratch()
        for m in BuildDriver.runtimeModules {
            try FileManager.default.createDirectory(atPath: "\(dir)/Sources/\(m)", withIntermediateDirectories: true)
            try "let x = 1\n".write(toFile: "\(dir)/Sources/\(m)/a.swift", atomically: true, encoding: .utf8)
        }
        let compiler = "\(dir)/swiftc"
        try """
            #!/bin/sh
            [ "$1" = "--version" ] && { echo "stand-in swiftc"; exit 0; }
            echo job >> "\(dir)/jobs"
            i=0; while [ ! -e "\(dir)/go" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; : > "\(dir)/go"
            prev=; for a in "$@"; do [ "$prev" = "-o" ] && : > "$a"; prev=$a; done
            exit 0
            """.write(toFile: compiler, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: compiler)
        let build = { @Sendable (log: @escaping (String) -> Void) in
            try BuildDriver.buildRuntime(sources: "\(dir)/Sources", compiler: compiler, cache: "\(dir)/cache", log: log)
        }
        let first = FirstBuild()
        Thread {
            let entry = try? build { line in first.lock.withLock { first.log.append(line) } }
            first.lock.withLock { first.entry = entry }
            first.done.signal()
        }.start()
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: "\(dir)/jobs") { usleep(100_000) }
        var second: [String] = []
        let entry = try build { line in
            second.append(line)
            if line.contains("waiting") { _ = FileManager.default.createFile(atPath: "\(dir)/go", contents: nil) }
        }
        XCTAssertEqual(first.done.wait(timeout: .now() + 120), .success)
        let (firstLog, firstEntry) = first.lock.withLock { (first.log, first.entry) }
        XCTAssertEqual(firstEntry, entry)
        XCTAssertEqual(second, ["runtime: waiting for another modelc, which is building \(entry)", "runtime: built by another modelc \(entry)"])
        // Every job that ran was the first build's.
        let jobs = try String(contentsOfFile: "\(dir)/jobs", encoding: .utf8).split(separator: "\n").count
        XCTAssertTrue(firstLog.contains { $0.hasPrefix("runtime: compiling") && $0.contains(" as \(jobs) jobs,") }, "\(jobs) jobs ran: \(firstLog)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/cache").filter { $0.contains(".tmp-") }, [])
    }

    /// A lock another process (here: another open of the file) holds past the patience is given
    /// up with a log line, and the build goes on unlocked; once released, the lock is taken at once.
    func testALockHeldTooLongIsGivenUp() throws {
        let entry = try scratch() + "/entry"
        let holder = CacheLock(entry: entry) { XCTFail("waited for a free lock: \($0)") }
        XCTAssertTrue(holder.held)
        var lines: [String] = []
        let impatient = CacheLock(entry: entry, patience: 0.3) { lines.append($0) }
        XCTAssertFalse(impatient.held)
        XCTAssertEqual(lines, ["runtime: waiting for another modelc, which is building \(entry)",
                               "runtime: the other modelc has not finished \(entry) after 0 s; building without waiting"])
        holder.release()
        XCTAssertTrue(CacheLock(entry: entry) { XCTFail("waited for a released lock: \($0)") }.held)
    }
}

/// What the first of two concurrent builds logged and returned.
private final class FirstBuild: @unchecked Sendable {
    let lock = NSLock()
    let done = DispatchSemaphore(value: 0)
    var log: [String] = []
    var entry: String?
}
