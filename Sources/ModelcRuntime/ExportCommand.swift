// `export --weights OUT.npz`: a checkpoint's parameters as a Keras-named .npz file.

enum ExportCommand<M: CompiledModel> {
    static func run(_ args: [String], console: Console) throws {
        let f = try CommandLineFlags(args, command: "export", valueFlags: ["weights", "checkpoint"], switchFlags: [])
        guard let out = f.string("weights") else { throw UsageError("export: --weights OUT.npz is required") }
        let model = M(maxBatch: 1)
        let path = f.string("checkpoint") ?? CommandSupport.defaultCheckpoint(M.info)
        let c = try Checkpoint.read(path: path)
        try c.checkMatches(M.info, file: path)
        c.load(into: model)
        try WeightsFile.export(model, to: out)
        console.err("wrote \(M.info.tensors.count) tensors (\(M.info.parameterCount) floats) from \(path) to \(out)")
    }
}
