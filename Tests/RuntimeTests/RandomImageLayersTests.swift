import XCTest
import ModelcData
@testable import ModelcRuntime

/// The training kernel of Keras's random image layers: each image draws from (seed, its place in
/// the batch), so any split of the batch into chunks gives the same images; off, a copy.
final class RandomImageLayersTests: XCTestCase {
    func run(_ layer: ImageAugmentation, _ x: [Float], first: Int, count: Int, seed: UInt64, on: Bool = true) -> [Float] {
        let size = 5 * 4 * 2
        var y = [Float](repeating: .nan, count: count * size)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            RandomImageLayers.training(xp.baseAddress! + first * size, yp.baseAddress!, layer: layer, first: first, count: count,
                                       height: 5, width: 4, channels: 2, seed: seed, on: on) } }
        return y
    }

    func testImagesDrawFromTheirPlaceNotTheChunk() {
        let x = (0..<(6 * 40)).map { Float(($0 * 37) % 101) }
        for layer in [ImageAugmentation(.flip(horizontal: true, vertical: true)), ImageAugmentation(.rotation(lower: -0.2, upper: 0.2)),
                      ImageAugmentation(.contrast(lower: 0, upper: 0.5))] {
            let whole = run(layer, x, first: 0, count: 6, seed: 11)
            XCTAssertEqual(whole, run(layer, x, first: 0, count: 2, seed: 11) + run(layer, x, first: 2, count: 4, seed: 11), layer.description)
            XCTAssertNotEqual(whole, x, layer.description)
            XCTAssertNotEqual(whole, run(layer, x, first: 0, count: 6, seed: 12), layer.description)
            XCTAssertEqual(run(layer, x, first: 1, count: 3, seed: 11, on: false), Array(x[40..<160]))
        }
    }

    /// tf.keras 2's RandomContrast draws one factor for the batch: equal images stay equal.
    func testContrastPerBatch() {
        let image = (0..<40).map { Float(($0 * 13) % 29) }
        let x = image + image + image
        let perImage = run(ImageAugmentation(.contrast(lower: 0.5, upper: 0.5)), x, first: 0, count: 3, seed: 4)
        let perBatch = run(ImageAugmentation(.contrast(lower: 0.5, upper: 0.5, perBatch: true)), x, first: 0, count: 3, seed: 4)
        XCTAssertNotEqual(Array(perImage[0..<40]), Array(perImage[40..<80]))
        XCTAssertEqual(Array(perBatch[0..<40]), Array(perBatch[40..<80]))
        XCTAssertEqual(Array(perBatch[0..<40]), Array(perBatch[80..<120]))
        XCTAssertNotEqual(Array(perBatch[0..<40]), image)
    }
}
