// MaskRows: the rows Keras 3 prints for a sequence mask in a functional model's summary.
//
// Keras 3 computes a mask as ops on the model's input, and a functional summary lists them
// as rows without parameters:
//   Embedding(mask_zero=True):  `not_equal (NotEqual)  (None, T)` reading the input;
//   Masking(mask_value=v):      `not_equal (NotEqual)  (None, T, F)` reading the input, then
//                               `any (Any)  (None, T)` reading the not_equal row.
// The layers whose call takes the mask list that row in `Connected to` after their input
// (`embedding[0][0], not_equal[0][0]`); layers that only pass it on (Dense, Dropout) do not.
//
// Before: a table's raw rows, mask rows among them.
// After:  the rows without the mask rows, every `Connected to` cell without the mask; the
//         mask's source (an Embedding, then mask_zero=True is implied, or a Masking layer) and
//         the rows that took the mask. IR/SequenceMask.swift then decides which layers the mask
//         reaches, and `verify` checks that every row that took the mask is one of them.
// Errors name the row: a mask row with parameters, one that does not read the model's input
// (or the not_equal row), a mask no Embedding or Masking layer computes, several masks, and a
// layer taking the mask where modelc's mask has already ended.

struct MaskRows {
    /// The layer the mask belongs to (the first layer reading the input), and its line.
    var source: String
    /// The source is an Embedding: the mask is mask_zero=True's.
    var impliesMaskZero: Bool
    /// The rows that listed the mask in `Connected to`: (name, line).
    var consumers: [(name: String, line: Int)]

    static let classes = ["NotEqual", "Any"]

    static func isMaskRow(_ r: RawRow) -> Bool { r.typeComplete && classes.contains(r.typeText) }

    /// Removes the mask rows of `table` (nil when it has none).
    static func strip(_ table: inout SummaryTable, doc: Document) throws -> MaskRows? {
        let rows = table.rows
        guard rows.contains(where: isMaskRow) else { return nil }
        let maskNames = Set(rows.filter(isMaskRow).map(\.name))
        for r in rows where isMaskRow(r) && r.params != 0 {
            throw doc.error(r.line, "row '\(r.name)' (\(r.typeText)) has \(formatCount(r.params)) params, but a mask op has none")
        }
        let kept = rows.filter { !isMaskRow($0) }
        guard let input = kept.first, input.typeText == LayerKind.inputLayer.rawValue, let first = kept.dropFirst().first else {
            throw doc.error(rows[0].line, "mask rows (\(classes.joined(separator: ", "))) read the model's input: the table needs its InputLayer row and a layer after it")
        }
        let last = try checkChain(rows.filter(isMaskRow), input: input, connected: table.hasConnectedColumn, doc: doc)
        let isEmbedding = first.typeText == LayerKind.embedding.rawValue
        guard (isEmbedding && last.typeText == "NotEqual") || (first.typeText == LayerKind.masking.rawValue && last.typeText == "Any") else {
            throw doc.error(last.line, "mask row '\(last.name)' (\(last.typeText)) is not the mask of an Embedding(mask_zero=True) (one NotEqual row) or a Masking layer (NotEqual, then Any) as the first layer, here '\(first.name)' (\(first.typeText)); modelc computes masks from the model's input only")
        }
        var out = MaskRows(source: first.name, impliesMaskZero: isEmbedding, consumers: [])
        table.rows = try kept.map { r in
            var c = r
            c.connectedTo = try r.connectedTo.filter { name in
                let mask = maskNames.contains { GraphBuilder.matches(name, $0) }
                guard mask else { return true }
                if kept.contains(where: { GraphBuilder.matches(name, $0.name) }) {
                    throw doc.error(r.line, "layer '\(r.name)' is connected to '\(name)', cut short by the table: it may be a layer or the mask row; \(SummaryTable.printWider)")
                }
                guard GraphBuilder.matches(name, last.name) else {
                    throw doc.error(r.line, "layer '\(r.name)' reads mask row '\(name)' before the mask is complete ('\(last.name)')")
                }
                return false
            }
            if c.connectedTo.count != r.connectedTo.count { out.consumers.append((r.name, r.line)) }
            return c
        }
        return out
    }

    /// The mask rows in order: a NotEqual reading the input with its shape, then at most an Any
    /// reading it with the input's shape less the last axis. Returns the last one.
    static func checkChain(_ masks: [RawRow], input: RawRow, connected: Bool, doc: Document) throws -> RawRow {
        guard masks.count <= 2, masks[0].typeText == "NotEqual", masks.count == 1 || masks[1].typeText == "Any" else {
            throw doc.error(masks[masks.count > 2 ? 2 : 0].line, "mask rows \(masks.map { "'\($0.name)' (\($0.typeText))" }.joined(separator: ", ")): modelc reads one mask, a NotEqual row (Embedding mask_zero=True) or a NotEqual then an Any row (Masking)")
        }
        let ne = masks[0]
        if connected, ne.connectedTo != [input.name] {
            throw doc.error(ne.line, "mask row '\(ne.name)' reads \(ne.connectedTo.joined(separator: ", ")), not the model's input '\(input.name)': modelc computes masks from the model's input only")
        }
        guard ne.shape == input.shape else {
            throw doc.error(ne.line, "mask row '\(ne.name)' (NotEqual) has shape \(ne.shape.display), not the input's \(input.shape.display)")
        }
        guard masks.count == 2 else { return ne }
        let any = masks[1]
        if connected, any.connectedTo.count != 1 || !GraphBuilder.matches(any.connectedTo[0], ne.name) {
            throw doc.error(any.line, "mask row '\(any.name)' (Any) reads \(any.connectedTo.joined(separator: ", ")), not '\(ne.name)'")
        }
        guard case .dims(let d) = input.shape, d.count >= 2, any.shape == .dims(Array(d.dropLast())) else {
            throw doc.error(any.line, "mask row '\(any.name)' (Any) has shape \(any.shape.display); a mask over the steps of \(input.shape.display) has one value per step")
        }
        return any
    }

    /// After SequenceMasking: every row that took the mask is a layer the mask reaches (from the
    /// source to the first recurrent layer without return_sequences).
    func verify(_ layers: [Layer], doc: Document) throws {
        guard let s = layers.firstIndex(where: { $0.name == source }) else { return }
        var reached = Set<String>()
        for l in layers[(s + 1)...] {
            reached.insert(l.name)
            if case .recurrent(let a) = l.op, !a.returnSequences { break }
        }
        for c in consumers where !reached.contains(c.name) {
            throw doc.error(c.line, "layer '\(c.name)' takes the mask of '\(source)' in the table, but the mask ends at the first recurrent layer without return_sequences before it; modelc does not apply a mask there")
        }
    }
}
