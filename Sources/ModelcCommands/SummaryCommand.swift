// `summary`: the model's normalized table, parameter counts, input and training defaults.

import ModelcRuntime

enum SummaryCommand<M: CompiledModel> {
    static func run(_ args: [String], console: Console) throws {
        let f = try CommandLineFlags(args, command: "summary", valueFlags: [], switchFlags: ["json"])
        let info = M.info
        let config = try TrainingConfig(defaults: info.defaults, dataset: info.dataset ?? "")
        let nonTrainable = info.parameterCount - info.trainableParameterCount
        if f.has("json") {
            console.out(JSON.object([
                ("name", JSON.string(info.name)), ("fingerprint", JSON.string(info.fingerprint)),
                ("input", JSON.array([info.inputHeight, info.inputWidth, info.inputChannels].map(String.init))),
                ("classes", JSON.array(info.classNames.map(JSON.string))),
                ("total_params", "\(info.parameterCount)"), ("trainable_params", "\(info.trainableParameterCount)"),
                ("non_trainable_params", "\(nonTrainable)"), ("forward_flops", "\(info.forwardFlops)"),
                ("tensors", JSON.array(info.tensors.map { JSON.object([("key", JSON.string($0.key)), ("shape", JSON.array($0.kerasShape.map(String.init))), ("trainable", $0.trainable ? "true" : "false")]) })),
                ("training", JSON.object(config.pairs().map { ($0.0, JSON.string($0.1)) })),
            ]))
            return
        }
        var lines = [info.summary, ""]
        lines.append("model \(info.name)  (fingerprint \(info.fingerprint), \(info.semantics) semantics)")
        lines.append("input \(info.inputHeight)x\(info.inputWidth)x\(info.inputChannels), pixel p -> p * \(info.inputScale) + \(info.inputOffset)")
        if !info.inputs.isEmpty { lines.append("inputs (one .npz array each): " + InputArrays.expected(info)) }
        if M.head == .sigmoid && info.classCount == 1 {
            lines.append("classes: binary (0, 1; the one sigmoid output is P(class \(info.displayName(ofClass: 0))))")
        } else {
            lines.append("classes (\(info.classCount)): " + (0..<info.classCount).map { info.displayName(ofClass: $0) }.joined(separator: ", "))
        }
        lines.append("total params: \(info.parameterCount)  trainable: \(info.trainableParameterCount)  non-trainable: \(nonTrainable)")
        lines.append("forward FLOPs per image: \(info.forwardFlops)")
        lines.append("tensors: " + info.tensors.map { "\($0.key) \($0.kerasShape)" }.joined(separator: ", "))
        lines.append("training defaults: " + config.pairs().filter { $0.0 != "limit" }.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        console.out(lines.joined(separator: "\n"))
    }
}
