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

open class CompiledModelBase: @unchecked Sendable {
    public let maxBatch: Int
    public let parameters: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    /// Per-chunk weight-gradient partials: threads x parameter count floats.
    public let partials: UnsafeMutablePointer<Float>
    /// Chunks = --threads (Parallel.threads, capped at 64), never the machine's core count, so
    /// the work split and every floating-point sum are the same on any machine.
    public let threads: Int
    /// Images in the current batch, and the current training forward's dropout seed.
    public var count = 0
    public var seed: UInt64 = 0
    /// Dropout layers drop units in training forwards (false: they pass everything, as with
    /// rate 0; the reference-fixture tests compare training steps that way).
    public var dropout = true
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

    /// Allocates everything for batches of up to `maxBatch` images (at least 1); parameters
    /// whose initializer is `.ones` (BatchNorm gamma and moving variance) start at 1, the rest at 0.
    public init(maxBatch: Int, tensors: [TensorSpec], parameterCount: Int, inputSize: Int, arena: ArenaSize, arena32: ArenaSize) {
        let n = max(1, maxBatch)
        self.maxBatch = n
        threads = max(1, min(Parallel.threads, 64))
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
        if training {
            a0 = inputCopy
            a0.update(from: input, count: count * inputSize)
            schedules.training()
            return UnsafePointer(output())
        }
        a0 = UnsafeMutablePointer(mutating: input)
        if count == 1 { schedules.single() } else { schedules.batch() }
        let out = UnsafePointer(output())
        a0 = inputCopy
        return out
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
