// Gemm.runtime (Sources/ModelcRuntime/Kernels/GemmRuntime.swift) on the products of a recurrent
// layer's chunk and of an attention head, one thread, against the in-run FMA peak of one core.
// Built and run by runtime_gemm_bench.sh against the runtime's cached objects; not run by CI.
//
// Shapes (mnist_lstm_rows: T 28 steps, D 28 inputs, U 128 units, W 512 = 4U; a training chunk of
// 64 images; the states and gradients one image's state apart, as Recurrent.swift keeps them):
//   input     gates[n, t] = x[n, t] Wx + b          1792 x 28 -> 512 (all steps at once)
//   input step the same for one step                64 x 28 -> 512, per step (a larger chunk's form)
//   step      rec[n] = h[n, t-1] U (U packed once)   64 x 128 -> 512, per step
//   step back dh[n] += dz[n, t] U^T (packed once)    64 x 512 -> 128, per step
//   dWx       x^T dz over images and steps            28 x 1792 -> 512
//   dU        h'^T dz over images and steps           128 x 1728 -> 512
//   head      q k^T of one attention head             28 x 16 -> 32 (unpacked: small)

import Foundation
import ModelcRuntime

func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// The best of 5 rounds of 0.2 s: seconds per call.
func time(_ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<5 {
        let start = seconds()
        var calls = 0
        while seconds() - start < 0.2 { body(); calls += 1 }
        best = min(best, (seconds() - start) / Double(calls))
    }
    return best
}

let (T, D, U, W, count) = (28, 28, 128, 512, 64)
let S = T * W + 2 * T * U + W, K = T * W + 2 * U   // state and work floats per image (an LSTM's)
func buffer(_ n: Int, _ v: Float) -> UnsafeMutablePointer<Float> {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
    for i in 0..<n { p[i] = v * Float(i % 7 - 3) }
    return p
}
let state = buffer(count * S, 0.01), work = buffer(count * K, 0.02), x = buffer(count * T * D, 0.1)
let wx = buffer(D * W, 0.1), u = buffer(U * W, 0.1), ut = buffer(W * U, 0.1)
let gWx = buffer(D * W, 0), gU = buffer(U * W, 0), scores = buffer(28 * 32, 0)
let packedU = buffer(Gemm.runtimePackedFloats(k: U, n: W), 0), packedUt = buffer(Gemm.runtimePackedFloats(k: W, n: U), 0)
Gemm.packRuntimeB(u, n: W, GemmReduction(k: U, ldb: W), into: packedU)
Gemm.packRuntimeB(ut, n: U, GemmReduction(k: W, ldb: U), into: packedUt)
let hOffset = T * W

let peak = PeakFlops.measure(threads: 1)   // GFLOP/s
print(String(format: "one core's FMA peak, measured now: %.1f GFLOP/s", peak))
func report(_ name: String, _ macs: Int, _ body: () -> Void) {
    let gflops = 2 * Double(macs) / time(body) / 1e9
    print(String(format: "%@ %8.1f GFLOP/s  %5.1f%% of peak", name.padding(toLength: 30, withPad: " ", startingAt: 0),
                 gflops, 100 * gflops / peak))
}
report("input 1792 x 28 -> 512", count * T * D * W) {
    Gemm.runtime(count * T, a: { r in x + r * D }, b: wx, n: W, c: { r in state + (r / T) * S + (r % T) * W },
                 GemmReduction(k: D, ldb: W))
}
report("input step 64 x 28 -> 512", count * D * W) {
    Gemm.runtime(count, a: { n in x + n * T * D + 5 * D }, b: wx, n: W, c: { n in state + n * S + 5 * W }, GemmReduction(k: D, ldb: W))
}
report("step 64 x 128 -> 512", count * U * W) {
    Gemm.runtime(count, a: { n in state + n * S + hOffset }, b: u, n: W, c: { n in state + n * S + S - W },
                 GemmReduction(k: U, ldb: W), packedB: packedU)
}
report("step back 64 x 512 -> 128", count * W * U) {
    Gemm.runtime(count, a: { n in work + n * K + W }, b: ut, n: U, c: { n in work + n * K + T * W },
                 GemmReduction(k: W, ldb: U), .add, packedB: packedUt)
}
report("dWx 28 x 1792 -> 512", D * count * T * W) {
    Gemm.runtime(D, a: { i in x + i }, b: work, n: W, c: { i in gWx + i * W },
                 GemmReduction(outer: count, inner: T, aOuter: T * D, aInner: D, bOuter: K, bInner: W))
}
report("dU 128 x 1728 -> 512", U * count * (T - 1) * W) {
    Gemm.runtime(U, a: { i in state + hOffset + i }, b: work + W, n: W, c: { i in gU + i * W },
                 GemmReduction(outer: count, inner: T - 1, aOuter: S, aInner: U, bOuter: K, bInner: W))
}
report("head 28 x 16 -> 32", 28 * 16 * 32) {
    Gemm.runtime(28, a: { i in x + i * 64 }, b: wx, n: 32, c: { i in scores + i * 32 }, GemmReduction(k: 16, ldb: 32))
}
