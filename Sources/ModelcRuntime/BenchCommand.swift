// `bench`: throughput and latency on synthetic inputs (no dataset needed), printed as JSON:
// train_images_per_s (forward + backward + optimizer at the training batch size),
// infer_images_per_s_b256, latency_ms_b1_median and latency_ms_b1_p99.

import Foundation

enum BenchCommand<M: CompiledModel> {
    static func run(_ args: [String], console: Console) throws {
        let f = try CommandLineFlags(args, command: "bench", valueFlags: ["batch", "threads", "seconds"], switchFlags: ["json"])
        try CommandSupport.setThreads(f)
        let info = M.info
        let batch = try f.int("batch", min: 1, max: 1 << 16) ?? info.defaults.batchSize
        let budget = Double(try f.float("seconds", min: 0.1, max: 600) ?? 2)
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

        func timeLoop(_ body: () -> Void) -> (iterations: Int, seconds: Double) {
            body()                                           // warm-up
            let start = Date()
            var k = 0
            repeat { body(); k += 1 } while Date().timeIntervalSince(start) < budget
            return (k, Date().timeIntervalSince(start))
        }
        var step = 0
        let train = timeLoop {
            let out = model.forward(input, count: batch, training: true, seed: UInt64(step))
            _ = loss.evaluate(outputs: out, labels: labels, count: batch, classes: info.classCount, gradient: grad)
            model.backward(grad, count: batch)
            optimizer.step(parameters: model.parameters, gradients: model.gradients, lr: 1e-6)
            step += 1
        }
        let infer = timeLoop { _ = model.forward(input, count: 256, training: false, seed: 0) }
        var latencies: [Double] = []
        let start = Date()
        repeat {
            let t = Date()
            _ = model.forward(input, count: 1, training: false, seed: 0)
            latencies.append(Date().timeIntervalSince(t) * 1000)
        } while Date().timeIntervalSince(start) < budget && latencies.count < 100_000
        latencies.sort()
        let median = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
        console.out(JSON.object([
            ("model", JSON.string(info.name)), ("threads", "\(Parallel.threads)"), ("train_batch", "\(batch)"),
            ("train_images_per_s", JSON.number(Double(train.iterations * batch) / train.seconds)),
            ("infer_images_per_s_b256", JSON.number(Double(infer.iterations * 256) / infer.seconds)),
            ("latency_ms_b1_median", JSON.number(median)), ("latency_ms_b1_p99", JSON.number(p99)),
        ]))
    }
}
