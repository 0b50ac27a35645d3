// A tiny indentation-aware text builder used by every emitter.

final class CodeWriter {
    private(set) var lines: [String] = []
    private var depth = 0

    func line(_ s: String = "") {
        lines.append(s.isEmpty ? "" : String(repeating: "    ", count: depth) + s)
    }

    /// Emits `header {`, the body one level deeper, then `}` (a blank line that ends the body
    /// is dropped: each function the emitter writes ends with one, to part it from the next).
    func block(_ header: String, _ body: () -> Void) {
        line(header + " {")
        let start = lines.count
        depth += 1
        body()
        depth -= 1
        if lines.count > start && lines.last == "" { lines.removeLast() }
        line("}")
    }

    /// Emits `call { parameters in`, the body one level deeper, then `}`: a trailing closure.
    func closure(_ call: String, parameters: String, _ body: () -> Void) {
        line("\(call) { \(parameters) in")
        depth += 1
        body()
        depth -= 1
        line("}")
    }

    func indented(_ body: () -> Void) {
        depth += 1
        body()
        depth -= 1
    }

    func append(_ other: CodeWriter) {
        for l in other.lines { line(l) }
    }

    var text: String { lines.joined(separator: "\n") + "\n" }
}

/// Formats a Float as a Swift literal that round-trips exactly.
func floatLiteral(_ v: Float) -> String {
    if v.isNaN { return "Float.nan" }
    if v.isInfinite { return v > 0 ? "Float.infinity" : "-Float.infinity" }
    var s = "\(v)"
    if !s.contains(".") && !s.contains("e") { s += ".0" }
    return "Float(\(s))"
}

/// Escapes a string for a Swift string literal.
func swiftString(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            // Control characters, line/paragraph separators, zero-width and bidi controls are
            // written as escapes (same value, nothing invisible or line-breaking in the source).
            let v = ch.value
            let escape = v < 0x20 || (0x7F...0x9F).contains(v) || (0x200B...0x200F).contains(v) || (0x2028...0x202E).contains(v)
                || (0x2060...0x2069).contains(v) || v == 0xFEFF
            if escape { out += "\\u{\(String(v, radix: 16))}" } else { out.unicodeScalars.append(ch) }
        }
    }
    return out + "\""
}
