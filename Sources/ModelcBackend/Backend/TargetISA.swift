// The instruction-set family a generated binary is built for. It picks the runtime's GEMM
// tile (Sources/ModelcRuntime/Kernels/KernelTarget.swift) through -D MODELC_ISA_<FAMILY>,
// and with it the -target-cpu the binary is compiled for. The emitted Swift does not depend
// on it: the same generated file builds for every family.

import Foundation

public enum TargetISA: String, CaseIterable, Sendable {
    case avx2, avx512, neon

    /// The family of the machine modelc runs on: Linux's /proc/cpuinfo flags on x86-64
    /// (avx512f -> avx512, else avx2), NEON on arm64. Read once.
    public static func host() -> TargetISA { hostFamily }

    private static let hostFamily: TargetISA = {
        #if arch(arm64)
        return .neon
        #else
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") }.map { $0.split(separator: " ").map(String.init) } ?? []
        return flags.contains("avx512f") ? .avx512 : .avx2
        #endif
    }()

    /// `--isa NAME`: avx2, avx512, neon or native (the host's).
    public static func parse(_ name: String) -> TargetISA? {
        name == "native" ? host() : TargetISA(rawValue: name.lowercased())
    }

    /// The compile condition the runtime's kernels test.
    public var define: String { "MODELC_ISA_\(rawValue.uppercased())" }

    /// -target-cpu for this family: the host's own CPU when it is of this family, otherwise
    /// the family's baseline (a binary for another machine must not use the host's extras).
    public var targetCPU: String {
        if self == TargetISA.host() { return "native" }
        switch self {
        case .avx2: return "haswell"
        case .avx512: return "skylake-avx512"
        case .neon: return "generic"
        }
    }
}
