// The single-image thread tuner (SingleImageThreads), fed made-up call times: which counts it
// tries and in what order, that it keeps the fastest by the median of each trial's second half,
// and that it tries again when the chosen count slows down and after its exploit period.

import XCTest
@testable import ModelcRuntime

final class SingleImageThreadsTests: XCTestCase {
    typealias Tuner = SingleImageThreads

    func testCandidates() {
        XCTAssertEqual(Tuner(threads: 1).candidates, [1])
        XCTAssertEqual(Tuner(threads: 2).candidates, [1, 2])
        XCTAssertEqual(Tuner(threads: 6).candidates, [1, 2, 4, 6])
        XCTAssertEqual(Tuner(threads: 8).candidates, [1, 2, 4, 8])
    }

    /// Runs `calls` calls whose time is `time(threads, call)`; returns the counts used, in order.
    @discardableResult
    private func run(_ tuner: inout Tuner, calls: Int, _ time: (Int, Int) -> Double) -> [Int] {
        var used: [Int] = []
        for i in 0..<calls {
            let t = tuner.next
            used.append(t)
            tuner.record(seconds: time(t, i))
        }
        return used
    }

    /// The lengths of the runs of equal counts in `used`: [(count, calls)].
    private func runs(_ used: [Int]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for u in used {
            if let last = out.last, last.0 == u { out[out.count - 1].1 += 1 } else { out.append((u, 1)) }
        }
        return out
    }

    func testOneThreadNeverTunes() {
        var tuner = Tuner(threads: 1)
        XCTAssertEqual(Set(run(&tuner, calls: 50) { _, _ in 1e-4 }), [1])
    }

    func testTriesEveryCandidateInOrderThenKeepsTheFastest() {
        var tuner = Tuner(threads: 4)
        let times: [Int: Double] = [1: 9e-5, 2: 5e-5, 4: 7e-5]
        let used = run(&tuner, calls: 300) { t, _ in times[t]! }
        let r = runs(used)
        XCTAssertEqual(r.map { $0.0 }, [4, 1, 2, 4, 2], "\(r)")
        XCTAssertEqual(r[0].1, 1, "the first call (warm-up) uses every thread")
        // a trial: at least trialCalls calls and trialSeconds
        XCTAssertEqual(r[1].1, 23)           // 2 ms at 0.09 ms a call
        XCTAssertTrue((40...41).contains(r[2].1), "\(r)")   // 2 ms at 0.05 ms (up to rounding)
        XCTAssertEqual(r[3].1, 29)           // 2 ms at 0.07 ms
        XCTAssertEqual(tuner.next, 2)
    }

    func testWarmUpHalfOfTheTrialDoesNotCount() {
        // two threads start slow (an idle core waking up) for the first half of their trial:
        // the median of all its calls would be slow, that of the second half is not
        var tuner = Tuner(threads: 2)
        var twos = 0
        run(&tuner, calls: 200) { t, _ in
            if t == 1 { return 6e-5 }
            twos += 1
            return twos <= 6 ? 5e-4 : 4e-5   // the warm-up call, then 5 of the trial's 10
        }
        XCTAssertEqual(tuner.next, 2)
    }

    func testMedianNotMeanDecides() {
        // one thread has a very slow call in its trial's second half; its median is still the best
        var tuner = Tuner(threads: 2)
        var ones = 0
        run(&tuner, calls: 200) { t, _ in
            if t == 2 { return 6e-5 }
            ones += 1
            return ones == 30 ? 1e-1 : 4e-5
        }
        XCTAssertEqual(tuner.next, 1)
    }

    func testSlowdownTriesAgain() {
        var tuner = Tuner(threads: 2)
        var slow = false
        let time = { (t: Int, _: Int) -> Double in t == 2 ? (slow ? 2e-4 : 5e-5) : 9e-5 }
        run(&tuner, calls: 200, time)
        XCTAssertEqual(tuner.next, 2)
        slow = true   // the host moves the threads apart: 2 threads now slower than 1
        let used = run(&tuner, calls: 200, time)
        XCTAssertLessThanOrEqual(used.firstIndex(of: 1) ?? .max, 2 * Tuner.watchCalls, "the slowdown was not seen within two windows")
        XCTAssertEqual(tuner.next, 1, "the tuner did not move to one thread")
    }

    func testOneSlowWindowIsNotASlowdown() {
        var tuner = Tuner(threads: 2)
        var call = 0, blipFrom = Int.max
        run(&tuner, calls: 24_000) { t, _ in call += 1; return t == 2 ? 5e-5 : 1e-4 }   // rounds 0.25 s apart
        // one window's worth of slow calls on the chosen count: a blip, not a new phase
        blipFrom = call
        let used = run(&tuner, calls: 200) { t, _ in
            call += 1
            return t == 2 ? (call - blipFrom <= Tuner.watchCalls ? 2e-4 : 5e-5) : 1e-4
        }
        XCTAssertEqual(Set(used), [2], "a trial round started on one slow window")
    }

    func testTriesAgainAfterExploitPeriod() {
        var tuner = Tuner(threads: 2)
        var fast2 = false
        let time = { (t: Int, _: Int) -> Double in t == 2 ? (fast2 ? 3e-5 : 9e-5) : 6e-5 }
        run(&tuner, calls: 30_000, time)   // 1.8 s: the rounds are a quarter second apart by now
        XCTAssertEqual(tuner.next, 1)
        // the other count became faster: no slowdown to see, only the next trial finds it
        fast2 = true
        let used = run(&tuner, calls: Int(Tuner.exploitSeconds / 6e-5) + 300, time)
        XCTAssertEqual(tuner.next, 2)
        XCTAssertGreaterThan(used.firstIndex(of: 2)!, 100, "a trial round came early")
    }

    /// The calls on the chosen count between trial rounds (the runs of `chosen` after the first
    /// trial, less its `trial` calls).
    private func exploitRuns(_ used: [Int], chosen: Int, trial: Int) -> [Int] {
        runs(used).dropFirst(2).filter { $0.0 == chosen }.map { $0.1 - trial }
    }

    /// `got` starts with `want`, each within 3 calls (sums of call times round either way).
    private func assertClose(_ got: [Int], _ want: [Int], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThanOrEqual(got.count, want.count, "\(got)", file: file, line: line)
        for (g, w) in zip(got, want) { XCTAssertLessThanOrEqual(abs(g - w), 3, "\(got)", file: file, line: line) }
    }

    func testExploitPeriodsDoubleUpToAQuarterSecond() {
        // 0.05 ms a call on 2 threads: 0.02 s is 400 calls, 0.25 s is 5,000
        var tuner = Tuner(threads: 2)
        let used = run(&tuner, calls: 24_000) { t, _ in t == 2 ? 5e-5 : 1e-4 }
        let exploit = exploitRuns(used, chosen: 2, trial: 40)
        assertClose(exploit, [400, 800, 1600, 3200, 5000, 5000])
    }

    func testExploitLastsFiftyTrialRounds() {
        // a slow model (20 ms an image on 2 threads, 30 on 1): a trial round takes 0.5 s, so
        // the chosen count runs 50 x that (25 s, 1,250 calls) between rounds, not 0.25 s; the
        // first rounds start at 8% of it (2 s) and double
        var tuner = Tuner(threads: 2)
        let used = run(&tuner, calls: 6_000) { t, _ in t == 2 ? 2e-2 : 3e-2 }
        let exploit = exploitRuns(used, chosen: 2, trial: Tuner.trialCalls)
        assertClose(exploit, [100, 200, 400, 800, 1250])
    }

    func testSlowdownStartsTheShortRoundsOver() {
        var tuner = Tuner(threads: 2)
        var slow = false
        let time = { (t: Int, _: Int) -> Double in t == 2 ? (slow ? 2e-4 : 5e-5) : 1e-4 }
        run(&tuner, calls: 24_000, time)   // rounds a quarter second apart by now
        slow = true
        run(&tuner, calls: 200, time)      // seen, tried again: one thread now
        XCTAssertEqual(tuner.next, 1)
        slow = false                        // and back: found at the next (short) round
        let used = run(&tuner, calls: 1_000, time)
        XCTAssertEqual(tuner.next, 2, "\(runs(used))")
    }
}
