// modelc-testmodels [--check] [--directory DIR]: emits the backend test models (TestModelSpecs)
// into Tests/GeneratedTestModels/, where BackendTests compiles and runs them. With --check it
// writes nothing and exits 1 if any file there differs from what the emitter produces now or is
// stale (CI runs it after `modelc generate --check`).

import Foundation
import ModelcBackend
import TestModelSpecs

let usage = "usage: modelc-testmodels [--check] [--directory DIR]"

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("modelc-testmodels: \(message)\n\(usage)\n".utf8))
    exit(2)
}

var check = false
var directory = BackendTestModels.defaultDirectory()
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--check": check = true
    case "--directory":
        guard let d = args.popFirst() else { fail("--directory needs a value") }
        directory = d
    case "-h", "--help": print(usage); exit(0)
    default: fail("unknown argument '\(a)'")
    }
}
exit(BackendTestModels.expected(directory: directory).sync(check: check, regenerate: "swift run modelc-testmodels"))
