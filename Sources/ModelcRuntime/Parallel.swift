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

    /// Runs body(0..<count) split over `threads` workers (in order on one thread when threads == 1).
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
        } else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }
}
