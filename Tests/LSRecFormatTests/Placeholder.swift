import XCTest
final class PlaceholderLSRecFormatTests: XCTestCase { func testNothing() {} }
