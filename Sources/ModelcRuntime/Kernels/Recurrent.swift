// Recurrent layers (Keras SimpleRNN, LSTM, GRU with both reset_after forms) over a chunk of
// images, forward and backward through time side by side, llm.c style. The gate GEMMs run on
// Gemm.runtime (Kernels/GemmRuntime.swift: these kernels are compiled in the runtime, with
// run-time sizes), the recurrent kernel packed once for all the steps of a chunk; the gate math
// is loops over the units (the LSTM's 16 units at a time, each direction in one pass:
// VectorMath.lstmStep and lstmStepBackward), the activations 16 at a time (Kernels/VectorMath.swift).
//
// Shapes (one image; T steps, D inputs, U units, G gates: SimpleRNN 1, LSTM 4 (i, f, c, o),
// GRU 3 (z, r, h), or r, z, h with `resetFirst` (PyTorch's r, z, n); W = G*U):
//   x [T, D]   kernel [D, W]   recurrent [U, W]   bias [W]   recurrentBias [W]   y [T, U] or [U]
// The forward keeps, per image, in `state` (RecurrentGeometry.stateFloats):
//   gates [T, W]  the activated gates (LSTM i, f, c~, o; GRU z, r, h~; SimpleRNN unused)
//   h     [T, U]  the states
//   c     [T, U]  LSTM: the cell states
//   extra [T, U]  GRU reset_after: h' Uh + b2 (what r multiplies); reset_before: r * h'
//   rec   [W]     scratch: the state projection of the current step
//   mask  [T]     `masked` layers: 1 for a kept step, 0 for a masked one (time order), filled
//                 from the model's input by RecurrentLayer.forward (SequenceMaskRule). A masked
//                 step keeps the previous state (and cell); its gradients dz are zero and dh
//                 (dc) pass through it unchanged. With return_sequences its output is the state
//                 (the previous output), or zeros with `zeroMaskedOutput` (Keras Bidirectional).
// An inference forward (`keepSteps` false) writes step t's gates, h, c and extra to row t mod 2
// (the gates to row t when the input projection runs for all steps at once): StepRows.
// The backward's per-image scratch `work` (RecurrentGeometry.workFloats):
//   dz    [T, W]  gradients of the gate pre-activations (the input projection's)
//   dzh   [T, U]  GRU: the candidate's gradient as the recurrent projection sees it
//   dh, dc [U]    the gradients carried to the previous step
// Every gradient tensor is stored (not accumulated): one chunk's partial sums.

public enum RecurrentCellKind: Sendable {
    case simple, lstm, gruResetAfter, gruResetBefore
}

/// One recurrent layer's sizes (literals at every call).
public struct RecurrentGeometry: Sendable {
    public let cell: RecurrentCellKind
    public let steps: Int, inputs: Int, units: Int
    public let returnSequences: Bool
    /// Reads the sequence last step first (a Bidirectional layer's backward direction): step s
    /// of the recurrence is time T-1-s of x, and with return_sequences its state goes to time
    /// T-1-s of y (Keras puts the backward outputs back in time order).
    public let reverse: Bool
    /// GRU: the reset gate's block comes first (PyTorch's r, z, n), not second (Keras's z, r, h).
    /// Both gates sit in the first 2U columns either way, so only the cell math changes.
    public let resetFirst: Bool
    /// A sequence mask applies (see the file comment); `zeroMaskedOutput`: masked steps output zeros.
    public let masked: Bool, zeroMaskedOutput: Bool
    /// LSTM and GRU gates: sigmoid (0), or hard sigmoid clip(hardGateSlope x + 0.5, 0, 1)
    /// (Keras 2's hard_sigmoid: 0.2, Keras 2.2.5 and earlier's default; Keras 3's: 1/6).
    public let hardGateSlope: Float
    /// The cell's activation: relu in place of tanh (SimpleRNN's output, LSTM's candidate and
    /// tanh(c), GRU's candidate): Keras `activation="relu"`, ONNX activations Relu (an exported nn.RNN(nonlinearity="relu")).
    public let relu: Bool
    /// Keras's in-cell dropout, training only (Kernels/RecurrentDropout.swift): the rates of the
    /// input's and the previous state's masks, and one mask per gate block (Keras's
    /// implementation=1) rather than one for all.
    public let inputDropout: Float, recurrentDropout: Float, perGateMasks: Bool

    public init(cell: RecurrentCellKind, steps: Int, inputs: Int, units: Int, returnSequences: Bool, reverse: Bool = false,
                resetFirst: Bool = false, masked: Bool = false, zeroMaskedOutput: Bool = false, hardGateSlope: Float = 0, relu: Bool = false,
                inputDropout: Float = 0, recurrentDropout: Float = 0, perGateMasks: Bool = false) {
        self.cell = cell; self.steps = steps; self.inputs = inputs; self.units = units
        self.returnSequences = returnSequences; self.reverse = reverse; self.resetFirst = resetFirst
        self.masked = masked; self.zeroMaskedOutput = zeroMaskedOutput; self.hardGateSlope = hardGateSlope; self.relu = relu
        self.inputDropout = inputDropout; self.recurrentDropout = recurrentDropout; self.perGateMasks = perGateMasks
    }

    /// The reversed copy (a Bidirectional layer's backward direction).
    var reversed: RecurrentGeometry {
        RecurrentGeometry(cell: cell, steps: steps, inputs: inputs, units: units, returnSequences: returnSequences, reverse: true,
                          resetFirst: resetFirst, masked: masked, zeroMaskedOutput: zeroMaskedOutput, hardGateSlope: hardGateSlope, relu: relu,
                          inputDropout: inputDropout, recurrentDropout: recurrentDropout, perGateMasks: perGateMasks)
    }

    /// The gradient at a gate's input from g at its output y (see hardGateSlope): g y (1 - y), in
    /// that order, for sigmoid.
    @inline(__always) func gateBackward(_ g: Float, _ y: Float) -> Float {
        hardGateSlope == 0 ? g * y * (1 - y) : (y > 0 && y < 1 ? g * hardGateSlope : 0)
    }

    /// The gradient at the candidate's input from g at its output y: g (1 - y^2), or with relu g where y > 0.
    @inline(__always) func candidateBackward(_ g: Float, _ y: Float) -> Float { relu ? (y > 0 ? g : 0) : g * (1 - y * y) }

    /// GRU: the offsets of the update (z) and reset (r) blocks within a row of W.
    var zBlock: Int { resetFirst ? units : 0 }
    var rBlock: Int { resetFirst ? 0 : units }

    /// Whether one image's LSTM step splits its units over threads (Recurrent.lstmStepSplit),
    /// rather than only its product's columns (blocks of 64): units in whole vectors, at least
    /// two of them (one vector of units would run on one thread, in four products instead of one).
    func splitsLstmUnits(_ rows: StepRows) -> Bool { cell == .lstm && rows.threads > 1 && units % 16 == 0 && units > 16 }

    /// The time (row of x, dx, y, dy) of recurrence step s.
    @inline(__always) func time(_ s: Int) -> Int { reverse ? steps - 1 - s : s }

    public var gates: Int {
        switch cell {
        case .simple: return 1
        case .lstm: return 4
        case .gruResetAfter, .gruResetBefore: return 3
        }
    }
    var isGRU: Bool { gates == 3 }
    /// The columns of a step's product h' U (all W; a GRU reset_before's z and r only: its
    /// candidate's columns see r * h').
    var stepColumns: Int { cell == .gruResetBefore ? 2 * units : width }
    /// The columns of dz that flow back to h' through U^T (all W; a GRU's z and r: the
    /// candidate's part flows through dzh).
    var backColumns: Int { isGRU ? 2 * units : width }
    /// W: the width of the projections.
    public var width: Int { gates * units }
    var hOffset: Int { steps * width }
    var cOffset: Int { hOffset + steps * units }
    var extraOffset: Int { cOffset + (cell == .lstm ? steps * units : 0) }
    var recOffset: Int { extraOffset + (isGRU ? steps * units : 0) }
    var maskOffset: Int { recOffset + width }
    /// Where the in-cell dropout's masks and masked copies start (RecurrentDropout.swift).
    var dropoutOffset: Int { maskOffset + (masked ? steps : 0) }
    /// Floats per image the forward keeps for the backward.
    public var stateFloats: Int { dropoutOffset + dropoutStateFloats }
    /// Whether recurrence step s of the image whose state is `s` is masked.
    @inline(__always) func isMasked(_ state: UnsafeMutablePointer<Float>, _ s: Int) -> Bool { masked && state[maskOffset + time(s)] == 0 }
    var dzhOffset: Int { steps * width }
    var dhOffset: Int { dzhOffset + (isGRU ? steps * units : 0) }
    /// Backward scratch of the in-cell dropout (RecurrentDropout.swift).
    var dropoutWorkOffset: Int { dhOffset + 2 * units }
    /// Floats per image of backward scratch.
    public var workFloats: Int { dropoutWorkOffset + dropoutWorkFloats }
    /// Floats per image of the output.
    public var outputFloats: Int { returnSequences ? steps * units : units }
}

/// A layer's parameters (pointers into the model's parameters).
public struct RecurrentWeights {
    public let kernel: UnsafeMutablePointer<Float>
    public let recurrent: UnsafeMutablePointer<Float>
    public let bias: UnsafeMutablePointer<Float>?
    public let recurrentBias: UnsafeMutablePointer<Float>?
    public init(kernel: UnsafeMutablePointer<Float>, recurrent: UnsafeMutablePointer<Float>,
                bias: UnsafeMutablePointer<Float>?, recurrentBias: UnsafeMutablePointer<Float>?) {
        self.kernel = kernel; self.recurrent = recurrent; self.bias = bias; self.recurrentBias = recurrentBias
    }
}

/// One recurrent layer of an emitted model: its sizes, where its tensors sit in the parameter
/// vector (the same offsets in the gradient partials), and its buffers; images lo..<hi of a batch.
public struct RecurrentLayer {
    public let g: RecurrentGeometry
    /// Offsets of kernel, recurrent_kernel and bias (nil: no bias) in the parameters; biasRows 2
    /// puts the recurrent bias row right after the input's.
    public let kernel: Int, recurrent: Int, bias: Int?, biasRows: Int
    /// stateFloats then workFloats per image (each part maxBatch images long); ut [W, U], then
    /// wt [W, D] when dx is wanted.
    public let state: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>
    public let ut: UnsafeMutablePointer<Float>, wt: UnsafeMutablePointer<Float>?
    /// How the mask is read from the model's input (g.masked layers).
    public let mask: SequenceMaskRule?

    /// `buffer`: maxBatch * (stateFloats + workFloats) floats; `transposed`: U*W floats, plus
    /// D*W with `inputGradient`.
    public init(_ g: RecurrentGeometry, kernel: Int, recurrent: Int, bias: Int?, biasRows: Int,
                buffer: UnsafeMutablePointer<Float>, maxBatch: Int, transposed: UnsafeMutablePointer<Float>, inputGradient: Bool,
                mask: SequenceMaskRule? = nil) {
        self.g = g; self.kernel = kernel; self.recurrent = recurrent; self.bias = bias; self.biasRows = biasRows; self.mask = mask
        state = buffer; work = buffer + maxBatch * g.stateFloats
        ut = transposed; wt = inputGradient ? transposed + g.units * g.width : nil
    }

    func weights(_ p: UnsafeMutablePointer<Float>) -> RecurrentWeights {
        RecurrentWeights(kernel: p + kernel, recurrent: p + recurrent, bias: bias.map { p + $0 },
                         recurrentBias: biasRows == 2 ? bias.map { p + $0 + g.width } : nil)
    }

    /// y of images lo..<hi from x (the batch's input and output buffers); `maskInput`: the
    /// model's input, which the mask of a masked layer is read from; `keepSteps`: keep every
    /// step's gates and states for a backward (training), else only the last two (StepRows);
    /// `threads`: one image's products split over that many threads; `cellDropout`: the seed of
    /// a training forward's in-cell dropout masks (Kernels/RecurrentDropout.swift; nil: ones).
    public func forward(_ parameters: UnsafeMutablePointer<Float>, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int,
                        maskInput: UnsafeMutablePointer<Float>? = nil, keepSteps: Bool = true, threads: Int = 1, cellDropout: UInt64? = nil) {
        if g.masked, let rule = mask, let input = maskInput {
            for n in lo..<hi { rule.fill(input + n * g.steps * rule.stepSize, steps: g.steps, into: state + n * g.stateFloats + g.maskOffset) }
        }
        if keepSteps && g.hasCellDropout {
            Recurrent.drawMasks(g, state: state + lo * g.stateFloats, first: lo, count: hi - lo, seed: cellDropout)
        }
        Recurrent.forward(g, weights(parameters), x: x + lo * g.steps * g.inputs, state: state + lo * g.stateFloats,
                          y: y + lo * g.outputFloats, count: hi - lo, keepSteps: keepSteps, threads: threads)
    }

    /// The backward's transposed kernels (once per backward, before the chunks).
    public func transpose(_ parameters: UnsafeMutablePointer<Float>) {
        Matrix.transpose(parameters + recurrent, rows: g.units, cols: g.width, into: ut)
        if let wt { Matrix.transpose(parameters + kernel, rows: g.inputs, cols: g.width, into: wt) }
    }

    /// Images lo..<hi: their weight gradients into `gradients` (this chunk's partials, laid
    /// out like the parameters) and dx when given.
    public func backward(_ gradients: UnsafeMutablePointer<Float>, x: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, _ lo: Int, _ hi: Int, addDx: Bool = false) {
        let w = weights(gradients), xs = g.steps * g.inputs
        Recurrent.backward(g, x: x + lo * xs, state: state + lo * g.stateFloats, dy: dy + lo * g.outputFloats,
                           work: work + lo * g.workFloats, count: hi - lo, ut: ut, wt: wt, dx: dx.map { $0 + lo * xs }, addDx: addDx,
                           gKernel: w.kernel, gRecurrent: w.recurrent, gBias: w.bias, gRecurrentBias: w.recurrentBias)
    }
}

/// How a Bidirectional layer combines its two directions (Keras merge_mode).
public enum BidirectionalMerge: Sendable {
    case concat, sum, mul, ave
}

/// A Keras Bidirectional layer: the forward RecurrentLayer on x, the backward one on x read last
/// step first (outputs back in time order), merged. Tensors: the forward direction's kernel,
/// recurrent kernel and bias at the given offsets, the backward's right after them.
/// `buffer` per image: both directions' state and work, then the outputs of each direction and
/// their gradients (4 x outputFloats); `transposed`: both directions' transposed kernels.
public struct BidirectionalLayer {
    public let forwardLayer: RecurrentLayer, backwardLayer: RecurrentLayer
    public let merge: BidirectionalMerge
    let outF: UnsafeMutablePointer<Float>, outB: UnsafeMutablePointer<Float>
    let dyF: UnsafeMutablePointer<Float>, dyB: UnsafeMutablePointer<Float>

    /// Floats per image of `buffer` and floats of `transposed` for geometry g (one direction's).
    public static func bufferFloats(_ g: RecurrentGeometry) -> Int { 2 * (g.stateFloats + g.workFloats) + 4 * g.outputFloats }
    public static func transposedFloats(_ g: RecurrentGeometry, inputGradient: Bool) -> Int {
        2 * (g.units + (inputGradient ? g.inputs : 0)) * g.width
    }

    public init(_ g: RecurrentGeometry, merge: BidirectionalMerge, kernel: Int, recurrent: Int, bias: Int?, biasRows: Int,
                buffer: UnsafeMutablePointer<Float>, maxBatch: Int, transposed: UnsafeMutablePointer<Float>, inputGradient: Bool,
                mask: SequenceMaskRule? = nil) {
        let b = g.reversed
        let count = (g.inputs + g.units + biasRows) * g.width   // one direction's parameters
        let one = maxBatch * (g.stateFloats + g.workFloats), half = (g.units + (inputGradient ? g.inputs : 0)) * g.width
        forwardLayer = RecurrentLayer(g, kernel: kernel, recurrent: recurrent, bias: bias, biasRows: biasRows,
                                      buffer: buffer, maxBatch: maxBatch, transposed: transposed, inputGradient: inputGradient, mask: mask)
        backwardLayer = RecurrentLayer(b, kernel: kernel + count, recurrent: recurrent + count, bias: bias.map { $0 + count }, biasRows: biasRows,
                                       buffer: buffer + one, maxBatch: maxBatch, transposed: transposed + half, inputGradient: inputGradient,
                                       mask: mask)
        self.merge = merge
        let o = maxBatch * g.outputFloats
        outF = buffer + 2 * one; outB = outF + o; dyF = outB + o; dyB = dyF + o
    }

    /// y [N, T, 2U] (concat) or [N, T, U] (or without T) for images lo..<hi.
    public func forward(_ parameters: UnsafeMutablePointer<Float>, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int,
                        maskInput: UnsafeMutablePointer<Float>? = nil, keepSteps: Bool = true, threads: Int = 1, cellDropout: UInt64? = nil) {
        forwardLayer.forward(parameters, x: x, y: outF, lo, hi, maskInput: maskInput, keepSteps: keepSteps, threads: threads, cellDropout: cellDropout)
        backwardLayer.forward(parameters, x: x, y: outB, lo, hi, maskInput: maskInput, keepSteps: keepSteps, threads: threads, cellDropout: cellDropout)
        let u = forwardLayer.g.units, o = forwardLayer.g.outputFloats
        for r in (lo * o / u)..<(hi * o / u) {   // rows of U outputs (one per image and time step)
            let f = outF + r * u, b = outB + r * u
            switch merge {
            case .concat:
                (y + r * 2 * u).update(from: f, count: u); (y + r * 2 * u + u).update(from: b, count: u)
            case .sum: for j in 0..<u { y[r * u + j] = f[j] + b[j] }
            case .mul: for j in 0..<u { y[r * u + j] = f[j] * b[j] }
            case .ave: for j in 0..<u { y[r * u + j] = (f[j] + b[j]) * 0.5 }
            }
        }
    }

    public func transpose(_ parameters: UnsafeMutablePointer<Float>) {
        forwardLayer.transpose(parameters)
        backwardLayer.transpose(parameters)
    }

    /// dy split into the directions' output gradients, then each direction's backward (the
    /// second adds its dx).
    public func backward(_ gradients: UnsafeMutablePointer<Float>, x: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, _ lo: Int, _ hi: Int) {
        let u = forwardLayer.g.units, o = forwardLayer.g.outputFloats
        for r in (lo * o / u)..<(hi * o / u) {
            let f = dyF + r * u, b = dyB + r * u
            switch merge {
            case .concat:
                f.update(from: dy + r * 2 * u, count: u); b.update(from: dy + r * 2 * u + u, count: u)
            case .sum: for j in 0..<u { f[j] = dy[r * u + j]; b[j] = dy[r * u + j] }
            case .mul: for j in 0..<u { f[j] = dy[r * u + j] * outB[r * u + j]; b[j] = dy[r * u + j] * outF[r * u + j] }
            case .ave: for j in 0..<u { f[j] = dy[r * u + j] * 0.5; b[j] = dy[r * u + j] * 0.5 }
            }
        }
        forwardLayer.backward(gradients, x: x, dy: dyF, dx: dx, lo, hi)
        backwardLayer.backward(gradients, x: x, dy: dyB, dx: dx, lo, hi, addDx: true)
    }
}

/// The row of a step's gates and of its state (h, c, extra) in an image's state: row t when
/// the backward will read every step (training), else row t mod 2 (inference reads only the
/// previous step again), so that a chunk's rows stay in cache; the gates keep row t when the
/// input projection runs for all steps at once.
struct StepRows {
    let keep: Bool, wholeProjection: Bool
    /// The threads one image's products split over (1 for a chunk of images).
    let threads: Int
    @inline(__always) func gates(_ t: Int) -> Int { keep || wholeProjection ? t : t & 1 }
    @inline(__always) func state(_ t: Int) -> Int { keep ? t : t & 1 }
}

public enum Recurrent {
    /// Forward of `count` images: x, state and y point at the first one. `keepSteps`: every
    /// step's rows kept for the backward (StepRows). `threads`: one image's work split over that
    /// many threads: a lone row streams the whole recurrent kernel from L2 at every step, and two
    /// cores' L2s stream twice as fast. The input projection splits its rows (blocks of 6, where
    /// Gemm.runtime runs its direct kernel), an LSTM whose units fill whole vectors its units
    /// (lstmStepSplit), the other layers their step product's columns (blocks of 64). Every
    /// column and row is computed by the same kernel form either way: the split never changes a
    /// value. In-cell dropout (a training forward of a geometry with it) multiplies by the masks
    /// already in `state` (RecurrentLayer.forward draws them) and splits nothing.
    public static func forward(_ g: RecurrentGeometry, _ w: RecurrentWeights, x: UnsafeMutablePointer<Float>,
                               state: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int, keepSteps: Bool = true,
                               threads: Int = 1) {
        let (T, D, U, W, S) = (g.steps, g.inputs, g.units, g.width, g.stateFloats)
        guard count > 0 else { return }
        // gates[n, t] = x[n, t] Wx + b: every step's at once while they fit in 512 KB, else each
        // step's just before its recurrence (which then reads them from cache), the input kernel
        // packed once when each step's product would pack it
        // in-cell dropout (training): the masked input's projection for all steps, no thread split
        let dropout = keepSteps && g.hasCellDropout
        let rows = StepRows(keep: keepSteps, wholeProjection: dropout || count * T * W <= wholeProjectionFloats,
                            threads: count == 1 && !dropout ? threads : 1)
        if dropout && g.inputMasks > 0 {
            maskedInputProjection(g, w, x: x, state: state, count: count)
        } else if rows.wholeProjection {
            inputProjection(g, w, x: x, state: state, count: count, steps: 0..<T, rows)
        }
        let projection = GemmReduction(k: D, ldb: W)
        let packKernel = !rows.wholeProjection && RuntimeGemm.packs(count, projection, n: W)
        withPackedB(packKernel ? count : 1, w.kernel, n: W, projection) { packedW in
            // the recurrent kernel, packed once for every step's product
            withPackedB(count, w.recurrent, n: g.stepColumns, GemmReduction(k: U, ldb: W)) { packedU in
                for t in 0..<T {
                    if !rows.wholeProjection { inputProjection(g, w, x: x, state: state, count: count, steps: t..<(t + 1), rows, packedW) }
                    forwardStep(g, w, state: state, count: count, t, rows, packedU: packedU)
                    if g.returnSequences { for n in 0..<count { output(g, state + n * S, t, rows, y + n * T * U + g.time(t) * U) } }
                }
            }
        }
        if !g.returnSequences { for n in 0..<count { (y + n * U).update(from: state + n * S + g.hOffset + rows.state(T - 1) * U, count: U) } }
    }

    /// Step t's output of the image whose state is s (zeros for a masked step with zeroMaskedOutput).
    static func output(_ g: RecurrentGeometry, _ s: UnsafeMutablePointer<Float>, _ t: Int, _ rows: StepRows, _ out: UnsafeMutablePointer<Float>) {
        let U = g.units
        if g.zeroMaskedOutput && g.isMasked(s, t) { out.update(repeating: 0, count: U) } else { out.update(from: s + g.hOffset + rows.state(t) * U, count: U) }
    }

    /// The gates' floats (count x T x W) up to which a chunk's input projection runs for all
    /// steps at once (512 KB).
    static let wholeProjectionFloats = 1 << 17

    /// gates[n, t] = x[n, t] Wx + b for steps t in `steps` of `count` images.
    static func inputProjection(_ g: RecurrentGeometry, _ w: RecurrentWeights, x: UnsafeMutablePointer<Float>,
                                state: UnsafeMutablePointer<Float>, count: Int, steps: Range<Int>, _ rows: StepRows,
                                _ packedW: UnsafePointer<Float>? = nil) {
        let (T, D, W, S, n) = (g.steps, g.inputs, g.width, g.stateFloats, steps.count)
        let red = GemmReduction(k: D, ldb: W), epi = GemmEpilogue(bias: w.bias.map { UnsafePointer($0) })
        func a(_ r: Int) -> UnsafeMutablePointer<Float> { x + (r / n) * T * D + g.time(steps.lowerBound + r % n) * D }
        func c(_ r: Int) -> UnsafeMutablePointer<Float> { state + (r / n) * S + rows.gates(steps.lowerBound + r % n) * W }
        let total = count * n
        // one image's rows split over threads only where the whole product would run the direct
        // kernel, which each part then runs (a part's lone row or packing would change bits)
        guard rows.threads > 1 && total > 1 && packedW == nil && !RuntimeGemm.packs(total, red, n: W) else {
            return Gemm.runtime(total, a: a, b: w.kernel, n: W, c: c, red, epi, packedB: packedW)
        }
        Parallel.rows(total, block: RuntimeGemm.mr, threads: rows.threads) { r0, r1, _ in
            RuntimeGemm.direct(r1 - r0, a: { a(r0 + $0) }, b: w.kernel, n: W, c: { c(r0 + $0) }, red, epi)
        }
    }

    /// Step t of `count` images: rec[n] = h[n, t-1] U (+ b2) (GRU reset_before: the z and r
    /// columns only), then the gates and the new state.
    static func forwardStep(_ g: RecurrentGeometry, _ w: RecurrentWeights, state: UnsafeMutablePointer<Float>, count: Int, _ t: Int,
                            _ rows: StepRows, packedU: UnsafePointer<Float>?) {
        let (U, W, S) = (g.units, g.width, g.stateFloats)
        if g.splitsLstmUnits(rows) {
            lstmStepSplit(g, w, state, t, rows)
        } else {
            if t == 0 {
                for n in 0..<count { startRec(state + n * S + g.recOffset, w, columns: 0..<W) }
            } else if rows.keep && g.recurrentMasks > 0 {
                maskedRecurrentProduct(g, w, state: state, count: count, t, packedU: packedU)
            } else {
                Parallel.rows(g.stepColumns, block: 64, threads: rows.threads) { q0, q1, _ in
                    Gemm.runtime(count, a: { n in state + n * S + g.hOffset + rows.state(t - 1) * U }, b: w.recurrent + q0, n: q1 - q0,
                                 c: { n in state + n * S + g.recOffset + q0 }, GemmReduction(k: U, ldb: W),
                                 GemmEpilogue(bias: w.recurrentBias.map { UnsafePointer($0 + q0) }), packedB: packedU)
                }
            }
            for n in 0..<count { cellForward(g, state + n * S, t, rows, firstPass: true) }
        }
        if g.cell == .gruResetBefore {
            // rec[h] = (r * h') Uh, then the candidate and the state
            Gemm.runtime(count, a: { n in state + n * S + g.extraOffset + rows.state(t) * U }, b: w.recurrent + 2 * U, n: U,
                         c: { n in state + n * S + g.recOffset + 2 * U }, GemmReduction(k: U, ldb: W))
            for n in 0..<count { cellForward(g, state + n * S, t, rows, firstPass: false) }
        }
        if g.masked { for n in 0..<count where g.isMasked(state + n * S, t) { carryState(g, state + n * S, t, rows) } }
    }

    /// Step t of one image's LSTM with its units split over `rows.threads` threads (blocks of
    /// 16): each thread computes its units' columns of the four gate blocks of rec = h' U (+ b2),
    /// then their gate math, so the threads meet once per step. Only for units in whole vectors
    /// (`splitsLstmUnits`): Gemm.runtime's lone row computes a last column that fills no vector
    /// in scalars, which would move such columns between the forms (and change their rounding).
    static func lstmStepSplit(_ g: RecurrentGeometry, _ w: RecurrentWeights, _ s: UnsafeMutablePointer<Float>, _ t: Int, _ rows: StepRows) {
        let (U, W) = (g.units, g.width)
        let rec = s + g.recOffset, hPrev = s + g.hOffset + rows.state(t - 1) * U
        Parallel.rows(U, block: 16, threads: rows.threads) { u0, u1, _ in
            for q in stride(from: u0, to: W, by: U) {   // the four gate blocks' columns of these units
                if t > 0 {
                    Gemm.runtime(1, a: { _ in hPrev }, b: w.recurrent + q, n: u1 - u0, c: { _ in rec + q }, GemmReduction(k: U, ldb: W),
                                 GemmEpilogue(bias: w.recurrentBias.map { UnsafePointer($0 + q) }))
                } else {
                    startRec(rec, w, columns: q..<(q + u1 - u0))
                }
            }
            lstmGates(g, s, t, rows, units: u0..<u1)
        }
    }

    /// An LSTM step's gate math for `units` of the layer's units (z = gates[t] + rec, in place;
    /// then c and h): VectorMath.lstmStep on those units' columns of the four gate blocks.
    static func lstmGates(_ g: RecurrentGeometry, _ s: UnsafeMutablePointer<Float>, _ t: Int, _ rows: StepRows, units: Range<Int>) {
        let (U, u0) = (g.units, units.lowerBound)
        let c = s + g.cOffset + rows.state(t) * U, h = s + g.hOffset + rows.state(t) * U
        let cPrev = t > 0 ? UnsafePointer(s + g.cOffset + rows.state(t - 1) * U + u0) : nil
        VectorMath.lstmStep(s + rows.gates(t) * g.width + u0, plus: s + g.recOffset + u0, cPrev: cPrev,
                            c: c + u0, h: h + u0, units: units.count, stride: U, hardSlope: g.hardGateSlope, relu: g.relu)
    }

    /// Step 0's rec (no previous state): the recurrent bias, or zeros, in `columns`.
    static func startRec(_ rec: UnsafeMutablePointer<Float>, _ w: RecurrentWeights, columns: Range<Int>) {
        if let b2 = w.recurrentBias { (rec + columns.lowerBound).update(from: b2 + columns.lowerBound, count: columns.count) }
        else { (rec + columns.lowerBound).update(repeating: 0, count: columns.count) }
    }

    /// body(B packed for Gemm.runtime), B being used at every step; nil for one image, whose
    /// products read B unpacked.
    static func withPackedB(_ count: Int, _ b: UnsafePointer<Float>, n: Int, _ red: GemmReduction,
                            _ body: (UnsafePointer<Float>?) -> Void) {
        guard count > 1 else { return body(nil) }
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: Gemm.runtimePackedFloats(k: red.outer * red.inner, n: n))
        defer { packed.deallocate() }
        Gemm.packRuntimeB(b, n: n, red, into: packed)
        body(packed)
    }

    /// A masked step t of one image: the state (and an LSTM's cell) of step t - 1, zeros at t = 0.
    static func carryState(_ g: RecurrentGeometry, _ s: UnsafeMutablePointer<Float>, _ t: Int, _ rows: StepRows) {
        let U = g.units
        for offset in g.cell == .lstm ? [g.hOffset, g.cOffset] : [g.hOffset] {
            let cur = s + offset + rows.state(t) * U
            if t > 0 { cur.update(from: s + offset + rows.state(t - 1) * U, count: U) } else { cur.update(repeating: 0, count: U) }
        }
    }

    /// The gate math of step t of one image whose pre-activations are gates[t] + rec.
    /// GRU reset_before runs in two passes: z, r and r * h' first, then the candidate.
    @inline(__always)
    static func cellForward(_ g: RecurrentGeometry, _ s: UnsafeMutablePointer<Float>, _ t: Int, _ rows: StepRows, firstPass: Bool) {
        let (U, r, rp) = (g.units, rows.state(t), rows.state(t - 1))
        let z = s + rows.gates(t) * g.width, rec = s + g.recOffset
        let h = s + g.hOffset + r * U
        let hp: UnsafeMutablePointer<Float>? = t > 0 ? s + g.hOffset + rp * U : nil
        switch g.cell {
        case .simple:
            for j in 0..<U { h[j] = z[j] + rec[j] }
            VectorMath.candidate(h, count: U, relu: g.relu)
        case .lstm:
            // i, f, cc, o in place of their pre-activations, then c and h (one pass)
            lstmGates(g, s, t, rows, units: 0..<U)
        case .gruResetAfter:
            // zz, r (adjacent blocks, in either order), then hh = tanh(z + r * e)
            let e = s + g.extraOffset + r * U, (zo, ro) = (g.zBlock, g.rBlock)
            for j in 0..<(2 * U) { z[j] += rec[j] }
            VectorMath.gates(z, count: 2 * U, hardSlope: g.hardGateSlope)
            for j in 0..<U {
                e[j] = rec[2 * U + j]
                z[2 * U + j] += z[ro + j] * e[j]
            }
            VectorMath.candidate(z + 2 * U, count: U, relu: g.relu)
            for j in 0..<U { h[j] = z[zo + j] * (hp?[j] ?? 0) + (1 - z[zo + j]) * z[2 * U + j] }
        case .gruResetBefore:
            let e = s + g.extraOffset + r * U
            if firstPass {
                for j in 0..<(2 * U) { z[j] += rec[j] }
                VectorMath.gates(z, count: 2 * U, hardSlope: g.hardGateSlope)
                let hc = t > 0 ? g.candidateState(s, t, rows) : nil   // h' (masked with recurrent dropout)
                for j in 0..<U { e[j] = z[U + j] * (hc?[j] ?? 0) }
            } else {
                for j in 0..<U { z[2 * U + j] += rec[2 * U + j] }
                VectorMath.candidate(z + 2 * U, count: U, relu: g.relu)
                for j in 0..<U { h[j] = z[j] * (hp?[j] ?? 0) + (1 - z[j]) * z[2 * U + j] }
            }
        }
    }

    /// Backward through time of `count` images: dy [T, U] or [U] per image; writes gKernel
    /// [D, W], gRecurrent [U, W], gBias [W] and gRecurrentBias [W] (when present) as this
    /// chunk's sums, and dx [T, D] per image when asked. wt = kernel^T [W, D] (for dx), ut =
    /// recurrent^T [W, U]. `addDx`: dx += (the second direction of a Bidirectional layer).
    public static func backward(_ g: RecurrentGeometry, x: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                                dy: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>, count: Int,
                                ut: UnsafePointer<Float>, wt: UnsafePointer<Float>?, dx: UnsafeMutablePointer<Float>?, addDx: Bool = false,
                                gKernel: UnsafeMutablePointer<Float>, gRecurrent: UnsafeMutablePointer<Float>,
                                gBias: UnsafeMutablePointer<Float>?, gRecurrentBias: UnsafeMutablePointer<Float>?) {
        let (T, D, U, W, K) = (g.steps, g.inputs, g.units, g.width, g.workFloats)
        for n in 0..<count { (work + n * K + g.dhOffset).update(repeating: 0, count: 2 * U) }
        // the transposed recurrent kernel (its z, r columns for a GRU), packed once for every step's product
        withPackedB(count, ut, n: U, GemmReduction(k: g.backColumns, ldb: U)) { packedUt in
            for t in stride(from: T - 1, through: 0, by: -1) {
                backwardStep(g, state: state, dy: dy, work: work, count: count, ut: ut, t, packedUt: packedUt)
            }
        }
        weightGradients(g, x: x, state: state, work: work, count: count, gKernel: gKernel, gRecurrent: gRecurrent,
                        gBias: gBias, gRecurrentBias: gRecurrentBias)
        if let dx, let wt, g.inputMasks > 0 {
            maskedInputGradient(g, state: state, work: work, count: count, wt: wt, dx: dx, add: addDx)
        } else if let dx, let wt {
            Gemm.runtime(count * T, a: { r in work + (r / T) * K + (r % T) * W }, b: wt, n: D, c: { r in dx + (r / T) * T * D + g.time(r % T) * D },
                         GemmReduction(k: W, ldb: D), addDx ? .add : .store)
        }
    }

    /// Step t of `count` images: dy's share into dh, the gate gradients dz[t], and dh (dc) carried
    /// to step t - 1 through the recurrent kernel (ut = its transpose, or packedUt).
    static func backwardStep(_ g: RecurrentGeometry, state: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>,
                             work: UnsafeMutablePointer<Float>, count: Int, ut: UnsafePointer<Float>, _ t: Int,
                             packedUt: UnsafePointer<Float>?) {
        let (T, U, W, S, K) = (g.steps, g.units, g.width, g.stateFloats, g.workFloats)
        for n in 0..<count {
            let dh = work + n * K + g.dhOffset
            let masked = g.isMasked(state + n * S, t)
            if g.returnSequences {
                let d = dy + n * T * U + g.time(t) * U
                if !(masked && g.zeroMaskedOutput) { for j in 0..<U { dh[j] += d[j] } }
            } else if t == T - 1 {
                let d = dy + n * U
                for j in 0..<U { dh[j] += d[j] }
            }
            if masked {
                // the state passed through: dh (dc) flow on unchanged, no gate gradients
                (work + n * K + t * W).update(repeating: 0, count: W)
                if g.isGRU { (work + n * K + g.dzhOffset + t * U).update(repeating: 0, count: U) }
            } else {
                cellBackward(g, state + n * S, work + n * K, t)
            }
        }
        if g.cell == .gruResetBefore {
            // d(r * h') = dh~ Uh^T, then dr and the state's share through r
            Gemm.runtime(count, a: { n in work + n * K + t * W + 2 * U }, b: ut + 2 * U * U, n: U,
                         c: { n in work + n * K + g.dzhOffset + t * U }, GemmReduction(k: U, ldb: U))
            let keep = StepRows(keep: true, wholeProjection: true, threads: 1)
            for n in 0..<count {
                let s = state + n * S, k = work + n * K
                let r = s + t * W + U, dz = k + t * W, drh = k + g.dzhOffset + t * U, dh = k + g.dhOffset
                let hc = t > 0 ? g.candidateState(s, t, keep) : nil
                let mask = g.recurrentMasks > 0 ? s + g.stateMaskOffset(g.maskIndex(2)) : nil
                for j in 0..<U {
                    dz[U + j] = g.gateBackward(drh[j] * (hc?[j] ?? 0), r[j])
                    dh[j] += mask.map { drh[j] * r[j] * $0[j] } ?? drh[j] * r[j]
                }
            }
        }
        guard t > 0 else { return }
        if g.recurrentMasks > 0 { return maskedStateGradient(g, state: state, work: work, count: count, ut: ut, t, packedUt: packedUt) }
        // dh' += dz_rec U^T (GRU: the z, r columns from dz, the candidate's from dzh)
        Gemm.runtime(count, a: { n in work + n * K + t * W }, b: ut, n: U, c: { n in work + n * K + g.dhOffset },
                     GemmReduction(k: g.backColumns, ldb: U), .add, packedB: packedUt)
        if g.cell == .gruResetAfter {
            Gemm.runtime(count, a: { n in work + n * K + g.dzhOffset + t * U }, b: ut + 2 * U * U, n: U,
                         c: { n in work + n * K + g.dhOffset }, GemmReduction(k: U, ldb: U), .add)
        }
    }

    /// Step t of one image: dz[t] from dh (and dc), and dh (dc) replaced by what flows to step
    /// t - 1 without the recurrent kernel.
    @inline(__always)
    static func cellBackward(_ g: RecurrentGeometry, _ s: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>, _ t: Int) {
        let U = g.units
        let a = s + t * g.width, dz = k + t * g.width
        let h = s + g.hOffset + t * U
        let dh = k + g.dhOffset, dc = dh + U
        switch g.cell {
        case .simple:
            for j in 0..<U { dz[j] = g.candidateBackward(dh[j], h[j]); dh[j] = 0 }
        case .lstm:
            let c = s + g.cOffset + t * U
            VectorMath.lstmStepBackward(gates: a, c: c, cPrev: t > 0 ? UnsafePointer(c - U) : nil, dz: dz, dh: dh, dc: dc, units: U,
                                        hardSlope: g.hardGateSlope, relu: g.relu)
        case .gruResetAfter, .gruResetBefore:
            let dzh = k + g.dzhOffset + t * U, e = s + g.extraOffset + t * U, (zo, ro) = (g.zBlock, g.rBlock)
            for j in 0..<U {
                let (zz, r, hh) = (a[zo + j], a[ro + j], a[2 * U + j])
                let hp: Float = t > 0 ? h[j - U] : 0
                let dn = g.candidateBackward(dh[j] * (1 - zz), hh)
                dz[zo + j] = g.gateBackward(dh[j] * (hp - hh), zz)
                dz[2 * U + j] = dn
                if g.cell == .gruResetAfter {
                    dz[ro + j] = g.gateBackward(dn * e[j], r)
                    dzh[j] = dn * r
                }
                dh[j] *= zz
            }
        }
    }

    /// gKernel = sum x^T dz, gRecurrent = sum h'^T dz_rec, the biases the sums of dz (dz_rec).
    static func weightGradients(_ g: RecurrentGeometry, x: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                                work: UnsafeMutablePointer<Float>, count: Int,
                                gKernel: UnsafeMutablePointer<Float>, gRecurrent: UnsafeMutablePointer<Float>,
                                gBias: UnsafeMutablePointer<Float>?, gRecurrentBias: UnsafeMutablePointer<Float>?) {
        let (T, D, U, W, S, K) = (g.steps, g.inputs, g.units, g.width, g.stateFloats, g.workFloats)
        // row i of gKernel: column i of x (xm_q with input dropout) against dz, over images
        // (outer) and steps (inner; x walked backwards in time when reversed)
        for (q, cols) in g.maskBlocks(W, masks: g.inputMasks) {
            let (xq, outer) = g.inputMasks > 0 ? (state + g.maskedInputOffset(q), S) : (x, T * D)
            Gemm.runtime(D, a: { i in xq + g.time(0) * D + i }, b: work + cols.lowerBound, n: cols.count, c: { i in gKernel + i * W + cols.lowerBound },
                         GemmReduction(outer: count, inner: T, aOuter: outer, aInner: g.reverse ? -D : D, bOuter: K, bInner: W))
        }
        // row i of gRecurrent: h[t-1][i] (hm_q with recurrent dropout) against dz[t] for t >= 1
        func states(_ q: Int) -> UnsafeMutablePointer<Float> { state + (g.recurrentMasks > 0 ? g.maskedStateOffset(q, 0) : g.hOffset) }
        for (q, cols) in g.maskBlocks(g.backColumns, masks: g.recurrentMasks) {
            let h = states(q)
            Gemm.runtime(U, a: { i in h + i }, b: work + W + cols.lowerBound, n: cols.count, c: { i in gRecurrent + i * W + cols.lowerBound },
                         GemmReduction(outer: count, inner: T - 1, aOuter: S, aInner: U, bOuter: K, bInner: W))
        }
        if g.cell == .gruResetAfter {
            let h = states(g.maskIndex(2))
            Gemm.runtime(U, a: { i in h + i }, b: work + g.dzhOffset + U, n: U, c: { i in gRecurrent + i * W + 2 * U },
                         GemmReduction(outer: count, inner: T - 1, aOuter: S, aInner: U, bOuter: K, bInner: U))
        } else if g.cell == .gruResetBefore {
            // the candidate's columns see r * h' (extra), against dz's candidate block
            Gemm.runtime(U, a: { i in state + g.extraOffset + U + i }, b: work + W + 2 * U, n: U, c: { i in gRecurrent + i * W + 2 * U },
                         GemmReduction(outer: count, inner: T - 1, aOuter: S, aInner: U, bOuter: K, bInner: W))
        }
        if let gb = gBias {
            gb.update(repeating: 0, count: W)
            for n in 0..<count { for t in 0..<T { let d = work + n * K + t * W; for j in 0..<W { gb[j] += d[j] } } }
        }
        if let gr = gRecurrentBias {
            gr.update(repeating: 0, count: W)
            for n in 0..<count {
                for t in 0..<T {
                    let d = work + n * K + t * W
                    for j in 0..<g.backColumns { gr[j] += d[j] }
                    if g.isGRU { let e = work + n * K + g.dzhOffset + t * U; for j in 0..<U { gr[2 * U + j] += e[j] } }
                }
            }
        }
    }
}

/// How a masked recurrent layer reads its mask from the model's input (IR/SequenceMask.swift).
public enum SequenceMaskRule: Sendable {
    /// Keras Masking: a step (stepSize values) is masked when every value equals `value`.
    case value(Float, stepSize: Int)
    /// Keras Embedding(mask_zero=True): a step (one token id) is masked when the id is 0.
    case tokenZero

    var stepSize: Int {
        switch self { case .value(_, let n): return n; case .tokenZero: return 1 }
    }

    /// mask[t] = 1 for a kept step, 0 for a masked one, for one image's input.
    public func fill(_ input: UnsafePointer<Float>, steps: Int, into mask: UnsafeMutablePointer<Float>) {
        for t in 0..<steps {
            switch self {
            case .value(let v, let n):
                let x = input + t * n
                mask[t] = (0..<n).contains { x[$0] != v } ? 1 : 0
            case .tokenZero:
                mask[t] = input[t] != 0 ? 1 : 0
            }
        }
    }

    /// Keras Masking: `from` (x forward, dy backward) with the steps of x that are masked
    /// zeroed, into `to`, for `count` images of `steps` steps.
    public func apply(x: UnsafePointer<Float>, from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>, steps: Int, count: Int) {
        guard case .value(let v, let n) = self else { return }
        for r in 0..<(count * steps) {
            if (0..<n).contains(where: { x[r * n + $0] != v }) { (to + r * n).update(from: from + r * n, count: n) }
            else { (to + r * n).update(repeating: 0, count: n) }
        }
    }
}

/// Embedding: token ids (floats holding whole numbers) to rows of a [vocab, dim] table.
public enum EmbeddingKernel {
    /// y[n, t] = table[id(n, t)] for `count * steps` ids. Returns the first id that is not a
    /// whole number in 0..<vocab (its row is zero), or nil.
    public static func forward(ids: UnsafePointer<Float>, count: Int, table: UnsafePointer<Float>, vocab: Int, dim: Int,
                               y: UnsafeMutablePointer<Float>) -> Float? {
        var bad: Float?
        for r in 0..<count {
            let v = ids[r]
            if let i = index(v, vocab) { (y + r * dim).update(from: table + i * dim, count: dim) } else {
                (y + r * dim).update(repeating: 0, count: dim)
                if bad == nil { bad = v }
            }
        }
        return bad
    }

    /// The forward of an emitted model's layer: a bad id is reported to the model
    /// (CompiledModelBase.reportBadInput), which the trainer, evaluator and predictor stop on.
    public static func forward(_ model: CompiledModelBase, layer: String, ids: UnsafePointer<Float>, count: Int, table: UnsafePointer<Float>,
                               vocab: Int, dim: Int, y: UnsafeMutablePointer<Float>) {
        if let bad = forward(ids: ids, count: count, table: table, vocab: vocab, dim: dim, y: y) {
            model.reportBadInput("layer \(layer): token id \(bad) is not a whole number in 0..<\(vocab)")
        }
    }

    /// gTable = the sum of dy rows per id (this chunk's partial; bad ids contribute nothing, and
    /// neither does the padding row `paddingIdx`, PyTorch padding_idx, which never trains).
    public static func backward(ids: UnsafePointer<Float>, count: Int, dy: UnsafePointer<Float>, vocab: Int, dim: Int,
                                gTable: UnsafeMutablePointer<Float>, paddingIdx: Int? = nil) {
        gTable.update(repeating: 0, count: vocab * dim)
        for r in 0..<count {
            guard let i = index(ids[r], vocab), i != paddingIdx else { continue }
            let g = gTable + i * dim, d = dy + r * dim
            for j in 0..<dim { g[j] += d[j] }
        }
    }

    @inline(__always)
    static func index(_ v: Float, _ vocab: Int) -> Int? {
        guard v >= 0, v < Float(vocab), v == v.rounded(.towardZero) else { return nil }
        return Int(v)
    }
}
