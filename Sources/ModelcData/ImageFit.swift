// How a decoded image of any size and channel count becomes a model input of height x width x
// channels bytes: channels converted first (DecodedImage.converted: alpha over black, RGB to gray
// by BT.601 luma, gray to RGB by replication), then
//   neither flag:   the image must already have the model's size;
//   resize:         bilinear scaling to exactly the model's size (the aspect ratio may change);
//   crop:           the central part of the model's size (the image must be at least that big);
//   resize + crop:  scaling that keeps the aspect ratio until the image covers the model's size
//                   (for a square input: the shorter side becomes the input's side, the other
//                   int(side * long / short), as torchvision's Resize(side)), then the center crop,
//                   i.e. torchvision's Resize(side) + CenterCrop(side).

public struct ImageFit: Sendable, Equatable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var resize: Bool
    public var crop: Bool

    public init(width: Int, height: Int, channels: Int, resize: Bool, crop: Bool) {
        self.width = width; self.height = height; self.channels = channels; self.resize = resize; self.crop = crop
    }

    public var imageSize: Int { width * height * channels }

    /// "32x32x3, resize + center crop" (height x width x channels).
    public var description: String {
        let how = resize && crop ? "resize + center crop" : resize ? "resize" : crop ? "center crop" : "exact size"
        return "\(height)x\(width)x\(channels), \(how)"
    }

    /// The image fitted to the model's input (see the top of this file); errors name `file`.
    /// Alpha is composited over `background` (black; white for a drawing `predict --invert` turns
    /// light-on-dark, so that its transparent paper ends up dark too).
    public func apply(_ image: DecodedImage, file: String, background: UInt8 = 0) throws -> DecodedImage {
        guard let converted = image.converted(to: channels, background: background) else {
            throw DataError(file: file, message: "image has \(image.channels) channels, the model expects \(channels) (1 gray or 3 RGB can be converted)")
        }
        if converted.width == width && converted.height == height { return converted }
        let size = "image is \(converted.width)x\(converted.height) (width x height), the model expects \(width)x\(height)"
        switch (resize, crop) {
        case (false, false):
            throw DataError(file: file, message: "\(size); pass --resize (scale), --crop (center crop) or both (scale keeping the aspect ratio, then crop)")
        case (true, false):
            return converted.resized(width: width, height: height)
        case (false, true):
            guard converted.width >= width && converted.height >= height else {
                throw DataError(file: file, message: "\(size): too small for --crop alone; add --resize")
            }
            return converted.centerCropped(width: width, height: height)
        case (true, true):
            let (w, h) = coverSize(width: converted.width, height: converted.height)
            let most = max(ImageFit.maxCoverPixels, 4 * width * height)
            guard w * h <= most else {
                throw DataError(file: file, message: "\(size): scaled to cover it with its aspect ratio kept, the image would be \(w)x\(h), "
                                + "more than \(most) pixels; crop it closer to the model's shape first")
            }
            return converted.resized(width: w, height: h).centerCropped(width: width, height: height)
        }
    }

    /// The most pixels `--resize --crop` scales an image to before its center crop (a 16384x1
    /// image covering 224x224 would be 3,670,016x224), or 4 times the model's if that is more.
    public static let maxCoverPixels = 1 << 24

    /// The smallest size with the image's aspect ratio (rounded down as torchvision does) that
    /// covers the model's input.
    func coverSize(width w: Int, height h: Int) -> (Int, Int) {
        if width * h >= height * w {
            return (width, max(height, Int(Double(width * h) / Double(w))))
        }
        return (max(width, Int(Double(height * w) / Double(h))), height)
    }
}
