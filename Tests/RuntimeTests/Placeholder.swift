import XCTest
final class RuntimeTestsPlaceholder: XCTestCase { func testPackageBuilds() { XCTAssertTrue(true) } }
