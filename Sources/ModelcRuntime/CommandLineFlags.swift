// Command-line flags of the generated binary: `--name VALUE`, `--name=VALUE` and boolean
// `--name`. Unknown flags and malformed values are UsageErrors (exit code 2).

public struct CommandLineFlags {
    public let command: String
    public private(set) var values: [String: String] = [:]
    public private(set) var switches: Set<String> = []
    public private(set) var positionals: [String] = []

    /// `valueFlags` and `switchFlags` are names without the leading dashes.
    public init(_ args: [String], command: String, valueFlags: [String], switchFlags: [String], allowPositionals: Bool = false) throws {
        self.command = command
        let valueSet = Set(valueFlags), switchSet = Set(switchFlags)
        func known() -> String { (valueFlags.map { "--\($0) VALUE" } + switchFlags.map { "--\($0)" }).joined(separator: ", ") }
        var i = 0
        while i < args.count {
            let a = args[i]
            if a.hasPrefix("--") && a.count > 2 {
                var name = String(a.dropFirst(2))
                var inline: String? = nil
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                if valueSet.contains(name) {
                    if let v = inline { values[name] = v }
                    else {
                        guard i + 1 < args.count else { throw UsageError("\(command): flag --\(name) needs a value") }
                        values[name] = args[i + 1]
                        i += 1
                    }
                } else if switchSet.contains(name) {
                    guard inline == nil else { throw UsageError("\(command): flag --\(name) takes no value, found '--\(name)=\(inline!)'") }
                    switches.insert(name)
                } else {
                    throw UsageError("\(command): unknown flag '--\(name)' (valid flags: \(known()))")
                }
            } else if a.hasPrefix("-") && a != "-" && !allowPositionals {
                throw UsageError("\(command): unknown flag '\(a)' (valid flags: \(known()))")
            } else if allowPositionals {
                positionals.append(a)
            } else {
                throw UsageError("\(command): unexpected argument '\(a)' (valid flags: \(known()))")
            }
            i += 1
        }
    }

    public func has(_ name: String) -> Bool { switches.contains(name) || values[name] != nil }
    public func string(_ name: String) -> String? { values[name] }

    public func int(_ name: String, min: Int = Int.min, max: Int = Int.max) throws -> Int? {
        guard let v = values[name] else { return nil }
        guard let x = Int(v), x >= min, x <= max else {
            let range = max == Int.max ? "an integer >= \(min)" : "an integer in \(min)...\(max)"
            throw UsageError("\(command): --\(name) expects \(range), found '\(v)'")
        }
        return x
    }

    public func float(_ name: String, min: Float = -.infinity, max: Float = .infinity, openMax: Bool = false) throws -> Float? {
        guard let v = values[name] else { return nil }
        guard let x = Float(v), x.isFinite, x >= min, openMax ? x < max : x <= max else {
            throw UsageError("\(command): --\(name) expects a number in [\(min), \(max)\(openMax ? ")" : "]"), found '\(v)'")
        }
        return x
    }

    public func seed(_ name: String) throws -> UInt64? {
        guard let v = values[name] else { return nil }
        guard let x = UInt64(v) else { throw UsageError("\(command): --\(name) expects a non-negative integer, found '\(v)'") }
        return x
    }
}

extension CommandLineFlags {
    /// `--threads N` (1...1024; default: all active processors) sets `Parallel.threads`, which
    /// the generated code's parallel loops read. Returns the count in effect.
    @discardableResult
    package func applyThreads() throws -> Int {
        if let t = try int("threads", min: 1, max: Parallel.maxThreads) { Parallel.threads = t }
        return Parallel.threads
    }
}
