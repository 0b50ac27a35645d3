// `modelc generate [--check] [--models DIR] [--generated DIR]`: regenerate generated/ from
// models/*.md; --check only reports differences (CI). The backend test models in
// Tests/GeneratedTestModels/ are emitted by `modelc-testmodels` (Tests/TestModelGenerator).

import Foundation
import ModelcBackend

enum GenerateCommand {
    static let usage = "usage: modelc generate [--check] [--models DIR] [--generated DIR]"

    static func run(_ args: [String]) -> Int32 {
        var check = false
        let repo = URL(fileURLWithPath: GeneratedFiles.defaultDirectory()).deletingLastPathComponent().path
        var modelsDir = repo + "/models"
        var generated = GeneratedFiles.defaultDirectory()
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--check": check = true
            case "--models", "--generated":
                guard i + 1 < args.count else { return CompileCommand.usageError("\(args[i]) needs a value") }
                if args[i] == "--models" { modelsDir = args[i + 1] } else { generated = args[i + 1] }
                i += 1
            case "-h", "--help": print(usage); return 0
            default:
                CompileCommand.err("modelc generate: unknown argument '\(args[i])'\n\(usage)")
                return 2
            }
            i += 1
        }
        do {
            let expected = try GeneratedFiles.expected(modelsDirectory: modelsDir, generatedDirectory: generated)
            return expected.sync(check: check, regenerate: "modelc generate")
        } catch {
            CompileCommand.err("\(error)")
            return 1
        }
    }
}
