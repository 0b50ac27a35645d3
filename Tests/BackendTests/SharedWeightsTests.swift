// The emitted code of a layer called more than once (Backend/SharedWeights.swift): the later
// call's shadow tensors lie after every real one (not in info.tensors or its count), the later
// call reads the first call's tensors themselves (no copy per forward) and writes its gradient
// into its shadow's slice, every backward adds that gradient into the first call's, and a BatchNormalization called twice is refused. Numerics: the Keras fixture
// graph_shared (KerasFixtureTests) and its finite differences (GradientCheckTests).

import XCTest
import ModelcCore
import ModelcBackend

final class SharedWeightsTests: XCTestCase {
    /// A tf.keras 2 row at the columns print_row uses (32, 53, 65).
    static func row(_ a: String, _ b: String = "", _ c: String = "", _ d: String = "") -> String {
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(1, n - s.count)) }
        return pad(a, 32) + pad(b, 21) + pad(c, 12) + d
    }

    /// x -> dense_a -> shared (Dense 4 -> 3) -> `after`; x -> dense_b -> shared; Add.
    static func table(shared: String = "shared (Dense)", shape: String = "(None, 3)", params: Int = 15, total: Int = 71, nonTrainable: Int = 0) -> String {
        let rule = String(repeating: "_", count: 98)
        return ([rule, row("Layer (type)", "Output Shape", "Param #", "Connected to"), String(repeating: "=", count: 98),
                 row("input_1 (InputLayer)", "[(None, 6)]", "0"), rule,
                 row("dense_a (Dense)", "(None, 4)", "28", "input_1[0][0]"), rule,
                 row("dense_b (Dense)", "(None, 4)", "28", "input_1[0][0]"), rule,
                 row(shared, shape, "\(params)", "dense_a[0][0]"), row("", "", "", "dense_b[0][0]"), rule,
                 row("add (Add)", shape, "0", "shared[0][0]"), row("", "", "", "shared[1][0]"), String(repeating: "=", count: 98),
                 "Total params: \(total)", "Trainable params: \(total - nonTrainable)", "Non-trainable params: \(nonTrainable)", rule]).joined(separator: "\n") + "\n"
    }

    func testLaterCallReadsTheFirstCallsTensorsAndSumsTheGradient() throws {
        let r = try Frontend.check(text: Self.table() + "\n```modelc\nlayer shared: activation=tanh\n```\n", path: "s.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(Emitter.problems(r.ir).map(\.description), [])
        let src = Emitter.emit(r.ir, fuse: false).source
        // 71 real floats; the shadow of shared's kernel [4, 3] and bias [3] after them (71..<86).
        XCTAssertTrue(src.contains("parameterCount: 86, inputSize: 6"), "allocates the shadow")
        // Both calls read shared's kernel at 56 (forward and backward); nothing reads or copies the shadow.
        XCTAssertGreaterThanOrEqual(src.components(separatedBy: "(parameters + 56)").count - 1, 4, "both calls read shared's kernel")
        XCTAssertFalse(src.contains("(parameters + 71)"), "the shadow's parameters are never read")
        XCTAssertFalse(src.contains(".update(from: parameters"), "no copy per forward")
        XCTAssertTrue(src.contains("Merge.accumulate(gradients + 56, gradients + 71, count: 15)"), "adds the later call's gradient")
        XCTAssertFalse(src.contains("\"shared[1]/"), "the shadow has no tensor key")
        // The sum comes after the partial sums, at the end of backward.
        let back = try XCTUnwrap(src.range(of: "public func backward("))
        let rest = src[back.upperBound...]
        let sum = try XCTUnwrap(rest.range(of: "Parallel.sumPartials")), add = try XCTUnwrap(rest.range(of: "Merge.accumulate(gradients + 56"))
        XCTAssertLessThan(sum.lowerBound, add.lowerBound)
    }

    /// An LSTM called on the input and on a Dense of it: its shadow's gradient is summed over
    /// the chunks like every tensor's (the recurrent emitter lists only its own layer's count).
    func testSharedLSTMGradientIsSummed() throws {
        let rule = String(repeating: "_", count: 98)
        let t = ([rule, Self.row("Layer (type)", "Output Shape", "Param #", "Connected to"), String(repeating: "=", count: 98),
                  Self.row("input_1 (InputLayer)", "[(None, 5, 3)]", "0"), rule,
                  Self.row("dense_a (Dense)", "(None, 5, 3)", "12", "input_1[0][0]"), rule,
                  Self.row("lstm_s (LSTM)", "(None, 4)", "128", "input_1[0][0]"), Self.row("", "", "", "dense_a[0][0]"), rule,
                  Self.row("add (Add)", "(None, 4)", "0", "lstm_s[0][0]"), Self.row("", "", "", "lstm_s[1][0]"), String(repeating: "=", count: 98),
                  "Total params: 140", "Trainable params: 140", "Non-trainable params: 0", rule]).joined(separator: "\n") + "\n"
        let r = try Frontend.check(text: t + "\n```modelc\nlayer dense_a: activation=tanh\n```\n", path: "l.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["input_1", "dense_a", "lstm_s", "lstm_s[1]", "add"])
        XCTAssertEqual(r.ir.layers[3].producers, [1])
        XCTAssertEqual(Emitter.problems(r.ir).map(\.description), [])
        let src = Emitter.emit(r.ir, fuse: false).source
        XCTAssertTrue(src.contains("(140, 128)"), "the partial sums cover the shadow [140, 268)")
        XCTAssertTrue(src.contains("Merge.accumulate(gradients + 12, gradients + 140, count: 128)"))
        // The later call's kernel keeps its own (shadow) offsets for the gradient and reads 128 floats lower.
        XCTAssertTrue(src.contains(".forward((parameters - 128), x:") && src.contains(".transpose((parameters - 128))"), "reads lstm_s's tensors")
        XCTAssertFalse(src.contains(".update(from: parameters"), "no copy per forward")
    }

    /// A Siamese network: one Dense called on each of two inputs (IR/ModelInputs.swift), the
    /// difference of its calls, a Dense. The flat input is a new first layer (MultiInputSplit),
    /// which shifts the shared layer's position with its producers.
    func testSiameseTwoInputs() throws {
        let rule = String(repeating: "_", count: 98)
        let t = ([rule, Self.row("Layer (type)", "Output Shape", "Param #", "Connected to"), String(repeating: "=", count: 98),
                  Self.row("input_1 (InputLayer)", "[(None, 6)]", "0"), rule,
                  Self.row("input_2 (InputLayer)", "[(None, 6)]", "0"), rule,
                  Self.row("shared (Dense)", "(None, 4)", "28", "input_1[0][0]"), Self.row("", "", "", "input_2[0][0]"), rule,
                  Self.row("subtract (Subtract)", "(None, 4)", "0", "shared[0][0]"), Self.row("", "", "", "shared[1][0]"), rule,
                  Self.row("dense_out (Dense)", "(None, 1)", "5", "subtract[0][0]"), String(repeating: "=", count: 98),
                  "Total params: 33", "Trainable params: 33", "Non-trainable params: 0", rule]).joined(separator: "\n") + "\n"
        let r = try Frontend.check(text: t + "\n```modelc\nlayer shared: activation=tanh\nlayer dense_out: activation=sigmoid\n```\n", path: "siamese.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["input_1", "input_2", "shared", "shared[1]", "subtract", "dense_out"])
        XCTAssertEqual(r.ir.layers[3].sharesWeightsWith, 2)
        XCTAssertEqual(r.ir.layers[3].producers, [1])
        XCTAssertEqual(Emitter.problems(r.ir).map(\.description), [])
        let src = Emitter.emit(r.ir, fuse: false).source
        XCTAssertEqual(src.components(separatedBy: "(parameters + 0)").count - 1, 2, "both calls' forwards read shared's kernel (first layers: no input gradient)")
        XCTAssertFalse(src.contains("(parameters + 33)"), "the shadow's parameters are never read")
        XCTAssertTrue(src.contains("Merge.accumulate(gradients + 0, gradients + 33, count: 28)"), "adds the second call's gradient")
    }

    func testSharedBatchNormalizationIsRefused() throws {
        let t = Self.table(shared: "bn (BatchNormalization)", shape: "(None, 4)", params: 16, total: 72, nonTrainable: 8)
            .replacingOccurrences(of: "shared[", with: "bn[")
        let r = try Frontend.check(text: t, path: "b.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.first { $0.name == "bn[1]" }?.sharesWeightsWith, 3)
        XCTAssertTrue(Emitter.problems(r.ir).contains { $0.description.contains("b.md:10: error: layer bn[1]: a BatchNormalization called more than once (shared weights) is not supported") },
                      "\(Emitter.problems(r.ir))")
    }

    /// PyTorch: a module with parameters that `forward:` calls again becomes `hidden[1]`, which
    /// shares the first call's weights (counted once, one set of state_dict keys), and one
    /// that is several layers (a stacked LSTM) is refused naming the module.
    func testPyTorchModuleCalledTwice() throws {
        let repr = """
        TiedNet(
          (inp): Linear(in_features=6, out_features=5, bias=True)
          (hidden): Linear(in_features=5, out_features=5, bias=True)
          (out): Linear(in_features=5, out_features=3, bias=True)
        )
        """
        let r = try Frontend.check(text: repr + "\n```modelc\ninput: shape=6\nforward: inp tanh hidden tanh hidden tanh out\n```\n", path: "tied.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["input", "inp", "tanh", "hidden", "tanh_2", "hidden[1]", "tanh_3", "out"])
        XCTAssertEqual(r.ir.layers[5].sharesWeightsWith, 3)
        XCTAssertEqual(r.ir.frameworkParamCount, 35 + 30 + 18)
        XCTAssertEqual(r.ir.layers.flatMap(\.stateDictTensors).map(\.key),
                       ["inp.weight", "inp.bias", "hidden.weight", "hidden.bias", "out.weight", "out.bias"])
        XCTAssertEqual(Emitter.problems(r.ir).map(\.description), [])
        let src = Emitter.emit(r.ir, fuse: false).source
        XCTAssertGreaterThanOrEqual(src.components(separatedBy: "(parameters + 35)").count - 1, 4, "both calls read hidden's weight")
        XCTAssertFalse(src.contains("(parameters + 83)"), "the shadow's parameters are never read")
        XCTAssertTrue(src.contains("Merge.accumulate(gradients + 35, gradients + 83, count: 30)"), "adds the second call's gradient")

        let lstm = """
        Rnn(
          (lstm): LSTM(4, 4, num_layers=2, batch_first=True)
          (fc): Linear(in_features=4, out_features=2, bias=True)
        )
        """
        let text = lstm + "\n```modelc\ninput: shape=3x4\nlayer lstm: output=sequence\nforward: lstm lstm fc\n```\n"
        do {
            let bad = try Frontend.check(text: text, path: "l.md")
            XCTAssertFalse(bad.ok)
            XCTAssertTrue(bad.problems.contains { $0.description.contains("module 'lstm' is called 2 times, but it is several layers") }, "\(bad.problems)")
        } catch {
            XCTAssertTrue("\(error)".contains("l.md:"), "\(error)")
            XCTAssertTrue("\(error)".contains("module 'lstm' is called 2 times, but it is several layers"), "\(error)")
        }
    }
}
