// What a directory of emitted code should hold, compared with the disk (`--check`) or written
// to it. `modelc generate` (models/ -> generated/) and `modelc-testmodels` (the backend test
// models -> Tests/GeneratedTestModels/) each build one and call `sync`.

import Foundation

public struct ExpectedFiles {
    /// The directory these files belong to; its subdirectories left empty are removed on write.
    public var directory: String
    /// Every file's expected text by path.
    public var files: [String: String]
    /// Existing files that nothing produces any more.
    public var stale: [String]

    public init(directory: String, files: [String: String], stale: [String]) {
        self.directory = directory
        self.files = files
        self.stale = stale
    }

    /// Paths whose text on disk is not the expected one (missing files included), sorted.
    public func differing() -> [String] {
        files.keys.sorted().filter { (try? String(contentsOfFile: $0, encoding: .utf8)) != files[$0] }
    }

    /// One line per differing or stale file; empty when the directory is in sync.
    public func problems() -> [String] {
        differing().map { "\($0): differs from what modelc generates" } + stale.map { "\($0): stale (no model produces it)" }
    }

    /// Removes the stale files, writes the differing ones and removes subdirectories left
    /// empty. Returns how many files were written.
    @discardableResult
    public func write() throws -> Int {
        let fm = FileManager.default
        let differ = differing()
        for p in stale { try fm.removeItem(atPath: p) }
        for path in differ {
            try fm.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            try GeneratedFiles.writeIfChanged(files[path] ?? "", to: path)
        }
        try removeEmptySubdirectories()
        return differ.count
    }

    private func removeEmptySubdirectories() throws {
        let fm = FileManager.default
        for d in ((try? fm.contentsOfDirectory(atPath: directory)) ?? []) {
            let p = "\(directory)/\(d)"
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue,
               ((try? fm.contentsOfDirectory(atPath: p)) ?? []).isEmpty { try fm.removeItem(atPath: p) }
        }
    }

    /// A command's work: with `check`, reports every problem on stderr (exit status 1, asking
    /// to run `regenerate`) or that all is up to date (0); otherwise writes and summarizes.
    public func sync(check: Bool, regenerate: String) -> Int32 {
        if check {
            let problems = problems()
            if problems.isEmpty { print("generated files are up to date (\(files.count) files)"); return 0 }
            for p in problems { Self.err(p) }
            Self.err("run `\(regenerate)` and commit the result")
            return 1
        }
        do {
            let written = try write()
            print("generated: \(written) file(s) written, \(stale.count) removed, \(files.count - written) unchanged")
            return 0
        } catch {
            Self.err("\(error)")
            return 1
        }
    }

    private static func err(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}
