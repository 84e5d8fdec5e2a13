import XCTest
final class PlaceholderLSRecCoreTests: XCTestCase { func testNothing() {} }
