// `export --weights OUT.npz` (or OUT.safetensors, OUT.weights.h5): a model's parameters under its
// tensor keys, from a checkpoint (--checkpoint PATH, default the model's checkpoint), from a weights
// file (--from W: any format `--weights` reads elsewhere, so export also converts between formats),
// or, with neither and no default checkpoint, from the weights `modelc compile` stored beside the binary.

import ModelcData

enum ExportCommand<M: CompiledModel> {
    static func run(_ args: [String], console: Console) throws {
        let f = try CommandLineFlags(args, command: "export", valueFlags: ["weights", "checkpoint", "from"], switchFlags: [])
        guard let out = f.string("weights") else { throw UsageError("export: --weights OUT.npz is required (or OUT.safetensors, OUT.weights.h5)") }
        let model = M(maxBatch: 1)
        let source = try load(model, f)
        try WeightsFile.export(model, to: out)
        console.err("wrote \(M.info.tensors.count) tensors (\(M.info.parameterCount) floats) from \(source) to \(out)")
    }

    /// Loads the parameters to export; returns where they came from.
    static func load(_ model: M, _ f: CommandLineFlags) throws -> String {
        if let from = f.string("from") {
            if f.has("checkpoint") { throw UsageError("export: give either --checkpoint or --from, not both") }
            try WeightsFile.load(from, into: model)
            return from
        }
        let path = f.string("checkpoint") ?? CommandSupport.defaultCheckpoint(M.info)
        if f.string("checkpoint") == nil && !FileIO.exists(path), let bundled = try CommandSupport.loadBundledWeights(model) {
            return bundled
        }
        let c = try Checkpoint.read(path: path)
        try c.checkMatches(M.info, file: path)
        c.load(into: model)
        return path
    }
}
