// Inflate: DEFLATE decompression (RFC 1951), stored, fixed-Huffman and dynamic-Huffman blocks.
// Input: a byte buffer and the offset where the deflate stream starts. Output: the decompressed
// bytes and the number of input bytes consumed. The output never grows beyond `maxOutput`
// (zip/gzip bombs stop with an error); every read is bounds-checked and every malformed code,
// length or distance is an error that names the byte offset in the file.

/// A growable output buffer with a hard cap.
private final class OutBuffer {
    var ptr: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var count = 0
    let limit: Int

    init(initial: Int, limit: Int) {
        capacity = max(1, min(max(1024, initial), limit))
        ptr = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        self.limit = limit
    }
    deinit { ptr.deallocate() }

    /// Makes room for `n` more bytes; false if that would pass the limit.
    @inline(__always) func reserve(_ n: Int) -> Bool {
        let need = count + n
        if need > limit { return false }
        if need <= capacity { return true }
        var newCap = capacity
        while newCap < need { newCap = newCap > limit / 2 ? limit : newCap * 2 }
        newCap = max(newCap, need)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap)
        p.update(from: ptr, count: count)
        ptr.deallocate()
        ptr = p
        capacity = newCap
        return true
    }

    func array() -> [UInt8] { Array(UnsafeBufferPointer(start: ptr, count: count)) }
}

/// Canonical Huffman decoding table: an 11-bit direct lookup plus the counts/symbols lists
/// for longer codes (decoded bit by bit as in zlib's puff.c). A class holding raw pointers so
/// that the per-symbol decode does no reference counting.
private final class Huffman {
    static let fastBits = 11
    let counts: UnsafeMutablePointer<Int>    // 16
    let symbols: UnsafeMutablePointer<Int>   // one per code length given
    let fast: UnsafeMutablePointer<Int32>    // (symbol << 4) | length, or 0 if the code is longer than fastBits

    deinit { counts.deallocate(); symbols.deallocate(); fast.deallocate() }

    /// nil if the lengths are over-subscribed (not a valid prefix code).
    init?(lengths: ArraySlice<Int>) {
        counts = .allocate(capacity: 16); counts.initialize(repeating: 0, count: 16)
        symbols = .allocate(capacity: max(1, lengths.count)); symbols.initialize(repeating: 0, count: max(1, lengths.count))
        fast = .allocate(capacity: 1 << Huffman.fastBits); fast.initialize(repeating: 0, count: 1 << Huffman.fastBits)
        for l in lengths { counts[l] += 1 }
        var left = 1
        for len in 1...15 {
            left <<= 1
            left -= counts[len]
            if left < 0 { return nil }
        }
        var offs = [Int](repeating: 0, count: 16)
        for len in 1..<15 { offs[len + 1] = offs[len] + counts[len] }
        var nextCode = [Int](repeating: 0, count: 16)
        var code = 0
        counts[0] = 0
        for len in 1...15 {
            code = (code + counts[len - 1]) << 1
            nextCode[len] = code
        }
        for (i, l) in lengths.enumerated() where l != 0 {
            symbols[offs[l]] = i
            offs[l] += 1
            let c = nextCode[l]
            nextCode[l] += 1
            if l <= Huffman.fastBits {
                // Bit-reverse the code: deflate sends Huffman codes most significant bit first.
                var r = 0
                var v = c
                for _ in 0..<l { r = (r << 1) | (v & 1); v >>= 1 }
                let step = 1 << l
                var idx = r
                while idx < (1 << Huffman.fastBits) {
                    fast[idx] = Int32((i << 4) | l)
                    idx += step
                }
            }
        }
    }
}

public enum Inflate {
    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                     3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
                                  257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
                                  8193, 12289, 16385, 24577]
    static let distExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                   7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// Decompresses one raw deflate stream starting at `start`.
    /// - Parameters:
    ///   - maxOutput: hard bound on the output size; exceeding it is an error.
    ///   - expectedSize: a size hint (e.g. gzip ISIZE or a zip entry's declared size) used to
    ///     size the first allocation; it never raises the bound.
    ///   - file: named in errors; offsets in errors are offsets into `input`.
    public static func inflate(_ input: [UInt8], start: Int = 0, maxOutput: Int = DataLimits.maxDecompressedBytes,
                               expectedSize: Int? = nil, file: String) throws -> (output: [UInt8], consumed: Int) {
        guard start >= 0, start <= input.count else {
            throw DataError(file: file, offset: start, message: "deflate stream starts past the end of the data (\(input.count) bytes)")
        }
        // Deflate cannot expand more than 1032:1, so a hint larger than that is a lie.
        let plausible = (input.count - start).multipliedReportingOverflow(by: 1032)
        let bound = plausible.overflow ? maxOutput : min(maxOutput, plausible.partialValue + 1024)
        let initial = min(expectedSize ?? (input.count - start) * 4, bound)
        let out = OutBuffer(initial: initial, limit: maxOutput)
        let consumed = try input.withUnsafeBufferPointer { buf in
            var s = State(input: buf, pos: start, file: file, out: out)
            try s.run()
            return s.bytePosition - start
        }
        return (out.array(), consumed)
    }

    private struct State {
        let input: UnsafeBufferPointer<UInt8>
        var pos: Int
        let file: String
        let out: OutBuffer
        var bitBuf: UInt64 = 0
        var bitCount = 0

        init(input: UnsafeBufferPointer<UInt8>, pos: Int, file: String, out: OutBuffer) {
            self.input = input; self.pos = pos; self.file = file; self.out = out
        }

        /// Offset of the first byte not yet fully consumed.
        var bytePosition: Int { pos - bitCount / 8 }

        /// Errors name the byte holding the next unread bit.
        func fail(_ msg: String) -> DataError {
            DataError(file: file, offset: pos - (bitCount + 7) / 8, message: msg)
        }

        @inline(__always) mutating func refill() {
            while bitCount <= 56 && pos < input.count {
                bitBuf |= UInt64(input[pos]) << UInt64(bitCount)
                pos += 1
                bitCount += 8
            }
        }

        @inline(__always) mutating func bits(_ n: Int) throws -> Int {
            if n == 0 { return 0 }
            if bitCount < n {
                refill()
                if bitCount < n { throw fail("deflate data ends early: needed \(n) more bits, found \(bitCount)") }
            }
            let v = Int(bitBuf & ((1 << UInt64(n)) - 1))
            bitBuf >>= UInt64(n)
            bitCount -= n
            return v
        }

        @inline(__always) mutating func decode(_ h: Huffman) throws -> Int {
            if bitCount < 15 { refill() }
            let e = Int(h.fast[Int(bitBuf & UInt64((1 << Huffman.fastBits) - 1))])
            if e != 0 {
                let len = e & 15
                if len > bitCount { throw fail("deflate data ends inside a Huffman code") }
                bitBuf >>= UInt64(len)
                bitCount -= len
                return e >> 4
            }
            // Slow path (puff.c): walk the canonical code one bit at a time.
            var code = 0, first = 0, index = 0
            for len in 1...15 {
                if bitCount == 0 { throw fail("deflate data ends inside a Huffman code") }
                code |= Int(bitBuf & 1)
                bitBuf >>= 1
                bitCount -= 1
                let count = h.counts[len]
                if code - count < first { return h.symbols[index + (code - first)] }
                index += count
                first += count
                first <<= 1
                code <<= 1
            }
            throw fail("invalid Huffman code (not in the block's code table)")
        }

        mutating func run() throws {
            var last = false
            while !last {
                last = try bits(1) == 1
                let type = try bits(2)
                switch type {
                case 0: try stored()
                case 1: try codes(Inflate.fixedLit, Inflate.fixedDist)
                case 2:
                    let (lit, dist) = try dynamicTables()
                    try codes(lit, dist)
                default: throw fail("invalid deflate block type 3 (expected 0 stored, 1 fixed or 2 dynamic)")
                }
            }
            // Give back whole unused bytes still in the bit buffer.
            let unusedBytes = bitCount / 8
            pos -= unusedBytes
            bitCount -= unusedBytes * 8
            bitBuf = 0
            bitCount = 0
        }

        mutating func stored() throws {
            // Discard to the byte boundary, then return unused whole bytes to the input.
            let drop = bitCount % 8
            bitBuf >>= UInt64(drop)
            bitCount -= drop
            pos -= bitCount / 8
            bitBuf = 0
            bitCount = 0
            guard pos + 4 <= input.count else { throw fail("stored block header ends early: expected 4 bytes, found \(input.count - pos)") }
            let len = Int(input[pos]) | Int(input[pos + 1]) << 8
            let nlen = Int(input[pos + 2]) | Int(input[pos + 3]) << 8
            if len != (~nlen & 0xFFFF) {
                throw DataError(file: file, offset: pos, message: "stored block length \(len) does not match its complement \(nlen)")
            }
            pos += 4
            guard pos + len <= input.count else {
                throw DataError(file: file, offset: pos, message: "stored block declares \(len) bytes but only \(input.count - pos) remain")
            }
            guard out.reserve(len) else { throw fail("decompressed data exceeds the limit of \(out.limit) bytes") }
            (out.ptr + out.count).update(from: input.baseAddress! + pos, count: len)
            out.count += len
            pos += len
        }

        mutating func dynamicTables() throws -> (Huffman, Huffman) {
            let nlen = try bits(5) + 257
            let ndist = try bits(5) + 1
            let ncode = try bits(4) + 4
            if nlen > 286 || ndist > 30 {
                throw fail("dynamic block declares \(nlen) literal/length and \(ndist) distance codes (max 286 and 30)")
            }
            var lengths = [Int](repeating: 0, count: 320)
            for i in 0..<ncode { lengths[Inflate.codeLengthOrder[i]] = try bits(3) }
            guard let lencode = Huffman(lengths: lengths[0..<19]) else { throw fail("over-subscribed code-length code") }
            var index = 0
            while index < nlen + ndist {
                var sym = try decode(lencode)
                if sym < 16 {
                    lengths[index] = sym; index += 1
                } else {
                    var len = 0
                    if sym == 16 {
                        if index == 0 { throw fail("repeat of previous code length with no previous length") }
                        len = lengths[index - 1]
                        sym = 3 + (try bits(2))
                    } else if sym == 17 {
                        sym = 3 + (try bits(3))
                    } else {
                        sym = 11 + (try bits(7))
                    }
                    if index + sym > nlen + ndist {
                        throw fail("code lengths repeat past the end (\(index + sym) > \(nlen + ndist))")
                    }
                    for _ in 0..<sym { lengths[index] = len; index += 1 }
                }
            }
            if lengths[256] == 0 { throw fail("dynamic block has no end-of-block code") }
            guard let lit = Huffman(lengths: lengths[0..<nlen]) else { throw fail("over-subscribed literal/length code") }
            guard let dist = Huffman(lengths: lengths[nlen..<(nlen + ndist)]) else { throw fail("over-subscribed distance code") }
            return (lit, dist)
        }

        mutating func codes(_ lit: Huffman, _ dist: Huffman) throws {
            let lengthBase = Inflate.lengthBase, lengthExtra = Inflate.lengthExtra
            let distBase = Inflate.distBase, distExtra = Inflate.distExtra
            while true {
                let sym = try decode(lit)
                if sym < 256 {
                    if out.count >= out.capacity {
                        guard out.reserve(1) else { throw fail("decompressed data exceeds the limit of \(out.limit) bytes") }
                    }
                    out.ptr[out.count] = UInt8(sym)
                    out.count += 1
                } else if sym == 256 {
                    return
                } else {
                    let li = sym - 257
                    if li >= 29 { throw fail("invalid length symbol \(sym)") }
                    let len = lengthBase[li] + (try bits(lengthExtra[li]))
                    let ds = try decode(dist)
                    if ds >= 30 { throw fail("invalid distance symbol \(ds)") }
                    let d = distBase[ds] + (try bits(distExtra[ds]))
                    if d > out.count {
                        throw fail("back-reference distance \(d) reaches before the start of the output (\(out.count) bytes written)")
                    }
                    guard out.reserve(len) else { throw fail("decompressed data exceeds the limit of \(out.limit) bytes") }
                    let p = out.ptr
                    let o = out.count
                    if d >= len {
                        (p + o).update(from: p + (o - d), count: len)          // no overlap
                    } else if d == 1 {
                        (p + o).update(repeating: p[o - 1], count: len)        // run of one byte
                    } else {
                        var src = o - d                                        // overlapping: byte by byte
                        for k in 0..<len { p[o + k] = p[src]; src += 1 }
                    }
                    out.count = o + len
                }
            }
        }
    }

    private static let fixedLit: Huffman = {
        var l = [Int](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        return Huffman(lengths: l[0..<288])!
    }()
    private static let fixedDist: Huffman = Huffman(lengths: [Int](repeating: 5, count: 30)[0..<30])!
}

// The fixed tables are immutable after construction.
extension Huffman: @unchecked Sendable {
}
