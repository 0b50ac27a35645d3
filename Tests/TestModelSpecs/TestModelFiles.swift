// The files emitted into Tests/GeneratedTestModels/ from the test models: the hand-built
// models of TestModels.swift and the Keras reference fixtures, each unfused and in its fused /
// direct-convolution twins, plus TestModelRegistry.swift mapping model names to classes.
// `modelc-testmodels` writes them (`--check`: verifies them, in CI).

import Foundation
import ModelcCore
import ModelcBackend

extension BackendTestModels {
    /// The repository: the parent of the Sources directory the build driver uses.
    public static func repository() -> String {
        URL(fileURLWithPath: GeneratedFiles.defaultDirectory()).deletingLastPathComponent().path
    }

    /// `<repo>/Tests/GeneratedTestModels`.
    public static func defaultDirectory() -> String {
        repository() + "/Tests/GeneratedTestModels"
    }

    /// What `directory` should hold: every emitted file, and the .swift files no test model produces.
    public static func expected(directory: String = defaultDirectory(), root: String? = nil) -> ExpectedFiles {
        GeneratedFiles.expected(emitted(root: root), flatDirectory: directory)
    }

    /// Keras reference fixtures (Tests/Fixtures/numerics/<case>/model.md) that check cleanly,
    /// with their IRs; the others are reported in `skipped`.
    public static func fixtureIRs(root: String) -> (irs: [(case: String, ir: ModelIR)], skipped: [String]) {
        let dir = root + "/Tests/Fixtures/numerics"
        var irs: [(String, ModelIR)] = []
        var skipped: [String] = []
        for c in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() {
            let path = "\(dir)/\(c)/model.md"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            do {
                let r = try Frontend.check(path: path)
                if !r.ok || !Emitter.problems(r.ir).isEmpty {
                    skipped.append("\(c): does not check: \((r.problems + Emitter.problems(r.ir)).map(\.description).joined(separator: "; "))")
                    continue
                }
                var ir = r.ir
                ir.sourcePath = "Tests/Fixtures/numerics/\(c)/model.md"
                irs.append((c, ir))
            } catch {
                skipped.append("\(c): \(error)")
            }
        }
        return (irs, skipped)
    }

    /// Everything emitted into Tests/GeneratedTestModels/: the hand-built models (unfused,
    /// and fused when they have fusable groups, class name suffixed `Fused`), the Keras
    /// fixture models (unfused and fused), and `TestModelRegistry.swift` mapping model names
    /// to classes. `root` is the repository.
    public static func emitted(root: String? = nil) -> [EmittedModel] {
        var irs = all
        for (_, ir) in fixtureIRs(root: root ?? repository()).irs { irs.append(ir) }
        // Each model unfused; its fused twin (`_fused`) when it has fusable groups; a twin with
        // direct convolutions only (`_direct`) when some of its layers use Winograd.
        var out: [(name: String, model: EmittedModel)] = []
        func add(_ ir: ModelIR, _ suffix: String, fuse: Bool, winograd: Bool = true) {
            var v = ir
            v.name += suffix
            out.append((v.name, Emitter.emit(v, fuse: fuse, winograd: winograd)))
        }
        for ir in irs {
            let first = out.count
            add(ir, "", fuse: false)
            if !Fusion.groups(ir).isEmpty { add(ir, "_fused", fuse: true) }
            if out[first...].contains(where: { !$0.model.winogradLayers.isEmpty }) { add(ir, "_direct", fuse: false, winograd: false) }
        }
        let registry = GeneratedFiles.namedRegistry(out, variable: "backendTestModels", fileName: "TestModelRegistry.swift",
                                                    comment: "Emitted by modelc (`swift run modelc-testmodels`): the backend test models by name. Do not edit.")
        return out.map(\.model) + [registry]
    }
}
