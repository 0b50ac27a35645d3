// TorchInfo: finds a torchinfo table (`summary(model, input_size=(1, 1, 28, 28))`, the maintained
// successor of torchsummary, and its predecessor torch-summary 1.x) and reads its lines.
//
// Before: a Document, minus the lines of annotation blocks.
// After:  the rows as printed (tree depth, class, variable name, input and output shapes with
//         the batch dimension, the Param # cell) and the footer totals, or nil when the document
//         holds no torchinfo table. TorchInfoRows.swift turns the rows into torchsummary rows.
//
// Accepted: headers `Layer (type:depth-idx)`, `Layer (type (var_name))` and
// `Layer (type (var_name):depth-idx)` with any selection of the columns Input Shape, Output
// Shape, Param #, Kernel Shape, Mult-Adds, Param % and Trainable; tree prefixes `├─`, `└─`,
// `│    ` (or `|    `); the root row (the model's class); `--` for nothing; `(9,408)` (frozen)
// and `(recursive)` counts; `===` rules; the footer (`Total params:`, `Trainable params:`,
// `Non-trainable params:`, `Total mult-adds (M):`, `Input size (MB):`, ...); markdown pipe
// copies; the line prefixes and trailing notes of the Keras tables (TableEnd.swift).

struct TIRow {
    var type: String
    var varName: String?
    var depth: Int
    /// The `idx` of `depth-idx`, when printed.
    var index: Int?
    var input: [Int]?
    var output: [Int]?
    var params: TIParams
    var line: Int
}

enum TIParams: Equatable {
    case none
    case count(Int)
    /// `(9,408)`: parameters that do not train (requires_grad=False).
    case frozen(Int)
    /// `(recursive)`: a module called again.
    case recursive

    var value: Int {
        switch self { case .count(let n), .frozen(let n): return n; default: return 0 }
    }
}

/// The columns of one torchinfo table, from its header.
struct TILayout {
    var prefix: LinePrefix
    var pipe: Bool
    /// Border characters of a closed pipe header (its rows' closing border).
    var borders: Int?
    var input: Int?
    var output: Int?
    var param: Int?
    var columns: Int

    /// The footer lines after the totals (torchinfo; torchsummary prints the last four too).
    static let extraFooters = ["Total mult-adds", "Input size (MB)", "Forward/backward pass size", "Params size (MB)",
                               "Estimated Total Size"]

    static func isExtraFooter(_ s: String) -> Bool { extraFooters.contains { s.hasPrefix($0) } }

    /// A table line without its prefix and trailing note, trimmed.
    func clean(_ raw: String) -> String {
        let t = TableScanner.clean(prefix, raw).trimmed
        if let b = borders, t.first == "|" { return TrailingNote.boxRow(t, borders: b, isBorder: { $0 == "|" }).trimmed }
        return TrailingNote.strip(t).trimmed
    }

    /// The cells of a row: the tree prefix, then the label and one cell per header column.
    func cells(_ t: String) -> (tree: String, cells: [String])? {
        var s = Substring(t)
        if pipe {
            guard s.first == "|" else { return nil }
            var c = TorchInfo.pipeCells(String(s))
            guard !c.isEmpty else { return nil }
            let label = c[0]
            let tree = label.prefix { TorchInfo.isTree($0) }
            c[0] = String(label.dropFirst(tree.count)).trimmed
            return (String(tree), c)
        }
        let tree = s.prefix { TorchInfo.isTree($0) }
        s = s.dropFirst(tree.count)
        let c = TableScanner.chunks(String(s)).map(\.1)
        return (String(tree), c)
    }
}

enum TorchInfo {
    static func isTree(_ c: Character) -> Bool { "│├└─|┃ \t".contains(c) }

    /// Cells of a markdown pipe line, split at `|` only (the tree drawing uses `│`).
    static func pipeCells(_ t: String) -> [String] {
        var c = t.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmed }
        if c.first?.isEmpty == true { c.removeFirst() }
        if c.last?.isEmpty == true { c.removeLast() }
        return c
    }

    static let columnTitles = ["input shape", "output shape", "param #", "param %", "kernel shape", "mult-adds", "trainable"]

    static func isHeader(_ line: String) -> Bool {
        line.has("Layer (type:depth-idx)") || line.has("Layer (type (var_name))") || line.has("Layer (type (var_name):depth-idx)")
    }

    /// The first torchinfo table of the document, read to its end; nil when there is none.
    static func find(in doc: Document, skipping: Set<Int>) throws -> (TSTable, [TIRow])? {
        for (i, line) in doc.lines.enumerated() where !skipping.contains(i + 1) && isHeader(line) {
            let layout = try self.layout(doc, header: i)
            return try read(doc, header: i, layout: layout, skipping: skipping)
        }
        return nil
    }

    /// The header's columns. A table without an Output Shape column cannot be checked.
    static func layout(_ doc: Document, header i: Int) throws -> TILayout {
        let prefix = LinePrefix.detect(doc.lines[i]).0
        var h = TableScanner.clean(prefix, doc.lines[i]).trimmed
        let pipe = h.first == "|"
        var borders: Int?
        if pipe {
            let (closed, cols) = TableScanner.boxColumns(h)
            h = closed
            borders = cols.borders
        }
        var names = (pipe ? pipeCells(h) : TableScanner.chunks(h).map(\.1)).map { $0.lowercased() }
        // Every torchinfo column has one of these titles; what follows them is a note.
        if let end = names.dropFirst().firstIndex(where: { n in !columnTitles.contains { n.hasPrefix($0) } }) {
            names = Array(names[..<end])
        }
        var l = TILayout(prefix: prefix, pipe: pipe, borders: borders, columns: names.count)
        l.input = names.firstIndex { $0.hasPrefix("input shape") }
        l.output = names.firstIndex { $0.hasPrefix("output shape") }
        l.param = names.firstIndex { $0.hasPrefix("param #") }
        guard l.output != nil, l.param != nil else {
            throw doc.error(i + 1, "the torchinfo table has no \(l.output == nil ? "Output Shape" : "Param #") column: "
                + "rerun summary(model, input_size=(1, C, H, W)) so that it prints every layer's output shape and parameter count")
        }
        return l
    }

    /// Reads rows from the line after the header to the end of the footer; throws when rows or
    /// totals follow where reading stopped.
    static func read(_ doc: Document, header h: Int, layout: TILayout, skipping: Set<Int>) throws -> (TSTable, [TIRow]) {
        var t = TSTable(rows: [], headerLine: h + 1)
        t.layout = "torchinfo"
        var rows: [TIRow] = []
        var afterFooter = false
        var stop: Int?
        var j = h + 1
        while j < doc.lines.count {
            defer { j += 1 }
            if skipping.contains(j + 1) { stop = j; break }
            let s = layout.clean(doc.lines[j])
            if s.isEmpty || TrailingNote.isTextRule(s) || TrailingNote.isBoxRule(s) || TableScanner.isFence(s) { continue }
            if TorchSummary.footer(s, line: j + 1, doc: doc, into: &t) { afterFooter = true; continue }
            if TILayout.isExtraFooter(s) { continue }
            guard !afterFooter, let r = try row(s, line: j + 1, layout: layout, doc: doc) else { stop = j; break }
            rows.append(r)
            guard rows.count <= TableScanner.maxRows else {
                throw doc.error(j + 1, "the torchinfo table has more than \(TableScanner.maxRows) rows; at most \(TableScanner.maxRows) are supported")
            }
        }
        let read = [t.totalLine, t.trainableLine, t.nonTrainableLine]
        let probe = TableEnd.Probe(
            row: { k in (try? row(layout.clean(doc.lines[k]), line: k + 1, layout: layout, doc: doc)) != nil },
            unreadFooter: { k in
                let s = layout.clean(doc.lines[k])
                return TorchSummary.footerIndex(s).map { read[$0] == nil } ?? (!afterFooter && TILayout.isExtraFooter(s))
            },
            rule: { k in let r = layout.clean(doc.lines[k]); return r.count >= 20 && (TrailingNote.isTextRule(r) || TrailingNote.isBoxRule(r)) })
        try TableEnd.ensureComplete(doc, stop: stop, footerRead: afterFooter, skipping: skipping, probe: probe)
        guard !rows.isEmpty else { throw doc.error(h + 1, "the torchinfo table has a header but no layer rows") }
        return (t, rows)
    }

    /// One row, or nil when the line is not a row of this table. A row whose shape or count
    /// cell cannot be read is an error.
    static func row(_ s: String, line: Int, layout l: TILayout, doc: Document) throws -> TIRow? {
        guard let (tree, c) = l.cells(s), c.count == l.columns, let label = self.label(c[0]) else { return nil }
        func cell(_ k: Int?) -> String? { k.map { c[$0] } }
        let depth = label.depth ?? (tree.isEmpty ? 0 : tree.filter { $0 == "│" || $0 == "|" || $0 == "┃" }.count + 1)
        var r = TIRow(type: label.type, varName: label.varName, depth: depth, index: label.index, input: nil, output: nil,
                      params: .none, line: line)
        func err(_ m: String) -> ModelError { doc.error(line, "torchinfo row '\(c[0])': \(m)") }
        guard let p = params(cell(l.param) ?? "--") else { throw err("cannot read the Param # cell '\(cell(l.param) ?? "")'") }
        r.params = p
        for (k, keyPath) in [(l.input, \TIRow.input), (l.output, \TIRow.output)] {
            guard let text = cell(k), text != "--", text != "[]" else { continue }
            guard let shape = shape(text) else {
                throw err("cannot read the shape '\(text)' (expected e.g. [1, 32, 26, 26]; layers with several inputs or outputs are not supported)")
            }
            r[keyPath: keyPath] = shape
        }
        return r
    }

    /// "Conv2d: 1-1", "Conv2d (conv1): 1-1", "Conv2d (conv1)", "Net" → parts.
    static func label(_ text: String) -> (type: String, varName: String?, depth: Int?, index: Int?)? {
        var s = Substring(text.trimmed)
        let type = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard let f = type.first, f.isLetter || f == "_" else { return nil }
        s = s.dropFirst(type.count)
        var varName: String?
        if s.hasPrefix(" (") {
            guard let close = s.firstIndex(of: ")") else { return nil }
            varName = String(s[s.index(s.startIndex, offsetBy: 2)..<close])
            s = s[s.index(after: close)...]
        }
        guard !s.isEmpty else { return (String(type), varName, nil, nil) }
        guard s.hasPrefix(": ") else { return nil }
        // "1-1"; torch-summary 1.x prints a bare depth for a container it never called ("ModuleList: 2").
        let parts = s.dropFirst(2).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2, let d = Int(parts[0]), d >= 0, d <= 64 else { return nil }
        guard parts.count == 2 else { return (String(type), varName, d, nil) }
        guard let i = Int(parts[1]), i >= 0 else { return nil }
        return (String(type), varName, d, i)
    }

    static func params(_ text: String) -> TIParams? {
        let t = text.trimmed
        if t == "--" { return TIParams.none }
        if t == "(recursive)" { return .recursive }
        if t.hasPrefix("("), t.hasSuffix(")"), let n = String(t.dropFirst().dropLast()).parsedCount, n <= TableScanner.maxParams { return .frozen(n) }
        guard let n = t.parsedCount, n <= TableScanner.maxParams else { return nil }
        return .count(n)
    }

    /// "[1, 32, 26, 26]" → [1, 32, 26, 26] (a leading -1 batch kept); nil for anything else.
    static func shape(_ text: String) -> [Int]? {
        let t = text.trimmed
        guard t.hasPrefix("["), t.hasSuffix("]") else { return nil }
        let inner = t.dropFirst().dropLast()
        guard !inner.contains("["), !inner.contains("(") else { return nil }
        var dims: [Int] = []
        for (k, p) in inner.split(separator: ",").map({ $0.trimmed }).enumerated() {
            if k == 0, p == "-1" { dims.append(-1); continue }
            guard let v = Int(p), v >= 1, v <= TableScanner.maxDim else { return nil }
            dims.append(v)
        }
        return dims.isEmpty || dims.count > 5 ? nil : dims
    }
}
