// KerasConfigFuzzEntry: the entry point of the Keras model-config fuzzing harness (target
// `kerasconfig`, Tests/Fuzz) and its replay tests: arbitrary bytes go through KerasConfig (the
// .keras zip when they start with a zip local header "PK\3\4", else the JSON reader, the
// model structure, every layer's conversion, shapes, counts and the report) and must give a
// report or a ModelError, never a crash or a hang. Seeds: Tests/Fixtures/keras_config.

import ModelcCore

public enum KerasConfigFuzzEntry {
    /// Checks `bytes` as a Keras model file. Returns true if a report came out, false if it threw.
    @discardableResult
    public static func run(_ bytes: [UInt8], file: String = "fuzz.keras") -> Bool {
        let zip = bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 3 && bytes[3] == 4
        do {
            let report = try KerasConfig.check(bytes: bytes, file: file, zip: zip)
            _ = report.text()
            _ = report.json()
            return true
        } catch {
            return false
        }
    }
}
