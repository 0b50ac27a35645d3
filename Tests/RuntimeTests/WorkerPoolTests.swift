// The fork-join pool behind the generated code's parallel regions: every part of every job runs
// exactly once, whatever the number of parts and workers, also after the workers have parked.

import XCTest
import Foundation
@testable import ModelcRuntime

final class WorkerPoolTests: XCTestCase {
    func testEveryPartRunsExactlyOnce() {
        for workers in 0...3 {
            let pool = WorkerPool(workers: workers)
            let slots = UnsafeMutablePointer<Int>.allocate(capacity: 16)
            slots.initialize(repeating: 0, count: 16)
            defer { slots.deallocate() }
            var expected = [Int](repeating: 0, count: 16)
            for job in 0..<3000 {
                let parts = job % 9
                pool.run(parts: parts) { i in slots[i] += 1 }
                for i in 0..<parts { expected[i] += 1 }
                if job % 1000 == 999 { usleep(20_000) }   // let the workers park, then wake them
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: slots, count: 16)), expected, "workers \(workers)")
        }
    }

    func testSharedPoolFollowsThreadCount() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 3
        XCTAssertEqual(WorkerPool.shared.workers, 2)
        Parallel.threads = 1
        XCTAssertEqual(WorkerPool.shared.workers, 0)
    }
}
