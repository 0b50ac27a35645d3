// Zip archives (PKWARE APPNOTE) as used by NumPy .npz: reading via the central directory
// (stored and deflate entries, CRC32 checked, sizes bounded by the declared sizes) and
// writing with stored entries. Sizes and offsets come from the central directory; local headers
// are only skipped, so the zip64 extra fields NumPy puts in local headers (np.savez uses
// force_zip64, with 0xFFFFFFFF in the local size fields) are fine. Archives that need zip64
// (entries or offsets over 4 GiB), encryption and methods other than stored/deflate are rejected.
// A zip64 end record that only repeats the 32-bit end record's values (torch.save writes one
// into every archive) is ignored: the 32-bit fields are used whenever none of them is saturated.

public struct ZipEntry: Sendable {
    public let name: String
    public let method: Int           // 0 stored, 8 deflate
    public let crc32: UInt32
    public let compressedSize: Int
    public let uncompressedSize: Int
    public let localHeaderOffset: Int

    package init(name: String, method: Int, crc32: UInt32, compressedSize: Int, uncompressedSize: Int, localHeaderOffset: Int) {
        self.name = name; self.method = method; self.crc32 = crc32
        self.compressedSize = compressedSize; self.uncompressedSize = uncompressedSize; self.localHeaderOffset = localHeaderOffset
    }
}

public enum Zip {
    @inline(__always) static func le16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    @inline(__always) static func le32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24
    }

    /// Lists the entries of the central directory.
    public static func entries(_ b: [UInt8], file: String) throws -> [ZipEntry] {
        // End of central directory record: 22 bytes + comment (<= 65535), found from the end.
        guard b.count >= 22 else {
            throw DataError(file: file, offset: 0, message: "not a zip archive: \(b.count) bytes, smaller than the 22-byte end record")
        }
        var eocd = -1
        var i = b.count - 22
        let lowest = max(0, b.count - 22 - 65535)
        while i >= lowest {
            if b[i] == 0x50 && b[i + 1] == 0x4B && b[i + 2] == 0x05 && b[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        if eocd < 0 {
            throw DataError(file: file, offset: b.count, message: "not a zip archive: no end-of-central-directory record (PK\\5\\6) found")
        }
        let disk = le16(b, eocd + 4), cdDisk = le16(b, eocd + 6)
        if disk != 0 || cdDisk != 0 {
            throw DataError(file: file, offset: eocd + 4, message: "multi-disk zip archives are not supported")
        }
        let count = le16(b, eocd + 10)
        let cdSize = le32(b, eocd + 12)
        let cdOffset = le32(b, eocd + 16)
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            throw DataError(file: file, offset: eocd, message: "zip64 archives are not supported (entries over 4 GiB)")
        }
        if cdOffset + cdSize > eocd {
            throw DataError(file: file, offset: eocd + 16, message: "central directory (offset \(cdOffset), \(cdSize) bytes) runs past the end record at \(eocd)")
        }
        var out: [ZipEntry] = []
        var p = cdOffset
        for n in 0..<count {
            guard p + 46 <= eocd else {
                throw DataError(file: file, offset: p, message: "central directory entry \(n) of \(count) runs past the directory's end")
            }
            if le32(b, p) != 0x0201_4B50 {
                throw DataError(file: file, offset: p, message: "expected central directory signature PK\\1\\2 for entry \(n), found 0x\(hex32(UInt32(le32(b, p))))")
            }
            let flags = le16(b, p + 8)
            let method = le16(b, p + 10)
            let crc = UInt32(le32(b, p + 16))
            let csize = le32(b, p + 20)
            let usize = le32(b, p + 24)
            let nameLen = le16(b, p + 28), extraLen = le16(b, p + 30), commentLen = le16(b, p + 32)
            let local = le32(b, p + 42)
            guard p + 46 + nameLen + extraLen + commentLen <= eocd else {
                throw DataError(file: file, offset: p, message: "central directory entry \(n) name/extra/comment runs past the directory's end")
            }
            let name = String(decoding: b[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self)
            if flags & 1 != 0 {
                throw DataError(file: file, offset: p + 8, message: "entry '\(name)' is encrypted; encrypted zip entries are not supported")
            }
            if csize == 0xFFFF_FFFF || usize == 0xFFFF_FFFF || local == 0xFFFF_FFFF {
                throw DataError(file: file, offset: p + 20, message: "entry '\(name)' uses zip64 sizes (over 4 GiB); zip64 is not supported")
            }
            if method != 0 && method != 8 {
                throw DataError(file: file, offset: p + 10, message: "entry '\(name)' uses compression method \(method); only 0 (stored) and 8 (deflate) are supported")
            }
            out.append(ZipEntry(name: name, method: method, crc32: crc, compressedSize: csize,
                                uncompressedSize: usize, localHeaderOffset: local))
            p += 46 + nameLen + extraLen + commentLen
        }
        return out
    }

    /// Extracts one entry: checks its local header, decompresses exactly its declared size
    /// (at most `maxOutput` bytes) and checks the CRC32.
    public static func extract(_ e: ZipEntry, from b: [UInt8], file: String,
                               maxOutput: Int = DataLimits.maxDecompressedBytes) throws -> [UInt8] {
        let p = e.localHeaderOffset
        guard p + 30 <= b.count else {
            throw DataError(file: file, offset: p, message: "local header of '\(e.name)' lies past the end of the file (\(b.count) bytes)")
        }
        if le32(b, p) != 0x0403_4B50 {
            throw DataError(file: file, offset: p, message: "expected local header signature PK\\3\\4 for '\(e.name)', found 0x\(hex32(UInt32(le32(b, p))))")
        }
        let start = p + 30 + le16(b, p + 26) + le16(b, p + 28)
        guard start + e.compressedSize <= b.count else {
            throw DataError(file: file, offset: start, message: "entry '\(e.name)' declares \(e.compressedSize) compressed bytes but only \(max(0, b.count - start)) remain")
        }
        if e.uncompressedSize > maxOutput {
            throw DataError(file: file, offset: p, message: "entry '\(e.name)' declares \(e.uncompressedSize) bytes, more than the limit of \(maxOutput)")
        }
        let data: [UInt8]
        if e.method == 0 {
            if e.compressedSize != e.uncompressedSize {
                throw DataError(file: file, offset: p, message: "stored entry '\(e.name)' has compressed size \(e.compressedSize) != uncompressed size \(e.uncompressedSize)")
            }
            data = Array(b[start..<(start + e.compressedSize)])
        } else {
            let slice = Array(b[start..<(start + e.compressedSize)])
            let (out, _) = try Inflate.inflate(slice, start: 0, maxOutput: e.uncompressedSize,
                                               expectedSize: e.uncompressedSize, file: file + "(\(e.name))")
            if out.count != e.uncompressedSize {
                throw DataError(file: file, offset: start, message: "entry '\(e.name)' inflates to \(out.count) bytes but declares \(e.uncompressedSize)")
            }
            data = out
        }
        let crc = CRC32.checksum(data)
        if crc != e.crc32 {
            throw DataError(file: file, offset: start, message: "CRC32 mismatch in '\(e.name)': directory says 0x\(hex32(e.crc32)), data gives 0x\(hex32(crc))")
        }
        return data
    }

    /// Builds a zip archive of stored entries.
    public static func archiveStored(_ files: [(name: String, data: [UInt8])]) throws -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for f in files {
            let name = Array(f.name.utf8)
            if name.count > 0xFFFF { throw DataError(file: f.name, message: "zip entry name too long") }
            if f.data.count >= 0xFFFF_FFFF || out.count >= 0xFFFF_FFFF {
                throw DataError(file: f.name, message: "zip entry too large (\(f.data.count) bytes); zip64 is not supported")
            }
            let crc = CRC32.checksum(f.data)
            let offset = out.count
            // Local header.
            appendLE32(&out, 0x0403_4B50)
            appendLE16(&out, 20); appendLE16(&out, 0); appendLE16(&out, 0)   // version, flags, method
            appendLE16(&out, 0); appendLE16(&out, 0x21)                     // time, date (1980-01-01)
            appendLE32(&out, crc)
            appendLE32(&out, UInt32(f.data.count)); appendLE32(&out, UInt32(f.data.count))
            appendLE16(&out, UInt16(name.count)); appendLE16(&out, 0)
            out.append(contentsOf: name)
            out.append(contentsOf: f.data)
            // Central directory entry.
            appendLE32(&central, 0x0201_4B50)
            appendLE16(&central, 20); appendLE16(&central, 20)
            appendLE16(&central, 0); appendLE16(&central, 0)
            appendLE16(&central, 0); appendLE16(&central, 0x21)
            appendLE32(&central, crc)
            appendLE32(&central, UInt32(f.data.count)); appendLE32(&central, UInt32(f.data.count))
            appendLE16(&central, UInt16(name.count)); appendLE16(&central, 0); appendLE16(&central, 0)
            appendLE16(&central, 0); appendLE16(&central, 0)
            appendLE32(&central, 0)
            appendLE32(&central, UInt32(offset))
            central.append(contentsOf: name)
        }
        if files.count > 0xFFFE || out.count + central.count >= 0xFFFF_FFFF {
            throw DataError(file: "zip", message: "archive too large; zip64 is not supported")
        }
        let cdOffset = out.count
        out.append(contentsOf: central)
        appendLE32(&out, 0x0605_4B50)
        appendLE16(&out, 0); appendLE16(&out, 0)
        appendLE16(&out, UInt16(files.count)); appendLE16(&out, UInt16(files.count))
        appendLE32(&out, UInt32(central.count)); appendLE32(&out, UInt32(cdOffset))
        appendLE16(&out, 0)
        return out
    }
}
