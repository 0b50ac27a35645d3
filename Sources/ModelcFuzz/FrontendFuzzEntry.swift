// FrontendFuzzEntry: the entry point of the model-file fuzzing harness (Tests/Fuzz, issue 6)
// and its regression tests: arbitrary bytes go through the whole front half of ModelcCore
// (markdown scan, Keras table, PyTorch repr, torchsummary and torchinfo parsers, annotations,
// inference, verification, report rendering) and must give a report or a ModelError, never a
// crash or a hang. Each parser's real fixtures are seeds (Tests/Fuzz/seeds/model).

import ModelcCore

public enum FrontendFuzzEntry {
    /// Checks `bytes` as a model file. Returns true if a report came out, false if it threw.
    @discardableResult
    public static func run(_ bytes: [UInt8], path: String = "fuzz.md") -> Bool {
        // Same decoding as Frontend.check(path:): invalid UTF-8 is repaired, not rejected.
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            let report = try Frontend.check(text: text, path: path)
            _ = report.text()
            _ = report.json()
            return true
        } catch {
            return false
        }
    }
}
