// PyTorch checkpoints as `torch.save` writes them since PyTorch 1.6: a zip archive holding
// `<name>/data.pkl` (a pickle, protocol 2), `<name>/data/<key>` (one raw little-endian storage
// per key), `<name>/byteorder` ("little"), `<name>/version` and a few bookkeeping entries.
//
// The pickle runs on the restricted machine of Pickle.swift with only these globals:
// `collections.OrderedDict` (empty, then filled), `torch._utils._rebuild_tensor(_v2)`,
// `_rebuild_parameter(_with_state)`, `torch._tensor._rebuild_from_type_v2` for plain tensors and
// parameters, the storage types (`torch.FloatStorage`, ...: named in persistent ids only, never
// called) and `builtins.set`. BINPERSID ('storage', type, key, location, numel) names an archive
// entry whose size must be numel x the element size; a tensor is a view (offset, size, stride)
// of a storage, checked to lie inside it and gathered (any strides) into a C-order array.
//
// The result is the file's state_dict: the top-level dict of tensors, or the one a checkpoint
// dict holds under `state_dict`, `model_state_dict` or `model` (with a note). Half and bfloat16
// tensors are widened to float32. Storages are extracted only for the tensors returned, and the
// total output is bounded before allocating.

import ModelcData

public struct TorchStorageRef {
    public let key: String
    public let dtype: TensorDType
    public let count: Int
    let entry: ZipEntry
}

final class TorchStorage {
    let ref: TorchStorageRef
    var data: [UInt8]?          // extracted on first use
    init(_ ref: TorchStorageRef) { self.ref = ref }
}

final class TorchTensor {
    let storage: TorchStorage
    let offset: Int
    let size: [Int]
    let stride: [Int]
    init(storage: TorchStorage, offset: Int, size: [Int], stride: [Int]) {
        self.storage = storage; self.offset = offset; self.size = size; self.stride = stride
    }
}

public enum TorchCheckpoint {
    static let storageTypes: [String: TensorDType] = [
        "torch.FloatStorage": .f32, "torch.DoubleStorage": .f64, "torch.HalfStorage": .f16,
        "torch.BFloat16Storage": .bf16, "torch.LongStorage": .i64, "torch.IntStorage": .i32,
        "torch.ShortStorage": .i16, "torch.CharStorage": .i8, "torch.ByteStorage": .u8, "torch.BoolStorage": .bool,
    ]
    static let tensorTypes: Set<String> = ["torch.Tensor", "torch._tensor.Tensor", "torch.nn.parameter.Parameter"]
    static let builders: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2", "builtins.set",
    ]
    /// Keys under which a checkpoint dict may hold the model's state_dict.
    public static let nestedKeys = ["state_dict", "model_state_dict", "model"]

    public static func read(path: String) throws -> WeightsContents {
        try decode(FileIO.read(path: path), file: path)
    }

    public static func decode(_ b: [UInt8], file: String, maxOutputBytes: Int = DataLimits.maxDecompressedBytes) throws -> WeightsContents {
        if b.count >= 4 && b[0] == 0x80 && b[1] == 0x02 && b[2] == 0x8A && b[3] == 0x0A {
            throw DataError(file: file, offset: 0, message: "legacy torch.save format (before PyTorch 1.6) is not supported; re-save it with torch.save(state_dict, PATH) from PyTorch 1.6 or newer")
        }
        guard b.count >= 4 && b[0] == 0x50 && b[1] == 0x4B else {
            throw DataError(file: file, offset: 0, message: "not a PyTorch checkpoint: expected a zip archive (PK), found \(b.prefix(4).map { hex8($0) }.joined(separator: " "))")
        }
        let entries = try Zip.entries(b, file: file)
        let prefix = try archivePrefix(entries, file: file)
        try checkByteOrder(entries, prefix: prefix, bytes: b, file: file)
        var storageEntries: [String: ZipEntry] = [:]
        for e in entries where e.name.hasPrefix(prefix + "data/") { storageEntries[String(e.name.dropFirst(prefix.count + 5))] = e }
        guard let pklEntry = entries.first(where: { $0.name == prefix + "data.pkl" }) else {
            throw DataError(file: file, message: "archive has no \(prefix)data.pkl")
        }
        let pkl = try Zip.extract(pklEntry, from: b, file: file)
        let pklFile = "\(file)(\(pklEntry.name))"
        let (dict, note) = try stateDict(try unpickle(pkl, file: pklFile, prefix: prefix) { key, _ in storageEntries[key] }, file: pklFile)
        var budget = maxOutputBytes
        var arrays: [(String, NDArray)] = []
        for (key, t) in try tensors(dict, file: pklFile) {
            arrays.append((key, try materialize(t, key: key, zip: b, file: file, budget: &budget)))
        }
        return WeightsContents(arrays: arrays, ordered: true, notes: note.map { [$0] } ?? [])
    }

    /// Runs a data.pkl on its own, taking every storage as declared (no data), and returns the
    /// state_dict's keys and shapes after checking each view against its storage. For the
    /// fuzzing harness and tests.
    public static func inspectPickle(_ pkl: [UInt8], file: String) throws -> [(String, [Int])] {
        let top = try unpickle(pkl, file: file, prefix: "") { key, bytes in
            ZipEntry(name: key, method: 0, crc32: 0, compressedSize: bytes, uncompressedSize: bytes, localHeaderOffset: 0)
        }
        let (dict, _) = try stateDict(top, file: file)
        return try tensors(dict, file: file).map { key, t in _ = try checkView(t, key: key, file: file); return (key, t.size) }
    }

    /// The pickle's top value; `entry(key, bytes)` finds a storage's archive entry.
    static func unpickle(_ pkl: [UInt8], file: String, prefix: String, entry: @escaping (String, Int) -> ZipEntry?) throws -> PickleValue {
        var storages: [String: TorchStorage] = [:]
        let hooks = PickleHooks(
            allowedGlobals: builders.union(storageTypes.keys).union(tensorTypes),
            reduce: { g, args in try reduce(g, args) },
            persistentLoad: { pid in try storage(pid, entry: entry, cache: &storages, prefix: prefix) })
        return try Pickle.load(pkl, file: file, hooks: hooks)
    }

    /// The state_dict's entries, each a tensor.
    static func tensors(_ dict: PickleDict, file: String) throws -> [(String, TorchTensor)] {
        try zip(dict.keys, dict.values).map { k, v in
            guard case .string(let key) = k, case .object(let o) = v, let t = o as? TorchTensor else {
                throw DataError(file: file, message: "state_dict entry \(describe(k)) is a \(v.kindName), not a tensor")
            }
            return (key, t)
        }
    }

    /// The archive's top folder ("archive/", or the saved file's stem), from its one data.pkl.
    static func archivePrefix(_ entries: [ZipEntry], file: String) throws -> String {
        if entries.contains(where: { $0.name.hasSuffix("/constants.pkl") || $0.name.contains("/code/") }) {
            throw DataError(file: file, message: "this is a TorchScript archive (torch.jit.save); modelc reads state_dicts: save one with torch.save(model.state_dict(), PATH)")
        }
        let pkls = entries.filter { $0.name.hasSuffix("/data.pkl") && !$0.name.dropLast(9).contains("/") }
        guard pkls.count == 1 else {
            throw DataError(file: file, message: "expected one '<name>/data.pkl' entry in the archive (a torch.save file), found \(pkls.count)")
        }
        return String(pkls[0].name.dropLast(8))
    }

    static func checkByteOrder(_ entries: [ZipEntry], prefix: String, bytes: [UInt8], file: String) throws {
        guard let e = entries.first(where: { $0.name == prefix + "byteorder" }) else { return }   // before PyTorch 1.10: little
        let order = String(decoding: try Zip.extract(e, from: bytes, file: file, maxOutput: 64), as: UTF8.self)
        guard order == "little" else {
            throw DataError(file: file, offset: e.localHeaderOffset, message: "storages are '\(order.prefix(20))'-endian; only little-endian checkpoints are supported")
        }
    }

    // MARK: pickle hooks

    static func describe(_ v: PickleValue) -> String {
        if case .string(let s) = v { return "'\(s)'" }
        return "(a \(v.kindName) key)"
    }

    static func storage(_ pid: PickleValue, entry: (String, Int) -> ZipEntry?, cache: inout [String: TorchStorage], prefix: String) throws -> PickleValue {
        guard case .tuple(let t) = pid, t.items.count == 5, case .string("storage") = t.items[0],
              case .global(let type) = t.items[1], case .string(let key) = t.items[2], case .int(let count) = t.items[4] else {
            throw PickleRefusal("persistent id is not ('storage', type, key, location, numel)")
        }
        guard let dtype = storageTypes[type] else { throw PickleRefusal("\(type) is not a storage type") }
        if let s = cache[key] {
            guard s.ref.dtype == dtype else { throw PickleRefusal("storage '\(key)' is read both as \(s.ref.dtype) and \(dtype)") }
            return .object(s)
        }
        let (bytes, o) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard count >= 0, !o else { throw PickleRefusal("storage '\(key)' declares \(count) elements") }
        guard let e = entry(key, bytes) else { throw PickleRefusal("storage '\(key)' has no entry \(prefix)data/\(key) in the archive") }
        guard bytes == e.uncompressedSize else {
            throw PickleRefusal("storage '\(key)' declares \(count) \(dtype) elements but its entry holds \(e.uncompressedSize) bytes")
        }
        let s = TorchStorage(TorchStorageRef(key: key, dtype: dtype, count: count, entry: e))
        cache[key] = s
        return .object(s)
    }

    static func reduce(_ g: String, _ args: [PickleValue]) throws -> PickleValue {
        switch g {
        case "collections.OrderedDict":
            guard args.isEmpty else { throw PickleRefusal("collections.OrderedDict is built only empty (found \(args.count) arguments)") }
            return .dict(PickleDict())
        case "builtins.set":
            guard args.count == 1, case .list = args[0] else { throw PickleRefusal("builtins.set expects one list") }
            return args[0]
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            return .object(try tensor(args, g))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard args.count >= 3, case .object(let o) = args[0], let t = o as? TorchTensor else {
                throw PickleRefusal("\(g) expects (tensor, requires_grad, hooks, ...)")
            }
            try noHooks(args[2], g)
            return .object(t)
        case "torch._tensor._rebuild_from_type_v2":
            guard args.count == 4, case .global(let f) = args[0], case .global(let type) = args[1], case .tuple(let inner) = args[2],
                  f == "torch._utils._rebuild_tensor_v2", tensorTypes.contains(type) else {
                throw PickleRefusal("\(g) is accepted only for plain tensors (torch._utils._rebuild_tensor_v2 of torch.Tensor)")
            }
            return .object(try tensor(inner.items, f))
        default:
            throw PickleRefusal("REDUCE of \(g) is not allowed (\(g) is not a callable modelc builds); refused, nothing was executed")
        }
    }

    static func noHooks(_ v: PickleValue, _ g: String) throws {
        if case .dict(let d) = v, d.keys.isEmpty { return }
        if case .none = v { return }
        throw PickleRefusal("\(g): backward hooks are not supported (found a \(v.kindName) with entries)")
    }

    /// (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
    static func tensor(_ args: [PickleValue], _ g: String) throws -> TorchTensor {
        guard args.count >= 4, args.count <= 7, case .object(let o) = args[0], let s = o as? TorchStorage,
              case .int(let offset) = args[1], case .tuple(let size) = args[2], case .tuple(let stride) = args[3] else {
            throw PickleRefusal("\(g) expects (storage, offset, size, stride, ...)")
        }
        if args.count >= 6 { try noHooks(args[5], g) }
        let sz = try ints(size.items, "size", g), st = try ints(stride.items, "stride", g)
        guard sz.count == st.count, offset >= 0, sz.allSatisfy({ $0 >= 0 }), st.allSatisfy({ $0 >= 0 }) else {
            throw PickleRefusal("\(g): size \(sz), stride \(st) and offset \(offset) do not describe a tensor view")
        }
        return TorchTensor(storage: s, offset: offset, size: sz, stride: st)
    }

    static func ints(_ vs: [PickleValue], _ what: String, _ g: String) throws -> [Int] {
        try vs.map {
            guard case .int(let v) = $0 else { throw PickleRefusal("\(g): \(what) holds a \($0.kindName), expected ints") }
            return v
        }
    }

    // MARK: the state_dict and its tensors

    static func stateDict(_ top: PickleValue, file: String) throws -> (PickleDict, String?) {
        guard case .dict(let d) = top else {
            throw DataError(file: file, message: "the pickle holds a \(top.kindName), not a state_dict (a dict of tensors)")
        }
        for k in nestedKeys {
            guard case .dict(let inner)? = d[k] else { continue }
            let others = d.keys.compactMap { if case .string(let s) = $0, s != k { return s }; return nil }
            return (inner, "\(file): reading the state_dict nested under the checkpoint's key '\(k)'"
                + (others.isEmpty ? "" : " (ignoring its other entries: \(others.prefix(8).joined(separator: ", "))\(others.count > 8 ? ", ..." : ""))"))
        }
        return (d, nil)
    }

    /// Checks that the view lies inside its storage; returns its element count.
    static func checkView(_ t: TorchTensor, key: String, file: String) throws -> Int {
        let s = t.storage.ref
        let what = "tensor '\(key)' (size \(t.size), stride \(t.stride), offset \(t.offset))"
        guard let n = checkedProduct(t.size, limit: DataLimits.maxElements) else {
            throw DataError(file: file, message: "\(what) has more than \(DataLimits.maxElements) elements")
        }
        guard n <= s.count || n == 0 else {
            throw DataError(file: file, message: "\(what) has \(n) elements but its storage '\(s.key)' holds only \(s.count)")
        }
        var last = t.offset
        for (d, st) in zip(t.size, t.stride) where n > 0 {
            let (m, o1) = (d - 1).multipliedReportingOverflow(by: st)
            let (sum, o2) = last.addingReportingOverflow(m)
            guard !o1, !o2 else { throw DataError(file: file, message: "\(what) overflows") }
            last = sum
        }
        guard n == 0 || last < s.count else {
            throw DataError(file: file, message: "\(what) reaches element \(last) of storage '\(s.key)', which holds only \(s.count) elements (storage shorter than the tensor)")
        }
        return n
    }

    static func materialize(_ t: TorchTensor, key: String, zip b: [UInt8], file: String, budget: inout Int) throws -> NDArray {
        let s = t.storage.ref
        let what = "tensor '\(key)'"
        let n = try checkView(t, key: key, file: file)
        if n == 0 { return NDArray(shape: t.size, dtype: s.dtype.descr, data: []) }
        // Output bytes, plus the storage's bytes the first time it is extracted.
        let outBytes = n * (s.dtype == .f16 || s.dtype == .bf16 ? 4 : s.dtype.itemSize)
            + (t.storage.data == nil ? s.entry.uncompressedSize : 0)
        guard outBytes <= budget else {
            throw DataError(file: file, message: "\(what): reading it would exceed the limit on a state_dict's bytes (\(budget) bytes left, \(outBytes) needed)")
        }
        budget -= outBytes
        let raw = try t.storage.data ?? Zip.extract(s.entry, from: b, file: file, maxOutput: s.entry.uncompressedSize)
        t.storage.data = raw
        return NDArray(shape: t.size, dtype: s.dtype.descr, data: s.dtype.ndarrayData(gather(raw, t, n: n, item: s.dtype.itemSize)))
    }

    /// The view's elements in C order (bounds checked by the caller).
    static func gather(_ raw: [UInt8], _ t: TorchTensor, n: Int, item: Int) -> [UInt8] {
        var contiguous = true, expect = 1
        for (d, st) in zip(t.size, t.stride).reversed() where d != 1 {
            if st != expect { contiguous = false }
            expect *= d
        }
        if contiguous { return Array(raw[(t.offset * item)..<((t.offset + n) * item)]) }
        var out = [UInt8](repeating: 0, count: n * item)
        let r = t.size.count
        var idx = [Int](repeating: 0, count: r)
        var src = t.offset
        for j in 0..<n {
            for k in 0..<item { out[j * item + k] = raw[src * item + k] }
            var a = r - 1
            while a >= 0 {
                idx[a] += 1; src += t.stride[a]
                if idx[a] < t.size[a] { break }
                src -= t.stride[a] * idx[a]; idx[a] = 0; a -= 1
            }
        }
        return out
    }
}
