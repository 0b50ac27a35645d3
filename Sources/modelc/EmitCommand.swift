// `modelc emit MODEL -o OUT.swift [--no-fuse] [--no-winograd]`: the model's Swift as one file,
// written atomically, nothing built. The SwiftPM build-tool plugin (Sources/ModelcPlugin) runs
// it for every model file among a target's sources; the class (printed) conforms to
// CompiledModel and needs only `import ModelcRuntime`.

import Foundation
import ModelcBackend
import ModelcData

enum EmitCommand {
    static let usage = "usage: modelc emit MODEL -o OUT.swift [--no-fuse] [--no-winograd]"

    static func run(_ args: [String]) -> Int32 {
        var model: String?
        var output: String?
        var fuse = true, winograd = true
        var i = 0
        while i < args.count {
            let a = args[i]
            switch a {
            case "-o", "--output":
                guard i + 1 < args.count else { return usageError("\(a) needs a value") }
                output = args[i + 1]
                i += 1
            case "--no-fuse": fuse = false
            case "--no-winograd": winograd = false
            case "-h", "--help": print(usage); return 0
            default:
                if a.hasPrefix("-") { return usageError("unknown option '\(a)'") }
                if model != nil { return usageError("one model file at a time (found '\(model!)' and '\(a)')") }
                model = a
            }
            i += 1
        }
        guard let path = model else { return usageError("no model file given") }
        guard let out = output else { return usageError("no output file given (-o OUT.swift)") }
        guard let ir = CompileCommand.checkedIR(path) else { return 1 }
        let e = Emitter.emit(ir, fuse: fuse, winograd: winograd)
        do {
            try AtomicFile.write(Data(e.source.utf8), to: out)
        } catch {
            CompileCommand.err("\(error)")
            return 1
        }
        print("emitted \(out) (class \(e.className))")
        return 0
    }

    static func usageError(_ m: String) -> Int32 {
        CompileCommand.err("modelc emit: \(m)\n\(usage)")
        return 2
    }
}
