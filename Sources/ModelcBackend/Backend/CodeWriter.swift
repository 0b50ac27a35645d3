// A tiny indentation-aware text builder used by every emitter.

final class CodeWriter {
    private(set) var lines: [String] = []
    private var depth = 0

    func line(_ s: String = "") {
        lines.append(s.isEmpty ? "" : String(repeating: "    ", count: depth) + s)
    }

    /// Emits `header {`, the body one level deeper, then `}`.
    func block(_ header: String, _ body: () -> Void) {
        line(header + " {")
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
            if ch.value < 0x20 { out += "\\u{\(String(ch.value, radix: 16))}" } else { out.unicodeScalars.append(ch) }
        }
    }
    return out + "\""
}
