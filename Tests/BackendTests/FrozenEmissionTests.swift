import XCTest
@testable import ModelcCore
import ModelcBackend

/// A frozen layer's tensors are emitted non-trainable, so the optimizer (which steps the
/// trainable ranges only) leaves them; the fingerprint tells frozen from trainable.
final class FrozenEmissionTests: XCTestCase {
    func testFrozenTensorsAreEmittedNonTrainable() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras_files/frozen_dense.keras").path
        let r = try Frontend.check(path: path)
        let src = Emitter.emit(r.ir, fuse: true).source
        XCTAssertTrue(src.contains("TensorSpec(key: \"frozen/kernel\", shape: [8, 4], offset: 0, trainable: false"), "frozen kernel not emitted non-trainable")
        XCTAssertTrue(src.contains("TensorSpec(key: \"head/kernel\", shape: [4, 3], offset: 36, trainable: true"), "head kernel not trainable")
        XCTAssertTrue(src.contains("trainableParameterCount: 15"))
        var thawed = r.ir
        thawed.layers[1].frozen = nil
        XCTAssertNotEqual(Fingerprint.of(r.ir), Fingerprint.of(thawed))
    }
}
