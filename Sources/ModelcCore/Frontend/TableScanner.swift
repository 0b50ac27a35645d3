// TableScanner: finds the Keras summary table among a document's prose and reads its rows.
//
// Before: a Document (all lines), minus the lines of annotation blocks.
// After:  a SummaryTable: one RawRow per layer (rows wrapped over several physical lines
//         merged back), the declared totals, and the recognized layout.
//
// Layouts: Keras 2 / old tf.keras text tables (`___` and `===` rules, truncated type names),
// tf.keras >= 2.9 text tables (leading space, blank spacer lines, wrapped cells), Keras 3
// box tables (heavy `┏━┳` and light `┌─┬`), and Keras summaries pasted as markdown pipe tables.
// Every line is first stripped of the prefix found before the header (indentation, `# `, `#> `)
// and of a trailing note (TableEnd.swift); a table that continues below the line where reading
// stopped is an error at that line, never a report on part of it.

enum TableScanner {
    static func findTable(in doc: Document, skipping: Set<Int>) throws -> SummaryTable {
        var headerIndex: Int?
        var prefix = LinePrefix(indent: "", marker: "")
        for (i, line) in doc.lines.enumerated() where !skipping.contains(i + 1) && isHeader(line) {
            headerIndex = i
            prefix = LinePrefix.detect(line).0
            break
        }
        guard let h = headerIndex else {
            throw doc.error(nil, "no Keras model summary found: expected a header line like "
                + "'Layer (type)    Output Shape    Param #' (Keras 2/tf.keras text table or Keras 3 box table), "
                + "a torchsummary table ('Conv2d-1   [-1, 32, 26, 26]   320') or a PyTorch print(model) repr ('Net(' / '  (conv1): Conv2d(1, 32, ...)')")
        }
        let header = clean(prefix, doc.lines[h])
        let headerTrimmed = header.trimmed
        if let first = headerTrimmed.first, "│┃|".contains(first) || isOpenPipeHeader(doc, headerIndex: h, prefix: prefix) {
            return try scanBox(doc: doc, headerIndex: h, header: header, prefix: prefix, skipping: skipping)
        }
        return try scanText(doc: doc, headerIndex: h, header: header, prefix: prefix, skipping: skipping)
    }

    /// A summary table's header line: `Layer (type)` with `Output Shape` or `Param #`.
    static func isHeader(_ line: String) -> Bool {
        let lower = line.lowercased()
        return (lower.has("layer (type)") || lower.has("layer(type)")) && (lower.has("output shape") || lower.has("param"))
    }

    /// A GitHub pipe table written without outer pipes: a header with `|` between its cells over a
    /// delimiter row ("--|--|--", "--- | --- | ---").
    static func isOpenPipeHeader(_ doc: Document, headerIndex h: Int, prefix: LinePrefix) -> Bool {
        guard h + 1 < doc.lines.count, clean(prefix, doc.lines[h]).has("|") else { return false }
        let next = clean(prefix, doc.lines[h + 1]).trimmed
        return next.has("|") && next.has("-") && isBoxRule(next)
    }

    // MARK: - Shared line classification

    /// Strips the table's line prefix, terminal colour codes left in a notebook's text output
    /// (`ESC[38;5;34m786,496ESC[0m`), HTML line breaks pasted into READMEs ("</br>", "<br>") and
    /// the tags keras.io wraps Keras 3 output in (`<pre style=...>`, `<span style="color: ...">320</span>`).
    static func clean(_ prefix: LinePrefix, _ line: String) -> String {
        var s = prefix.strip(line)
        if s.utf8.contains(0x1B) { s = withoutEscapes(s) }
        guard s.utf8.contains(UInt8(ascii: "<")) else { return s }
        for tag in ["</br>", "<br/>", "<br />", "<br>"] where s.contains(tag) {
            s = s.replacingOccurrences(of: tag, with: "")
        }
        return withoutTags(s, named: ["span", "pre"])
    }

    /// `s` without the opening and closing HTML tags `names`, their text kept (`<span style=...>Dense</span>`
    /// → `Dense`); any other `<` (a `<-` note, another tag) stays.
    static func withoutTags(_ s: String, named names: [String]) -> String {
        var out = ""
        var rest = Substring(s)
        while let open = rest.firstIndex(of: "<") {
            let tag = rest[rest.index(after: open)...]
            let name = tag.drop { $0 == "/" }.prefix { $0.isLetter }.lowercased()
            guard names.contains(name), let close = tag.firstIndex(of: ">") else {
                out += rest[...open]
                rest = tag
                continue
            }
            out += rest[..<open]
            rest = tag[tag.index(after: close)...]
        }
        return out + rest
    }

    /// `s` without its ANSI escape sequences (ESC `[`, parameters, a final letter: Keras 3's rich
    /// colours); a lone ESC is dropped too.
    static func withoutEscapes(_ s: String) -> String {
        let u = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < u.count {
            guard u[i] == "\u{1B}" else { out.append(u[i]); i += 1; continue }
            i += 1
            guard i < u.count, u[i] == "[" else { continue }
            i += 1
            while i < u.count, !(0x40...0x7E).contains(u[i].value) { i += 1 }   // parameter bytes
            i += 1                                                               // the final byte
        }
        return String(out)
    }

    static func isFence(_ t: String) -> Bool { t.hasPrefix("```") || t.hasPrefix("~~~") }

    /// `_____`, `=====`, `-----` (text layouts).
    static func isTextRule(_ t: String) -> Bool {
        guard t.count >= 3 else { return false }
        let set = Set(t)
        return set.count == 1 && (set.contains("_") || set.contains("=") || set.contains("-"))
    }

    /// Box-drawing rules (`┏━┳━┓`, `├─┼─┤`, `└─┴─┘`) and markdown table rules (`|---|:--|`).
    static func isBoxRule(_ t: String) -> Bool {
        var horizontal = false
        for u in t.unicodeScalars {
            if u.value >= 0x2500 && u.value <= 0x257F {
                if u != "│" && u != "┃" { horizontal = true }
                continue
            }
            if u == "-" || u == "=" { horizontal = true; continue }
            if u == "|" || u == ":" || u == "+" || u == " " { continue }
            return false
        }
        return horizontal
    }

    enum FooterKind { case total, trainable, nonTrainable, optimizer }

    static let footerLabels: [(String, FooterKind)] = [("Total params:", .total), ("Trainable params:", .trainable),
                                                       ("Non-trainable params:", .nonTrainable),
                                                       ("Nontrainable params:", .nonTrainable),   // a hand-copied spelling
                                                       ("Optimizer params:", .optimizer)]

    /// The footer line kind of `t` (trimmed, `#`/`>` quote marks allowed before it), if any.
    static func footerKind(_ t: String) -> FooterKind? {
        let n = normalizedFooter(withoutHeadingMarks(t))
        return footerLabels.first { n.hasPrefix($0.0) }?.1
    }

    /// A footer written as a markdown heading or quote ("#### Total params: 12,194") without its marks.
    static func withoutHeadingMarks(_ t: String) -> String {
        var s = Substring(t)
        while let f = s.first, f == "#" || f == ">" || f == " " || f == "\t" { s = s.dropFirst() }
        return String(s)
    }

    /// A footer as pasted into markdown: "**Total Params**: 22,428,288 (85.56 MB)" → "Total params: 22,428,288 (85.56 MB)"
    /// (bold marks dropped, the label's letter case as Keras prints it).
    static func normalizedFooter(_ t: String) -> String {
        guard t.first == "*" || t.first == "T" || t.first == "N" || t.first == "O" || t.first == "t" || t.first == "n" else { return t }
        let s = t.replacingOccurrences(of: "**", with: "")
        let lower = s.lowercased()
        for (p, _) in footerLabels where lower.hasPrefix(p.lowercased()) { return p + s.dropFirst(p.count) }
        return t
    }

    /// "Total params: 395,178", "Trainable params: 16 (64.00 B)", "Non-trainable params: 0".
    static func footer(_ raw: String, line: Int, doc: Document, table: inout SummaryTable) -> (FooterKind, Int?)? {
        let t = normalizedFooter(withoutHeadingMarks(raw))
        for (p, kind) in footerLabels where t.hasPrefix(p) {
            let value = t.dropFirst(p.count).trimmed
            var token = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
            if token.hasSuffix(".0") { token = String(token.dropLast(2)) }   // Keras 2.0 printed floats
            if token.count >= 2, token.hasPrefix("`"), token.hasSuffix("`") { token = String(token.dropFirst().dropLast()) }   // a code span
            guard let n = token.parsedCount else {
                // Not fatal: the rows can still be checked; the report is marked not ok.
                table.footerProblems.append(doc.error(line, "'\(p)' is followed by '\(value)', expected a count like 1,234"))
                return (kind, nil)
            }
            return (kind, n)
        }
        return nil
    }

    static func record(_ f: (FooterKind, Int?), line: Int, into table: inout SummaryTable) {
        guard f.1 != nil else { return }
        switch f.0 {
        case .total: table.declared.total = f.1; table.totalLine = line
        case .trainable: table.declared.trainable = f.1; table.trainableLine = line
        case .nonTrainable: table.declared.nonTrainable = f.1; table.nonTrainableLine = line
        case .optimizer: table.declared.optimizer = f.1
        }
    }

    // MARK: - Text tables (Keras 2, tf.keras)

    /// Column start offsets (in Characters) from the header line.
    struct Columns {
        var starts: [Int]          // layer, shape, param[, connected]
        var hasConnected: Bool
        var hasExtra: Bool

        func column(at offset: Int) -> Int {
            var c = 0
            for (k, s) in starts.enumerated() where s <= offset + 1 { c = k }
            return c
        }
    }

    static func columns(of header: String) -> Columns {
        let chars = Array(header.unicodeScalars)
        func find(_ word: String) -> Int? {
            let w = Array(word.unicodeScalars)
            guard w.count <= chars.count else { return nil }
            for i in 0...(chars.count - w.count) where Array(chars[i..<(i + w.count)]) == w { return i }
            return nil
        }
        let layer = find("Layer") ?? 0
        let shape = find("Output Shape") ?? find("Output shape") ?? layer + 29
        let param = find("Param") ?? shape + 26
        if let conn = find("Connected to") {
            return Columns(starts: [layer, shape, param, conn], hasConnected: true, hasExtra: false)
        }
        // Any other header text after "Param #" is a hand-added column (e.g. "Receptive Field."), ignored.
        let tail = chars.count > param + 7 ? String(String.UnicodeScalarView(chars[(param + 7)...])).trimmed : ""
        let extra = !tail.isEmpty && !tail.hasPrefix("#") && tail != "eters"
        return Columns(starts: [layer, shape, param], hasConnected: false, hasExtra: extra)
    }

    /// Parses one physical row line "name (Type)   (None, 26, 26, 32)   320   [connected]".
    static func textRow(_ s: String) -> (col0: String, shape: String, count: Int, rest: String)? {
        let c = Array(s.unicodeScalars)
        func str(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(c[r])) }
        let n = c.count
        var i = 0
        func skipWS() { while i < n, c[i] == " " || c[i] == "\t" { i += 1 } }
        skipWS()
        let nameStart = i
        while i < n, c[i] != " " && c[i] != "\t" { i += 1 }
        guard i > nameStart else { return nil }
        let name = str(nameStart..<i)
        if name.hasPrefix("(") || name.hasPrefix("[") || name.hasSuffix(":") { return nil }
        skipWS()
        var col0 = name
        if i < n, c[i] == "(" {
            var j = i
            while j < n, c[j] != " " && c[j] != "\t" { j += 1 }
            let tok = str(i..<j)
            let shapeLike = tok.hasPrefix("(None") || tok.hasPrefix("(?") ||
                (tok.count > 1 && tok.dropFirst().first.map { $0.isNumber } == true)
            if !shapeLike {
                col0 += " " + tok
                i = j
                skipWS()
            }
        }
        guard i < n else { return nil }
        let shapeStart = i
        if str(i..<min(n, i + 8)) == "multiple" {
            i += 8
        } else if c[i] == "(" || c[i] == "[" {
            var depth = 0
            var closed = false
            while i < n {
                if c[i] == "(" || c[i] == "[" { depth += 1 }
                if c[i] == ")" || c[i] == "]" {
                    depth -= 1
                    if depth == 0 { i += 1; closed = true; break }
                }
                i += 1
            }
            if !closed, let end = cutListShapeEnd(c, from: shapeStart) ?? cutTupleShapeEnd(c, from: shapeStart) { i = end; closed = true }
            guard closed else { return nil }
        } else {
            return nil
        }
        let shape = str(shapeStart..<i)
        guard i < n, c[i] == " " || c[i] == "\t" else { return nil }
        skipWS()
        let countStart = i
        while i < n, c[i] != " " && c[i] != "\t" { i += 1 }
        guard let count = str(countStart..<i).parsedCount else { return nil }
        let rest = str(i..<n).trimmed
        return (col0, shape, count, rest)
    }

    /// Where a "[(None, ..." shape that Keras 2.2-2.5 cut at the column edge ends: after its ")"
    /// ("[(None, 224, 224, 3) 0"), or, with the ")" cut too, after the first element not followed
    /// by a comma ("[(None, 12, 128, 256 0"). nil if the text does not have that form.
    static func cutListShapeEnd(_ c: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + 1 < c.count, c[start] == "[", c[start + 1] == "(" else { return nil }
        var i = start + 2
        while i < c.count {
            if c[i] == ")" { return i + 1 < c.count && c[i + 1] == " " ? i + 1 : nil }
            if c[i] == "(" || c[i] == "[" || c[i] == "]" { return nil }
            if c[i] == " " && i > 0 && c[i - 1] != "," { return i }
            i += 1
        }
        return nil
    }

    /// Where a "(None, 256, 256, 16" shape that tf.keras 2.9+ wrapped at the column edge ends (its
    /// ")" on the next line, merged by mergeContinuation): at the first blank after an element
    /// ("16  448", "None,  0" after a comma too). nil if the text does not have that form.
    static func cutTupleShapeEnd(_ c: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + 1 < c.count, c[start] == "(" else { return nil }
        var i = start + 1
        while i < c.count {
            let ch = c[i]
            if ch == " " || ch == "\t" {
                // "16 " ends the shape; ", " goes on to the next element unless two blanks follow
                if c[i - 1] != "," || (i + 1 < c.count && (c[i + 1] == " " || c[i + 1] == "\t")) { return i > start + 1 ? i : nil }
            } else if !(ch.properties.numericType != nil || ch == "," || ch == "?" || "None".unicodeScalars.contains(ch)) {
                return nil
            }
            i += 1
        }
        return nil
    }

    /// Chunks of a line separated by 2+ spaces or tabs, with their start offsets.
    static func chunks(_ s: String) -> [(Int, String)] {
        let c = Array(s.unicodeScalars)
        func str(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(c[r])) }
        var out: [(Int, String)] = []
        var i = 0
        while i < c.count {
            while i < c.count, c[i] == " " || c[i] == "\t" { i += 1 }
            guard i < c.count else { break }
            let start = i
            var end = i
            while end < c.count {
                if c[end] == "\t" { break }
                if c[end] == " ", end + 1 < c.count, c[end + 1] == " " || c[end + 1] == "\t" { break }
                if c[end] == " ", end + 1 == c.count { break }
                end += 1
            }
            out.append((start, str(start..<end)))
            i = end
        }
        return out
    }

    static func nameish(_ s: String) -> Bool {
        var spaces = 0
        for ch in s {
            if ch == " " { spaces += 1; continue }
            if ch.isLetter || ch.isNumber || "_.-/()…:".contains(ch) { continue }
            return false
        }
        return spaces == 0 || (spaces == 1 && s.has(" ("))
    }

    /// Adds a continuation line's chunks to `row`; false when the line is not a continuation.
    static func mergeContinuation(_ s: String, into row: inout RawRow, columns: Columns) -> Bool {
        let parts = chunks(s)
        guard !parts.isEmpty else { return false }
        var updated = row
        for (offset, text) in parts {
            switch columns.column(at: offset) {
            case 0:
                guard nameish(text) else { return false }
                updated.col0Text += (text.hasPrefix("(") ? " " : "") + text
            case 1:
                guard text.allSatisfy({ $0.isNumber || "None,()[]? ".contains($0) }) else { return false }
                updated.shapeText += text
            case 2:
                return false
            default:
                guard text.allSatisfy({ $0.isLetter || $0.isNumber || "_[]',.-/ ".contains($0) }) else { return false }
                updated.connectedText += " " + text
            }
        }
        row = updated
        return true
    }

    /// State of one text-table scan: the table so far and what the last lines allow next.
    struct TextScan {
        var table: SummaryTable
        var cols: Columns
        var afterFooter = false
        var canContinue = false
        var sawSpacer = false
        var seenFooters = Set<FooterKind>()
    }

    static func scanText(doc: Document, headerIndex h: Int, header: String, prefix: LinePrefix,
                         skipping: Set<Int>) throws -> SummaryTable {
        let cols = columns(of: header)
        var st = TextScan(table: SummaryTable(rows: [], declared: DeclaredTotals(),
                                              layout: header.hasPrefix(" ") ? "tf.keras" : "keras2",
                                              headerLine: h + 1, hasConnectedColumn: cols.hasConnected), cols: cols)
        var stop: Int?
        var i = h + 1
        while i < doc.lines.count {
            if skipping.contains(i + 1) { stop = i; break }
            guard try textLine(TrailingNote.strip(clean(prefix, doc.lines[i])), index: i, doc: doc, into: &st) else { stop = i; break }
            i += 1
        }
        try TableEnd.ensureComplete(doc, stop: stop, footerRead: st.afterFooter, skipping: skipping,
                                    probe: textProbe(doc, prefix: prefix, seen: st.seenFooters))
        var table = st.table
        if st.sawSpacer && table.layout == "keras2" { table.layout = "tf.keras" }
        if cols.hasConnected { table.layout += "+functional" }
        try finish(&table, doc: doc)
        return table
    }

    /// Reads one text-table line (trailing note already removed); false when the table ends before it.
    static func textLine(_ s: String, index i: Int, doc: Document, into st: inout TextScan) throws -> Bool {
        let t = s.trimmed
        if t.isEmpty { st.canContinue = false; if !st.table.rows.isEmpty && !st.afterFooter { st.sawSpacer = true }; return true }
        if isFence(t) { return st.table.rows.isEmpty && !st.afterFooter }
        if TrailingNote.isTextRule(t) { st.canContinue = false; return true }
        if let f = footer(t, line: i + 1, doc: doc, table: &st.table) {
            record(f, line: i + 1, into: &st.table); st.afterFooter = true; st.seenFooters.insert(f.0); return true
        }
        if st.afterFooter { return false }
        if t.hasPrefix("Model:") && st.table.rows.isEmpty { return true }
        if let r = textRow(s) {
            // "1254400 = 7*7*256*100": the author's working for the count, ignored like a note.
            if !r.rest.isEmpty && !r.rest.hasPrefix("= ") && !st.cols.hasConnected && !st.cols.hasExtra {
                throw doc.error(i + 1, "unexpected text '\(r.rest)' after the parameter count "
                    + "(the header has no 'Connected to' column; a note after a row starts with #, //, <-, ← or '= ')")
            }
            st.table.rows.append(RawRow(name: "", typeText: "", typeComplete: false, shape: .unknown(""),
                                        params: r.count, connectedTo: [], line: i + 1,
                                        col0Text: r.col0, shapeText: r.shape, connectedText: st.cols.hasConnected ? r.rest : ""))
            st.canContinue = true
            return true
        }
        if st.canContinue, var last = st.table.rows.last, mergeContinuation(s, into: &last, columns: st.cols) {
            st.table.rows[st.table.rows.count - 1] = last
            return true
        }
        return false
    }

    /// How TableEnd recognizes a text table's rows, unread footers and rules below its end.
    static func textProbe(_ doc: Document, prefix: LinePrefix, seen: Set<FooterKind>) -> TableEnd.Probe {
        func line(_ k: Int) -> String { TrailingNote.strip(clean(prefix, doc.lines[k])) }
        return TableEnd.Probe(
            row: { k in
                guard let r = textRow(line(k)) else { return false }
                return ["(None", "[(None", "(?", "multiple"].contains { r.shape.hasPrefix($0) }
            },
            unreadFooter: { k in footerKind(line(k).trimmed).map { !seen.contains($0) } ?? false },
            rule: { k in let t = line(k).trimmed; return t.count >= 20 && TrailingNote.isTextRule(t) })
    }

    // MARK: - Box tables (Keras 3) and markdown pipe tables

    static func cells(_ t: String) -> [String] {
        var out: [String] = []
        var cur = ""
        for ch in t {
            if ch == "│" || ch == "┃" || ch == "|" { out.append(cur); cur = ""; continue }
            cur.append(ch)
        }
        out.append(cur)
        if out.first?.trimmed.isEmpty == true { out.removeFirst() }
        if out.last?.trimmed.isEmpty == true { out.removeLast() }
        return out.map { c in   // a markdown code span, "`(None, 32, 154, 64)`", is its text
            let t = c.trimmed
            return t.count >= 2 && t.hasPrefix("`") && t.hasSuffix("`") && t.filter({ $0 == "`" }).count == 2 ? String(t.dropFirst().dropLast()).trimmed : t
        }
    }

    /// Column positions of a box or pipe table, from its header.
    struct BoxColumns {
        var layer: Int, shape: Int, param: Int, connected: Int?
        /// Border characters of a header that ends with one (its rows' closing border); nil for an open markdown header.
        var borders: Int?
        /// A markdown table without outer pipes (`a | b | c`).
        var open = false

        /// A line of this table without its trailing note, trimmed.
        func line(_ s: String) -> String {
            let t = s.trimmed
            if let b = borders, let f = t.first, TrailingNote.isBorder(f) { return TrailingNote.boxRow(t, borders: b).trimmed }
            return TrailingNote.strip(t).trimmed
        }

        /// A line (from `line`) of this table's cells: it starts with a border or, in a table
        /// without outer pipes, has cells up to the Param # column.
        func isRow(_ t: String) -> Bool {
            if let f = t.first, TrailingNote.isBorder(f) { return true }
            return open && TableScanner.cells(t).count > param
        }
    }

    /// The header without a trailing note (anything after the last border of a box-drawing
    /// header; a comment after a markdown one), and its columns.
    static func boxColumns(_ header: String) -> (String, BoxColumns) {
        var t = header.trimmed
        var closed = false
        if let last = t.lastIndex(where: TrailingNote.isBorder) {
            let after = t[t.index(after: last)...].trimmed
            let drawn = t.contains("┃") || t.contains("│")
            if after.isEmpty || drawn || TrailingNote.strip(after).trimmed.isEmpty { t = String(t[...last]); closed = true }
        }
        let head = cells(t).map { $0.lowercased() }
        let cols = BoxColumns(layer: head.firstIndex { $0.hasPrefix("layer") } ?? 0,
                              shape: head.firstIndex { $0.hasPrefix("output") } ?? 1,
                              param: head.firstIndex { $0.hasPrefix("param") } ?? 2,
                              connected: head.firstIndex { $0.hasPrefix("connected") },
                              borders: closed ? t.filter(TrailingNote.isBorder).count : nil,
                              open: !(t.first.map(TrailingNote.isBorder) ?? false))
        return (t, cols)
    }

    static func scanBox(doc: Document, headerIndex h: Int, header raw: String, prefix: LinePrefix,
                        skipping: Set<Int>) throws -> SummaryTable {
        let (header, cols) = boxColumns(raw)
        let style: String
        if header.has("┃") { style = "keras3-heavy" }
        else if header.has("│") { style = "keras3-light" }
        else { style = "markdown" }
        var table = SummaryTable(rows: [], declared: DeclaredTotals(), layout: style, headerLine: h + 1,
                                 hasConnectedColumn: cols.connected != nil)
        var afterFooter = false
        var seen = Set<FooterKind>()
        var stop: Int?
        var i = h + 1
        scan: while i < doc.lines.count {
            defer { i += 1 }
            if skipping.contains(i + 1) { stop = i; break }
            let raw = clean(prefix, doc.lines[i]).trimmed
            // "#### Total params: 12,194": a footer as a markdown heading, not a `#` note
            if raw.hasPrefix("#"), let kind = footerKind(raw), !seen.contains(kind), let f = footer(raw, line: i + 1, doc: doc, table: &table) {
                record(f, line: i + 1, into: &table); afterFooter = true; seen.insert(f.0); continue
            }
            let t = cols.line(raw)
            if t.isEmpty { continue }
            if isFence(t) {
                // Before the rows, or between them and totals pasted in a code block under the table.
                if !afterFooter && (table.rows.isEmpty || footerFollows(doc, after: i, prefix: prefix)) { continue }
                stop = i; break
            }
            if TrailingNote.isBoxRule(t) { if afterFooter { stop = i; break }; continue }
            if let f = footer(t, line: i + 1, doc: doc, table: &table) {
                record(f, line: i + 1, into: &table); afterFooter = true; seen.insert(f.0); continue
            }
            guard cols.isRow(t) else { stop = i; break scan }
            let c = cells(t)
            if let f = footerCells(c, line: i + 1, doc: doc, table: &table) {
                record(f, line: i + 1, into: &table); afterFooter = true; seen.insert(f.0); continue
            }
            guard !afterFooter else { stop = i; break scan }
            try boxRow(c, line: i + 1, cols: cols, doc: doc, into: &table)
        }
        try TableEnd.ensureComplete(doc, stop: stop, footerRead: afterFooter, skipping: skipping,
                                    probe: boxProbe(doc, prefix: prefix, cols: cols, seen: seen))
        if cols.connected != nil { table.layout += "+functional" }
        try finish(&table, doc: doc)
        return table
    }

    /// The first line after line `i` that is neither blank nor a fence is a footer ("Total params: 899,766").
    static func footerFollows(_ doc: Document, after i: Int, prefix: LinePrefix) -> Bool {
        let lines = doc.lines.indices.dropFirst(i + 1).lazy.map { clean(prefix, doc.lines[$0]).trimmed }
        return lines.first { !$0.isEmpty && !isFence($0) }.map { footerKind($0) != nil } ?? false
    }

    /// A markdown row that holds a footer in its cells, in whichever columns: "| | **Total params:** | 264,705 |",
    /// "| **Total params:** | | **174,129** |", "| **Total params**: | **24,515,037** | |", "| **Total** | | **5,727,053** |".
    static func footerCells(_ c: [String], line: Int, doc: Document, table: inout SummaryTable) -> (FooterKind, Int?)? {
        guard let text = footerText(c) else { return nil }
        return footer(text, line: line, doc: doc, table: &table)
    }

    /// The footer line a row's filled cells spell ("Total params: 174,129"); nil for any other row.
    /// A bare label ("**Total**", "Trainable:") counts only beside a single count, so that no
    /// layer row (a name and a shape) is ever read as one.
    static func footerText(_ c: [String]) -> String? {
        let filled = c.filter { !$0.isEmpty }
        guard let first = filled.first else { return nil }
        let text = filled.joined(separator: " ")
        if footerKind(text) != nil { return text }
        guard filled.count == 2, let label = bareFooterLabel(first),
              let figure = filled[1].replacingOccurrences(of: "**", with: "").split(separator: " ").first,
              String(figure).parsedCount != nil else { return nil }
        return label + " " + filled[1]
    }

    /// A hand-made table's label cell: "**Total**", "Non-trainable:" → "Total params:", "Non-trainable params:".
    static func bareFooterLabel(_ cell: String) -> String? {
        var word = cell.replacingOccurrences(of: "**", with: "").trimmed
        if word.hasSuffix(":") { word = String(word.dropLast()).trimmed }
        if word.lowercased().hasSuffix(" params") { word = String(word.dropLast(7)).trimmed }   // "**Total params**"
        return footerLabels.first { $0.0.lowercased() == word.lowercased() + " params:" }?.0
    }

    /// Adds a box row (a count in the Param # cell) or merges a wrapped continuation into the last row.
    static func boxRow(_ c: [String], line: Int, cols: BoxColumns, doc: Document, into table: inout SummaryTable) throws {
        func cell(_ k: Int?) -> String { guard let k, k < c.count else { return "" }; return c[k] }
        let p = cell(cols.param)
        if !p.isEmpty {
            let token = p.split(separator: " ").first.map(String.init) ?? ""
            guard let n = token.parsedCount else {
                throw doc.error(line, "parameter count '\(p)' is not a number" + (p.hasSuffix("…")
                    ? " (Keras 3 cut it at the column's width: \(SummaryTable.printWider))" : ""))
            }
            table.rows.append(RawRow(name: "", typeText: "", typeComplete: false, shape: .unknown(""),
                                     params: n, connectedTo: [], line: line, col0Text: cell(cols.layer),
                                     shapeText: cell(cols.shape), connectedText: cell(cols.connected)))
        } else if var last = table.rows.last {
            let frag = cell(cols.layer)
            if !frag.isEmpty {
                last.col0Text += (frag.hasPrefix("(") ? " " : "") + frag
            }
            last.shapeText += cell(cols.shape)
            last.connectedText += " " + cell(cols.connected)
            table.rows[table.rows.count - 1] = last
        }
    }

    /// How TableEnd recognizes a box table's rows, unread footers and rules below its end.
    static func boxProbe(_ doc: Document, prefix: LinePrefix, cols: BoxColumns, seen: Set<FooterKind>) -> TableEnd.Probe {
        func line(_ k: Int) -> String { cols.line(clean(prefix, doc.lines[k])) }
        return TableEnd.Probe(
            row: { k in
                let t = line(k)
                guard cols.isRow(t) else { return false }
                let c = cells(t)
                guard cols.param < c.count, cols.shape < c.count, cols.layer < c.count, !c[cols.layer].isEmpty,
                      let count = c[cols.param].split(separator: " ").first, String(count).parsedCount != nil else { return false }
                return c[cols.shape] == "multiple" || CellParser.shape(c[cols.shape]) != nil
            },
            unreadFooter: { k in
                let t = line(k)
                return (footerKind(t) ?? footerText(cells(t)).flatMap(footerKind)).map { !seen.contains($0) } ?? false
            },
            rule: { k in TrailingNote.isBoxRule(line(k)) })
    }

    // MARK: - Final interpretation of the merged cells

    /// Limits that keep every later product and sum far from Int overflow, and every printed
    /// shape within what a generated binary can allocate (ResourceLimits, issue 6). Declared
    /// totals (`maxParams`) are only compared, never allocated, so their limit is looser.
    static let maxDim = ResourceLimits.maxDimension, maxElements = ResourceLimits.maxActivationElements,
               maxParams = 1 << 40, maxRows = 2000

    static func finish(_ table: inout SummaryTable, doc: Document) throws {
        guard !table.rows.isEmpty else {
            throw doc.error(table.headerLine, "the summary table has a header but no layer rows")
        }
        guard table.rows.count <= maxRows else {
            throw doc.error(table.headerLine, "the summary table has \(table.rows.count) rows; at most \(maxRows) are supported")
        }
        for (label, value, line) in [("Total", table.declared.total, table.totalLine),
                                     ("Trainable", table.declared.trainable, table.trainableLine),
                                     ("Non-trainable", table.declared.nonTrainable, table.nonTrainableLine),
                                     ("Optimizer", table.declared.optimizer, nil)] {
            if let v = value, v > maxParams {
                throw doc.error(line, "\(label) params: \(formatCount(v)) is implausibly large (limit \(formatCount(maxParams)))")
            }
        }
        for k in table.rows.indices {
            var r = table.rows[k]
            let nt = CellParser.nameAndType(r.col0Text)
            r.name = nt.name; r.typeText = nt.type; r.typeComplete = nt.complete
            guard !r.name.isEmpty else {
                throw doc.error(r.line, "table row has no layer name: '\(r.col0Text)'")
            }
            // Keras prints "name (Type)"; only a name long enough to fill the column may lose the type.
            r.typeMissing = !r.col0Text.has("(") && !r.col0Text.has("…") && r.name.count < 25
            let shapeText = r.shapeText.trimmed
            if shapeText == "-" || shapeText.isEmpty {
                r.shape = .unknown("?")
            } else if let s = CellParser.shape(shapeText) {
                r.shape = s
            } else {
                throw doc.error(r.line, "layer '\(r.name)': cannot read output shape '\(shapeText)' "
                    + "(expected e.g. (None, 28, 28, 1) or 'multiple'; layers with several outputs are not supported)")
            }
            if r.params > ResourceLimits.maxParameters {
                throw doc.error(r.line, "layer '\(r.name)': parameter count \(formatCount(r.params)) is too large; modelc accepts at most \(formatCount(ResourceLimits.maxParameters)) (2^28) parameters per model")
            }
            if case .dims(let d) = r.shape {
                let known = d.compactMap { $0 }
                var product = 1
                for x in known {
                    guard x <= maxDim else {
                        throw doc.error(r.line, "layer '\(r.name)': dimension \(x) in \(shapeText) is implausibly large (limit \(maxDim))")
                    }
                    product *= x
                    guard product <= maxElements else {
                        throw doc.error(r.line, "layer '\(r.name)': output \(shapeText) has \(ResourceLimits.productText(known)) elements per image; "
                            + "modelc accepts at most \(formatCount(maxElements)) (2^26) per layer")
                    }
                }
            }
            let conn = r.connectedText.trimmed
            r.connectedTo = (conn == "-" || conn == "[]") ? [] : CellParser.connections(conn)
            table.rows[k] = r
        }
    }
}
