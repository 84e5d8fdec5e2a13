import XCTest
final class PlaceholderLSRecTrainTests: XCTestCase { func testNothing() {} }
