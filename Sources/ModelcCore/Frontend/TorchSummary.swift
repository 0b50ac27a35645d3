// TorchSummary: finds a torchsummary table (`summary(model, (1, 28, 28))` output) and reads it.
//
// Before: a Document, minus the lines of annotation blocks.
// After:  the rows (`Conv2d-1   [-1, 32, 26, 26]   320`: class, index, output shape without
//         the batch dimension in C, H, W order, count) and the declared totals, or nil when
//         the document holds no torchsummary table.
//
// Accepted: `----`/`====` rules or none, blank lines, any indentation (header and rows may be
// indented differently), whitespace collapsed to single spaces, counts with or without commas,
// `Total params: tensor(50378)` totals, `<br>` after totals, markdown quotes and code blocks,
// a table pasted as Python comments (`# ` before every line, rules included), `# ...` notes
// after rows and rules. Rows or totals below the line where reading stopped are an error at
// that line (TableEnd.swift).

struct TSRow {
    var type: String
    var index: Int
    var shape: [Int]
    var params: Int
    var line: Int
    /// The layer name when the table gives one (torchinfo module paths); else CLASS-INDEX.
    var name: String? = nil
    /// The input [H, W, C] or [N] when the table prints it (torchinfo's Input Shape column).
    var input: [Int]? = nil
    /// torchinfo's `(1,792)`: the layer's parameters do not train (requires_grad=False).
    var frozen = false
    var label: String { name ?? "\(type)-\(index)" }
}

struct TSTable {
    var rows: [TSRow]
    var declared = DeclaredTotals()
    var headerLine: Int
    /// "torchsummary" or "torchinfo" (for messages and the report).
    var layout = "torchsummary"
    /// What reading the table assumed (torchinfo: custom blocks taken as chains).
    var assumptions: [String] = []
    /// The input [H, W, C] or [N] when the table prints it (torchinfo's Input Shape column).
    var input: [Int]? = nil
    var totalLine: Int?
    var trainableLine: Int?
    var nonTrainableLine: Int?
    var footerProblems: [ModelError] = []
    /// torchsummary's `Input size (MB)` under the totals: the input's floats x 4 / 2^20, printed
    /// to two decimals (fixes a first Conv1d's input channels: TorchSummarySequence.swift).
    var inputMB: Double?
}

enum TorchSummary {
    /// "Conv2d-1 [-1, 32, 26, 26] 320" → row; nil when the line is not a torchsummary row.
    static func row(_ raw: String, line: Int) -> TSRow? {
        var s = Substring(raw.replacingOccurrences(of: "<br>", with: ""))
        while let f = s.first, f == " " || f == "\t" || f == ">" || f == "#" || f == "|" { s = s.dropFirst() }
        guard let dash = s.firstIndex(of: "-"), let open = s.firstIndex(of: "["), dash < open,
              let close = s.firstIndex(of: "]"), open < close else { return nil }
        let type = String(s[..<dash])
        guard let f = type.first, f.isLetter, type.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        guard let idx = Int(s[s.index(after: dash)..<open].trimmed), idx >= 0 else { return nil }
        let dims = s[s.index(after: open)..<close].split(separator: ",").map { $0.trimmed }
        guard dims.count >= 2, dims[0] == "-1" || Int(dims[0]) != nil else { return nil }
        var shape: [Int] = []
        for d in dims.dropFirst() {
            guard let v = Int(d), v >= 1, v <= TableScanner.maxDim else { return nil }
            shape.append(v)
        }
        // A trailing note (`# ...`) after the count is ignored.
        var rest = TrailingNote.strip(String(s[s.index(after: close)...])).trimmed
        while rest.hasSuffix("|") { rest = String(rest.dropLast()).trimmed }
        guard let n = rest.parsedCount, n <= TableScanner.maxParams else { return nil }
        return TSRow(type: type, index: idx, shape: shape, params: n, line: line)
    }

    static func find(in doc: Document, skipping: Set<Int>) throws -> TSTable? {
        let n = doc.lines.count
        var i = 0
        while i < n {
            defer { i += 1 }
            if skipping.contains(i + 1) { continue }
            let l = doc.lines[i]
            guard l.has("Layer (type)") || l.has("Layer(type)") else { continue }
            // The first non-blank, non-rule line after the header must be a torchsummary row.
            var j = i + 1
            while j < n, isRule(doc.lines[j]) { j += 1 }
            guard j < n, row(doc.lines[j], line: j + 1) != nil else { continue }
            return try read(doc, header: i, firstRow: j, skipping: skipping)
        }
        return nil
    }

    /// Reads rows from `j` to the footer; throws when rows or totals follow where reading stopped.
    static func read(_ doc: Document, header i: Int, firstRow: Int, skipping: Set<Int>) throws -> TSTable {
        var t = TSTable(rows: [], headerLine: i + 1)
        var afterFooter = false
        var stop: Int?
        var j = firstRow
        while j < doc.lines.count {
            defer { j += 1 }
            if skipping.contains(j + 1) { stop = j; break }
            let line = doc.lines[j]
            if isRule(line) { continue }
            if let r = row(line, line: j + 1) {
                if afterFooter { stop = j; break }
                t.rows.append(r); continue
            }
            if footer(line, line: j + 1, doc: doc, into: &t) { afterFooter = true; continue }
            stop = j; break
        }
        if afterFooter, let s = stop { t.inputMB = inputMegabytes(doc.lines[s]) }
        let read = [t.totalLine, t.trainableLine, t.nonTrainableLine]
        let probe = TableEnd.Probe(
            row: { k in row(doc.lines[k], line: k + 1) != nil },
            unreadFooter: { k in
                footerIndex(doc.lines[k]).map { read[$0] == nil } ?? (!afterFooter && TILayout.isExtraFooter(footerText(doc.lines[k])))
            },
            rule: { k in let r = doc.lines[k].trimmed; return r.count >= 20 && TrailingNote.isTextRule(r) })
        try TableEnd.ensureComplete(doc, stop: stop, footerRead: afterFooter, skipping: skipping, probe: probe)
        return t
    }

    /// A blank line, rule or fence, also behind quote marks and `#` comment marks (a table pasted
    /// into Python comments: `# ====...`), as `row` and `footerText` skip them.
    static func isRule(_ line: String) -> Bool {
        var t = line.replacingOccurrences(of: ">", with: "").trimmed
        while t.hasPrefix("#") { t = String(t.dropFirst()).trimmed }
        return t.isEmpty || TrailingNote.isTextRule(t) || TableScanner.isFence(t)
    }

    static let footerLabels = ["Total params:", "Trainable params:", "Non-trainable params:"]

    /// The line without `<br>`, `**`, quote marks and `#` prefixes.
    static func footerText(_ raw: String) -> String {
        // Markdown bold labels ("**Total params**: 1,234") read like plain ones.
        var s = raw.replacingOccurrences(of: "<br>", with: "").replacingOccurrences(of: "**", with: "")
            .replacingOccurrences(of: ">", with: " ").trimmed
        while s.hasPrefix("#") { s = String(s.dropFirst()).trimmed }
        return s
    }

    /// 3.5 for "Input size (MB): 3.50", the line after the totals (and their rule).
    static func inputMegabytes(_ raw: String) -> Double? {
        let s = footerText(raw), label = "Input size (MB):"
        guard s.hasPrefix(label) else { return nil }
        return Double(s.dropFirst(label.count).trimmed)
    }

    /// 0 (total), 1 (trainable) or 2 (non-trainable) for a footer line.
    static func footerIndex(_ raw: String) -> Int? {
        let s = footerText(raw)
        return footerLabels.firstIndex { s.hasPrefix($0) }
    }

    /// "Total params: 50,378" / "Total params: tensor(50378)" / "Trainable params: 593,200 <br>".
    static func footer(_ raw: String, line: Int, doc: Document, into t: inout TSTable) -> Bool {
        let s = footerText(raw)
        for (k, p) in footerLabels.enumerated() where s.hasPrefix(p) {
            var v = TrailingNote.strip(String(s.dropFirst(p.count))).trimmed
            if v.hasPrefix("tensor("), v.hasSuffix(")") { v = String(v.dropFirst(7).dropLast()) }
            if v.hasSuffix(".0") { v = String(v.dropLast(2)) }
            guard let c = v.parsedCount else {
                t.footerProblems.append(doc.error(line, "'\(p)' is followed by '\(v)', expected a count like 1,234"))
                return true
            }
            switch k {
            case 0: t.declared.total = c; t.totalLine = line
            case 1: t.declared.trainable = c; t.trainableLine = line
            default: t.declared.nonTrainable = c; t.nonTrainableLine = line
            }
            return true
        }
        return false
    }
}
