// `export --weights OUT.npz` (or OUT.safetensors, OUT.weights.h5): a checkpoint's parameters under the model's tensor keys.

enum ExportCommand<M: CompiledModel> {
    static func run(_ args: [String], console: Console) throws {
        let f = try CommandLineFlags(args, command: "export", valueFlags: ["weights", "checkpoint"], switchFlags: [])
        guard let out = f.string("weights") else { throw UsageError("export: --weights OUT.npz is required (or OUT.safetensors, OUT.weights.h5)") }
        let model = M(maxBatch: 1)
        let path = f.string("checkpoint") ?? CommandSupport.defaultCheckpoint(M.info)
        let c = try Checkpoint.read(path: path)
        try c.checkMatches(M.info, file: path)
        c.load(into: model)
        try WeightsFile.export(model, to: out)
        console.err("wrote \(M.info.tensors.count) tensors (\(M.info.parameterCount) floats) from \(path) to \(out)")
    }
}
