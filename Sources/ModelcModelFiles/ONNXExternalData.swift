// ONNX external data (onnx.proto: TensorProto.data_location = EXTERNAL): a tensor's bytes stored
// in a file beside the model, named by its `external_data` entries: `location` (a path relative
// to the model's directory), `offset` and `length` (bytes; without length, to the end of the
// file); `checksum` is ignored. The bytes become the tensor's raw_data (little-endian, as inline).
//
// Before: a decoded model whose tensors may carry an ONNXTensor.External reference.
// After:  each initializer's (and Constant value's) raw_data read from its file, every file read
//         once; or a DataError naming the model and the data file: a location that is absolute,
//         climbs out of the model's directory ("..", or a symbolic link leading out), a missing
//         or unreadable file, an offset and length not within the file. A file is read through
//         FileIO.read (its size checked against the limit before anything is allocated).

import Foundation
import ModelcData

extension ONNXTensor {
    /// Where an EXTERNAL tensor's bytes are.
    public struct External: Sendable, Equatable {
        public var location: String
        public var offset: Int
        public var length: Int?
    }
}

extension ONNXModel {
    /// Largest external data file read (the same limit as a model file).
    static let maxExternalBytes = 2 << 30

    /// Reads the external data of the model at `modelPath` from the files beside it.
    public mutating func loadExternalData(modelPath: String) throws {
        let dir = (modelPath as NSString).deletingLastPathComponent
        let base = dir.isEmpty ? "." : dir
        try loadExternalData(file: modelPath) { location in
            let path = try Self.externalPath(location, directory: base, model: modelPath)
            do { return try FileIO.read(path: path, maxBytes: Self.maxExternalBytes) } catch let e as DataError {
                throw DataError(file: modelPath, offset: 0, message: "external data file '\(location)' (\(path)): \(e.message)")
            }
        }
    }

    /// Reads the external data through `read(location)`, which returns a data file's bytes (each
    /// location is checked first and read once).
    public mutating func loadExternalData(file: String, read: (String) throws -> [UInt8]) throws {
        var files: [String: [UInt8]] = [:]
        func resolve(_ t: inout ONNXTensor) throws {
            guard let ext = t.external else { return }
            try Self.checkLocation(ext.location, tensor: t, file: file)
            if files[ext.location] == nil { files[ext.location] = try read(ext.location) }
            let bytes = files[ext.location]!
            let length = ext.length ?? max(bytes.count - ext.offset, 0)
            guard ext.offset <= bytes.count, length <= bytes.count - ext.offset else {
                throw DataError(file: file, offset: t.offset, message: "tensor '\(t.name)': expected offset \(ext.offset) + length \(length) within the \(bytes.count) bytes of the external data file '\(ext.location)'")
            }
            t.raw = bytes[ext.offset..<(ext.offset + length)]
            t.external = nil
        }
        for i in graph.initializers.indices { try resolve(&graph.initializers[i]) }
        for i in graph.nodes.indices {
            for (k, a) in graph.nodes[i].attributes where a.t?.external != nil {
                var t = a.t!
                try resolve(&t)
                graph.nodes[i].attributes[k]?.t = t
            }
        }
    }

    /// A relative path of plain names: no absolute path, no "..", no empty or "." parts, no NUL or backslash.
    static func checkLocation(_ location: String, tensor t: ONNXTensor, file: String) throws {
        let parts = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.isEmpty, !location.hasPrefix("/"), !location.contains("\\"), !location.contains("\0"),
              parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw DataError(file: file, offset: t.offset, message: "tensor '\(t.name)': expected the external data location as a path inside the model's directory, found '\(location)'")
        }
    }

    /// The data file's path; a symbolic link that leads out of the model's directory is refused.
    static func externalPath(_ location: String, directory: String, model: String) throws -> String {
        let path = directory + "/" + location
        let dir = URL(fileURLWithPath: directory).resolvingSymlinksInPath().standardizedFileURL.path
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        guard real.hasPrefix(dir.hasSuffix("/") ? dir : dir + "/") else {
            throw DataError(file: model, offset: 0, message: "external data file '\(location)' resolves to \(real), outside the model's directory \(dir)")
        }
        return path
    }
}
