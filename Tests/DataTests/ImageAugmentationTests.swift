import Foundation
import XCTest
@testable import ModelcData

/// Keras's random image layers with fixed transforms against Keras 3 (TF backend) outputs
/// (Tests/Fixtures/data/augmentation/make_augmentation_fixtures.py).
final class ImageAugmentationTests: XCTestCase {
    struct Fixture {
        var h: Int, w: Int, c: Int
        var image: [Float]
        var cases: [[String: Any]]
    }

    func load() throws -> Fixture {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("augmentation/cases.json")))
        let d = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        func floats(_ v: Any?) -> [Float] { ((v as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.floatValue } }
        return Fixture(h: d["height"] as! Int, w: d["width"] as! Int, c: d["channels"] as! Int,
                       image: floats(d["image"]), cases: d["cases"] as! [[String: Any]])
    }

    /// The layer a fixture case built, from its class and arguments.
    func layer(_ cls: String, _ args: [String: Any]) throws -> ImageAugmentation {
        func range(_ key: String, lowest: Float = -1) -> (lower: Float, upper: Float)? {
            let v = ((args[key] as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.floatValue }
            return ImageAugmentation.kerasRange(v, lowest: lowest)
        }
        let kind: ImageAugmentation.Kind
        switch cls {
        case "RandomRotation": let r = range("factor")!; kind = .rotation(lower: r.lower, upper: r.upper)
        case "RandomZoom":
            let hr = range("height_factor")!, wr = range("width_factor")
            kind = .zoom(heightLower: hr.lower, heightUpper: hr.upper, widthLower: wr?.lower, widthUpper: wr?.upper)
        case "RandomTranslation":
            let hr = range("height_factor")!, wr = range("width_factor")!
            kind = .translation(heightLower: hr.lower, heightUpper: hr.upper, widthLower: wr.lower, widthUpper: wr.upper)
        case "RandomContrast": let r = range("factor", lowest: 0)!; kind = .contrast(lower: r.lower, upper: r.upper)
        case "RandomBrightness": let r = range("factor")!; kind = .brightness(lower: r.lower, upper: r.upper)
        default: throw XCTSkip("unknown class \(cls)")
        }
        var a = ImageAugmentation(kind)
        if let f = args["fill_mode"] as? String { a.fillMode = try XCTUnwrap(ImageAugmentation.FillMode(rawValue: f)) }
        if let v = args["fill_value"] as? NSNumber { a.fillValue = v.floatValue }
        if let i = args["interpolation"] as? String { a.bilinear = i == "bilinear" }
        if let r = args["value_range"] as? [NSNumber] { a.valueLow = r[0].floatValue; a.valueHigh = r[1].floatValue }
        return a
    }

    func testFixedTransformsMatchKeras() throws {
        let f = try load()
        XCTAssertEqual(f.cases.count, 76)
        var scratch = [Float](repeating: 0, count: f.image.count)
        for c in f.cases {
            let name = c["name"] as! String
            let a = try layer(c["class"] as! String, c["args"] as! [String: Any])
            let want = ((c["output"] as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.floatValue }
            // a case with its own image (a 1x9 row) gives its size
            let own = ((c["image"] as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.floatValue }
            var x = own.isEmpty ? f.image : own
            let (h, w) = own.isEmpty ? (f.h, f.w) : (c["height"] as! Int, c["width"] as! Int)
            x.withUnsafeMutableBufferPointer { xp in
                scratch.withUnsafeMutableBufferPointer { sp in
                    a.apply(xp.baseAddress!, height: h, width: w, channels: f.c, scratch: sp.baseAddress!, uniform: { 0.5 })
                }
            }
            XCTAssertEqual(want.count, x.count, name)
            let worst = zip(x, want).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 2e-3, "\(name): largest difference \(worst)")
        }
    }

    /// Flips: one draw decides every axis of the mode, as Keras 3 does (tf.keras 2: one per axis).
    func testFlipModes() {
        let h = 2, w = 3, c = 1
        let x: [Float] = [1, 2, 3, 4, 5, 6]
        func run(_ horizontal: Bool, _ vertical: Bool, independent: Bool = false, draw: Float, second: Float? = nil) -> [Float] {
            var y = x, s = x
            var draws = [draw] + (second.map { [$0] } ?? [])
            let a = ImageAugmentation(.flip(horizontal: horizontal, vertical: vertical, independent: independent))
            y.withUnsafeMutableBufferPointer { yp in
                s.withUnsafeMutableBufferPointer { a.apply(yp.baseAddress!, height: h, width: w, channels: c, scratch: $0.baseAddress!, uniform: { draws.removeFirst() }) }
            }
            XCTAssertTrue(draws.isEmpty, "every draw used")
            return y
        }
        XCTAssertEqual(run(true, false, draw: 0.2), [3, 2, 1, 6, 5, 4])
        XCTAssertEqual(run(false, true, draw: 0.5), [4, 5, 6, 1, 2, 3])
        XCTAssertEqual(run(true, true, draw: 0.1), [6, 5, 4, 3, 2, 1])
        XCTAssertEqual(run(true, true, draw: 0.51), x)
        // tf.keras 2: one draw per axis
        XCTAssertEqual(run(true, true, independent: true, draw: 0.2, second: 0.7), [3, 2, 1, 6, 5, 4])
        XCTAssertEqual(run(true, true, independent: true, draw: 0.7, second: 0.2), [4, 5, 6, 1, 2, 3])
    }

    func testKerasRanges() {
        XCTAssertTrue(ImageAugmentation.kerasRange([0.2])! == (-0.2, 0.2))
        XCTAssertTrue(ImageAugmentation.kerasRange([0.2], lowest: 0)! == (0, 0.2))
        XCTAssertTrue(ImageAugmentation.kerasRange([0.3, -0.1])! == (-0.1, 0.3))
        XCTAssertNil(ImageAugmentation.kerasRange([]))
        XCTAssertNil(ImageAugmentation.kerasRange([0.1, 0.2, 0.3]))
    }
}
