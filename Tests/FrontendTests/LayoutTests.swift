import XCTest
@testable import ModelcCore

/// One small synthetic table per layout the scanner accepts (issue 2), written in each
/// layout's exact style. The real corpus (CorpusTests) covers the same layouts from the wild.
final class LayoutTests: XCTestCase {
    // Keras 2: `___` / `===` rules, truncated class names, commas, `Param #`.
    static let keras2 = """
    Model: "sequential_1"
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #   
    =================================================================
    zero_padding2d_1 (ZeroPaddin (None, 30, 30, 1)         0         
    _________________________________________________________________
    conv2d_1 (Conv2D)            (None, 28, 28, 16)        160       
    _________________________________________________________________
    batch_normalization_1 (Batch (None, 28, 28, 16)        64        
    _________________________________________________________________
    max_pooling2d_1 (MaxPooling2 (None, 14, 14, 16)        0         
    _________________________________________________________________
    separable_conv2d_1 (Separabl (None, 12, 12, 32)        688       
    _________________________________________________________________
    global_average_pooling2d_1 ( (None, 32)                0         
    _________________________________________________________________
    dense_1 (Dense)              (None, 1000)              33,000    
    _________________________________________________________________
    dense_2 (Dense)              (None, 10)                10,010    
    =================================================================
    Total params: 43,922
    Trainable params: 43,890
    Non-trainable params: 32
    _________________________________________________________________
    """

    func testKeras2TruncatedNamesAndCommas() throws {
        let r = try Frontend.check(text: Self.keras2, path: "k2.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layout, "keras2")
        XCTAssertEqual(r.ir.layers.map(\.kind), ["InputLayer", "ZeroPadding2D", "Conv2D", "BatchNormalization", "MaxPooling2D",
                                                 "SeparableConv2D", "GlobalAveragePooling2D", "Dense", "Dense"])
        XCTAssertEqual(r.ir.inputShape, [28, 28, 1], "input guessed from the zero padding output")
        XCTAssertEqual([r.ir.totalParams, r.ir.trainableParams, r.ir.nonTrainableParams], [43_922, 43_890, 32])
        guard case .separableConv2d(let a, let m)? = r.layer("separable_conv2d_1")?.op else { return XCTFail() }
        // 688 = 3*3*16*1 + 16*1*32 + 32
        XCTAssertEqual([a.kernelH, a.kernelW, m, a.useBias ? 1 : 0], [3, 3, 1, 1])
    }

    func testKeras2HeaderVariantsAndMissingFooter() throws {
        for header in ["Param #", "Parameters", "Param"] {
            let text = """
            Some prose before the table.

            _________________________________________________________________
            Layer (type)                 Output Shape              \(header)
            =================================================================
            flatten_1 (Flatten)          (None, 784)               0
            _________________________________________________________________
            dense_1 (Dense)              (None, 128)               100,480
            _________________________________________________________________
            dense_2 (Dense)              (None, 10)                1,290
            =================================================================
            Trainable params: 101,770

            And prose after it.
            """
            let r = try Frontend.check(text: text, path: "h.md")
            XCTAssertTrue(r.ok, header)
            XCTAssertEqual(r.ir.declared, DeclaredTotals(total: nil, trainable: 101_770, nonTrainable: nil))
            XCTAssertEqual(r.ir.inputShape, [28, 28, 1])
            XCTAssertTrue(r.json().contains("\"declared\": {\"total\": null, \"trainable\": 101770, \"non_trainable\": null}"))
        }
    }

    // tf.keras >= 2.9: leading space, blank spacer lines, wrapped class names, `multiple`.
    static let tfkeras = """
    Model: "sequential"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #   
    =================================================================
     conv2d (Conv2D)             (None, 26, 26, 32)        320       
                                                                     
     batch_normalization (BatchN  (None, 26, 26, 32)       128       
     ormalization)                                                   
                                                                     
     max_pooling2d (MaxPooling2D  (None, 13, 13, 32)       0         
     )                                                               
                                                                     
     global_average_pooling2d_12  (None, 32)               0         
      (GlobalAveragePooling2D)                                       
                                                                     
     dense (Dense)               (None, 10)                330       
                                                                     
    =================================================================
    Total params: 778
    Trainable params: 714
    Non-trainable params: 64
    _________________________________________________________________
    """

    func testTFKerasWrappedNames() throws {
        let r = try Frontend.check(text: Self.tfkeras, path: "tf.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layout, "tf.keras")
        XCTAssertEqual(r.ir.layers.map(\.kind), ["InputLayer", "Conv2D", "BatchNormalization", "MaxPooling2D",
                                                 "GlobalAveragePooling2D", "Dense"])
        XCTAssertEqual(r.ir.layers[4].name, "global_average_pooling2d_12")
    }

    func testTFKerasMultipleShapes() throws {
        let text = """
        Model: "my_model"
        _________________________________________________________________
         Layer (type)                Output Shape              Param #
        =================================================================
         conv2d (Conv2D)             multiple                  320

         flatten (Flatten)           multiple                  0

         dense (Dense)               multiple                  2769024

         dense_1 (Dense)             multiple                  1290

        =================================================================
        Total params: 2,770,634
        Trainable params: 2,770,634
        Non-trainable params: 0
        _________________________________________________________________
        """
        let r = try Frontend.check(text: text, path: "m.md")
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.layer("conv2d")?.outputShape, [26, 26, 32])
        XCTAssertEqual(r.layer("dense")?.outputShape, [128])
        XCTAssertTrue(r.layer("dense")?.notes.joined().contains("not printed") ?? false)
    }

    // Keras 3 heavy box table, cells cut with an ellipsis, sizes after the totals.
    static let keras3Heavy = """
    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ batch_normalization_17 (BatchN… │ (None, 26, 26, 32)     │           128 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)     │             0 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ flatten (Flatten)               │ (None, 5408)           │             0 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ dropout (Dropout)               │ (None, 5408)           │             0 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ dense (Dense)                   │ (None, 10)             │        54,090 │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 54,538 (213.04 KB)
     Trainable params: 54,474 (212.79 KB)
     Non-trainable params: 64 (256.00 B)
    """

    func testKeras3Heavy() throws {
        let r = try Frontend.check(text: Self.keras3Heavy, path: "k3.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layout, "keras3-heavy")
        XCTAssertEqual(r.layer("batch_normalization_17")?.kind, "BatchNormalization")
        XCTAssertEqual([r.ir.totalParams, r.ir.trainableParams, r.ir.nonTrainableParams], [54_538, 54_474, 64])
    }

    func testKeras3LightWithOptimizerParams() throws {
        let text = """
        Model: "sequential"
        ┌─────────────────────────────────┬────────────────────────┬───────────────┐
        │ Layer (type)                    │ Output Shape           │       Param # │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ dense (Dense)                   │ (None, 3)              │            18 │
        ├─────────────────────────────────┼────────────────────────┼───────────────┤
        │ dense_1 (Dense)                 │ (None, 1)              │             4 │
        └─────────────────────────────────┴────────────────────────┴───────────────┘
         Total params: 68 (276.00 B)
         Trainable params: 22 (88.00 B)
         Non-trainable params: 0 (0.00 B)
         Optimizer params: 46 (188.00 B)
        """
        let r = try Frontend.check(text: text, path: "k3l.md")
        XCTAssertEqual(r.layout, "keras3-light")
        XCTAssertTrue(r.ok, "\(r.problems)")   // 68 = 22 + 0 + 46
        XCTAssertEqual(r.ir.inputShape, [5])
        XCTAssertEqual(r.ir.declared.optimizer, 46)
        XCTAssertTrue(r.text().contains("optimizer params"))
    }

    func testKeras3WrappedCellAndBareTotals() throws {
        let text = """
        ┏━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┓
        ┃ Layer (type)         ┃ Output Shape      ┃  Param # ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━┩
        │ input_layer          │ (None, 28, 28, 1) │        0 │
        │ (InputLayer)         │                   │          │
        ├──────────────────────┼───────────────────┼──────────┤
        │ batch_normalization  │ (None, 28, 28, 1) │        4 │
        │ (BatchNormalization) │                   │          │
        ├──────────────────────┼───────────────────┼──────────┤
        │ flatten (Flatten)    │ (None, 784)       │        0 │
        ├──────────────────────┼───────────────────┼──────────┤
        │ dense (Dense)        │ (None, 10)        │    7,850 │
        └──────────────────────┴───────────────────┴──────────┘
         Total params: 7,854 (30.68 KB)
        """
        let r = try Frontend.check(text: text, path: "k3w.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.kind), ["InputLayer", "BatchNormalization", "Flatten", "Dense"])
        XCTAssertEqual(r.ir.nonTrainableParams, 2)
    }

    // Single-chain functional models (Connected to column), Keras 2 and Keras 3.
    func testFunctionalChain() throws {
        let text = """
        __________________________________________________________________________________________________
        Layer (type)                    Output Shape         Param #     Connected to                     
        ==================================================================================================
        input_1 (InputLayer)            (None, 28, 28, 1)    0                                            
        __________________________________________________________________________________________________
        conv2d_1 (Conv2D)               (None, 26, 26, 8)    80          input_1[0][0]                    
        __________________________________________________________________________________________________
        flatten_1 (Flatten)             (None, 5408)         0           conv2d_1[0][0]                   
        __________________________________________________________________________________________________
        dense_1 (Dense)                 (None, 10)           54090       flatten_1[0][0]                  
        ==================================================================================================
        Total params: 54,170
        Trainable params: 54,170
        Non-trainable params: 0
        __________________________________________________________________________________________________
        """
        let r = try Frontend.check(text: text, path: "f.md")
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.layout, "keras2+functional")

        let k3 = """
        Model: "functional"
        ┏━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
        ┃ Layer (type)          ┃ Output Shape      ┃  Param # ┃ Connected to      ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
        │ input_layer           │ (None, 28, 28, 1) │        0 │ -                 │
        │ (InputLayer)          │                   │          │                   │
        ├───────────────────────┼───────────────────┼──────────┼───────────────────┤
        │ flatten (Flatten)     │ (None, 784)       │        0 │ input_layer[0][0] │
        ├───────────────────────┼───────────────────┼──────────┼───────────────────┤
        │ dense (Dense)         │ (None, 10)        │    7,850 │ flatten[0][0]     │
        └───────────────────────┴───────────────────┴──────────┴───────────────────┘
         Total params: 7,850 (30.66 KB)
        """
        let r3 = try Frontend.check(text: k3, path: "f3.md")
        XCTAssertTrue(r3.ok)
        XCTAssertEqual(r3.layout, "keras3-heavy+functional")
    }

    // Prefixes and indentation: `# `, `#> `, 2/4 spaces, tab, code fences.
    func testPrefixesAndIndentation() throws {
        let bare = Self.keras2.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let prefixes = ["  ", "    ", "\t", "# ", "#> ", "#", "> "]
        for p in prefixes {
            let body = bare.map { p + $0 }.joined(separator: "\n")
            let doc = "# Title\n\nSome text about the model.\n\n```\n" + body + "\n```\n\nMore prose: 99% accuracy.\n"
            let r = try Frontend.check(text: doc, path: "p.md")
            XCTAssertTrue(r.ok, "prefix '\(p)': \(r.problems)")
            XCTAssertEqual(r.ir.layers.count, 9, "prefix '\(p)'")
        }
        // A tf.keras table (leading space) under a `#> ` prefix and inside a 4-space block.
        for p in ["#> ", "    "] {
            let body = Self.tfkeras.split(separator: "\n", omittingEmptySubsequences: false).map { p + $0 }.joined(separator: "\n")
            let r = try Frontend.check(text: "Intro\n" + body + "\n", path: "q.md")
            XCTAssertTrue(r.ok, "prefix '\(p)'")
            XCTAssertEqual(r.ir.layers.count, 6)
        }
        // Windows line endings.
        let crlf = Self.keras3Heavy.replacingOccurrences(of: "\n", with: "\r\n")
        XCTAssertTrue(try Frontend.check(text: crlf, path: "w.md").ok)
    }

    func testTotalsMismatchIsAProblemNotACrash() throws {
        let bad = Self.keras2.replacingOccurrences(of: "Total params: 43,922", with: "Total params: 43,923")
        let r = try Frontend.check(text: bad, path: "bad.md")
        XCTAssertFalse(r.ok)
        XCTAssertEqual(r.problems.count, 1)
        XCTAssertTrue(r.problems[0].description.hasPrefix("bad.md:21: error: total params: computed 43,922, declared 43,923"), r.problems[0].description)
        XCTAssertTrue(r.text().contains("MISMATCH: declared 43,923"))
        XCTAssertTrue(r.json().contains("\"ok\": false"))
    }

    func testMarkdownPipeTableAndTrailingComments() throws {
        let pipe = """
        | Layer (type) | Output Shape | Param # |
        |---|---|---:|
        | conv2d (Conv2D) | (None, 26, 26, 32) | 320 |
        | flatten (Flatten) | (None, 21632) | 0 |
        | dense (Dense) | (None, 10) | 216,330 |

        Total params: 216,650
        """
        let r = try Frontend.check(text: pipe, path: "pipe.md")
        XCTAssertTrue(r.ok)
        XCTAssertEqual(r.layout, "markdown")
        let commented = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        conv2d_1 (Conv2D)            (None, 26, 26, 32)        320       # 3*3*32 + 32
        flatten_1 (Flatten)          (None, 21632)             0
        dense_1 (Dense)              (None, 10)                216330    # 21632*10 + 10
        =================================================================
        Total params: 216,650
        """
        XCTAssertTrue(try Frontend.check(text: commented, path: "c.md").ok)
        checkError(commented.replacingOccurrences(of: "# 3*3*32 + 32", with: "three by three"),
                   contains: "c.md:3: error: unexpected text 'three by three' after the parameter count", path: "c.md")
    }

    /// GitHub also renders a pipe table without outer pipes (`a | b | c` over `--|--|--`); a README
    /// may paste the totals in a code block right under it.
    func testMarkdownPipeTableWithoutOuterPipes() throws {
        let table = """
        Layer (type) | Output Shape | Param #
        --|--|--
        conv2d (Conv2D) | (None, 26, 26, 32) | 320
        flatten (Flatten) | (None, 21632) | 0
        dense (Dense) | (None, 10) | 216,330
        ```
        Total params: 216,650
        ```
        """
        let r = try XCTUnwrap(checkOK(table))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layout, "markdown")
        XCTAssertEqual(r.ir.layers.map(\.kind), ["InputLayer", "Conv2D", "Flatten", "Dense"])
        XCTAssertEqual(r.ir.declared.total, 216_650, "the totals in the code block under the table are read")
        checkError(table.replacingOccurrences(of: "flatten (Flatten)", with: "(figure 3)\nflatten (Flatten)"),
                   contains: "test.md:4: error: reading the table stopped here at '(figure 3)'")
    }

    /// Keras 3 output as keras.io renders it (`<pre>` blocks, `<span style=...>` around classes and
    /// figures) and as a notebook's text output keeps it (terminal colour codes).
    func testKeras3HTMLSpansAndTerminalColours() throws {
        func span(_ text: String, _ style: String) -> String { "<span style=\"\(style)\">\(text)</span>" }
        let pre = "<pre style=\"white-space:pre;overflow-x:auto;line-height:normal\">"
        let html = Self.keras3Heavy
            .replacingOccurrences(of: "Model: \"sequential\"\n", with: pre + span("Model: \"sequential\"", "font-weight: bold") + "\n</pre>\n\n" + pre)
            .replacingOccurrences(of: "┃ Layer (type)                    ┃", with: "┃" + span(" Layer (type)                    ", "font-weight: bold") + "┃")
            .replacingOccurrences(of: "(Conv2D)", with: "(" + span("Conv2D", "color: #0087ff; text-decoration-color: #0087ff") + ")")
            .replacingOccurrences(of: "54,090", with: span("54,090", "color: #00af00; text-decoration-color: #00af00"))
            .replacingOccurrences(of: "\n Total params: ", with: "\n</pre>\n\n" + pre + span(" Total params: ", "font-weight: bold"))
        let esc = "\u{1B}["
        let ansi = Self.keras3Heavy
            .replacingOccurrences(of: "Layer (type)", with: "\(esc)1mLayer (type)\(esc)0m")
            .replacingOccurrences(of: "(Conv2D)", with: "(\(esc)38;5;33mConv2D\(esc)0m)")
            .replacingOccurrences(of: "54,090", with: "\(esc)38;5;34m54,090\(esc)0m")
        for text in [html, ansi] {
            let r = try XCTUnwrap(checkOK(text))
            XCTAssertTrue(r.ok, "\(r.problems)")
            XCTAssertEqual(r.layout, "keras3-heavy")
            XCTAssertEqual(r.layer("conv2d")?.kind, "Conv2D")
            XCTAssertEqual(r.ir.totalParams, 54_538)
            XCTAssertEqual(r.ir.declared.total, 54_538)
        }
    }

    func testNoTable() {
        checkError("# Just prose\n\nNo summary here.\n", contains: "none.md: error: no Keras model summary found", path: "none.md")
        checkError("Layer (type)   Output Shape   Param #\n=====\n\nprose\n", contains: "x.md:1: error: the summary table has a header but no layer rows", path: "x.md")
    }

    /// Two summaries in one document (keras.io's functional API guide prints the encoder's table,
    /// then the autoencoder's): the first is read and the second is named, never silently skipped.
    func testASecondTableIsNotedNotRead() throws {
        let one = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        dense (Dense)                (None, 4)                 12
        =================================================================
        Total params: 12
        """
        let r = try XCTUnwrap(checkOK(one + "\n\nThe decoder:\n\n" + one.replacingOccurrences(of: "dense (Dense)", with: "dense_1 (Dense)")))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertNotNil(r.layer("dense"))
        XCTAssertNil(r.layer("dense_1"))
        XCTAssertTrue(r.ir.assumptions.contains { $0.hasPrefix("line 9: another summary table, not read") }, "\(r.ir.assumptions)")
        let single = try XCTUnwrap(checkOK(one))
        XCTAssertFalse(single.ir.assumptions.contains { $0.contains("another summary table") })
    }
}
