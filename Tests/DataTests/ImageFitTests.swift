// Fitting decoded images to a model's input: resizing against PIL's Image.resize(BILINEAR),
// torchvision's Resize + CenterCrop and PIL's convert("L") (references made by PIL in
// Tests/Fixtures/data/make_image_fixtures.py), the channel conversions with alpha, and every
// ImageFit mode and its errors.
import Foundation
import XCTest
@testable import ModelcData

final class ImageFitTests: XCTestCase {
    func image(_ rel: String) throws -> DecodedImage { try ImageDecoder.decode(path: fixture("images/" + rel)) }

    /// Asserts that `got` equals the reference array `key` of images/expected.npz (2-D for gray).
    func assertMatchesPIL(_ got: DecodedImage, _ key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let want = try XCTUnwrap(try NPZ.read(path: fixture("images/expected.npz"))[key], key, file: file, line: line)
        XCTAssertEqual(want.shape.count == 2 ? want.shape + [1] : want.shape, [got.height, got.width, got.channels], key, file: file, line: line)
        let differing = zip(want.data, got.pixels).filter { $0 != $1 }.count
        XCTAssertEqual(differing, 0, "\(key): \(differing) of \(got.pixels.count) values differ from PIL's", file: file, line: line)
    }

    /// `predict --invert` fits a dark-on-transparent drawing over white paper, so that inverted
    /// it is light on dark, as MNIST; otherwise alpha goes over black.
    func testAlphaGoesOverTheBackgroundAsked() throws {
        // 2x1 gray + alpha: a black stroke (alpha 255) and transparent paper (alpha 0)
        let drawing = DecodedImage(width: 2, height: 1, channels: 2, pixels: [0, 255, 0, 0])
        let fit = ImageFit(width: 2, height: 1, channels: 1, resize: false, crop: false)
        XCTAssertEqual(try fit.apply(drawing, file: "d.png").pixels, [0, 0])
        XCTAssertEqual(try fit.apply(drawing, file: "d.png", background: 255).pixels, [0, 255])
    }

    func testResizeIsPILBilinear() throws {
        let g56 = try image("gray/train/grass/train_01_56.png"), g40 = try image("gray/train/gravel/train_01_40x28.png")
        let g28 = try image("gray/train/brick/train_00.png"), rgb48 = try image("rgb/train/coffee/train_01.png")
        XCTAssertEqual([g56.width, g40.width, g40.height, rgb48.width, rgb48.height, rgb48.channels], [56, 40, 28, 48, 36, 3])
        try assertMatchesPIL(g56.resized(width: 28, height: 28), "gray56_to_28x28")
        try assertMatchesPIL(g40.resized(width: 28, height: 28), "gray40x28_to_28x28")
        try assertMatchesPIL(g28.resized(width: 45, height: 37), "gray28_to_45x37")
        try assertMatchesPIL(rgb48.resized(width: 32, height: 32), "rgb48x36_to_32x32")
        try assertMatchesPIL(rgb48.resized(width: 13, height: 7), "rgb48x36_to_13x7")
    }

    func testResizeAndCropIsTorchvisionResizeCenterCrop() throws {
        let rgb48 = try image("rgb/train/coffee/train_01.png"), g56 = try image("gray/train/grass/train_01_56.png")
        try assertMatchesPIL(ImageFit(width: 32, height: 32, channels: 3, resize: true, crop: true).apply(rgb48, file: "f"), "rgb48x36_fit32")
        try assertMatchesPIL(ImageFit(width: 20, height: 20, channels: 1, resize: true, crop: true).apply(g56, file: "f"), "gray56_fit20")
    }

    func testLumaIsPILConvertL() throws {
        let rgb = try image("rgb/train/rocket/train_00.png")
        try assertMatchesPIL(ImageFit(width: 32, height: 32, channels: 1, resize: false, crop: false).apply(rgb, file: "f"), "rgb32_luma")
        XCTAssertEqual([bt601Luma(255, 0, 0), bt601Luma(0, 255, 0), bt601Luma(0, 0, 255), bt601Luma(255, 255, 255), bt601Luma(0, 0, 0)],
                       [76, 150, 29, 255, 0])
    }

    func testChannelConversions() {
        let gray = DecodedImage(width: 2, height: 1, channels: 1, pixels: [10, 200])
        XCTAssertEqual(gray.converted(to: 3)?.pixels, [10, 10, 10, 200, 200, 200])
        // gray+alpha: composited over black (half alpha halves the value, rounded), or over white
        let ga = DecodedImage(width: 3, height: 1, channels: 2, pixels: [200, 255, 200, 128, 200, 0])
        XCTAssertEqual(ga.converted(to: 1)?.pixels, [200, 100, 0])
        XCTAssertEqual(ga.converted(to: 1, background: 255)?.pixels, [200, 227, 255])
        XCTAssertEqual(ga.converted(to: 3)?.pixels, [200, 200, 200, 100, 100, 100, 0, 0, 0])
        // RGBA: colors composited over black, then luma for gray
        let rgba = DecodedImage(width: 2, height: 1, channels: 4, pixels: [255, 0, 0, 255, 90, 60, 30, 0])
        XCTAssertEqual(rgba.converted(to: 3)?.pixels, [255, 0, 0, 0, 0, 0])
        XCTAssertEqual(rgba.converted(to: 1)?.pixels, [76, 0])
        XCTAssertEqual(rgba.converted(to: 4), rgba)
        XCTAssertNil(rgba.converted(to: 2))
        XCTAssertNil(DecodedImage(width: 1, height: 1, channels: 5, pixels: [1, 2, 3, 4, 5]).converted(to: 1))
    }

    func testCenterCropOffsetsRoundHalfToEven() {
        // torchvision: top = int(round((h - crop) / 2.0)), Python rounding half to even
        let row = DecodedImage(width: 9, height: 1, channels: 1, pixels: Array(0...8))
        XCTAssertEqual(row.centerCropped(width: 8, height: 1).pixels, Array(0...7))      // (1) / 2 = 0.5 -> 0
        XCTAssertEqual(row.centerCropped(width: 6, height: 1).pixels, Array(2...7))      // 1.5 -> 2
        XCTAssertEqual(row.centerCropped(width: 4, height: 1).pixels, Array(2...5))      // 2.5 -> 2
        XCTAssertEqual(row.centerCropped(width: 2, height: 1).pixels, [4, 5])            // 3.5 -> 4
        XCTAssertEqual(row.centerCropped(width: 9, height: 1), row)
    }

    func testFitModesAndErrors() throws {
        let wide = DecodedImage(width: 6, height: 4, channels: 1, pixels: (0..<24).map { UInt8($0 * 10) })
        func fit(_ resize: Bool, _ crop: Bool, _ w: Int = 4, _ h: Int = 4, _ c: Int = 1) -> ImageFit {
            ImageFit(width: w, height: h, channels: c, resize: resize, crop: crop)
        }
        assertDataError(["w.png", "image is 6x4 (width x height), the model expects 4x4; pass --resize (scale), --crop (center crop) or both"]) {
            try fit(false, false).apply(wide, file: "w.png")
        }
        // exact size: only the channels change
        XCTAssertEqual(try fit(false, false, 6, 4, 3).apply(wide, file: "w").pixels.count, 72)
        // crop: the central 4 columns (offset 1)
        XCTAssertEqual(try fit(false, true).apply(wide, file: "w").pixels, (0..<4).flatMap { y in (1..<5).map { UInt8((y * 6 + $0) * 10) } })
        assertDataError(["w.png", "image is 6x4", "the model expects 8x8: too small for --crop alone; add --resize"]) {
            try fit(false, true, 8, 8).apply(wide, file: "w.png")
        }
        // resize: stretched to exactly 4x4
        XCTAssertEqual(try fit(true, false).apply(wide, file: "w"), wide.resized(width: 4, height: 4))
        // resize + crop: scaled to cover the input keeping the aspect ratio (height 4 -> 8: 12x8), then cropped
        XCTAssertEqual(try fit(true, true, 8, 8).apply(wide, file: "w"), wide.resized(width: 12, height: 8).centerCropped(width: 8, height: 8))
        XCTAssertEqual(fit(true, true, 8, 8).coverSize(width: 6, height: 4).0, 12)
        XCTAssertEqual(fit(true, true, 32, 32).coverSize(width: 36, height: 48).1, 42)   // int(32 * 48 / 36) = 42
        XCTAssertTrue(fit(true, true, 10, 2).coverSize(width: 6, height: 4) == (10, 6))  // a wide input: width binds
        XCTAssertTrue(fit(true, true, 2, 10).coverSize(width: 6, height: 4) == (15, 10)) // a tall one: height binds
        assertDataError(["v.png", "image has 5 channels, the model expects 1"]) {
            try fit(false, false).apply(DecodedImage(width: 4, height: 4, channels: 5, pixels: [UInt8](repeating: 0, count: 80)), file: "v.png")
        }
        XCTAssertEqual(fit(true, true, 32, 32, 3).description, "32x32x3, resize + center crop")
        // a sliver would be scaled to gigabytes before its crop: refused
        let sliver = DecodedImage(width: 16384, height: 1, channels: 1, pixels: [UInt8](repeating: 7, count: 16384))
        assertDataError(["s.png", "image is 16384x1", "the image would be 3670016x224, more than 16777216 pixels"]) {
            try fit(true, true, 224, 224).apply(sliver, file: "s.png")
        }
    }

    /// A FIFO (or device) where a file should be is refused at once, never opened blocking.
    func testReadRefusesAFIFO() throws {
        let path = NSTemporaryDirectory() + "modelc-fifo-\(UUID().uuidString).png"
        XCTAssertEqual(mkfifo(path, 0o644), 0)
        defer { unlink(path) }
        assertDataError([path, "is not a regular file (a FIFO, device or socket), expected a file"]) { _ = try FileIO.read(path: path) }
    }
}
