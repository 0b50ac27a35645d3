// Splitting an emitted model file for a compile on every core.
//
// Before: one emitted file, `import`s, the model class and, for a big model, the values its
// kernels specialize on in a `fileprivate extension` and the layers' functions as top-level
// `extension`s of whole layers (ModelClassWriter.writeExtensions).
// After: `count` files (or the file itself, when it has no extensions or there is one core),
// each holding the file's imports, the fileprivate extension, and some of the other top-level
// pieces in source order, the first one the class, of about equal compile work. Each piece is
// preceded by `#sourceLocation` naming the emitted file and the piece's line there, so that
// diagnostics, sanitizer reports and debug info point into the emitted file.
//
// Why: swiftc's optimizer runs on one core per frontend job, and a whole-module compile (-wmo)
// is one job. Compiled as separate files (no -wmo), each file is its own job and the files run
// at once; a call from one file into another is a plain call, which costs nothing here, where
// every call into a layer's functions does a chunk of images' work. The kernels themselves are
// the runtime's @_transparent functions, inlined into whichever file calls them.

enum SourceParts {
    /// A top-level piece of the file: its text and the line (from 1) it starts on.
    struct Piece {
        var text: String
        var line: Int
        /// Whether every file gets a copy: a `fileprivate extension`, whose members each file
        /// needs in its own text for the optimizer to see their literals.
        var isShared = false

        static func startsPiece<S: StringProtocol>(_ line: S) -> Bool { line.hasPrefix("extension ") || startsShared(line) }
        static func startsShared<S: StringProtocol>(_ line: S) -> Bool { line.hasPrefix("fileprivate extension ") }
    }

    /// The file's top-level pieces: everything before the first line that starts with
    /// `extension ` or `fileprivate extension `, then each extension up to the next one. The
    /// comment lines just above an extension belong to it.
    static func pieces(_ text: String) -> [Piece] {
        var pieces: [Piece] = [], current: [Substring] = [], start = 1, shared = false
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if Piece.startsPiece(line) {
                let comments = current.reversed().prefix { $0.hasPrefix("//") }.count
                if current.count > comments {
                    pieces.append(Piece(text: current.dropLast(comments).joined(separator: "\n"), line: start, isShared: shared))
                    current = Array(current.suffix(comments))
                    start = i + 1 - comments
                }
                shared = Piece.startsShared(line)
            }
            current.append(line)
        }
        pieces.append(Piece(text: current.joined(separator: "\n"), line: start, isShared: shared))
        return pieces
    }

    /// A piece's compile work, estimated as its lines of code from its first function on:
    /// comments and blank lines do not count, nor do the class's declarations before its first
    /// function (the model's facts, the buffers' accessors), which cost the optimizer next to
    /// nothing beside a function's line.
    static func weight(_ piece: String) -> Int {
        let lines = piece.split(separator: "\n").drop { !$0.contains("func ") }
        return lines.filter { line in
            let code = line.drop { $0 == " " }
            return !code.isEmpty && !code.hasPrefix("//")
        }.count
    }

    /// The text of `file` in at most `count` files: the pieces go, heaviest first, each to the
    /// file with the least work so far (of equal work, the one with fewer pieces), and the
    /// shared pieces to every file; each file keeps its pieces in source order, each after a
    /// `#sourceLocation` into `file`, and starts with the file's `import` lines (the first file
    /// has them already: it holds the first piece).
    static func files(_ text: String, file: String, count: Int) -> [String] {
        let pieces = pieces(text)
        let shared = pieces.indices.filter { pieces[$0].isShared }
        let own = pieces.indices.filter { $0 > 0 && !pieces[$0].isShared }
        let n = min(max(count, 1), own.count + 1)
        if n == 1 { return [text] }
        let weights = pieces.map { weight($0.text) }
        var files = Array(repeating: [Int](), count: n), work = Array(repeating: 0, count: n)
        files[0] = [0]; work[0] = weights[0]
        for i in own.sorted(by: { weights[$0] > weights[$1] }) {
            let f = work.indices.min { (work[$0], files[$0].count) < (work[$1], files[$1].count) }!
            files[f].append(i)
            work[f] += weights[i]
        }
        let imports = pieces[0].text.split(separator: "\n").filter { $0.hasPrefix("import ") }.joined(separator: "\n")
        let name = file.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return files.filter { !$0.isEmpty }.map { indices in
            let body = (indices + shared).sorted().map { "#sourceLocation(file: \"\(name)\", line: \(pieces[$0].line))\n" + pieces[$0].text }
            return (indices.contains(0) ? "" : imports + "\n") + body.joined(separator: "\n")
        }
    }
}
