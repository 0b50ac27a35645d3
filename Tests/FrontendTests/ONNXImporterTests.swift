// ONNX model files to the IR (ONNXImporter, ONNXOperators, ModelcModelFiles' ONNXChain): the
// committed fixtures made by torch.onnx.export (Tests/Fixtures/onnx/make_onnx.py) check with
// the counts the `onnx` package gives, their initializers load as weights under the IR's keys,
// and hostile or unsupported graphs (written here with a tiny protobuf writer) get clear errors.
import XCTest
@testable import ModelcCore
import ModelcData
import ModelcModelFiles
import ModelcFuzz

/// Protobuf encoding of the few ONNX messages the tests write.
enum PB {
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        repeat { out.append(UInt8(v & 0x7f) | (v >= 0x80 ? 0x80 : 0)); v >>= 7 } while v > 0
        return out
    }
    static func int(_ field: Int, _ v: Int) -> [UInt8] { varint(UInt64(field << 3)) + varint(UInt64(bitPattern: Int64(v))) }
    static func bytes(_ field: Int, _ b: [UInt8]) -> [UInt8] { varint(UInt64(field << 3 | 2)) + varint(UInt64(b.count)) + b }
    static func string(_ field: Int, _ s: String) -> [UInt8] { bytes(field, Array(s.utf8)) }

    static func tensor(_ name: String, _ dims: [Int], _ values: [Float]) -> [UInt8] {
        dims.flatMap { int(1, $0) } + int(2, 1) + string(8, name) + bytes(9, values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
    }
    static func intTensor(_ name: String, _ values: [Int]) -> [UInt8] {
        int(1, values.count) + int(2, 7) + string(8, name) + values.flatMap { int(7, $0) }
    }
    /// A FLOAT tensor whose data is in an external file (data_location EXTERNAL).
    static func externalTensor(_ name: String, _ dims: [Int], location: String, offset: Int, length: Int) -> [UInt8] {
        let entries = [("location", location), ("offset", "\(offset)"), ("length", "\(length)")]
        return dims.flatMap { int(1, $0) } + int(2, 1) + string(8, name) + entries.flatMap { bytes(13, string(1, $0.0) + string(2, $0.1)) } + int(14, 1)
    }
    static func attr(_ name: String, int v: Int) -> [UInt8] { string(1, name) + int(3, v) + int(20, 2) }
    static func attr(_ name: String, string v: String) -> [UInt8] { string(1, name) + string(4, v) + int(20, 3) }
    static func attr(_ name: String, ints: [Int]) -> [UInt8] { string(1, name) + ints.flatMap { int(8, $0) } + int(20, 7) }
    static func attr(_ name: String, float v: Float) -> [UInt8] {
        string(1, name) + [2 << 3 | 5] + withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } + int(20, 1)
    }
    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", attrs: [[UInt8]] = []) -> [UInt8] {
        inputs.flatMap { string(1, $0) } + outputs.flatMap { string(2, $0) } + string(3, name.isEmpty ? "/\(op)" : name) + string(4, op)
            + attrs.flatMap { bytes(5, $0) }
    }
    static func attr(_ name: String, strings: [String]) -> [UInt8] { string(1, name) + strings.flatMap { string(9, $0) } + int(20, 8) }
    static func valueInfo(_ name: String, _ dims: [Int], elemType: Int = 1) -> [UInt8] {
        let shape = dims.flatMap { bytes(1, int(1, $0)) }
        return string(1, name) + bytes(2, bytes(1, int(1, elemType) + bytes(2, shape)))
    }
    static func model(nodes: [[UInt8]], initializers: [[UInt8]], input: [Int] = [1, 4], inputType: Int = 1, output: String = "y",
                      opset: Int = 13) -> [UInt8] {
        let graph = nodes.flatMap { bytes(1, $0) } + string(2, "g") + initializers.flatMap { bytes(5, $0) }
            + bytes(11, valueInfo("x", input, elemType: inputType)) + bytes(12, valueInfo(output, [1, 3]))
        return int(1, 8) + string(2, "tests") + bytes(7, graph) + bytes(8, string(1, "") + int(2, opset))
    }

    /// x [1, 4] -> Gemm (fc.weight [3, 4], fc.bias [3], transB) -> op -> y.
    static func gemmModel(then op: String = "Softmax", weightName: String = "fc.weight", dims: [Int] = [3, 4]) -> [UInt8] {
        model(nodes: [node("Gemm", ["x", weightName, "fc.bias"], ["h"], name: "/fc/Gemm", attrs: [attr("transB", int: 1)]),
                      node(op, ["h"], ["y"], name: "/act/\(op)")],
              initializers: [tensor("fc.weight", dims, (0..<dims.reduce(1, *)).map { Float($0) / 10 }), tensor("fc.bias", [3], [0.1, 0.2, 0.3])])
    }
}

final class ONNXImporterTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx").path

    /// The chains of make_onnx.py (expected.json) and the graphs of make_onnx_graphs.py (expected_graphs.json).
    func expected() throws -> [String: [String: Any]] {
        var all: [String: [String: Any]] = [:]
        for file in ["expected.json", "expected_graphs.json"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/" + file))
            let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            all.merge(try XCTUnwrap(root["models"] as? [String: [String: Any]])) { a, _ in a }
        }
        return all
    }

    func check(_ bytes: [UInt8], _ path: String = "t.onnx") throws -> CheckReport { try Frontend.checkONNX(bytes: bytes, path: path) }

    func failure(_ bytes: [UInt8], _ path: String = "t.onnx") -> String {
        do { _ = try check(bytes, path) } catch { return "\(error)" }
        return "no error"
    }

    func testFixturesCheckWithTheCountsOfTheFile() throws {
        let models = try expected()
        XCTAssertEqual(models.count, 16)
        for (name, facts) in models {
            let r = try Frontend.check(path: "\(Self.dir)/\(name).onnx")
            XCTAssertTrue(r.ok, "\(name): \(r.problems)")
            XCTAssertEqual(r.ir.semantics, .pytorch)
            XCTAssertEqual(r.ir.inputShape, [28, 28, 1], name)
            XCTAssertEqual(r.ir.classCount, 10, name)
            // Every float initializer (weights, biases, BatchNorm statistics) is a parameter of the IR.
            // (plus the weights ConstantOfShape nodes make, in derived_weights).
            let filled = facts["filled_weight_elements"] as? Int ?? 0
            XCTAssertEqual(r.ir.totalParams, (facts["float_initializer_elements"] as? Int).map { $0 + filled }, name)
        }
    }

    /// LayerNormalization (opset 17, torch.onnx.export of nn.LayerNorm): epsilon and B from the
    /// node; LayerNorm(bias=False)'s B, a Constant of zeros, is no parameter (the file's 25,898
    /// initializer floats are the IR's parameters).
    func testLayerNormalization() throws {
        let r = try Frontend.check(path: "\(Self.dir)/layernorm.onnx")
        XCTAssertTrue(r.ok, "\(r.problems)")
        let norms = r.ir.layers.compactMap { l -> NormAttrs? in if case .normalization(let a) = l.op { return a }; return nil }
        XCTAssertEqual(norms, [NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: true, center: true),
                               NormAttrs(form: .lastAxis, epsilon: 1e-3, scale: true, center: false)])
        XCTAssertEqual(r.ir.layers.filter { $0.kind == "LayerNormalization" }.map(\.paramCount), [64, 16])
    }

    func testLayersCarryTheNodeAttributes() throws {
        let ops = { (name: String) in try Frontend.check(path: "\(Self.dir)/\(name).onnx").ir.layers.map(\.op) }
        let cnn = try ops("cnn_bn")
        guard case .conv2d(let c1) = cnn[1], case .conv2d(let c2) = cnn[4], case .batchNorm(let bn) = cnn[6] else { return XCTFail("\(cnn)") }
        XCTAssertEqual([c1.explicitPadH, c1.explicitPadW, c2.strideH, c2.explicitPadH], [1, 1, 2, 0])
        XCTAssertEqual(bn.epsilon, 1e-5)
        XCTAssertEqual(bn.momentum, 0.9, accuracy: 1e-6)
        let dec = try ops("decoder_ops")
        XCTAssertTrue(dec.contains(.zeroPadding(top: 1, bottom: 0, left: 1, right: 0)), "\(dec)")
        XCTAssertTrue(dec.contains(.upSampling(sizeH: 2, sizeW: 2)))
        XCTAssertTrue(dec.contains { if case .conv2d(let a) = $0 { return a.dilationH == 2 }; return false })
        XCTAssertTrue(dec.contains { if case .conv2dTranspose = $0 { return true }; return false })
        XCTAssertTrue(dec.contains(.dense(units: 10, useBias: false, activation: .linear)))
        XCTAssertTrue(try ops("depthwise").contains { if case .depthwiseConv2d(_, 2) = $0 { return true }; return false })
        XCTAssertTrue(try ops("seed000_small").contains(.zeroPadding(top: 2, bottom: 2, left: 2, right: 2)))
    }

    func testInitializersLoadUnderTheKeysOfTheIR() throws {
        for name in try expected().keys {
            let path = "\(Self.dir)/\(name).onnx"
            let ir = try Frontend.check(path: path).ir
            let arrays = try WeightsReader.read(path: path)
            let want = ir.layers.flatMap(\.stateDictTensors)
            XCTAssertEqual(Set(arrays.keys), Set(want.map(\.key)), name)
            for t in want { XCTAssertEqual(arrays[t.key]?.shape, t.shape, "\(name): \(t.key)") }
        }
    }

    func testAHandWrittenGraphImports() throws {
        let r = try check(PB.gemmModel())
        XCTAssertEqual(r.ir.layers.map(\.name), ["input", "fc", "act"])
        XCTAssertEqual(r.ir.layers[1].op, .dense(units: 3, useBias: true, activation: .linear))
        XCTAssertEqual(r.ir.layers[2].op, .activation(.softmax))
        XCTAssertTrue(ONNXFuzzEntry.run(PB.gemmModel()))
    }

    /// A Conv's group outside 1...65536 (0 divided by zero before: the onnx fuzz target's finding)
    /// is an error naming the node and the value.
    func testConvGroupOutOfRangeIsAnError() {
        let w = PB.tensor("c.weight", [2, 1, 3, 3], Array(repeating: 0.5, count: 18))
        for g in [0, -3, 70_000] {
            let m = PB.model(nodes: [PB.node("Conv", ["x", "c.weight"], ["y"], name: "c", attrs: [PB.attr("group", int: g)])],
                             initializers: [w], input: [1, 1, 5, 5])
            XCTAssertTrue(failure(m).contains("(Conv): group=\(g): expected 1...65536"), failure(m))
        }
    }

    /// SAME_UPPER / SAME_LOWER pads are computed from the input: symmetric ones on the convolution,
    /// asymmetric ones as a zero-padding layer (extra row and column last for UPPER, first for LOWER).
    func testAutoPadBecomesExplicitPads() throws {
        func conv(_ mode: String, kernel: Int, stride: Int) throws -> [Op] {
            let w = PB.tensor("c.weight", [2, 1, kernel, kernel], Array(repeating: 0.5, count: 2 * kernel * kernel))
            let m = PB.model(nodes: [PB.node("Conv", ["x", "c.weight"], ["y"], attrs: [PB.attr("auto_pad", string: mode), PB.attr("strides", ints: [stride, stride])])],
                             initializers: [w], input: [1, 1, 5, 5])
            return try check(m).ir.layers.map(\.op)
        }
        guard case .conv2d(let a) = try conv("SAME_UPPER", kernel: 3, stride: 2)[1] else { return XCTFail() }
        XCTAssertEqual([a.explicitPadH, a.explicitPadW, a.strideH], [1, 1, 2])
        let upper = try conv("SAME_UPPER", kernel: 2, stride: 1), lower = try conv("SAME_LOWER", kernel: 2, stride: 1)
        XCTAssertEqual(upper[1], .zeroPadding(top: 0, bottom: 1, left: 0, right: 1))
        XCTAssertEqual(lower[1], .zeroPadding(top: 1, bottom: 0, left: 1, right: 0))
        guard case .conv2d(let b) = upper[2] else { return XCTFail() }
        XCTAssertEqual([b.explicitPadH, b.explicitPadW], [0, 0])
    }

    func testUnsupportedOperatorsAreNamedAsTablesNameThem() {
        let m = failure(PB.gemmModel(then: "Sqrt"))
        XCTAssertTrue(m.hasPrefix("t.onnx: error: layer 'act' (Sqrt) is not supported (supported ONNX operators: Conv, "), m)
        let branch = failure(PB.model(nodes: [PB.node("Relu", ["x"], ["a"], name: "/a/Relu"), PB.node("Sqrt", ["x"], ["b"], name: "/root/Sqrt"),
                                              PB.node("Add", ["a", "b"], ["y"])], initializers: []))
        XCTAssertTrue(branch.hasPrefix("t.onnx: error: layer 'root' (Sqrt) is not supported (supported ONNX operators: Conv, ") && branch.contains("Add, Concat"), branch)
    }

    /// A PyTorch residual block and Inception-style block: merge layers reading their producers.
    func testBranchesBecomeMergeLayers() throws {
        let ir = try Frontend.check(path: "\(Self.dir)/branches.onnx").ir
        let names = ir.layers.map(\.name)
        func at(_ n: String) throws -> Int { try XCTUnwrap(names.firstIndex(of: n), "\(n) in \(names)") }
        let add = ir.layers[try at("add")], concat = ir.layers[try at("concat")], sub = ir.layers[try at("sub")]
        XCTAssertEqual(add.op, .merge(.add))
        XCTAssertEqual(add.producers, [try at("relu"), try at("res2")])
        XCTAssertEqual(concat.op, .merge(.concatenate(axis: -1)))
        XCTAssertEqual(concat.producers, [try at("b1"), try at("b3"), try at("b5")])
        XCTAssertEqual(concat.outputShape, [14, 14, 7])
        XCTAssertEqual(sub.producers, [try at("max"), try at("mul")])
        XCTAssertEqual(ir.layers[try at("b3")].producers, [try at("pool")], "a branch reads the pool, not the layer above")
        XCTAssertEqual(Set(ir.layers.compactMap { if case .merge(let k) = $0.op { return k.name } else { return nil } }),
                       ["add", "concatenate(axis=-1)", "maximum", "minimum", "multiply", "subtract"])
        let sm = try Frontend.check(path: "\(Self.dir)/sum_mean.onnx").ir
        XCTAssertEqual(sm.layers.map(\.op).filter { if case .merge = $0 { return true }; return false },
                       [.merge(.add), .merge(.average), .merge(.concatenate(axis: -3))])
    }

    /// NCHW Concat axes: 1 (channels) is the IR's last axis, 2 and 3 (H, W) its first two; never the batch.
    func testConcatAxesAndRefusedMerges() throws {
        func graph(_ merge: [UInt8], inits: [[UInt8]] = [], input: [Int] = [1, 2, 4, 6], extra: [[UInt8]] = []) -> [UInt8] {
            PB.model(nodes: [PB.node("Relu", ["x"], ["a"], name: "/a/Relu"), PB.node("Sigmoid", ["x"], ["b"], name: "/b/Sigmoid"), merge] + extra,
                     initializers: inits, input: input)
        }
        for (axis, ir, out) in [(1, -1, [4, 6, 4]), (2, -3, [8, 6, 2]), (3, -2, [4, 12, 2]), (-1, -2, [4, 12, 2])] {
            let r = try check(graph(PB.node("Concat", ["a", "b"], ["y"], attrs: [PB.attr("axis", int: axis)])))
            XCTAssertEqual(r.ir.layers[3].op, .merge(.concatenate(axis: ir)), "axis \(axis)")
            XCTAssertEqual(r.ir.layers[3].outputShape, out, "axis \(axis)")
            XCTAssertEqual(r.ir.layers[2].producers, [0], "the second branch reads the input")
        }
        let batch = failure(graph(PB.node("Concat", ["a", "b"], ["y"], attrs: [PB.attr("axis", int: 0)])))
        XCTAssertTrue(batch.contains("never the batch axis"), batch)
        let bias = failure(graph(PB.node("Add", ["a", "k"], ["c"]), inits: [PB.tensor("k", [2], [1, 2])], extra: [PB.node("Add", ["c", "b"], ["y"])]))
        XCTAssertTrue(bias.contains("(Add): Add of the computed tensor 'a' and a constant is not supported"), bias)
        let broadcast = failure(graph(PB.node("Mul", ["a", "b", "k"], ["y"]), inits: [PB.tensor("k", [1], [1])]))
        XCTAssertTrue(broadcast.contains("input 2 'k' is a constant"), broadcast)
        let twice = failure(PB.model(nodes: [PB.node("Relu", ["x"], ["a"]), PB.node("Add", ["a", "a"], ["y"])], initializers: []))
        XCTAssertTrue(twice.contains("reads the same tensor twice"), twice)
        let shapes = failure(PB.model(nodes: [PB.node("MaxPool", ["x"], ["a"], attrs: [PB.attr("kernel_shape", ints: [2, 2]), PB.attr("strides", ints: [2, 2])]),
                                              PB.node("Add", ["a", "x"], ["y"])], initializers: [], input: [1, 1, 4, 4]))
        XCTAssertTrue(shapes.contains("(2, 2, 1), (4, 4, 1) differ; each size must equal the others or be 1 (broadcasting)"), shapes)
    }

    func testGraphsThatAreNotOneInputToOneOutputAreRefused() {
        let twoOutputs = failure(PB.model(nodes: [PB.node("Relu", ["x"], ["a"], name: "/r/Relu"), PB.node("Sigmoid", ["x"], ["y"])], initializers: []))
        XCTAssertTrue(twoOutputs.contains("node '/r/Relu' (Relu): its output 'a' feeds no node and is not the graph output 'y' (models with several outputs are not supported)"), twoOutputs)
        let cycle = failure(PB.model(nodes: [PB.node("Add", ["x", "b"], ["a"]), PB.node("Relu", ["a"], ["b"]), PB.node("Relu", ["b"], ["y"])], initializers: []))
        XCTAssertTrue(cycle.contains("is on a cycle"), cycle)
        let twoData = failure(PB.model(nodes: [PB.node("Relu", ["x"], ["a"]), PB.node("Gemm", ["x", "a"], ["y"])], initializers: []))
        XCTAssertTrue(twoData.contains("takes the computed tensors 'x' and 'a'; only merge operators"), twoData)
        let twice = failure(PB.model(nodes: [PB.node("Relu", ["x"], ["a"]), PB.node("Relu", ["x"], ["a"]), PB.node("Relu", ["a"], ["y"])], initializers: []))
        XCTAssertTrue(twice.contains("output 'a' is already defined"), twice)
        let reordered = PB.model(nodes: [PB.node("Add", ["a", "b"], ["y"]), PB.node("Relu", ["x"], ["a"]), PB.node("Sigmoid", ["x"], ["b"])], initializers: [])
        XCTAssertEqual((try? check(reordered))?.ir.layers.map(\.kind), ["Input", "Relu", "Sigmoid", "Add"], "nodes out of order are sorted")
    }

    /// tf2onnx's Keras layout: NHWC input turned NCHW by a Transpose, NHWC again before the flatten.
    func testKerasNHWCGraphsFlattenInHWCOrder() throws {
        func graph(_ afterConv: [[UInt8]], flatten: String) -> [UInt8] {
            PB.model(nodes: [PB.node("Transpose", ["x"], ["t"], attrs: [PB.attr("perm", ints: [0, 3, 1, 2])]),
                             PB.node("Conv", ["t", "c.weight"], ["c"], name: "/c/Conv")] + afterConv
                        + [PB.node("Reshape", [flatten, "shape"], ["f"], name: "/flatten/Reshape"),
                           PB.node("MatMul", ["f", "fc.weight"], ["m"], name: "/fc/MatMul"), PB.node("Add", ["m", "fc.bias"], ["y"])],
                     initializers: [PB.tensor("c.weight", [3, 2, 1, 1], [1, 0, 0, 1, 1, 1]), PB.intTensor("shape", [0, -1]),
                                    PB.tensor("fc.weight", [48, 3], Array(repeating: 0.5, count: 144)), PB.tensor("fc.bias", [3], [0, 0, 0])],
                     input: [1, 4, 4, 2])
        }
        let r = try check(graph([PB.node("Transpose", ["c"], ["n"], attrs: [PB.attr("perm", ints: [0, 2, 3, 1])])], flatten: "n"))
        XCTAssertEqual(r.ir.inputShape, [4, 4, 2])
        XCTAssertEqual(r.ir.layers.map(\.kind), ["Input", "Conv", "Reshape", "MatMul"])
        XCTAssertTrue(r.ir.nhwcFlatten)
        XCTAssertEqual(r.ir.flattenOrder, .hwc)
        let nchw = try check(graph([], flatten: "c"))
        XCTAssertFalse(nchw.ir.nhwcFlatten, "a flatten of the NCHW tensor keeps PyTorch's order")
        let relu = failure(graph([PB.node("Transpose", ["c"], ["n"], attrs: [PB.attr("perm", ints: [0, 2, 3, 1])]), PB.node("Relu", ["n"], ["q"])], flatten: "q"))
        XCTAssertTrue(relu.contains("which the graph holds NHWC (Keras layout); only a Transpose to NCHW or a flatten is supported there"), relu)
        let perm = failure(graph([PB.node("Transpose", ["c"], ["n"], attrs: [PB.attr("perm", ints: [0, 1, 3, 2])])], flatten: "n"))
        XCTAssertTrue(perm.contains("perm [0, 1, 3, 2] of [3, 4, 4]: only NCHW <-> NHWC Transposes"), perm)
    }

    /// Published-file patterns: Log(Softmax(x)) is one LogSoftmax (torch 1.8, aclex/k210_mnist_assets);
    /// a graph output that later nodes read is ignored with a note (torch 1.3, edwin-19's Fashion-MNIST
    /// export listed its Flatten); a Gather of a table along an axis other than 0 is refused naming what it is.
    func testLogOfSoftmaxExtraOutputsAndAGatherOfATable() throws {
        let fc = [PB.tensor("fc.weight", [3, 4], Array(repeating: 0.1, count: 12)), PB.tensor("fc.bias", [3], [0, 0, 0])]
        let log = PB.model(nodes: [PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], attrs: [PB.attr("transB", int: 1)]),
                                   PB.node("Softmax", ["h"], ["p"], attrs: [PB.attr("axis", int: 1)]), PB.node("Log", ["p"], ["y"])],
                           initializers: fc, opset: 11)
        let r = try check(log)
        XCTAssertEqual(r.ir.layers.last?.kind, "LogSoftmax")
        XCTAssertEqual(r.ir.layers.last?.op, .activation(.softmax))   // log_softmax + NLL loss = softmax + cross-entropy
        XCTAssertTrue(r.ir.layers.last?.notes.contains("Softmax, Log: one LogSoftmax") ?? false, "\(r.ir.layers.last?.notes ?? [])")
        // Log of a Softmax read elsewhere too stays two operators (Log is refused).
        let shared = PB.model(nodes: [PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], attrs: [PB.attr("transB", int: 1)]),
                                      PB.node("Softmax", ["h"], ["p"], attrs: [PB.attr("axis", int: 1)]), PB.node("Log", ["p"], ["l"]),
                                      PB.node("Add", ["l", "p"], ["y"])], initializers: fc, opset: 11)
        XCTAssertTrue(failure(shared).contains("(Log) is not supported"), failure(shared))
        // Two outputs: the Gemm's h (read by the Relu) is ignored, the Relu's y is the model's output.
        let graph = [PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], attrs: [PB.attr("transB", int: 1)]), PB.node("Relu", ["h"], ["y"])].flatMap { PB.bytes(1, $0) }
            + PB.string(2, "g") + fc.flatMap { PB.bytes(5, $0) } + PB.bytes(11, PB.valueInfo("x", [1, 4]))
            + PB.bytes(12, PB.valueInfo("h", [1, 3])) + PB.bytes(12, PB.valueInfo("y", [1, 3]))
        let extra = PB.int(1, 8) + PB.string(2, "tests") + PB.bytes(7, graph) + PB.bytes(8, PB.string(1, "") + PB.int(2, 13))
        let e = try check(extra)
        XCTAssertTrue(e.ir.assumptions.contains("graph output 'h' not compiled as an output: later nodes read it; modelc compiles the one final output 'y'"), "\(e.ir.assumptions)")
        // A Gather along axis 0 of a table is an Embedding (ONNXRecurrentTests); along another axis it is refused.
        let gather = PB.model(nodes: [PB.node("Gather", ["emb.weight", "x"], ["y"], name: "node_embedding", attrs: [PB.attr("axis", int: 1)])],
                              initializers: [PB.tensor("emb.weight", [5, 3], Array(repeating: 0.5, count: 15))])
        XCTAssertTrue(failure(gather).contains("node 'node_embedding' (Gather) looks up entries of the initializer 'emb.weight' by the computed indices 'x' along axis 1; modelc reads such a Gather as an Embedding"), failure(gather))
    }

    /// x.view(x.size(0), -1) with a dynamic batch: Shape -> Gather -> Cast -> Concat -> Reshape, or
    /// Shape(start, end) -> Concat -> Reshape.
    func testAFlattenShapeComputedAtRunTimeIsEvaluated() throws {
        let m = PB.model(nodes: [PB.node("Relu", ["x"], ["a"]), PB.node("Shape", ["a"], ["s"]), PB.node("Gather", ["s", "zero"], ["n"]),
                                 PB.node("Cast", ["n"], ["n1"], attrs: [PB.attr("to", int: 7)]),
                                 PB.node("Concat", ["n1", "minus1"], ["shape"], attrs: [PB.attr("axis", int: 0)]),
                                 PB.node("Reshape", ["a", "shape"], ["f"]),
                                 PB.node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])],
                         initializers: [PB.intTensor("zero", [0]), PB.intTensor("minus1", [-1]),
                                        PB.tensor("fc.weight", [3, 32], Array(repeating: 0.1, count: 96)), PB.tensor("fc.bias", [3], [0, 0, 0])],
                         input: [1, 2, 4, 4])
        XCTAssertEqual(try check(m).ir.layers.map(\.kind), ["Input", "Relu", "Reshape", "Gemm"])
        // torch.onnx's dynamo exporter: Shape(start 0, end 1) -> Concat [N, -1] -> Reshape.
        let fc = [PB.intTensor("minus1", [-1]), PB.tensor("fc.weight", [3, 32], Array(repeating: 0.1, count: 96)), PB.tensor("fc.bias", [3], [0, 0, 0])]
        func dynamo(start: Int, end: Int) -> [UInt8] {
            PB.model(nodes: [PB.node("Shape", ["x"], ["s"], attrs: [PB.attr("start", int: start), PB.attr("end", int: end)]),
                             PB.node("Relu", ["x"], ["a"]), PB.node("Concat", ["s", "minus1"], ["shape"], attrs: [PB.attr("axis", int: 0)]),
                             PB.node("Reshape", ["a", "shape"], ["f"]),
                             PB.node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])],
                     initializers: fc, input: [1, 2, 4, 4], opset: 18)
        }
        XCTAssertEqual(try check(dynamo(start: 0, end: 1)).ir.layers.map(\.kind), ["Input", "Relu", "Reshape", "Gemm"])
        XCTAssertEqual(try check(dynamo(start: -4, end: -3)).ir.layers.map(\.kind), ["Input", "Relu", "Reshape", "Gemm"])
        // [N, C] then -1: a Reshape to [N, 2, 16] (not a flatten), refused as before.
        XCTAssertTrue(failure(dynamo(start: 0, end: 2)).contains("only flattening to [N, 32] is supported"), failure(dynamo(start: 0, end: 2)))
        XCTAssertEqual(ONNXShapeComputation.slice([5, 2, 4, 4], start: 1, end: 99), [2, 4, 4])
        XCTAssertEqual(ONNXShapeComputation.slice([5, 2, 4, 4], start: 3, end: 1), [])
        XCTAssertEqual(ONNXShapeComputation.slice([5, 2, 4, 4], start: -99, end: nil), [5, 2, 4, 4])
        let wrong = PB.model(nodes: [PB.node("Relu", ["x"], ["a"]), PB.node("Shape", ["a"], ["s"]), PB.node("Reshape", ["a", "s"], ["y"])],
                             initializers: [], input: [1, 2, 4, 4])
        XCTAssertTrue(failure(wrong).contains("to [N, 2, 4, 4]: only flattening to [N, 32] is supported"), failure(wrong))
    }

    /// Initializers in a file beside the model (data_location EXTERNAL): read with bounds checks.
    func testExternalDataIsReadWithBoundsChecks() throws {
        let dir = NSTemporaryDirectory() + "onnx-external-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/m", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let weights: [Float] = (0..<12).map { Float($0) / 10 }
        let data = [UInt8](repeating: 7, count: 16) + weights.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        try Data(data).write(to: URL(fileURLWithPath: dir + "/m/w.data"))
        try Data(data).write(to: URL(fileURLWithPath: dir + "/outside.data"))
        func model(_ location: String, offset: Int = 16, length: Int = 48) throws -> String {
            let m = PB.model(nodes: [PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])],
                             initializers: [PB.externalTensor("fc.weight", [3, 4], location: location, offset: offset, length: length),
                                            PB.tensor("fc.bias", [3], [0.1, 0.2, 0.3])])
            try Data(m).write(to: URL(fileURLWithPath: dir + "/m/model.onnx"))
            return dir + "/m/model.onnx"
        }
        let path = try model("w.data")
        XCTAssertTrue(try Frontend.check(path: path).ok)
        XCTAssertEqual(try WeightsReader.read(path: path)["fc.weight"]?.floats(), weights)
        func failure(_ path: String) -> String {
            do { _ = try WeightsReader.read(path: path) } catch { return "\(error)" }
            return "no error"
        }
        let beyond = failure(try model("w.data", offset: 20))
        XCTAssertTrue(beyond.contains("expected offset 20 + length 48 within the 64 bytes of the external data file 'w.data'"), beyond)
        let missing = failure(try model("nowhere.data"))
        XCTAssertTrue(missing.contains("external data file 'nowhere.data'") && missing.hasPrefix(path), missing)
        let up = failure(try model("../outside.data"))
        XCTAssertTrue(up.contains("expected the external data location as a path inside the model's directory, found '../outside.data'"), up)
        XCTAssertTrue(failure(try model("/etc/passwd")).contains("inside the model's directory"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/m/link.data", withDestinationPath: dir + "/outside.data")
        let link = failure(try model("link.data"))
        XCTAssertTrue(link.contains("external data file 'link.data' resolves to") && link.contains("outside the model's directory"), link)
        // From bytes alone (no directory) the data is not read; the IR still checks, the values are refused.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try model("w.data"))))
        XCTAssertTrue(try check(bytes).ok)
        let chain = try ONNXChain(model: ONNXModel.decode(bytes, file: "t.onnx"), file: "t.onnx")
        XCTAssertThrowsError(try chain.stateDict()) { XCTAssertTrue("\($0)".contains("its data is in the external file 'w.data', which was not read"), "\($0)") }
        XCTAssertTrue(ONNXFuzzEntry.run(bytes))
    }

    /// Weights built by ConstantOfShape and read through an Identity of an initializer are folded.
    func testDerivedWeightsAreFolded() throws {
        let path = "\(Self.dir)/derived_weights.onnx"
        let ir = try Frontend.check(path: path).ir
        XCTAssertEqual(ir.layers.map(\.name), ["input", "conv", "relu", "flatten", "fc"])
        let w = try WeightsReader.read(path: path)
        XCTAssertEqual(try w["conv.bias"]?.floats(), [0.25, 0.25, 0.25, 0.25])
        XCTAssertEqual(w["fc.weight"]?.shape, [10, 676])
    }

    /// Old exporters reorder an LSTM's gate blocks with Slice and Concat of the 2-D weights
    /// (Slice-1's attributes at opset 9, inputs at 10+): folded like shapes, along any axis.
    func testWeightsReorderedBySliceAndConcatAreFolded() throws {
        let w = PB.tensor("w", [3, 4], (0..<12).map(Float.init))
        for opset in [9, 13] {
            func slice(_ out: String, _ a: Int, _ b: Int) -> [UInt8] {
                opset < 10 ? PB.node("Slice", ["w"], [out], attrs: [PB.attr("starts", ints: [a]), PB.attr("ends", ints: [b]), PB.attr("axes", ints: [0])])
                    : PB.node("Slice", ["w", "s\(a)", "s\(b)", "ax0"], [out])
            }
            let nodes = [slice("tail", 2, 3), slice("head", 0, 2), PB.node("Concat", ["tail", "head"], ["fc.weight"], attrs: [PB.attr("axis", int: 0)]),
                         PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])]
            let inits = [w, PB.tensor("fc.bias", [3], [0, 0, 0]), PB.intTensor("s0", [0]), PB.intTensor("s2", [2]), PB.intTensor("s3", [3]), PB.intTensor("ax0", [0])]
            let bytes = PB.model(nodes: nodes, initializers: inits, opset: opset)
            let r = try check(bytes)
            XCTAssertEqual(r.ir.totalParams, 15, "opset \(opset)")
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("fold-\(opset)-\(UUID().uuidString).onnx").path
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            try Data(bytes).write(to: URL(fileURLWithPath: tmp))
            let weights = try WeightsReader.read(path: tmp)
            let folded = try XCTUnwrap(weights.values.first { $0.shape == [3, 4] }, "\(weights.keys)")
            XCTAssertEqual(try folded.floats(), [8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6, 7], "opset \(opset)")
        }
        // Along axis 1 (negative: from the end); parts of other sizes are refused naming the dims.
        let cols = [PB.node("Concat", ["a", "b"], ["fc.weight"], attrs: [PB.attr("axis", int: -1)]),
                    PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], attrs: [PB.attr("transB", int: 1)])]
        let a = PB.tensor("a", [3, 1], [1, 2, 3]), b = PB.tensor("b", [3, 3], (0..<9).map(Float.init))
        XCTAssertEqual(try check(PB.model(nodes: cols, initializers: [a, b, PB.tensor("fc.bias", [3], [0, 0, 0])])).ir.totalParams, 15)
        let bad = failure(PB.model(nodes: cols, initializers: [a, PB.tensor("b", [2, 3], (0..<6).map(Float.init)), PB.tensor("fc.bias", [3], [0, 0, 0])]))
        XCTAssertTrue(bad.contains("(Concat): axis -1 does not fit dims [[3, 1], [2, 3]]"), bad)
        // A float tensor over maxFoldedFloats is not materialized: refused before its values are read.
        let huge = [PB.node("ConstantOfShape", ["n"], ["big"]), PB.node("Slice", ["big", "s0", "s2", "ax0"], ["fc.weight"]),
                    PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], attrs: [PB.attr("transB", int: 1)])]
        let tooBig = failure(PB.model(nodes: huge, initializers: [PB.intTensor("n", [(1 << 22) + 1]), PB.intTensor("s0", [0]), PB.intTensor("s2", [2]),
                                                                   PB.intTensor("ax0", [0]), PB.tensor("fc.bias", [3], [0, 0, 0])]))
        XCTAssertTrue(tooBig.contains("expected a small constant to fold (at most 4194304 values), found dims [4194305]"), tooBig)
        // Every value a graph's folds read counts: five reads of one 2^22 splat pass the 2^24 budget.
        let reads = [PB.node("ConstantOfShape", ["n"], ["big"]), PB.node("Concat", ["big", "big", "big", "big", "big"], ["all"], attrs: [PB.attr("axis", int: 0)]),
                     PB.node("Slice", ["all", "s0", "s2", "ax0"], ["fc.weight"]),
                     PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], attrs: [PB.attr("transB", int: 1)])]
        let budget = failure(PB.model(nodes: reads, initializers: [PB.intTensor("n", [1 << 22]), PB.intTensor("s0", [0]), PB.intTensor("s2", [2]),
                                                                   PB.intTensor("ax0", [0]), PB.tensor("fc.bias", [3], [0, 0, 0])]))
        XCTAssertTrue(budget.contains("(Concat): expected at most 16777216 folded values in one graph, found more"), budget)
    }

    /// Slices with steps (a negative one starts at most at the last element; a step past the
    /// end takes one element, with no overflow) and an N-D Transpose, folded as onnxruntime computes them.
    func testSlicesAndTransposesOfWeightsAreFolded() throws {
        func weights(_ nodes: [[UInt8]], _ inits: [[UInt8]], out: Int = 1) throws -> [Float] {
            let gemm = PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])
            let bytes = PB.model(nodes: nodes + [gemm], initializers: inits + [PB.tensor("fc.bias", [out], Array(repeating: 0, count: out))])
            XCTAssertEqual(try check(bytes).ir.totalParams, 5 * out)
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("slice-\(UUID().uuidString).onnx").path
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            try Data(bytes).write(to: URL(fileURLWithPath: tmp))
            return try XCTUnwrap(try WeightsReader.read(path: tmp).values.first { $0.shape == [out, 4] }).floats()
        }
        let w = PB.tensor("w", [3, 4], (0..<12).map(Float.init))
        let back = PB.node("Slice", ["w", "st", "en", "ax0", "stp"], ["fc.weight"])
        XCTAssertEqual(try weights([back], [w, PB.intTensor("st", [-10]), PB.intTensor("en", [-20]), PB.intTensor("ax0", [0]), PB.intTensor("stp", [-1])]),
                       [0, 1, 2, 3])
        XCTAssertEqual(try weights([back], [w, PB.intTensor("st", [1]), PB.intTensor("en", [3]), PB.intTensor("ax0", [0]), PB.intTensor("stp", [Int.max])]),
                       [4, 5, 6, 7])
        let cube = PB.tensor("c", [2, 3, 2], (0..<12).map(Float.init))
        let turned = [PB.node("Transpose", ["c"], ["t"], attrs: [PB.attr("perm", ints: [1, 2, 0])]), PB.node("Reshape", ["t", "to"], ["fc.weight"])]
        XCTAssertEqual(try weights(turned, [cube, PB.intTensor("to", [3, 4])], out: 3), [0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11])
    }

    /// A regression head's y.squeeze(-1) as the graph output: computed as [N, 1], said in a note;
    /// a Squeeze anywhere else is refused.
    func testAFinalSqueezeOfOneValue() throws {
        let inits = [PB.tensor("fc.weight", [1, 4], [1, 2, 3, 4]), PB.tensor("fc.bias", [1], [0.5]), PB.intTensor("axes1", [1])]
        let gemm = PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])
        let r = try check(PB.model(nodes: [gemm, PB.node("Squeeze", ["h", "axes1"], ["y"])], initializers: inits))
        XCTAssertEqual(r.ir.layers.last?.outputShape, [1])
        XCTAssertTrue(r.ir.layers.last?.notes.contains("then Squeeze: the graph output 'y' is [N]; modelc computes it as [N, 1]") ?? false, "\(r.ir.layers.last?.notes ?? [])")
        XCTAssertEqual(try check(PB.model(nodes: [gemm, PB.node("Squeeze", ["h"], ["y"])], initializers: inits)).ir.layers.last?.outputShape, [1])
        let opset11 = PB.model(nodes: [gemm, PB.node("Squeeze", ["h"], ["y"], attrs: [PB.attr("axes", ints: [-1])])], initializers: inits, opset: 11)
        XCTAssertEqual(try check(opset11).ir.layers.last?.outputShape, [1])
        let inside = failure(PB.model(nodes: [gemm, PB.node("Squeeze", ["h", "axes1"], ["s"]), PB.node("Relu", ["s"], ["y"])], initializers: inits))
        XCTAssertTrue(inside.contains("(Squeeze): axes [1] of [1]: only the graph output's last axis of size 1"), inside)
    }

    /// FILE.onnx.modelc beside the graph gives what it cannot say; a layer directive is refused.
    func testSidecarAnnotations() throws {
        let dir = try scratchDirectory("sidecar")
        let path = dir + "/m.onnx"
        try Data(PB.gemmModel()).write(to: URL(fileURLWithPath: path))
        try "model: name=Tiny\ndataset: fashion-mnist\nclasses: a, b, c\ntrain: lr=0.01 loss=mse\n".write(toFile: path + ".modelc", atomically: true, encoding: .utf8)
        let ir = try Frontend.check(path: path).ir
        XCTAssertEqual(ir.name, "Tiny")
        XCTAssertEqual(ir.dataset, "fashion-mnist")
        XCTAssertEqual(ir.classNames, ["a", "b", "c"])
        XCTAssertEqual(ir.training.learningRate, 0.01)
        XCTAssertEqual(ir.training.loss, .meanSquaredError)
        for (text, what) in [("dataset: mnist\nlayer fc: bias=false\n", "layer"), ("dataset: mnist\ninput: data_format=channels_last\n", "input data format"),
                             ("dataset: mnist\nhead y: loss=mse\n", "head")] {
            try text.write(toFile: path + ".modelc", atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Frontend.check(path: path)) {
                XCTAssertTrue("\($0)".contains("m.onnx.modelc:2: error: \(what) directive: an ONNX graph states its layers"), "\($0)")
            }
        }
    }

    /// `input: shape=` in FILE.onnx.modelc gives the sizes an export left open (a dynamic sequence
    /// length); a size the graph fixes must agree, and the count must match the graph's.
    func testSidecarGivesTheOpenInputSizes() throws {
        let dir = try scratchDirectory("open")
        let path = dir + "/m.onnx", sidecar = path + ".modelc"
        // x [1, ?]: an empty dim_param, the same length as the dim_value it replaces.
        let open = PB.string(1, "x") + PB.bytes(2, PB.bytes(1, PB.int(1, 1) + PB.bytes(2, PB.bytes(1, PB.int(1, 1)) + PB.bytes(1, PB.string(2, "")))))
        try Data(PB.gemmModel().replacing(PB.valueInfo("x", [1, 4]), with: open)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Frontend.check(path: path)) { XCTAssertTrue("\($0)".contains("expected fixed sizes after the batch dimension, found [\"?\"]"), "\($0)") }
        try "input: shape=4\n".write(toFile: sidecar, atomically: true, encoding: .utf8)
        let r = try Frontend.check(path: path)
        XCTAssertEqual(r.ir.inputShape, [4])
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("graph input 'x': its open sizes from m.onnx.modelc (input: shape=4") }, "\(r.ir.assumptions)")
        XCTAssertEqual(try Frontend.onnxWeights(path: path)["fc.weight"]?.shape, [3, 4])
        XCTAssertEqual(try WeightsReader.read(path: path)["fc.weight"]?.shape, [3, 4])   // a binary's --weights m.onnx
        try "input: scale=0.5 shape=4  # the length the export left open\n".write(toFile: sidecar, atomically: true, encoding: .utf8)
        XCTAssertEqual(ONNXSidecar.inputSizes(path), [4])
        XCTAssertEqual(try Frontend.check(path: path).ir.inputShape, [4])
        try "input: shape=4x2\n".write(toFile: sidecar, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Frontend.check(path: path)) {
            XCTAssertTrue("\($0)".contains("m.onnx.modelc: error: input: shape=4x2: the graph input 'x' has 1 size(s) besides the batch, the annotation gives 2"), "\($0)")
        }
        // -1 (or 0) written as a size is open too.
        let minusOne = PB.model(nodes: [PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])],
                                initializers: [PB.tensor("fc.weight", [3, 4], (0..<12).map(Float.init)), PB.tensor("fc.bias", [3], [0, 0, 0])], input: [-1, -1])
        try Data(minusOne).write(to: URL(fileURLWithPath: path))
        try "input: shape=4\n".write(toFile: sidecar, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Frontend.check(path: path).ir.inputShape, [4])
        try Data(PB.gemmModel()).write(to: URL(fileURLWithPath: path))   // x [1, 4]: fixed
        try "input: shape=3\n".write(toFile: sidecar, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Frontend.check(path: path)) {
            XCTAssertTrue("\($0)".contains("input: shape=3: the graph input 'x' fixes axis 1 at 4, the annotation says 3"), "\($0)")
        }
    }

    /// The sizes a binary's `--weights FILE.onnx` reads (ONNXSidecar) are the annotation
    /// parser's, line for line: the last `shape=` wins, comments and line ends as Document's.
    func testSidecarInputSizesAgreeWithTheAnnotationParser() throws {
        let cases: [(String, [Int]?)] = [("input: shape=28\ninput: shape=28x28\n", [28, 28]), ("input: shape=14x28 shape=28x28", [28, 28]),
                                         ("# old\rinput: shape=14x28\ninput: shape=28x28", [28, 28]), ("input : shape=12", [12]),
                                         ("input x: shape=12", [12]), ("input: scale=0.5\r\ninput: shape=3x4  # open H, W\r\n", [3, 4]),
                                         ("dataset: mnist\n", nil), ("layer input: shape=4\n", nil), ("  input:\tshape=7\r", [7])]
        for (text, want) in cases {
            XCTAssertEqual(ONNXSidecar.inputSizes(text: Array(text.utf8)), want, text)
            let ann = try? AnnotationParser.parseSidecar(Document(text: text, path: "m.onnx.modelc"))
            if let ann { XCTAssertEqual(ann.inputShape, want, text) }
        }
    }

    /// The steps of lstm2_rows_dynamo_open (dynamo: its Reshapes computed from the steps) need
    /// the annotation to read even the weights: a binary's --weights reads it from beside the file.
    func testWeightsOfAGraphWithOpenStepsNeedItsSidecar() throws {
        let dir = try scratchDirectory("steps")
        let path = dir + "/m.onnx"
        try FileManager.default.copyItem(atPath: Self.dir + "/lstm2_rows_dynamo_open.onnx", toPath: path)
        XCTAssertThrowsError(try WeightsReader.read(path: path))
        try FileManager.default.copyItem(atPath: Self.dir + "/lstm2_rows_dynamo_open.onnx.modelc", toPath: path + ".modelc")
        XCTAssertEqual(try WeightsReader.read(path: path).count, 10)
        XCTAssertEqual(try Frontend.onnxWeights(path: path).keys.sorted(), try WeightsReader.read(path: path).keys.sorted())
    }

    /// Token ids are used as they are: a scale or offset for them is an error naming the line.
    func testTokenIdsRefuseAnInputScale() throws {
        let dir = try scratchDirectory("ids")
        let path = dir + "/m.onnx"
        try FileManager.default.copyItem(atPath: Self.dir + "/emb_lstm_ids_open_length.onnx", toPath: path)
        try "input: shape=12\n".write(toFile: path + ".modelc", atomically: true, encoding: .utf8)
        XCTAssertEqual(try Frontend.check(path: path).ir.inputScale, 1)
        try "input: scale=1/255\ninput: shape=12\n".write(toFile: path + ".modelc", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Frontend.check(path: path)) {
            XCTAssertTrue("\($0)".contains("m.onnx.modelc:1: error: input: scale=0.003921569 offset=0: the model's input is token ids"), "\($0)")
        }
    }

    /// Add, Sub, Mul and Div by a one-value constant map every value (as ONNX computes them);
    /// a constant divided by the tensor, or a constant of more axes, is refused by name.
    func testScalarMapsOfOneTensor() throws {
        let gemm = PB.node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])
        let inits = [PB.tensor("fc.weight", [3, 4], (0..<12).map(Float.init)), PB.tensor("fc.bias", [3], [0, 0, 0]), PB.tensor("c", [], [4])]
        for (op, inputs, want) in [("Div", ["h", "c"], Op.lambda(.standardize(mean: 0, std: 4))), ("Sub", ["c", "h"], .lambda(.affine(scale: -1, offset: 4))),
                                   ("Mul", ["c", "h"], .lambda(.affine(scale: 4, offset: 0))), ("Sub", ["h", "c"], .lambda(.standardize(mean: 4, std: 1)))] {
            let r = try check(PB.model(nodes: [gemm, PB.node(op, inputs, ["y"])], initializers: inits))
            XCTAssertEqual(r.ir.layers.last?.op, want, "\(op) \(inputs)")
        }
        let reciprocal = failure(PB.model(nodes: [gemm, PB.node("Div", ["c", "h"], ["y"])], initializers: inits))
        XCTAssertTrue(reciprocal.contains("(Div) reads the constant 'c' and then the computed tensor 'h' (input 1); modelc computes a Div of its first input"), reciprocal)
        let wide = failure(PB.model(nodes: [gemm, PB.node("Mul", ["h", "c3"], ["y"])], initializers: inits + [PB.tensor("c3", [1, 1, 1], [2])]))
        XCTAssertTrue(wide.contains("constant 'c3' of dims [1, 1, 1] would broadcast the tensor to 3 axes"), wide)
    }

    /// A graph whose output is a map or a sequence (a feature extractor, per-step values) is
    /// computed flattened, and the assumption says so and how it trains.
    func testAnOutputMapIsSaidToBeFlattened() throws {
        let conv = PB.model(nodes: [PB.node("Conv", ["x", "w"], ["y"], attrs: [PB.attr("kernel_shape", ints: [3, 3])])],
                            initializers: [PB.tensor("w", [2, 1, 3, 3], Array(repeating: 0.1, count: 18))], input: [1, 1, 4, 4])
        let r = try check(conv)
        XCTAssertEqual(r.ir.layers.last?.outputShape, [8])
        XCTAssertTrue(r.ir.assumptions.contains("graph output 'y' is [N, 2, 2, 2], a map: computed flattened to [N, 8] (the same values in order) and trained as 8 classes; for values, `train: loss=mse` in t.onnx.modelc"),
                      "\(r.ir.assumptions)")
    }

    func testMissingInitializerAndWrongDims() {
        let missing = failure(PB.gemmModel(weightName: "nowhere.weight"))
        XCTAssertTrue(missing.contains("input 'nowhere.weight' is neither an initializer, a Constant nor a node output (missing initializer?)"), missing)
        let wrong = failure(PB.gemmModel(dims: [3, 5]))
        XCTAssertTrue(wrong.contains("in_features=5 but the input has 4 features"), wrong)
    }

    func testHostileBytes() throws {
        let good = PB.gemmModel()
        XCTAssertTrue(failure(Array(good.prefix(good.count - 3))).contains("t.onnx: error: offset "))
        XCTAssertTrue(failure([0x08, 0x96]).contains("expected a varint"))
        XCTAssertTrue(failure(PB.bytes(7, [0x0a, 0x7f, 0x00])).contains("expected 127 bytes of a length-delimited field, found 1 left"))
        XCTAssertTrue(failure([]).contains("empty file"))
        // A huge dims product is refused before any value is converted or allocated.
        let huge = PB.model(nodes: [PB.node("Gemm", ["x", "fc.weight"], ["y"], attrs: [PB.attr("transB", int: 1)])],
                            initializers: [PB.tensor("fc.weight", [1 << 30, 1 << 30], [])])
        XCTAssertTrue(failure(huge).contains("in_features=1073741824 but the input has 4 features"), failure(huge))
        let chain = try ONNXChain(model: ONNXModel.decode(huge, file: "t.onnx"), file: "t.onnx")
        do { _ = try chain.stateDict(); XCTFail("huge tensor read") } catch let e as DataError {
            XCTAssertTrue(e.message.contains("expected at most 2147483648 elements, found dims [1073741824, 1073741824]"), e.message)
        }
        let hugeDim = PB.model(nodes: [], initializers: [PB.tensor("w", [1 << 40], [])])
        XCTAssertTrue(failure(hugeDim).contains("expected dims of 0...2147483648, found 1099511627776"), failure(hugeDim))
        // Deeply nested subgraphs (If/Loop bodies) are skipped without recursion.
        var nested: [UInt8] = PB.string(1, "x")
        for _ in 0..<2000 { nested = PB.bytes(1, PB.bytes(5, PB.string(1, "body") + PB.bytes(6, nested))) }
        XCTAssertTrue(failure(PB.int(1, 8) + PB.bytes(7, nested)).contains("error"))
        // Unsupported attribute values name what was expected.
        let resize = PB.model(nodes: [PB.node("Resize", ["x", "", "scales"], ["y"])], initializers: [PB.tensor("scales", [4], [1, 1, 1.5, 2])],
                              input: [1, 1, 4, 4])
        XCTAssertTrue(failure(resize).contains("only whole factors"), failure(resize))
        let pool = PB.model(nodes: [PB.node("MaxPool", ["x"], ["y"], attrs: [PB.attr("kernel_shape", ints: [2, 2]), PB.attr("pads", ints: [2, 1, 0, 0])])],
                            initializers: [], input: [1, 1, 4, 4])
        XCTAssertTrue(failure(pool).contains("pads [2, 1, 0, 0]: every pad must be smaller than the window [2, 2]"), failure(pool))
        let reshape = PB.model(nodes: [PB.node("Reshape", ["x", "shape"], ["y"])], initializers: [PB.intTensor("shape", [1, 2, 8])], input: [1, 1, 4, 4])
        XCTAssertTrue(failure(reshape).contains("only flattening"), failure(reshape))
    }

    func testFuzzSeedsAndRegressionsReplay() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz").path
        var imported = 0, files = 0
        for kind in ["seeds", "regressions"] {
            let dir = "\(root)/\(kind)/onnx"
            for f in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where !f.hasPrefix(".") {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(f)")))
                let ok = ONNXFuzzEntry.run(bytes)
                XCTAssertEqual(ok, (try? check(bytes)) != nil, f)
                if ok { imported += 1 }
                files += 1
            }
        }
        XCTAssertGreaterThanOrEqual(files, 5)
        XCTAssertGreaterThanOrEqual(imported, 4, "the seeds include the real fixtures, which import")
    }
}
