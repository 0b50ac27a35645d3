// Passes over rows x channels (NHWC activations: a row is one pixel's channels) that treat
// every channel on its own: the kernel runs on one block of channels at a time, the block's
// values in registers, and visits the rows in order. Each lane is one channel, so sums come out
// exactly as the scalar loop `for r { for c { s[c] += ... } }` computes them, whatever the block.

/// A per-channel pass: `run` does the whole pass for the channels c0..<c0 + V.lanes.
public protocol ChannelPass {
    func run<V: FloatVector>(_: V.Type, _ c0: Int)
}

/// Runs `pass` over channels 0..<channels: blocks of KernelTarget.ChannelBlock, then 32, 16,
/// 8 and 4 lanes, then single channels. `channels` is a literal at every call, so the blocks are
/// chosen at compile time; with MODELC_KERNELS_OUT_OF_LINE (debug builds) a copy compiled here
/// runs instead.
@_transparent
public func forEachChannelBlock<P: ChannelPass>(_ channels: Int, _ pass: P) {
    #if MODELC_KERNELS_OUT_OF_LINE
    channelBlocksOutOfLine(channels, pass)
    #else
    channelBlocksInlined(channels, pass)
    #endif
}

/// The specializations dispatch from the generic entry point, so unoptimized callers get them.
@inline(never)
@_specialize(where P == Moments)
@_specialize(where P == Normalize)
@_specialize(where P == Affine)
@_specialize(where P == BackwardSums)
@_specialize(where P == BackwardData)
public func channelBlocksOutOfLine<P: ChannelPass>(_ channels: Int, _ pass: P) {
    channelBlocksInlined(channels, pass)
}

@_transparent
public func channelBlocksInlined<P: ChannelPass>(_ channels: Int, _ pass: P) {
    typealias Block = KernelTarget.ChannelBlock
    var c0 = 0
    while channels - c0 >= Block.lanes { pass.run(Block.self, c0); c0 += Block.lanes }
    if Block.lanes > 32 && channels - c0 >= 32 { pass.run(VectorPair<SIMD16<Float>>.self, c0); c0 += 32 }
    if Block.lanes > 16 && channels - c0 >= 16 { pass.run(SIMD16<Float>.self, c0); c0 += 16 }
    if channels - c0 >= 8 { pass.run(SIMD8<Float>.self, c0); c0 += 8 }
    if channels - c0 >= 4 { pass.run(SIMD4<Float>.self, c0); c0 += 4 }
    while c0 < channels { pass.run(Float.self, c0); c0 += 1 }
}
