// TableScanner: finds the Keras summary table among a document's prose and reads its rows.
//
// Before: a Document (all lines), minus the lines of annotation blocks.
// After:  a SummaryTable: one RawRow per layer (rows wrapped over several physical lines
//         merged back), the declared totals, and the recognized layout.
//
// Layouts: Keras 2 / old tf.keras text tables (`___` and `===` rules, truncated type names),
// tf.keras >= 2.9 text tables (leading space, blank spacer lines, wrapped cells), Keras 3
// box tables (heavy `┏━┳` and light `┌─┬`), and Keras summaries pasted as markdown pipe tables.
// Every line is first stripped of the prefix found before the header (indentation, `# `, `#> `).

enum TableScanner {
    static func findTable(in doc: Document, skipping: Set<Int>) throws -> SummaryTable {
        var headerIndex: Int?
        var prefix = LinePrefix(indent: "", marker: "")
        for (i, line) in doc.lines.enumerated() where !skipping.contains(i + 1) {
            guard line.has("Layer (type)") || line.has("Layer(type)") else { continue }
            let lower = line.lowercased()
            guard lower.has("output shape") || lower.has("param") else { continue }
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
        if let first = headerTrimmed.first, "│┃|".contains(first) {
            return try scanBox(doc: doc, headerIndex: h, header: header, prefix: prefix, skipping: skipping)
        }
        return try scanText(doc: doc, headerIndex: h, header: header, prefix: prefix, skipping: skipping)
    }

    // MARK: - Shared line classification

    /// Strips the table's line prefix and HTML line breaks pasted into READMEs ("</br>", "<br>").
    static func clean(_ prefix: LinePrefix, _ line: String) -> String {
        var s = prefix.strip(line)
        guard s.utf8.contains(UInt8(ascii: "<")) else { return s }
        for tag in ["</br>", "<br/>", "<br />", "<br>"] where s.contains(tag) {
            s = s.replacingOccurrences(of: tag, with: "")
        }
        return s
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

    /// "Total params: 395,178", "Trainable params: 16 (64.00 B)", "Non-trainable params: 0".
    static func footer(_ t: String, line: Int, doc: Document, table: inout SummaryTable) -> (FooterKind, Int?)? {
        let kinds: [(String, FooterKind)] = [("Total params:", .total), ("Trainable params:", .trainable),
                                             ("Non-trainable params:", .nonTrainable),
                                             ("Optimizer params:", .optimizer)]
        for (p, kind) in kinds where t.hasPrefix(p) {
            let value = t.dropFirst(p.count).trimmed
            var token = value.split(separator: " ").first.map(String.init) ?? ""
            if token.hasSuffix(".0") { token = String(token.dropLast(2)) }   // Keras 2.0 printed floats
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

    static func scanText(doc: Document, headerIndex h: Int, header: String, prefix: LinePrefix,
                         skipping: Set<Int>) throws -> SummaryTable {
        let cols = columns(of: header)
        var table = SummaryTable(rows: [], declared: DeclaredTotals(),
                                 layout: header.hasPrefix(" ") ? "tf.keras" : "keras2",
                                 headerLine: h + 1, hasConnectedColumn: cols.hasConnected)
        var afterFooter = false
        var canContinue = false
        var sawSpacer = false
        var i = h + 1
        scan: while i < doc.lines.count {
            defer { i += 1 }
            if skipping.contains(i + 1) { break }
            let s = clean(prefix, doc.lines[i])
            let t = s.trimmed
            if t.isEmpty { canContinue = false; if !table.rows.isEmpty && !afterFooter { sawSpacer = true }; continue }
            if isFence(t) { if table.rows.isEmpty && !afterFooter { continue } else { break } }
            if isTextRule(t) { canContinue = false; continue }
            if let f = footer(t, line: i + 1, doc: doc, table: &table) {
                record(f, line: i + 1, into: &table); afterFooter = true; continue
            }
            if afterFooter { break }
            if t.hasPrefix("Model:") && table.rows.isEmpty { continue }
            if let r = textRow(s) {
                let comment = r.rest.hasPrefix("#") || r.rest.hasPrefix("//") || r.rest.hasPrefix("<-") || r.rest.hasPrefix("←")
                if !r.rest.isEmpty && !cols.hasConnected && !cols.hasExtra && !comment {
                    throw doc.error(i + 1, "unexpected text '\(r.rest)' after the parameter count "
                        + "(the header has no 'Connected to' column)")
                }
                table.rows.append(RawRow(name: "", typeText: "", typeComplete: false, shape: .unknown(""),
                                         params: r.count, connectedTo: [], line: i + 1,
                                         col0Text: r.col0, shapeText: r.shape, connectedText: cols.hasConnected && !comment ? r.rest : ""))
                canContinue = true
                continue
            }
            if canContinue, var last = table.rows.last,
               mergeContinuation(s, into: &last, columns: cols) {
                table.rows[table.rows.count - 1] = last
                continue
            }
            // Not a table line. Inside the table (more table lines follow) it is a garbled row.
            var k = i + 1
            var seen = 0
            while k < doc.lines.count, seen < 3 {
                let v = clean(prefix, doc.lines[k])
                let u = v.trimmed
                k += 1
                if u.isEmpty { continue }
                seen += 1
                if (isTextRule(u) && u.count >= 20) || u.hasPrefix("Total params:")
                    || u.hasPrefix("Trainable params:") || textRow(v) != nil {
                    throw doc.error(i + 1, "cannot read table row '\(t)': expected "
                        + "'name (Type)   (None, ...)   count'")
                }
            }
            break scan
        }
        if sawSpacer && table.layout == "keras2" { table.layout = "tf.keras" }
        if cols.hasConnected { table.layout += "+functional" }
        try finish(&table, doc: doc)
        return table
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
        return out.map { $0.trimmed }
    }

    static func scanBox(doc: Document, headerIndex h: Int, header: String, prefix: LinePrefix,
                        skipping: Set<Int>) throws -> SummaryTable {
        let head = cells(header.trimmed).map { $0.lowercased() }
        let layerIdx = head.firstIndex { $0.hasPrefix("layer") } ?? 0
        let shapeIdx = head.firstIndex { $0.hasPrefix("output") } ?? 1
        let paramIdx = head.firstIndex { $0.hasPrefix("param") } ?? 2
        let connIdx = head.firstIndex { $0.hasPrefix("connected") }
        let style: String
        if header.has("┃") { style = "keras3-heavy" }
        else if header.has("│") { style = "keras3-light" }
        else { style = "markdown" }
        var table = SummaryTable(rows: [], declared: DeclaredTotals(), layout: style, headerLine: h + 1,
                                 hasConnectedColumn: connIdx != nil)
        var afterFooter = false
        var i = h + 1
        while i < doc.lines.count {
            defer { i += 1 }
            if skipping.contains(i + 1) { break }
            let t = clean(prefix, doc.lines[i]).trimmed
            if t.isEmpty { continue }
            if isFence(t) { if table.rows.isEmpty && !afterFooter { continue } else { break } }
            if isBoxRule(t) { if afterFooter { break }; continue }
            if let f = footer(t, line: i + 1, doc: doc, table: &table) {
                record(f, line: i + 1, into: &table); afterFooter = true; continue
            }
            if afterFooter { break }
            guard let first = t.first, "│┃|".contains(first) else {
                if table.rows.isEmpty { continue }
                break
            }
            let c = cells(t)
            func cell(_ k: Int?) -> String { guard let k, k < c.count else { return "" }; return c[k] }
            let p = cell(paramIdx)
            if !p.isEmpty {
                let token = p.split(separator: " ").first.map(String.init) ?? ""
                guard let n = token.parsedCount else {
                    throw doc.error(i + 1, "parameter count '\(p)' is not a number")
                }
                table.rows.append(RawRow(name: "", typeText: "", typeComplete: false, shape: .unknown(""),
                                         params: n, connectedTo: [], line: i + 1, col0Text: cell(layerIdx),
                                         shapeText: cell(shapeIdx), connectedText: cell(connIdx)))
            } else if var last = table.rows.last {
                let frag = cell(layerIdx)
                if !frag.isEmpty {
                    last.col0Text += (frag.hasPrefix("(") ? " " : "") + frag
                }
                last.shapeText += cell(shapeIdx)
                last.connectedText += " " + cell(connIdx)
                table.rows[table.rows.count - 1] = last
            }
        }
        if connIdx != nil { table.layout += "+functional" }
        try finish(&table, doc: doc)
        return table
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
