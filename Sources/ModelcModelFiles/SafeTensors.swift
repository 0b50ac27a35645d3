// safetensors files (huggingface/safetensors): an 8-byte little-endian header length N, N bytes
// of JSON ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// optionally "__metadata__": {string: string}}), then the data buffer the offsets index.
//
// Reading checks the header length against the file and a 100 MB bound (the format's own limit)
// before parsing; each tensor's byte range against its dtype and shape; and that the ranges
// neither overlap nor leave bytes of the buffer unused (a file read in part is an error). F16 and
// BF16 are widened to float32. The header is a JSON object, so the file keeps no tensor order
// that means anything (the Python writer sorts tensors by dtype and name): the arrays come back
// in data order with `ordered == false`. Writing keeps the given order and writes atomically.

import Foundation
import ModelcData

public enum SafeTensors {
    public static let maxHeaderBytes = 100 << 20
    static let dtypeNames: [String: TensorDType] = [
        "F64": .f64, "F32": .f32, "F16": .f16, "BF16": .bf16, "I64": .i64, "I32": .i32, "I16": .i16,
        "I8": .i8, "U8": .u8, "BOOL": .bool, "U16": .u16, "U32": .u32, "U64": .u64,
    ]

    public static func read(path: String) throws -> WeightsContents {
        try decode(FileIO.read(path: path), file: path)
    }

    struct Entry { let name: String; let dtype: TensorDType; let shape: [Int]; let begin: Int; let end: Int }

    public static func decode(_ b: [UInt8], file: String) throws -> WeightsContents {
        guard b.count >= 8 else {
            throw DataError(file: file, offset: 0, message: "not a safetensors file: \(b.count) bytes, expected an 8-byte header length first")
        }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(b[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maxHeaderBytes), Int(n) <= b.count - 8 else {
            throw DataError(file: file, offset: 0, message: "safetensors header length \(n) exceeds "
                + (n > UInt64(maxHeaderBytes) ? "the limit of \(maxHeaderBytes) bytes" : "the \(b.count - 8) bytes that follow"))
        }
        let headerEnd = 8 + Int(n)
        guard let first = b[8..<headerEnd].first(where: { $0 != 0x20 }), first == 0x7B else {
            throw DataError(file: file, offset: 8, message: "safetensors header does not start with '{'")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(b[8..<headerEnd])) } catch {
            throw DataError(file: file, offset: 8, message: "safetensors header is not valid JSON: \(error.localizedDescription)")
        }
        guard let header = json as? [String: Any] else {
            throw DataError(file: file, offset: 8, message: "safetensors header is not a JSON object")
        }
        var entries: [Entry] = []
        for (name, value) in header where name != "__metadata__" {
            entries.append(try entry(name, value, file: file))
        }
        if let meta = header["__metadata__"], !(meta is [String: String]) {
            throw DataError(file: file, offset: 8, message: "safetensors __metadata__ is not an object of strings")
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        let dataSize = b.count - headerEnd
        try checkCoverage(entries, dataSize: dataSize, base: headerEnd, file: file)
        let arrays = entries.map { e in
            (e.name, NDArray(shape: e.shape, dtype: e.dtype.descr, data: e.dtype.ndarrayData(Array(b[(headerEnd + e.begin)..<(headerEnd + e.end)]))))
        }
        return WeightsContents(arrays: arrays, ordered: false, notes: [])
    }

    static func entry(_ name: String, _ value: Any, file: String) throws -> Entry {
        func bad(_ m: String) -> DataError { DataError(file: file, offset: 8, message: "safetensors tensor '\(name)': \(m)") }
        guard let d = value as? [String: Any] else { throw bad("expected an object with dtype, shape and data_offsets") }
        guard let dn = d["dtype"] as? String, let dtype = dtypeNames[dn] else {
            throw bad("dtype \(d["dtype"].map { "\($0)" } ?? "missing") is not one of \(dtypeNames.keys.sorted().joined(separator: " "))")
        }
        guard let sv = d["shape"] as? [Any], let shape = ints(sv), shape.allSatisfy({ $0 >= 0 }) else {
            throw bad("shape is not a list of non-negative integers")
        }
        guard let ov = d["data_offsets"] as? [Any], let offs = ints(ov), offs.count == 2, offs[0] >= 0, offs[0] <= offs[1] else {
            throw bad("data_offsets is not [begin, end] with 0 <= begin <= end")
        }
        guard let count = checkedProduct(shape, limit: DataLimits.maxElements) else {
            throw bad("shape \(shape) exceeds \(DataLimits.maxElements) elements")
        }
        guard offs[1] - offs[0] == count * dtype.itemSize else {
            throw bad("shape \(shape) of \(dn) needs \(count * dtype.itemSize) bytes but data_offsets \(offs) span \(offs[1] - offs[0])")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: offs[0], end: offs[1])
    }

    static func ints(_ vs: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in vs {
            guard let n = v as? NSNumber, let i = Int(exactly: n.doubleValue), Double(n.int64Value) == n.doubleValue else { return nil }
            out.append(i)
        }
        return out
    }

    /// Sorted byte ranges must tile the data buffer exactly.
    static func checkCoverage(_ entries: [Entry], dataSize: Int, base: Int, file: String) throws {
        var pos = 0
        var prev = ""
        for e in entries {
            if e.begin < pos {
                throw DataError(file: file, offset: base + e.begin, message: "safetensors tensors '\(prev)' and '\(e.name)' overlap (byte \(e.begin) of the data is in both)")
            }
            if e.begin > pos {
                throw DataError(file: file, offset: base + pos, message: "safetensors data bytes \(pos)..<\(e.begin) belong to no tensor")
            }
            if e.end > dataSize {
                throw DataError(file: file, offset: base + e.begin, message: "safetensors tensor '\(e.name)' data_offsets [\(e.begin), \(e.end)] run past the \(dataSize) data bytes")
            }
            pos = e.end
            prev = e.name
        }
        if pos != dataSize {
            throw DataError(file: file, offset: base + pos, message: "safetensors data has \(dataSize - pos) bytes after the last tensor")
        }
    }

    /// The arrays in the given order, F32/F64/I64/... by their dtype.
    public static func encode(_ arrays: [(String, NDArray)]) throws -> [UInt8] {
        var header = "{"
        var data: [UInt8] = []
        var seen = Set<String>()
        for (i, (name, a)) in arrays.enumerated() {
            guard let dt = TensorDType.of(descr: a.dtype), let n = checkedProduct(a.shape, limit: DataLimits.maxElements),
                  n * dt.itemSize == a.data.count else {
                throw DataError(file: name, message: "cannot write array '\(name)': dtype '\(a.dtype)' shape \(a.shape) does not match \(a.data.count) data bytes")
            }
            guard name != "__metadata__", seen.insert(name).inserted else { throw DataError(file: name, message: "duplicate or reserved tensor name '\(name)'") }
            let dn = dtypeNames.first { $0.value == dt }!.key
            header += (i > 0 ? "," : "") + "\(JSONText.quoted(name)):{\"dtype\":\"\(dn)\",\"shape\":[\(a.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(data.count),\(data.count + a.data.count)]}"
            data += a.data
        }
        header += "}"
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out: [UInt8] = []
        appendLE32(&out, UInt32(truncatingIfNeeded: h.count)); appendLE32(&out, UInt32(truncatingIfNeeded: h.count >> 32))
        return out + h + data
    }

    public static func write(_ arrays: [(String, NDArray)], to path: String) throws {
        do {
            try AtomicFile.write(encode(arrays), to: path)
        } catch let e as DataError where e.file != path {
            throw DataError(file: path, message: e.description)
        }
    }
}
