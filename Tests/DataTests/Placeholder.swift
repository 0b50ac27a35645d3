import XCTest
final class DataTestsPlaceholder: XCTestCase { func testPackageBuilds() { XCTAssertTrue(true) } }
