// KerasConfigShared: a Functional config's layer called more than once (shared weights).
//
// Before: a Functional model's layers as config.layers lists them; a shared layer is listed
//         once, with one `inbound_nodes` entry per call, and a layer reading its call k names
//         `["dense", k, 0, {}]` (Keras 2) or a `keras_history` `["dense", k, 0]` (Keras 3).
// After:  one KLayer per call, every call after the calls it reads (IR/SharedLayers.swift's
//         order: the listed order where it already is): call k > 0 of `dense` is `dense[k]`
//         (`call` k, `owner` call 0's position) with that one node, and every reference to it
//         (in the nodes and in output_layers) names `dense[k]` node 0. The weights stay call 0's
//         (KerasConfigLayers marks the later calls `sharesWeightsWith`). A config without
//         shared layers comes back unchanged, so the graph reader only ever sees single calls.

extension KerasModel {
    static func expandSharedCalls(_ ls: [KLayer], config: JNode) throws -> ([KLayer], JNode) {
        let nodes = try ls.map { try $0.entry.required("inbound_nodes").list() }
        guard nodes.contains(where: { $0.count > 1 }) else { return (ls, config) }
        guard nodes.reduce(0, { $0 + $1.count }) <= SharedLayers.maxCalls else {
            throw config.error("the model's layers make more than \(SharedLayers.maxCalls) calls; at most \(SharedLayers.maxCalls) are supported")
        }
        var index: [String: Int] = [:]
        for (i, l) in ls.enumerated() { index[l.name] = i }
        let calls = nodes.map { max(1, $0.count) }
        var inputs: [[[(Int, Int)]]] = []
        for (i, ns) in nodes.enumerated() {
            var perCall: [[(Int, Int)]] = Array(repeating: [], count: calls[i])
            for (k, n) in ns.enumerated() {
                perCall[k] = try references(n).map { ref -> (Int, Int) in
                    let (name, node) = ref
                    guard let t = index[name] else { throw n.error("layer '\(ls[i].name)' is fed by '\(name)', which is not a layer of the model") }
                    guard node < calls[t] else { throw n.error("layer '\(ls[i].name)' reads call \(node + 1) of '\(name)', which is called \(calls[t]) time\(calls[t] == 1 ? "" : "s")") }
                    return (t, node)
                }
            }
            inputs.append(perCall)
        }
        let order = try SharedLayers.callOrder(inputs) { i in
            ls[i].entry.error("layer '\(ls[i].name)': its calls and the layers they read form a cycle")
        }
        var position: [Int: Int] = [:]
        for (p, c) in order.enumerated() where c.1 == 0 { position[c.0] = p }
        let rename = { (name: String, node: Int) in SharedLayers.callName(name, node) }
        let out = order.map { c -> KLayer in
            let (i, k) = c
            var l = ls[i]
            l.name = rename(l.name, k)
            l.call = k
            if k > 0 { l.owner = position[i] }
            if !nodes[i].isEmpty {
                l.entry = replacing("inbound_nodes", in: l.entry, with: .array([renamed(nodes[i][k].value, rename)]))
            }
            return l
        }
        let outs = try config.required("output_layers")
        return (out, replacing("output_layers", in: config, with: renamedEndpoints(outs.value, rename)))
    }

    /// The (layer, call) pairs one inbound node reads: Keras 2 `[name, node, tensor, kwargs]`
    /// items, Keras 3 `keras_history` triples anywhere in its args and kwargs.
    static func references(_ node: JNode) throws -> [(String, Int)] {
        if case .array = node.value {
            return try node.list().map { t in
                let parts = try t.list()
                guard parts.count >= 3 else { throw t.fail("[\"layer_name\", node_index, tensor_index, kwargs]") }
                return (try parts[0].string(), try parts[1].int(max: SharedLayers.maxCalls))
            }
        }
        var out: [(String, Int)] = []
        try collectHistories(node, into: &out)
        return out
    }

    static func collectHistories(_ n: JNode, into out: inout [(String, Int)]) throws {
        switch n.value {
        case .array:
            for c in try n.list() { try collectHistories(c, into: &out) }
        case .object(let members):
            if let cls = try n.optional("class_name"), try cls.string() == "__keras_tensor__" {
                let h = try n.required("config").required("keras_history").list()
                guard h.count == 3 else { throw try n.required("config").required("keras_history").fail("[\"layer_name\", node_index, tensor_index]") }
                out.append((try h[0].string(), try h[1].int(max: SharedLayers.maxCalls)))
                return
            }
            for (k, _) in members { try collectHistories(n.required(k), into: &out) }
        default: return
        }
    }

    /// `n` with member `key` replaced (the path stays, so errors still name the listed entry).
    static func replacing(_ key: String, in n: JNode, with v: JSONValue) -> JNode {
        guard case .object(let members) = n.value else { return n }
        return JNode(value: .object(members.map { $0.0 == key ? (key, v) : $0 }), path: n.path, file: n.file)
    }

    /// A node with every reference to call k of a layer renamed to that call's layer, node 0.
    static func renamed(_ v: JSONValue, _ rename: (String, Int) -> String) -> JSONValue {
        switch v {
        case .array(let items):   // Keras 2: [[name, node, tensor, kwargs], ...]; Keras 3: a list of args
            return .array(items.map { renamedTriple($0, rename) ?? renamed($0, rename) })
        case .object(let members):
            let isTensor = members.contains { $0.0 == "class_name" && $0.1 == .string("__keras_tensor__") }
            return .object(members.map { member -> (String, JSONValue) in
                let (k, m) = member
                if isTensor, k == "config", case .object(let c) = m {
                    return (k, .object(c.map { $0.0 == "keras_history" ? ($0.0, renamedTriple($0.1, rename) ?? $0.1) : $0 }))
                }
                return (k, isTensor ? m : renamed(m, rename))
            })
        default: return v
        }
    }

    /// `[name, k, t, ...]` -> `[name[k], 0, t, ...]`; nil for anything else.
    static func renamedTriple(_ v: JSONValue, _ rename: (String, Int) -> String) -> JSONValue? {
        guard case .array(let p) = v, p.count >= 3, case .string(let name) = p[0], case .number(let s) = p[1], let k = Int(s) else { return nil }
        return .array([.string(rename(name, k)), .number("0")] + p.dropFirst(2))
    }

    /// output_layers: `[[name, k, t], ...]` or one `[name, k, t]`.
    static func renamedEndpoints(_ v: JSONValue, _ rename: (String, Int) -> String) -> JSONValue {
        guard case .array(let items) = v else { return v }
        if case .string? = items.first { return renamedTriple(v, rename) ?? v }
        return .array(items.map { renamedTriple($0, rename) ?? $0 })
    }
}
