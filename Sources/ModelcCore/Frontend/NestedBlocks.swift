// NestedBlocks: a nested model printed as one row of 0 params (TensorFlow's image-classification
// tutorial prints its data-augmentation Sequential so), whose layers an annotation names:
//   nested sequential_1: RandomFlip mode=horizontal; RandomRotation factor=0.1; RandomZoom height_factor=0.1
// Each `;`-separated item is a class and its settings, as a `layer NAME:` directive takes them.
// The row becomes one row per item, named as Keras names layers (random_flip, random_flip_1, ...
// where the table already has the name), with the row's shape where no later item can change
// it (else inferred); each item's settings become a `layer` directive for its row. Without the
// annotation such a row stays an error (NestedModels.collapsedError), never read in part.

struct NestedDirective {
    var name: String
    var line: Int
    var items: [(kind: LayerKind, overrides: LayerOverrides)]
}

enum NestedBlocks {
    /// `nested NAME: Class key=value ...; Class ...`.
    static func directive(_ words: [String], _ rest: String, line: Int, doc: Document) throws -> NestedDirective {
        guard words.count == 2 else { throw doc.error(line, "expected 'nested NAME: Class key=value ...; Class ...' (the layers of a nested model printed as one row)") }
        var items: [(kind: LayerKind, overrides: LayerOverrides)] = []
        for part in rest.split(separator: ";") {
            let text = part.trimmed
            let cls = text.split(separator: " ").first.map(String.init) ?? ""
            guard let kind = LayerKind.exact(cls) else {
                throw doc.error(line, "nested \(words[1]): '\(cls)' is not a supported layer class (supported: \(LayerKind.supportedList))")
            }
            var o = try AnnotationParser.layerOverrides(String(text.dropFirst(cls.count)), line: line, doc: doc)
            o.kind = kind
            items.append((kind, o))
        }
        guard !items.isEmpty, items.count <= 64 else { throw doc.error(line, "nested \(words[1]): expected 1 to 64 layers, found \(items.count)") }
        return NestedDirective(name: words[1], line: line, items: items)
    }

    /// The table with each annotated nested row replaced by its layers' rows, and the annotations
    /// with a `layer` directive per new row.
    static func expand(_ table: SummaryTable, annotations ann: Annotations, doc: Document) throws -> (SummaryTable, Annotations) {
        guard !ann.nested.isEmpty else { return (table, ann) }
        var t = table, a = ann
        var taken = Set(table.rows.map(\.name))
        var renamed: [String: String] = [:]
        t.rows = []
        for row in table.rows {
            guard let d = ann.nested.first(where: { $0.name == row.name }) else { t.rows.append(row); continue }
            guard NestedModels.isModelClass(KindResolver.printedClass(row.typeText), complete: false), row.params == 0 else {
                throw doc.error(d.line, "nested \(d.name): the row (line \(row.line)) is \(row.typeText.isEmpty ? "no nested model" : "'\(row.typeText)'") with \(formatCount(row.params)) params; `nested` names the layers of a nested model printed as one row of 0 params")
            }
            taken.remove(row.name)
            var previous: String?
            for (k, item) in d.items.enumerated() {
                let name = freshName(item.kind.nameStems[0], taken: &taken)
                var r = row
                (r.name, r.typeText, r.typeComplete) = (name, item.kind.rawValue, true)
                if let p = previous, table.hasConnectedColumn { (r.connectedTo, r.connectedText) = ([p], p) }   // a chain inside the block
                if d.items.dropFirst(k + 1).contains(where: { !keepsShape($0.kind) }) { r.shape = .unknown("") }
                t.rows.append(r)
                a.layers.append(LayerDirective(pattern: name, line: d.line, overrides: item.overrides))
                previous = name
            }
            renamed[row.name] = previous
        }
        // Later rows read the block's last layer where they read the block.
        for i in t.rows.indices {
            for (old, new) in renamed {
                t.rows[i].connectedTo = t.rows[i].connectedTo.map { $0 == old ? new : $0.hasPrefix(old + "[") ? new + $0.dropFirst(old.count) : $0 }
                t.rows[i].connectedText = t.rows[i].connectedText.replacingOccurrences(of: old + "[", with: new + "[")
            }
        }
        guard t.rows.count <= TableScanner.maxRows else {
            throw doc.error(ann.nested[0].line, "the table with the nested layers has \(t.rows.count) rows; at most \(TableScanner.maxRows) are supported")
        }
        for d in ann.nested where !table.rows.contains(where: { $0.name == d.name }) {
            throw doc.error(d.line, "nested \(d.name): no row of the table is named '\(d.name)'")
        }
        return (t, a)
    }

    /// A layer whose output has its input's shape (a later one leaves the row's shape known).
    static func keepsShape(_ k: LayerKind) -> Bool {
        k.isAugmentation || k.isActivationLayer || [.rescaling, .dropout, .spatialDropout1D, .spatialDropout2D, .masking].contains(k)
    }

    /// `stem`, or `stem_1`, `stem_2`, ... (as Keras names a class's later layers), not yet taken.
    static func freshName(_ stem: String, taken: inout Set<String>) -> String {
        var name = stem, n = 0
        while taken.contains(name) { n += 1; name = "\(stem)_\(n)" }
        taken.insert(name)
        return name
    }
}
