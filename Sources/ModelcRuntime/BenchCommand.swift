// `bench`: throughput and latency on synthetic inputs (no dataset needed), printed as JSON:
//   train_images_per_s        forward + backward + optimizer at the training batch size
//   infer_images_per_s_b256   inference at batch 256
//   latency_ms_b1_median/p99  single-image inference
//   train_gflops, infer_gflops_b256
//                             achieved GFLOP/s: forward FLOPs x 3 per training image (forward,
//                             weight gradient, input gradient), forward FLOPs per inference image;
//                             both count a convolution's direct multiply-adds, so for a model whose
//                             batch inference uses Winograd (fewer multiplies) the rate is effective
//   peak_gflops               the FP32 FMA peak of the same threads, measured in this run
//   train_fraction_of_peak, infer_fraction_of_peak
//   peak_rss_mb               peak resident memory of the process (model built for batch 256)
//   kernels                   the instruction-set family the kernels were built for (avx2, avx512,
//                             neon; KernelTarget), so that a figure names the code it measured
// Each rate is the median of `--repeats` timed rounds of `--seconds` each (default 5 x 1 s, after
// a warm-up), as the peer script does for the frameworks; latencies pool every round's samples.
// `--only train|infer|latency` runs one part (for profiling); `--no-peak` skips the peak;
// `--iterations N` makes each round exactly N calls instead of `--seconds` (so that
// `perf stat -e cycles` of two runs with different N gives cycles per image on a noisy machine).

import Foundation

package enum BenchCommand<M: CompiledModel> {
    package static func run(_ args: [String], console: Console) throws {
        let f = try CommandLineFlags(args, command: "bench", valueFlags: ["batch", "threads", "seconds", "only", "repeats", "iterations"], switchFlags: ["json", "no-peak"])
        try f.applyThreads()
        let info = M.info
        let batch = try f.int("batch", min: 1, max: 1 << 16) ?? info.defaults.batchSize
        let budget = Double(try f.float("seconds", min: 0.1, max: 600) ?? 1)
        let repeats = try f.int("repeats", min: 1, max: 1000) ?? 5
        let iterations = try f.int("iterations", min: 1, max: 1_000_000)
        let only = f.string("only")
        if let o = only, !["train", "infer", "latency"].contains(o) {
            throw UsageError("bench: --only expects train, infer or latency, found '\(o)'")
        }
        func wanted(_ part: String) -> Bool { only == nil || only == part }
        try CompiledModelBase.checkMemory(M.self, maxBatch: max(batch, 256), what: "bench: batch \(batch)\(f.has("batch") ? " (--batch)" : "")")
        let model = M(maxBatch: max(batch, 256))
        initializeParameters(model.parameters, tensors: info.tensors, seed: 1)
        let n = max(batch, 256)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: n * info.inputSize)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        let grad = UnsafeMutablePointer<Float>.allocate(capacity: n * info.classCount)
        defer { input.deallocate(); labels.deallocate(); grad.deallocate() }
        var g = SplitMix64(seed: deriveSeed(1, .bench))
        for i in 0..<(n * info.inputSize) { input[i] = Float(g.next(below: 256)) * info.inputScale + info.inputOffset }
        for i in 0..<n { labels[i] = Int32(g.next(below: info.classCount)) }
        var config = try TrainingConfig(defaults: info.defaults, dataset: "")
        config.batchSize = batch
        let optimizer = Optimizer(settings: config.optimizer, info: info)
        let loss = Loss(kind: config.loss, modelEndsWithSoftmax: M.endsWithSoftmax)

        /// Median images/s over `repeats` rounds of `body` (one batch of `images` per call).
        func medianRate(images: Int, _ body: () -> Void) -> Double {
            body()                                           // warm-up
            var rates: [Double] = []
            for _ in 0..<repeats {
                let start = Date()
                var k = 0
                repeat { body(); k += 1 } while iterations.map({ k < $0 }) ?? (Date().timeIntervalSince(start) < budget)
                rates.append(Double(k * images) / Date().timeIntervalSince(start))
            }
            rates.sort()
            return rates.count % 2 == 1 ? rates[rates.count / 2] : (rates[rates.count / 2 - 1] + rates[rates.count / 2]) / 2
        }
        var step = 0
        var fields: [(String, String)] = [("model", JSON.string(info.name)), ("kernels", JSON.string(KernelTarget.family)),
                                          ("threads", "\(Parallel.threads)"), ("train_batch", "\(batch)")]
        let trainFlops = 3.0 * Double(info.forwardFlops), inferFlops = Double(info.forwardFlops)
        var trainGflops: Double? = nil, inferGflops: Double? = nil
        if wanted("train") {
            let rate = medianRate(images: batch) {
                let out = model.forward(input, count: batch, training: true, seed: UInt64(step))
                _ = loss.evaluate(outputs: out, labels: labels, count: batch, classes: info.classCount, gradient: grad)
                model.backward(grad, count: batch)
                optimizer.step(parameters: model.parameters, gradients: model.gradients, lr: 1e-6)
                step += 1
            }
            trainGflops = rate * trainFlops / 1e9
            fields += [("train_images_per_s", JSON.number(rate)), ("train_gflops", JSON.number(trainGflops!))]
        }
        if wanted("infer") {
            let rate = medianRate(images: 256) { _ = model.forward(input, count: 256, training: false, seed: 0) }
            inferGflops = rate * inferFlops / 1e9
            fields += [("infer_images_per_s_b256", JSON.number(rate)), ("infer_gflops_b256", JSON.number(inferGflops!))]
        }
        if wanted("latency") {
            var latencies: [Double] = []
            latencies.reserveCapacity(100_000)
            _ = model.forward(input, count: 1, training: false, seed: 0)
            let start = Date()
            repeat {
                let t = Date()
                _ = model.forward(input, count: 1, training: false, seed: 0)
                latencies.append(Date().timeIntervalSince(t) * 1000)
            } while (iterations.map({ latencies.count < $0 * repeats }) ?? (Date().timeIntervalSince(start) < budget * Double(repeats)))
                && latencies.count < 100_000
            latencies.sort()
            let median = latencies[latencies.count / 2]
            let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
            fields += [("latency_ms_b1_median", JSON.number(median)), ("latency_ms_b1_p99", JSON.number(p99))]
        }
        if !f.has("no-peak") {
            let peak = PeakFlops.measure(threads: Parallel.threads)
            fields.append(("peak_gflops", JSON.number(peak)))
            if let g = trainGflops { fields.append(("train_fraction_of_peak", JSON.number(g / peak))) }
            if let g = inferGflops { fields.append(("infer_fraction_of_peak", JSON.number(g / peak))) }
        }
        fields += [("forward_flops_per_image", "\(info.forwardFlops)"),
                   ("peak_rss_mb", JSON.number(Double(peakResidentBytes()) / 1_048_576))]
        console.out(JSON.object(fields))
    }
}
