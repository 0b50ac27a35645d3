// The buffers of one compiled-model instance: each zeroed and 64-byte aligned when it is taken,
// all freed together when the model is.

public final class ModelMemory {
    private var blocks: [UnsafeMutableRawPointer] = []

    public init() {}

    /// `count` zeroed floats (at least one, so that every buffer has an address).
    public func floats(_ count: Int) -> UnsafeMutablePointer<Float> { take(count, Float.self) }

    /// `count` zeroed 32-bit integers.
    public func int32s(_ count: Int) -> UnsafeMutablePointer<Int32> { take(count, Int32.self) }

    private func take<T>(_ count: Int, _: T.Type) -> UnsafeMutablePointer<T> {
        let bytes = max(count, 1) * MemoryLayout<T>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    deinit { for b in blocks { b.deallocate() } }
}
