// `modelc emit` (what the SwiftPM build-tool plugin runs) with the built modelc binary: the file
// it writes is the committed generated/ file `modelc generate` writes; bad invocations and bad models are errors naming
// what was expected and what was found.

import XCTest
import Foundation

extension SweepTests {
    func testEmitWritesWhatGenerateCommits() throws {
        let out = temp() + "/mlp.swift"
        let model = repo.appendingPathComponent("models/seed001_mlp_128_64_relu_adam.md").path
        let r = try run(["emit", model, "-o", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "emitted \(out) (class Seed001Mlp12864ReluAdam)\n")
        let emitted = try String(contentsOfFile: out, encoding: .utf8)
        let committed = try String(contentsOfFile: repo.appendingPathComponent("generated/seed001_mlp_128_64_relu_adam/Seed001Mlp12864ReluAdam.swift").path, encoding: .utf8)
        XCTAssertEqual(emitted, committed)   // (the header names the model file relative to the repository)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (out as NSString).deletingLastPathComponent), ["mlp.swift"],
                       "one file, no temporary left behind")
    }

    func testEmitRejectsBadInvocationsAndModels() throws {
        let dir = temp()
        let model = repo.appendingPathComponent("models/seed001_mlp_128_64_relu_adam.md").path
        for (args, status, expected) in [
            (["emit", model], Int32(2), "no output file given (-o OUT.swift)"),
            (["emit", "-o", dir + "/x.swift"], 2, "no model file given"),
            (["emit", model, model, "-o", dir + "/x.swift"], 2, "one model file at a time"),
            (["emit", model, "-o", dir + "/x.swift", "--fast"], 2, "unknown option '--fast'"),
            (["emit", dir + "/missing.md", "-o", dir + "/x.swift"], 1, "\(dir)/missing.md"),
            (["emit", model, "-o", dir + "/no/such/dir/x.swift"], 1, "\(dir)/no/such/dir"),
        ] {
            let r = try run(args)
            XCTAssertEqual(r.status, status, "\(args): \(r.err)")
            XCTAssertTrue(r.err.contains(expected), "\(args): stderr \(r.err)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.swift"))
    }

    /// `compile` without `--generated` emits a model of the repository's `models/` into the
    /// committed `generated/`, and any other model into the build cache's `generated/`, so that
    /// compiling a user's model does not touch the repository's committed files.
    func testCompileEmitsUserModelsIntoTheCache() throws {
        let dir = temp(), cache = dir + "/cache"
        let committed = repo.appendingPathComponent("models/seed001_mlp_128_64_relu_adam.md").path
        try FileManager.default.copyItem(atPath: committed, toPath: dir + "/my_mlp.md")
        func emittedPath(_ model: String) throws -> String {
            let r = try run(["compile", model, "--emit-only"], environment: ["MODELC_CACHE": cache])
            XCTAssertEqual(r.status, 0, r.err)
            let line = try XCTUnwrap(r.out.split(separator: "\n").first { $0.hasPrefix("emitted ") })
            return String(line.dropFirst("emitted ".count).prefix { $0 != " " })
        }
        let mine = try emittedPath(dir + "/my_mlp.md")
        XCTAssertTrue(mine.hasPrefix(cache + "/generated/"), mine)
        XCTAssertTrue(FileManager.default.fileExists(atPath: mine))
        XCTAssertFalse(FileManager.default.fileExists(atPath: repo.appendingPathComponent("generated/my_mlp").path))
        let ours = try emittedPath(committed)
        XCTAssertEqual(ours, repo.appendingPathComponent("generated/seed001_mlp_128_64_relu_adam/Seed001Mlp12864ReluAdam.swift").path)
    }
}
