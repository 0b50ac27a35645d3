// A recurrent layer's inference forward (Kernels/Recurrent.swift, `keepSteps: false`: the gates
// and states in two rows reused step after step) gives the training forward's outputs bit for
// bit, for every cell kind, in both directions, with and without return_sequences and masks, and
// with the input projection run for all steps at once (a small chunk) and step by step (a chunk
// whose gates pass Recurrent.wholeProjectionFloats). The two projection forms agree bit for bit
// too where Gemm.runtime runs the same kernel for both (here its direct one: 5 inputs). One
// image's work split over 2 or 3 threads gives the same bits: the input projection's rows (7 and
// 13 steps leave a part of one row), an LSTM of 48 units its units, the layers with more than 64
// columns (the LSTM and GRUs of 33 units) their step product's columns.

import XCTest
@testable import ModelcRuntime

final class RecurrentStepRowsTests: XCTestCase {
    let inputs = 5

    /// y of `count` images through one layer; the i-th image's x and weights are fixed by its index.
    func run(_ g: RecurrentGeometry, count: Int, keepSteps: Bool, threads: Int = 1) -> [Float] {
        let (W, U) = (g.width, g.units)
        var rng = SplitMix64(seed: 7)
        func floats(_ n: Int, _ scale: Float) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            for i in 0..<n { p[i] = (Float(rng.next() % 2001) / 1000 - 1) * scale }
            return p
        }
        let kernel = floats(g.inputs * W, 0.4), recurrent = floats(U * W, 0.3), bias = floats(2 * W, 0.2)
        let x = floats(100 * g.steps * g.inputs, 1)   // 100 images, repeated past the 100th
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: count * g.steps * g.inputs)
        for n in 0..<count { (xs + n * g.steps * g.inputs).update(from: x + (n % 100) * g.steps * g.inputs, count: g.steps * g.inputs) }
        let state = UnsafeMutablePointer<Float>.allocate(capacity: count * g.stateFloats)
        state.update(repeating: .nan, count: count * g.stateFloats)   // nothing read before it is written
        if g.masked {   // image n masks the steps t with (n + t) % 3 == 0
            for n in 0..<count { for t in 0..<g.steps { state[n * g.stateFloats + g.maskOffset + t] = (n + t) % 3 == 0 ? 0 : 1 } }
        }
        let y = UnsafeMutablePointer<Float>.allocate(capacity: count * g.outputFloats)
        Recurrent.forward(g, RecurrentWeights(kernel: kernel, recurrent: recurrent, bias: bias, recurrentBias: bias + W),
                          x: xs, state: state, y: y, count: count, keepSteps: keepSteps, threads: threads)
        defer { for p in [kernel, recurrent, bias, x, xs, state, y] { p.deallocate() } }
        return Array(UnsafeBufferPointer(start: y, count: count * g.outputFloats))
    }

    func geometries() -> [RecurrentGeometry] {
        var all: [RecurrentGeometry] = []
        // 33 units: a tail of 1 after two vectors of 16; an LSTM of 48 splits one image's units
        for (cell, resetFirst, units) in [(RecurrentCellKind.simple, false, 33), (.lstm, false, 33), (.lstm, false, 48),
                                          (.gruResetAfter, false, 33), (.gruResetAfter, true, 33), (.gruResetBefore, false, 33)] {
            for (steps, returnSequences) in [(1, false), (5, true), (6, false), (6, true), (7, false), (13, true)] {
                for (masked, zero) in [(false, false), (true, false), (true, true)] {
                    let g = RecurrentGeometry(cell: cell, steps: steps, inputs: inputs, units: units, returnSequences: returnSequences,
                                              resetFirst: resetFirst, masked: masked, zeroMaskedOutput: zero)
                    all += [g, g.reversed]
                }
            }
        }
        return all
    }

    /// A chunk large enough that the input projection runs step by step.
    func stepwiseCount(_ g: RecurrentGeometry) -> Int { Recurrent.wholeProjectionFloats / (g.steps * g.width) + 3 }

    func testInferenceRowsGiveTheTrainingOutputsBitForBit() {
        for g in geometries() {
            // one step: the same product either way; 7 and 13 steps test one image's row split
            for count in [1, 4] + (g.steps > 1 && g.steps <= 6 ? [stepwiseCount(g)] : []) {
                let kept = run(g, count: count, keepSteps: true), rolled = run(g, count: count, keepSteps: false)
                XCTAssertFalse(kept.contains { $0.isNaN }, "\(g.cell) count \(count): NaN output")
                if count == 1 {   // one image's products split over threads
                    for threads in [2, 3] {
                        XCTAssertEqual(run(g, count: 1, keepSteps: false, threads: threads).map(\.bitPattern), kept.map(\.bitPattern),
                                       "\(g.cell) steps \(g.steps) reverse \(g.reverse) masked \(g.masked) threads \(threads)")
                    }
                }
                XCTAssertEqual(kept.map(\.bitPattern), rolled.map(\.bitPattern),
                               "\(g.cell) steps \(g.steps) reset first \(g.resetFirst) sequences \(g.returnSequences) reverse \(g.reverse) masked \(g.masked) count \(count)")
            }
        }
    }

    func testStepwiseProjectionMatchesTheWholeBitForBit() {
        for g in geometries() where g.steps > 1 && g.steps <= 6 {
            let big = stepwiseCount(g)
            XCTAssertGreaterThan(big * g.steps * g.width, Recurrent.wholeProjectionFloats)
            XCTAssertLessThanOrEqual(4 * g.steps * g.width, Recurrent.wholeProjectionFloats)
            for keep in [true, false] {
                let whole = run(g, count: 4, keepSteps: keep), stepwise = run(g, count: big, keepSteps: keep)
                XCTAssertEqual(whole.map(\.bitPattern), Array(stepwise.prefix(whole.count)).map(\.bitPattern),
                               "\(g.cell) sequences \(g.returnSequences) reverse \(g.reverse) masked \(g.masked) keep \(keep)")
            }
        }
    }
}
