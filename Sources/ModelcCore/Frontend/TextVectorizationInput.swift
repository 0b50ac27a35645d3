// TextVectorization as the data boundary. Keras text classifiers (TensorFlow's text tutorials,
// most NLP notebooks) start with an InputLayer of one string per example and a TextVectorization
// layer that turns each string into L token ids (or a multi_hot, count or tf_idf vector). modelc
// does not vectorize text: the model it compiles starts at that output, which the data must hold
// (e.g. an .npz of token-id arrays).
//
// Before: a SummaryTable as read.
// After:  a TextVectorization that is the first row, or the second after an InputLayer of one
//         value per example, is the model's InputLayer of its own output shape (the string
//         InputLayer row dropped), with a note saying so; a TextVectorization anywhere else, or
//         one with parameters, is an error naming its line. Other tables are unchanged.

enum TextVectorizationInput {
    static let className = "TextVectorization"

    static func apply(_ table: SummaryTable, doc: Document) throws -> (SummaryTable, String?) {
        guard let k = table.rows.firstIndex(where: { $0.typeText == className }) else { return (table, nil) }
        let tv = table.rows[k]
        let stringInput = k == 1 && table.rows[0].typeText == "InputLayer" && table.rows[0].shape.known.map { $0 == [1] || $0.isEmpty } != false
        guard k == 0 || stringInput else {
            throw doc.error(tv.line, "layer '\(tv.name)' (TextVectorization): modelc reads it only as the model's first layer, where the data's token ids start (it does not tokenize text inside a model)")
        }
        guard tv.params == 0, case .dims(let ids) = tv.shape, ids.count == 1 else {
            throw doc.error(tv.line, "layer '\(tv.name)' (TextVectorization): expected an output of token ids (None, L) with 0 params, found \(tv.shape.display) with \(formatCount(tv.params))")
        }
        if stringInput, let reader = table.rows.dropFirst(2).first(where: { $0.connectedTo.contains { $0.hasPrefix(table.rows[0].name + "[") || $0 == table.rows[0].name } }) {
            throw doc.error(reader.line, "layer '\(reader.name)' reads the string input '\(table.rows[0].name)' besides its TextVectorization; modelc starts the model at the token ids")
        }
        var t = table
        t.rows[k].typeText = "InputLayer"
        t.rows[k].typeComplete = true
        t.rows[k].connectedTo = []
        if stringInput { t.rows.removeFirst() }
        // An Embedding reads token ids (output_mode "int"); anything else reads a multi_hot, count or tf_idf vector.
        let tokens = table.rows.indices.contains(k + 1) && table.rows[k + 1].typeText.hasPrefix("Embed")
        let n = ids[0].map(String.init) ?? "N (as `input: shape=` says)"
        let what = tokens ? "\(n) token ids" : "a vector of \(n) values (output_mode multi_hot, count or tf_idf)"
        return (t, "\(tv.name) (TextVectorization): the model starts at its output, \(what) per example; modelc does not vectorize text: give it the vectorized data")
    }
}
