// WeightsFuzzEntry: the weights-file decoders of issue 18 for the fuzzing harness (Tests/Fuzz,
// target pickle, torch, safetensors) and the replay tests. Arbitrary bytes must decode or throw
// a DataError, never crash, hang or run anything.
//   pickle       the restricted unpickler with the torch allow-list on raw bytes (a data.pkl),
//                storages taken as declared (TorchCheckpoint.inspectPickle)
//   torch        a whole torch.save zip (TorchCheckpoint.decode, output bounded to 16 MiB)
//   safetensors  SafeTensors.decode; a decoded file must re-encode and decode to the same arrays

import ModelcData
import ModelcModelFiles

public enum WeightsFuzzEntry {
    public static let kinds = ["pickle", "torch", "safetensors"]

    /// Runs decoder `kind` on `data`. Returns true if it decoded, false if it threw a DataError.
    @discardableResult
    public static func run(_ kind: String, _ data: [UInt8]) -> Bool {
        do {
            switch kind {
            case "pickle": _ = try TorchCheckpoint.inspectPickle(data, file: "fuzz")
            case "torch": _ = try TorchCheckpoint.decode(data, file: "fuzz", maxOutputBytes: 1 << 24)
            default:
                let c = try SafeTensors.decode(data, file: "fuzz")
                let again = try SafeTensors.decode(SafeTensors.encode(c.arrays), file: "fuzz")
                if again.arrays.map(\.0) != c.arrays.map(\.0) || again.arrays.map(\.1) != c.arrays.map(\.1) {
                    fatalError("safetensors round trip changed the arrays")
                }
            }
            return true
        } catch {
            return false
        }
    }
}
