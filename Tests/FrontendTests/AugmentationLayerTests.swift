// Keras's random image layers (RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
// RandomContrast, RandomBrightness): table rows and configs become `.augment` ops with Keras's
// arguments (annotated, from the config, or defaulted and named), before any trained layer.

import XCTest
@testable import ModelcCore
import ModelcData

final class AugmentationLayerTests: XCTestCase {
    static func table(_ augment: [String], rescalingFirst: Bool = false) -> String {
        var rows = augment.map { "\($0)(None, 28, 28, 1)         0" }
        let rescale = " rescaling (Rescaling)       (None, 28, 28, 1)         0"
        if rescalingFirst { rows.insert(rescale, at: 0) } else { rows.append(rescale) }
        return """
        _________________________________________________________________
         Layer (type)                Output Shape              Param #
        =================================================================
        \(rows.joined(separator: "\n"))
         conv2d (Conv2D)             (None, 26, 26, 8)         80
         flatten (Flatten)           (None, 5408)              0
         dense (Dense)               (None, 10)                54090
        =================================================================
        Total params: 54,170
        Trainable params: 54,170
        Non-trainable params: 0
        _________________________________________________________________
        """
    }

    static let all = [" random_flip (RandomFlip)    ", " random_rotation (RandomRot ", " random_zoom (RandomZoom)    ",
                      " random_translation (Random  ", " random_contrast (RandomCon ", " random_brightness (Random   "]

    func testRowsReadWithKerasDefaultsAndNamedAssumptions() throws {
        let r = try XCTUnwrap(checkOK(Self.table(Self.all)))
        XCTAssertTrue(r.ok, "\(r.problems)")
        // a tf.keras table: tf.keras 2's draws (one flip per axis; contrast f from [1 - f, 1 + f])
        XCTAssertEqual(r.layer("random_flip")?.op, .augment(ImageAugmentation(.flip(horizontal: true, vertical: true, independent: true))))
        XCTAssertEqual(r.layer("random_rotation")?.op, .augment(ImageAugmentation(.rotation(lower: -0.1, upper: 0.1))))
        XCTAssertEqual(r.layer("random_zoom")?.op, .augment(ImageAugmentation(.zoom(heightLower: -0.1, heightUpper: 0.1, widthLower: nil, widthUpper: nil))))
        XCTAssertEqual(r.layer("random_translation")?.op,
                       .augment(ImageAugmentation(.translation(heightLower: -0.1, heightUpper: 0.1, widthLower: -0.1, widthUpper: 0.1))))
        XCTAssertEqual(r.layer("random_contrast")?.op, .augment(ImageAugmentation(.contrast(lower: 0.1, upper: 0.1, perBatch: true))))
        XCTAssertEqual(r.layer("random_brightness")?.op, .augment(ImageAugmentation(.brightness(lower: -0.1, upper: 0.1))))
        let text = r.text()
        XCTAssertTrue(text.contains("RandomFlip mode=horizontal_and_vertical (Keras default"), text)
        XCTAssertTrue(text.contains("RandomTranslation height_factor=0.1 width_factor=0.1 (Keras has no default"), text)
        XCTAssertTrue(text.contains("random image layers: random_flip, random_rotation"), text)
        XCTAssertEqual(r.ir.inputScale, 1, "the Rescaling row scales the raw pixels")
    }

    /// A table that shows no Keras version (markdown) or a Keras 3 one: Keras 3's draws.
    func testKerasThreeDrawsOutsideKerasTwoTables() throws {
        let r = try Frontend.check(path: Fixtures.path("summaries/markdown_random_flip_rotation_bold_totals_meowmeow.txt"))
        XCTAssertEqual(r.layer("random_flip")?.op, .augment(ImageAugmentation(.flip(horizontal: true, vertical: true))))
        let k3 = try Frontend.check(path: Fixtures.path("summaries/keras3_random_rotation_zoom_bn_cnn_course.txt"))
        XCTAssertEqual(k3.layer("random_rotation")?.op, .augment(ImageAugmentation(.rotation(lower: -0.1, upper: 0.1))))
        XCTAssertFalse(k3.ir.layers.contains { $0.notes.contains { $0.hasPrefix("tf.keras 2's draws") } })
    }

    func testAnnotationsSetTheArguments() throws {
        let text = Self.table([" random_flip (RandomFlip)    ", " random_rotation (RandomRot ", " random_zoom (RandomZoom)    ", " random_contrast (RandomCon "]) + """

        ```modelc
        layer random_flip: mode=horizontal
        layer random_rotation: factor=-0.2,0.3 fill_mode=constant fill_value=7 interpolation=nearest
        layer random_zoom: height_factor=0.2 width_factor=-0.1,0.4 fill_mode=wrap
        layer random_contrast: factor=0.4,0.2 value_range=0,1
        ```
        """
        let r = try XCTUnwrap(checkOK(text))
        XCTAssertEqual(r.layer("random_flip")?.op, .augment(ImageAugmentation(.flip(horizontal: true, vertical: false))))
        XCTAssertEqual(r.layer("random_rotation")?.op,
                       .augment(ImageAugmentation(.rotation(lower: -0.2, upper: 0.3), fillMode: .constant, fillValue: 7, bilinear: false)))
        XCTAssertEqual(r.layer("random_zoom")?.op,
                       .augment(ImageAugmentation(.zoom(heightLower: -0.2, heightUpper: 0.2, widthLower: -0.1, widthUpper: 0.4), fillMode: .wrap)))
        // a tf.keras table: the pair as tf.keras 2 reads it (unsorted: [1 - 0.4, 1 + 0.2]), one draw per batch
        XCTAssertEqual(r.layer("random_contrast")?.op,
                       .augment(ImageAugmentation(.contrast(lower: 0.4, upper: 0.2, perBatch: true), valueLow: 0, valueHigh: 1)))
        XCTAssertFalse(r.text().contains("Keras has no default"), r.text())
    }

    func testBadAnnotationsAreErrors() {
        let base = Self.table([" random_flip (RandomFlip)    ", " random_rotation (RandomRot "])
        func annotated(_ line: String) -> String { base + "\n```modelc\n\(line)\n```\n" }
        checkError(annotated("layer random_rotation: mode=horizontal"), contains: "layer 'random_rotation' (RandomRotation) has no 'mode' setting")
        checkError(annotated("layer random_flip: fill_mode=constant"), contains: "has no 'fill_mode' setting")
        checkError(annotated("layer random_flip: interpolation=nearest"), contains: "has no 'interpolation' setting")
        checkError(annotated("layer conv2d: factor=0.1"), contains: "layer 'conv2d' (Conv2D) has no 'factor' setting")
        checkError(annotated("layer random_rotation: factor=11"), contains: "factor=11: each number must lie in [-10, 10]")
        checkError(annotated("layer random_rotation: fill_value=1e39"), contains: "fill_value=1e39: expected a number of at most 1e30 in size")
        checkError(annotated("layer random_rotation: factor=0.1,0.2,0.3"), contains: "expected one number f (the range -f..f) or two")
        checkError(annotated("layer random_rotation: fill_mode=mirror"), contains: "fill_mode=mirror: expected reflect, wrap, constant or nearest")
        checkError(annotated("layer random_flip: mode=diagonal"), contains: "mode=diagonal: expected horizontal, vertical or horizontal_and_vertical")
    }

    /// Their transform has no backward, so no trained layer may precede them; they transform images.
    func testNotAfterATrainedLayerAndOnImagesOnly() throws {
        let late = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        conv2d (Conv2D)              (None, 26, 26, 8)         80
        random_flip (RandomFlip)     (None, 26, 26, 8)         0
        flatten (Flatten)            (None, 5408)              0
        dense (Dense)                (None, 10)                54090
        =================================================================
        Total params: 54,170
        """
        checkError(late, contains: "layer 'random_flip' (RandomFlip): a random image layer after 'conv2d' (Conv2D), which has trainable weights, is not supported")
        let sequence = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        random_flip (RandomFlip)     (None, 40, 16)            0
        conv1d (Conv1D)              (None, 38, 8)             392
        =================================================================
        Total params: 392
        ```modelc
        input: shape=40x16
        ```
        """
        checkError(sequence, contains: "RandomFlip transforms images (height, width, channels), not (40, 16)")
    }

    /// Anything without trainable weights may come before them (Rescaling, Resizing); a trained
    /// layer may not. The value range a table cannot show: Keras's 0..255 where the layer reads
    /// the model's input (mapped through `input: scale=`), as it stands after a Rescaling.
    func testAfterRescalingAndTheirValueRanges() throws {
        let r = try XCTUnwrap(checkOK(Self.table([" random_contrast (RandomCon "], rescalingFirst: true)))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.ir.layers.map(\.kind).prefix(3), ["InputLayer", "Rescaling", "RandomContrast"])
        guard case .augment(let after)? = r.layer("random_contrast")?.op else { return XCTFail("no contrast layer") }
        XCTAssertEqual([after.valueLow, after.valueHigh], [0, 255])
        XCTAssertTrue(r.text().contains("RandomContrast value_range=0,255 (Keras's default, in the units the layers before it give"), r.text())
        let bare = Self.table([" random_brightness (Random   "]).replacingOccurrences(of: " rescaling (Rescaling)       (None, 28, 28, 1)         0\n", with: "")
        let b = try XCTUnwrap(checkOK(bare))
        guard case .augment(let first)? = b.layer("random_brightness")?.op else { return XCTFail("no brightness layer") }
        XCTAssertEqual(b.ir.inputScale, 1 / 255, accuracy: 1e-9)
        XCTAssertEqual(first.valueLow, 0)
        XCTAssertEqual(first.valueHigh, 1, accuracy: 1e-6, "0..255 in the model's 0..1 inputs")
        checkError(Self.table([" random_zoom (RandomZoom)    "]) + "\n```modelc\nlayer random_zoom: height_factor=-1,0.2\n```\n",
                   contains: "layer 'random_zoom' (RandomZoom): a zoom factor of -1 or less")
    }

    func testKerasConfigArguments() throws {
        let r = try Frontend.check(path: Fixtures.path("keras_config/augmentation_layers.config.json"))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("flip")?.op, .augment(ImageAugmentation(.flip(horizontal: true, vertical: false))))
        XCTAssertEqual(r.layer("rotate")?.op,
                       .augment(ImageAugmentation(.rotation(lower: -0.05, upper: 0.1), fillMode: .constant, fillValue: 12, bilinear: false)))
        XCTAssertEqual(r.layer("zoom")?.op, .augment(ImageAugmentation(.zoom(heightLower: -0.2, heightUpper: 0.2, widthLower: -0.1, widthUpper: 0.3), fillMode: .wrap)))
        XCTAssertEqual(r.layer("shift")?.op,
                       .augment(ImageAugmentation(.translation(heightLower: -0.1, heightUpper: 0.1, widthLower: -0.2, widthUpper: 0.05), fillMode: .nearest)))
        XCTAssertEqual(r.layer("contrast")?.op, .augment(ImageAugmentation(.contrast(lower: 0, upper: 0.3))))   // Keras 3: [1, 1.3]
        XCTAssertEqual(r.layer("brightness")?.op, .augment(ImageAugmentation(.brightness(lower: -0.2, upper: 0.1), valueLow: 0, valueHigh: 200)))
    }

    /// A Keras 2 `.h5` model_config: tf.keras 2's draws (one flip per axis, contrast f as [1 - f, 1 + f]).
    func testKerasTwoConfigDraws() throws {
        let json = """
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "RandomFlip", "config": {"name": "random_flip", "trainable": true, "dtype": "float32", "batch_input_shape": [null, 8, 8, 1],
                                                  "mode": "horizontal_and_vertical", "seed": null}},
          {"class_name": "RandomContrast", "config": {"name": "random_contrast", "trainable": true, "dtype": "float32", "factor": 0.2, "seed": null}},
          {"class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32", "data_format": "channels_last"}},
          {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 2, "activation": "softmax", "use_bias": true}}]},
         "keras_version": "2.11.0", "backend": "tensorflow"}
        """
        let r = try KerasConfig.model(fromJSON: json, file: "model.h5")
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("random_flip")?.op, .augment(ImageAugmentation(.flip(horizontal: true, vertical: true, independent: true))))
        XCTAssertEqual(r.layer("random_contrast")?.op, .augment(ImageAugmentation(.contrast(lower: 0.2, upper: 0.2, perBatch: true))))
    }

    /// Resizing: the table's output size, bilinear (nearest refused); from a config too.
    func testResizingRows() throws {
        let table = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        resizing (Resizing)          (None, 32, 30, 1)         0
        random_flip (RandomFlip)     (None, 32, 30, 1)         0
        conv2d (Conv2D)              (None, 30, 28, 8)         80
        flatten (Flatten)            (None, 6720)              0
        dense (Dense)                (None, 10)                67210
        =================================================================
        Total params: 67,290
        ```modelc
        input: shape=28x28x1
        ```
        """
        let r = try XCTUnwrap(checkOK(table))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("resizing")?.op, .resize(height: 32, width: 30))
        XCTAssertTrue(r.text().contains("Resizing interpolation=bilinear"), r.text())
        checkError(table.replacingOccurrences(of: "input: shape=28x28x1", with: "input: shape=28x28x1\nlayer resizing: interpolation=nearest"),
                   contains: "interpolation=nearest is not supported")
        checkError(table.replacingOccurrences(of: "resizing (Resizing)          (None, 32, 30, 1)", with: "resizing (Resizing)          (None, 32, 30, 3)"),
                   contains: "Resizing keeps the 1 channels")
        let k = try Frontend.check(path: Fixtures.path("keras_config/augmentation_layers.config.json"))
        XCTAssertEqual(k.layer("resize")?.op, .resize(height: 30, width: 26))
    }

    /// CenterCrop: a Cropping from row (H - h) / 2 and column (W - w) / 2 (the odd one left over at
    /// the bottom/right), as Keras crops; to a size larger than its input (a resize first) refused.
    func testCenterCropRows() throws {
        let table = """
        Layer (type)                 Output Shape              Param #
        =================================================================
        center_crop (CenterCrop)     (None, 25, 24, 1)         0
        conv2d (Conv2D)              (None, 23, 22, 8)         80
        flatten (Flatten)            (None, 4048)              0
        dense (Dense)                (None, 10)                40490
        =================================================================
        Total params: 40,570
        ```modelc
        input: shape=28x28x1
        ```
        """
        let r = try XCTUnwrap(checkOK(table))
        XCTAssertTrue(r.ok, "\(r.problems)")
        XCTAssertEqual(r.layer("center_crop")?.op, .cropping(top: 1, bottom: 2, left: 2, right: 2))
        checkError(table.replacingOccurrences(of: "input: shape=28x28x1", with: "input: shape=24x28x1"),
                   contains: "CenterCrop to 25x24, larger than its input 24x28, resizes first")
        let k = try Frontend.check(path: Fixtures.path("keras_config/augmentation_layers.config.json"))
        XCTAssertEqual(k.layer("crop")?.op, .cropping(top: 1, bottom: 2, left: 1, right: 1))
    }
}
