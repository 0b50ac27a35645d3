// HDF5File: the public face of modelc's HDF5 reader (see HDF5Superblock.swift for the design
// notes): objects by path, a group's members, dataset values, attributes, and a walk over the
// whole file that detects link cycles and bounds the number of objects visited.

import ModelcData

public final class HDF5File {
    public let path: String
    let cursor: HDF5Cursor
    let rootAddress: Int
    private var headers: [Int: HDF5ObjectHeader] = [:]
    private var links: [Int: [(name: String, address: Int)]?] = [:]

    /// Most objects a walk visits (a hostile file may link one group from many places).
    public static let maxWalkObjects = 100_000
    /// Deepest group nesting a walk follows.
    public static let maxDepth = 256

    public convenience init(path: String) throws {
        try self.init(bytes: FileIO.read(path: path), file: path)
    }

    public init(bytes: [UInt8], file: String) throws {
        let s = try HDF5Superblock.read(bytes, file: file)
        path = file
        cursor = HDF5Cursor(bytes: bytes, file: file, pos: 0, end: bytes.count, offsetSize: s.offsetSize,
                            lengthSize: s.lengthSize, base: s.base)
        rootAddress = s.rootAddress
    }

    /// An object (group or dataset) of the file.
    public struct Object: Sendable {
        /// Full path from the root, "/" for the root group.
        public let path: String
        let address: Int
    }

    public var root: Object { Object(path: "/", address: rootAddress) }

    func header(_ o: Object) throws -> HDF5ObjectHeader {
        if let h = headers[o.address] { return h }
        let h = try HDF5ObjectHeader.read(cursor, at: o.address)
        headers[o.address] = h
        return h
    }

    func fail(_ o: Object, _ message: String) -> DataError {
        DataError(file: path, offset: o.address, message: "\(o.path): \(message)")
    }

    /// The members of a group, in storage order; an error if `o` is not a group.
    public func members(_ o: Object) throws -> [Object] {
        if links[o.address] == nil { links[o.address] = try HDF5Groups.links(cursor, try header(o)) }
        guard let links = links[o.address] ?? nil else { throw fail(o, "expected a group, found a dataset or other object") }
        let prefix = o.path == "/" ? "/" : o.path + "/"
        var names = Set<String>()
        return try links.map { l in
            guard names.insert(l.name).inserted else { throw fail(o, "group holds two links named '\(l.name)'") }
            return Object(path: prefix + l.name, address: l.address)
        }
    }

    public func isGroup(_ o: Object) throws -> Bool {
        let h = try header(o)
        return h.first(HDF5Message.layout) == nil
            && [HDF5Message.symbolTable, HDF5Message.linkInfo, HDF5Message.link].contains { h.first($0) != nil }
    }

    public func isDataset(_ o: Object) throws -> Bool { try header(o).first(HDF5Message.layout) != nil }

    /// The object at a path such as "/model_weights/dense_1" (absolute or relative to `from`).
    public func object(_ path: String, from start: Object? = nil) throws -> Object? {
        var o = path.hasPrefix("/") ? root : (start ?? root)
        for part in path.split(separator: "/") {
            let prefix = o.path == "/" ? "/" : o.path + "/"
            guard try isGroup(o), let next = try members(o).first(where: { $0.path == prefix + part }) else {
                return nil
            }
            o = next
        }
        return o
    }

    /// A dataset's values (numbers, little-endian; float16 widened to float32).
    public func read(_ o: Object) throws -> NDArray {
        guard try isDataset(o) else { throw fail(o, "expected a dataset, found a group") }
        return try HDF5Dataset.read(cursor, try header(o), name: o.path)
    }

    public func attributeNames(_ o: Object) throws -> [String] { try HDF5Attributes.all(cursor, try header(o)).map(\.name) }

    /// A string attribute's elements (a scalar gives one), or nil if there is no such attribute.
    public func attributeStrings(_ name: String, of o: Object) throws -> [String]? {
        guard let a = try HDF5Attributes.all(cursor, try header(o)).first(where: { $0.name == name }) else { return nil }
        return try HDF5Attributes.strings(cursor, a)
    }

    /// A numeric attribute's value.
    public func attributeArray(_ name: String, of o: Object) throws -> NDArray? {
        guard let a = try HDF5Attributes.all(cursor, try header(o)).first(where: { $0.name == name }) else { return nil }
        return try a.datatype.array(Array(a.value), shape: a.shape ?? [0], file: path, offset: a.offset)
    }

    /// A scalar string attribute of the root group (Keras 2 `.h5`: "model_config",
    /// "keras_version", "backend"), or nil if the root has no such attribute.
    public func rootAttributeString(_ name: String) throws -> String? {
        guard let s = try attributeStrings(name, of: root) else { return nil }
        guard s.count == 1 else { throw fail(root, "attribute '\(name)': expected one string, found \(s.count)") }
        return s[0]
    }

    /// Visits every object below `start` (itself first), depth first. A link back to a group on
    /// the current path is a cycle error; more than `maxWalkObjects` objects is an error.
    public func walk(from start: Object? = nil, _ visit: (Object) throws -> Void) throws {
        var count = 0
        var ancestors = Set<Int>()
        func go(_ o: Object, depth: Int) throws {
            count += 1
            guard count <= Self.maxWalkObjects else { throw fail(o, "the file links more than \(Self.maxWalkObjects) objects") }
            guard depth <= Self.maxDepth else { throw fail(o, "groups nest deeper than \(Self.maxDepth)") }
            try visit(o)
            guard try isGroup(o) else { return }
            ancestors.insert(o.address)
            defer { ancestors.remove(o.address) }
            for m in try members(o) {
                if ancestors.contains(m.address) {
                    throw fail(m, "link cycle: this link points back to a group on its own path (object header at offset \(m.address))")
                }
                try go(m, depth: depth + 1)
            }
        }
        try go(start ?? root, depth: 0)
    }
}
