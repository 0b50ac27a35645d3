// The SwiftPM build-tool plugin: for every model file among a target's sources (`*.md`: a Keras
// summary table or a PyTorch description, as in models/; `.keras`, Keras 2 `.h5`, `.onnx`), one build command runs
// `modelc emit MODEL -o <plugin work dir>/<model>.swift`; SwiftPM compiles the output into the
// target, which must depend on the ModelcRuntime product. The command reruns when the model
// file (or modelc) changes. See README.md here for the consumer's Package.swift.

import Foundation
import PackagePlugin

@main
struct ModelcPlugin: BuildToolPlugin {
    /// Extensions of the files taken as models (a README in such a target must be `.markdown`
    /// or excluded, as in models/). A model file's weights are the app's to load (`M(weights:)`).
    static let modelExtensions: Set<String> = ["md", "keras", "h5", "onnx"]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let modelc = try context.tool(named: "modelc").url
        let models = module.sourceFiles.filter { Self.modelExtensions.contains($0.url.pathExtension) }
        try Self.checkDistinctNames(models.map(\.url), target: target.name)
        return models.map { file in
            let name = file.url.deletingPathExtension().lastPathComponent
            let output = context.pluginWorkDirectoryURL.appending(path: "\(name).swift")
            return .buildCommand(displayName: "modelc: emitting \(file.url.lastPathComponent) for \(target.name)",
                                 executable: modelc,
                                 arguments: ["emit", file.url.path, "-o", output.path],
                                 inputFiles: [file.url],
                                 outputFiles: [output])
        }
    }

    /// Two models named alike (in different folders) would write the same output file.
    static func checkDistinctNames(_ urls: [URL], target: String) throws {
        var seen: [String: URL] = [:]
        for u in urls {
            let name = u.deletingPathExtension().lastPathComponent
            if let other = seen[name] {
                throw PluginError("target \(target): model files \(other.path) and \(u.path) share the name '\(name)'; rename one")
            }
            seen[name] = u
        }
    }
}

struct PluginError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
