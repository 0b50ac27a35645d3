// The machine's FP32 peak as this binary sees it, measured in the same run as a benchmark:
// every worker thread runs a register-only loop of 12 independent chains of fused multiply-adds
// (enough to hide the FMA latency), so nothing but the FMA units limits it. Built like the
// generated code (-Ounchecked -target-cpu native), so it uses the same vector width the kernels
// do. Each chain is one `KernelTarget.PeakVector`, sized so the 12 chains and the multiplier fit
// the family's vector registers: on AVX2's 16 ymm a SIMD16 chain would take two registers, and
// the spills would measure the loads and stores instead of the FMA units.

import Foundation

public enum PeakFlops {
    typealias V = KernelTarget.PeakVector
    /// 12 chains x the vector's lanes x 2 FLOPs per iteration.
    static let flopsPerIteration = 12 * V.scalarCount * 2

    @inline(never)
    static func fmaLoop(_ iterations: Int, _ seed: Float) -> Float {
        let m = V(repeating: 0.999_999)
        var a0 = V(repeating: seed), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3
        var a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11
        for _ in 0..<iterations {
            a0 = a0.addingProduct(a0, m); a1 = a1.addingProduct(a1, m); a2 = a2.addingProduct(a2, m)
            a3 = a3.addingProduct(a3, m); a4 = a4.addingProduct(a4, m); a5 = a5.addingProduct(a5, m)
            a6 = a6.addingProduct(a6, m); a7 = a7.addingProduct(a7, m); a8 = a8.addingProduct(a8, m)
            a9 = a9.addingProduct(a9, m); a10 = a10.addingProduct(a10, m); a11 = a11.addingProduct(a11, m)
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
    }

    /// GFLOP/s of `threads` workers running the FMA loop together; the best of `repeats`
    /// rounds of about `seconds` each (the best, since other load only ever lowers it).
    public static func measure(threads: Int, seconds: Double = 0.25, repeats: Int = 3) -> Double {
        // calibrate one worker's iterations for the time budget
        var iterations = 100_000
        while true {
            let t = Date()
            _ = fmaLoop(iterations, 1)
            let dt = Date().timeIntervalSince(t)
            if dt > 0.02 || iterations > 1 << 40 {
                iterations = max(1, Int(Double(iterations) * seconds / max(dt, 1e-9)))
                break
            }
            iterations *= 4
        }
        var best = 0.0
        let sink = Sink(max(threads, 1))
        let n = iterations
        for _ in 0..<repeats {
            let t = Date()
            if threads <= 1 {
                sink.values[0] = fmaLoop(n, 1)
            } else {
                DispatchQueue.concurrentPerform(iterations: threads) { i in sink.values[i] = fmaLoop(n, Float(i)) }
            }
            let dt = Date().timeIntervalSince(t)
            best = max(best, Double(iterations * flopsPerIteration * max(threads, 1)) / dt / 1e9)
        }
        return best
    }
}

/// Keeps the loops' results observable (so they are not optimized away); one slot per worker.
private final class Sink: @unchecked Sendable {
    var values: UnsafeMutablePointer<Float>
    init(_ n: Int) { values = .allocate(capacity: n); values.initialize(repeating: 0, count: n) }
    deinit { values.deallocate() }
}

/// Peak resident set size of this process so far, in bytes (getrusage; Linux reports KiB).
public func peakResidentBytes() -> Int {
    var usage = rusage()
    #if os(Linux)
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    #else
    guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
    #endif
    #if os(Linux)
    return Int(usage.ru_maxrss) * 1024
    #else
    return Int(usage.ru_maxrss)
    #endif
}
