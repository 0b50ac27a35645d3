import XCTest
final class BackendTestsPlaceholder: XCTestCase { func testPackageBuilds() { XCTAssertTrue(true) } }
