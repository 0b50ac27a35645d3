// A minimal HDF5 writer: what a Keras 3 `.weights.h5` needs and nothing more (issue 18).
//
// The file holds superblock version 2 (48 bytes at offset 0: sizes of offsets and lengths 8, no
// superblock extension, the end-of-file and root object header addresses, a lookup3 checksum),
// then every object in post order (a group's members before the group, so each header can name
// its members' addresses): a dataset's raw data followed by its header, then the group headers,
// the root last. Every object header is version 2 ("OHDR", one chunk, lookup3 checksum):
// - a group holds a link info message (no dense storage, no creation order), a group info
//   message and one hard-link message per member ("new-style compact" group), plus its attributes;
// - a dataset holds a dataspace (version 2, simple, no maximum dimensions), an IEEE float32
//   little-endian datatype, a fill value message (version 3, allocation late, fill written
//   only if set, none set: h5py's defaults) and a contiguous data layout (version 3);
// - an attribute (message version 3) is a scalar fixed-length UTF-8 string (null padded).
// HDF5 1.8 and later (h5py, Keras) read this layout; so does modelc's own reader (HDF5File).
// Member names must be unique within their group, non-empty and free of '/'; datasets must be
// float32 ("<f4") with as many bytes as their shape says.

import ModelcData

public enum HDF5Writer {
    /// A group: its string attributes and its members, written in this order.
    public struct Group {
        public var attributes: [(name: String, value: String)]
        public var members: [(name: String, member: Member)]
        public init(attributes: [(name: String, value: String)] = [], members: [(name: String, member: Member)] = []) {
            self.attributes = attributes; self.members = members
        }
    }

    public indirect enum Member {
        case group(Group)
        case dataset(NDArray)
    }

    static let superblockSize = 48
    static let undefinedAddress = [UInt8](repeating: 0xFF, count: 8)

    /// The bytes of an HDF5 file whose root group is `root`.
    public static func encode(_ root: Group) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: superblockSize)
        let rootAddress = try group(root, path: "/", into: &out)
        var s = HDF5Superblock.magic + [2, 8, 8, 0]
        append64(&s, 0)                     // base address
        s += undefinedAddress               // superblock extension
        append64(&s, out.count)             // end of file
        append64(&s, rootAddress)
        appendLE32(&s, HDF5Checksum.lookup3(s, 0, s.count))
        out.replaceSubrange(0..<superblockSize, with: s)
        return out
    }

    /// Writes `root` to `path` atomically; errors name `path`.
    public static func write(_ root: Group, to path: String) throws {
        do {
            try AtomicFile.write(encode(root), to: path)
        } catch let e as DataError where e.file != path {
            throw DataError(file: path, message: e.description)
        }
    }

    static func group(_ g: Group, path: String, into out: inout [UInt8]) throws -> Int {
        var linkInfo: [UInt8] = [0, 0]      // version 0, no creation order
        linkInfo += undefinedAddress + undefinedAddress   // no fractal heap, no name index
        var messages: [(UInt8, [UInt8])] = [(0x02, linkInfo), (0x0A, [0, 0])]   // + group info, version 0, defaults
        var names = Set<String>()
        for (name, m) in g.members {
            let child = path == "/" ? "/\(name)" : "\(path)/\(name)"
            guard !name.isEmpty, !name.contains("/"), name != ".", names.insert(name).inserted else {
                throw DataError(file: child, message: "cannot write HDF5 member '\(name)' of \(path): names must be unique, non-empty and without '/'")
            }
            let address: Int
            switch m {
            case .group(let sub): address = try group(sub, path: child, into: &out)
            case .dataset(let a): address = try dataset(a, path: child, into: &out)
            }
            messages.append((0x06, link(name, address)))
        }
        for (name, value) in g.attributes { messages.append((0x0C, attribute(name, value))) }
        return try objectHeader(messages, path: path, into: &out)
    }

    /// Link message version 1: a hard link (no type field), UTF-8 name, the object's address.
    static func link(_ name: String, _ address: Int) -> [UInt8] {
        let n = Array(name.utf8)
        var m: [UInt8] = [1, n.count < 256 ? 0x10 : 0x11, 1]   // version, flags (name-length width, charset), UTF-8
        if n.count < 256 { m.append(UInt8(n.count)) } else { appendLE16(&m, UInt16(n.count)) }
        m += n
        append64(&m, address)
        return m
    }

    /// Attribute message version 3: a scalar fixed-length UTF-8 string, null padded.
    static func attribute(_ name: String, _ value: String) -> [UInt8] {
        let n = Array(name.utf8) + [0]
        let v = value.isEmpty ? [0] : Array(value.utf8)
        var type: [UInt8] = [0x13, 0x11, 0, 0]                // string class, version 1; null pad, UTF-8
        appendLE32(&type, UInt32(v.count))
        let space: [UInt8] = [2, 0, 0, 0]                     // version 2, rank 0, scalar
        var m: [UInt8] = [3, 0]
        appendLE16(&m, UInt16(n.count)); appendLE16(&m, UInt16(type.count)); appendLE16(&m, UInt16(space.count))
        m.append(1)                                           // name charset UTF-8
        return m + n + type + space + v
    }

    static func dataset(_ a: NDArray, path: String, into out: inout [UInt8]) throws -> Int {
        guard a.dtype == "<f4", let n = checkedProduct(a.shape, limit: DataLimits.maxElements), n * 4 == a.data.count,
              a.shape.count <= HDF5Dataspace.maxRank else {
            throw DataError(file: path, message: "cannot write HDF5 dataset: expected float32 ('<f4') data matching its shape, found dtype '\(a.dtype)', shape \(a.shape), \(a.data.count) bytes")
        }
        let dataAddress = out.count
        out += a.data
        var space: [UInt8] = [2, UInt8(a.shape.count), 0, a.shape.isEmpty ? 0 : 1]   // version 2, rank, no max, simple/scalar
        for d in a.shape { append64(&space, d) }
        // Float class, version 1; little-endian, mantissa msb implied, sign bit 31; 4 bytes;
        // bit offset 0, precision 32, exponent at 23 of 8 bits, mantissa at 0 of 23 bits, bias 127.
        var type: [UInt8] = [0x11, 0x20, 31, 0]
        appendLE32(&type, 4)
        type += [0, 0, 32, 0, 23, 8, 0, 23]
        appendLE32(&type, 127)
        let fill: [UInt8] = [3, 0x02 | 0x08]                  // version 3; allocation late, fill if set (none is)
        var layout: [UInt8] = [3, 1]                          // version 3, contiguous
        append64(&layout, dataAddress)
        append64(&layout, a.data.count)
        return try objectHeader([(0x01, space), (0x03, type), (0x05, fill), (0x08, layout)], path: path, into: &out)
    }

    /// Object header version 2 with one chunk: messages (type, size, flags 0), then the checksum.
    static func objectHeader(_ messages: [(UInt8, [UInt8])], path: String, into out: inout [UInt8]) throws -> Int {
        var body: [UInt8] = []
        for (type, data) in messages {
            guard data.count <= 0xFFFF else {
                throw DataError(file: path, message: "cannot write HDF5 object: a message of \(data.count) bytes exceeds the 65535-byte limit")
            }
            body.append(type)
            appendLE16(&body, UInt16(data.count))
            body.append(0)
            body += data
        }
        var h = Array("OHDR".utf8) + [2]
        if body.count < 1 << 8 { h += [0, UInt8(body.count)] }
        else if body.count < 1 << 16 { h.append(1); appendLE16(&h, UInt16(body.count)) }
        else { h.append(2); appendLE32(&h, UInt32(body.count)) }
        h += body
        appendLE32(&h, HDF5Checksum.lookup3(h, 0, h.count))
        let address = out.count
        out += h
        return address
    }

    static func append64(_ out: inout [UInt8], _ v: Int) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(v) >> (8 * UInt64(i)))) }
    }
}
