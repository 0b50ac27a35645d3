// PyTorchRepr: finds a `print(model)` module repr among a document's prose and reads it into a
// module tree.
//
// Before: a Document (all lines), minus the lines of annotation blocks.
// After:  the root PTModule (containers with children in declared order, leaves with their
//         class name and argument text), or nil when the document holds no repr.
//
// Accepted: modern reprs (`Net(` / `  (conv1): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))`
// / `)`), pre-0.4 reprs (`Net (`, `Linear (400 -> 120)`, `ReLU ()`, `MaxPool2d (size=(2, 2), ...)`),
// nested containers (`Sequential`, custom blocks), any line prefix made of spaces, tabs, `#`
// and `>` (markdown code blocks, Python comments, quotes), a logging prefix before the root
// line (`... INFO - Network(`) and text after the root's closing parenthesis, and "headless"
// reprs that show only the `(name): Module(...)` lines, and PyTorch 2's repeated children
// `(1-3): 3 x Sequential(` (read as the children 1, 2 and 3, each a copy). The first balanced
// block is used; a stray extra `)` after it is ignored.

struct PTModule {
    /// Dotted module path as in `state_dict` keys ("conv1", "features.0"); "" for the root.
    var path: String
    /// Class name ("Conv2d", "Sequential", "Net").
    var type: String
    /// The text between the outer parentheses of a leaf ("1, 32, kernel_size=(3, 3)").
    var args: String
    var line: Int
    var children: [PTModule] = []
    var isContainer: Bool

    /// Leaves in declared order (containers expanded).
    var leaves: [PTModule] { isContainer ? children.flatMap(\.leaves) : [self] }

    /// This module and every module inside it.
    var moduleCount: Int { 1 + children.reduce(0) { $0 + $1.moduleCount } }

    /// The same module under `path` (its descendants' paths follow).
    func moved(to newPath: String) -> PTModule {
        var m = self
        m.path = newPath
        m.children = children.map { c in
            let tail = path.isEmpty ? c.path : String(c.path.dropFirst(path.count + 1))
            return c.moved(to: newPath.isEmpty ? tail : newPath + "." + tail)
        }
        return m
    }

    func find(_ path: String) -> PTModule? {
        if self.path == path { return self }
        for c in children { if let m = c.find(path) { return m } }
        return nil
    }
}

enum PyTorchRepr {
    /// Container classes that wrap a model for distributed training; rejected (they are not layers).
    static let wrappers = ["FullyShardedDataParallel", "DistributedDataParallel", "DataParallel"]

    /// Strips the line prefix (spaces, tabs, `#`, `>`); returns the rest.
    static func body(_ line: String) -> Substring {
        var s = Substring(line)
        while let f = s.first, f == " " || f == "\t" || f == "#" || f == ">" || f == "%" { s = s.dropFirst() }
        return s
    }

    /// "(conv1): Conv2d(1, 32, ...)" → ("conv1", "Conv2d(1, 32, ...)").
    static func moduleLine(_ line: String) -> (name: String, rest: String)? {
        let s = body(line)
        guard s.first == "(", let close = s.firstIndex(of: ")") else { return nil }
        let name = s[s.index(after: s.startIndex)..<close]
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else { return nil }
        let after = s[s.index(after: close)...]
        guard after.hasPrefix(": ") || after.hasPrefix(":\t") else { return nil }
        return (String(name), after.dropFirst(2).trimmed)
    }

    /// The most modules (containers included) one `(a-b): N x Module(` line may stand for.
    static let maxRepeatedModules = 4096

    /// PyTorch 2's "(1-3): 3 x Sequential(" → ("Sequential(", first 1, count 3): the module text
    /// and how many identical children start at index `first`; nil for other lines.
    static func repeatLine(_ line: String) -> (rest: String, first: Int, count: Int)? {
        let s = body(line)
        guard s.first == "(", let close = s.firstIndex(of: ")") else { return nil }
        let range = s[s.index(after: s.startIndex)..<close].split(separator: "-", omittingEmptySubsequences: false)
        guard range.count == 2, let a = Int(range[0]), let b = Int(range[1]), a >= 0, b > a, b - a < 4096 else { return nil }
        let after = s[s.index(after: close)...]
        guard after.hasPrefix(": ") else { return nil }
        let rest = after.dropFirst(2)
        guard let x = rest.range(of: " x "), Int(rest[..<x.lowerBound]) == b - a + 1 else { return nil }
        return (String(rest[x.upperBound...]).trimmed, a, b - a + 1)
    }

    /// "Net(" / "Net (" / "... INFO - Network(" / "model=FullyShardedDataParallel(" → "Net".
    static func openName(_ text: String) -> String? {
        var t = Substring(text.trimmed)
        guard t.last == "(" else { return nil }
        t = t.dropLast()
        while t.last == " " { t = t.dropLast() }
        var name = ""
        while let c = t.last, c.isLetter || c.isNumber || c == "_" { name.insert(c, at: name.startIndex); t = t.dropLast() }
        guard let f = name.first, f.isLetter || f == "_" else { return nil }
        return name
    }

    static func isClose(_ line: String) -> Bool { body(line).hasPrefix(")") }

    /// A line that starts like a module line but is not one: `(name:` or `(name):` before a class
    /// name and its `(`, as `(encoder: Embedding(84546, 300), ...` (a parenthesis lost in copying).
    /// Next to a repr it is an error, never skipped: the repr would be read without its module.
    static func isBrokenModuleLine(_ line: String) -> Bool {
        guard moduleLine(line) == nil else { return false }
        let s = body(line)
        guard s.first == "(" else { return false }
        let name = s.dropFirst().prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." })
        var rest = s.dropFirst(1 + name.count)
        guard !name.isEmpty, rest.hasPrefix(":") || rest.hasPrefix("):") else { return false }
        rest = rest.drop(while: { $0 == ")" || $0 == ":" || $0 == " " || $0 == "\t" })
        let type = rest.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" })
        return type.first?.isLetter == true && rest.dropFirst(type.count).drop(while: { $0 == " " }).first == "("
    }

    static func unreadable(_ doc: Document, _ k: Int, _ place: String) -> ModelError {
        doc.error(k + 1, "cannot read module line '\(doc.lines[k].trimmed)' \(place): expected '(name): Module(...)' or ')'")
    }

    static func find(in doc: Document, skipping: Set<Int>) throws -> PTModule? {
        let n = doc.lines.count
        var i = 0
        while i < n {
            defer { i += 1 }
            if skipping.contains(i + 1) { continue }
            let line = doc.lines[i]
            // The next non-blank line must be a module line.
            var j = i + 1
            while j < n, doc.lines[j].trimmed.isEmpty { j += 1 }
            if moduleLine(line) == nil, let root = openName(line), j < n {
                if isBrokenModuleLine(doc.lines[j]) { throw unreadable(doc, j, "inside the \(root)( repr") }
                guard moduleLine(doc.lines[j]) != nil else { continue }
                var rootModule = PTModule(path: "", type: root, args: "", line: i + 1, isContainer: true)
                var k = j
                let closed = try parseChildren(doc, &k, prefix: "", into: &rootModule, skipping: skipping)
                guard closed || k > j else { continue }
                if !closed && k < n {
                    // The block ended on a line that is neither a module nor ')'.
                    throw unreadable(doc, k, "inside the \(root)( repr")
                }
                return rootModule
            }
            if moduleLine(line) != nil {
                // Headless: module lines without a "Net(" line. A broken module line just above
                // or below them would leave its module out.
                if let p = (0..<i).last(where: { !doc.lines[$0].trimmed.isEmpty }), isBrokenModuleLine(doc.lines[p]) {
                    throw unreadable(doc, p, "before the module lines")
                }
                var rootModule = PTModule(path: "", type: "", args: "", line: i + 1, isContainer: true)
                var k = i
                _ = try parseChildren(doc, &k, prefix: "", into: &rootModule, skipping: skipping, headless: true)
                if k < n, isBrokenModuleLine(doc.lines[k]) { throw unreadable(doc, k, "among the module lines") }
                return rootModule
            }
        }
        return nil
    }

    /// Reads module lines from `k` into `parent` until its closing ')' (true) or a line that is not a
    /// module line (false; `k` points at it).
    static func parseChildren(_ doc: Document, _ k: inout Int, prefix: String, into parent: inout PTModule,
                              skipping: Set<Int>, headless: Bool = false, depth: Int = 0) throws -> Bool {
        guard depth < 64 else { throw doc.error(k + 1, "module repr nested more than 64 levels deep") }
        let n = doc.lines.count
        while k < n {
            if skipping.contains(k + 1) { return false }
            let line = doc.lines[k]
            if line.trimmed.isEmpty { k += 1; if headless { return false }; continue }
            if isClose(line) { k += 1; return true }
            if let r = repeatLine(line) {
                let line = k + 1
                let first = try child(doc, &k, path: prefix.isEmpty ? "\(r.first)" : "\(prefix).\(r.first)", rest: r.rest, skipping: skipping, depth: depth)
                guard first.moduleCount * r.count <= maxRepeatedModules else {
                    throw doc.error(line, "'\(body(doc.lines[line - 1]).trimmed)' repeats \(first.moduleCount) module(s) \(r.count) times: more than \(maxRepeatedModules)")
                }
                for i in 0..<r.count {
                    let path = prefix.isEmpty ? "\(r.first + i)" : "\(prefix).\(r.first + i)"
                    try unique(path, in: parent, line: line, doc: doc)
                    parent.children.append(first.moved(to: path))
                }
                continue
            }
            guard let (name, rest) = moduleLine(line) else { return false }
            let path = prefix.isEmpty ? name : prefix + "." + name
            try unique(path, in: parent, line: k + 1, doc: doc)
            parent.children.append(try child(doc, &k, path: path, rest: rest, skipping: skipping, depth: depth))
        }
        return false
    }

    /// Two children of one module never share a name (`(0)` and then `(0-1): 2 x ...`).
    static func unique(_ path: String, in parent: PTModule, line: Int, doc: Document) throws {
        if parent.children.contains(where: { $0.path == path }) {
            throw doc.error(line, "module '\(path)' appears twice in '\(parent.path.isEmpty ? parent.type : parent.path)'")
        }
    }

    /// The module of the line at `k` ("Type(" opening a container, or a leaf "Type(args)"), `k`
    /// moved past it.
    static func child(_ doc: Document, _ k: inout Int, path: String, rest: String, skipping: Set<Int>, depth: Int) throws -> PTModule {
        let n = doc.lines.count
        if let type = openName(rest), !rest.dropLast().contains("(") || rest.hasSuffix(" (") {
            var child = PTModule(path: path, type: type, args: "", line: k + 1, isContainer: true)
            k += 1
            let closed = try parseChildren(doc, &k, prefix: path, into: &child, skipping: skipping, depth: depth + 1)
            guard closed else {
                if k < n { throw doc.error(k + 1, "cannot read module line '\(doc.lines[k].trimmed)' inside '\(path)': expected '(name): Module(...)' or ')'") }
                throw doc.error(child.line, "the '\(path)' \(type)( block is not closed")
            }
            return child
        }
        // Leaf: "Type(args)" or "Type (args)"; trailing text after the balanced ')' is ignored.
        guard let open = rest.firstIndex(of: "(") else {
            throw doc.error(k + 1, "module '\(path)': expected 'Type(arguments)', found '\(rest)'")
        }
        let type = rest[..<open].trimmed
        guard !type.isEmpty, type.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw doc.error(k + 1, "module '\(path)': cannot read the class name in '\(rest)'")
        }
        var level = 0
        var end: String.Index?
        for idx in rest[open...].indices {
            let c = rest[idx]
            if c == "(" { level += 1 } else if c == ")" { level -= 1; if level == 0 { end = idx; break } }
        }
        guard let e = end else {
            throw doc.error(k + 1, "module '\(path)': unbalanced parentheses in '\(rest)'")
        }
        let args = String(rest[rest.index(after: open)..<e]).trimmed
        k += 1
        return PTModule(path: path, type: type, args: args, line: k, isContainer: false)
    }
}

/// Arguments of a leaf repr: positional values and keyword values, as text.
struct PTArgs {
    var positional: [String] = []
    var keyword: [String: String] = [:]

    init(_ text: String) {
        // Legacy "Linear (400 -> 120)".
        var parts: [String] = []
        var cur = ""
        var depth = 0
        for ch in text {
            if ch == "(" || ch == "[" { depth += 1 } else if ch == ")" || ch == "]" { depth -= 1 }
            if ch == "," && depth == 0 { parts.append(cur.trimmed); cur = ""; continue }
            cur.append(ch)
        }
        if !cur.trimmed.isEmpty { parts.append(cur.trimmed) }
        for p in parts {
            if let eq = p.firstIndex(of: "="), !p[..<eq].contains("(") {
                keyword[p[..<eq].trimmed] = p[p.index(after: eq)...].trimmed
            } else {
                positional.append(p)
            }
        }
    }

    /// "3" → (3, 3); "(3, 5)" → (3, 5).
    static func pair(_ v: String) -> (Int, Int)? {
        let t = v.trimmed
        if let n = Int(t) { return (n, n) }
        guard t.hasPrefix("(") || t.hasPrefix("["), t.count >= 2 else { return nil }
        let inner = t.dropFirst().dropLast().split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }
        if inner.count == 1, let a = Int(inner[0]) { return (a, a) }
        guard inner.count == 2, let a = Int(inner[0]), let b = Int(inner[1]) else { return nil }
        return (a, b)
    }

    static func bool(_ v: String) -> Bool? {
        switch v.trimmed { case "True", "true": return true; case "False", "false": return false; default: return nil }
    }
}
