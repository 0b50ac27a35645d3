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

    /// forEachSegment: every element of every range is visited exactly once (in the right range),
    /// for totals below and above the split threshold and 1 to 3 threads.
    func testForEachSegmentCoversEveryElementOnce() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        let ranges: [(offset: Int, count: Int)] = [(3, 17), (40, 0), (40, 33_001), (33_050, 5), (33_060, 16)]
        let end = 33_076
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: end)
        defer { hits.deallocate() }
        for threads in 1...3 {
            for minimum in [1, 16_384, 1_000_000] {
                Parallel.threads = threads
                hits.initialize(repeating: 0, count: end)
                Parallel.forEachSegment(of: ranges, minimumPerPart: minimum) { r, lo, hi in
                    precondition(lo >= ranges[r].offset && hi <= ranges[r].offset + ranges[r].count, "piece outside its range")
                    for i in lo..<hi { hits[i] += 1 }
                }
                var expected = [Int](repeating: 0, count: end)
                for r in ranges { for i in r.offset..<(r.offset + r.count) { expected[i] = 1 } }
                XCTAssertEqual(Array(UnsafeBufferPointer(start: hits, count: end)), expected, "threads \(threads), minimum \(minimum)")
            }
        }
    }

    /// sumPartials adds the chunks' partial gradients in chunk order (bit-identical to the serial
    /// sum) and touches nothing outside its segments.
    func testSumPartialsMatchesSerialSum() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        let stride = 50_000, chunks = 3
        let segments: [(offset: Int, count: Int)] = [(0, 20_003), (20_010, 29_990)]
        var rng = SystemRandomNumberGenerator()
        let partials = (0..<(stride * chunks)).map { _ in Float.random(in: -1...1, using: &rng) }
        for threads in [1, 2] {
            Parallel.threads = threads
            var p = partials
            var g = [Float](repeating: 7, count: stride)
            p.withUnsafeMutableBufferPointer { pp in g.withUnsafeMutableBufferPointer { gp in
                Parallel.sumPartials(pp.baseAddress!, into: gp.baseAddress!, stride: stride, chunks: chunks, segments: segments)
            } }
            var expected = [Float](repeating: 7, count: stride)
            for s in segments {
                for i in s.offset..<(s.offset + s.count) {
                    var x = partials[i]
                    for c in 1..<chunks { x += partials[c * stride + i] }
                    expected[i] = x
                }
            }
            XCTAssertEqual(g.map(\.bitPattern), expected.map(\.bitPattern), "\(threads) threads")
        }
    }

    /// runDynamic: every item runs exactly once, on a part below the requested count, for any
    /// number of items (also fewer than the parts) and workers.
    func testRunDynamicRunsEveryItemOnce() {
        for workers in 0...2 {
            let pool = WorkerPool(workers: workers)
            for items in [0, 1, 2, 7, 64, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(items, 1))
                hits.initialize(repeating: 0, count: max(items, 1))
                let badPart = UnsafeMutablePointer<Int>.allocate(capacity: 1)
                badPart.initialize(to: 0)
                pool.runDynamic(items: items, parts: workers + 1) { i, part in
                    hits[i] += 1
                    if part < 0 || part > workers { badPart.pointee = 1 }
                }
                XCTAssertEqual(Array(UnsafeBufferPointer(start: hits, count: items)), [Int](repeating: 1, count: items), "workers \(workers), items \(items)")
                XCTAssertEqual(badPart.pointee, 0, "part out of range")
                hits.deallocate(); badPart.deallocate()
            }
        }
    }

    /// Batch inference's blocks are whole GEMM tiles of images, about 8 a thread, and
    /// `Parallel.images` hands out every image once.
    func testImageBlocksAreWholeTilesAndCoverEveryImage() {
        let tile = KernelTarget.tileRows
        XCTAssertEqual(Parallel.imageBlock(256, threads: 2), 18)   // 16 rounded up to whole tiles
        for count in [2, 7, 64, 256, 1000] {
            for threads in 2...4 {
                let block = Parallel.imageBlock(count, threads: threads)
                XCTAssertEqual(block % tile, 0, "\(count) images, \(threads) threads")
                XCTAssertGreaterThanOrEqual(block * threads * 8, count)
                XCTAssertLessThan(block - tile, max(1, (count + threads * 8 - 1) / (threads * 8)))
                let seen = UnsafeMutablePointer<Int>.allocate(capacity: count)
                seen.initialize(repeating: 0, count: count)
                defer { seen.deallocate() }
                let lock = NSLock()
                Parallel.images(count, threads: threads) { lo, hi, _ in
                    lock.lock(); for i in lo..<hi { seen[i] += 1 }; lock.unlock()
                }
                XCTAssertEqual((0..<count).map { seen[$0] }, [Int](repeating: 1, count: count))
            }
        }
    }
}
