// The files emitted into Tests/GeneratedTestModels/ from the test models: the hand-built
// models of TestModels.swift, each unfused and in its fused / direct-convolution twins, and the
// Keras reference fixtures as `modelc compile` builds them (fused where they can be), plus
// TestModelRegistry.swift mapping model names to classes.
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
    /// fixture models (fused when they have fusable groups, else unfused), and `TestModelRegistry.swift` mapping model names
    /// to classes. A fixture whose network is a model of models/ (same fingerprint) registers
    /// that model's class from generated/ (GeneratedModels) for the twin generated/ holds (fused,
    /// as `modelc generate` emits) instead of a copy. `root` is the repository.
    public static func emitted(root: String? = nil) -> [EmittedModel] {
        let repo = root ?? repository()
        let handBuilt = all.count
        var irs = all
        for (_, ir) in fixtureIRs(root: repo).irs { irs.append(ir) }
        let shipped = shippedClasses(root: repo)
        // Each model unfused; its fused twin (`_fused`) when it has fusable groups; for the
        // hand-built models, a twin with direct convolutions only (`_direct`) when some of its
        // layers use Winograd (the fixtures check their Winograd forms against the reference).
        var out: [(name: String, model: EmittedModel)] = []
        var registry: [(name: String, className: String)] = []
        func add(_ ir: ModelIR, _ suffix: String, fuse: Bool, winograd: Bool = true) {
            var v = ir
            v.name += suffix
            let e = Emitter.emit(v, fuse: fuse, winograd: winograd)
            out.append((v.name, e))
            registry.append((v.name, e.className))
        }
        for (i, ir) in irs.enumerated() {
            let first = out.count
            let fusable = !Fusion.groups(ir).isEmpty
            let twin = fusable ? "_fused" : ""
            // A fixture is emitted as `modelc compile` builds it: fused when it has fusable groups.
            // Fused and unfused are compared on the hand-built models.
            // `safe_names` tests identifiers only: unfused alone. The Winograd and PyTorch-semantics
            // models are checked as `compile` builds them (fused); fused and unfused are compared on
            // the others.
            let bothForms = [("", false)] + (fusable && ir.name != "safe_names" ? [("_fused", true)] : [])
            let forms = (i < handBuilt && !Self.fusedOnly.contains(ir.name)) || !fusable ? bothForms : [("_fused", true)]
            for (suffix, fuse) in forms {
                if suffix == twin, let cls = shipped[Fingerprint.of(ir)] {
                    registry.append((ir.name + suffix, cls))
                } else {
                    add(ir, suffix, fuse: fuse)
                }
            }
            if i < handBuilt && out[first...].contains(where: { !$0.model.winogradLayers.isEmpty }) {
                add(ir, "_direct", fuse: false, winograd: false)
            }
        }
        let file = GeneratedFiles.namedRegistry(registry, variable: "backendTestModels", fileName: "TestModelRegistry.swift",
                                                comment: "Emitted by modelc (`swift run modelc-testmodels`): the backend test models by name. Do not edit.",
                                                imports: ["GeneratedModels"])
        return out.map(\.model) + [file]
    }

    /// Hand-built models emitted fused only (their unfused forms add nothing the others do not test).
    static let fusedOnly: Set<String> = ["wino_cnn", "wino5_cnn", "gc_pytorch", "gc_pytorch_conv1d"]

    /// The classes generated/ holds for the models of models/, by fingerprint.
    static func shippedClasses(root: String) -> [String: String] {
        var out: [String: String] = [:]
        let dir = root + "/models"
        for f in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where f.hasSuffix(".md") {
            guard let r = try? Frontend.check(path: "\(dir)/\(f)"), r.ok else { continue }
            out[Fingerprint.of(r.ir)] = Emitter.className(for: r.ir.name)
        }
        return out
    }
}
