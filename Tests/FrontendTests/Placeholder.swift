import XCTest
final class FrontendTestsPlaceholder: XCTestCase { func testPackageBuilds() { XCTAssertTrue(true) } }
