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
// A per-channel pass (Kernels/ChannelPasses.swift) holds about four values per channel block
// (sums, mean, scale, shift): 64 channels (4 zmm each) on AVX-512, 16 (2 ymm, 4 q) elsewhere.

public enum KernelTarget {
    #if MODELC_ISA_AVX512
    /// The columns of one tile row, held in registers.
    public typealias Lanes = VectorPair<VectorPair<SIMD16<Float>>>
    /// The channels a per-channel pass (BatchNorm) keeps in registers per value.
    public typealias ChannelBlock = VectorPair<VectorPair<SIMD16<Float>>>
    public static let family = "avx512"
    #elseif MODELC_ISA_NEON || (arch(arm64) && !MODELC_ISA_AVX2)
    public typealias Lanes = VectorPair<VectorPair<SIMD4<Float>>>
    public typealias ChannelBlock = SIMD16<Float>
    public static let family = "neon"
    #else
    public typealias Lanes = VectorPair<SIMD8<Float>>
    public typealias ChannelBlock = SIMD16<Float>
    public static let family = "avx2"
    #endif
    /// Rows of one tile (output rows sharing each load of B).
    public static let tileRows = 6
    /// Columns of one tile.
    public static var tileColumns: Int { Lanes.lanes }
    /// "avx2 (tile 6 x 16)".
    public static var description: String { "\(family) (tile \(tileRows) x \(tileColumns))" }
}
