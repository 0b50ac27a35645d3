// A fork-join pool for the generated code's parallel regions.
//
// A training step runs dozens of parallel regions and a single-image inference a handful, each
// only tens of microseconds long; waking a parked Dispatch worker costs about as much. So the
// pool keeps `parts - 1` persistent workers that, after a job, spin on the job counter for a
// short while (yielding the CPU now and then, so they do not starve other processes) before
// they park on a semaphore. The caller runs part 0 itself and spins until the others finish.
//
// Which part runs where never changes a result: each part is the same deterministic function
// of its index, exactly as with DispatchQueue.concurrentPerform.

import Foundation
import Synchronization

public final class WorkerPool: @unchecked Sendable {
    /// The pool the generated code uses, with `Parallel.threads - 1` workers (created on first use).
    nonisolated(unsafe) private static var sharedPool: WorkerPool?
    private static let sharedLock = NSLock()
    public static var shared: WorkerPool {
        sharedLock.lock(); defer { sharedLock.unlock() }
        if let p = sharedPool, p.workers == max(0, Parallel.threads - 1) { return p }
        let p = WorkerPool(workers: max(0, Parallel.threads - 1))
        sharedPool = p
        return p
    }

    public let workers: Int
    /// Spin iterations of an idle worker before it parks (a few tens of microseconds).
    static let spinLimit = 20_000

    private let generation = Atomic<Int>(0)     // bumped once per job
    private let remaining = Atomic<Int>(0)      // worker parts of the current job not yet done
    /// Per worker: whether it is parked (or about to park), and the semaphore it parks on.
    private final class Slot: Sendable {
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }
    private let slots: [Slot]
    private let runLock = NSLock()              // one job at a time
    private let dynamicLock = NSLock()          // one runDynamic at a time (it owns nextItem)
    private let nextItem = Atomic<Int>(0)       // runDynamic: the next item to take
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    nonisolated(unsafe) private var parts = 0

    public init(workers: Int) {
        self.workers = max(0, workers)
        slots = (0..<self.workers).map { _ in Slot() }
        for w in 0..<self.workers {
            let thread = Thread { self.workerLoop(w) }   // the pool lives as long as its workers
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs body(0..<parts), part 0 on the calling thread; returns when all are done.
    public func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 || workers == 0 {
            for i in 0..<max(parts, 0) { body(i) }
            return
        }
        withoutActuallyEscaping(body) { f in
            runLock.lock()
            defer { runLock.unlock() }
            // Every worker takes part in every job (running part w + 1 if there is one), so no
            // worker can mistake a later job for the one it woke up for. Parts beyond the
            // workers run on the caller after its own.
            job = f
            self.parts = parts
            remaining.store(workers, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            for slot in slots where slot.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
                slot.wake.signal()
            }
            f(0)
            if parts > workers + 1 { for i in (workers + 1)..<parts { f(i) } }
            var spins = 0
            while remaining.load(ordering: .sequentiallyConsistent) > 0 {
                spins += 1
                if spins & 1023 == 0 { sched_yield() }
            }
            job = nil
        }
    }

    /// Runs body(item, part) for every item in 0..<items on min(parts, items) parts that take
    /// the items in order from a shared counter, so a part slowed down (a host that steals time
    /// from one vCPU, another process) takes fewer items instead of holding up the rest.
    /// `part` < parts identifies the thread's scratch space; which part runs an item must not
    /// change its result (callers use it only where items are independent, e.g. images at inference).
    public func runDynamic(items: Int, parts: Int, _ body: (_ item: Int, _ part: Int) -> Void) {
        let p = min(parts, items)
        if p <= 1 || workers == 0 {
            for i in 0..<max(items, 0) { body(i, 0) }
            return
        }
        dynamicLock.lock()
        defer { dynamicLock.unlock() }
        nextItem.store(0, ordering: .sequentiallyConsistent)
        run(parts: p) { part in
            while true {
                let i = nextItem.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= items { break }
                body(i, part)
            }
        }
    }

    private func workerLoop(_ w: Int) {
        let slot = slots[w]
        var seen = 0   // every job bumps the generation once, from 0, and completes before the next
        while true {
            // wait for the next job: spin, then park
            var spins = 0
            var current = generation.load(ordering: .sequentiallyConsistent)
            while current == seen {
                spins += 1
                if spins & 1023 == 0 { sched_yield() }
                if spins >= WorkerPool.spinLimit {
                    slot.sleeping.store(true, ordering: .sequentiallyConsistent)
                    current = generation.load(ordering: .sequentiallyConsistent)
                    if current != seen {
                        // a job arrived meanwhile: if its publisher already signalled, consume it
                        if !slot.sleeping.exchange(false, ordering: .sequentiallyConsistent) { slot.wake.wait() }
                        break
                    }
                    slot.wake.wait()
                    spins = 0
                }
                current = generation.load(ordering: .sequentiallyConsistent)
            }
            seen = current
            if w + 1 < parts, let f = job { f(w + 1) }
            remaining.subtract(1, ordering: .sequentiallyConsistent)
        }
    }
}
