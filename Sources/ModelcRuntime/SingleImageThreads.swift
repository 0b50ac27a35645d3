// How many threads one image's inference uses, chosen by timing the calls themselves.
//
// One image splits its big layers' output rows (a recurrent layer's step products) over the threads
// (`Parallel.rows`), and each layer then reads what every thread wrote. Whether that pays depends
// on the other cores, and that can change while a program runs: on a VM, how fast a second vCPU
// takes its part depends on what the host does with it, and in some phases every hand-over of a
// layer's rows costs more than the split saves. A second core that has idled is also slow to pick
// up work. So the tuner runs each candidate count (1, 2, 4, ... up to the model's threads) for a
// short trial, keeps the fastest, and tries again after a while (soon at first, then after a
// quarter second of inference or more), or at once when the calls get slower than the chosen
// count's trial.
//
// The count never changes a result: `Parallel.rows` hands out whole row (or column) blocks, and
// each output is computed by the same code on whichever thread runs it.

import Foundation

public struct SingleImageThreads: Sendable {
    /// The thread counts tried: powers of two below `threads`, and `threads`.
    public let candidates: [Int]
    /// A candidate's trial lasts at least this many calls and this long; the first half of its
    /// calls only warm up (a parked worker, a core that idled), the median of the rest counts.
    static let trialCalls = 10
    static let trialSeconds = 0.002
    /// The chosen count then runs before the candidates are tried again, for calls that add up
    /// to at least `exploitSeconds` of inference (not of wall-clock time: a program may call
    /// rarely) and to `exploitPerTrial` times the trial round's calls (so trials cost a few
    /// percent at most: 25 s for a model whose image takes 20 ms). The first rounds are
    /// shorter: both bounds start `firstExploitSeconds / exploitSeconds` as long and double
    /// round by round, because a program's first tenths of a second mislead (a second core that
    /// has idled long is slow at first). A slowdown that changes the best count starts the
    /// doubling over.
    static let firstExploitSeconds = 0.02
    static let exploitSeconds = 0.25
    static let exploitPerTrial = 50.0
    /// Calls in the window whose median is checked against the chosen count's trial median.
    static let watchCalls = 32
    /// How much slower than its trial the median of two windows in a row may get before a new
    /// trial round.
    static let slowdown = 1.3

    private var trying: Int? = 0        // the candidate under trial (an index), nil once chosen
    private var samples: [Double] = []  // this trial's times, or the chosen count's recent ones
    private var trialTime = 0.0, roundTime = 0.0
    private var medians: [Double] = []  // each tried candidate's median
    private var chosen: Int
    private var chosenTime = 0.0
    private var exploitTime = 0.0, exploitLimit = 0.0, exploitFloor = firstExploitSeconds
    private var slowWindows = 0, slowedDown = false
    private var warm = false

    public init(threads: Int) {
        var c = [1]
        while c.last! * 2 < threads { c.append(c.last! * 2) }
        if threads > 1 { c.append(threads) }
        candidates = c
        chosen = c.last!
    }

    /// The thread count for the next call.
    public var next: Int {
        guard warm, let i = trying else { return chosen }
        return candidates[i]
    }

    /// Records that the call made with `next` threads took `seconds`.
    public mutating func record(seconds: Double) {
        guard candidates.count > 1 else { return }
        guard warm else { warm = true; return }   // the first call pays for first-touch and weight transforms
        samples.append(seconds)
        if let i = trying {
            trialTime += seconds
            roundTime += seconds
            guard samples.count >= Self.trialCalls && trialTime >= Self.trialSeconds else { return }
            medians.append(Self.median(samples[(samples.count / 2)...]))
            samples.removeAll(keepingCapacity: true)
            trialTime = 0
            if i + 1 < candidates.count { trying = i + 1 } else { choose() }
            return
        }
        exploitTime += seconds
        if samples.count == Self.watchCalls {
            // two slow windows in a row: the host moved the threads (or loaded a core), so try
            // the candidates again now
            slowWindows = Self.median(samples[...]) > chosenTime * Self.slowdown ? slowWindows + 1 : 0
            if slowWindows == 2 {
                exploitTime = exploitLimit
                slowedDown = true
            }
            samples.removeAll(keepingCapacity: true)
        }
        if exploitTime >= exploitLimit { retry() }
    }

    private mutating func choose() {
        let best = medians.indices.min { medians[$0] < medians[$1] }!
        // a slowdown that changed the best count starts the short rounds over
        if slowedDown && candidates[best] != chosen { exploitFloor = Self.firstExploitSeconds }
        slowedDown = false
        slowWindows = 0
        chosen = candidates[best]
        chosenTime = medians[best]
        trying = nil
        exploitTime = 0
        // both bounds grow round by round: exploitFloor, and the multiple of the round's time
        exploitLimit = max(exploitFloor, Self.exploitPerTrial * exploitFloor / Self.exploitSeconds * roundTime)
        exploitFloor = min(2 * exploitFloor, Self.exploitSeconds)
    }

    private mutating func retry() {
        trying = 0
        medians.removeAll(keepingCapacity: true)
        samples.removeAll(keepingCapacity: true)
        roundTime = 0
    }

    static func median(_ xs: ArraySlice<Double>) -> Double { xs.sorted()[xs.count / 2] }
}
