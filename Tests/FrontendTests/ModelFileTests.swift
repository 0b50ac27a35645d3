import XCTest
@testable import ModelcCore

/// The model files in models/ (seed networks with their annotations) check cleanly, with no
/// defaults left to assume beyond the documented ones.
final class ModelFileTests: XCTestCase {
    static var modelsDir: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models").path
    }

    func testSeed000ModelFile() throws {
        let r = try Frontend.check(path: Self.modelsDir + "/seed000_kmnist_cnn.md")
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.ir.name, "seed000_kmnist_cnn")
        XCTAssertEqual(r.ir.dataset, "kmnist")
        XCTAssertEqual([r.ir.totalParams, r.ir.trainableParams, r.ir.nonTrainableParams], [395_178, 394_730, 448])
        XCTAssertEqual(r.layer("dense_1")?.op, .dense(units: 512, useBias: true, activation: .relu))
        XCTAssertEqual(r.layer("dense_2")?.op, .dense(units: 10, useBias: true, activation: .softmax))
        XCTAssertEqual(r.layer("dropout_1")?.op, .dropout(rate: 0.5, spatial: false))
        XCTAssertEqual(r.ir.training.optimizer, .adam)
        XCTAssertEqual(r.ir.assumptions, [])
        XCTAssertEqual(r.ir.nativeClassNames?.first, "お")
    }

    func testSeed002ModelFile() throws {
        let r = try Frontend.check(path: Self.modelsDir + "/seed002_mnist_cnn.md")
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.ir.name, "seed002_mnist_cnn")
        XCTAssertEqual([r.ir.totalParams, r.ir.trainableParams, r.ir.nonTrainableParams], [265_258, 264_362, 896])
        XCTAssertEqual(r.layer("lambda_1")?.op, .lambda(.standardize(mean: 0.1307, std: 0.3081)))
        XCTAssertEqual(r.layer("leaky_re_lu_8")?.op, .activation(.leakyRelu(alpha: 0.3)))
        XCTAssertEqual(r.layer("dropout_1")?.op, .dropout(rate: 0.25, spatial: false))
        XCTAssertEqual(r.layer("dropout_7")?.op, .dropout(rate: 0.5, spatial: false))
        XCTAssertEqual(r.layer("dense_1")?.op, .dense(units: 256, useBias: true, activation: .linear))
        XCTAssertEqual(r.layer("dense_3")?.op, .dense(units: 10, useBias: true, activation: .softmax))
        XCTAssertEqual(r.ir.training.epochs, 30)
        XCTAssertTrue(r.ir.training.augmentation.enabled)
        XCTAssertEqual(r.ir.assumptions, [])
        XCTAssertTrue(r.ir.layers.allSatisfy { $0.notes.isEmpty || $0.name == "input" }, "\(r.ir.layers.map(\.notes))")
    }
}
