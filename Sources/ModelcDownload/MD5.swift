// MD5 (RFC 1321), for checking the checksums that dataset publishers give (not for security).
import Foundation

public struct MD5: BlockHash64 {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
    var buffer: [UInt8] = []
    var length: UInt64 = 0

    static let s: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                              5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                              4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                              6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
    static let k: [UInt32] = (0..<64).map { i in
        UInt32(truncatingIfNeeded: Int64((abs(sin(Double(i + 1))) * 4_294_967_296.0).rounded(.down)))
    }

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { absorb(bytes) }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    mutating func block(_ p: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { m in
            for j in 0..<16 { m[j] = p.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self).littleEndian }
            compress(m)
        }
    }

    private mutating func compress(_ m: UnsafeMutableBufferPointer<UInt32>) {
        var (a, b, c, d) = state
        for i in 0..<64 {
            var f: UInt32
            var g: Int
            switch i {
            case 0..<16: f = (b & c) | (~b & d); g = i
            case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
            case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
            default: f = c ^ (b | ~d); g = (7 * i) % 16
            }
            f = f &+ a &+ MD5.k[i] &+ m[g]
            a = d; d = c; c = b
            b = b &+ ((f << MD5.s[i]) | (f >> (32 - MD5.s[i])))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }

    public mutating func finalize() -> [UInt8] {
        absorbPadding(bigEndianLength: false)
        var out: [UInt8] = []
        for w in [state.0, state.1, state.2, state.3] {
            for i in 0..<4 { out.append(UInt8((w >> (8 * UInt32(i))) & 0xFF)) }
        }
        return out
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        var h = MD5(); h.update(bytes); return hexString(h.finalize())
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var s = ""
    for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
    return s
}

