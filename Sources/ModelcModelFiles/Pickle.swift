// A restricted Python unpickler (protocols 0-5 as far as torch.save uses them; torch writes
// protocol 2): it builds plain values only — None, bools, ints, floats, strings, bytes, tuples,
// lists and dicts — and asks its caller (`PickleHooks`) for everything else. A GLOBAL names a
// callable only if the caller allows it; REDUCE and BINPERSID are resolved by the caller, which
// builds its own objects (torch tensors and storages, see TorchCheckpoint.swift). Nothing is
// ever imported or executed: any other global, a REDUCE of something the caller does not build,
// a BUILD on anything but a dict, and the object-creating opcodes (INST, OBJ, NEWOBJ, EXT*) are
// refused with an error naming the file, the offset of the opcode and the opcode or global.
//
// Resource limits are checked before allocating: every length is checked against the bytes that
// remain, the stack, the memo, the total container items and the nesting depth are bounded.
// Containers may be filled only while they are not yet inside another value (which is how
// pickle writes acyclic data), so a pickle cannot build cycles or grow a value after its depth
// was checked.

import Foundation
import ModelcData

public indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    /// An allowed global (`module.name`), e.g. a callable for REDUCE or a storage type.
    case global(String)
    /// An object the caller built (from REDUCE or BINPERSID).
    case object(AnyObject)

    /// Nesting depth (0 for scalars).
    public var depth: Int {
        switch self {
        case .tuple(let t): return t.depth
        case .list(let l): return l.depth
        case .dict(let d): return d.depth
        default: return 0
        }
    }

    /// A short name of the value's kind, for messages.
    public var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let g): return "global \(g)"
        case .object(let o): return "\(type(of: o))"
        }
    }
}

public final class PickleTuple {
    public let items: [PickleValue]
    let depth: Int
    init(_ items: [PickleValue], depth: Int) { self.items = items; self.depth = depth }
}

public final class PickleList {
    public internal(set) var items: [PickleValue] = []
    var depth = 1
    var frozen = false
}

/// An insertion-ordered dict (Python dicts and OrderedDicts). String keys replace earlier equal
/// keys, as in Python; other keys are kept in order.
public final class PickleDict {
    public internal(set) var keys: [PickleValue] = []
    public internal(set) var values: [PickleValue] = []
    var stringIndex: [String: Int] = [:]
    var depth = 1
    var frozen = false

    public subscript(key: String) -> PickleValue? { stringIndex[key].map { values[$0] } }

    func set(_ k: PickleValue, _ v: PickleValue) {
        if case .string(let s) = k {
            if let i = stringIndex[s] { values[i] = v; return }
            stringIndex[s] = keys.count
        }
        keys.append(k); values.append(v)
    }
}

public struct PickleLimits: Sendable {
    public var maxStack = 1 << 20
    public var maxMemo = 1 << 20
    public var maxDepth = 64
    public var maxItems = 1 << 24
    public init() {}
}

/// What the caller builds: the globals it allows, and how it resolves REDUCE and BINPERSID.
public struct PickleHooks {
    /// Allowed globals as "module.name" (Python 2's `__builtin__` is read as `builtins`).
    public var allowedGlobals: Set<String>
    /// REDUCE of an allowed global: returns the built value or throws (message only; the machine
    /// adds the file and offset).
    public var reduce: (_ global: String, _ args: [PickleValue]) throws -> PickleValue
    /// BINPERSID / PERSID: the persistent id (usually a tuple) to a value.
    public var persistentLoad: (_ pid: PickleValue) throws -> PickleValue

    public init(allowedGlobals: Set<String>, reduce: @escaping (String, [PickleValue]) throws -> PickleValue,
                persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
        self.allowedGlobals = allowedGlobals; self.reduce = reduce; self.persistentLoad = persistentLoad
    }
}

/// A refusal raised by a hook; the machine turns it into a DataError at the opcode's offset.
public struct PickleRefusal: Error {
    public let message: String
    public init(_ message: String) { self.message = message }
}

public enum Pickle {
    /// Runs the pickle in `b` to its STOP opcode and returns the value; `b` must end there.
    public static func load(_ b: [UInt8], file: String, hooks: PickleHooks, limits: PickleLimits = PickleLimits()) throws -> PickleValue {
        var m = PickleMachine(b: b, file: file, hooks: hooks, limits: limits)
        return try m.run()
    }
}

struct PickleMachine {
    let b: [UInt8]
    let file: String
    let hooks: PickleHooks
    let limits: PickleLimits
    var p = 0
    var op = 0                 // offset of the current opcode
    var opName = ""
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var items = 0

    init(b: [UInt8], file: String, hooks: PickleHooks, limits: PickleLimits) {
        self.b = b; self.file = file; self.hooks = hooks; self.limits = limits
    }

    func fail(_ message: String) -> DataError {
        DataError(file: file, offset: op, message: "pickle opcode \(opName): \(message)")
    }

    // MARK: reading arguments

    mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= b.count - p else {
            throw fail("needs \(n) bytes of argument but only \(b.count - p) remain (truncated pickle)")
        }
        defer { p += n }
        return b[p..<(p + n)]
    }

    mutating func uint(_ n: Int) throws -> Int {
        let s = try bytes(n)
        var v: UInt64 = 0
        for (i, x) in s.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        guard v <= UInt64(Int.max) else { throw fail("length \(v) is too large") }
        return Int(v)
    }

    mutating func line() throws -> String {
        guard let nl = b[p...].firstIndex(of: 0x0A) else { throw fail("expected a newline-terminated argument") }
        defer { p = nl + 1 }
        return String(decoding: b[p..<nl], as: UTF8.self)
    }

    mutating func utf8(_ n: Int) throws -> String {
        let s = try bytes(n)
        guard let str = String(bytes: s, encoding: .utf8) else { throw fail("string of \(n) bytes is not valid UTF-8") }
        return str
    }

    /// Little-endian two's complement integer of n bytes (n <= 8).
    mutating func signedInt(_ n: Int) throws -> Int {
        guard n <= 8 else { throw fail("integer of \(n) bytes does not fit in 64 bits") }
        let s = try bytes(n)
        if n == 0 { return 0 }
        var v: UInt64 = 0
        for (i, x) in s.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        if n < 8 && s.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }
        return Int(Int64(bitPattern: v))
    }

    // MARK: stack

    mutating func push(_ v: PickleValue) throws {
        guard stack.count < limits.maxStack else { throw fail("stack exceeds \(limits.maxStack) entries") }
        stack.append(v)
    }

    mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack is empty") }
        if let m = marks.last, stack.count < m { throw fail("pops past the MARK") }
        return v
    }

    func top() throws -> PickleValue {
        guard let v = stack.last else { throw fail("stack is empty") }
        if let m = marks.last, stack.count <= m { throw fail("expects a value above the MARK") }
        return v
    }

    mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK on the stack") }
        let out = Array(stack[m...])
        stack.removeSubrange(m...)
        return out
    }

    /// Marks containers placed inside another value as frozen and returns the new depth.
    mutating func place(_ vs: [PickleValue], into depth: Int) throws -> Int {
        items += vs.count
        guard items <= limits.maxItems else { throw fail("more than \(limits.maxItems) container items") }
        var d = depth
        for v in vs {
            switch v {
            case .list(let l): l.frozen = true
            case .dict(let x): x.frozen = true
            default: break
            }
            d = max(d, v.depth + 1)
        }
        guard d <= limits.maxDepth else { throw fail("values nest deeper than \(limits.maxDepth) levels") }
        return d
    }

    mutating func tuple(_ vs: [PickleValue]) throws -> PickleValue {
        .tuple(PickleTuple(vs, depth: try place(vs, into: 1)))
    }

    mutating func mutableList(_ v: PickleValue) throws -> PickleList {
        guard case .list(let l) = v else { throw fail("expects a list, found \(v.kindName)") }
        guard !l.frozen else { throw fail("modifies a list already placed in another value (recursive structures are not supported)") }
        return l
    }

    mutating func mutableDict(_ v: PickleValue) throws -> PickleDict {
        guard case .dict(let d) = v else { throw fail("expects a dict, found \(v.kindName)") }
        guard !d.frozen else { throw fail("modifies a dict already placed in another value (recursive structures are not supported)") }
        return d
    }

    mutating func setItems(_ kv: [PickleValue], into d: PickleDict) throws {
        guard kv.count % 2 == 0 else { throw fail("odd number of items (\(kv.count)) for key/value pairs") }
        d.depth = try place(kv, into: d.depth)
        try notInside(d.frozen)
        for i in stride(from: 0, to: kv.count, by: 2) { d.set(kv[i], kv[i + 1]) }
    }

    /// A container may not be put into itself.
    func notInside(_ frozen: Bool) throws {
        if frozen { throw fail("puts a container into itself (recursive structures are not supported)") }
    }

    mutating func memoize(_ index: Int) throws {
        guard index >= 0 else { throw fail("negative memo index \(index)") }
        if memo[index] == nil && memo.count >= limits.maxMemo { throw fail("memo exceeds \(limits.maxMemo) entries") }
        memo[index] = try top()
    }

    mutating func recall(_ index: Int) throws {
        guard let v = memo[index] else { throw fail("memo index \(index) was never stored") }
        try push(v)
    }

    // MARK: the machine

    mutating func global(_ module: String, _ name: String) throws {
        let mod = module == "__builtin__" ? "builtins" : module
        let g = "\(mod).\(name)"
        guard hooks.allowedGlobals.contains(g) else {
            throw fail("global \(g) is not allowed (the reader builds only tensors, containers and plain values, from \(hooks.allowedGlobals.count) known globals); refused, nothing was executed")
        }
        try push(.global(g))
    }

    func hook<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let r as PickleRefusal { throw fail(r.message) }
    }

    mutating func run() throws -> PickleValue {
        while p < b.count {
            op = p
            let code = b[p]
            p += 1
            opName = Self.names[code] ?? String(format: "0x%02x", code)
            if code == 0x2E {   // STOP
                let v = try pop()
                guard p == b.count else { throw fail("\(b.count - p) bytes follow STOP") }
                return v
            }
            try step(code)
        }
        op = p; opName = "(end)"
        throw fail("pickle ends without STOP (truncated)")
    }

    mutating func step(_ code: UInt8) throws {
        switch code {
        case 0x80: let v = try uint(1); guard v <= 5 else { throw fail("unsupported protocol \(v)") }   // PROTO
        case 0x95: _ = try uint(8)                                             // FRAME
        case 0x28: guard marks.count < limits.maxStack else { throw fail("too many MARKs") }; marks.append(stack.count)
        case 0x30: _ = try pop()                                               // POP
        case 0x31: _ = try popMark()                                           // POP_MARK
        case 0x32: try push(try top())                                         // DUP
        case 0x4E: try push(.none)
        case 0x88: try push(.bool(true))
        case 0x89: try push(.bool(false))
        case 0x4A: try push(.int(try signedInt(4)))                            // BININT
        case 0x4B: try push(.int(try uint(1)))                                 // BININT1
        case 0x4D: try push(.int(try uint(2)))                                 // BININT2
        case 0x8A: try push(.int(try signedInt(try uint(1))))                  // LONG1
        case 0x8B: try push(.int(try signedInt(try uint(4))))                  // LONG4
        case 0x49: try textInt()                                               // INT
        case 0x4C: try textLong()                                              // LONG
        case 0x46:                                                             // FLOAT
            let s = try line()
            guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else { throw fail("'\(s)' is not a float") }
            try push(.float(d))
        case 0x47:                                                             // BINFLOAT (big-endian)
            var v: UInt64 = 0
            for x in try bytes(8) { v = v << 8 | UInt64(x) }
            try push(.float(Double(bitPattern: v)))
        case 0x8C: try push(.string(try utf8(try uint(1))))                    // SHORT_BINUNICODE
        case 0x58: try push(.string(try utf8(try uint(4))))                    // BINUNICODE
        case 0x8D: try push(.string(try utf8(try uint(8))))                    // BINUNICODE8
        case 0x55: try push(.string(String(decoding: try bytes(try uint(1)), as: UTF8.self)))   // SHORT_BINSTRING
        case 0x54: try push(.string(String(decoding: try bytes(try uint(4)), as: UTF8.self)))   // BINSTRING
        case 0x43: try push(.bytes(Array(try bytes(try uint(1)))))             // SHORT_BINBYTES
        case 0x42: try push(.bytes(Array(try bytes(try uint(4)))))             // BINBYTES
        case 0x8E: try push(.bytes(Array(try bytes(try uint(8)))))             // BINBYTES8
        case 0x29: try push(try tuple([]))                                     // EMPTY_TUPLE
        case 0x74: try push(try tuple(try popMark()))                          // TUPLE
        case 0x85, 0x86, 0x87:                                                 // TUPLE1-3
            let n = Int(code - 0x84)
            guard stack.count - (marks.last ?? 0) >= n else { throw fail("needs \(n) values on the stack") }
            let vs = Array(stack.suffix(n)); stack.removeLast(n)
            try push(try tuple(vs))
        case 0x5D: try push(.list(PickleList()))                               // EMPTY_LIST
        case 0x6C:                                                             // LIST
            let vs = try popMark(); let l = PickleList()
            l.depth = try place(vs, into: 1); l.items = vs
            try push(.list(l))
        case 0x61:                                                             // APPEND
            let v = try pop(); let l = try mutableList(try top())
            l.depth = try place([v], into: l.depth); try notInside(l.frozen); l.items.append(v)
        case 0x65:                                                             // APPENDS
            let vs = try popMark(); let l = try mutableList(try top())
            l.depth = try place(vs, into: l.depth); try notInside(l.frozen); l.items += vs
        case 0x7D: try push(.dict(PickleDict()))                               // EMPTY_DICT
        case 0x64:                                                             // DICT
            let kv = try popMark(); let d = PickleDict()
            try setItems(kv, into: d)
            try push(.dict(d))
        case 0x73:                                                             // SETITEM
            let v = try pop(), k = try pop()
            try setItems([k, v], into: try mutableDict(try top()))
        case 0x75:                                                             // SETITEMS
            let kv = try popMark()
            try setItems(kv, into: try mutableDict(try top()))
        case 0x63:                                                             // GLOBAL
            let module = try line(), name = try line()
            try global(module, name)
        case 0x93:                                                             // STACK_GLOBAL
            let n = try pop(), m = try pop()
            guard case .string(let module) = m, case .string(let name) = n else { throw fail("expects two strings") }
            try global(module, name)
        case 0x52:                                                             // REDUCE
            let args = try pop(), f = try pop()
            guard case .global(let g) = f else { throw fail("calls a \(f.kindName), not an allowed callable; refused") }
            guard case .tuple(let t) = args else { throw fail("arguments of \(g) are a \(args.kindName), not a tuple") }
            _ = try place(t.items, into: 1)
            let h = hooks, v = try hook { try h.reduce(g, t.items) }
            try push(v)
        case 0x62: try build()                                                 // BUILD
        case 0x51:                                                             // BINPERSID
            let pid = try pop()
            _ = try place([pid], into: 1)
            let h = hooks, v = try hook { try h.persistentLoad(pid) }
            try push(v)
        case 0x50:                                                             // PERSID
            let pid = PickleValue.string(try line())
            let h = hooks, v = try hook { try h.persistentLoad(pid) }
            try push(v)
        case 0x70: guard let i = Int(try line()) else { throw fail("bad memo index") }; try memoize(i)   // PUT
        case 0x71: try memoize(try uint(1))                                    // BINPUT
        case 0x72: try memoize(try uint(4))                                    // LONG_BINPUT
        case 0x94: try memoize(memo.count)                                     // MEMOIZE
        case 0x67: guard let i = Int(try line()) else { throw fail("bad memo index") }; try recall(i)    // GET
        case 0x68: try recall(try uint(1))                                     // BINGET
        case 0x6A: try recall(try uint(4))                                     // LONG_BINGET
        default:
            throw fail("is not supported by modelc's restricted unpickler (it builds only tensors, dicts, lists, tuples and plain values); refused, nothing was executed")
        }
    }

    mutating func textInt() throws {
        let s = try line()
        if s == "00" { try push(.bool(false)); return }
        if s == "01" { try push(.bool(true)); return }
        guard let v = Int(s) else { throw fail("'\(s.prefix(40))' is not a 64-bit integer") }
        try push(.int(v))
    }

    mutating func textLong() throws {
        var s = try line()
        if s.hasSuffix("L") { s.removeLast() }
        guard let v = Int(s) else { throw fail("'\(s.prefix(40))' is not a 64-bit integer") }
        try push(.int(v))
    }

    /// BUILD: only a dict's attributes (an OrderedDict's `_metadata`), which are dropped.
    mutating func build() throws {
        let state = try pop()
        let obj = try top()
        guard case .dict(let d) = obj else { throw fail("sets the state of a \(obj.kindName); only a dict's attributes are accepted") }
        guard !d.frozen else { throw fail("modifies a dict already placed in another value") }
        guard case .dict(let s) = state, s.keys.allSatisfy({ if case .string = $0 { return true }; return false }) else {
            throw fail("state of a dict is a \(state.kindName), expected a dict of attribute names")
        }
        _ = try place([state], into: 1)
    }

    static let names: [UInt8: String] = [
        0x80: "PROTO", 0x95: "FRAME", 0x2E: "STOP", 0x28: "MARK", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP",
        0x4E: "NONE", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x4A: "BININT", 0x4B: "BININT1", 0x4D: "BININT2",
        0x8A: "LONG1", 0x8B: "LONG4", 0x49: "INT", 0x4C: "LONG", 0x46: "FLOAT", 0x47: "BINFLOAT",
        0x8C: "SHORT_BINUNICODE", 0x58: "BINUNICODE", 0x8D: "BINUNICODE8", 0x55: "SHORT_BINSTRING",
        0x54: "BINSTRING", 0x43: "SHORT_BINBYTES", 0x42: "BINBYTES", 0x8E: "BINBYTES8", 0x29: "EMPTY_TUPLE",
        0x74: "TUPLE", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x5D: "EMPTY_LIST", 0x6C: "LIST",
        0x61: "APPEND", 0x65: "APPENDS", 0x7D: "EMPTY_DICT", 0x64: "DICT", 0x73: "SETITEM", 0x75: "SETITEMS",
        0x63: "GLOBAL", 0x93: "STACK_GLOBAL", 0x52: "REDUCE", 0x62: "BUILD", 0x51: "BINPERSID", 0x50: "PERSID",
        0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x94: "MEMOIZE", 0x67: "GET", 0x68: "BINGET",
        0x6A: "LONG_BINGET", 0x69: "INST", 0x6F: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1",
        0x83: "EXT2", 0x84: "EXT4", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x53: "STRING",
        0x56: "UNICODE", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]
}
