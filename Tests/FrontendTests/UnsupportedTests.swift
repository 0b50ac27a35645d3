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
        checkError(t, contains: "lstm.md:4: error: layer 'embedding_1' (Embedding) is not supported (supported: InputLayer, ZeroPadding2D, Conv2D, SeparableConv2D, DepthwiseConv2D, BatchNormalization, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Activation, ReLU, LeakyReLU, Softmax, Dropout, Flatten, Reshape, Dense, Lambda, Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, UpSampling2D, Conv2DTranspose, Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate)", path: "lstm.md")
        let lstm = t.replacingOccurrences(of: "embedding_1 (Embedding)      (None, 100, 64)           640000    ",
                                          with: "input_1 (InputLayer)         (None, 100, 64)           0         ")
        checkError(lstm, contains: "lstm.md:6: error: layer 'lstm_1' (LSTM) is not supported (supported: InputLayer,", path: "lstm.md")
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
        checkError(nested, contains: "layer 'sequential_1' (Sequential) is not supported", path: "t.md")
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
        checkError(t, contains: "s.md:6: error: layer 'input_2' has no input in the 'Connected to' column", path: "s.md")
    }
}
