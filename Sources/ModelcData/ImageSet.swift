// A set of images with labels, as every loader returns it.

public struct ImageSet: Sendable {
    public var count: Int
    public var height: Int
    public var width: Int
    public var channels: Int
    /// count * height * width * channels bytes, HWC per image.
    public var pixels: [UInt8]
    /// count labels (class indices).
    public var labels: [Int32]

    public init(count: Int, height: Int, width: Int, channels: Int, pixels: [UInt8], labels: [Int32]) {
        self.count = count; self.height = height; self.width = width; self.channels = channels
        self.pixels = pixels; self.labels = labels
    }

    public var imageSize: Int { height * width * channels }

    /// Images `range` as a new set.
    public func subset(_ range: Range<Int>) -> ImageSet {
        let lo = max(0, min(range.lowerBound, count)), hi = max(lo, min(range.upperBound, count))
        return ImageSet(count: hi - lo, height: height, width: width, channels: channels,
                        pixels: Array(pixels[(lo * imageSize)..<(hi * imageSize)]),
                        labels: labels.isEmpty ? [] : Array(labels[lo..<hi]))
    }

    /// Number of images per class (labels 0..<classes).
    public func classCounts(classes: Int) -> [Int] {
        var c = [Int](repeating: 0, count: classes)
        for l in labels where l >= 0 && Int(l) < classes { c[Int(l)] += 1 }
        return c
    }
}
