// ImageCacheFuzzEntry: the entry point of the image-cache fuzzing harness (Tests/Fuzz) and its
// regression tests. Arbitrary bytes must decode as an image-folder cache or throw a
// RuntimeError, never crash, hang or allocate what the bytes do not hold. As for checkpoints,
// the bytes are decoded as they are and again with the 24-byte header rewritten to fit the
// payload (a mutation almost always breaks the CRC-32), and a decoded cache must encode to bytes
// that decode to the same cache.

import ModelcRuntime

public enum ImageCacheFuzzEntry {
    /// Returns how many of the two decodings succeeded.
    @discardableResult
    public static func run(_ bytes: [UInt8]) -> Int {
        let asIs = (try? ImageFolderCache.decode(bytes, file: "fuzz")) != nil
        guard let cache = try? ImageFolderCache.decode(ImageFolderCache.frame.reframed(bytes), file: "fuzz") else { return asIs ? 1 : 0 }
        if (try? ImageFolderCache.decode(cache.encode(), file: "fuzz")) != cache { fatalError("image cache round trip failed") }
        return asIs ? 2 : 1
    }
}
