// KerasConfigJSON: a small, bounded JSON reader for Keras model configs (config.json in a
// `.keras` zip, the `model_config` attribute of a Keras 2 `.h5`).
//
// Before: bytes from a stranger's file.
// After:  a JSONValue tree, or a ModelError naming the file, the byte offset, what was
//         expected and what was found. The text is at most `maxBytes` long (checked before
//         anything is parsed), holds at most `maxValues` values and nests at most `maxDepth`
//         arrays/objects deep (both checked while parsing, so no recursion runs deeper). Numbers keep their literal text, so integers
//         are exact (no Double rounding) and over-large ones are reported, not wrapped.
// Own code rather than JSONSerialization: exact integers, byte offsets in messages, and the
// same behaviour on every platform.

enum JSONValue: Equatable {
    case null
    case bool(Bool)
    /// The literal as written ("3", "-1e-3"): integers are parsed exactly when asked for.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Keys in file order (Keras configs are small; lookups scan).
    case object([(String, JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: return false
        }
    }

    /// What a message calls this value ("a string \"same\"", "the number 3", "null", "a list of 2").
    var described: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let n): return "the number \(n)"
        case .string(let s): return "the string \"\(s.count > 40 ? String(s.prefix(40)) + "..." : s)\""
        case .array(let a): return "a list of \(a.count)"
        case .object(let o): return "an object with \(o.count) keys"
        }
    }
}

struct JSONReader {
    static let maxBytes = 16 << 20
    static let maxDepth = 64
    /// Most values (numbers, strings, lists, objects, ...) in one document: a large real
    /// config (hundreds of layers) holds tens of thousands.
    static let maxValues = 1 << 18

    let bytes: [UInt8]
    let file: String
    var pos = 0
    var values = 0

    /// Parses one JSON document (whitespace around it allowed, nothing after it).
    static func parse(_ bytes: [UInt8], file: String) throws -> JSONValue {
        guard bytes.count <= maxBytes else {
            throw ModelError(file: file, line: nil, message: "Keras config of \(bytes.count) bytes is larger than the limit of \(maxBytes) bytes")
        }
        var r = JSONReader(bytes: bytes, file: file)
        r.skipSpace()
        let v = try r.value(depth: 0)
        r.skipSpace()
        guard r.pos == bytes.count else { throw r.fail("expected the end of the JSON text") }
        return v
    }

    func fail(_ expected: String) -> ModelError {
        let found: String
        if pos >= bytes.count { found = "the end of the text" }
        else {
            let b = bytes[pos]
            found = b >= 0x20 && b < 0x7F ? "'\(Character(UnicodeScalar(b)))'" : "byte 0x" + String(b, radix: 16)
        }
        return ModelError(file: file, line: nil, message: "JSON offset \(pos): \(expected), found \(found)")
    }

    mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard pos < bytes.count else { throw fail("expected a JSON value") }
        values += 1
        guard values <= JSONReader.maxValues else { throw fail("at most \(JSONReader.maxValues) JSON values (the limit for a Keras config)") }
        switch bytes[pos] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < JSONReader.maxDepth else {
                throw fail("JSON nests more than \(JSONReader.maxDepth) levels deep (the limit for a Keras config)")
            }
            return bytes[pos] == UInt8(ascii: "{") ? try object(depth: depth + 1) : try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        // Python's json.dumps writes NaN/Infinity; Keras configs have none in the fields modelc reads.
        case UInt8(ascii: "N"): try literal("NaN"); return .number("NaN")
        case UInt8(ascii: "I"): try literal("Infinity"); return .number("Infinity")
        default: return .number(try number())
        }
    }

    mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w else { throw fail("expected '\(word)'") }
        pos += w.count
    }

    mutating func object(depth: Int) throws -> JSONValue {
        pos += 1
        var out: [(String, JSONValue)] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(out) }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
            let key = try string()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':' after the key \"\(key)\"") }
            pos += 1
            skipSpace()
            out.append((key, try value(depth: depth)))
            skipSpace()
            guard pos < bytes.count else { throw fail("expected ',' or '}'") }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(out) }
            guard bytes[pos] == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
            pos += 1
        }
    }

    mutating func array(depth: Int) throws -> JSONValue {
        pos += 1
        var out: [JSONValue] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(out) }
        while true {
            skipSpace()
            out.append(try value(depth: depth))
            skipSpace()
            guard pos < bytes.count else { throw fail("expected ',' or ']'") }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(out) }
            guard bytes[pos] == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
            pos += 1
        }
    }

    mutating func number() throws -> String {
        let start = pos
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "I") { try literal("Infinity"); return String(decoding: bytes[start..<pos], as: UTF8.self) }
        func digits() -> Int {
            let s = pos
            while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { pos += 1 }
            return pos - s
        }
        guard digits() > 0 else { pos = start; throw fail("expected a JSON value") }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw fail("expected digits after '.'") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw fail("expected exponent digits") }
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    mutating func string() throws -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw fail("expected the closing '\"' of a string") }
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") { pos += 1; break }
            if b < 0x20 { throw fail("expected a character inside a string (control characters must be escaped)") }
            if b != UInt8(ascii: "\\") { out.append(b); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { throw fail("expected an escape after '\\'") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"): out += try unicodeEscape()
            default: pos -= 1; throw fail("expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// \uXXXX (and a surrogate pair) as UTF-8; a lone surrogate becomes U+FFFD.
    mutating func unicodeEscape() throws -> [UInt8] {
        func hex4() throws -> UInt32 {
            guard pos + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[pos..<(pos + 4)], as: UTF8.self), radix: 16) else {
                throw fail("expected 4 hex digits after \\u")
            }
            pos += 4
            return v
        }
        var u = try hex4()
        if u >= 0xD800, u < 0xDC00, pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
            let save = pos
            pos += 2
            let lo = try hex4()
            if lo >= 0xDC00, lo < 0xE000 { u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00) } else { pos = save }
        }
        let scalar = UnicodeScalar(u) ?? "\u{FFFD}"
        return Array(String(Character(scalar)).utf8)
    }
}
