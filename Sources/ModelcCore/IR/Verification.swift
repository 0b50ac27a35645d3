// Verification: the resolved chain against everything the table declared.
//
// Before: a resolved ModelIR (inference already matched each printed shape and count); layers
//         the declared trainable split shows frozen are marked first (FrozenLayers.swift).
// After:  a list of problems (empty when everything matches): the shape chain (or graph), each
//         layer's count, and the total / trainable / non-trainable figures. When Keras 3
//         printed an `Optimizer params:` line, its Total includes optimizer state, so the
//         total is checked as trainable + non-trainable + optimizer.

enum Verifier {
    static func verify(_ ir: inout ModelIR, table: SummaryTable) -> [ModelError] {
        verify(&ir, totalLine: table.totalLine, trainableLine: table.trainableLine, nonTrainableLine: table.nonTrainableLine)
    }

    /// PyTorch semantics compare like with like: BatchNorm running statistics are buffers in
    /// PyTorch (not counted by torchsummary or parameters()), so they are left out of every figure.
    static func verify(_ ir: inout ModelIR, totalLine: Int?, trainableLine: Int?, nonTrainableLine: Int?) -> [ModelError] {
        FrozenLayers.infer(&ir)
        var problems: [ModelError] = []
        let file = ir.sourcePath
        var prev = ir.inputShape
        for (i, L) in ir.layers.enumerated() {
            if L.producers != nil { problems += MergeVerifier.inputs(ir, i) } else if L.inputShape != prev {
                problems.append(ModelError(file: file, line: L.line, message: "layer '\(L.name)': input \(Inference.shapeText(L.inputShape)) does not follow the previous output \(Inference.shapeText(prev))"))
            }
            let own = ir.semantics == .pytorch ? L.paramCount - L.bufferCount : L.paramCount
            if let d = L.declaredParams, d != own {
                problems.append(ModelError(file: file, line: L.line, message: "layer '\(L.name)': \(formatCount(own)) params, the table says \(formatCount(d))"))
            }
            prev = L.outputShape
        }
        problems += SharedLayers.verify(ir)
        let d = ir.declared
        if let t = d.total {
            let expected = ir.frameworkParamCount + (d.optimizer ?? 0)
            if t != expected {
                let what = d.optimizer != nil ? "\(formatCount(ir.frameworkParamCount)) + \(formatCount(d.optimizer ?? 0)) optimizer params" : formatCount(ir.frameworkParamCount)
                problems.append(ModelError(file: file, line: totalLine, message: "total params: computed \(what), declared \(formatCount(t))"))
            }
        }
        if let t = d.trainable, t != ir.trainableParams {
            problems.append(ModelError(file: file, line: trainableLine, message: "trainable params: computed \(formatCount(ir.trainableParams)), declared \(formatCount(t))"))
        }
        if let t = d.nonTrainable, t != ir.frameworkNonTrainableCount {
            problems.append(ModelError(file: file, line: nonTrainableLine, message: "non-trainable params: computed \(formatCount(ir.frameworkNonTrainableCount)), declared \(formatCount(t))"))
        }
        return problems
    }
}
