// ONNX LSTM, GRU and RNN nodes and Embedding Gathers (ModelcModelFiles' ONNXRecurrentPattern,
// ONNXEmbeddingGather and ONNXRecurrentWeights; ModelcCore's ONNXRecurrent): the committed
// fixtures of make_onnx_recurrent.py check with the counts PyTorch and Keras give; W, R and B
// become state_dict tensors with the gate blocks in PyTorch's order; the tensor a layer reads
// decides whether the recurrent layer returns its steps or its final states; and what modelc
// does not compute (graphs written here with ONNXImporterTests' protobuf writer) is refused
// with the node and the reason.
import XCTest
@testable import ModelcCore
import ModelcData
import ModelcModelFiles

final class ONNXRecurrentTests: XCTestCase {
    func check(_ bytes: [UInt8]) throws -> CheckReport { try Frontend.checkONNX(bytes: bytes, path: "t.onnx") }

    func failure(_ bytes: [UInt8]) -> String {
        do { _ = try check(bytes) } catch { return "\(error)" }
        return "no error"
    }

    func testFixturesCheckWithTheCountsOfTheirFrameworks() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: ONNXImporterTests.dir + "/expected_recurrent.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let models = try XCTUnwrap(root["models"] as? [String: [String: Any]])
        XCTAssertEqual(models.count, 24)
        for (name, facts) in models {
            let r = try Frontend.check(path: "\(ONNXImporterTests.dir)/\(name).onnx")
            XCTAssertTrue(r.ok, "\(name): \(r.problems)")
            XCTAssertEqual(r.ir.totalParams, facts["params"] as? Int, name)
            XCTAssertEqual(r.ir.inputShape, facts["input"] as? String == "npz" ? [12] : [28, 28], name)
            XCTAssertEqual(r.ir.classCount, 10, name)
        }
        // A stacked bidirectional GRU: the first layer returns its steps, the second its final states.
        let gru = try Frontend.check(path: "\(ONNXImporterTests.dir)/gru_bi2_rows.onnx").ir.layers.compactMap { l -> RecurrentAttrs? in
            if case .recurrent(let a) = l.op { return a }
            return nil
        }
        XCTAssertEqual(gru.map(\.returnSequences), [true, false])
        XCTAssertEqual(gru.map(\.bidirectional), [.concat, .concat])
        XCTAssertEqual(gru.map(\.resetAfter), [true, true])
    }

    // MARK: - Hand-written graphs: x [1, 3, 2] (batch, steps, features), hidden size 2

    static func gates(_ op: String) -> Int { op == "LSTM" ? 4 : op == "GRU" ? 3 : 1 }

    /// x -> Transpose [1, 0, 2] -> op -> `tail` (nodes reading Y, Y_h) -> Gemm of `head` ([units]) -> y.
    static func model(_ op: String = "LSTM", directions: Int = 1, attrs: [[UInt8]] = [], extraInputs: [String] = [], tail: [[UInt8]],
                      head: String, units: Int, more: [[UInt8]] = [], transpose: Bool = true) -> [UInt8] {
        let g = gates(op) * 2
        let w = PB.tensor("W", [directions, g, 2], (0..<(directions * g * 2)).map { Float($0) / 10 })
        let r = PB.tensor("R", [directions, g, 2], (0..<(directions * g * 2)).map { Float($0) / 20 })
        let b = PB.tensor("B", [directions, 2 * g], (0..<(directions * 2 * g)).map { Float($0) / 30 })
        let outputs = op == "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]
        let dir = directions == 2 ? [PB.attr("direction", string: "bidirectional")] : []
        let gru = op == "GRU" ? [PB.attr("linear_before_reset", int: 1)] : []
        let node = PB.node(op, [transpose ? "xt" : "x", "W", "R", "B"] + extraInputs, outputs, name: "/rnn/\(op)",
                           attrs: [PB.attr("hidden_size", int: 2)] + dir + gru + attrs)
        let nodes = (transpose ? [PB.node("Transpose", ["x"], ["xt"], attrs: [PB.attr("perm", ints: [1, 0, 2])])] : []) + [node] + tail
            + [PB.node("Gemm", [head, "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])]
        let inits = [w, r, b, PB.tensor("fc.weight", [3, units], Array(repeating: 0.1, count: 3 * units)), PB.tensor("fc.bias", [3], [0, 0, 0]),
                     PB.intTensor("axes0", [0]), PB.intTensor("axes1", [1]), scalar("last", -1), scalar("zero", 0), scalar("one", 1)] + more
        return PB.model(nodes: nodes, initializers: inits, input: [1, 3, 2])
    }

    static func scalar(_ name: String, _ v: Int) -> [UInt8] { PB.int(2, 7) + PB.string(8, name) + PB.int(7, v) }

    /// out[:, -1]: Squeeze(Y, 1) -> Transpose [1, 0, 2] -> Gather(axis 1, -1).
    static let lastStep = [PB.node("Squeeze", ["Y", "axes1"], ["s"]), PB.node("Transpose", ["s"], ["bt"], attrs: [PB.attr("perm", ints: [1, 0, 2])]),
                           PB.node("Gather", ["bt", "last"], ["h"], attrs: [PB.attr("axis", int: 1)])]
    /// h_n[0] of a one-direction node: Squeeze(Y_h, 0).
    static let finalState = [PB.node("Squeeze", ["Y_h", "axes0"], ["h"])]
    /// cat(h_n[0], h_n[1]) of a bidirectional node.
    static let bothFinalStates = [PB.node("Gather", ["Y_h", "zero"], ["h0"]), PB.node("Gather", ["Y_h", "one"], ["h1"]),
                                  PB.node("Concat", ["h0", "h1"], ["h"], attrs: [PB.attr("axis", int: 1)])]

    func recurrent(_ r: CheckReport) throws -> RecurrentAttrs {
        let a = r.ir.layers.compactMap { l -> RecurrentAttrs? in if case .recurrent(let a) = l.op { return a }; return nil }
        XCTAssertEqual(a.count, 1)
        return try XCTUnwrap(a.first)
    }

    func testTheTensorTheHeadReadsDecidesTheOutput() throws {
        let last = try check(Self.model(tail: Self.lastStep, head: "h", units: 2))
        XCTAssertTrue(last.ok, "\(last.problems)")
        XCTAssertEqual(last.ir.inputShape, [3, 2])
        XCTAssertFalse(try recurrent(last).returnSequences)
        XCTAssertEqual(last.ir.totalParams, 4 * 2 * (2 + 2) + 2 * 4 * 2 + 3 * 2 + 3)
        let hidden = try check(Self.model("GRU", tail: Self.finalState, head: "h", units: 2))
        XCTAssertFalse(try recurrent(hidden).returnSequences)
        XCTAssertTrue(hidden.ir.layers.contains { $0.notes.contains("GRU, Squeeze: one layer; the final states [2]") }, "\(hidden.ir.layers.map(\.notes))")
        let both = try check(Self.model("RNN", directions: 2, tail: Self.bothFinalStates, head: "h", units: 4))
        XCTAssertEqual(try recurrent(both).bidirectional, .concat)
        // Every step, batch-first, flattened in (steps, features) order.
        let steps = [PB.node("Squeeze", ["Y", "axes1"], ["s"]), PB.node("Transpose", ["s"], ["bt"], attrs: [PB.attr("perm", ints: [1, 0, 2])]),
                     PB.node("Relu", ["bt"], ["r"]), PB.node("Flatten", ["r"], ["h"], attrs: [PB.attr("axis", int: 1)])]
        let seq = try check(Self.model(tail: steps, head: "h", units: 6))
        XCTAssertTrue(try recurrent(seq).returnSequences)
        XCTAssertEqual(seq.ir.layers.map(\.kind).suffix(3), ["Relu", "Flatten", "Gemm"])
        XCTAssertEqual(seq.ir.layers.first { $0.kind == "Flatten" }?.inputShape, [3, 2])
    }

    func testGateBlocksMoveToPyTorchOrder() throws {
        func stateDict(_ op: String) throws -> [String: NDArray] {
            let bytes = Self.model(op, tail: Self.finalState, head: "h", units: 2)
            return try ONNXChain(model: ONNXModel.decode(bytes, file: "t.onnx"), file: "t.onnx").stateDict()
        }
        // W [1, G*2, 2] holds k/10 at flat index k: ONNX block j is rows 2j, 2j+1 (4 values from 4j).
        func blocks(_ a: NDArray?, width: Int, scale: Float) -> [Int] {
            guard let v = try? a?.floats() else { return [] }
            return stride(from: 0, to: v.count, by: 2 * width).map { Int((v[$0] * scale).rounded()) / (2 * width) }
        }
        let lstm = try stateDict("LSTM")
        XCTAssertEqual(blocks(lstm["rnn.weight_ih_l0"], width: 2, scale: 10), [0, 2, 3, 1])   // ONNX i, o, f, c -> PyTorch i, f, g, o
        XCTAssertEqual(lstm["rnn.weight_ih_l0"]?.shape, [8, 2])
        XCTAssertEqual(blocks(lstm["rnn.weight_hh_l0"], width: 2, scale: 20), [0, 2, 3, 1])
        // B [1, 16]: Wb (the first 8 values), then Rb, each moved the same way.
        XCTAssertEqual(blocks(lstm["rnn.bias_ih_l0"], width: 1, scale: 30), [0, 2, 3, 1])
        XCTAssertEqual(blocks(lstm["rnn.bias_hh_l0"], width: 1, scale: 30), [4, 6, 7, 5])
        let gru = try stateDict("GRU")
        XCTAssertEqual(blocks(gru["rnn.weight_ih_l0"], width: 2, scale: 10), [1, 0, 2])        // z, r, h -> r, z, n
        XCTAssertEqual(blocks(gru["rnn.bias_hh_l0"], width: 1, scale: 30), [4, 3, 5])
        XCTAssertEqual(Set(try stateDict("RNN").keys), ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias"])
    }

    func testZeroInitialStatesAreDroppedAndOthersRefused() throws {
        let zeros = PB.tensor("h0", [1, 1, 2], [0, 0])
        let ok = try check(Self.model("GRU", extraInputs: ["", "h0"], tail: Self.finalState, head: "h", units: 2, more: [zeros]))
        XCTAssertTrue(ok.ok)
        let ones = PB.tensor("h0", [1, 1, 2], [1, 1])
        XCTAssertTrue(failure(Self.model("GRU", extraInputs: ["", "h0"], tail: Self.finalState, head: "h", units: 2, more: [ones]))
            .contains("initial_h 'h0' is not zero: modelc starts every sequence from zero states"))
        XCTAssertTrue(failure(Self.model("GRU", extraInputs: ["x_lens"], tail: Self.finalState, head: "h", units: 2, more: [PB.intTensor("x_lens", [3])]))
            .contains("sequence_lens 'x_lens': sequences of different lengths are not supported"))
    }

    func testWhatModelcDoesNotComputeIsRefused() throws {
        func refused(_ bytes: [UInt8], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
            let f = failure(bytes)
            XCTAssertTrue(f.contains(message), f, file: file, line: line)
        }
        refused(Self.model(tail: Self.finalState + [PB.node("Squeeze", ["Y_c", "axes0"], ["c"]), PB.node("Add", ["h", "c"], ["hc"])], head: "hc", units: 2),
                "its final cell state Y_c 'Y_c' is read; modelc computes the hidden states only")
        let bidirectionalLast = [PB.node("Transpose", ["Y"], ["t"], attrs: [PB.attr("perm", ints: [0, 2, 1, 3])]),
                                 PB.node("Reshape", ["t", "shape"], ["s"]), PB.node("Transpose", ["s"], ["bt"], attrs: [PB.attr("perm", ints: [1, 0, 2])]),
                                 PB.node("Gather", ["bt", "last"], ["h"], attrs: [PB.attr("axis", int: 1)])]
        refused(Self.model(directions: 2, tail: bidirectionalLast, head: "h", units: 4, more: [PB.intTensor("shape", [0, 0, -1])]),
                "takes the last step (out[:, -1]) of the bidirectional node '/rnn/LSTM'")
        refused(Self.model(attrs: [PB.attr("direction", string: "reverse")], tail: Self.finalState, head: "h", units: 2),
                "layer 'rnn' (LSTM): direction=reverse: only forward and bidirectional nodes are supported")
        refused(Self.model("RNN", attrs: [PB.attr("activations", strings: ["Sigmoid"])], tail: Self.finalState, head: "h", units: 2),
                "activations [\"Sigmoid\"]: modelc computes tanh, or relu in place of every tanh (every direction's)")
        refused(Self.model("LSTM", attrs: [PB.attr("activations", strings: ["Sigmoid", "Relu", "Tanh"])], tail: Self.finalState, head: "h", units: 2),
                "activations [\"Sigmoid\", \"Relu\", \"Tanh\"]: modelc computes sigmoid, tanh, tanh, or relu in place of every tanh")
        // relu in place of every tanh (nn.RNN(nonlinearity="relu"), a Keras relu LSTM through tf2onnx) is the cell's activation.
        for (op, acts) in [("RNN", ["Relu"]), ("LSTM", ["Sigmoid", "Relu", "Relu"]), ("GRU", ["Sigmoid", "Relu"])] {
            let r = try check(Self.model(op, attrs: [PB.attr("activations", strings: acts)], tail: Self.finalState, head: "h", units: 2))
            XCTAssertEqual(try recurrent(r).activation, .relu, op)
        }
        refused(Self.model("LSTM", attrs: [PB.attr("clip", float: 3)], tail: Self.finalState, head: "h", units: 2), "clip=3.0")
        refused(Self.model("GRU", attrs: [PB.attr("linear_before_reset", int: 0)], tail: Self.finalState, head: "h", units: 2),
                "linear_before_reset=0 (the reset gate applied to the state before its projection) is not supported")
        // A graph input read by a time-major node (layout 0) is [T, N, F]: examples [T, F], any batch.
        let direct = Self.model(tail: Self.finalState, head: "h", units: 2, transpose: false)
        for (dims, example) in [([3, 1, 2], [3, 2]), ([3, 5, 2], [3, 2]), ([1, 3, 2], [1, 2])] {
            let r = try check(direct.replacing(PB.valueInfo("x", [1, 3, 2]), with: PB.valueInfo("x", dims)))
            XCTAssertEqual(r.ir.inputShape, example, "\(dims)")
            XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("graph input 'x' is time-major, [steps, batch, features]") }, "\(r.ir.assumptions)")
        }
        // ... whose steps must be fixed (an empty dim_param, the same length as the dim_value it replaces).
        let openSteps = PB.string(1, "x") + PB.bytes(2, PB.bytes(1, PB.int(1, 1) + PB.bytes(2, PB.bytes(1, PB.string(2, "")) + PB.bytes(1, PB.int(1, 1)) + PB.bytes(1, PB.int(1, 2)))))
        refused(direct.replacing(PB.valueInfo("x", [1, 3, 2]), with: openSteps),
                "reads the graph input 'x' time-major ([steps, batch, features]) with an open number of steps (axis 0)")
        // ... which `input: shape=STEPSxFEATURES` beside the file gives (the batch is axis 1 there).
        let dir = try scratchDirectory("tm")
        try Data(direct.replacing(PB.valueInfo("x", [1, 3, 2]), with: openSteps)).write(to: URL(fileURLWithPath: dir + "/t.onnx"))
        try "input: shape=3x2\n".write(toFile: dir + "/t.onnx.modelc", atomically: true, encoding: .utf8)
        XCTAssertEqual(try Frontend.check(path: dir + "/t.onnx").ir.inputShape, [3, 2])
        try "input: shape=3x5\n".write(toFile: dir + "/t.onnx.modelc", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Frontend.check(path: dir + "/t.onnx")) {
            XCTAssertTrue("\($0)".contains("input: shape=3x5: the graph input 'x' fixes axis 2 at 2, the annotation says 5"), "\($0)")
        }
        // Another reader of a time-major input (a mean over axis 1 is over the batch there) is refused.
        refused(Self.model(tail: Self.finalState + [PB.node("ReduceMean", ["x"], ["m"], attrs: [PB.attr("axes", ints: [1])])], head: "h", units: 2, transpose: false),
                "(ReduceMean) reads the graph input 'x', which a recurrent node reads time-major ([steps, batch, features])")
        // Its sizes are [T, N, F] to a shape computation: h_n[0].view(x.size(1), -1) keeps the batch.
        let view = [PB.node("Shape", ["x"], ["xs"]), PB.node("Gather", ["xs", "one"], ["n"]), PB.node("Unsqueeze", ["n", "axes0"], ["n1"]),
                    PB.node("Concat", ["n1", "minus1"], ["to"], attrs: [PB.attr("axis", int: 0)]),
                    PB.node("Squeeze", ["Y_h", "axes0"], ["h0"]), PB.node("Reshape", ["h0", "to"], ["h"])]
        let viewed = try check(Self.model(tail: view, head: "h", units: 2, more: [PB.intTensor("minus1", [-1])], transpose: false)
            .replacing(PB.valueInfo("x", [1, 3, 2]), with: PB.valueInfo("x", [3, 5, 2])))
        XCTAssertEqual(viewed.ir.layers.last?.outputShape, [3])
        refused(Self.model(tail: [PB.node("Squeeze", ["Y", "axes1"], ["s"]), PB.node("Flatten", ["s"], ["h"])], head: "h", units: 6),
                "reads 's', the steps of node '/rnn/LSTM' as [time, batch, hidden]; a layer reads the steps as [batch, steps, features]")
        refused(Self.model(tail: [PB.node("Squeeze", ["Y_h", "axes0"], ["h"]), PB.node("Squeeze", ["Y", "axes1"], ["s"]),
                                  PB.node("Transpose", ["s"], ["bt"], attrs: [PB.attr("perm", ints: [1, 0, 2])]),
                                  PB.node("Flatten", ["bt"], ["f"]), PB.node("Concat", ["h", "f"], ["hf"], attrs: [PB.attr("axis", int: 1)])],
                           head: "hf", units: 8),
                "its output is read twice")
        refused(Self.model(tail: Self.lastStep.prefix(2) + [PB.node("Conv", ["bt", "cw"], ["h"])], head: "h", units: 2,
                           more: [PB.tensor("cw", [2, 3, 1], Array(repeating: 0.5, count: 6))]),
                "(Conv): reads the sequence 'bt' [batch, steps, features] (3 x 2 per sample)")
    }

    func testMeanAndMaxOverTheStepsPool() throws {
        let steps = [PB.node("Squeeze", ["Y", "axes1"], ["s"]), PB.node("Transpose", ["s"], ["bt"], attrs: [PB.attr("perm", ints: [1, 0, 2])])]
        let mean = try check(Self.model(tail: steps + [PB.node("ReduceMean", ["bt"], ["h"], attrs: [PB.attr("axes", ints: [1]), PB.attr("keepdims", int: 0)])],
                                         head: "h", units: 2))
        XCTAssertEqual(mean.ir.layers.map(\.kind).suffix(3), ["ReduceMean", "Flatten", "Gemm"])
        XCTAssertEqual(mean.ir.layers.first { $0.kind == "ReduceMean" }?.outputShape, [1, 2])
        XCTAssertTrue(try recurrent(mean).returnSequences)
        let features = failure(Self.model(tail: steps + [PB.node("ReduceMax", ["bt"], ["h"], attrs: [PB.attr("axes", ints: [2]), PB.attr("keepdims", int: 0)])],
                                          head: "h", units: 3))
        XCTAssertTrue(features.contains("(ReduceMax): axes [2] of a sequence [batch, steps, features]: only the steps (axis 1) are supported"), features)
        // Over an image's H and W (either order, negative axes too): a global pool.
        let image = PB.model(nodes: [PB.node("Conv", ["x", "cw"], ["c"], name: "/conv/Conv"),
                                     PB.node("ReduceMean", ["c"], ["h"], attrs: [PB.attr("axes", ints: [-1, -2]), PB.attr("keepdims", int: 0)]),
                                     PB.node("Gemm", ["h", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])],
                             initializers: [PB.tensor("cw", [2, 1, 3, 3], Array(repeating: 0.1, count: 18)),
                                            PB.tensor("fc.weight", [3, 2], Array(repeating: 0.1, count: 6)), PB.tensor("fc.bias", [3], [0, 0, 0])],
                             input: [1, 1, 6, 6])
        let pooled = try check(image)
        XCTAssertEqual(pooled.ir.layers.first { $0.kind == "ReduceMean" }?.outputShape, [1, 1, 2])
        XCTAssertEqual(pooled.ir.layers.first { $0.kind == "ReduceMean" }?.notes, ["mean over the 4 x 4 pixels"])
    }

    func testBatchFirstLayoutAndInputsReadTwice() throws {
        // layout=1: X [N, T, F] and Y [N, T, D, H] batch-first, no Transposes.
        let batchFirst = [PB.node("Squeeze", ["Y", "axes2"], ["s"]), PB.node("Gather", ["s", "last"], ["h"], attrs: [PB.attr("axis", int: 1)])]
        let r = try check(Self.model(attrs: [PB.attr("layout", int: 1)], tail: batchFirst, head: "h", units: 2, more: [PB.intTensor("axes2", [2])],
                                     transpose: false))
        XCTAssertFalse(try recurrent(r).returnSequences)
        // The graph input read by a Flatten before the LSTM is still the sequence [T, F] (not a 1-D image [L, C]).
        let nodes = [PB.node("Flatten", ["x"], ["f"], attrs: [PB.attr("axis", int: 1)]),
                     PB.node("Transpose", ["x"], ["xt"], attrs: [PB.attr("perm", ints: [1, 0, 2])]),
                     PB.node("LSTM", ["xt", "W", "R", "B"], ["Y", "Y_h"], name: "/rnn/LSTM", attrs: [PB.attr("hidden_size", int: 2)]),
                     PB.node("Squeeze", ["Y_h", "axes0"], ["h"]), PB.node("Concat", ["f", "h"], ["hf"], attrs: [PB.attr("axis", int: 1)]),
                     PB.node("Gemm", ["hf", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])]
        let inits = [PB.tensor("W", [1, 8, 2], Array(repeating: 0.1, count: 16)), PB.tensor("R", [1, 8, 2], Array(repeating: 0.1, count: 16)),
                     PB.tensor("B", [1, 16], Array(repeating: 0, count: 16)), PB.intTensor("axes0", [0]),
                     PB.tensor("fc.weight", [3, 8], Array(repeating: 0.1, count: 24)), PB.tensor("fc.bias", [3], [0, 0, 0])]
        let both = try check(PB.model(nodes: nodes, initializers: inits, input: [1, 3, 2]))
        XCTAssertEqual(both.ir.inputShape, [3, 2])
        XCTAssertEqual(both.ir.layers.first { $0.kind == "LSTM" }?.inputShape, [3, 2])
        // Read through an activation first, the input is still the sequence the LSTM reads.
        let relu = [PB.node("Relu", ["x"], ["r"]), PB.node("Transpose", ["r"], ["xt"], attrs: [PB.attr("perm", ints: [1, 0, 2])])] + nodes.dropFirst(2)
        let through = try check(PB.model(nodes: Array(relu.prefix(4)) + [PB.node("Gemm", ["h", "fc2.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])],
                                         initializers: inits + [PB.tensor("fc2.weight", [3, 2], Array(repeating: 0.1, count: 6))], input: [1, 3, 2]))
        XCTAssertEqual(through.ir.layers.map(\.inputShape).prefix(3), [[3, 2], [3, 2], [3, 2]])
        XCTAssertEqual(through.ir.layers[0].notes.first, "input [3, 2] (steps, features) from the graph input 'x'")
        // A 1-D convolution's output [N, C, L] is not a sequence [N, T, F]: refused, never read with its axes swapped.
        let conv = [PB.node("Conv", ["x", "cw"], ["c"], name: "/conv/Conv"), PB.node("Transpose", ["c"], ["xt"], attrs: [PB.attr("perm", ints: [1, 0, 2])]),
                    PB.node("LSTM", ["xt", "W3", "R", "B"], ["Y", "Y_h"], name: "/rnn/LSTM", attrs: [PB.attr("hidden_size", int: 2)]),
                    PB.node("Squeeze", ["Y_h", "axes0"], ["h"]),
                    PB.node("Gemm", ["h", "fc2.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])]
        let f = failure(PB.model(nodes: conv, initializers: inits + [PB.tensor("cw", [3, 3, 1], Array(repeating: 0.5, count: 9)),
                                                                     PB.tensor("W3", [1, 8, 3], Array(repeating: 0.1, count: 24)),
                                                                     PB.tensor("fc2.weight", [3, 2], Array(repeating: 0.1, count: 6))],
                                 input: [1, 3, 2]))
        XCTAssertTrue(f.contains("(LSTM): reads 'c' [3, 2], which is not a sequence [batch, steps, features]"), f)
    }

    func testControlFlowZeroStateCyclesAndIdChains() throws {
        let loop = failure(PB.model(nodes: [PB.node("Loop", ["", "", "x"], ["y"], name: "while")], initializers: []))
        XCTAssertTrue(loop.contains("node 'while' (Loop): control flow (Loop, Scan, If) is not supported; a recurrence written as a Loop"), loop)
        // An initial state on a cycle of Identities is not zero (and does not recurse forever).
        let cycle = [PB.node("Identity", ["b"], ["a"]), PB.node("Identity", ["a"], ["b"])]
        let c = failure(Self.model("GRU", extraInputs: ["", "a"], tail: Self.finalState + cycle, head: "h", units: 2))
        XCTAssertTrue(c.contains("initial_h 'a' is not zero"), c)
        // Float ids cast to integers (tf2onnx), also through Keras 3's negative-index wrap, are the Embedding's;
        // a chain that changes an id is not.
        func ids(_ chain: [[UInt8]], out: String) -> [UInt8] {
            PB.model(nodes: chain + [PB.node("Gather", ["emb.weight", out], ["e"], name: "/emb/Gather"), PB.node("Flatten", ["e"], ["f"]),
                                     PB.node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])],
                     initializers: [PB.tensor("emb.weight", [5, 2], (0..<10).map(Float.init)), PB.tensor("fc.weight", [3, 8], Array(repeating: 0.1, count: 24)),
                                    PB.tensor("fc.bias", [3], [0, 0, 0]), PB.tensor("zero", [], [0]), Self.scalar("five", 5), Self.scalar("one", 1)],
                     input: [1, 4])
        }
        let wrap = [PB.node("Cast", ["x"], ["i"], attrs: [PB.attr("to", int: 7)]), PB.node("Add", ["i", "five"], ["w"]),
                    PB.node("Cast", ["i"], ["fi"], attrs: [PB.attr("to", int: 1)]), PB.node("Less", ["fi", "zero"], ["neg"]),
                    PB.node("Where", ["neg", "w", "i"], ["k"])]
        let r = try check(ids(wrap, out: "k"))
        XCTAssertEqual(r.ir.layers.first { $0.name == "emb" }?.notes.first?.hasPrefix("Cast, Add, Cast, Less, Where: the ids made integers (each of 0..<5 kept)"), true,
                       "\(r.ir.layers.map(\.notes))")
        let shifted = failure(ids([PB.node("Cast", ["x"], ["i"], attrs: [PB.attr("to", int: 7)]), PB.node("Add", ["i", "one"], ["k"])], out: "k"))
        XCTAssertTrue(shifted.contains("(Cast) is not supported"), shifted)
    }

    func testEmbeddingGatherReadsTokenIds() throws {
        let nodes = [PB.node("Gather", ["emb.weight", "x"], ["e"], name: "/emb/Gather"), PB.node("Flatten", ["e"], ["f"], attrs: [PB.attr("axis", int: 1)]),
                     PB.node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])]
        let inits = [PB.tensor("emb.weight", [5, 2], (0..<10).map(Float.init)), PB.tensor("fc.weight", [3, 8], Array(repeating: 0.1, count: 24)),
                     PB.tensor("fc.bias", [3], [0, 0, 0])]
        let r = try check(PB.model(nodes: nodes, initializers: inits, input: [1, 4], inputType: 7))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.inputShape, [4])
        XCTAssertEqual(r.ir.layers.first { $0.name == "emb" }?.op, .embedding(vocab: 5, dim: 2, paddingIdx: nil))
        let sd = try ONNXChain(model: ONNXModel.decode(PB.model(nodes: nodes, initializers: inits, input: [1, 4], inputType: 7), file: "t.onnx"), file: "t.onnx").stateDict()
        XCTAssertEqual(sd["emb.weight"]?.shape, [5, 2])
        // Float ids are refused by name.
        let float = failure(PB.model(nodes: nodes, initializers: inits, input: [1, 4]))
        XCTAssertTrue(float.contains("graph input 'x': read by an Embedding: expected INT64 or INT32 token ids, found element type 1"), float)
    }
}
