// Graphs from the `Connected to` column (issue 17): producers, merge inference and
// verification, Keras 3 names cut short, and the clear errors for what is out of scope.

import XCTest
@testable import ModelcCore

final class GraphTests: XCTestCase {
    static let keras2 = """
    __________________________________________________________________________________________________
    Layer (type)                    Output Shape         Param #     Connected to                     
    ==================================================================================================
    input_1 (InputLayer)            (None, 784)          0                                            
    __________________________________________________________________________________________________
    dense_1 (Dense)                 (None, 10)           7850        input_1[0][0]                    
    __________________________________________________________________________________________________
    dense_2 (Dense)                 (None, 10)           7850        input_1[0][0]                    
    __________________________________________________________________________________________________
    add_1 (Add)                     (None, 10)           0           dense_1[0][0]                    
                                                                     dense_2[0][0]                    
    __________________________________________________________________________________________________
    dense_3 (Dense)                 (None, 10)           110         add_1[0][0]                      
    ==================================================================================================
    Total params: 15,810
    Trainable params: 15,810
    Non-trainable params: 0
    """

    /// A squeeze-and-excitation block: Multiply broadcasts the scale (None, 1, 1, 8) over the
    /// feature map (None, 8, 8, 8), as Keras's merge layers do (numerics: Tests/RuntimeTests/
    /// MergeBroadcastTests and the ONNX se_residual fixture).
    func testMultiplyBroadcastsASqueezeExcitationScale() throws {
        let t = """
        __________________________________________________________________________________________________
        Layer (type)                    Output Shape         Param #     Connected to                     
        ==================================================================================================
        input_1 (InputLayer)            (None, 8, 8, 4)      0
        __________________________________________________________________________________________________
        conv2d_1 (Conv2D)               (None, 8, 8, 8)      296         input_1[0][0]
        __________________________________________________________________________________________________
        global_average_pooling2d_1 (Gl  (None, 8)            0           conv2d_1[0][0]
        __________________________________________________________________________________________________
        reshape_1 (Reshape)             (None, 1, 1, 8)      0           global_average_pooling2d_1[0][0]
        __________________________________________________________________________________________________
        conv2d_2 (Conv2D)               (None, 1, 1, 2)      18          reshape_1[0][0]
        __________________________________________________________________________________________________
        conv2d_3 (Conv2D)               (None, 1, 1, 8)      24          conv2d_2[0][0]
        __________________________________________________________________________________________________
        multiply_1 (Multiply)           (None, 8, 8, 8)      0           conv2d_1[0][0]
                                                                         conv2d_3[0][0]
        __________________________________________________________________________________________________
        flatten_1 (Flatten)             (None, 512)          0           multiply_1[0][0]
        __________________________________________________________________________________________________
        dense_1 (Dense)                 (None, 10)           5130        flatten_1[0][0]
        ==================================================================================================
        Total params: 5,468
        Trainable params: 5,468
        Non-trainable params: 0
        """
        let r = try XCTUnwrap(checkOK(t))
        XCTAssertEqual(r.layer("multiply_1")?.op, .merge(.multiply))
        XCTAssertEqual(r.layer("multiply_1")?.outputShape, [8, 8, 8])
        checkError(t.replacingOccurrences(of: "(None, 1, 1, 8)      24 ", with: "(None, 1, 1, 6)      18 ")
                    .replacingOccurrences(of: "Total params: 5,468", with: "Total params: 5,462"),
                   contains: "layer 'multiply_1' (Multiply): inputs (8, 8, 8), (1, 1, 6) differ; each size must equal the others or be 1 (broadcasting)")
    }

    func testKeras2AddGraph() throws {
        let r = try Frontend.check(text: Self.keras2, path: "g.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.producers), [nil, [0], [0], [1, 2], [3]])
        XCTAssertEqual(r.ir.layers[3].op, .merge(.add))
        XCTAssertTrue(r.text().contains("from dense_1, dense_2"), r.text())
    }

    func testOutOfScopeAndInconsistentGraphs() throws {
        let t = Self.keras2
        // Two entries in a Dense row are two calls of it (shared weights, SharedLayerTests).
        let twice = try Frontend.check(text: t.replacingOccurrences(of: "add_1 (Add)                     (None, 10)           0  ",
                                                                    with: "dense_9 (Dense)                 (None, 10)           110")
                                        .replacingOccurrences(of: "add_1[0][0]", with: "dense_9[0][0]"), path: "g.md")
        XCTAssertEqual(twice.ir.layers.first { $0.name == "dense_9[1]" }?.sharesWeightsWith, 3)
        checkError(t.replacingOccurrences(of: "dense_2[0][0]  ", with: "dense_2[1][0]  "),
                   contains: "g.md:10: error: layer 'add_1' reads dense_2[1], call 2 of 'dense_2', but the row of 'dense_2' lists 1 call", path: "g.md")
        checkError(t.replacingOccurrences(of: "dense_2[0][0]  ", with: "dense_7[0][0]  "),
                   contains: "layer 'add_1' is connected to 'dense_7', which is not a layer of the table", path: "g.md")
        checkError(t.replacingOccurrences(of: "dense_1[0][0]  ", with: "dense_3[0][0]  "),
                   contains: "layer 'add_1' is connected to 'dense_3', which comes later in the table", path: "g.md")
        // add_1 then feeds nothing: a second output head (ModelHeads.swift).
        XCTAssertEqual(try Frontend.check(text: t.replacingOccurrences(of: "add_1[0][0]  ", with: "dense_1[0][0]"), path: "g.md").ir.heads?.map(\.name),
                       ["add_1", "dense_3"])
        checkError(t.replacingOccurrences(of: "(Add)     ", with: "(Subtract)")
                    .replacingOccurrences(of: "    dense_2[0][0]  ", with: "    dense_2[0][0] input_1[0][0]"),
                   contains: "Subtract needs exactly 2 inputs, has 3", path: "g.md")
        let wide = t.replacingOccurrences(of: "dense_2 (Dense)                 (None, 10)           7850",
                                          with: "dense_2 (Dense)                 (None, 12)           9420")
        checkError(wide, contains: "layer 'add_1' (Add): inputs (10), (12) differ; each size must equal the others or be 1 (broadcasting)", path: "g.md")
        let concat = wide.replacingOccurrences(of: "add_1 (Add)                     (None, 10)", with: "add_1 (Concatenate)             (None, 22)")
            .replacingOccurrences(of: "110         add_1", with: "230         add_1")
            .replacingOccurrences(of: "15,810", with: "17,500")
        XCTAssertEqual(try Frontend.check(text: concat, path: "g.md").ir.layers[3].op, .merge(.concatenate(axis: -1)))
        checkError(concat.replacingOccurrences(of: "(None, 22)", with: "(None, 21)"),
                   contains: "give (22), the table says (21)", path: "g.md")
    }

    /// Keras 3 box table whose names the columns cut short (`batch_normalizat…`), wrapped lists.
    func testKeras3CutNames() throws {
        let t = """
        ┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
        ┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
        ┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
        │ input_layer         │ (None, 5, 5, 2)   │          0 │ -                 │
        │ (InputLayer)        │                   │            │                   │
        ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
        │ conv2d (Conv2D)     │ (None, 5, 5, 4)   │         76 │ input_layer[0][0] │
        ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
        │ batch_normalization │ (None, 5, 5, 4)   │         16 │ conv2d[0][0]      │
        │ (BatchNormalizatio… │                   │            │                   │
        ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
        │ activation          │ (None, 5, 5, 4)   │          0 │ batch_normalizat… │
        │ (Activation)        │                   │            │                   │
        ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
        │ conv2d_1 (Conv2D)   │ (None, 5, 5, 4)   │        148 │ activation[0][0]  │
        ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
        │ batch_normalizatio… │ (None, 5, 5, 4)   │         16 │ conv2d_1[0][0]    │
        │ (BatchNormalizatio… │                   │            │                   │
        ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
        │ add (Add)           │ (None, 5, 5, 4)   │          0 │ batch_normalizat… │
        │                     │                   │            │ activation[0][0]  │
        ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
        │ activation_1        │ (None, 5, 5, 4)   │          0 │ add[0][0]         │
        │ (Activation)        │                   │            │                   │
        ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
        │ global_average_poo… │ (None, 4)         │          0 │ activation_1[0][… │
        │ (GlobalAveragePool… │                   │            │                   │
        ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
        │ dense (Dense)       │ (None, 3)         │         15 │ global_average_p… │
        └─────────────────────┴───────────────────┴────────────┴───────────────────┘
         Total params: 271 (1.06 KB)
         Trainable params: 255 (1020.00 B)
         Non-trainable params: 16 (64.00 B)
        """
        let r = try Frontend.check(text: t, path: "k3.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        // activation reads the only earlier batch_normalization*; add the one nothing else reads.
        XCTAssertEqual(r.ir.layers.map(\.producers), [nil, [0], [1], [2], [3], [4], [5, 3], [6], [7], [8]])
        // Two cut names that could each be either layer: an error, never a guess.
        let both = t.replacingOccurrences(of: "│ activation          │ (None, 5, 5, 4)   │          0 │ batch_normalizat… │",
                                          with: "│ activation          │ (None, 5, 5, 4)   │          0 │ conv2d[0][0]      │")
        checkError(both, contains: "cut short by the table: it may be any of 'batch_normalization', 'batch_normalizatio'", path: "k3.md")
    }

    /// A chain written with a Connected to column stays a chain (no producers recorded).
    func testChainWithConnectedColumnIsUnchanged() throws {
        let chain = """
        __________________________________________________________________________________________________
        Layer (type)                    Output Shape         Param #     Connected to                     
        ==================================================================================================
        input_1 (InputLayer)            (None, 784)          0                                            
        __________________________________________________________________________________________________
        dense_1 (Dense)                 (None, 10)           7850        input_1[0][0]                    
        __________________________________________________________________________________________________
        dropout_1 (Dropout)             (None, 10)           0           dense_1[0][0]                    
        __________________________________________________________________________________________________
        dense_2 (Dense)                 (None, 10)           110         dropout_1[0][0]                  
        ==================================================================================================
        Total params: 7,960
        """
        let r = try Frontend.check(text: chain, path: "c.md")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertTrue(r.ir.layers.isChain)
    }

    /// tf.keras 2 prints `x + y` of two tensors as a TFOpLambda row named tf.__operators__.add
    /// (keras.io's Transformer examples): an Add; with one input (`x + 1`) it is refused.
    func testTFOpLambdaAddIsAnAdd() throws {
        let table = """
         Layer (type)                   Output Shape         Param #     Connected to
        ==================================================================================================
         input_1 (InputLayer)           [(None, 8)]          0           []

         dense (Dense)                  (None, 8)            72          ['input_1[0][0]']

         tf.__operators__.add (TFOpLamb  (None, 8)           0           ['dense[0][0]',
         da)                                                              'input_1[0][0]']

         dense_1 (Dense)                (None, 2)            18          ['tf.__operators__.add[0][0]']

        ==================================================================================================
        Total params: 90
        Trainable params: 90
        Non-trainable params: 0
        """
        let r = try XCTUnwrap(checkOK(table))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("tf.__operators__.add")?.kind, "Add")
        XCTAssertEqual(r.ir.layers.producers(of: 2).count, 2)
        let one = table.replacingOccurrences(of: "['dense[0][0]',", with: "['dense[0][0]']  ")
            .replacingOccurrences(of: "'input_1[0][0]']\n\n dense_1", with: "\n\n dense_1")
        checkError(one, contains: "layer 'tf.__operators__.add' (Add): needs at least 2 inputs, has 1")
    }
}
