// The register budgets of the kernel family this runtime was built for (KernelTarget): the
// GEMM tile and the in-run peak loop must fit the vector registers, or they spill and run at
// the speed of their loads and stores instead of the FMA units (a SIMD16 peak loop would on
// AVX2's 16 ymm: each SIMD16 takes two).

import XCTest
@testable import ModelcRuntime

final class KernelTargetTests: XCTestCase {
    let registers = KernelTarget.vectorRegisters, bytes = KernelTarget.vectorRegisterBytes

    func testGemmTileFitsTheRegisters() {
        // tileRows rows of accumulators, one row of B, one broadcast of A
        let tile = MemoryLayout<KernelTarget.Lanes>.size
        let needed = (KernelTarget.tileRows + 1) * tile / bytes + 1
        XCTAssertLessThanOrEqual(needed, registers, "\(KernelTarget.description): \(needed) registers")
    }

    func testLoneRowTileFitsAndHidesTheFmaLatency() {
        // a lone row's sums and one vector of B; at least 8 independent sums (FMA latency 4
        // cycles x 2 FMA units)
        let vectors = MemoryLayout<KernelTarget.LoneLanes>.size / bytes
        XCTAssertLessThanOrEqual(vectors + 2, registers, "\(KernelTarget.family): \(vectors) sums")
        XCTAssertGreaterThanOrEqual(vectors, 8, "\(KernelTarget.family): \(vectors) sums")
    }

    func testPeakLoopFitsTheRegisters() {
        // 12 accumulator chains and the multiplier
        let needed = 13 * MemoryLayout<KernelTarget.PeakVector>.size / bytes
        XCTAssertLessThanOrEqual(needed, registers, "\(KernelTarget.family): \(needed) registers")
    }

    func testPeakIsMeasuredAndPositive() {
        let one = PeakFlops.measure(threads: 1, seconds: 0.02, repeats: 1)
        XCTAssertGreaterThan(one, 0.1, "GFLOP/s")
        XCTAssertLessThan(one, 100_000, "GFLOP/s")
    }
}
