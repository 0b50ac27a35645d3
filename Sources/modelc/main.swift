// modelc: the thin command line. Each subcommand lives in its own file as `<Name>Command.run(args)`,
// returning the process exit code (0 ok, 1 model/data error or mismatch, 2 usage error).
import Foundation

let usage = """
usage: modelc <command> [options]

commands:
  check FILE [--json] [--no-fuse]      parse a model summary, infer what it omits, verify every count
  compile FILE [-o BIN] [--emit-only] [--no-fuse] [--no-winograd]
                                       emit fixed-size Swift into generated/<model>/ and build a binary
  emit FILE -o OUT.swift               the model's Swift as one file, nothing built (the SwiftPM plugin runs this)
  generate [--check]                   regenerate (or verify) generated/ from models/
  download NAME [--dir DIR] [--base URL]
                                       fetch a dataset's official files (checksums, resume, atomic)
  demo [--epochs N] [--limit N]        main job: compile the MNIST seed CNN, train it on the shipped sample, evaluate
  help                                 this text
"""

var args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}
args.removeFirst()
let code: Int32
switch command {
case "check": code = CheckCommand.run(args)
case "compile": code = CompileCommand.run(args)
case "emit": code = EmitCommand.run(args)
case "generate": code = GenerateCommand.run(args)
case "sweep": code = SweepCommand.run(args)
case "demo": code = DemoCommand.run(args)
case "download": code = DownloadCommand.run(args)
case "help", "--help", "-h":
    print(usage)
    code = 0
default:
    FileHandle.standardError.write(Data("modelc: unknown command '\(command)'\n\n\(usage)\n".utf8))
    code = 2
}
exit(code)
