// PyTorchModuleArgs: one leaf module's repr arguments (PTArgs) read as integers, (H, W) pairs,
// numbers and booleans, by keyword or by position, with defaults; every error names the
// module's path and class at its line. PyTorchModules.op reads modules with it.

struct PTModuleArgs {
    let module: PTModule
    let doc: Document
    let a: PTArgs

    init(_ m: PTModule, doc: Document) {
        module = m
        self.doc = doc
        a = PTArgs(m.args.replacingOccurrences(of: " = ", with: "="))
    }

    /// An error at the module's line: "module 'PATH' (CLASS): s".
    func err(_ s: String) -> ModelError { doc.error(module.line, "module '\(module.path)' (\(module.type)): \(s)") }

    func int(_ key: String, _ pos: Int?, _ def: Int? = nil) throws -> Int {
        if let v = a.keyword[key] { guard let n = Int(v) else { throw err("\(key)=\(v): expected an integer") }; return n }
        if let p = pos, p < a.positional.count {
            guard let n = Int(a.positional[p]) else { throw err("argument \(p + 1) '\(a.positional[p])': expected an integer") }
            return n
        }
        if let d = def { return d }
        throw err("missing \(key)")
    }

    /// The first of `keys` given, else positional argument `pos`, else `def`: N or (H, W).
    func pair(_ keys: [String], _ pos: Int?, _ def: (Int, Int)?) throws -> (Int, Int) {
        for k in keys { if let v = a.keyword[k] {
            guard let p = PTArgs.pair(v) else { throw err("\(k)=\(v): expected N or (H, W)") }
            return p
        } }
        if let p = pos, p < a.positional.count {
            guard let v = PTArgs.pair(a.positional[p]) else { throw err("argument \(p + 1) '\(a.positional[p])': expected N or (H, W)") }
            return v
        }
        if let d = def { return d }
        throw err("missing \(keys[0])")
    }

    func float(_ key: String, _ pos: Int?, _ def: Float) throws -> Float {
        if let v = a.keyword[key] ?? (pos.flatMap { $0 < a.positional.count ? a.positional[$0] : nil }) {
            guard let x = Float(v), x.isFinite else { throw err("\(key)=\(v): expected a number") }
            return x
        }
        return def
    }

    func bool(_ key: String, _ def: Bool, position: Int? = nil) throws -> Bool {
        guard let v = a.keyword[key] ?? (position.flatMap { $0 < a.positional.count ? a.positional[$0] : nil }) else { return def }
        guard let b = PTArgs.bool(v) else { throw err("\(key)=\(v): expected True or False") }
        return b
    }
}
