// CheckpointFuzzEntry: the entry point of the checkpoint fuzzing harness (Tests/Fuzz, issue 6)
// and its regression tests. Arbitrary bytes must decode or throw a RuntimeError, never crash or
// hang.
//
// A mutated checkpoint almost always fails the header's CRC-32 check, which would leave the
// payload parser unexplored; so the bytes are decoded twice: once as they are, and once with the
// 24-byte header rewritten (magic, version, payload length, CRC-32) to fit the payload, and its
// stored training settings are applied to a training configuration.

import ModelcData
import ModelcRuntime

public enum CheckpointFuzzEntry {
    /// Returns how many of the two decodings succeeded.
    @discardableResult
    public static func run(_ bytes: [UInt8]) -> Int {
        var decoded = 0
        if (try? Checkpoint.decode(bytes, file: "fuzz")) != nil { decoded += 1 }
        let fixed = Checkpoint.frame.reframed(bytes)
        if let c = try? Checkpoint.decode(fixed, file: "fuzz") {
            decoded += 1
            // Re-encoding what was decoded must give a file that decodes again.
            if (try? Checkpoint.decode(c.encode(), file: "fuzz")) == nil { fatalError("checkpoint round trip failed") }
            // The stored settings as `train --resume`, `eval` and `predict` read them (schedules,
            // early stopping, --resplit, the ranges): a value or an error, never a crash.
            if let t = c.training, var config = try? TrainingConfig(defaults: TrainingDefaults(), dataset: "fuzz") {
                try? config.apply(pairs: t.config, file: "fuzz")
            }
        }
        return decoded
    }
}
