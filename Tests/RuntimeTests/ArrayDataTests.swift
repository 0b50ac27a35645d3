// Array data (ArrayData.swift): the committed .npz and .csv fixtures (Tests/Fixtures/data/arrays)
// read against a model's input and head, every shape and value mismatch an error naming the
// file, the array or line, what was expected and what was found; and the trainer on float
// targets (one-hot categorical, MSE) and on binary labels.

import XCTest
import TinyModels
import ModelcData
@testable import ModelcRuntime

final class ArrayDataTests: XCTestCase {
    static let dir: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/data/arrays").path
    }()

    func info(inputs: Int, outputs: Int, scale: Float = 1) -> ModelInfo {
        ModelInfo(name: "m", fingerprint: "0", inputHeight: 1, inputWidth: inputs, inputChannels: 1, classCount: outputs,
                  classNames: (0..<outputs).map(String.init), nativeClassNames: nil, dataset: nil, inputScale: scale, inputOffset: 0,
                  semantics: "keras", tensors: [], parameterCount: 0, trainableParameterCount: 0, forwardFlops: 0, summary: "",
                  defaults: TrainingDefaults())
    }

    func config(_ loss: LossKind, head: OutputHead) throws -> TrainingConfig {
        var c = try TrainingConfig(defaults: TrainingDefaults(), dataset: ArrayData.datasetName)
        c.loss = loss; c.head = head
        return c
    }

    func examples(_ path: String, _ info: ModelInfo, _ c: TrainingConfig, split: DatasetSplit = .train) throws -> LabeledImages {
        let raw = try ArrayData.read(path, split: split, info: info, targetColumns: c.targetColumns)
        return try ArrayData.examples(raw, loss: ArrayData.loss(c, info: info, raw: raw), info: info)
    }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    func temp(_ arrays: [(String, NDArray)]) throws -> String {
        let path = NSTemporaryDirectory() + "modelc-arrays-\(UUID().uuidString).npz"
        try NPZ.write(arrays, to: path)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testBinaryFixtureAsNPZAndCSV() throws {
        let i = info(inputs: 4, outputs: 1)
        let c = try config(.crossentropy, head: .sigmoid)
        let train = try examples("\(Self.dir)/binary.npz", i, c)
        XCTAssertEqual(train.count, 64)
        XCTAssertEqual(train.inputs?.count, 256)
        XCTAssertEqual(train.targetWidth, 1)
        let npz = try NPZ.read(path: "\(Self.dir)/binary.npz")
        XCTAssertEqual(train.labels.map(Int.init), try npz["y"]!.ints())
        XCTAssertEqual(train.targets, train.labels.map(Float.init))
        XCTAssertEqual(train.inputs, try npz["x"]!.floats())
        let test = try examples("\(Self.dir)/binary.npz", i, c, split: .test)
        XCTAssertEqual(test.count, 16)
        XCTAssertEqual(test.inputs, try npz["x_test"]!.floats())
        let csv = try examples("\(Self.dir)/binary.csv", i, c)
        XCTAssertEqual(csv.labels, train.labels)
        for (a, b) in zip(csv.inputs!, train.inputs!) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // regression on the same file: float targets, no labels needed
        let mse = try examples("\(Self.dir)/binary.csv", i, config(.mse, head: .linear))
        XCTAssertEqual(mse.targets, train.targets)
    }

    func testUInt8InputsArePixelsOthersEnterAsTheyAre() throws {
        let i = info(inputs: 2, outputs: 3, scale: 1.0 / 255)
        let pixels = try temp([("x", NDArray(uint8: [0, 255, 51, 102], shape: [2, 2])), ("y", NDArray(int64: [0, 2], shape: [2]))])
        let scaled = try XCTUnwrap(examples(pixels, i, config(.crossentropy, head: .softmax)).inputs)
        for (a, b) in zip(scaled, [Float(0), 1, 0.2, 0.4]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let tokens = try temp([("x", NDArray(int64: [7, 300, 1, 2], shape: [2, 2])), ("y", NDArray(int64: [1, 2], shape: [2]))])
        let t = try examples(tokens, i, config(.crossentropy, head: .softmax))
        XCTAssertEqual(t.inputs, [7, 300, 1, 2])
        XCTAssertEqual(t.labels, [1, 2])
        XCTAssertNil(t.targets)
        // one-hot y: categorical targets, labels their argmax
        let onehot = try temp([("x", NDArray(float32: [0, 0, 1, 1], shape: [2, 2])), ("y", NDArray(float32: [0, 0, 1, 0, 1, 0], shape: [2, 3]))])
        let o = try examples(onehot, i, config(.crossentropy, head: .softmax))
        XCTAssertEqual(o.targetWidth, 3)
        XCTAssertEqual(o.labels, [2, 1])
    }

    func testErrorsNameFileArrayAndExpectation() throws {
        let npz = "\(Self.dir)/binary.npz", csv = "\(Self.dir)/binary.csv"
        let binary = try config(.binaryCrossentropy, head: .sigmoid)
        XCTAssertEqual(message { try self.examples(npz, self.info(inputs: 5, outputs: 1), binary) },
                       "\(npz): array x has shape [64, 4]: 4 values per example; model m expects 1x5x1 = 5 values")
        XCTAssertEqual(message { try self.examples(csv, self.info(inputs: 5, outputs: 1), binary) },
                       "\(csv): line 2: 5 columns; model m expects 5 input values (1x5x1 = 5 values) then 1 target column (--target-columns) = 6")
        XCTAssertEqual(message { try self.examples(npz, self.info(inputs: 4, outputs: 2), binary) },
                       "\(npz) array y has shape [64]: 1 values per example; loss binary_crossentropy on model m expects 2 (one per output)")
        let three = try temp([("x", NDArray(float32: [0, 1, 2, 3], shape: [2, 2])), ("y", NDArray(int64: [0, 3], shape: [2]))])
        XCTAssertEqual(message { try self.examples(three, self.info(inputs: 2, outputs: 3), self.config(.crossentropy, head: .softmax)) },
                       "\(three) array y[1]: label 3 is not a class of the model (integers 0..<3)")
        // Labels past Int's range or infinite: refused, never converted (Int(1e19) is undefined).
        for (bad, text) in [(Float(1e19), "1e+19"), (.infinity, "inf")] {
            let huge = try temp([("x", NDArray(float32: [0, 1, 2, 3], shape: [2, 2])), ("y", NDArray(float32: [0, bad], shape: [2]))])
            XCTAssertEqual(message { try self.examples(huge, self.info(inputs: 2, outputs: 3), self.config(.crossentropy, head: .softmax)) },
                           "\(huge) array y[1]: label \(text) is not a class of the model (integers 0..<3)")
        }
        let nanX = try temp([("x", NDArray(float32: [0, 1, .nan, 3], shape: [2, 2])), ("y", NDArray(int64: [0, 1], shape: [2]))])
        XCTAssertEqual(message { try self.examples(nanX, self.info(inputs: 2, outputs: 3), self.config(.crossentropy, head: .softmax)) },
                       "\(nanX): array x: value nan (example 1, flat index 2) is not a finite 32-bit float")
        let infHot = try temp([("x", NDArray(float32: [0, 1, 2, 3], shape: [2, 2])), ("y", NDArray(float32: [0, 1, 0, .infinity], shape: [2, 2]))])
        XCTAssertEqual(message { try self.examples(infHot, self.info(inputs: 2, outputs: 2), self.config(.crossentropy, head: .softmax)) },
                       "\(infHot) array y[1]: one-hot target inf is not a finite value >= 0")
        let twos = try temp([("x", NDArray(float32: [0, 1, 2, 3], shape: [2, 2])), ("y", NDArray(float32: [1, 2], shape: [2]))])
        XCTAssertEqual(message { try self.examples(twos, self.info(inputs: 2, outputs: 1), binary) },
                       "\(twos) array y[1]: binary target 2 is outside [0, 1]")
        let short = try temp([("x", NDArray(float32: [0, 1, 2, 3], shape: [2, 2])), ("y", NDArray(int64: [1], shape: [1]))])
        XCTAssertEqual(message { try self.examples(short, self.info(inputs: 2, outputs: 1), binary) },
                       "\(short): array y has shape [1] but x has 2 examples; expected y [2] or [2, outputs]")
        let noX = try temp([("inputs", NDArray(float32: [0, 1], shape: [1, 2]))])
        XCTAssertEqual(message { try self.examples(noX, self.info(inputs: 2, outputs: 1), binary) },
                       "\(noX): no array 'x' (found inputs); expected x [N, ...] with 2 values per example, y, and optionally x_test, y_test")
        XCTAssertEqual(message { try Objective.resolve(.binaryCrossentropy, head: .softmax, oneHotTargets: false) },
                       "error: loss binary_crossentropy needs a sigmoid head (one unit, or one per label); this model ends in softmax: use crossentropy")
    }

    // MARK: the trainer on targets

    func trainer(_ data: LabeledImages, _ configure: (inout TrainingConfig) -> Void) throws -> Trainer<TinyModel> {
        var c = try TrainingConfig(defaults: TinyModel.info.defaults, dataset: ArrayData.datasetName)
        c.head = TinyModel.head
        configure(&c)
        let model = TinyModel(maxBatch: 32)
        initializeParameters(model.parameters, tensors: TinyModel.info.tensors, seed: c.seed)
        let (train, validation) = data.splitForValidation(c.validationSplit)
        return try Trainer(model: model, config: c, train: train, validation: validation)
    }

    func testTrainsOnOneHotTargets() throws {
        var data = syntheticImages(count: 300, seed: 11)
        data.targets = data.labels.flatMap { y in (0..<10).map { Float($0 == Int(y) ? 1 : 0) } }
        data.targetWidth = 10
        let t = try trainer(data) { $0.epochs = 8 }
        XCTAssertEqual(t.loss.objective, .categorical)
        try t.run()
        XCTAssertGreaterThan(t.progress.history.last!.valAccuracy!, 0.9)
        XCTAssertLessThan(t.progress.history.last!.loss, t.progress.history.first!.loss)
    }

    /// Keras reports val_loss with the regularization losses, as it reports the training loss.
    func testValidationLossIncludesTheL2Penalty() throws {
        var data = syntheticImages(count: 120, seed: 3)
        data.targets = data.labels.flatMap { y in (0..<10).map { Float($0 == Int(y) ? 1 : 0) } }
        data.targetWidth = 10
        let t = try trainer(data) { $0.epochs = 1; $0.optimizer.weightDecay = 0.01 }
        try t.run()
        let penalty = t.optimizer.l2Penalty(t.model.parameters)
        XCTAssertGreaterThan(penalty, 0)
        let m = Evaluator.evaluateTask(t.model, images: t.validation!, loss: t.loss, batch: 32)
        XCTAssertEqual(t.progress.history.last!.valLoss!, m.loss + penalty, accuracy: 1e-6)
    }

    /// A Kaggle image CSV (label first, then pixel0...) given as --data file.csv is read as
    /// images: the label column is the label, the pixels scaled as the model scales pixels.
    func testKaggleImageCSVIsReadAsImages() throws {
        let path = NSTemporaryDirectory() + "modelc-kaggle-\(UUID().uuidString).csv"
        try "label,pixel0,pixel1,pixel2,pixel3\n3,0,255,10,20\n1,5,6,7,8\n".write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let i = info(inputs: 4, outputs: 10, scale: 1.0 / 255)
        let e = try examples(path, i, try config(.crossentropy, head: .softmax))
        XCTAssertEqual(e.labels, [3, 1])
        XCTAssertEqual(e.inputs?.prefix(4).map { $0 * 255 }, [0, 255, 10, 20])
        // a numeric table whose columns are named pixel0... with its target last is not one
        try "pixel0,pixel1,pixel2,pixel3,label\n0,0.5,10,20,3\n".write(toFile: path, atomically: true, encoding: .utf8)
        let numeric = try examples(path, info(inputs: 4, outputs: 10), try config(.crossentropy, head: .softmax))
        XCTAssertEqual(numeric.labels, [3])
        XCTAssertEqual(numeric.inputs, [0, 0.5, 10, 20])
        // unlabelled (Kaggle test.csv): refused for training
        try "id,pixel0,pixel1,pixel2,pixel3\n1,0,255,10,20\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertTrue(message { try self.examples(path, i, try self.config(.crossentropy, head: .softmax)) }.contains("without a 'label' column"))
    }

    /// An .npz image array in PyTorch's [N, C, H, W] is transposed for a PyTorch model and
    /// refused for a Keras one, never read in the wrong order.
    func testChannelsFirstArrays() throws {
        func model(_ semantics: String) -> ModelInfo {
            ModelInfo(name: "m", fingerprint: "0", inputHeight: 2, inputWidth: 2, inputChannels: 3, classCount: 2,
                      classNames: ["0", "1"], nativeClassNames: nil, dataset: nil, inputScale: 1, inputOffset: 0,
                      semantics: semantics, tensors: [], parameterCount: 0, trainableParameterCount: 0, forwardFlops: 0, summary: "",
                      defaults: TrainingDefaults())
        }
        let chw = (0..<12).map(Float.init)   // channel c, pixel p: 4c + p
        let path = try temp([("x", NDArray(float32: chw, shape: [1, 3, 2, 2])), ("y", NDArray(float32: [1], shape: [1]))])
        let c = try config(.crossentropy, head: .softmax)
        let torch = try examples(path, model("pytorch"), c)
        XCTAssertEqual(torch.inputs, [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], "HWC: pixel 0's three channels first")
        XCTAssertTrue(message { try self.examples(path, model("keras"), c) }.contains("channels first; model m reads [N, 2, 2, 3]"))
        let hwc = try temp([("x", NDArray(float32: chw, shape: [1, 2, 2, 3])), ("y", NDArray(float32: [1], shape: [1]))])
        XCTAssertEqual(try examples(hwc, model("keras"), c).inputs, chw)

        // a sequence model (3 steps of 2 features, read as a 3x2x1 image) given PyTorch's [N, C, L]
        func sequence(_ semantics: String) -> ModelInfo {
            ModelInfo(name: "s", fingerprint: "0", inputHeight: 3, inputWidth: 2, inputChannels: 1, classCount: 2,
                      classNames: ["0", "1"], nativeClassNames: nil, dataset: nil, inputScale: 1, inputOffset: 0,
                      semantics: semantics, tensors: [], parameterCount: 0, trainableParameterCount: 0, forwardFlops: 0, summary: "",
                      defaults: TrainingDefaults())
        }
        let cl = try temp([("x", NDArray(float32: [0, 1, 2, 10, 11, 12], shape: [1, 2, 3])), ("y", NDArray(float32: [1], shape: [1]))])
        XCTAssertEqual(try examples(cl, sequence("pytorch"), c).inputs, [0, 10, 1, 11, 2, 12])
        XCTAssertTrue(message { try self.examples(cl, sequence("keras"), c) }.contains("is [N, 2, 3]; model s reads [N, 3, 2]"))
        let lc = try temp([("x", NDArray(float32: [0, 10, 1, 11, 2, 12], shape: [1, 3, 2])), ("y", NDArray(float32: [1], shape: [1]))])
        XCTAssertEqual(try examples(lc, sequence("keras"), c).inputs, [0, 10, 1, 11, 2, 12])
    }

    func testTrainsARegressionAndReportsMSE() throws {
        var data = syntheticImages(count: 300, seed: 11)
        // target: 10 values per image, its class one-hot. TinyModel ends in softmax, so the error
        // is its probabilities' (Keras's mse on a softmax model), which learns more slowly than
        // cross-entropy: 0.082 -> 0.063 in 6 epochs (seeded, so the same every run)
        data.targets = data.labels.flatMap { y in (0..<10).map { Float($0 == Int(y) ? 1 : 0) } }
        data.targetWidth = 10
        let t = try trainer(data) { $0.epochs = 6; $0.loss = .mse }
        XCTAssertEqual(t.loss.objective, .meanSquared)
        try t.run()
        let h = t.progress.history
        XCTAssertLessThan(h.last!.loss, 0.8 * h.first!.loss)
        XCTAssertNil(h.last!.valAccuracy)
        let m = Evaluator.evaluateTask(t.model, images: t.validation!, loss: t.loss, batch: 32)
        XCTAssertEqual(m.task, .regression)
        XCTAssertEqual(m.mse!, m.loss, accuracy: 1e-4)   // the MSE loss is the metric
        XCTAssertEqual(h.last!.valLoss!, m.loss, accuracy: 1e-6)
        XCTAssertNil(m.accuracy)
        XCTAssertEqual(m.jsonFields.map(\.0), ["task", "loss", "accuracy", "mse", "mae", "count"])
        XCTAssertThrowsError(try trainer(data) { $0.loss = .mse; $0.earlyStopping = .patience(2) }) {
            XCTAssertTrue("\($0)".contains("early stopping watches validation accuracy"), "\($0)")
        }
    }

    func testTargetIsInputNeedsOutputsOfTheInputSize() throws {
        let data = syntheticImages(count: 40, seed: 1)
        XCTAssertThrowsError(try trainer(data) { $0.loss = .mse; $0.targetIsInput = true }) {
            XCTAssertEqual("\($0)", "error: target=input needs the model's output to have its input's size: tiny_mlp outputs 10 values per example, its input has 784")
        }
        // class labels are not targets for MSE
        XCTAssertThrowsError(try trainer(data) { $0.loss = .mse }) {
            XCTAssertTrue("\($0)".contains("loss mse needs targets, one per output (10)"), "\($0)")
        }
    }
}
