// The Merkle-Damgard framing that MD5 and SHA-256 share: input is cut into 64-byte blocks for the
// compression function, and the message is padded with 0x80, zeros and its bit length (MD5 writes
// the length little-endian, SHA-256 big-endian).

protocol BlockHash64 {
    /// Bytes of an incomplete block (fewer than 64).
    var buffer: [UInt8] { get set }
    /// Message bytes absorbed so far.
    var length: UInt64 { get set }
    /// The compression function on one 64-byte block.
    mutating func block(_ p: UnsafeRawPointer)
}

extension BlockHash64 {
    mutating func absorb(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var i = 0
        if !buffer.isEmpty {
            let take = min(64 - buffer.count, bytes.count)
            buffer.append(contentsOf: bytes[0..<take])
            i = take
            if buffer.count == 64 {
                let full = buffer
                full.withUnsafeBytes { block($0.baseAddress!) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        while i + 64 <= bytes.count {
            block(bytes.baseAddress! + i)
            i += 64
        }
        if i < bytes.count { buffer.append(contentsOf: bytes[i...]) }
    }

    /// Absorbs the final padding; afterwards the state holds the digest.
    mutating func absorbPadding(bigEndianLength: Bool) {
        let bitLength = length &* 8
        var pad: [UInt8] = [0x80]
        let rem = Int((length + 1) % 64)
        pad += [UInt8](repeating: 0, count: rem <= 56 ? 56 - rem : 120 - rem)
        let order: [Int] = bigEndianLength ? Array((0..<8).reversed()) : Array(0..<8)
        for i in order { pad.append(UInt8((bitLength >> (8 * UInt64(i))) & 0xFF)) }
        let saved = length
        pad.withUnsafeBytes { absorb($0) }
        length = saved
    }
}
