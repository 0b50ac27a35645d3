// The library API's inference: probabilities and the top-k classes with names for one image or
// a batch of images given as raw pixel bytes (0...255, [height, width, channels] row-major, as
// the model's input: scaled by info.inputScale / inputOffset here), or as an image file fitted
// to the model as `predict` fits it (ImageFit).
//
// A wrong pixel count is an error naming the image, the expected and the found count; batches
// larger than the model's maxBatch run in several forwards.

import Foundation
import ModelcData

/// One class of a prediction.
public struct RankedClass: Sendable, Equatable {
    public let index: Int
    public let name: String
    public let probability: Float
}

/// The model's output for one image.
public struct Prediction: Sendable {
    /// Softmax probabilities, one per class (info.classCount). A one-unit binary head (sigmoid,
    /// or logits trained with binary cross-entropy) gives two: P(class 0) and P(class 1), named
    /// "0" and "1" (or "not NAME" and NAME); a multi-label head one probability per label.
    public let probabilities: [Float]
    /// The `k` most probable classes, most probable first (ties: lower index first).
    public let top: [RankedClass]
    /// The most probable class.
    public var best: RankedClass { top[0] }

    package init(probabilities: [Float], top k: Int, names: [String]) {
        self.probabilities = probabilities
        let ranked = probabilities.indices.sorted {
            probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1)
        }
        top = ranked.prefix(k).map { RankedClass(index: $0, name: names[$0], probability: probabilities[$0]) }
    }
}

extension CompiledModel {
    /// One image: `info.inputSize` bytes ([H, W, C], values 0...255).
    public func predict(pixels: [UInt8], top k: Int = 3) throws -> Prediction {
        try predict(pixels: [pixels], top: k)[0]
    }

    /// A batch of images, each `info.inputSize` bytes; one prediction per image, in order.
    public func predict(pixels images: [[UInt8]], top k: Int = 3) throws -> [Prediction] {
        try predict(pixels: images, top: k, classNames: Self.classNames)
    }

    /// A batch, with other class names than the model file's (e.g. an image folder's classes).
    /// `what` names a single image in errors (the binary's `predict` passes the file name).
    public func predict(pixels images: [[UInt8]], top k: Int = 3, classNames names: [String], what: String? = nil) throws -> [Prediction] {
        let info = Self.info
        guard names.count == info.classCount else {
            throw UsageError("predict: \(names.count) class names given, model \(info.name) has \(info.classCount) classes")
        }
        let size = info.inputSize
        for (n, image) in images.enumerated() where image.count != size {
            throw UsageError("predict: image \(n) has \(image.count) pixel bytes, model \(info.name) expects \(size) (\(info.inputHeight)x\(info.inputWidth)x\(info.inputChannels))")
        }
        // A softmax head's classes whatever its loss (a Keras softmax model trained with mse too)
        let loss = try Self.trainingConfig().loss
        let task = Self.endsWithSoftmax && info.classCount > 1 ? .multiclass
            : TaskMetrics.task(try Loss(kind: loss, head: Self.head, oneHotTargets: false), outputs: info.classCount)
        guard task != .regression else {
            throw UsageError("predict: model \(info.name)'s output is a regression (its loss is \(loss.rawValue)), not classes: use forward")
        }
        let binary = task == .binary
        // a one-unit head's unit is class 1: numbered names ("0" for a logit head, "1" for a sigmoid one) become 0 and 1
        let ranked = binary ? (Int(names[0]) != nil ? ["0", "1"] : ["not \(names[0])", names[0]]) : names
        let k = binary ? min(k, 2) : k   // (the default top 3 of a one-unit head: both classes)
        guard (1...ranked.count).contains(k) else {
            throw UsageError("predict: top \(k) is outside 1...\(ranked.count) (the model's class count)")
        }
        let batch = maxBatch
        let input = UnsafeMutablePointer<Float>.allocate(capacity: batch * size)
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: info.classCount)
        defer { input.deallocate(); probabilities.deallocate() }
        var results: [Prediction] = []
        results.reserveCapacity(images.count)
        var lo = 0
        while lo < images.count {
            let hi = min(images.count, lo + batch)
            for (j, image) in images[lo..<hi].enumerated() {
                for i in 0..<size { input[j * size + i] = Float(image[i]) * info.inputScale + info.inputOffset }
            }
            let out = forward(input, count: hi - lo, training: false, seed: 0)
            try checkInput(hi - lo == 1 ? what ?? "image \(lo)" : "images \(lo)..<\(hi)")   // an Embedding's bad token id
            for j in 0..<(hi - lo) {
                let z = out + j * info.classCount
                if task == .multiclass {
                    softmax(z, into: probabilities, info.classCount)
                } else {
                    // A sigmoid head keeps its sigmoid (the outputs are probabilities); logits
                    // trained with binary cross-entropy get it here.
                    for c in 0..<info.classCount { probabilities[c] = Self.endsWithSigmoid ? z[c] : 1 / (1 + expf(-z[c])) }
                }
                let p = Array(UnsafeBufferPointer(start: probabilities, count: info.classCount))
                results.append(Prediction(probabilities: binary ? [1 - p[0], p[0]] : p, top: k, names: ranked))
            }
            lo = hi
        }
        return results
    }

    /// A PNG, PGM or PPM file fitted to the model's input as the binary's `predict` fits it:
    /// channels converted, alpha over black; other sizes need `resize` (bilinear) and/or `crop`.
    public func predict(imageFile url: URL, resize: Bool = false, crop: Bool = false, top k: Int = 3) throws -> Prediction {
        try predict(pixels: ModelImages.imageFile(url.path, info: Self.info, resize: resize, crop: crop), top: k)
    }
}
