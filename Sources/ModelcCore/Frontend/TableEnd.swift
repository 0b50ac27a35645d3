// TableEnd: trailing notes every table layout ignores, and the check that a table was read to
// its end (issue 17: a table must never be reported on a partial read).
//
// Notes: text after a rule line (`_____  # x`, `├──┼──┤ note`, `|---|---| <- x`), text after a
// box row's closing border (`│ conv2d (Conv2D) │ (None, 26, 26, 32) │ 320 │ ## note`), and a
// `# ...`, `// ...`, `<- ...` or `← ...` comment after any line of a text layout.
//
// End: each scanner stops at the first line it cannot place. If a line below it, before the next
// table header, still looks like a layer row of the same layout, holds a footer total that was
// not read, or (before the footer) is one of the table's rules within a few lines, the table
// ended early: an error names the line where reading stopped and the line that shows it.

enum TrailingNote {
    static let markers = ["#", "//", "<-", "←"]
    private static let markerScalars = markers.map { Array($0.unicodeScalars) }

    static func isSpace(_ u: Unicode.Scalar) -> Bool { u == " " || u == "\t" }

    /// `s` without a trailing comment (whitespace, then a marker, then anything). A line that
    /// is only a comment becomes "".
    static func strip(_ s: String) -> String {
        let u = Array(s.unicodeScalars)
        var i = 0
        while i < u.count {
            if (i == 0 || isSpace(u[i - 1])) && startsMarker(u, at: i) {
                return String(String.UnicodeScalarView(u[0..<i]))
            }
            i += 1
        }
        return s
    }

    static func startsMarker(_ u: [Unicode.Scalar], at i: Int) -> Bool {
        for m in markerScalars where i + m.count <= u.count {
            var k = 0
            while k < m.count && u[i + k] == m[k] { k += 1 }
            if k == m.count { return true }
        }
        return false
    }

    /// The rule part of `t` and whether a note follows it: the longest prefix made of `allowed`
    /// characters, cut back to its last whitespace when a note is glued to it.
    static func rulePrefix(_ t: String, allowed: (Unicode.Scalar) -> Bool) -> (rule: String, noteFollows: Bool)? {
        let u = Array(t.trimmed.unicodeScalars)
        var i = 0
        while i < u.count, allowed(u[i]) { i += 1 }
        if i == u.count { return (String(String.UnicodeScalarView(u)), false) }
        // A note must be separated from the rule by whitespace.
        guard i > 0, isSpace(u[i - 1]) || isSpace(u[i]) else { return nil }
        return (String(String.UnicodeScalarView(u[0..<i])).trimmed, true)
    }

    /// `_____`, `=====`, `-----` (text layouts, torchsummary, torchinfo), with or without a note.
    static func isTextRule(_ t: String) -> Bool {
        guard let (rule, _) = rulePrefix(t, allowed: { $0 == "_" || $0 == "=" || $0 == "-" }) else { return false }
        return TableScanner.isTextRule(rule)
    }

    /// Box-drawing and markdown rules (`┏━┳━┓`, `├─┼─┤`, `|---|:--|`, `+---+`), with or without a
    /// note. A note needs at least three horizontal characters in a row before it, so that a
    /// markdown row such as `| - | - | 0 |` is never taken for a rule.
    static func isBoxRule(_ t: String) -> Bool {
        let allowed: (Unicode.Scalar) -> Bool = {
            ($0.value >= 0x2500 && $0.value <= 0x257F) || "-=|:+ \t".unicodeScalars.contains($0)
        }
        guard let (rule, noteFollows) = rulePrefix(t, allowed: allowed), TableScanner.isBoxRule(rule) else { return false }
        return !noteFollows || horizontalRun(rule) >= 3
    }

    static func horizontalRun(_ s: String) -> Int {
        var best = 0, run = 0
        for u in s.unicodeScalars {
            let horizontal = u == "-" || u == "=" || (u.value >= 0x2500 && u.value <= 0x257F && u != "│" && u != "┃")
            run = horizontal ? run + 1 : 0
            best = max(best, run)
        }
        return best
    }

    static func isBorder(_ c: Character) -> Bool { c == "│" || c == "┃" || c == "|" }

    /// A box row without the text after its `borders`-th border character (the closing one).
    static func boxRow(_ t: String, borders: Int, isBorder: (Character) -> Bool = isBorder) -> String {
        var seen = 0
        for i in t.indices where isBorder(t[i]) {
            seen += 1
            if seen == borders { return String(t[...i]) }
        }
        return t
    }
}

enum TableEnd {
    /// What the scanners tell the check about one line (0-based index).
    struct Probe {
        /// The line is a layer row of the table's layout.
        var row: (Int) -> Bool
        /// The line holds a footer total the table did not record.
        var unreadFooter: (Int) -> Bool
        /// The line is a rule of the table's layout.
        var rule: (Int) -> Bool
    }

    /// Any layout's header line: ends the region another table may own.
    static func isHeader(_ line: String) -> Bool { line.has("Layer (type") || line.has("Layer(type)") }

    /// Throws when the table read up to `stop` (the 0-based line where reading stopped; nil at the
    /// end of the document) continues below it. Rules count only before the footer was read, and
    /// only among the first three non-blank lines.
    static func ensureComplete(_ doc: Document, stop: Int?, footerRead: Bool, skipping: Set<Int>, probe: Probe) throws {
        guard let stop, stop < doc.lines.count else { return }
        var k = stop, seen = 0
        while k < doc.lines.count {
            defer { k += 1 }
            if skipping.contains(k + 1) { continue }
            if k > stop && isHeader(doc.lines[k]) { return }
            if doc.lines[k].trimmed.isEmpty { continue }
            seen += 1
            if probe.row(k) { throw ended(doc, stop: stop, at: k, "still looks like a layer row") }
            if k > stop && probe.unreadFooter(k) { throw ended(doc, stop: stop, at: k, "holds a total that was not read") }
            if k > stop && !footerRead && seen <= 4 && probe.rule(k) { throw ended(doc, stop: stop, at: k, "is a rule of the table") }
        }
    }

    static func quote(_ s: String) -> String {
        let t = s.trimmed
        return t.count > 70 ? String(t.prefix(67)) + "..." : t
    }

    static func ended(_ doc: Document, stop: Int, at k: Int, _ why: String) -> ModelError {
        if k == stop {
            return doc.error(stop + 1, "reading the table stopped here: '\(quote(doc.lines[k]))' looks like a layer row "
                + "but comes after the table's footer; the table ends early (move the row above the totals, or remove it)")
        }
        return doc.error(stop + 1, "reading the table stopped here at '\(quote(doc.lines[stop]))' (expected a layer row, "
            + "a rule or a footer line), but line \(k + 1) below \(why) ('\(quote(doc.lines[k]))'): the table ends early; "
            + "fix or remove line \(stop + 1)")
    }
}
