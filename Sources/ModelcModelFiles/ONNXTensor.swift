// ONNX TensorProto: an initializer or a Constant's value. Values stay as stored until asked
// for: `floats()` (FLOAT, DOUBLE, FLOAT16) and `ints()` (INT64, INT32) check the dims against
// DataLimits.maxElements and against the number of stored values (typed fields or raw_data,
// little-endian) before converting anything. A tensor stored outside the file (data_location
// EXTERNAL) keeps its location until ONNXModel.loadExternalData reads it (ONNXExternalData.swift).

import ModelcData

public struct ONNXTensor: Sendable {
    public enum DataType: Int, Sendable {
        case float = 1, int32 = 6, int64 = 7, float16 = 10, double = 11
    }
    public var name = ""
    public var dims: [Int] = []
    public var dataType = 0
    public var file = ""
    /// Byte offset of the TensorProto in the file.
    public var offset = 0
    var floatData: [Float] = []
    var doubleData: [Double] = []
    var intData: [Int64] = []   // int32_data (also FLOAT16 bit patterns) and int64_data
    var raw: ArraySlice<UInt8>?
    /// Where the bytes are when the file stores them outside (data_location EXTERNAL) and they
    /// are not read yet (ONNXExternalData.swift).
    public var external: External?
    /// Every value, for a ConstantOfShape output (ONNXConstantFolding.filled; dims at most 2^24 values).
    var splat: Double?

    public var typeName: String {
        let names = [1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64", 8: "STRING",
                     9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 16: "BFLOAT16"]
        return names[dataType] ?? "type \(dataType)"
    }

    static func decode(_ reader: ProtoReader) throws -> ONNXTensor {
        var r = reader
        var t = ONNXTensor()
        t.offset = r.pos
        t.file = r.file
        var dims: [Int64] = []
        var entries: [(String, String)] = []
        var isExternal = false
        while let (n, w) = try r.field() {
            switch (n, w) {
            case (1, _): try r.int64s(w, into: &dims)
            case (2, .varint): t.dataType = Int(truncatingIfNeeded: try r.int64())
            case (3, .lengthDelimited): throw r.error("expected a whole tensor, found a segment (not supported)")
            case (4, _): try r.floats(w, into: &t.floatData)
            case (5, _), (7, _): try r.int64s(w, into: &t.intData)
            case (8, .lengthDelimited): t.name = try r.string()
            case (9, .lengthDelimited): t.raw = try r.bytesField()
            case (10, _): try r.doubles(w, into: &t.doubleData)
            case (13, .lengthDelimited):
                var e = try r.message()   // StringStringEntryProto: key = 1, value = 2
                var key = "", value = ""
                while let (n2, w2) = try e.field() {
                    switch (n2, w2) {
                    case (1, .lengthDelimited): key = try e.string()
                    case (2, .lengthDelimited): value = try e.string()
                    default: try e.skip(w2)
                    }
                }
                entries.append((key, value))
            case (14, .varint):
                let loc = try r.int64()
                guard loc == 0 || loc == 1 else { throw r.error("expected data_location DEFAULT (0) or EXTERNAL (1), found \(loc)") }
                isExternal = loc == 1
            default: try r.skip(w)
            }
        }
        for d in dims where d < 0 || d > Int64(DataLimits.maxElements) {
            throw DataError(file: t.file, offset: t.offset, message: "tensor '\(t.name)': expected dims of 0...\(DataLimits.maxElements), found \(d)")
        }
        t.dims = dims.map { Int($0) }
        if isExternal { t.external = try external(entries, t) }
        return t
    }

    /// The location, offset and length keys of an EXTERNAL tensor.
    static func external(_ entries: [(String, String)], _ t: ONNXTensor) throws -> External {
        func err(_ m: String) -> DataError { DataError(file: t.file, offset: t.offset, message: "tensor '\(t.name)': \(m)") }
        func number(_ key: String) throws -> Int? {
            guard let v = entries.last(where: { $0.0 == key })?.1 else { return nil }
            guard let n = Int(v), n >= 0, n <= 1 << 40 else { throw err("expected the external data \(key) as a number of bytes, found '\(v)'") }
            return n
        }
        guard let location = entries.last(where: { $0.0 == "location" })?.1 else {
            throw err("expected a 'location' key for its external data, found keys \(entries.map(\.0))")
        }
        guard t.raw == nil else { throw err("expected its data either in raw_data or in an external file, found both") }
        return External(location: location, offset: try number("offset") ?? 0, length: try number("length"))
    }

    /// Refuses to convert a tensor whose external data was not read.
    func checkLoaded() throws {
        guard let e = external else { return }
        throw DataError(file: file, offset: offset, message: "tensor '\(name)': its data is in the external file '\(e.location)', which was not read (give the model by its path, with the data file beside it)")
    }

    /// Number of elements the dims declare, checked against DataLimits.maxElements.
    public func elementCount() throws -> Int {
        guard let n = checkedProduct(dims, limit: DataLimits.maxElements) else {
            throw DataError(file: file, offset: offset, message: "tensor '\(name)': expected at most \(DataLimits.maxElements) elements, found dims \(dims)")
        }
        return n
    }

    public func floats() throws -> [Float] {
        try checkLoaded()
        let n = try elementCount()
        if let splat { return Array(repeating: Float(splat), count: n) }
        switch DataType(rawValue: dataType) {
        case .float:
            if let raw { return try littleEndian(raw, n, dtype: "<f4").floats() }
            try checkCount(floatData.count, n, field: "float_data")
            return floatData
        case .double:
            if let raw { return try littleEndian(raw, n, dtype: "<f8").floats() }
            try checkCount(doubleData.count, n, field: "double_data")
            return doubleData.map { Float($0) }
        case .float16:
            if let raw { return try fromRaw(raw, n, size: 2) { Self.half(UInt16(truncatingIfNeeded: $0)) } }
            try checkCount(intData.count, n, field: "int32_data")
            return intData.map { Self.half(UInt16(truncatingIfNeeded: $0)) }
        default:
            throw DataError(file: file, offset: offset, message: "tensor '\(name)': expected FLOAT, DOUBLE or FLOAT16 values, found \(typeName)")
        }
    }

    public func ints() throws -> [Int] {
        try checkLoaded()
        let n = try elementCount()
        if let splat, dataType == 6 || dataType == 7 { return Array(repeating: Int(splat), count: n) }
        switch DataType(rawValue: dataType) {
        case .int64:
            if let raw { return try fromRaw(raw, n, size: 8) { Int(Int64(bitPattern: $0)) } }
        case .int32:
            if let raw { return try fromRaw(raw, n, size: 4) { Int(Int32(bitPattern: UInt32(truncatingIfNeeded: $0))) } }
        default:
            throw DataError(file: file, offset: offset, message: "tensor '\(name)': expected INT64 or INT32 values, found \(typeName)")
        }
        try checkCount(intData.count, n, field: dataType == 7 ? "int64_data" : "int32_data")
        return intData.map { Int(truncatingIfNeeded: $0) }
    }

    private func checkCount(_ have: Int, _ n: Int, field: String) throws {
        guard have == n else {
            throw DataError(file: file, offset: offset, message: "tensor '\(name)': dims \(dims) need \(n) values, found \(have) in \(field)")
        }
    }

    /// raw_data as an array of NumPy type `dtype` (converted by ModelcData's optimized code: the
    /// weights' bulk; this module is built without optimization, BuildDriver.swift).
    private func littleEndian(_ raw: ArraySlice<UInt8>, _ n: Int, dtype: String) throws -> NDArray {
        try checkRaw(raw, n, size: NDArray.itemSize(dtype) ?? 0)
        return NDArray(shape: [n], dtype: dtype, data: Array(raw))
    }

    private func checkRaw(_ raw: ArraySlice<UInt8>, _ n: Int, size: Int) throws {
        guard raw.count == n * size else {
            throw DataError(file: file, offset: offset, message: "tensor '\(name)': dims \(dims) need \(n * size) bytes of raw_data, found \(raw.count)")
        }
    }

    /// Little-endian elements of `size` bytes, each widened to UInt64 and converted.
    private func fromRaw<T>(_ raw: ArraySlice<UInt8>, _ n: Int, size: Int, _ convert: (UInt64) -> T) throws -> [T] {
        try checkRaw(raw, n, size: size)
        var out: [T] = []
        out.reserveCapacity(n)
        var i = raw.startIndex
        for _ in 0..<n {
            var v: UInt64 = 0
            for k in 0..<size { v |= UInt64(raw[i + k]) << (8 * UInt64(k)) }
            out.append(convert(v))
            i += size
        }
        return out
    }

    /// IEEE 754 half precision to Float.
    static func half(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exp = Int((h >> 10) & 0x1f), frac = Float(h & 0x3ff)
        if exp == 0 { return sign * frac * Float(sign: .plus, exponent: -24, significand: 1) }
        if exp == 31 { return frac == 0 ? sign * .infinity : .nan }
        return sign * (1 + frac / 1024) * Float(sign: .plus, exponent: exp - 15, significand: 1)
    }
}
