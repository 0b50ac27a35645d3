// GraphBuilder: a functional table's `Connected to` column as the layers' producers.
//
// Before: table rows whose `connectedTo` lists the names of their inputs, and the raw cell text
//         (`input_1[0][0]`, `['conv2d[0][0]', 'x[0][0]']`, possibly wrapped over lines).
// After:  nil when every row reads the row above (a chain: the IR is built as before), else for
//         each row the positions of the rows it reads, all earlier (the table's order is
//         topological). Names Keras 3 cut short (`batch_normalizat…`) match by prefix; when
//         several rows fit, the one that would otherwise feed nothing. An InputLayer row after
//         the first reads nothing (`[]`): a model with several inputs (IR/ModelInputs.swift).
//         Errors name the row: an unknown or later input, a row other than an InputLayer that
//         reads nothing, an InputLayer that reads something, a layer that takes one input listed
//         with several, and a graph without an InputLayer row. A layer called more than once
//         (node indices above 0) has been split into one row per call before
//         (IR/SharedLayers.swift). Several outputs (layers nothing reads) are heads
//         (IR/ModelHeads.swift).

enum GraphBuilder {
    /// Inputs of one layer, and cut names that fit several rows (resolving them is quadratic).
    static let maxInputs = 256, maxAmbiguous = 256

    static func producers(_ rows: [RawRow], kinds: [[LayerKind]], doc: Document) throws -> [[Int]?]? {
        var cands: [[[Int]]] = []
        var ambiguous = 0
        for (i, r) in rows.enumerated() {
            guard r.connectedTo.count <= maxInputs else {
                throw doc.error(r.line, "layer '\(r.name)' lists \(r.connectedTo.count) inputs in the 'Connected to' column; at most \(maxInputs) are supported")
            }
            let input = kinds[i] == [.inputLayer]
            if i > 0 && r.connectedTo.isEmpty && !input {
                throw doc.error(r.line, "layer '\(r.name)' has no input in the 'Connected to' column (only an InputLayer reads nothing)")
            }
            if i > 0 && input && !r.connectedTo.isEmpty {
                throw doc.error(r.line, "InputLayer '\(r.name)' is connected to \(r.connectedTo.joined(separator: ", ")); an InputLayer reads nothing")
            }
            cands.append(try (i == 0 ? [] : r.connectedTo).map { name in
                let c = candidates(name, rows[..<i])
                guard !c.isEmpty else {
                    let later = rows[i...].contains { matches(name, $0.name) }
                    throw doc.error(r.line, "layer '\(r.name)' is connected to '\(name)', which \(later ? "comes later in the table" : "is not a layer of the table")")
                }
                if c.count > 1 { ambiguous += 1 }
                guard ambiguous <= maxAmbiguous else {
                    throw doc.error(r.line, "more than \(maxAmbiguous) names in the 'Connected to' column are cut short and fit several layers; \(SummaryTable.printWider)")
                }
                return c
            })
        }
        let chosen = try resolveCut(rows, cands, doc: doc)
        var out: [[Int]?] = []
        var chain = true
        for (i, ps) in chosen.enumerated() {
            if i == 0 { out.append(nil); continue }
            if ps.isEmpty { out.append([]); chain = false; continue }   // a further InputLayer
            let merge = kinds[i].allSatisfy(\.takesSeveralInputs)
            if ps.count > 1 && !merge {
                throw doc.error(rows[i].line, "layer '\(rows[i].name)' has \(ps.count) inputs (\(rows[i].connectedTo.joined(separator: ", "))) but takes one")
            }
            if ps != [i - 1] || merge { chain = false }
            out.append(ps)
        }
        if chain { return nil }
        guard kinds[0] == [.inputLayer] else {
            throw doc.error(rows[0].line, "a model with branches needs its InputLayer row; the first row is '\(rows[0].name)'")
        }
        return out
    }

    /// Whether a name in the column (maybe cut short, `batch_normalizat…`) names a row (maybe cut too).
    static func matches(_ name: String, _ row: String) -> Bool {
        if name == row { return true }
        let n = name.hasSuffix("…") ? String(name.dropLast()) : nil, r = row.hasSuffix("…") ? String(row.dropLast()) : nil
        switch (n, r) {
        case (nil, nil): return false
        case (let n?, nil): return row.hasPrefix(n)
        case (nil, let r?): return name.hasPrefix(r)
        case (let n?, let r?): return n.hasPrefix(r) || r.hasPrefix(n)
        }
    }

    /// The earlier rows a name may mean: the one of that exact name, else every row a cut name fits.
    static func candidates(_ name: String, _ rows: ArraySlice<RawRow>) -> [Int] {
        if let e = rows.lastIndex(where: { $0.name == name }) { return [e] }
        return rows.indices.filter { matches(name, rows[$0].name) }
    }

    /// Picks one row for each cut name that fits several: the only candidate nothing else reads
    /// and no other ambiguous name could mean (every layer but the last must feed another, so
    /// that one must be it). A cut name still ambiguous after that is an error.
    static func resolveCut(_ rows: [RawRow], _ cands: [[[Int]]], doc: Document) throws -> [[Int]] {
        var c = cands
        var progress = true
        while progress {
            progress = false
            let fixed = Set(c.flatMap { $0.filter { $0.count == 1 }.map { $0[0] } })
            for i in c.indices {
                for k in c[i].indices where c[i][k].count > 1 {
                    let others = c.enumerated().flatMap { j, cs in cs.enumerated().filter { !(j == i && $0.offset == k) && $0.element.count > 1 }.flatMap(\.element) }
                    let needy = c[i][k].filter { !fixed.contains($0) && !others.contains($0) }
                    if needy.count == 1 { c[i][k] = needy; progress = true }
                }
            }
        }
        for (i, cs) in c.enumerated() {
            for (k, cand) in cs.enumerated() where cand.count > 1 {
                throw doc.error(rows[i].line, "layer '\(rows[i].name)' is connected to '\(rows[i].connectedTo[k])', cut short by the table: it may be any of \(cand.map { "'\(rows[$0].name)'" }.joined(separator: ", ")); \(SummaryTable.printWider) so that the names are whole")
            }
        }
        return c.map { $0.map { $0[0] } }
    }
}

extension LayerKind {
    var isMerge: Bool { [.add, .subtract, .multiply, .average, .maximum, .minimum, .concatenate].contains(self) }
}
