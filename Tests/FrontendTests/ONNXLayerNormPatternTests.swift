// A LayerNorm written as primitive ONNX operators (ModelcModelFiles' ONNXLayerNormPattern, the
// importer's ONNXDecomposedLayerNorm): the torch.onnx.export fixtures at opsets 13 and 14, the
// tf2onnx-style Reciprocal graph and the real tf2onnx conversion of a Keras model (the scaled
// form) of make_onnx_layernorm_patterns.py import as LayerNormalization layers with
// the file's eps, axes and affine parameters (onnxruntime's outputs are compared in
// SweepTests/ONNXCompileTests), and graphs that are almost the pattern (written here with the
// tiny protobuf writer PB) are refused with an error that names the piece that did not match.
import XCTest
@testable import ModelcCore
import ModelcData
import ModelcModelFiles
import ModelcFuzz

/// x -> a decomposed LayerNorm over the last axis -> Gemm (fc: 3 outputs) -> y, each piece changeable.
struct DecomposedLayerNormGraph {
    var input = [1, 4]
    var axes = [-1]
    var axesAsInput = false
    var keepdims: Int?
    var exponent: Float = 2
    var subtractFrom = "x"
    var reciprocal = false
    /// nil: no Mul by gamma (elementwise_affine=False).
    var gammaDims: [Int]? = [4]
    var beta = true
    /// d (x - mean) read once more, by an Add after the LayerNorm.
    var extraReader = false
    /// The scaled form of tf2onnx (Keras): Add(Mul(x, inv), Mul(Neg(mean), inv) + beta), inv = gamma / sqrt(var + eps).
    var scaled = false
    /// The scaled form's last node (Add; a Sub is a near miss).
    var scaledSum = "Add"
    /// A node reading x (and more), first in the graph, whose output is added to the LayerNorm's before the Gemm.
    var side: (op: String, inputs: [String])?

    var bytes: [UInt8] {
        var inits: [[UInt8]] = [PB.tensor("ln.eps", [], [1e-5]), PB.tensor("ln.two", [], [exponent]),
                                PB.tensor("fc.weight", [3, 4], (0..<12).map { Float($0) / 10 - 0.5 }), PB.tensor("fc.bias", [3], [0.1, 0.2, 0.3])]
        func mean(_ i: String, _ o: String, _ name: String) -> [UInt8] {
            let keep = keepdims.map { [PB.attr("keepdims", int: $0)] } ?? []
            return axesAsInput ? PB.node("ReduceMean", [i, "ln.axes"], [o], name: name, attrs: keep)
                               : PB.node("ReduceMean", [i], [o], name: name, attrs: keep + [PB.attr("axes", ints: axes)])
        }
        if axesAsInput { inits.append(PB.intTensor("ln.axes", axes)) }
        var nodes = subtractFrom == "x" ? [] : [PB.node("Relu", ["x"], [subtractFrom], name: "/pre/Relu")]
        nodes += [mean("x", "mean", "/ln/ReduceMean"), PB.node("Sub", [subtractFrom, "mean"], ["d"], name: "/ln/Sub"),
                  PB.node("Pow", ["d", "ln.two"], ["sq"], name: "/ln/Pow"), mean("sq", "var", "/ln/ReduceMean_1"),
                  PB.node("Add", ["var", "ln.eps"], ["ve"], name: "/ln/Add"), PB.node("Sqrt", ["ve"], ["s"], name: "/ln/Sqrt")]
        if scaled { return scaledBytes(nodes: nodes, inits: inits) }
        nodes += reciprocal ? [PB.node("Reciprocal", ["s"], ["r"], name: "/ln/Reciprocal"), PB.node("Mul", ["r", "d"], ["n"], name: "/ln/Mul_2")]
                            : [PB.node("Div", ["d", "s"], ["n"], name: "/ln/Div")]
        var last = "n"
        if let dims = gammaDims {
            let count = dims.reduce(1, *)
            inits.append(PB.tensor("ln.weight", dims, (0..<count).map { 1 + Float($0) / 10 }))
            nodes.append(PB.node("Mul", [last, "ln.weight"], ["g"], name: "/ln/Mul"))
            last = "g"
            if beta {
                inits.append(PB.tensor("ln.bias", dims, (0..<count).map { Float($0) / 20 }))
                nodes.append(PB.node("Add", ["ln.bias", last], ["b"], name: "/ln/Add_1"))
                last = "b"
            }
        }
        if extraReader {
            nodes.append(PB.node("Add", [last, "d"], ["z"], name: "/res/Add"))
            last = "z"
        }
        if let (op, inputs) = side {
            nodes.insert(PB.node(op, inputs, ["side"], name: "/side/\(op)"), at: 0)
            nodes.append(PB.node("Add", [last, "side"], ["z2"], name: "/side/Add"))
            last = "z2"
        }
        nodes.append(PB.node("Gemm", [last, "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)]))
        return PB.model(nodes: nodes, initializers: inits, input: input)
    }

    /// The scaled form after Sqrt: gamma and beta each optional (Keras scale=False, center=False).
    func scaledBytes(nodes: [[UInt8]], inits: [[UInt8]]) -> [UInt8] {
        var nodes = nodes, inits = inits, inv = "r"
        nodes.append(PB.node("Reciprocal", ["s"], ["r"], name: "/ln/Reciprocal"))
        if let dims = gammaDims {
            inits.append(PB.tensor("ln.weight", dims, (0..<dims.reduce(1, *)).map { 1 + Float($0) / 10 }))
            nodes.append(PB.node("Mul", ["r", "ln.weight"], ["inv"], name: "/ln/mul"))
            inv = "inv"
        }
        nodes += [PB.node("Neg", ["mean"], ["nm"], name: "/ln/Neg"), PB.node("Mul", ["x", inv], ["a"], name: "/ln/mul_2"),
                  PB.node("Mul", [inv, "nm"], ["b"], name: "/ln/mul_1")]
        var shift = "b"
        if beta {
            inits.append(PB.tensor("ln.bias", [4], (0..<4).map { Float($0) / 20 }))
            nodes.append(PB.node("Add", ["b", "ln.bias"], ["sh"], name: "/ln/add_1"))
            shift = "sh"
        }
        nodes += [PB.node(scaledSum, ["a", shift], ["n"], name: "/ln/add_2"),
                  PB.node("Gemm", ["n", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", attrs: [PB.attr("transB", int: 1)])]
        return PB.model(nodes: nodes, initializers: inits, input: input)
    }
}

final class ONNXLayerNormPatternTests: XCTestCase {
    typealias G = DecomposedLayerNormGraph

    func check(_ g: G) throws -> CheckReport { try Frontend.checkONNX(bytes: g.bytes, path: "t.onnx") }

    func failure(_ g: G) -> String {
        do { _ = try check(g) } catch { return "\(error)" }
        return "no error"
    }

    func norms(_ ir: ModelIR) -> [NormAttrs] {
        ir.layers.compactMap { l -> NormAttrs? in if case .normalization(let a) = l.op { return a }; return nil }
    }

    func testTheWholePatternIsOneLayerNormalization() throws {
        for (name, g) in [("Div, axes attribute", G()), ("Reciprocal, axes input", G(axesAsInput: true, reciprocal: true)),
                          ("positive axes, gamma [1, 4]", G(axes: [1], gammaDims: [1, 4])),
                          ("scaled form (tf2onnx)", G(axesAsInput: true, gammaDims: [1, 4], scaled: true))] {
            let r = try check(g)
            XCTAssertTrue(r.ok, "\(name): \(r.problems)")
            XCTAssertEqual(r.ir.layers.map(\.kind), ["Input", "LayerNormalization", "Gemm"], name)
            XCTAssertEqual(r.ir.layers.map(\.name), ["input", "ln", "fc"], name)
            XCTAssertEqual(norms(r.ir), [NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: true, center: true)], name)
            XCTAssertEqual(r.ir.totalParams, 8 + 15, name)
            XCTAssertTrue(r.ir.layers[1].notes.contains { $0.contains("read as one LayerNormalization") && $0.contains("ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt") }, "\(name): \(r.ir.layers[1].notes)")
            // `--weights model.onnx` finds gamma and beta under the layer's keys, in its shapes.
            let sd = try ONNXChain(model: ONNXModel.decode(g.bytes, file: "t.onnx"), file: "t.onnx").stateDict()
            XCTAssertEqual(Set(sd.keys), Set(r.ir.layers.flatMap(\.stateDictTensors).map(\.key)), name)
            XCTAssertEqual(sd["ln.weight"]?.shape, [4], name)
            XCTAssertEqual(sd["ln.bias"]?.shape, [4], name)
            XCTAssertTrue(ONNXFuzzEntry.run(g.bytes), name)
        }
    }

    /// LayerNorm(elementwise_affine=False): no Mul, no Add, no parameters; bias=False: no Add.
    func testWithoutGammaOrBeta() throws {
        let plain = try check(G(gammaDims: nil))
        XCTAssertEqual(norms(plain.ir), [NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: false, center: false)])
        XCTAssertEqual(plain.ir.layers[1].paramCount, 0)
        let noBias = try check(G(beta: false))
        XCTAssertEqual(norms(noBias.ir), [NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: true, center: false)])
        XCTAssertEqual(noBias.ir.layers[1].paramCount, 4)
        // The scaled form: Keras LayerNormalization(scale=False, center=False), and scale=False with a beta.
        XCTAssertEqual(norms(try check(G(gammaDims: nil, beta: false, scaled: true)).ir), [NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: false, center: false)])
        let betaOnly = try check(G(gammaDims: nil, scaled: true))
        XCTAssertEqual(norms(betaOnly.ir), [NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: false, center: true)])
        XCTAssertEqual(betaOnly.ir.layers[1].stateDictTensors.map(\.key), ["ln.bias"])
        XCTAssertEqual(try ONNXChain(model: ONNXModel.decode(G(gammaDims: nil, scaled: true).bytes, file: "t.onnx"), file: "t.onnx").stateDict().keys.sorted(),
                       ["fc.bias", "fc.weight", "ln.bias"])
    }

    /// Almost the pattern: the operators' usual error, and which piece did not match.
    func testNearMissesSayWhichPieceDidNotMatch() {
        let div = "node '/ln/Div' (Div) takes the computed tensors 'd' and 's'; only merge operators"
        let start = "a decomposed LayerNorm starting at node '/ln/ReduceMean' (ReduceMean) was not recognized: "
        let cases: [(String, G, [String])] = [
            ("exponent 3", G(exponent: 3), [div, start + "the exponent of node '/ln/Pow' (Pow) is 3.0, expected 2"]),
            ("not the trailing axes", G(input: [1, 2, 4], axes: [-2]), [div, start + "node '/ln/ReduceMean' (ReduceMean) reduces axes [-2]; a LayerNorm reduces consecutive trailing axes"]),
            ("the batch axis", G(axes: [0, 1]), [div, "reduces axes [0, 1]; a LayerNorm reduces consecutive trailing axes"]),
            ("another reader of x - mean", G(extraReader: true), [div, start + "'d' (x - mean, node '/ln/Sub' (Sub)) is read by 3 node(s)"]),
            ("keepdims 0", G(keepdims: 0), [div, "has keepdims=0"]),
            ("another x", G(subtractFrom: "x2"), [div, "node '/ln/Sub' (Sub) subtracts the mean of 'x' from 'x2'"]),
            ("scaled form ending in a Sub", G(scaled: true, scaledSum: "Sub"),
             ["(ReduceMean) is not supported", start + "'a' (node '/ln/mul_2' (Mul)) is read by node '/ln/add_2' (Sub), expected a Add"]),
            ("reciprocal form, exponent 3", G(exponent: 3, reciprocal: true),
             ["(ReduceMean) is not supported (supported ONNX operators:", "the exponent of node '/ln/Pow' (Pow) is 3.0, expected 2"]),
        ]
        for (name, g, parts) in cases {
            let m = failure(g)
            for p in parts { XCTAssertTrue(m.contains(p), "\(name): missing '\(p)' in\n\(m)") }
            XCTAssertFalse(ONNXFuzzEntry.run(g.bytes), name)
        }
    }

    /// An error about a node outside the near-missed pattern gets no hint, whether the walk over
    /// the graph or the importer raises it; one about a node of the pattern gets it.
    func testTheHintGoesOnlyOnErrorsAboutThePatternsNodes() {
        let nearMiss = G(exponent: 3, reciprocal: true)
        XCTAssertTrue(failure(nearMiss).contains("was not recognized: the exponent of node '/ln/Pow' (Pow) is 3.0, expected 2"))
        let unrelated = failure(G(exponent: 3, reciprocal: true, side: ("Hardmax", ["x"])))
        XCTAssertTrue(unrelated.contains("(Hardmax) is not supported"), unrelated)
        XCTAssertFalse(unrelated.contains("decomposed LayerNorm"), unrelated)
        let walk = failure(G(exponent: 3, reciprocal: true, side: ("Hardmax", ["x", "nowhere"])))
        XCTAssertTrue(walk.contains("input 'nowhere' is neither an initializer"), walk)
        XCTAssertFalse(walk.contains("decomposed LayerNorm"), walk)
        let miss = ONNXLayerNormPattern.NearMiss(message: "why", nodes: [1, 2])
        XCTAssertEqual(ONNXLayerNormPattern.hint([miss], failingNode: 2), " (why)")
        XCTAssertEqual(ONNXLayerNormPattern.hint([miss], failingNode: 3), "")
        XCTAssertEqual(ONNXLayerNormPattern.hint([miss], failingNode: nil), "")
    }

    /// Recognized, but what needs the input's shape does not fit: refused by the importer.
    func testShapesThatDoNotFitAreRefused() {
        let axes = failure(G(input: [1, 2, 4], axes: [1]))
        XCTAssertTrue(axes.contains("layer 'ln' (LayerNormalization): the LayerNorm written as 9 nodes (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) reduces axes [1] of a rank-3 input"), axes)
        let gamma = failure(G(gammaDims: [2, 2]))
        XCTAssertTrue(gamma.contains("gamma (the Mul) 'ln.weight' has dims [2, 2], expected the normalized shape [4]"), gamma)
        let part = failure(G(input: [1, 2, 4], axes: [-1]))
        XCTAssertTrue(part.contains("covers only the last axes of the input"), part)
    }

    // MARK: - The exported fixtures (make_onnx_layernorm_patterns.py)

    static let dir = ONNXImporterTests.dir

    func fixtures() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/expected_layernorm_patterns.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(root["models"] as? [String: [String: Any]])
    }

    func testExportedFixturesImportAsLayerNormalization() throws {
        let want: [String: [NormAttrs]] = [
            "ln_decomposed_opset13": [NormAttrs(form: .wholeSample, epsilon: 1e-5, scale: true, center: true),
                                      NormAttrs(form: .lastAxis, epsilon: 1e-3, scale: true, center: true)],
            "ln_decomposed_opset14": [NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: false, center: false),
                                      NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: true, center: false)],
            "ln_decomposed_reciprocal": [NormAttrs(form: .lastAxis, epsilon: 1e-5, scale: true, center: true)],
            "ln_decomposed_tf2onnx": [NormAttrs(form: .lastAxis, epsilon: 1e-3, scale: true, center: true)]]
        let models = try fixtures()
        XCTAssertEqual(Set(models.keys), Set(want.keys))
        for (name, facts) in models {
            let path = "\(Self.dir)/\(name).onnx"
            let r = try Frontend.check(path: path)
            XCTAssertTrue(r.ok, "\(name): \(r.problems)")
            XCTAssertEqual(norms(r.ir), want[name], name)
            XCTAssertEqual(r.ir.classCount, 10, name)
            XCTAssertEqual(r.ir.totalParams, facts["float_initializer_elements"] as? Int, name)
            XCTAssertFalse(r.ir.layers.contains { ["ReduceMean", "Pow", "Sqrt", "Div", "Sub", "Reciprocal"].contains($0.kind) }, name)
            let arrays = try WeightsReader.read(path: path)
            let tensors = r.ir.layers.flatMap(\.stateDictTensors)
            XCTAssertEqual(Set(arrays.keys), Set(tensors.map(\.key)), name)
            for t in tensors { XCTAssertEqual(arrays[t.key]?.shape, t.shape, "\(name): \(t.key)") }
        }
    }
}
