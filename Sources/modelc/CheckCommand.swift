// modelc check FILE [--json]: parse a model summary (Keras table, PyTorch print(model) repr or
// torchsummary table), infer what it omits, verify every count.
// Exit 0 when everything matches, 1 on a mismatch or model error (FILE:LINE: error: ... on
// stderr), 2 on a usage error.
import Foundation
import ModelcCore

enum CheckCommand {
    static let usage = "usage: modelc check FILE [--json]"

    static func run(_ args: [String]) -> Int32 {
        var json = false
        var file: String?
        for a in args {
            switch a {
            case "--json": json = true
            case "--no-fuse": break   // accepted for symmetry with compile; check does not fuse
            case "-h", "--help":
                print(usage); return 0
            default:
                if a.hasPrefix("-") && a != "-" {
                    stderr("modelc check: unknown option '\(a)'\n\(usage)\n"); return 2
                }
                guard file == nil else { stderr("modelc check: more than one FILE given\n\(usage)\n"); return 2 }
                file = a
            }
        }
        guard let path = file else { stderr("modelc check: missing FILE\n\(usage)\n"); return 2 }
        do {
            let report: CheckReport
            if path == "-" {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                report = try Frontend.check(text: String(decoding: data, as: UTF8.self), path: "<stdin>")
            } else {
                report = try Frontend.check(path: path)
            }
            print(json ? report.json() : report.text(), terminator: "")
            for p in report.problems { stderr(p.description + "\n") }
            return report.ok ? 0 : 1
        } catch let e as ModelError {
            stderr(e.description + "\n")
            return 1
        } catch {
            stderr("\(path): error: \(error)\n")
            return 1
        }
    }

    static func stderr(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
