// What every emitted model shares (the emitted class subclasses it): the parameters, the
// gradients and their per-chunk partials, the input, one arena for every other buffer, the
// chunk count, and the forward driver around the emitted schedules.

import Foundation

/// Floats (or integers) per image, per chunk and in total: an arena's size, or a buffer's offset in it.
public struct ArenaSize: Sendable {
    public var perImage: Int, perChunk: Int, fixed: Int
    public init(perImage: Int = 0, perChunk: Int = 0, fixed: Int = 0) {
        self.perImage = perImage; self.perChunk = perChunk; self.fixed = fixed
    }
}

/// The sizes of every buffer an emitted model allocates, from which `bytes` works out what an
/// instance for `maxBatch` images takes before anything is allocated.
public struct ModelBuffers: Sendable {
    public var parameterCount: Int, inputSize: Int, arena: ArenaSize, arena32: ArenaSize
    public init(parameterCount: Int = 0, inputSize: Int = 0, arena: ArenaSize = ArenaSize(), arena32: ArenaSize = ArenaSize()) {
        self.parameterCount = parameterCount; self.inputSize = inputSize; self.arena = arena; self.arena32 = arena32
    }

    /// Bytes for batches of up to `maxBatch` images on `threads` chunks (as CompiledModelBase.init
    /// allocates them), plus `optimizerSlots` buffers the size of the parameters (a Trainer's
    /// optimizer state); nil when the count does not fit an Int.
    public func bytes(maxBatch: Int, threads: Int, optimizerSlots: Int = 0) -> Int? {
        let n = max(1, maxBatch), t = max(1, min(threads, 64))
        var total = 0
        for (count, per) in [(parameterCount, 2 + t + max(0, optimizerSlots)), (n, inputSize), (n, arena.perImage), (t, arena.perChunk), (1, arena.fixed),
                             (n, arena32.perImage), (t, arena32.perChunk), (1, arena32.fixed)] {
            let (floats, o1) = count.multipliedReportingOverflow(by: per)
            let (sum, o2) = total.addingReportingOverflow(floats)
            if o1 || o2 { return nil }
            total = sum
        }
        let (b, o) = total.multipliedReportingOverflow(by: 4)
        return o ? nil : b
    }

    /// Throws when an instance for `maxBatch` images (and `optimizerSlots` optimizer buffers)
    /// would not fit in `memory` bytes (the machine's, by default): `what` names the setting that
    /// asked for it.
    public func check(model: String, maxBatch: Int, threads: Int, optimizerSlots: Int = 0, what: String,
                      memory: UInt64 = ProcessInfo.processInfo.physicalMemory) throws {
        let need = bytes(maxBatch: maxBatch, threads: threads, optimizerSlots: optimizerSlots)
        guard let need, UInt64(need) <= memory else {
            let perImage = (inputSize + arena.perImage + arena32.perImage) * 4
            // What does not grow with the batch (parameters, gradients, per-thread partials and
            // scratch) may alone be too much; else say how many images fit.
            let fixed = bytes(maxBatch: 0, threads: threads, optimizerSlots: optimizerSlots).map { $0 - perImage } ?? Int.max
            let advice = UInt64(max(0, fixed)) >= memory ? "use fewer --threads (\(threads) now)"
                : "at most \((Int(min(memory, UInt64(Int.max))) - fixed) / max(1, perImage)) images fit"
            throw RuntimeError("\(what): model \(model) needs \(need.map { gigabytes(UInt64($0)) } ?? "more than Int can count") "
                               + "for batches of \(maxBatch) images (\(String(format: "%.1f", Double(perImage) / 1e6)) MB an image); "
                               + "this machine has \(gigabytes(memory)): \(advice)")
        }
    }

    private func gigabytes(_ bytes: UInt64) -> String { String(format: "%.1f GB", Double(bytes) / 1e9) }
}

open class CompiledModelBase: @unchecked Sendable {
    /// The emitted model's buffer sizes (every emitted class overrides this).
    open class var buffers: ModelBuffers { ModelBuffers() }

    /// Throws when `M` is an emitted model whose buffers for `maxBatch` images (with a training
    /// run's `optimizerSlots`) would not fit in this machine's memory (checked before any allocation).
    public static func checkMemory<M: CompiledModel>(_: M.Type, maxBatch: Int, optimizerSlots: Int = 0, what: String) throws {
        guard let base = M.self as? CompiledModelBase.Type else { return }
        try base.buffers.check(model: M.info.name, maxBatch: maxBatch, threads: Parallel.threads,
                               optimizerSlots: optimizerSlots, what: what)
    }

    public let maxBatch: Int
    public let parameters: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    /// Per-chunk weight-gradient partials: threads x parameter count floats.
    public let partials: UnsafeMutablePointer<Float>
    /// Chunks = --threads (Parallel.threads, capped at 64), never the machine's core count, so
    /// the work split and every floating-point sum are the same on any machine.
    public let threads: Int
    /// Threads for one image's inference (the emitted `forwardSingle` splits its rows over
    /// these, recurrent layers their products through `layerThreads`): timed and chosen call by
    /// call (SingleImageThreads), unless `pinnedSingleThreads` is set. The count never changes a
    /// result.
    public private(set) var singleThreads: Int
    /// Fixes `singleThreads` (clamped to 1...threads) instead of the tuner; nil: tuned.
    public var pinnedSingleThreads: Int?
    private var singleTuner: SingleImageThreads
    /// Images in the current batch, and the current training forward's dropout seed.
    public var count = 0
    public var seed: UInt64 = 0
    /// Dropout layers drop units and random image layers transform images in training forwards
    /// (false: they pass everything, as with rate 0; the reference-fixture tests compare
    /// training steps that way).
    public var dropout = true
    /// Whether the current forward is a training one (a backward follows): recurrent layers
    /// then keep every step's gates and states.
    public private(set) var training = false
    /// The threads a layer may split one image's work over: `singleThreads` in an inference
    /// forward of one image (run on the caller's thread), else 1 (the batch and training
    /// schedules already run a chunk of images on each thread).
    public var layerThreads: Int { !training && count == 1 ? singleThreads : 1 }
    /// The input: a copy in training (the backward reads it); the caller's buffer, read in
    /// place, during inference.
    public var a0: UnsafeMutablePointer<Float>
    /// Every other buffer: the emitted class's buffers are literal offsets in these.
    public let arena: UnsafeMutablePointer<Float>
    public let arena32: UnsafeMutablePointer<Int32>
    private let inputCopy: UnsafeMutablePointer<Float>
    private let inputSize: Int
    private let memory = ModelMemory()
    private let badInputLock = NSLock()
    private var badInput: String?

    /// Allocates everything `buffers` sizes for batches of up to `maxBatch` images (at least 1);
    /// parameters whose initializer is `.ones` (BatchNorm gamma and moving variance) start at 1,
    /// the rest at 0.
    public init(maxBatch: Int, tensors: [TensorSpec], buffers b: ModelBuffers) {
        let (parameterCount, inputSize, arena, arena32) = (b.parameterCount, b.inputSize, b.arena, b.arena32)
        let n = max(1, maxBatch)
        self.maxBatch = n
        threads = max(1, min(Parallel.threads, 64))
        singleThreads = threads
        singleTuner = SingleImageThreads(threads: threads)
        parameters = memory.floats(parameterCount)
        gradients = memory.floats(parameterCount)
        partials = memory.floats(threads * parameterCount)
        self.inputSize = inputSize
        inputCopy = memory.floats(n * inputSize)
        a0 = inputCopy
        self.arena = memory.floats(n * arena.perImage + threads * arena.perChunk + arena.fixed)
        self.arena32 = memory.int32s(n * arena32.perImage + threads * arena32.perChunk + arena32.fixed)
        for t in tensors where t.initializer == .ones { (parameters + t.offset).update(repeating: 1, count: t.count) }
    }

    /// CompiledModel.forward around the emitted schedules: training copies the input (the
    /// backward reads it); inference reads it in place (no layer writes a0), one image through
    /// `single`. Returns what `output` points to afterwards.
    public func runForward(_ input: UnsafePointer<Float>, count: Int, training: Bool, seed: UInt64,
                           schedules: (training: () -> Void, batch: () -> Void, single: () -> Void),
                           output: () -> UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        precondition(count >= 0 && count <= maxBatch, "batch of \(count) exceeds maxBatch \(maxBatch)")
        self.count = count
        self.seed = seed
        self.training = training
        if training {
            a0 = inputCopy
            a0.update(from: input, count: count * inputSize)
            schedules.training()
            return UnsafePointer(output())
        }
        a0 = UnsafeMutablePointer(mutating: input)
        if count == 1 { runSingle(schedules.single) } else { schedules.batch() }
        let out = UnsafePointer(output())
        a0 = inputCopy
        return out
    }

    private func runSingle(_ single: () -> Void) {
        if let pinned = pinnedSingleThreads {
            singleThreads = max(1, min(threads, pinned))
            single()
            return
        }
        singleThreads = singleTuner.next
        let start = DispatchTime.now().uptimeNanoseconds
        single()
        singleTuner.record(seconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }

    /// Reports an input a layer could not use (an Embedding's token id outside its vocabulary);
    /// called from any chunk. The first report since `takeBadInput` is kept.
    public func reportBadInput(_ message: String) {
        badInputLock.lock()
        if badInput == nil { badInput = message }
        badInputLock.unlock()
    }

    /// The first bad input reported since the last call (the trainer and evaluator stop on it).
    public func takeBadInput() -> String? {
        badInputLock.lock()
        defer { badInput = nil; badInputLock.unlock() }
        return badInput
    }

    /// Starts CompiledModel.backward: checks and records the batch size.
    public func beginBackward(count: Int) {
        precondition(count >= 0 && count <= maxBatch, "batch of \(count) exceeds maxBatch \(maxBatch)")
        self.count = count
    }
}

extension CompiledModel {
    /// Throws the bad input a layer reported during the forward passes since the last check
    /// (an Embedding's token id outside its vocabulary), naming what was being run.
    public func checkInput(_ what: String) throws {
        if let bad = (self as? CompiledModelBase)?.takeBadInput() { throw RuntimeError("\(what): \(bad)") }
    }
}
