// Document: the source text split into numbered lines, plus helpers to strip the line
// prefixes a pasted table may carry (markdown code-block indentation, `# ` / `## ` / `#> ` / `% `
// comment prefixes, `> ` block quotes).

import ModelcData

struct Document {
    let path: String
    /// Lines without their terminators ("\n", "\r\n", "\r"); index i is line i+1.
    let lines: [String]
    /// The whole text (for dataset guessing from prose).
    let text: String

    init(text: String, path: String) {
        self.path = path
        self.text = text
        self.lines = TextLines.split(text)
    }

    func error(_ line: Int?, _ message: String) -> ModelError {
        ModelError(file: path, line: line, message: message)
    }
}

/// The prefix that precedes a table's header line, re-applied to strip every table line.
struct LinePrefix: Equatable {
    /// Leading whitespace of the header line (spaces/tabs), before any marker.
    var indent: String
    /// Comment or quote marker: "", "#", "##", "#>", ">", "//", "%".
    var marker: String

    /// Splits `line` into (prefix, rest): leading whitespace, an optional marker, and one space after it.
    static func detect(_ line: String) -> (LinePrefix, String) {
        let scalars = Array(line.unicodeScalars)
        var i = 0
        while i < scalars.count, scalars[i] == " " || scalars[i] == "\t" { i += 1 }
        let indent = String(String.UnicodeScalarView(scalars[0..<i]))
        var marker = ""
        let rest = String(String.UnicodeScalarView(scalars[i...]))
        for m in ["#>", "//", "##", "#", ">", "%"] where rest.hasPrefix(m) {
            let after = rest.dropFirst(m.count)
            // "##" (R knitr output) only before a space; "#" unless it starts a longer "###" run;
            // "%" (MATLAB / LaTeX comments) only before a space.
            let ok = m == "##" || m == "%" ? after.first == " " : after.isEmpty || after.first != "#" || m != "#"
            if ok { marker = m; break }
        }
        var body = Substring(rest.dropFirst(marker.count))
        if !marker.isEmpty, body.first == " " { body = body.dropFirst() }
        return (LinePrefix(indent: indent, marker: marker), String(body))
    }

    /// Removes this prefix from a table line (tolerating lines with less indentation).
    func strip(_ line: String) -> String {
        var s = Substring(line)
        if s.hasPrefix(indent) {
            s = s.dropFirst(indent.count)
        } else {
            while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        }
        if !marker.isEmpty {
            var t = s
            while let f = t.first, f == " " || f == "\t" { t = t.dropFirst() }
            if t.hasPrefix(marker) {
                t = t.dropFirst(marker.count)
                if t.first == " " { t = t.dropFirst() }
                s = t
            }
        }
        return String(s)
    }
}

extension StringProtocol {
    /// Without leading/trailing spaces, tabs, line breaks and no-break spaces (TextLines.trimmed).
    var trimmed: String { TextLines.trimmed(self) }
}

extension String {
    /// Byte-wise substring test (plain UTF-8 comparison, no locale: fast in debug builds too).
    func has(_ needle: String) -> Bool {
        var me = self
        return me.withUTF8 { h in
            var nd = needle
            return nd.withUTF8 { n in Self.search(h, n) }
        }
    }

    private static func search(_ h: UnsafeBufferPointer<UInt8>, _ n: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !n.isEmpty else { return true }
        guard h.count >= n.count else { return false }
        var i = 0
        while i <= h.count - n.count {
            if h[i] == n[0] {
                var j = 1
                while j < n.count && h[i + j] == n[j] { j += 1 }
                if j == n.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Parses "1,568" / "395178" (ASCII digits and commas only; commas not leading).
    var parsedCount: Int? {
        if isEmpty || hasPrefix(",") || hasSuffix(",") { return nil }
        var v = 0
        for u in utf8 {
            if u == UInt8(ascii: ",") { continue }
            guard u >= 48, u <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(u - 48))
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }
}

/// Formats 395178 as "395,178".
func formatCount(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, ch) in s.enumerated() {
        if i > 0, (s.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}
