// Flatten (HWC order), Reshape and the input layer: NHWC memory already has the target
// order, so the output and its gradient alias the input's buffers; no code runs.

struct ReshapeEmitter: OpEmitter {
    var aliasesInput: Bool { true }
    func emit(_ c: LayerContext, _ m: ModelEmission) -> (train: [Step], infer: [Step], backward: [Step]) {
        ([], [], [])
    }
}
