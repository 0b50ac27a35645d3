// Element types of the tensor files modelc reads (PyTorch storages, safetensors), mapped onto
// NDArray's NumPy descrs. Half and bfloat16 have no NDArray dtype: they are widened to float32
// on reading, which is exact.

import ModelcData

public enum TensorDType: String, Sendable, CaseIterable {
    case f64, f32, f16, bf16, i64, i32, i16, i8, u8, bool, u16, u32, u64

    public var itemSize: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// The NDArray descr the values are stored under after reading.
    public var descr: String {
        switch self {
        case .f64: return "<f8"
        case .f32, .f16, .bf16: return "<f4"
        case .i64: return "<i8"
        case .i32: return "<i4"
        case .i16: return "<i2"
        case .i8: return "|i1"
        case .u8: return "|u1"
        case .bool: return "|b1"
        case .u16: return "<u2"
        case .u32: return "<u4"
        case .u64: return "<u8"
        }
    }

    /// The dtype an NDArray descr is written as (no half types: NDArray has none).
    public static func of(descr: String) -> TensorDType? {
        allCases.first { $0 != .f16 && $0 != .bf16 && $0.descr == descr }
    }

    /// Little-endian raw elements of this type to NDArray data (half types widened to float32).
    func ndarrayData(_ raw: [UInt8]) -> [UInt8] {
        switch self {
        case .f16: return widen(raw) { halfToFloatBits($0) }
        case .bf16: return widen(raw) { UInt32($0) << 16 }
        default: return raw
        }
    }

    private func widen(_ raw: [UInt8], _ bits: (UInt16) -> UInt32) -> [UInt8] {
        let n = raw.count / 2
        var out = [UInt8](repeating: 0, count: 4 * n)
        for i in 0..<n {
            let v = bits(UInt16(raw[2 * i]) | UInt16(raw[2 * i + 1]) << 8)
            for k in 0..<4 { out[4 * i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
        }
        return out
    }
}

/// IEEE 754 binary16 to binary32 bits (exact: subnormals normalized, inf and NaN kept).
func halfToFloatBits(_ h: UInt16) -> UInt32 {
    let sign = UInt32(h & 0x8000) << 16
    var exp = Int32((h >> 10) & 0x1F)
    var mant = UInt32(h & 0x3FF)
    if exp == 0x1F { return sign | 0x7F80_0000 | mant << 13 }
    if exp == 0 {
        if mant == 0 { return sign }
        exp = 1
        while mant & 0x400 == 0 { mant <<= 1; exp -= 1 }
        mant &= 0x3FF
    }
    return sign | UInt32(exp + 112) << 23 | mant << 13
}
