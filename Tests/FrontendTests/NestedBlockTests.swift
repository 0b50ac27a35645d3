// `nested NAME: Class ...; Class ...`: the layers of a nested model printed as one row of 0
// params (TensorFlow's image-classification tutorial prints its augmentation Sequential so).

import XCTest
@testable import ModelcCore
import ModelcData

final class NestedBlockTests: XCTestCase {
    static let flowers = "summaries/err_tfkeras_hidden_augmentation_sequential_flowers.txt"

    func annotated(_ line: String) throws -> String {
        try Fixtures.text(Self.flowers) + "\n```modelc\n\(line)\n```\n"
    }

    func testNamedLayersReplaceTheRow() throws {
        let text = try annotated("nested sequential_1: RandomFlip mode=horizontal; RandomRotation factor=0.2 fill_mode=nearest; RandomZoom height_factor=0.1")
        let r = try XCTUnwrap(checkOK(text, path: Fixtures.path(Self.flowers)))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.prefix(5).map(\.name), ["input", "random_flip", "random_rotation", "random_zoom", "rescaling_2"])
        XCTAssertEqual(r.ir.inputShape, [180, 180, 3], "the row's shape: every named layer keeps it")
        XCTAssertEqual(r.layer("random_rotation")?.op, .augment(ImageAugmentation(.rotation(lower: -0.2, upper: 0.2), fillMode: .nearest)))
        XCTAssertEqual(r.ir.totalParams, 3_989_285)
    }

    func testBadDirectivesAreErrors() throws {
        func fails(_ line: String, _ fragment: String) throws {
            XCTAssertThrowsError(try Frontend.check(text: try annotated(line), path: "t.md")) { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(e)")
            }
        }
        try fails("nested sequential_9: RandomFlip", "nested sequential_9: no row of the table is named 'sequential_9'")
        try fails("nested conv2d_3: RandomFlip", "nested conv2d_3: the row (line")
        try fails("nested sequential_1: RandomTwirl factor=1", "nested sequential_1: 'RandomTwirl' is not a supported layer class")
        try fails("nested sequential_1: RandomFlip mode=sideways", "mode=sideways: expected horizontal, vertical or horizontal_and_vertical")
        try fails("nested: RandomFlip", "expected 'nested NAME: Class key=value ...; Class ...'")
        // without the annotation: the error names it
        XCTAssertThrowsError(try Frontend.check(text: try Fixtures.text(Self.flowers), path: "t.md")) { e in
            XCTAssertTrue("\(e)".contains("name its layers: `nested sequential_1: RandomFlip mode=horizontal; RandomRotation factor=0.1`"), "\(e)")
        }
    }
}
