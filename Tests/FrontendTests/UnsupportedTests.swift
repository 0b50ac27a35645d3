import XCTest
@testable import ModelcCore

final class UnsupportedTests: XCTestCase {
    func testUnsupportedLayerMessage() {
        let t = """
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #   
        =================================================================
        embedding_1 (Embedding)      (None, 100, 64)           640000    
        _________________________________________________________________
        lstm_1 (LSTM)                (None, 128)               98816     
        =================================================================
        """
        // Embedding and LSTM are supported (issue 17): this table verifies.
        XCTAssertTrue(checkOK(t)?.ok ?? false)
        let td = t.replacingOccurrences(of: "embedding_1 (Embedding)    ", with: "time_distributed (TimeDistr")
        // TimeDistributed is read (issue 17); first, with no input printed, it finds no sequence to wrap
        checkError(td, contains: "lstm.md:4: error: layer 'time_distributed' (TimeDistributed): a TimeDistributed layer with parameters is read as Dense on each step", path: "lstm.md")
        let conv = t.replacingOccurrences(of: "embedding_1 (Embedding)      (None, 100, 64)           640000    ",
                                          with: "input_1 (InputLayer)         (None, 100, 64)           0         ")
            .replacingOccurrences(of: "lstm_1 (LSTM)    ", with: "lstm_1 (ConvLSTM)")
        checkError(conv, contains: "lstm.md:6: error: layer 'lstm_1' (ConvLSTM) is not supported (supported: InputLayer,", path: "lstm.md")
    }

    func testTruncatedUnsupportedAndNestedModels() {
        let t = """
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #   
        =================================================================
        input_1 (InputLayer)         (None, 7, 7, 64)          0         
        _________________________________________________________________
        conv2d_transpose_1 (Conv2DTr (None, 14, 14, 32)        18464     
        =================================================================
        """
        let conv3d = t.replacingOccurrences(of: "conv2d_transpose_1 (Conv2DTr", with: "conv3d_transpose_1 (Conv3DTr")
        checkError(conv3d, contains: "t.md:6: error: layer 'conv3d_transpose_1' (Conv3DTr…) is not supported", path: "t.md")
        let nested = t.replacingOccurrences(of: "conv2d_transpose_1 (Conv2DTr (None, 14, 14, 32)", with: "sequential_1 (Sequential)    (None, 14, 14, 32)")
        checkError(nested, contains: "layer 'sequential_1' (Sequential) is a nested model (a pretrained base or an inner Sequential) printed as one row of 18,464 params; modelc needs its layers: print the summary with `model.summary(expand_nested=True)`", path: "t.md")
    }

    func testSeveralOutputsAndSecondInput() {
        let t = """
        __________________________________________________________________________________________________
        Layer (type)                    Output Shape         Param #     Connected to                     
        ==================================================================================================
        input_1 (InputLayer)            (None, 10)           0                                            
        __________________________________________________________________________________________________
        input_2 (InputLayer)            (None, 10)           0                                            
        __________________________________________________________________________________________________
        """
        // Several inputs are read (ModelInputsTests); two InputLayer rows and nothing reading them are not a model.
        checkError(t, contains: "s.md:4: error: Input layer 'input_1' feeds no layer of the model", path: "s.md")
    }
}
