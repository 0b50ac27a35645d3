// The generated binary's command line (ModelcApp.run) run in process on a generated model, with
// its output captured: what the tests of the binary's commands share.

import ModelcRuntime
import ModelcCommands

/// `ModelcApp.run(model, arguments: args)`: the exit code, and stdout's and stderr's lines joined.
func runCommandLine<M: CompiledModel>(_ model: M.Type, _ args: [String], program: String = M.info.name) -> (code: Int32, out: String, err: String) {
    let l = CapturedLines()
    let console = Console(out: { l.out.append($0) }, err: { l.err.append($0) }, isTTY: false)
    let code = ModelcApp.run(model, arguments: args, console: console, program: program)
    return (code, l.out.joined(separator: "\n"), l.err.joined(separator: "\n"))
}

private final class CapturedLines: @unchecked Sendable { var out: [String] = [], err: [String] = [] }
