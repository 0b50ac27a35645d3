// Thread count for the generated code's parallel loops (`--threads`). Additive to the
// CompiledModel contract: generated code may call `Parallel.forEach` or read `Parallel.threads`.

import Foundation
import Dispatch

public enum Parallel {
    /// Number of worker threads (default: all active processors).
    /// Set once by `--threads` before any model work; results of training are bit-for-bit
    /// reproducible (and checkpoint resumes exact) for the same thread count.
    nonisolated(unsafe) public static var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Largest accepted `--threads`.
    public static let maxThreads = 1024

    /// A model's batch passes: images 0..<count in min(threads, count) equal chunks,
    /// `body(lo, hi, chunk)` on the worker pool. Chunk c always gets the same images, so every
    /// per-chunk partial sum, and with it training, depends only on the thread count.
    public static func chunks(_ count: Int, threads: Int, _ body: (Int, Int, Int) -> Void) {
        let chunks = chunkCount(count, threads: threads)
        if chunks <= 1 { body(0, count, 0); return }
        WorkerPool.shared.run(parts: chunks) { c in let r = chunk(c, of: chunks, count: count); body(r.lo, r.hi, c) }
    }

    /// How many chunks `chunks` cuts `count` images into (at least 1).
    @inlinable
    public static func chunkCount(_ count: Int, threads: Int) -> Int { max(1, min(threads, count)) }

    /// The images of chunk `c` of `chunks` (the serial reductions use it to weigh each chunk).
    @inlinable
    public static func chunk(_ c: Int, of chunks: Int, count: Int) -> (lo: Int, hi: Int) {
        (count * c / chunks, count * (c + 1) / chunks)
    }

    /// A model's batch inference: images 0..<count in about 8 blocks per thread, taken from a
    /// shared counter (a thread slowed down by the host does fewer); `body(lo, hi, part)`,
    /// part < threads. Images are independent at inference, so results do not depend on the blocks.
    /// A block is whole GEMM tiles of images (`imageBlock`).
    public static func images(_ count: Int, threads: Int, _ body: (Int, Int, Int) -> Void) {
        if threads <= 1 || count <= 1 { body(0, count, 0); return }
        let block = imageBlock(count, threads: threads)
        WorkerPool.shared.runDynamic(items: (count + block - 1) / block, parts: threads) { i, part in
            body(i * block, min(count, (i + 1) * block), part)
        }
    }

    /// Images per block of `images`: about count / (8 threads), rounded up to a multiple of
    /// the GEMM tile's rows. A Dense layer's rows are its images and a block's last tile computes
    /// all its rows (a 16-image block would compute 18); pooled Winograd calls take up to 6
    /// images.
    @inlinable
    public static func imageBlock(_ count: Int, threads: Int) -> Int {
        let tile = KernelTarget.tileRows
        let block = (count + threads * 8 - 1) / (threads * 8)
        return (block + tile - 1) / tile * tile
    }

    /// One image's rows 0..<total (in multiples of `block`) split over the threads: `body(q0, q1, part)`.
    public static func rows(_ total: Int, block: Int, threads: Int, _ body: (Int, Int, Int) -> Void) {
        let blocks = (total + block - 1) / block
        let parts = min(threads, blocks)
        if parts <= 1 { body(0, total, 0); return }
        WorkerPool.shared.run(parts: parts) { c in
            body(min(total, blocks * c / parts * block), min(total, blocks * (c + 1) / parts * block), c)
        }
    }

    /// Runs body(0..<count) split over `threads` workers (in order on one thread when threads == 1).
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
        } else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }

    /// Splits the elements of `ranges` (concatenated) into at most `threads` contiguous parts of
    /// at least `minimumPerPart` elements (boundaries on multiples of 16) and runs them on the
    /// worker pool: `body(rangeIndex, lo, hi)` for every piece of a range inside a part.
    public static func forEachSegment(of ranges: [(offset: Int, count: Int)], minimumPerPart: Int,
                                      _ body: (_ range: Int, _ lo: Int, _ hi: Int) -> Void) {
        var total = 0
        for r in ranges { total += r.count }
        let parts = max(1, min(threads, total / max(1, minimumPerPart)))
        WorkerPool.shared.run(parts: parts) { part in
            // this part's share of the concatenation, [start, end)
            let start = part == 0 ? 0 : min(total, (total * part / parts + 15) / 16 * 16)
            let end = part == parts - 1 ? total : min(total, (total * (part + 1) / parts + 15) / 16 * 16)
            var base = 0
            for (i, r) in ranges.enumerated() {
                let lo = max(start, base), hi = min(end, base + r.count)
                if lo < hi { body(i, r.offset + lo - base, r.offset + hi - base) }
                base += r.count
                if base >= end { break }
            }
        }
    }

    /// g[i] = partials[i] + partials[stride + i] + ... (`chunks` terms, added in chunk order) for
    /// every i in `segments`: the per-chunk gradient sums of a backward pass, split over the threads.
    public static func sumPartials(_ partials: UnsafeMutablePointer<Float>, into g: UnsafeMutablePointer<Float>,
                                   stride: Int, chunks: Int, segments: [(offset: Int, count: Int)]) {
        forEachSegment(of: segments, minimumPerPart: 16_384) { _, lo, hi in
            (g + lo).update(from: partials + lo, count: hi - lo)
            for c in 1..<max(chunks, 1) {
                let src = partials + c * stride
                for i in lo..<hi { g[i] += src[i] }
            }
        }
    }
}
