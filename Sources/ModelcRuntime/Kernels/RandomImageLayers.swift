// Keras's random image layers (RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
// RandomContrast, RandomBrightness) in a training forward: each image of the chunk is copied
// and transformed (ModelcData/ImageAugmentation.swift) with its own draws, from a stream
// derived from the step's seed and the image's place in the batch, so a step's images do not
// depend on how the batch is split over the threads. Off (the model's `dropout` false, as the
// reference-fixture tests run training steps) and at inference: y = x. A layer that draws once
// per batch (tf.keras 2's RandomContrast) seeds every image's stream alike.
//   forward [N, H, W, C] -> [N, H, W, C]; no backward (nothing trainable comes before one)

import ModelcData

/// The generated models name the layers' type through the runtime.
public typealias ImageAugmentation = ModelcData.ImageAugmentation

public enum RandomImageLayers {
    /// y = layer(x) for images first..<first + count of the batch (x, y point at image `first`).
    public static func training(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, layer: ImageAugmentation,
                                first: Int, count: Int, height h: Int, width w: Int, channels c: Int, seed: UInt64, on: Bool) {
        let size = h * w * c
        y.update(from: x, count: count * size)
        guard on else { return }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: layer.isGeometric ? size : 1)
        defer { scratch.deallocate() }
        for k in 0..<count {
            // tf.keras 2's RandomContrast: one draw for the batch
            var g = SplitMix64(seed: deriveSeed(seed, .augmentation, layer.drawsPerBatch ? UInt64.max : UInt64(first + k)))
            layer.apply(y + k * size, height: h, width: w, channels: c, scratch: scratch) { g.nextFloat() }
        }
    }
}
