// ONNX model files (onnx.proto, IR versions 3-10): the subset of ModelProto that a chain of
// inference operators needs, decoded with ProtoReader. ModelProto -> GraphProto -> NodeProto
// (op_type, inputs, outputs, attributes: ints, floats, strings, int and float lists, tensors),
// TensorProto initializers (dims, data_type FLOAT / DOUBLE / INT64 / INT32 / FLOAT16, float_data,
// double_data, int64_data, int32_data or little-endian raw_data), ValueInfoProto inputs and
// outputs with their shapes, and the opset imports. Subgraphs, sparse initializers, training
// info and functions are skipped; a tensor stored in segments is refused, one stored outside the
// file (data_location EXTERNAL) is read by `read(path:)` from beside it (ONNXExternalData.swift).
//
// Tensors are not converted when the file is read: `ONNXTensor.floats()` / `ints()` check the
// declared dims (product at most DataLimits.maxElements) against the stored values first.

import ModelcData

public struct ONNXModel: Sendable {
    public var irVersion = 0
    public var producer = ""
    /// (domain, version); "" is the default ai.onnx domain.
    public var opsets: [(domain: String, version: Int)] = []
    public var graph = ONNXGraph()

    /// The ai.onnx opset version the file imports (nil when it names none).
    public var opset: Int? { opsets.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version }

    /// The model at `path` with its external data (files beside it) read.
    public static func read(path: String) throws -> ONNXModel {
        try read(bytes: try FileIO.read(path: path, maxBytes: 2 << 30), path: path)
    }

    /// The model file's bytes decoded, then its external data read from beside `path`.
    public static func read(bytes: [UInt8], path: String) throws -> ONNXModel {
        var m = try decode(bytes, file: path)
        try m.loadExternalData(modelPath: path)
        return m
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> ONNXModel {
        guard !bytes.isEmpty else { throw DataError(file: file, offset: 0, message: "expected an ONNX model (protobuf ModelProto), found an empty file") }
        var r = ProtoReader(bytes: bytes, file: file)
        var m = ONNXModel()
        var sawGraph = false
        while let (n, w) = try r.field() {
            switch (n, w) {
            case (1, .varint): m.irVersion = Int(truncatingIfNeeded: try r.int64())
            case (2, .lengthDelimited): m.producer = try r.string()
            case (7, .lengthDelimited): m.graph = try ONNXGraph.decode(try r.message()); sawGraph = true
            case (8, .lengthDelimited):
                var s = try r.message()
                var domain = "", version = 0
                while let (n2, w2) = try s.field() {
                    switch (n2, w2) {
                    case (1, .lengthDelimited): domain = try s.string()
                    case (2, .varint): version = Int(truncatingIfNeeded: try s.int64())
                    default: try s.skip(w2)
                    }
                }
                m.opsets.append((domain, version))
            default: try r.skip(w)
            }
        }
        guard sawGraph, m.irVersion > 0 else {
            throw DataError(file: file, offset: 0, message: "expected an ONNX model (ModelProto with ir_version and a graph), found \(sawGraph ? "no ir_version" : "no graph")")
        }
        return m
    }
}

public struct ONNXGraph: Sendable {
    public var name = ""
    public var nodes: [ONNXNode] = []
    public var initializers: [ONNXTensor] = []
    public var inputs: [ONNXValueInfo] = []
    public var outputs: [ONNXValueInfo] = []
    /// Byte offset of the GraphProto in the file.
    public var offset = 0

    static func decode(_ reader: ProtoReader) throws -> ONNXGraph {
        var r = reader
        var g = ONNXGraph()
        g.offset = r.pos
        while let (n, w) = try r.field() {
            switch (n, w) {
            case (1, .lengthDelimited): g.nodes.append(try ONNXNode.decode(try r.message()))
            case (2, .lengthDelimited): g.name = try r.string()
            case (5, .lengthDelimited): g.initializers.append(try ONNXTensor.decode(try r.message()))
            case (11, .lengthDelimited): g.inputs.append(try ONNXValueInfo.decode(try r.message()))
            case (12, .lengthDelimited): g.outputs.append(try ONNXValueInfo.decode(try r.message()))
            case (15, .lengthDelimited): throw r.error("expected dense initializers, found a sparse_initializer (not supported)")
            default: try r.skip(w)
            }
        }
        return g
    }
}

public struct ONNXNode: Sendable {
    public var name = ""
    public var opType = ""
    public var domain = ""
    public var inputs: [String] = []
    public var outputs: [String] = []
    public var attributes: [String: ONNXAttribute] = [:]
    public var offset = 0
    /// The operators this node stands for when it is a recognized pattern (ONNXLayerNormPattern); empty for a node of the file.
    public var decomposed: [String] = []
    /// Set when a pattern gave the node modelc's semantics rather than the operator's (ONNXRecurrentPattern, ONNXEmbeddingGather).
    public var rewrite: ONNXRewrite?

    static func decode(_ reader: ProtoReader) throws -> ONNXNode {
        var r = reader
        var node = ONNXNode()
        node.offset = r.pos
        while let (n, w) = try r.field() {
            switch (n, w) {
            case (1, .lengthDelimited): node.inputs.append(try r.string())
            case (2, .lengthDelimited): node.outputs.append(try r.string())
            case (3, .lengthDelimited): node.name = try r.string()
            case (4, .lengthDelimited): node.opType = try r.string()
            case (7, .lengthDelimited): node.domain = try r.string()
            case (5, .lengthDelimited):
                let a = try ONNXAttribute.decode(try r.message())
                node.attributes[a.name] = a
            default: try r.skip(w)
            }
        }
        return node
    }
}

/// One attribute; only the fields the file sets are non-empty.
public struct ONNXAttribute: Sendable {
    public var name = ""
    public var f: Float?
    public var i: Int?
    public var s: String?
    public var t: ONNXTensor?
    public var floats: [Float] = []
    public var ints: [Int] = []
    public var strings: [String] = []
    /// A subgraph (If, Loop, Scan bodies): present but not decoded.
    public var hasGraph = false
    public var offset = 0

    static func decode(_ reader: ProtoReader) throws -> ONNXAttribute {
        var r = reader
        var a = ONNXAttribute()
        a.offset = r.pos
        var ints: [Int64] = []
        while let (n, w) = try r.field() {
            switch (n, w) {
            case (1, .lengthDelimited): a.name = try r.string()
            case (2, .fixed32): a.f = Float(bitPattern: try r.fixed32())
            case (3, .varint): a.i = Int(truncatingIfNeeded: try r.int64())
            case (4, .lengthDelimited): a.s = try r.string()
            case (5, .lengthDelimited): a.t = try ONNXTensor.decode(try r.message())
            case (6, .lengthDelimited), (11, .lengthDelimited): a.hasGraph = true; try r.skip(w)
            case (7, _): try r.floats(w, into: &a.floats)
            case (8, _): try r.int64s(w, into: &ints)
            case (9, .lengthDelimited): a.strings.append(try r.string())
            default: try r.skip(w)
            }
        }
        a.ints = ints.map { Int(truncatingIfNeeded: $0) }
        return a
    }
}

/// What a rewritten node computes, where that differs from its ONNX operator.
public enum ONNXRewrite: Sendable, Equatable {
    /// An LSTM, GRU or RNN reading a batch-first sequence [N, T, F] and writing every step
    /// [N, T, D*H] (`sequence`) or the final states [N, D*H] (directions side by side).
    case recurrent(sequence: Bool)
    /// A Gather of an initializer's rows by computed ids, its inputs swapped to [ids, table].
    case embedding
}

/// A graph input or output: its name, element type and dims (nil: no shape given).
public struct ONNXValueInfo: Sendable {
    public enum Dim: Sendable, Equatable {
        case value(Int)
        case param(String)
        case unknown
    }
    public var name = ""
    public var elemType = 0
    public var dims: [Dim]?
    public var offset = 0

    static func decode(_ reader: ProtoReader) throws -> ONNXValueInfo {
        var r = reader
        var v = ONNXValueInfo()
        v.offset = r.pos
        while let (n, w) = try r.field() {
            switch (n, w) {
            case (1, .lengthDelimited): v.name = try r.string()
            case (2, .lengthDelimited):
                var type = try r.message()   // TypeProto: tensor_type = 1
                while let (n2, w2) = try type.field() {
                    guard n2 == 1, w2 == .lengthDelimited else { try type.skip(w2); continue }
                    try decodeTensorType(try type.message(), into: &v)
                }
            default: try r.skip(w)
            }
        }
        return v
    }

    /// TypeProto.Tensor: elem_type = 1, shape = 2 (TensorShapeProto: dim = 1 (dim_value = 1, dim_param = 2)).
    static func decodeTensorType(_ reader: ProtoReader, into v: inout ONNXValueInfo) throws {
        var t = reader
        while let (n, w) = try t.field() {
            switch (n, w) {
            case (1, .varint): v.elemType = Int(truncatingIfNeeded: try t.int64())
            case (2, .lengthDelimited):
                var shape = try t.message()
                var dims: [Dim] = []
                while let (n2, w2) = try shape.field() {
                    guard n2 == 1, w2 == .lengthDelimited else { try shape.skip(w2); continue }
                    var d = try shape.message()
                    var dim = Dim.unknown
                    while let (n3, w3) = try d.field() {
                        switch (n3, w3) {
                        case (1, .varint): dim = .value(Int(truncatingIfNeeded: try d.int64()))
                        case (2, .lengthDelimited): dim = .param(try d.string())
                        default: try d.skip(w3)
                        }
                    }
                    dims.append(dim)
                }
                v.dims = dims
            default: try t.skip(w)
            }
        }
    }
}
