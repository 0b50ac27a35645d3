// `modelc compile --isa`: family names, the compile condition that picks the runtime's GEMM
// tile, and the -target-cpu each family builds for.

import XCTest
@testable import ModelcBackend

final class TargetISATests: XCTestCase {
    func testParseNamesEveryFamilyAndRejectsOthers() {
        XCTAssertEqual(TargetISA.parse("avx2"), .avx2)
        XCTAssertEqual(TargetISA.parse("AVX512"), .avx512)
        XCTAssertEqual(TargetISA.parse("neon"), .neon)
        XCTAssertEqual(TargetISA.parse("native"), TargetISA.host())
        XCTAssertNil(TargetISA.parse("sse2"))
        XCTAssertNil(TargetISA.parse(""))
    }

    func testFlagsCarryTheFamilyAndItsCPU() {
        for isa in TargetISA.allCases {
            let flags = BuildDriver.optimizationFlags(isa)
            XCTAssertEqual(Array(flags.suffix(2)), ["-D", "MODELC_ISA_\(isa.rawValue.uppercased())"])
            let cpu = flags[flags.firstIndex(of: "-target-cpu")! + 1]
            // the host's own family tunes for the host; another family for its baseline CPU
            XCTAssertEqual(cpu == "native", isa == TargetISA.host(), "\(isa): \(cpu)")
        }
        if TargetISA.host() != .avx2 { XCTAssertEqual(TargetISA.avx2.targetCPU, "haswell") }
        if TargetISA.host() != .avx512 { XCTAssertEqual(TargetISA.avx512.targetCPU, "skylake-avx512") }
    }
}
