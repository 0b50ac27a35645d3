// KerasConfigNode: typed access to a JSON value that knows its path in the document
// ("config.layers[3].config.kernel_size"), so that every wrong key or type is reported as
// `FILE: error: PATH: expected ..., found ...`.

struct JNode {
    let value: JSONValue
    let path: String
    let file: String

    /// The path as messages print it.
    var location: String { path.isEmpty ? "the top-level value" : path }

    func fail(_ expected: String) -> ModelError {
        ModelError(file: file, line: nil, message: "\(location): expected \(expected), found \(value.described)")
    }

    func error(_ message: String) -> ModelError {
        ModelError(file: file, line: nil, message: "\(location): \(message)")
    }

    func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member `key`, or nil when it is missing.
    func optional(_ key: String) throws -> JNode? {
        guard case .object(let members) = value else { throw fail("an object") }
        guard let v = members.first(where: { $0.0 == key })?.1 else { return nil }
        return JNode(value: v, path: child(key), file: file)
    }

    /// The member `key`, which must be present (null counts as present).
    func required(_ key: String) throws -> JNode {
        guard let n = try optional(key) else {
            throw ModelError(file: file, line: nil, message: "\(child(key)): missing (expected in \(path.isEmpty ? "the top-level object" : path))")
        }
        return n
    }

    /// The member `key` unless it is missing or null.
    func present(_ key: String) throws -> JNode? {
        guard let n = try optional(key), n.value != .null else { return nil }
        return n
    }

    var isNull: Bool { value == .null }

    func list() throws -> [JNode] {
        guard case .array(let a) = value else { throw fail("a list") }
        return a.enumerated().map { JNode(value: $0.element, path: "\(path)[\($0.offset)]", file: file) }
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw fail("a string") }
        return s
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw fail("true or false") }
        return b
    }

    /// An integer literal in min...max (exact; "3.0" and "3e0" are not integers here).
    func int(min: Int = 0, max: Int = 1 << 30) throws -> Int {
        guard case .number(let s) = value, let v = Int(s) else { throw fail("an integer") }
        guard v >= min, v <= max else { throw fail("an integer from \(min) to \(max)") }
        return v
    }

    /// A finite number in min...max.
    func float(min: Double = -Double.greatestFiniteMagnitude, max: Double = Double.greatestFiniteMagnitude) throws -> Float {
        guard case .number(let s) = value, let v = Double(s), v.isFinite else { throw fail("a finite number") }
        guard v >= min, v <= max else { throw fail("a number from \(min) to \(max)") }
        return Float(v)
    }

    /// `n` integers: a list of n, or one integer meaning all n (as Keras accepts).
    func ints(_ n: Int, min: Int = 1, max: Int = 1 << 16) throws -> [Int] {
        if case .number = value { return Array(repeating: try int(min: min, max: max), count: n) }
        let items = try list()
        guard items.count == n else { throw fail("a list of \(n) integer\(n == 1 ? "" : "s")") }
        return try items.map { try $0.int(min: min, max: max) }
    }
}
