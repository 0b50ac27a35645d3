// Images with labels in memory (raw bytes, HWC per image), checked against the model, and the
// conversion of a batch of them into the model's float input p * scale + offset.
// Array data (ArrayData.swift) holds float inputs instead of pixels, and float targets where the
// loss needs them (binary, one-hot, regression); `labels` then still has one entry per example.

import ModelcData

public struct LabeledImages: Sendable {
    public var height: Int
    public var width: Int
    public var channels: Int
    public var pixels: [UInt8]
    public var labels: [Int32]
    /// Array data: each example's input as floats already in the model's units (`pixels` is empty).
    public var inputs: [Float]? = nil
    /// Float targets, `targetWidth` per example (nil: the labels are the targets).
    public var targets: [Float]? = nil
    public var targetWidth = 0
    public var count: Int { labels.count }
    public var imageSize: Int { height * width * channels }

    public init(height: Int, width: Int, channels: Int, pixels: [UInt8], labels: [Int32]) {
        self.height = height; self.width = width; self.channels = channels; self.pixels = pixels; self.labels = labels
    }

    /// Takes an ImageSet, checking its shape and labels against the model.
    public init(_ set: ImageSet, info: ModelInfo, source: String) throws {
        guard set.height == info.inputHeight, set.width == info.inputWidth else {
            throw RuntimeError(file: source, "images are \(set.height)x\(set.width), model \(info.name) expects \(info.inputHeight)x\(info.inputWidth)")
        }
        guard set.count == set.labels.count, set.pixels.count == set.count * set.height * set.width * set.channels else {
            throw RuntimeError(file: source, "\(set.count) images but \(set.labels.count) labels and \(set.pixels.count) pixel bytes")
        }
        var pixels = set.pixels
        if set.channels != info.inputChannels {
            guard set.channels == 1 || set.channels == 3 else {
                throw RuntimeError(file: source, "images have \(set.channels) channels, model \(info.name) expects \(info.inputChannels)")
            }
            pixels = convertChannels(pixels, from: set.channels, to: info.inputChannels)
            guard !pixels.isEmpty || set.count == 0 else {
                throw RuntimeError(file: source, "images have \(set.channels) channels, model \(info.name) expects \(info.inputChannels)")
            }
        }
        if let bad = set.labels.firstIndex(where: { $0 < 0 || Int($0) >= info.classCount }) {
            throw RuntimeError(file: source, "label \(set.labels[bad]) of image \(bad) is outside 0..<\(info.classCount)")
        }
        self.init(height: set.height, width: set.width, channels: info.inputChannels, pixels: pixels, labels: set.labels)
    }

    /// The images at `range` (a contiguous part).
    public func slice(_ range: Range<Int>) -> LabeledImages {
        subset(Array(range))
    }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledImages {
        let s = imageSize
        var p = [UInt8](); p.reserveCapacity(indices.count * s)
        if inputs == nil { for i in indices { p.append(contentsOf: pixels[(i * s)..<((i + 1) * s)]) } }
        var out = LabeledImages(height: height, width: width, channels: channels, pixels: p, labels: indices.map { labels[$0] })
        out.inputs = inputs.map { x in Self.rows(x, indices, s) }
        out.targets = targets.map { y in Self.rows(y, indices, targetWidth) }
        out.targetWidth = targetWidth
        return out
    }

    static func rows(_ a: [Float], _ indices: [Int], _ width: Int) -> [Float] {
        var out = [Float](); out.reserveCapacity(indices.count * width)
        for i in indices { out.append(contentsOf: a[(i * width)..<((i + 1) * width)]) }
        return out
    }

    /// Keras validation_split: the first floor(n * (1 - split)) images train, the rest validate.
    public func splitForValidation(_ split: Float) -> (train: LabeledImages, validation: LabeledImages?) {
        guard split > 0 else { return (self, nil) }
        // the Float's shortest decimal form (0.2, not 0.2000000029...) so that 400 * (1 - 0.2) = 320 as in Python
        let fraction = Double(String(describing: split)) ?? Double(split)
        let cut = Int(Double(count) * (1 - fraction))
        if cut >= count { return (self, nil) }
        return (slice(0..<cut), slice(cut..<count))
    }

    /// Writes images `indices` as floats p * scale + offset into `input` and their labels into
    /// `labels` (array data: the inputs as they are), and their targets into `targets` if given.
    /// With an augmentation, image k of the batch is transformed with seed
    /// deriveSeed(seed, .augmentation, step, k) (the commands refuse augmenting array data).
    public func fillBatch(_ indices: ArraySlice<Int>, input: UnsafeMutablePointer<Float>, labels out: UnsafeMutablePointer<Int32>,
                          targets: UnsafeMutablePointer<Float>? = nil,
                          scale: Float, offset: Float, augmentation: Augmentation?, seed: UInt64, step: Int) {
        let s = imageSize
        if let t = targets, let y = self.targets {
            for (k, i) in indices.enumerated() { for j in 0..<targetWidth { t[k * targetWidth + j] = y[i * targetWidth + j] } }
        }
        if let x = inputs {
            for (k, i) in indices.enumerated() {
                out[k] = labels[i]
                for j in 0..<s { input[k * s + j] = x[i * s + j] }
            }
            return
        }
        pixels.withUnsafeBufferPointer { px in
            for (k, i) in indices.enumerated() {
                let dst = input + k * s
                let src = px.baseAddress! + i * s
                out[k] = labels[i]
                if let a = augmentation, !a.isIdentity {
                    a.apply(src, to: dst, height: height, width: width, channels: channels,
                            seed: deriveSeed(seed, .augmentation, UInt64(step), UInt64(k)))
                    for j in 0..<s { dst[j] = dst[j] * scale + offset }
                } else {
                    for j in 0..<s { dst[j] = Float(src[j]) * scale + offset }
                }
            }
        }
    }
}

/// `pixels` of `from` channels per pixel with `to` channels instead, as DecodedImage.converted
/// does it (RGB to gray by BT.601 luma, gray to RGB by replication, alpha composited over
/// black). Returns [] for other channel counts.
public func convertChannels(_ pixels: [UInt8], from: Int, to: Int) -> [UInt8] {
    if from == to { return pixels }
    let all = DecodedImage(width: pixels.count / max(1, from), height: 1, channels: from, pixels: pixels)
    return all.converted(to: to)?.pixels ?? []
}
