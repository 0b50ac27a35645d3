// Spatial dropout: Keras SpatialDropout1D/2D rows and PyTorch Dropout1d/2d modules become
// dropout with one draw per image and channel (`Op.dropout(spatial: true)`), on sequences and
// images only; the table row's rate is not printed (0.5, or `layer NAME: rate=`).

import XCTest
@testable import ModelcCore

final class SpatialDropoutTests: XCTestCase {
    static let text = """
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     embedding (Embedding)       (None, 40, 16)            16000
     spatial_dropout1d (Spatial  (None, 40, 16)            0
     Dropout1D)
     conv1d (Conv1D)             (None, 38, 8)             392
     global_max_pooling1d (Globa  (None, 8)                0
     lMaxPooling1D)
     dense (Dense)               (None, 1)                 9
    =================================================================
    Total params: 16,401
    Trainable params: 16,401
    Non-trainable params: 0
    _________________________________________________________________
    """

    func testKerasSpatialDropout1DDropsWholeChannels() throws {
        let r = try XCTUnwrap(checkOK(Self.text + "\n```modelc\nlayer spatial_dropout1d: rate=0.2\n```\n"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("spatial_dropout1d")?.op, .dropout(rate: 0.2, spatial: true))
        XCTAssertTrue(r.text().contains("rate 0.2, whole channels"), r.text())
        XCTAssertTrue(r.json().contains("\"spatial\": true") || r.json().contains("\"spatial\":true"), r.json())
    }

    func testKerasSpatialDropout2DOnAnImageAndNotOnAVector() throws {
        let image = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        conv2d (Conv2D)              (None, 26, 26, 8)         80
        spatial_dropout2d (SpatialDr (None, 26, 26, 8)         0
        flatten (Flatten)            (None, 5408)              0
        dense (Dense)                (None, 10)                54090
        =================================================================
        Total params: 54,170
        """
        let r = try XCTUnwrap(checkOK(image))
        XCTAssertEqual(r.layer("spatial_dropout2d")?.op, .dropout(rate: 0.5, spatial: true))
        let vector = image.replacingOccurrences(of: "spatial_dropout2d (SpatialDr (None, 26, 26, 8)", with: "flatten_0 (Flatten)          (None, 5408)       ")
            .replacingOccurrences(of: "flatten (Flatten)            (None, 5408)   ", with: "spatial_dropout2d (SpatialDropout2D) (None, 5408)")
        checkError(vector, contains: "drops whole channels of an image (height, width, channels), not of (5408)")
    }

    func testPyTorchDropout2dAndDropout1dAreSpatial() throws {
        let repr = """
        Net(
          (conv1): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))
          (drop2d): Dropout2d(p=0.25, inplace=False)
          (flatten): Flatten(start_dim=1, end_dim=-1)
          (fc): Linear(in_features=5408, out_features=10, bias=True)
          (drop): Dropout(p=0.1, inplace=False)
        )
        """
        let r = try XCTUnwrap(checkOK(repr))
        XCTAssertEqual(r.layer("drop2d")?.op, .dropout(rate: 0.25, spatial: true))
        XCTAssertEqual(r.layer("drop")?.op, .dropout(rate: 0.1, spatial: false))
        let seq = """
        Net(
          (conv): Conv1d(4, 8, kernel_size=(3,), stride=(1,))
          (drop): Dropout1d(p=0.3, inplace=False)
          (pool): AdaptiveAvgPool1d(output_size=1)
          (flatten): Flatten(start_dim=1, end_dim=-1)
          (fc): Linear(in_features=8, out_features=2, bias=True)
        )

        ```modelc
        input: shape=4x32
        ```
        """
        let s = try XCTUnwrap(checkOK(seq))
        XCTAssertEqual(s.layer("drop")?.op, .dropout(rate: 0.3, spatial: true))
    }
}

extension SpatialDropoutTests {
    /// PyTorch's dim 1 is the steps of a recurrent module's output, and Dropout1d reads a vector
    /// as one unbatched sequence: both refused rather than run on another axis.
    func testSpatialDropoutOnAnotherAxisIsRefused() {
        checkError("""
        Net(
          (emb): Embedding(1000, 16)
          (lstm): LSTM(16, 32, batch_first=True)
          (drop): Dropout2d(p=0.2, inplace=False)
          (fc): Linear(in_features=32, out_features=2, bias=True)
        )

        ```modelc
        input: shape=20
        layer lstm: output=sequence
        ```
        """, contains: "drops whole steps (PyTorch's dim 1)")
        checkError("""
        Net(
          (fc1): Linear(in_features=784, out_features=64, bias=True)
          (drop): Dropout1d(p=0.2, inplace=False)
          (fc2): Linear(in_features=64, out_features=10, bias=True)
        )
        """, contains: "Dropout1d needs a sequence [C, L] (from Conv1d)")
    }

    /// Dropout2d on a vector is element-wise (each value its own channel), and says nothing of channels.
    func testDropout2dOnAVectorIsElementWise() throws {
        let r = try XCTUnwrap(checkOK("""
        Net(
          (fc1): Linear(in_features=784, out_features=64, bias=True)
          (drop): Dropout2d(p=0.2, inplace=False)
          (fc2): Linear(in_features=64, out_features=10, bias=True)
        )
        """))
        XCTAssertEqual(r.layer("drop")?.op, .dropout(rate: 0.2, spatial: false))
    }
}
