// NestedModels: Keras summaries printed with `model.summary(expand_nested=True)`, read as one
// chain of the inner layers.
//
// Before: the document as written. A nested model (a pretrained base such as `vgg16
//         (Functional)`, an inner `Sequential`) is its container row, holding the sum of its
//         layers' counts, followed by its layers:
//   Keras 3  each inner row's name cell starts with `└ `, indented 3 more spaces per level:
//              │ base (Sequential)       │ (None, 1, 1, 6)   │    334 │
//              │    └ c1 (Conv2D)        │ (None, 6, 6, 4)   │    112 │
//   Keras 2  (TF 2.x) the inner rows sit between `|¯¯¯…¯|` and `¯¯¯…¯` lines, each row framed
//            by one `|` per level on both sides:
//              vgg16 (Functional)          (None, 7, 7, 512)         14714688
//             |¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|
//             | input_2 (InputLayer)      [(None, 224, 224, 3)]     0         |
//             |                                                               |
//             | block1_conv1 (Conv2D)     (None, 224, 224, 64)      1792      |
//             ¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯
//            one level down, a model inside the nested one opens with `||¯¯¯…¯||` and closes
//            with `|¯¯¯…¯|`.
// After:  the same number of lines (line numbers stay those of the document), with every
//         container row and every nested InputLayer row emptied (a box row becomes a rule
//         line, a Keras 2 row a blank line, every line of a wrapped one), the markers and
//         frames replaced by spaces, so the inner layers read as rows of the outer table, in
//         order. The containers are returned for the report. A Keras 2 container whose class
//         is no Keras model (a subclassed model) keeps its row, which is refused.
// Only documents holding these markers are touched (a markdown `| ... |` table is not). A
// nested model that is not expanded is refused by KindResolver (`nestedModelError`).

enum NestedModels {
    /// A container row that was replaced by its expanded layers.
    struct Container {
        var name: String
        var line: Int
    }

    static let containerClasses = ["Functional", "Sequential", "Model"]

    /// The document with nested models inlined, and the containers found (no markers or frames: `doc` itself).
    static func flatten(_ doc: Document) -> (Document, [Container]) {
        var lines = doc.lines
        var found: [Container] = []
        if lines.contains(where: { $0.contains("│") && $0.contains("└ ") }) { found += keras3(&lines) }
        if lines.contains(where: { $0.contains("|¯") }) { found += keras2(&lines) }
        // Frames go even around a container left in place (a subclassed model, refused as a layer).
        guard lines != doc.lines else { return (doc, []) }
        return (Document(text: lines.joined(separator: "\n"), path: doc.path), found)
    }

    /// The `name (Type)` text of a row's first cell, trimmed of markers.
    static func nameCell(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespaces)
    }

    // MARK: - Keras 3 (box tables)

    /// Depth of a box row's first cell: -1 for a top-level row, else the column of its `└`.
    static func depth(_ line: String) -> Int {
        guard let bar = line.firstIndex(of: "│") else { return -1 }
        let cell = line[line.index(after: bar)...].prefix { $0 != "│" }
        let lead = cell.prefix { $0 == " " }
        return cell.dropFirst(lead.count).hasPrefix("└ ") ? lead.count : -1
    }

    static func keras3(_ lines: inout [String]) -> [Container] {
        // Logical rows: runs of lines starting (after their indentation) with │.
        var rows: [[Int]] = []
        var current: [Int] = []
        for (i, l) in lines.enumerated() {
            if l.trimmingCharacters(in: .whitespaces).hasPrefix("│") { current.append(i); continue }
            if !current.isEmpty { rows.append(current); current = [] }
        }
        if !current.isEmpty { rows.append(current) }
        let rule = lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("├") }
        var found: [Container] = []
        for (r, row) in rows.enumerated() {
            let d = depth(lines[row[0]])
            let isContainer = r + 1 < rows.count && depth(lines[rows[r + 1][0]]) > d
            let text = row.map { firstCell(lines[$0]) }.joined(separator: " ")
            if isContainer { found.append(Container(name: String(text.prefix { $0 != " " && $0 != "(" }), line: row[0] + 1)) }
            if isContainer || (d >= 0 && text.contains("(InputLayer)")) {
                for i in row { lines[i] = rule ?? "" }
                continue
            }
            if d >= 0 { lines[row[0]] = lines[row[0]].replacingOccurrences(of: "└ ", with: "  ") }
        }
        return found
    }

    /// The text of a box row's first cell.
    static func firstCell(_ line: String) -> String {
        guard let bar = line.firstIndex(of: "│") else { return "" }
        return nameCell(String(line[line.index(after: bar)...].prefix { $0 != "│" }).replacingOccurrences(of: "└ ", with: ""))
    }

    // MARK: - Keras 2 (TF 2.x plain tables)

    static func keras2(_ lines: inout [String]) -> [Container] {
        var found: [Container] = []
        var depth = 0
        for i in lines.indices {
            let t = lines[i].trimmingCharacters(in: .whitespaces)
            if t.contains("¯") && t.allSatisfy({ $0 == "¯" || $0 == "|" }) {
                // TF draws `|`×(L+1) `¯…¯` above the rows of a model whose own row is at level L, and
                // `|`×L `¯…¯` below them: the `|¯…¯|` that closes a model inside a nested model is
                // drawn like the one that opens a top-level one; the `|` count tells them apart.
                if t.prefix(while: { $0 == "|" }).count == depth + 1 {
                    // Opens a nested model: the row above is its container.
                    if let c = containerRow(above: i, in: lines) {
                        found.append(Container(name: c.name, line: c.lines.lowerBound + 1))
                        for k in c.lines { lines[k] = "" }
                    }
                    depth += 1
                } else {
                    depth = max(0, depth - 1)
                }
                lines[i] = ""
                continue
            }
            guard depth > 0, t.hasPrefix("|") else { continue }
            let row = unframed(lines[i])
            lines[i] = row.contains("(InputLayer)") ? "" : row
        }
        return found
    }

    /// The container row above line `i` (where a nested model's frame opens): its name and lines,
    /// the last non-blank line and, when that one only continues a cell tf.keras 2.9+ wrapped
    /// (`image_sequential (Sequentia` / ` l)`), the lines above it back to the row's first. nil
    /// unless the row is a Keras model: a subclassed model's call() need not run its layers in a
    /// chain, so its row stays in the table and is refused as an unsupported layer.
    static func containerRow(above i: Int, in lines: [String]) -> (name: String, lines: ClosedRange<Int>)? {
        func text(_ k: Int) -> String { unframed(lines[k]) }
        func blank(_ k: Int) -> Bool { text(k).trimmingCharacters(in: .whitespaces).isEmpty }
        guard let last = (0..<i).last(where: { !lines[$0].trimmingCharacters(in: .whitespaces).isEmpty }) else { return nil }
        var first = last
        while TableScanner.textRow(text(first)) == nil, first > 0, last - first < 3, !blank(first - 1) { first -= 1 }
        guard let row = TableScanner.textRow(text(first)) else { return nil }
        let cell = ((first + 1)..<(last + 1)).reduce(row.col0) { cell, k in
            guard let frag = TableScanner.chunks(text(k)).first?.1 else { return cell }
            return cell + (frag.hasPrefix("(") ? " " : "") + frag
        }
        let nt = CellParser.nameAndType(cell)
        return isModelClass(nt.type, complete: nt.complete) ? (nt.name, first...last) : nil
    }

    /// `Functional`, `Sequential`, `Model`, or one of them cut at the column edge (`Sequenti`).
    static func isModelClass(_ type: String, complete: Bool) -> Bool {
        complete ? containerClasses.contains(type) : type.count >= 3 && containerClasses.contains { $0.hasPrefix(type) }
    }

    /// A Keras 2 nested row with its `|` frames replaced by spaces (columns kept).
    static func unframed(_ line: String) -> String {
        var s = Array(line)
        var i = s.firstIndex { $0 != " " } ?? s.count
        while i < s.count, s[i] == "|" { s[i] = " "; i += 1 }
        var j = s.count - 1
        while j >= 0, s[j] == " " { j -= 1 }
        while j >= 0, s[j] == "|" { s[j] = " "; j -= 1 }
        return String(s)
    }

    /// The error for a nested model printed as one row (`vgg16 (Functional)`).
    static func collapsedError(_ row: RawRow, doc: Document) -> ModelError {
        let cls = containerClasses.first { $0.hasPrefix(row.typeText) } ?? row.typeText
        // A 0-param block is most often the data-augmentation Sequential of Keras's tutorials.
        let hint = row.params == 0 ? "; or, for a 0-param block such as a data-augmentation Sequential, name its layers: `nested \(row.name): RandomFlip mode=horizontal; RandomRotation factor=0.1`" : ""
        return doc.error(row.line, "layer '\(row.name)' (\(cls)) is a nested model (a pretrained base or an inner Sequential) printed as one row of \(formatCount(row.params)) params; modelc needs its layers: print the summary with `model.summary(expand_nested=True)` and give modelc that table" + hint)
    }
}
