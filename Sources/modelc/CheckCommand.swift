// modelc check FILE [--json] [--plan]: parse a model summary (Keras table, PyTorch print(model)
// repr or torchsummary table), infer what it omits, verify every count; a Keras model file
// (`.keras`, or a config `.json`) gives its architecture exactly (KerasConfig), an ONNX model file
// (`.onnx`) too (ONNXImporter); `--plan` also prints the
// lowering plan `modelc compile` follows (kernels, forms, reasons, threads, buffers), which
// `--json` always carries under "plan".
// Exit 0 when everything matches, 1 on a mismatch or model error (FILE:LINE: error: ... on
// stderr), 2 on a usage error.
import Foundation
import ModelcCore
import ModelcBackend

enum CheckCommand {
    static let usage = "usage: modelc check FILE [--json] [--plan]"

    static func run(_ args: [String]) -> Int32 {
        var json = false, showPlan = false
        var file: String?
        for a in args {
            switch a {
            case "--json": json = true
            case "--plan": showPlan = true
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
            let compileProblems = report.ok ? Emitter.problems(report.ir) : []
            let e = report.ok && compileProblems.isEmpty ? Emitter.emit(report.ir, fuse: true) : nil
            if json {
                print(withFusedGroups(json: report.json(), report.ir, winograd: e?.winogradLayers ?? [], plan: e?.plan), terminator: "")
            } else {
                print(withFusedGroups(text: report.text(), report.ir, winograd: e?.winogradLayers.summary ?? ""), terminator: "")
                if showPlan { print(e?.plan.text ?? "Plan: none (the model has errors; see above)") }
            }
            for p in report.problems { stderr(p.description + "\n") }
            // The description checks, but `modelc compile` would refuse it: say so now.
            for p in compileProblems { stderr(p.description.replacingOccurrences(of: ": error: ", with: ": note: modelc compile refuses this model: ") + "\n") }
            return report.ok ? 0 : 1
        } catch let e as ModelError {
            stderr(e.description + "\n")
            return 1
        } catch {
            stderr("\(path): error: \(error)\n")
            return 1
        }
    }

    /// The fusion pass's groups (ModelcBackend), as `modelc compile` will fuse them.
    /// Also names the Conv2D layers whose batch inference `modelc compile` emits with Winograd
    /// tiles, and their forms ("conv2d_2 F(3x3, 5x5)").
    static func withFusedGroups(text: String, _ ir: ModelIR, winograd: String = "") -> String {
        let groups = Fusion.groups(ir)
        var s = text
        if !s.hasSuffix("\n") && !s.isEmpty { s += "\n" }
        s += "Fused groups:" + (groups.isEmpty ? " none\n" : "\n")
        for g in groups { s += "  " + g.description + "\n" }
        if !winograd.isEmpty { s += "Winograd (batch inference and training): " + winograd + "\n" }
        return s
    }

    /// Adds `"fused_groups": [["conv2d_1", "batch_normalization_1", "re_lu_1"], ...]`,
    /// `"winograd_layers": [{"name": "conv2d_2", "form": "F(3x3, 5x5)", "forward": true,
    /// "input_gradient": false}, ...]` and `"plan"` (LoweringPlan.json, null when the model has
    /// errors) as the last keys.
    static func withFusedGroups(json: String, _ ir: ModelIR, winograd: [WinogradLayer] = [], plan: LoweringPlan? = nil) -> String {
        let q = JSON.string
        let groups = "[" + Fusion.groups(ir).map { "[" + $0.names.map(q).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
        var s = json
        var tail = ""
        while let last = s.last, last.isWhitespace { tail = String(last) + tail; s.removeLast() }
        guard s.hasSuffix("}") else { return json }
        s.removeLast()
        while let last = s.last, last.isWhitespace { s.removeLast() }
        let empty = s.hasSuffix("{")
        let wino = "[" + winograd.map { "{\"name\": \(q($0.name)), \"form\": \(q($0.form)), \"forward\": \($0.forward), \"input_gradient\": \($0.inputGradient)}" }.joined(separator: ", ") + "]"
        return s + (empty ? "" : ",") + "\n  \"fused_groups\": " + groups + ",\n  \"winograd_layers\": " + wino +
            ",\n  \"plan\": " + (plan?.json ?? "null") + "\n}" + tail
    }

    static func stderr(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
