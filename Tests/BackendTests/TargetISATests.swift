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

    /// A sanitized build keeps the checks (-O, not -Ounchecked), adds -g and -sanitize=KIND, and
    /// keeps the family's CPU and tile; the flags (hence the runtime cache key) differ per kind.
    func testSanitizedFlagsKeepTargetAndDropUnchecked() {
        XCTAssertEqual(Sanitizer.parse("thread"), .thread)
        XCTAssertEqual(Sanitizer.parse("address"), .address)
        XCTAssertNil(Sanitizer.parse("memory"))
        XCTAssertNil(Sanitizer.parse(""))
        let isa = TargetISA.host()
        let plain = BuildDriver.optimizationFlags(isa)
        XCTAssertTrue(plain.contains("-Ounchecked"))
        XCTAssertFalse(plain.contains { $0.hasPrefix("-sanitize") })
        var seen: Set<[String]> = [plain]
        for s in Sanitizer.allCases {
            let flags = BuildDriver.optimizationFlags(isa, sanitize: s)
            XCTAssertTrue(flags.contains("-sanitize=\(s.rawValue)"), "\(flags)")
            XCTAssertTrue(flags.contains("-O"), "\(flags)")
            XCTAssertFalse(flags.contains("-Ounchecked"), "\(flags)")
            XCTAssertEqual(Array(flags.suffix(5)), Array(plain.suffix(5)), "same -wmo, CPU and tile family")
            XCTAssertTrue(seen.insert(flags).inserted, "\(s): flags must differ from the other builds'")
        }
    }

    /// The runtime modules are compiled file by file (no -wmo) in one package (so a module sees
    /// the `package` declarations of those before it); the cold ModelcModelFiles and
    /// ModelcCommands at -Onone, the others -Ounchecked, all for the same CPU and tile family;
    /// sanitized, ModelcRuntime at -O and the others at -Onone, all with the sanitizer and debug info.
    func testRuntimeModuleFlags() {
        let isa = TargetISA.host()
        XCTAssertEqual(BuildDriver.runtimeModules, ["ModelcData", "ModelcModelFiles", "ModelcRuntime", "ModelcCommands"])
        let target = Array(BuildDriver.optimizationFlags(isa).suffix(4))   // -target-cpu CPU -D MODELC_ISA_*
        for m in BuildDriver.runtimeModules {
            let flags = BuildDriver.moduleFlags(m, isa: isa, sanitize: nil)
            XCTAssertFalse(flags.contains("-wmo"), "\(m): \(flags)")
            XCTAssertEqual(Array(flags.suffix(2)), ["-package-name", "modelc"], m)
            XCTAssertEqual(Array(flags.dropLast(2).suffix(4)), target, m)
            XCTAssertEqual(flags.first, ["ModelcModelFiles", "ModelcCommands"].contains(m) ? "-Onone" : "-Ounchecked", m)
            for s in Sanitizer.allCases {
                let sanitized = BuildDriver.moduleFlags(m, isa: isa, sanitize: s)
                XCTAssertEqual(Array(sanitized.dropFirst()),
                               Array(BuildDriver.moduleFlags("ModelcRuntime", isa: isa, sanitize: s).dropFirst()), "\(m), \(s)")
                XCTAssertEqual(sanitized.first, m == "ModelcRuntime" ? "-O" : "-Onone", "\(m), \(s)")
                XCTAssertTrue(sanitized.contains("-sanitize=\(s.rawValue)") && sanitized.contains("-g"), "\(m), \(s)")
            }
        }
    }
}
