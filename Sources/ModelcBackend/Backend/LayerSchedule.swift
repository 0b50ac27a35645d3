// The emitter's walk over the layers: each layer gets its context (buffers, fusion), its
// operator emitter writes its functions, and its steps join the four schedules (training
// forward, batch inference, single-image inference, backward).

import ModelcCore

struct LayerSchedule {
    var train: [Step] = [], infer: [Step] = [], single: [Step] = [], back: [[Step]] = []
    /// Buffer names: a0 is a copy of the input; layer i writes a<i> (its gradient g<i>).
    private(set) var aName = ["a0"], gName = ["g0"]
    let firstTrainable: Int
    /// Producers and gradient uses (a chain's: the layer above, one use each).
    let flow: GraphFlow
    private let layers: [Layer]
    private let fusion: FusionPlan
    private let params: ParameterLayout
    private var prePadded: Set<Int> = []         // Conv2D positions whose padded input a fused group writes
    private var unpaddedConvs: Set<Int> = []     // Conv2D positions that read their input unpadded (ConvLowering)
    private var bnDataInProducer: Set<Int> = []  // BatchNorm positions whose backward-data pass the producer runs
    /// Several inputs: the Input layers' positions and their offsets in the flat input (Passes/MultiInputSplit.swift).
    var inputSlices: [Int: Int] = [:]

    var lastA: String { aName.last ?? "a0" }
    var lastG: String { gName.last ?? "g0" }

    init(_ layers: [Layer], fusion: FusionPlan, params: ParameterLayout) {
        self.layers = layers; self.fusion = fusion; self.params = params
        firstTrainable = layers.firstIndex { $0.trainableParamCount > 0 } ?? layers.count
        flow = GraphFlow(layers)
    }

    /// Index in aName/gName of layer p's output (a0 is the input copy when layer 0 is not an input).
    private func bufferIndex(_ p: Int) -> Int { Emitter.isInput(layers[0]) ? p : p + 1 }

    /// Emits every layer into `m`, reading its choices from `lowering` and recording its buffers there.
    mutating func run(_ ir: ModelIR, _ m: ModelEmission, _ lowering: inout LoweringPlan) {
        var inputShape = ir.inputShape
        unpaddedConvs = Set(lowering.layers.indices.filter { lowering.layers[$0].conv?.unpaddedInput == true })
        for (i, l) in layers.enumerated() where i > 0 || !Emitter.isInput(l) {
            let firstBuffer = m.buffers.count
            m.layer = i
            let emitter = self.emitter(i, flatten: ir.flattenOrder, lowering: lowering.layers[i])
            let ctx = context(i, emitter, inputShape: inputShape, m)
            let steps = emitter.emit(ctx, m)
            lowering.layers[i].buffers = m.buffers[firstBuffer...].map {
                PlannedBuffer(name: $0.name, perImage: $0.perImage, perChunk: $0.perChunk, fixed: $0.fixed, description: $0.comment)
            }
            add(steps, position: i, m)
            inputShape = l.outputShape
        }
    }

    private mutating func add(_ steps: (train: [Step], infer: [Step], backward: [Step]), position i: Int, _ m: ModelEmission) {
        let fusedInTraining = fusion.trainingActivation.values.contains(i)   // its BatchNorm runs it
        if !fusedInTraining { train += steps.train }
        // Layers folded into their producer do not run at inference.
        if !fusion.foldedBatchNorms.contains(i) && !fusion.foldedActivations.contains(i) && !fusion.foldedInference.contains(i) {
            infer += steps.infer
            single += m.singleImage ?? steps.infer
        }
        m.singleImage = nil
        let sum = flow.gradientSum(i, g: gName[bufferIndex(i)], size: layers[i].outputShape.reduce(1, *),
                                   prefix: LayerContext.prefix(bufferIndex(i), layers[i].name), name: layers[i].name, m)
        back.append(sum + (flow.hasGradient[i] && !fusedInTraining ? steps.backward : []))
    }

    /// The layer's operator emitter, with the training fusions of a BatchNorm applied.
    private func emitter(_ i: Int, flatten: FlattenOrder, lowering: LayerLowering) -> OpEmitter {
        let l = layers[i], idx = aName.count
        var emitter = Emitter.opEmitter(l, plan: fusion, position: i, flatten: flatten, lowering: lowering)
        if let offset = inputSlices[i] { return InputSliceEmitter(offset: offset) }
        // training fusion: BatchNorm computes the following activation (Fusion.swift)
        if let a = fusion.trainingActivation[i], case .batchNorm(let bn) = l.op, case .activation(let f) = layers[a].op,
           let epi = Fusion.epilogue(f) {
            emitter = BatchNormEmitter(attrs: bn, foldedIntoProducer: fusion.foldedBatchNorms.contains(i),
                                       trainActivation: (epi, layers[a].name, "a\(idx + a - i)", "g\(idx + a - i)"))
        }
        if bnDataInProducer.contains(i), var bnEmitter = emitter as? BatchNormEmitter {
            bnEmitter.dataInProducer = true
            emitter = bnEmitter
        }
        return emitter
    }

    /// The layer's buffers and fusion; declares its output (and gradient) buffer.
    private mutating func context(_ i: Int, _ emitter: OpEmitter, inputShape: [Int], _ m: ModelEmission) -> LayerContext {
        let l = layers[i], idx = aName.count
        let inputs = inputBuffers(i, m)
        var y = "a\(idx)", gy = "g\(idx)"
        if emitter.aliasesInput { y = inputs[0].x; gy = inputs[0].gx ?? gName[idx - 1] }
        var ctx = LayerContext(index: idx, layer: l, x: inputs[0].x, y: y, gx: inputs[0].gx, gy: gy,
                               inShape: Emitter.inputShapeOf(l, fallback: inputShape), outShape: l.outputShape,
                               activation: Emitter.folded(l), paramOffsets: params.offsets[i], parameterCount: params.count)
        ctx.readShift = params.readShift(i)
        ctx.inputPrePadded = prePadded.contains(i)
        ctx.inputs = inputs
        if let g = fusion.folds[i], let bnPos = g.batchNorm, case .batchNorm = layers[bnPos].op {
            ctx.fused = fusedOutput(g, producer: i, index: idx)
            if case .conv2d = l.op { ctx.trainingBatchNorm = trainingBatchNorm(bnPos, producer: i, index: idx, x: y) }
        }
        if !emitter.aliasesInput {
            m.buffer(y, perImage: ctx.outSize, "\(l.name) output \(shapeText(l.outputShape))")
            if flow.hasGradient[i] { m.buffer(gy, perImage: ctx.outSize, "gradient of \(l.name) output") }
        }
        aName.append(y); gName.append(gy)
        return ctx
    }

    /// Layer i's inputs: each producer's output buffer and the gradient buffer this use writes
    /// (nil when the producer needs none); declares the extra gradient of a second or later use.
    private func inputBuffers(_ i: Int, _ m: ModelEmission) -> [LayerInput] {
        let ps = flow.producers[i]
        if ps.isEmpty { return [LayerInput(x: aName[0], gx: nil, shape: layers[i].inputShape)] }   // a non-input first layer reads a0
        return ps.enumerated().map { s, p in
            let b = bufferIndex(p), shape = MergeVerifier.shape(of: layers[p], seenBy: layers[i])
            guard flow.hasGradient[p] else { return LayerInput(x: aName[b], gx: nil, shape: shape) }
            let k = flow.useIndex(of: p, consumer: i, slot: s)
            if k == 0 { return LayerInput(x: aName[b], gx: gName[b], shape: shape) }
            let g = GraphFlow.extraGradient(gName[b], use: k)
            m.buffer(g, perImage: shape.reduce(1, *), "gradient of \(layers[p].name) output from \(layers[i].name)")
            return LayerInput(x: aName[b], gx: g, shape: shape)
        }
    }

    /// What the producer at position i (buffer index idx) writes at inference for group g.
    private mutating func fusedOutput(_ g: FusedGroup, producer i: Int, index idx: Int) -> FusedOutput {
        let l = layers[i]
        var epi = EpilogueActivation.none
        if let a = g.activation, case .activation(let f) = layers[a].op { epi = Fusion.inferenceEpilogue(f) ?? .none }
        // A Conv2D group feeding a padded Conv2D writes straight into that layer's padded input
        // (unless the consumer reads its input unpadded).
        var target = "a\(idx + g.last - i)"
        var layout = PixelLayout.dense(layers[g.last].outputShape)
        if case .conv2d = l.op, g.last + 1 < layers.count, case .conv2d(let ca) = layers[g.last + 1].op,
           ca.dilationH == 1 && ca.dilationW == 1, flow.producers[g.last + 1] == [g.last], flow.uses[g.last].count == 1 {
            let consumer = layers[g.last + 1]
            let cg = ConvGeometry(conv: ca, inShape: Emitter.inputShapeOf(consumer, fallback: layers[g.last].outputShape), outShape: consumer.outputShape)
            if cg.padded && !unpaddedConvs.contains(g.last + 1) {
                target = LayerContext.prefix(idx + g.last + 1 - i, consumer.name) + "xp"
                layout = .padded(cg)
                prePadded.insert(g.last + 1)
            }
        }
        let bnPos = g.batchNorm ?? i   // always set: the caller folds only groups with a BatchNorm
        return FusedOutput(target: target, layout: layout, pool: fusedPool(g, after: l), activation: epi, names: g.description,
                           batchNormValue: BatchNormPasses.layerValue(LayerContext.prefix(idx + bnPos - i, layers[bnPos].name)))
    }

    /// The pooling layer (and its activation) folded into group g at inference, if any.
    private func fusedPool(_ g: FusedGroup, after l: Layer) -> FusedPool? {
        guard let pp = g.pool else { return nil }
        var post = EpilogueActivation.none
        if let a = g.poolActivation, case .activation(let f) = layers[a].op { post = Fusion.inferenceEpilogue(f) ?? .none }
        switch layers[pp].op {
        case .maxPool(let pa), .avgPool(let pa):
            var isMax = false
            if case .maxPool = layers[pp].op { isMax = true }
            let geo = ConvGeometry(pool: pa, inShape: Emitter.inputShapeOf(layers[pp], fallback: l.outputShape), outShape: layers[pp].outputShape)
            return FusedPool(geometry: geo, isMax: isMax, activation: post)
        default:
            return nil
        }
    }

    /// Training: a Conv2D producer runs the following BatchNorm's backward-data pass per image.
    private mutating func trainingBatchNorm(_ bnPos: Int, producer i: Int, index idx: Int, x: String) -> BatchNormBackwardData {
        let a = fusion.trainingActivation[bnPos]
        var trainEpi: EpilogueActivation? = nil
        if let a = a, case .activation(let f) = layers[a].op { trainEpi = Fusion.epilogue(f) }
        let bnIdx = idx + bnPos - i
        bnDataInProducer.insert(bnPos)
        return BatchNormBackwardData(
            layer: BatchNormPasses.layerValue(LayerContext.prefix(bnIdx, layers[bnPos].name)),
            dOut: a.map { "g\(idx + $0 - i)" } ?? "g\(bnIdx)", out: a.map { "a\(idx + $0 - i)" } ?? "a\(bnIdx)",
            x: x, activation: trainEpi)
    }
}
