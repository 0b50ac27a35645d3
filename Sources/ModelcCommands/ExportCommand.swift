// `export --weights OUT.npz` (or OUT.safetensors, OUT.weights.h5): a model's parameters under its
// tensor keys, from a checkpoint (--checkpoint PATH, default the model's checkpoint), from a weights
// file (--from W: any format `--weights` reads elsewhere, so export also converts between formats),
// or, with neither and no default checkpoint, from the weights `modelc compile` stored beside the binary
// (CommandSupport.loadWeights, as eval and predict load theirs).

import ModelcRuntime

enum ExportCommand<M: CompiledModel> {
    static func run(_ args: [String], console: Console) throws {
        let f = try CommandLineFlags(args, command: "export", valueFlags: ["weights", "checkpoint", "from"], switchFlags: [])
        guard let out = f.string("weights") else { throw UsageError("export: --weights OUT.npz is required (or OUT.safetensors, OUT.weights.h5)") }
        let model = M(maxBatch: 1)
        let source = try CommandSupport.loadWeights(model, flags: f, weightsFlag: "from").source
        try WeightsFile.export(model, to: out)
        console.err("wrote \(M.info.tensors.count) tensors (\(M.info.parameterCount) floats) from \(source) to \(out)")
    }
}
