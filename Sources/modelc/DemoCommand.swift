// `modelc demo [--epochs N] [--limit N] [--out DIR]`: the README's main job.
// Checks and compiles the MNIST seed CNN (models/seed002_mnist_cnn.md) into a standalone binary,
// trains it on the real MNIST sample shipped in Sources/ModelcData/Samples/mnist, evaluates it on
// the sample's test images, and says where the binary and the checkpoint are.

import Foundation
import ModelcCore
import ModelcBackend
import ModelcData

enum DemoCommand {
    static let usage = "usage: modelc demo [--model FILE] [--epochs N] [--batch N] [--limit N] [--out DIR]"

    static func run(_ args: [String]) -> Int32 {
        let repo = URL(fileURLWithPath: GeneratedFiles.defaultDirectory()).deletingLastPathComponent().path
        var model = repo + "/models/seed002_mnist_cnn.md"
        // The sample has 5,400 training images after the validation split: batch 32 gives the
        // BatchNorm moving averages (momentum 0.99) enough steps to settle within a few epochs.
        var epochs = "6"
        var batch = "32"
        var limit: String?
        var out = repo + "/.build/modelc-demo"
        var i = 0
        while i < args.count {
            let a = args[i]
            switch a {
            case "--model", "--epochs", "--batch", "--limit", "--out":
                guard i + 1 < args.count else { return usageError("\(a) needs a value") }
                let v = args[i + 1]
                switch a {
                case "--model": model = v
                case "--out": out = v
                default:
                    guard let n = Int(v), n > 0 else { return usageError("\(a) expects a positive integer, found '\(v)'") }
                    switch a {
                    case "--epochs": epochs = String(n)
                    case "--batch": batch = String(n)
                    default: limit = String(n)
                    }
                }
                i += 1
            case "-h", "--help":
                print(usage)
                return 0
            default:
                return usageError("unknown argument '\(a)'")
            }
            i += 1
        }
        guard let sample = Datasets.sampleDirectory(name: "mnist") else {
            CompileCommand.err("modelc demo: error: the MNIST sample is missing from Sources/ModelcData/Samples/mnist")
            return 1
        }
        print("== 1/4 check \(model)")
        guard let ir = CompileCommand.checkedIR(model) else { return 1 }
        print("   \(ir.layers.count) layers, \(ir.totalParams) parameters (\(ir.trainableParams) trainable), every count matches")

        print("== 2/4 compile")
        let emitted = Emitter.emit(ir, fuse: true)
        let binary = out + "/" + emitted.directoryName
        let checkpoint = out + "/" + emitted.directoryName + ".ckpt"
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let file = try GeneratedFiles.write(emitted, into: GeneratedFiles.defaultDirectory())
            let start = Date()
            _ = try BuildDriver.build(generatedFile: file, className: emitted.className, output: binary) { print("   \($0)") }
            print(String(format: "   built %@ in %.1f s", binary, Date().timeIntervalSince(start)))
        } catch {
            CompileCommand.err("\(error)")
            return 1
        }

        print("== 3/4 train on the shipped MNIST sample (\(sample))")
        var trainArgs = ["train", "--data", sample, "--epochs", epochs, "--batch", batch, "--checkpoint", checkpoint]
        if let limit { trainArgs += ["--limit", limit] }
        let trained = runChild(binary, trainArgs)
        guard trained == 0 else {
            CompileCommand.err("modelc demo: error: training exited with status \(trained)")
            return 1
        }

        print("== 4/4 evaluate on the sample's test images")
        let evaluated = runChild(binary, ["eval", "--data", sample, "--checkpoint", checkpoint, "--split", "test"])
        guard evaluated == 0 else {
            CompileCommand.err("modelc demo: error: evaluation exited with status \(evaluated)")
            return 1
        }
        print("""

        binary:     \(binary)   (standalone: try `\(binary) predict --idx \(sample)/t10k-images-idx3-ubyte.gz --index 0 --checkpoint \(checkpoint)`)
        checkpoint: \(checkpoint)
        """)
        return 0
    }

    /// Runs the compiled binary with inherited stdout/stderr and returns its exit status.
    static func runChild(_ path: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        do { try p.run() } catch {
            CompileCommand.err("modelc demo: error: cannot run \(path): \(error)")
            return 1
        }
        p.waitUntilExit()
        return p.terminationStatus
    }

    static func usageError(_ m: String) -> Int32 {
        CompileCommand.err("modelc demo: \(m)\n\(usage)")
        return 2
    }
}
