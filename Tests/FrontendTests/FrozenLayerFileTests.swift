import XCTest
@testable import ModelcCore

/// `trainable: false` in a Keras model file (Tests/Fixtures/keras_files/make_frozen_keras.py).
final class FrozenLayerFileTests: XCTestCase {
    func testFrozenDenseCountsAsNonTrainable() throws {
        let r = try Frontend.check(path: Fixtures.path("keras_files/frozen_dense.keras"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("frozen")?.frozen, true)
        XCTAssertNil(r.layer("head")?.frozen)
        // Keras: 15 trainable, 36 non-trainable.
        XCTAssertEqual([r.ir.trainableParams, r.ir.nonTrainableParams], [15, 36])
    }

    func testFrozenBatchNormIsRefused() {
        XCTAssertThrowsError(try Frontend.check(path: Fixtures.path("keras_files/frozen_bn.keras"))) { e in
            XCTAssertTrue("\(e)".contains("layer 'bn' (BatchNormalization) is frozen (trainable: false)"), "\(e)")
        }
    }
}
