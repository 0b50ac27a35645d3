// SummaryTable: a Keras summary table as read from the document, before any interpretation
// of layer kinds or hyperparameters. Produced by TableScanner (text and box layouts).

/// An output shape as printed, with the batch dimension removed.
enum RawShape: Equatable {
    /// Dimensions after the batch one; nil for a dimension printed as None / ? .
    case dims([Int?])
    /// `multiple` (subclassed models) or a cell cut short: unknown, inferred.
    case unknown(String)

    var known: [Int]? {
        guard case .dims(let d) = self else { return nil }
        var out: [Int] = []
        for x in d { guard let x else { return nil }; out.append(x) }
        return out
    }

    var display: String {
        switch self {
        case .dims(let d): return "(None" + d.map { ", " + ($0.map(String.init) ?? "None") }.joined() + ")"
        case .unknown(let s): return s
        }
    }
}

struct RawRow {
    var name: String
    /// The class name as printed, without parentheses: "Conv2D", "ZeroPaddin", "" (bare "(" or none).
    var typeText: String
    /// The closing parenthesis was seen, so `typeText` is the whole class name.
    var typeComplete: Bool
    /// No "(" at all after a name short enough that Keras would have printed one.
    var typeMissing: Bool = false
    var shape: RawShape
    var params: Int
    /// Names of the layers listed in a `Connected to` column (empty for inputs / sequential tables).
    var connectedTo: [String]
    /// 1-based line of the row's first physical line.
    var line: Int

    // Accumulated text while a row spans several physical lines.
    var col0Text: String
    var shapeText: String
    var connectedText: String
}

struct SummaryTable {
    /// What a table cut at its columns' width asks for (names, shapes or counts cut short).
    static let printWider = "print the summary wider (model.summary(line_length=150))"

    var rows: [RawRow]
    var declared: DeclaredTotals
    /// keras2 | tf.keras | keras3-heavy | keras3-light, with "+functional" when a Connected to column exists.
    var layout: String
    var headerLine: Int
    var hasConnectedColumn: Bool
    /// Lines of the declared totals (for messages).
    var totalLine: Int?
    var trainableLine: Int?
    var nonTrainableLine: Int?
    /// Footer lines whose figure could not be read (non-fatal; reported as problems).
    var footerProblems: [ModelError] = []
}

// MARK: - Cell parsing shared by both layouts

enum CellParser {
    /// Splits "name (Type)" / "name (Typ" / "name (" / "name" / "name (Type…" into parts.
    static func nameAndType(_ text: String) -> (name: String, type: String, complete: Bool) {
        var s = text.trimmed
        s = String(s.filter { $0 != "…" })
        guard let open = s.firstIndex(of: "(") else { return (s.trimmed, "", false) }
        let name = String(s[..<open]).trimmed
        var rest = s[s.index(after: open)...]
        var complete = false
        if let close = rest.firstIndex(of: ")") {
            rest = rest[..<close]; complete = true
        }
        let type = String(rest.filter { !$0.isWhitespace })
        return (name, type, complete)
    }

    /// "(None, 28, 28, 1)", "[(None, 28, 28, 1)]", "(?, 10)", "multiple" → RawShape; nil if not a shape.
    static func shape(_ text: String) -> RawShape? {
        var s = text.trimmed
        if s == "multiple" || s == "?" { return .unknown(s) }
        if s.has("…") { return .unknown(s) }
        if s.hasPrefix("[") && s.hasSuffix("]") { s = String(s.dropFirst().dropLast()).trimmed }
        // Keras 2.2-2.5 cut the Output Shape cell at the column edge: "[(None, 224, 224, 3)" lost its
        // "]"; "[(None, 12, 128, 256" lost dimensions too (unknown: taken from the layers it feeds).
        else if s.hasPrefix("[("), !s.contains("]") {
            s = String(s.dropFirst())
            if !s.hasSuffix(")") { return s.dropFirst().contains("(") ? nil : .unknown(text.trimmed) }
        }
        guard s.hasPrefix("("), s.hasSuffix(")") else { return nil }
        let inner = s.dropFirst().dropLast()
        if inner.contains("(") || inner.contains(")") { return nil }   // several outputs
        let parts = inner.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed }
        var dims: [Int?] = []
        for (i, p) in parts.enumerated() {
            if p.isEmpty { if i == parts.count - 1 && i > 0 { continue }; return nil }   // "(None,)"
            if p == "None" || p == "?" { dims.append(nil); continue }
            guard let v = p.parsedCount, !p.has(","), v >= 1 else { return nil }
            dims.append(v)
        }
        guard !dims.isEmpty else { return nil }
        return .dims(Array(dims.dropFirst()))
    }

    /// Layer names in a Connected to cell: "input_1[0][0]", "['conv2d[0][0]', 'x[0][0]']", "-";
    /// a name Keras 3 cut short (`batch_normalizat…`) as it is (GraphBuilder matches it by prefix).
    static func connections(_ text: String) -> [String] {
        SharedLayers.references(text).map(\.name)
    }
}
