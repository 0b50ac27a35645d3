import XCTest
@testable import ModelcCore

/// Nested models (issue 17): tables printed with `model.summary(expand_nested=True)` read as
/// one chain of the inner layers (Keras 3 `└` rows at any depth, Keras 2 `|¯¯¯|` frames), and
/// a nested model printed as one row refused with the way to print it expanded.
final class NestedModelTests: XCTestCase {
    /// Keras 3.15, a Functional base (with its own InputLayer) holding a Sequential.
    static let keras3 = """
    Model: "outer"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ img (InputLayer)                │ (None, 8, 8, 3)        │             0 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ base_model (Functional)         │ (None, 1, 1, 6)        │           334 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │    └ inner_in (InputLayer)      │ (None, 8, 8, 3)        │             0 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │    └ c1 (Conv2D)                │ (None, 6, 6, 4)        │           112 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │    └ p1 (MaxPooling2D)          │ (None, 3, 3, 4)        │             0 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │    └ deep (Sequential)          │ (None, 1, 1, 6)        │           222 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │       └ c2 (Conv2D)             │ (None, 1, 1, 6)        │           222 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ flat (Flatten)                  │ (None, 6)              │             0 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ out (Dense)                     │ (None, 2)              │            14 │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 348 (1.36 KB)
     Trainable params: 348 (1.36 KB)
     Non-trainable params: 0 (0.00 B)
    """

    /// TF 2.x print_summary(expand_nested=True) layout (line_length 65), a Functional base.
    static let keras2 = """
    Model: "outer"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     img (InputLayer)            [(None, 8, 8, 3)]         0

     base (Functional)           (None, 1, 1, 6)           334
    |¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|
    | input_2 (InputLayer)      [(None, 8, 8, 3)]         0         |
    |                                                               |
    | c1 (Conv2D)               (None, 6, 6, 4)           112       |
    |                                                               |
    | p1 (MaxPooling2D)         (None, 3, 3, 4)           0         |
    |                                                               |
    | c2 (Conv2D)               (None, 1, 1, 6)           222       |
    ¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯

     flat (Flatten)              (None, 6)                 0

     out (Dense)                 (None, 2)                 14

    =================================================================
    Total params: 348
    Trainable params: 348
    Non-trainable params: 0
    _________________________________________________________________
    """

    func testKeras3ExpandedAtTwoDepths() throws {
        let r = try XCTUnwrap(checkOK(Self.keras3))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["img", "c1", "p1", "c2", "flat", "out"])
        XCTAssertEqual(r.layer("c2")?.line, 17, "line numbers stay the document's")
        XCTAssertEqual(r.ir.assumptions.filter { $0.hasPrefix("nested model") }.count, 2, "\(r.ir.assumptions)")
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("nested model 'base_model' (line 7)") }, "\(r.ir.assumptions)")
    }

    func testKeras2Expanded() throws {
        let r = try XCTUnwrap(checkOK(Self.keras2))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["img", "c1", "p1", "c2", "flat", "out"])
        XCTAssertEqual(r.ir.totalParams, 348)
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("nested model 'base' (line 7)") }, "\(r.ir.assumptions)")
    }

    func testCollapsedNestedModelsAreRefused() {
        let k3 = Self.keras3.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("└") }.joined(separator: "\n")
        checkError(k3, contains: "test.md:7: error: layer 'base_model' (Functional) is a nested model (a pretrained base or an inner Sequential) printed as one row of 334 params; modelc needs its layers: print the summary with `model.summary(expand_nested=True)`")
        let k2 = """
        Model: "m"
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #
        =================================================================
        mobilenetv2_1.00_224 (Functi (None, 7, 7, 1280)        2257984
        _________________________________________________________________
        global_average_pooling2d (Gl (None, 1280)              0
        _________________________________________________________________
        dense (Dense)                (None, 2)                 2562
        =================================================================
        Total params: 2,260,546
        """
        checkError(k2, contains: "layer 'mobilenetv2_1.00_224' (Functional) is a nested model")
        checkError(k2.replacingOccurrences(of: "(Functi", with: "(Sequen"), contains: "(Sequential) is a nested model")
    }

    /// tf.keras 2.9+ wraps a `name (Class)` cell wider than its column: the container row takes
    /// two lines (published: an expand_nested ResNet50V2 classifier, `img_augmentation (Sequentia` / ` l)`).
    static let keras2Wrapped = """
    Model: "m"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     input_1 (InputLayer)        [(None, 16)]              0

     image_sequential (Sequentia  (None, 2)                610
     l)
    |¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|
    | dense_0 (Dense)           (None, 32)                544       |
    |                                                               |
    | dense_1 (Dense)           (None, 2)                 66        |
    ¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯

     prediction (Dense)          (None, 1)                 3

    =================================================================
    Total params: 613
    Trainable params: 613
    Non-trainable params: 0
    _________________________________________________________________
    """

    /// A model nested in a nested model: TF opens it with `||¯¯¯||` and closes it with `|¯¯¯|`,
    /// the line that opens a model at the top level.
    static let keras2TwoLevels = """
    Model: "m"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     input_1 (InputLayer)        [(None, 16)]              0

     outer (Sequential)          (None, 2)                 610
    |¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|
    | inner (Sequential)        (None, 32)                544       |
    ||¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯||
    || dense_0 (Dense)         (None, 32)                544       ||
    |¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|
    |                                                               |
    | dense_1 (Dense)           (None, 2)                 66        |
    ¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯

     prediction (Dense)          (None, 1)                 3

    =================================================================
    Total params: 613
    Trainable params: 613
    Non-trainable params: 0
    _________________________________________________________________
    """

    func testKeras2WrappedContainerRow() throws {
        let r = try XCTUnwrap(checkOK(Self.keras2Wrapped))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["input_1", "dense_0", "dense_1", "prediction"])
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("nested model 'image_sequential' (line 7)") }, "\(r.ir.assumptions)")
    }

    func testKeras2TwoLevels() throws {
        let r = try XCTUnwrap(checkOK(Self.keras2TwoLevels))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.name), ["input_1", "dense_0", "dense_1", "prediction"])
        XCTAssertEqual(r.ir.totalParams, 613)
        for (name, line) in [("outer", 7), ("inner", 9)] {
            XCTAssertTrue(r.ir.assumptions.contains { $0.contains("nested model '\(name)' (line \(line))") }, "\(r.ir.assumptions)")
        }
    }

    /// A subclassed model printed with its layers need not run them in a chain: its row stays and
    /// is refused, wrapped or not (it used to be read inline).
    func testKeras2SubclassedContainerIsRefused() {
        checkError(Self.keras2.replacingOccurrences(of: "base (Functional)", with: "base (BaseBlock) "),
                   contains: "test.md:7: error: layer 'base' (BaseBlock) is not supported")
        checkError(Self.keras2Wrapped.replacingOccurrences(of: "(Sequentia", with: "(HeadBlock").replacingOccurrences(of: "\n l)\n", with: "\n )\n"),
                   contains: "test.md:7: error: layer 'image_sequential' (HeadBlock) is not supported")
    }

    /// A markdown pipe table is not a Keras 2 frame: documents without `|¯` are left alone.
    func testOnlyMarkedDocumentsChange() {
        let doc = Document(text: "| a | b |\n|---|---|\n| x (Dense) | 1 |", path: "t.md")
        let (flat, found) = NestedModels.flatten(doc)
        XCTAssertEqual(flat.lines, doc.lines)
        XCTAssertTrue(found.isEmpty)
    }
}
