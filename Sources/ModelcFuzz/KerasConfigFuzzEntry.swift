// KerasConfigFuzzEntry: the entry point of the Keras model-config fuzzing harness (target
// `kerasconfig`, Tests/Fuzz) and its replay tests: arbitrary bytes go through KerasConfig (the
// .keras zip when they start with a zip local header "PK\3\4", else the JSON reader, the
// model structure, every layer's conversion, shapes, counts and the report) and must give a
// report or a ModelError, never a crash or a hang. The bytes also go through FileMagic (the
// first-bytes sniffing of `modelc check`) and, for a zip, its reading of the entry names.
// Seeds: Tests/Fixtures/keras_config.

import ModelcCore
import ModelcData
import ModelcModelFiles

public enum KerasConfigFuzzEntry {
    /// Checks `bytes` as a Keras model file. Returns true if a report came out, false if it threw.
    @discardableResult
    public static func run(_ bytes: [UInt8], file: String = "fuzz.keras") -> Bool {
        let zip = FileMagic.of(bytes: bytes) == .zip
        if zip, let entries = try? Zip.entries(bytes, file: file) { _ = FileMagic.zipContents(entries) }
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
