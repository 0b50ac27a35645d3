import XCTest
@testable import ModelcRuntime

final class ScheduleTests: XCTestCase {
    func testConstantAndStep() throws {
        XCTAssertEqual(Schedule.constant.learningRate(base: 0.1, step: 50, epoch: 3, totalSteps: 100), 0.1)
        let s = try Schedule(parsing: "step:2:0.5")
        XCTAssertEqual(s, .step(every: 2, gamma: 0.5))
        let rates = (0..<6).map { s.learningRate(base: 0.1, step: 0, epoch: $0, totalSteps: 100) }
        XCTAssertEqual(rates, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025].map { Float($0) })
    }

    func testCosine() throws {
        let s = try Schedule(parsing: "cosine")
        XCTAssertEqual(s.learningRate(base: 0.1, step: 0, epoch: 0, totalSteps: 100), 0.1, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(base: 0.1, step: 50, epoch: 0, totalSteps: 100), 0.05, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(base: 0.1, step: 25, epoch: 0, totalSteps: 100), Float(0.05 * (1 + cos(Double.pi / 4))), accuracy: 1e-7)
    }

    func testOneCycle() throws {
        let s = try Schedule(parsing: "onecycle")
        let total = 1000
        XCTAssertEqual(s.learningRate(base: 1, step: 0, epoch: 0, totalSteps: total), 1.0 / 25, accuracy: 1e-6)
        XCTAssertEqual(s.learningRate(base: 1, step: 299, epoch: 0, totalSteps: total), 1, accuracy: 1e-6)
        XCTAssertEqual(s.learningRate(base: 1, step: 999, epoch: 0, totalSteps: total), 1.0 / 25 / 1e4, accuracy: 1e-9)
        // rises, then falls
        let a = s.learningRate(base: 1, step: 100, epoch: 0, totalSteps: total), b = s.learningRate(base: 1, step: 200, epoch: 0, totalSteps: total)
        let c = s.learningRate(base: 1, step: 500, epoch: 0, totalSteps: total), d = s.learningRate(base: 1, step: 800, epoch: 0, totalSteps: total)
        XCTAssertLessThan(a, b); XCTAssertGreaterThan(c, d)
    }

    func testParseErrors() {
        for bad in ["", "step", "step:0:0.5", "step:2", "step:x:0.5", "cosine:1", "linear"] {
            XCTAssertThrowsError(try Schedule(parsing: bad), bad) { e in
                XCTAssertTrue("\(e)".contains("schedule"), "\(e)")
            }
        }
    }
}
