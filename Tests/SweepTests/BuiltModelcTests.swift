// What the tests that run the built modelc binary share: finding it, running a process with
// its output captured, a fresh temporary directory, the repository's root.

import XCTest
import Foundation

protocol BuiltModelcTests: XCTestCase {}

extension BuiltModelcTests {
    var repo: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    func modelc() throws -> String {
        var dirs: [URL] = []
        if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
        dirs.append(Bundle(for: Self.self).bundleURL.deletingLastPathComponent())
        guard let d = dirs.first(where: { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("modelc").path) }) else {
            throw XCTSkip("modelc binary not found next to the test bundle")
        }
        return d.appendingPathComponent("modelc").path
    }

    /// Runs `exe args` in `cwd`; stderr goes through a file so that no pipe fills up.
    func run(_ exe: String, _ args: [String], cwd: String) throws -> (status: Int32, out: String, err: String) {
        try runProcess(exe, args, cwd: cwd)
    }

    func temp() -> String {
        let d = NSTemporaryDirectory() + "modelc-onnx-tests-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}

/// BuiltModelcTests.run, callable from any thread.
func runProcess(_ exe: String, _ args: [String], cwd: String) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    let errPath = cwd + "/stderr-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errPath) }
    guard let e = FileHandle(forWritingAtPath: errPath) else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: errPath]) }
    let o = Pipe()
    p.standardOutput = o; p.standardError = e
    try p.run()
    let out = o.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    try e.close()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self), try String(contentsOfFile: errPath, encoding: .utf8))
}
