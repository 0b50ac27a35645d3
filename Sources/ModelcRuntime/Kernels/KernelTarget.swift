// The instruction-set family this runtime was built for, and the register tile of the GEMM
// micro-kernel on it (Kernels/Gemm.swift).
//
// The build driver (modelc compile) detects the host CPU and passes -D MODELC_ISA_AVX512,
// -D MODELC_ISA_AVX2 or -D MODELC_ISA_NEON, or the family named by `--isa`. Without a flag
// the family follows the compiler's target (an arm64 build is NEON, anything else AVX2), so a
// plain `swift build` of the package works everywhere. The emitted model code is the same on
// every machine: only these constants change, and they reach every kernel at compile time
// because the kernels are @_transparent and inlined into the model's module.
//
//   family   registers         tile: rows x columns             accumulators
//   AVX2     16 x 256-bit ymm  6 x 16 (2 ymm a row)               12 ymm + 2 for B + 1 broadcast
//   AVX-512  32 x 512-bit zmm  6 x 64 (4 zmm a row)              24 zmm + 4 for B + 1 broadcast
//   NEON     32 x 128-bit q    6 x 16 (4 q a row)                24 q + 4 for B + 1 broadcast
//
// A lone row (one image through a Dense layer) has one sum per vector of its tile, and each
// FMA waits for the last one into the same sum: 2 ymm sums run at a quarter of the FMA rate.
// Its tile is wider (LoneLanes): 8 ymm (64 columns), 8 zmm (128) or 16 q (64).
//
// A per-channel pass (Kernels/ChannelPasses.swift) sweeps the rows once per block of 64
// channels on every family, so the common layers (up to 64 channels) read their rows once. On
// AVX-512 a block's values (sums, mean, scale, shift) sit in 4 zmm each; on AVX2 and NEON they
// take 8 ymm or 16 q each and the constants that do not fit reload from L1, which is cheaper than
// a second sweep over rows that have left the cache.

public enum KernelTarget {
    #if MODELC_ISA_AVX512
    /// The columns of one tile row, held in registers.
    public typealias Lanes = VectorPair<VectorPair<SIMD16<Float>>>
    /// The columns of a lone row's tile (one image's Dense layer): 8 sums, enough chains to
    /// hide the FMA latency that one row's 4 would expose.
    public typealias LoneLanes = VectorPair<VectorPair<VectorPair<SIMD16<Float>>>>
    /// One chain of the in-run peak loop (PeakFlops): 12 of them fit the registers.
    public typealias PeakVector = SIMD16<Float>
    public static let family = "avx512"
    /// The family's vector registers: how many, and the bytes of one.
    public static let vectorRegisters = 32, vectorRegisterBytes = 64
    #elseif MODELC_ISA_NEON || (arch(arm64) && !MODELC_ISA_AVX2)
    public typealias Lanes = VectorPair<VectorPair<SIMD4<Float>>>
    public typealias LoneLanes = VectorPair<VectorPair<SIMD16<Float>>>
    public typealias PeakVector = SIMD8<Float>
    public static let family = "neon"
    public static let vectorRegisters = 32, vectorRegisterBytes = 16
    #else
    public typealias Lanes = VectorPair<SIMD8<Float>>
    public typealias LoneLanes = VectorPair<VectorPair<SIMD16<Float>>>
    public typealias PeakVector = SIMD8<Float>
    public static let family = "avx2"
    public static let vectorRegisters = 16, vectorRegisterBytes = 32
    #endif
    /// The channels a per-channel pass (BatchNorm) handles per sweep over the rows.
    public typealias ChannelBlock = VectorPair<VectorPair<SIMD16<Float>>>
    /// Rows of one tile (output rows sharing each load of B).
    public static let tileRows = 6
    /// Columns of one tile.
    public static var tileColumns: Int { Lanes.lanes }
    /// "avx2 (tile 6 x 16)".
    public static var description: String { "\(family) (tile \(tileRows) x \(tileColumns))" }
}
